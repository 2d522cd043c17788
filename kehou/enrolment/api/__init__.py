"""API of course classes, selection windows, the parents' selection, waivers, lottery draws and the care fee
standards, one module per resource.

Every read goes through :class:`~kehou.core.api.ScopeGuard` (``select(scope)``; a row outside the caller's scope is
the same 404 as a missing one); action views fetch their row through the scope before they read the body; every
write is one service call (``services.classes``, ``windows``, ``selection``, ``waivers``) whose error codes are the
services'. ``POST /enrolments/`` is the hot path of the selection rush: it builds no scope and reads nothing itself
(the service checks guardianship with the same query that finds the child).
"""
