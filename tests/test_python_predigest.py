"""The pre-digested dependency cache (repos/pypi/predigest.py, solver/python/predigest.py).

A warm solve that reads the dependencies the resolver kept from an earlier run gives the answer of a
solve that derives them from the metadata again: the same lock, byte for byte, and the same notes,
over real wheels and sdists served over HTTP (tests/support/pyindex.py) with mixed-case names,
extras, markers that hold on one of two platforms, Requires-Python and an invalid dependency. A kept
entry is used only for the file it was derived from (a re-uploaded release is derived again), and a
corrupt store is ignored and rebuilt.
"""

from __future__ import annotations

import json
import marshal
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

import solver.python.provider as provider_module
from repos.pypi import PypiIndex
from repos.pypi.predigest import PredigestStore
from solver.python import DistFile, Release, Target, Wanted, resolve
from solver.python.overrides import MetadataOverride, OverridingIndex
from solver.python.predigest import from_payload
from tests.support.http import serve_directory
from tests.support.pyindex import Dist, make_repo
from tests.test_cli_debian import bundler

LINUX, WIN = "manylinux_2_28_x86_64", "win_amd64"
TWO = Target("3.11", (LINUX, WIN))

UNIVERSE = [
    Dist(
        "App", "1.0", ["Mixed_Case[Fast]>=1", "lib>=1; python_version >= '3.8'", "old; python_version < '3'"]
    ),
    # extras, a marker for one platform only, an extra's own marker, an invalid line (a note)
    Dist(
        "Mixed_Case",
        "1.0",
        [
            "lib>=1.0",
            "winonly; sys_platform == 'win32'",
            "speedups>=2; extra == 'fast'",
            "speedups[c]; extra == 'fast' and sys_platform == 'linux'",
            "not a valid requirement !!",
        ],
        provides_extra=["fast"],
        file_name="Mixed_Case",
    ),
    Dist("Mixed_Case", "1.1", ["lib>=9"], requires_python=">=3.12", file_name="Mixed_Case"),
    Dist("lib", "1.0"),
    Dist("lib", "1.1", ["sdonly"]),
    Dist("winonly", "1.0"),
    Dist("speedups", "2.0", ["cffi-ish; extra == 'c'"], provides_extra=["c"]),
    Dist("cffi-ish", "1.0"),
    Dist("sdonly", "3.0", ["lib"], sdist=True),  # an sdist with static (2.2) metadata
    Dist("old", "1.0"),
]

SPEC = """\
[bundle]
name = "digested"
epoch = 1700000000

[python]
indexes = ["{index}"]
python-version = "3.11"
platforms = ["manylinux_2_28_x86_64", "win_amd64"]
require = ["app"]
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    repo = make_repo(tmp_path_factory.mktemp("repo"), UNIVERSE)
    with serve_directory(repo.root) as server:
        yield server.url + "/simple/"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the dependency derivations (what a kept entry saves)."""
    calls: list[str] = []
    real = provider_module.PythonProvider._derive_dependencies

    def derive(self: Any, candidate: Any) -> Any:
        calls.append(candidate.key)
        return real(self, candidate)

    monkeypatch.setattr(provider_module.PythonProvider, "_derive_dependencies", derive)
    return calls


def _solve(url: str, cache: Path, offline: bool) -> tuple[dict[str, tuple[str, tuple[str, ...]]], list[str]]:
    with PypiIndex([url], cache_dir=cache, offline=offline, target=TWO) as index:
        result = resolve(index, TWO, [Wanted("app")], legacy_sdists=False)
    pins = {n: (p.version, p.depends, tuple(sorted(p.platforms))) for n, p in result.pins.items()}
    return pins, result.notes  # type: ignore[return-value]


def _store_files(cache: Path) -> list[Path]:
    return sorted((cache / "pypi" / "predigest").glob("*.deps"))


def test_lock_bytes_are_the_same_with_derived_and_kept_dependencies(served: str, tmp_path: Path) -> None:
    spec = tmp_path / "bundle.toml"
    spec.write_text(SPEC.format(index=served))
    lock, cache = tmp_path / "bundle.lock", tmp_path / "cache"

    def solve(*args: str) -> tuple[bytes, dict[str, Any]]:
        lock.unlink(missing_ok=True)
        proc = bundler("solve", spec, "-o", lock, "--cache-dir", cache, "--json", *args)
        assert proc.returncode == 0, proc.stderr
        return lock.read_bytes(), json.loads(proc.stdout)

    solve()  # online: pages and metadata cached
    shutil.rmtree(cache / "pypi" / "predigest")
    derived, derived_json = solve("--offline", "--no-fast-path")  # derived, and kept
    assert _store_files(cache)
    kept, kept_json = solve("--offline", "--no-fast-path")  # from what was kept
    assert kept == derived
    assert kept_json["python"]["notes"] == derived_json["python"]["notes"]
    assert any("ignored the invalid dependency" in n for n in kept_json["python"]["notes"])
    text = kept.decode()
    for name in ("app", "mixed-case", "lib", "winonly", "speedups", "cffi-ish", "sdonly"):
        assert f'name = "{name}"' in text, name
    assert 'name = "old"' not in text


