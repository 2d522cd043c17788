"""Pages of enrolment, one module per resource.

Schools and bureaus: course classes with their seats, waitlists and holds; selection windows (create, publish,
cancel, draw, and a district's stagger); hardship waivers (mark, approve or reject by a second person, revoke);
lottery results. Bureaus read what their scope reaches; only a school's own administrators write. Parents
(``parent.py``, phone first): windows, a child's classes, selecting, places.

Reads go through the scoped page base classes (every list filters and exports to Excel); each action is a POST
form (with CSRF) to a small action page that reads its row through the same scope (a row out of scope is a 404),
calls one service and returns to the page it came from with the outcome as a message.
"""
