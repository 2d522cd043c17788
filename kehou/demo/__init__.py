"""The deterministic demo city (Nanchang): static data in :mod:`.data`, the loader in :mod:`.build`.

Run it with ``manage.py load_demo``; list its accounts with ``manage.py demo_accounts``.
"""
