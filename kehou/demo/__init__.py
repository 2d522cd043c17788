"""The deterministic demo city (Nanchang): static data in :mod:`.data`, the stages in :mod:`.stages`, run in order
by :mod:`.loader`, with what they share in :mod:`.common`.

Run it with ``manage.py load_demo``; list its accounts with ``manage.py demo_accounts`` (:mod:`.accounts`).
"""
