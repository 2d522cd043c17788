"""API of the libraries and review, one module per resource: submissions (with their proofs), the review queue,
panels and the experts' seats, the three-level libraries, filings and the standards.

Every view reads through :class:`~kehou.core.api.ScopeGuard` (a row outside the caller's scope is the same 404 as
a missing one) and every write is one service call; the error codes are the services'.
"""
