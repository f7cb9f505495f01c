"""The warm set (repos/pypi/warm.py): one file in place of a warm solve's small cache reads.

A solve through a warm set answers as one without it, over real wheels served over HTTP
(tests/support/pyindex.py); the next solve of the same request reads that one file and no digest,
page meta or predigest file; and it never hides a change: a page refreshed by another solve, a digest
or predigest file removed, a release the last solve did not read, a corrupt file.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

import repos.pypi.index as pypi_index
import repos.pypi.predigest as predigest_module
import repos.pypi.warm as warm_module
import solver.python.provider as provider_module
from repos.pypi import PypiIndex
from repos.pypi.cache import Cache
from solver.python import DistFile, Release, Target, Wanted, resolve
from solver.python.model import NewestFirst
from tests.support.http import serve_directory
from tests.support.pyindex import Dist, make_repo
from tests.test_cli_debian import bundler

LINUX = "manylinux_2_28_x86_64"
TARGET = Target("3.11", (LINUX,))

UNIVERSE = [
    Dist("App", "1.0", ["Mixed_Case[fast]>=1", "lib>=1"]),
    Dist(
        "Mixed_Case",
        "1.0",
        ["lib>=1.0", "speedups; extra == 'fast'"],
        provides_extra=["fast"],
        file_name="Mixed_Case",
    ),
    Dist("lib", "0.9"),
    Dist("lib", "1.0"),
    Dist("lib", "1.1", ["extra-dep"]),
    Dist("extra-dep", "2.0"),
    Dist("speedups", "2.0"),
]


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    repo = make_repo(tmp_path / "repo", UNIVERSE)
    with serve_directory(repo.root) as server:
        yield server.url + "/simple/", tmp_path / "repo"


def _solve(
    url: str, cache: Path, *, offline: bool, request: str | None = "app", **options: Any
) -> dict[str, str]:
    with PypiIndex([url], cache_dir=cache, offline=offline, target=TARGET, request=request) as index:
        result = resolve(index, TARGET, [Wanted("app")], **options)
    return {name: pin.version for name, pin in result.pins.items()}


def _warm_files(cache: Path) -> list[Path]:
    return sorted((cache / "pypi" / "warm").glob("*.warm"))


def _count_small_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the reads of page meta, digest and predigest files (what the warm set replaces)."""
    counts = {"page": 0, "digest": 0, "deps": 0, "derived": 0}

    def counting(kind: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            counts[kind] += 1
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(Cache, "page_meta", counting("page", Cache.page_meta))
    monkeypatch.setattr(Cache, "digest", counting("digest", Cache.digest))
    store = predigest_module.PredigestStore
    monkeypatch.setattr(store, "_read_ident", counting("deps", store._read_ident))
    provider = provider_module.PythonProvider
    monkeypatch.setattr(provider, "_derive_dependencies", counting("derived", provider._derive_dependencies))
    return counts


def test_a_warm_solve_reads_one_file_and_answers_the_same(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _repo = served
    cache = tmp_path / "cache"
    expected = {"app": "1.0", "mixed-case": "1.0", "lib": "1.1", "extra-dep": "2.0", "speedups": "2.0"}
    online = _solve(url, cache, offline=False)
    assert online == expected
    (warm,) = _warm_files(cache)  # written by the first solve, its digests trimmed already
    written = warm.stat().st_mtime_ns, warm.stat().st_ino

    counts = _count_small_reads(monkeypatch)
    for _ in range(2):
        assert _solve(url, cache, offline=True) == online
        assert counts == {"page": 0, "digest": 0, "deps": 0, "derived": 0}
        assert (warm.stat().st_mtime_ns, warm.stat().st_ino) == written  # nothing new: not rewritten

    # without a request there is no warm set: the small files are read as before, with the same answer
    assert _solve(url, cache, offline=True, request=None) == online
    assert counts["page"] > 0 and counts["digest"] > 0 and counts["deps"] > 0 and counts["derived"] == 0


def test_another_request_has_its_own_warm_set(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _repo = served
    cache = tmp_path / "cache"
    _solve(url, cache, offline=False)
    _solve(url, cache, offline=True, request="something else")
    assert len(_warm_files(cache)) == 2


def test_a_page_refreshed_by_another_solve_is_read_again(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, repo = served
    cache = tmp_path / "cache"
    _solve(url, cache, offline=False)
    assert _solve(url, cache, offline=True)["lib"] == "1.1"
    # a new release is published, and a solve without this warm set refreshes the cache
    make_repo(repo, [*UNIVERSE, Dist("lib", "1.2")])
    assert _solve(url, cache, offline=False, request=None)["lib"] == "1.2"
    counts = _count_small_reads(monkeypatch)
    assert _solve(url, cache, offline=True)["lib"] == "1.2"
    assert counts["page"] >= 1  # lib's page meta changed: read from its file
    counts.update(page=0, digest=0, deps=0)
    assert _solve(url, cache, offline=True)["lib"] == "1.2"
    assert counts["page"] == 0 and counts["digest"] == 0


def test_removed_digest_and_predigest_files_are_not_stood_in_for(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _repo = served
    cache = tmp_path / "cache"
    online = _solve(url, cache, offline=False)
    _solve(url, cache, offline=True)
    shutil.rmtree(cache / "pypi" / "digests")
    shutil.rmtree(cache / "pypi" / "predigest")
    counts = _count_small_reads(monkeypatch)
    assert _solve(url, cache, offline=True) == online
    assert counts["derived"] > 0  # derived again from the metadata, as without a warm set
    assert list((cache / "pypi" / "digests").iterdir()) and list((cache / "pypi" / "predigest").iterdir())


def test_a_release_the_last_solve_did_not_read_comes_from_the_full_digest(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _repo = served
    cache = tmp_path / "cache"
    _solve(url, cache, offline=False)
    assert _solve(url, cache, offline=True)["lib"] == "1.1"  # trims: lib 1.0 was not read
    counts = _count_small_reads(monkeypatch)
    assert _solve(url, cache, offline=False, preferred={"lib": "1.0"})["lib"] == "1.0"
    assert counts["digest"] >= 1  # lib's whole digest, for the rows of 1.0
    counts["digest"] = 0
    assert _solve(url, cache, offline=False, preferred={"lib": "1.0"})["lib"] == "1.0"
    assert counts["digest"] == 0  # kept since


def test_a_corrupt_warm_file_is_ignored_and_rewritten(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _repo = served
    cache = tmp_path / "cache"
    online = _solve(url, cache, offline=False)
    (warm,) = _warm_files(cache)
    data = bytearray(warm.read_bytes())
    data[-10] ^= 0xFF
    warm.write_bytes(bytes(data))
    assert _solve(url, cache, offline=True) == online
    assert warm.read_bytes() != bytes(data)
    warm.write_bytes(b"not a warm set")
    assert _solve(url, cache, offline=True) == online


def test_the_cli_solve_keeps_a_warm_set_and_the_same_lock(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _repo = served
    spec = tmp_path / "bundle.toml"
    spec.write_text(
        f'[bundle]\nname = "warm"\nepoch = 1700000000\n\n[python]\nindexes = ["{url}"]\n'
        f'python-version = "3.11"\nplatforms = ["{LINUX}"]\nrequire = ["app"]\n'
    )
    lock, cache = tmp_path / "bundle.lock", tmp_path / "cache"
    locks = []
    for args in ((), ("--offline",), ("--offline",)):
        lock.unlink(missing_ok=True)
        proc = bundler("solve", spec, "-o", lock, "--cache-dir", cache, "--json", *args)
        assert proc.returncode == 0, proc.stderr
        locks.append(lock.read_bytes())
    assert locks[0] == locks[1] == locks[2]
    assert len(_warm_files(cache)) == 1


def _digest_of(versions: list[str]) -> tuple[bool, list[tuple[str, bytes]]]:
    index = "https://index.invalid/simple/"
    releases = [
        Release(
            "p",
            Version(v),
            (DistFile(f"p-{v}-py3-none-any.whl", f"{index}p-{v}.whl", "0" * 64, 1, None, None, None, index),),
        )
        for v in versions
    ]
    return pypi_index._to_digest(True, releases)


@pytest.mark.parametrize("made", [[], [0], [1, 3], [0, 1, 2, 3, 4]])
def test_a_trimmed_digest_reads_as_the_whole(made: list[int]) -> None:
    index = "https://index.invalid/simple/"
    payload = _digest_of(["3.0", "2.1", "2.0", "1.0rc1", "0.9"])
    whole = list(pypi_index._from_digest(payload, "p", index)[1])  # type: ignore[index]
    releases = pypi_index._from_digest(payload, "p", index)[1]  # type: ignore[index]
    for i in made:
        releases[i]
    trimmed, is_trimmed = warm_module._trimmed(payload, releases)
    assert is_trimmed and len(trimmed) == 3 and sorted(trimmed[2]) == made
    fulls: list[int] = []

    def full() -> object:
        fulls.append(1)
        return payload

    back = pypi_index._from_digest(trimmed, "p", index, full)[1]  # type: ignore[index]
    assert [back[i] for i in made] == [whole[i] for i in made] and fulls == []  # the rows kept
    assert list(back) == whole and fulls == ([] if len(made) == len(whole) else [1])  # the rest, read once


def test_digests_without_releases_or_unknown_reads_stay_whole() -> None:
    empty = (False, [])
    assert warm_module._trimmed(empty, NewestFirst([], lambda item: item)) == (empty, True)
    assert pypi_index._from_digest(empty, "p", "https://index.invalid/simple/") is not None
    payload = _digest_of(["1.0"])
    assert warm_module._trimmed(payload, None) == (payload, False)  # made without `make`: reads unknown
    assert warm_module._trimmed(payload, NewestFirst([])) == (payload, False)


def test_a_trimmed_digest_is_trimmed_again_to_what_was_read() -> None:
    index = "https://index.invalid/simple/"
    payload = _digest_of(["3.0", "2.1", "2.0", "1.0rc1", "0.9"])
    everything = pypi_index._from_digest(payload, "p", index)[1]  # type: ignore[index]
    list(everything)  # an earlier solve read every release (a previous lock's walk, say)
    kept, _ = warm_module._trimmed(payload, everything)
    assert sorted(kept[2]) == [0, 1, 2, 3, 4]
    releases = pypi_index._from_digest(kept, "p", index)[1]  # type: ignore[index]
    releases[0], releases[2]
    again, is_trimmed = warm_module._trimmed(kept, releases)
    assert is_trimmed and sorted(again[2]) == [0, 2] and again[:2] == kept[:2]
    back = pypi_index._from_digest(again, "p", index, lambda: payload)[1]  # type: ignore[index]
    assert list(back) == list(everything)


def _warm_set(cache: Cache) -> warm_module.WarmSet:
    return warm_module.WarmSet(cache, "target", "context", "request")


def test_a_few_entries_not_read_again_do_not_rewrite_the_file_many_do(tmp_path: Path) -> None:
    from repos.pypi.cache import CachedPage

    cache = Cache(tmp_path)
    urls = [f"https://index.invalid/simple/p{i}/" for i in range(60)]
    for url in urls:
        cache.store_page(CachedPage(url, 200, "text/html", None, None, 0.0, 0, "0" * 64))

    def solve(read: list[str]) -> None:  # a solve that reads these pages' meta
        warm = _warm_set(cache)
        for url in read:
            assert warm.page(url) == cache.page(url, with_body=False)
        warm.save()

    solve(urls[:40])  # a first solve, and its speculative fetches
    (path,) = (tmp_path / "pypi" / "warm").iterdir()
    first = path.stat().st_ino
    solve(urls[:36])  # the next reads all but 4 of them: kept as it is
    assert path.stat().st_ino == first
    solve(urls[:10])  # 30 not read: rewritten with the 10
    assert path.stat().st_ino != first
    assert sorted(_warm_set(cache)._load()[0]) == sorted(urls[:10])
    solve(urls[:12])  # two it does not hold: rewritten
    assert sorted(_warm_set(cache)._load()[0]) == sorted(urls[:12])
