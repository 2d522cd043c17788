"""Attendance's writes: check-in and make-ups, the roll call, substitutes."""
