from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _sqlite_threads(sqlite_threads: None) -> Iterator[None]:
    yield
