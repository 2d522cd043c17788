from .factories import simulator  # noqa: F401  (fixture)
