"""Fixtures shared by every test suite. Keep them small and generic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.debrepo import DebRepo, GpgKey


@pytest.fixture(scope="session")
def gpg_key() -> Iterator[GpgKey]:
    """A throwaway archive signing key; `gpg_key.keyring` is its public keyring (for signed-by)."""
    key = GpgKey.generate()
    yield key
    key.close()


@pytest.fixture
def deb_repo(tmp_path: Path) -> DebRepo:
    """An empty Debian repository under tmp_path/"repo": `add(...)` packages, then `write(...)`."""
    return DebRepo(tmp_path / "repo")
