"""Every write of the libraries and review, by topic: submissions, review (panels, scores, decisions), libraries."""
