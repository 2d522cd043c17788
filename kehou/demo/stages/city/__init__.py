"""The city stage: plan a deterministic Nanchang, then write it to the database in bulk.

Two steps keep it reproducible and fast:

* :func:`plan_city` (:mod:`.draw`) draws the whole city from seeded random generators (one per part, so that
  changing the number of pupils leaves schools, teachers and accounts as they were). It touches no database and
  never iterates a set, so the same seed gives the same plan in any process. :func:`plan_digest` (:mod:`.digest`)
  fingerprints it.
* :func:`load` (:mod:`.stage`) writes a plan with ``bulk_create`` inside one transaction and writes one audit entry
  (``demo.loaded``). This is seeding, not a person's action, so it does not go through the services; every
  account shares one password hash made once with ``make_password`` (Argon2 is deliberately slow).

:func:`demo_state` tells whether the city is already there, so that loading twice adds nothing;
:func:`kehou.demo.loader.reset` removes it again. :func:`kehou.demo.accounts.collect_accounts` lists the accounts
that still log in with the demo password, for ``manage.py demo_accounts``.
"""

from .digest import db_digest, plan_digest
from .draw import plan_city
from .plan import Plan
from .stage import build_city, demo_state, load

__all__ = ["Plan", "build_city", "db_digest", "demo_state", "load", "plan_city", "plan_digest"]
