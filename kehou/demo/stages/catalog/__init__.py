"""The demo libraries and review: categories, the 20 quality standards, fee standards, review policies, experts'
recusals, submissions in every state, panels, scores and decisions, district and school libraries, and filings.

Reference data (categories, quality standards, fee standards, review policies, recusals) is written directly:
it is the bureau's configuration, not anyone's action. Everything else goes through the catalog services
(``submission_create``, ``submission_revise``, ``panel_draw``, ``member_decline``, ``score_submit``,
``panel_decide``, ``library_adopt``, ``library_pick``, ``library_set_status``, ``filing_acknowledge``), acting as
the demo accounts, so the audit log, the libraries' invariants and the filings are the real ones.

Deterministic: every choice comes from a generator seeded with the demo seed and a fixed label, every time is
taken from a fixed timeline (late August to late November 2026), and every panel is drawn with a seed derived
from the demo seed, the submission's index in :data:`SPECS` and the panel's round
(:func:`panel_seed`). The draw itself orders experts by their database ids, so the same database state gives
the same panels; a fresh database gives the same city every time.

One choice is made after a draw, and it is said here: of the science and humanities submissions that are
reviewed last (``fate="candidate"``), those whose panel seats the named ``expert`` are left half-scored ("in
review") and the others are decided, so that the demo expert has open seats to score. The seeds are never
searched for a wanted panel.
"""

from .readback import catalog_counts, catalog_digest
from .reference import CATEGORIES, FEE_STANDARDS, QUALITY_ITEMS, SUBJECT_CATEGORY
from .specs import SPECS, Course, Revision, Spec
from .stage import LOADED_ACTION, build_catalog, catalog_state
from .timeline import TIMELINE_END, panel_seed

__all__ = [
    "CATEGORIES",
    "FEE_STANDARDS",
    "LOADED_ACTION",
    "QUALITY_ITEMS",
    "SPECS",
    "SUBJECT_CATEGORY",
    "TIMELINE_END",
    "Course",
    "Revision",
    "Spec",
    "build_catalog",
    "catalog_counts",
    "catalog_digest",
    "catalog_state",
    "panel_seed",
]
