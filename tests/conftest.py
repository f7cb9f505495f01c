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


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own default cache directory (what `--cache-dir` defaults to), also for the
    CLI processes it starts: no test reads or fills the user's cache or another test's."""
    monkeypatch.setenv("BUNDLER_CACHE_DIR", str(tmp_path_factory.mktemp("bundler-cache")))