def test_a_warm_solve_derives_nothing_and_answers_the_same(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    online = _solve(served, tmp_path, offline=False)
    assert calls and _store_files(tmp_path)
    pins, notes = online
    assert pins["winonly"][2] == (WIN,)  # its marker holds on one platform only
    assert pins["mixed-case"][0] == "1.0"  # 1.1 requires Python 3.12
    assert "speedups" in pins and "cffi-ish" in pins and "sdonly" in pins

    calls.clear()
    assert _solve(served, tmp_path, offline=True) == online
    assert calls == []

    # without the store, the same answer derived again (and the store rebuilt)
    shutil.rmtree(tmp_path / "pypi" / "predigest")
    assert _solve(served, tmp_path, offline=True) == online
    assert calls


def test_a_corrupt_store_is_ignored_and_rebuilt(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    online = _solve(served, tmp_path, offline=False)
    files = _store_files(tmp_path)
    for bad in (
        b"\x00garbage",
        marshal.dumps("not a store"),
        marshal.dumps((1, "x", "y", "z", b"")),
    ):
        for f in files:
            f.write_bytes(bad)
        calls.clear()
        assert _solve(served, tmp_path, offline=True) == online
        assert calls  # derived again
        calls.clear()
        assert _solve(served, tmp_path, offline=True) == online
        assert calls == []  # and rewritten

    # a body that still reads but fails its checksum (a byte changed: `speedups>=2` made `>=3`) is
    # not trusted
    changed = 0
    for f in files:
        fmt, project, context, checksum, body = marshal.loads(f.read_bytes())
        if b">=2" in body:
            body = body.replace(b">=2", b">=3")
            assert marshal.loads(body)
            f.write_bytes(marshal.dumps((fmt, project, context, checksum, body)))
            changed += 1
    assert changed
    calls.clear()
    assert _solve(served, tmp_path, offline=True) == online
    assert calls


def test_an_entry_is_used_for_its_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A release uploaded again with other dependencies (another sha256 on a changed page) is derived
    again: the kept entry of the old file is not used."""
    calls = _counting(monkeypatch)
    root = tmp_path / "repo"
    make_repo(root, [Dist("app", "1.0", ["lib"]), Dist("lib", "1.0")])
    with serve_directory(root) as server:
        url = server.url + "/simple/"
        pins, _ = _solve(url, tmp_path / "cache", offline=False)
        assert pins["app"][1] == ("lib",)
        shutil.rmtree(root)
        make_repo(
            root, [Dist("app", "1.0", ["lib", "extra-dep"]), Dist("lib", "1.0"), Dist("extra-dep", "1.0")]
        )
        calls.clear()
        pins, _ = _solve(url, tmp_path / "cache", offline=False)  # the pages are revalidated: changed
        assert pins["app"][1] == ("extra-dep", "lib")
        assert "app" in calls
        calls.clear()
        assert _solve(url, tmp_path / "cache", offline=True)[0] == pins
        assert calls == []


def _file(sha: str, core: str | None = None) -> DistFile:
    return DistFile(
        "p-1.0-py3-none-any.whl", "https://i.example/p-1.0-py3-none-any.whl", sha, 1, None, None, core, "i"
    )


def test_store_keys_entries_by_file_target_and_candidate(tmp_path: Path) -> None:
    payload = ((), (("q", "q", None, ">=1", (LINUX,), "q>=1", "dep"),))
    store = PredigestStore(tmp_path, "target-a")
    store.put("p", _file("a" * 64), "", (LINUX,), payload)
    store.put("p", _file(""), "", (LINUX,), payload)  # no sha256: nothing pins the metadata, not kept
    store.flush()
    again = PredigestStore(tmp_path, "target-a")
    assert again.get("p", _file("a" * 64), "", (LINUX,)) == payload
    assert again.get("p", _file("b" * 64), "", (LINUX,)) is None  # another file
    assert again.get("p", _file("a" * 64, "c" * 64), "", (LINUX,)) is None  # another metadata hash
    assert again.get("p", _file("a" * 64), "x", (LINUX,)) is None  # another extra
    assert again.get("p", _file("a" * 64), "", (LINUX, WIN)) is None  # other platforms
    assert again.get("p", _file(""), "", (LINUX,)) is None
    assert PredigestStore(tmp_path, "target-b").get("p", _file("a" * 64), "", (LINUX,)) is None


def test_payloads_are_checked_on_the_way_in() -> None:
    from packaging.specifiers import SpecifierSet

    good = ((), (("q", "q", None, ">=1", (LINUX,), "q>=1", "dep"),))
    got = from_payload(good, SpecifierSet)
    assert got is not None and got[1][0][3] == SpecifierSet(">=1")
    for bad in (
        None,
        "x",
        ((), (("q", "q", None, ">=1", (LINUX,), "q>=1"),)),  # a field short
        ((), (("q", "q", None, "not a spec", (LINUX,), "q", "dep"),)),
        ((), (("q", "q", None, ">=1", (), "q", "dep"),)),  # no platform
        ((), (("q", "q", None, ">=1", (LINUX,), "q", "root"),)),  # not a kind a dependency has
        ((1,), ()),
    ):
        assert from_payload(bad, SpecifierSet) is None, bad


def test_overridden_metadata_is_never_served_from_the_store(tmp_path: Path) -> None:
    payload = ((), ())
    inner = PypiIndex(["https://i.example/simple/"], cache_dir=tmp_path, offline=True, target=TWO)
    release = Release("p", Version("1.0"), (_file("a" * 64),))
    index = OverridingIndex(inner, [MetadataOverride("p", "1.0", ("q",), None)])
    index.store_digested_dependencies(release, _file("a" * 64), "", (LINUX,), payload)
    inner.store_digested_dependencies(release, _file("a" * 64), "", (LINUX,), payload)
    assert inner.digested_dependencies(release, _file("a" * 64), "", (LINUX,)) == payload
    assert index.digested_dependencies(release, _file("a" * 64), "", (LINUX,)) is None
    inner.close()
