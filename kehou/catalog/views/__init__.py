"""Pages of the libraries and review, one module per resource: submissions (我的申报), the review queue and panels,
experts' review tasks (评审任务), the three-level libraries, filings and the standards.
"""
