"""The warm-path shortcuts of the Python resolver give the answers the long way gives.

- `FileChoice.useful_files` (what a per-target digest keeps of a release) changes no file choice and no
  reason a release is unusable, for any platform subset and either yanked rule (a property test);
- project digests (`<cache>/pypi/digests`) are reused for the same page content and target only; a
  corrupt or stale one is ignored and rewritten;
- parsed core metadata (`<cache>/pypi/metadata/*.parsed`) is reused, and ignored when unreadable or
  written by another parser version;
- the memoising resolution (`solver.python.resolution`) resolves, and fails, exactly as resolvelib's.
"""

from __future__ import annotations

import importlib
import json
import marshal
import operator
import random
import re
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import parse_wheel_filename
from packaging.version import Version
from resolvelib import BaseReporter, Resolver

import repos.pypi.index as pypi_index
from repos.pypi import PypiIndex
from repos.pypi.cache import Cache
from repos.pypi.simple import group_releases, json_page_releases, parse_json_page
from solver.errors import InputError, Unsatisfiable
from solver.python import DistFile, Release, Target, Wanted, resolve
from solver.python.files import FileChoice
from solver.python.model import CORE_METADATA_PARSER
from solver.python.provider import PythonProvider
from tests.support.http import serve_directory
from tests.support.pyindex import Dist, make_repo
from tests.test_python_units import MemIndex, uni

resolve_module = importlib.import_module("solver.python.resolve")  # the package exports `resolve` itself

LINUX = "manylinux_2_28_x86_64"
TWO = Target("3.11", (LINUX, "win_amd64"))

TAGS = [
    "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp311-cp311-manylinux_2_31_x86_64",
    "cp310-cp310-manylinux_2_17_x86_64",
    "cp311-cp311-win_amd64",
    "cp38-abi3-manylinux1_x86_64",
    "cp311-cp311-macosx_11_0_arm64",
    "py3-none-any",
    "py2-none-any",
]
REQUIRES_PYTHON = [None, None, ">=3.8", ">=3.12", "<3", "not a specifier"]


def _random_release(rng: random.Random) -> Release:
    files = []
    for i in range(rng.randint(1, 6)):
        if rng.random() < 0.25:
            filename = f"p-1.0{'.zip' if i % 2 else '.tar.gz'}"
        else:
            filename = f"p-1.0-{rng.choice(TAGS)}.whl"
        yanked = rng.choice([None, None, None, "", "broken"])
        files.append(
            DistFile(filename, f"mem://{i}/{filename}", "", 1, rng.choice(REQUIRES_PYTHON), yanked, None, "m")
        )
    return Release("p", Version("1.0"), tuple(files))


@pytest.mark.parametrize("target", [TWO, Target("3.11", (LINUX,))], ids=["two-platforms", "linux"])
def test_useful_files_change_no_choice_and_no_explanation(target: Target) -> None:
    rng = random.Random(20261125)
    choice = FileChoice(target)
    provider = PythonProvider(MemIndex({}), target)
    subsets = [{p} for p in target.platforms] + [set(target.platforms)]
    for _ in range(3000):
        rel = _random_release(rng)
        kept = Release(rel.name, rel.version, choice.useful_files(rel.files))
        assert kept.files and set(kept.files) <= set(rel.files)
        assert [rel.files.index(f) for f in kept.files] == sorted(rel.files.index(f) for f in kept.files)
        for platforms in subsets:
            for allow_yanked in (False, True):
                full = provider._files_for(rel, platforms, allow_yanked)
                assert provider._files_for(kept, platforms, allow_yanked) == full
                if full is None:
                    assert provider._why_no_file(kept, platforms, allow_yanked) == provider._why_no_file(
                        rel, platforms, allow_yanked
                    )


def test_wheel_platform_prefilter_agrees_with_the_tags() -> None:
    (pt,) = Target("3.11", (LINUX,)).per_platform
    for tag in TAGS + ["cp311-cp311-MANYLINUX_2_17_X86_64", "cp311-cp311-linux_x86_64"]:
        filename = f"p-1.0-{tag}.whl"
        expected = min(
            (pt.tag_priority[t] for t in pypi_tags(filename) if t in pt.tag_priority), default=None
        )
        assert pt.wheel_priority(filename) == expected, filename


def test_wheel_priority_is_that_of_the_parsed_filename() -> None:
    """`wheel_priority` caches by a filename's tag text and by its name-version part: the same answers
    as parsing each whole filename, invalid ones included (then no priority)."""
    from packaging.utils import InvalidWheelFilename
    from packaging.version import InvalidVersion

    (pt,) = Target("3.11", (LINUX,)).per_platform
    prefixes = [
        "p-1.0",
        "p-2.0",
        "p-1.0-1",
        "p-1.0-1abc",
        "p-not.a.version",
        "p-1.0-x",
        "p__q-1.0",
        "-1.0",
        "p",
    ]
    tags = TAGS + [
        "cp311-cp311-linux_x86_64",
        "cp311-cp311-manylinux_2_17_x86_64-extra",
        "py3-none-",
        "-none-any",
    ]
    for _round in range(2):  # the second time from the caches
        for prefix in prefixes:
            for tag in tags:
                filename = f"{prefix}-{tag}.whl"
                try:
                    parsed = parse_wheel_filename(filename)[3]
                except (InvalidWheelFilename, InvalidVersion):
                    parsed = frozenset()
                expected = min((pt.tag_priority[t] for t in parsed if t in pt.tag_priority), default=None)
                assert pt.wheel_priority(filename) == expected, filename


def _random_page(rng: random.Random) -> bytes:
    """A PEP 691 page of project p: random versions (some equal but spelled apart, some invalid), wheels
    for many platforms, sdists, eggs, another project's files, yanked flags and Requires-Python."""
    entries = []
    for i in range(rng.randint(0, 40)):
        version = rng.choice(["1.0", "1.0.0", "1.1", "2.0rc1", "2.0", "not-a-version", "3!1.0"])
        name = rng.choice(["p", "p", "p", "P", "other"])
        kind = rng.random()
        if kind < 0.2:
            filename = f"{name}-{version}{rng.choice(['.tar.gz', '.zip'])}"
        elif kind < 0.25:
            filename = f"{name}-{version}-py3.11.egg"
        elif kind < 0.3:  # a build tag (six parts), or too few parts to be a wheel's name
            filename = rng.choice(
                [f"{name}-{version}-1-{rng.choice(TAGS)}.whl", f"{name}-{version}-py3-none.whl"]
            )
        else:
            filename = f"{name}-{version}-{rng.choice(TAGS)}.whl"
        entry: dict[str, object] = {
            "filename": filename,
            "url": rng.choice([f"../../files/{i}/{filename}", f"https://files.example/{i}/{filename}"]),
            "hashes": {"sha256": f"{i:064x}"},
        }
        yanked = rng.choice([None, "absent", False, True, "broken"])
        if yanked != "absent":
            entry["yanked"] = yanked
        requires = rng.choice(REQUIRES_PYTHON + ["absent"])
        if requires != "absent":
            entry["requires-python"] = requires
        if rng.random() < 0.3:
            entry["core-metadata"] = rng.choice([True, {"sha256": f"{i:064x}"}])
        if rng.random() < 0.3:
            entry["size"] = rng.randint(1, 10**6)
        entries.append(entry)
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "p", "files": entries}).encode()


@pytest.mark.parametrize("target", [TWO, Target("3.11", (LINUX,)), Target("3.8", ("win_amd64",))],
                         ids=["two-platforms", "linux", "win-3.8"])  # fmt: skip
def test_json_page_releases_is_the_long_way(target: Target) -> None:
    """The cold path's page reading (only the files a platform may use are built) gives the releases,
    files and order of parsing every file, grouping and reducing them (`PypiIndex._index_page`)."""
    rng = random.Random(20261207)
    choice = FileChoice(target)
    url = "https://index.example/simple/p/"
    for _ in range(1500):
        data = _random_page(rng)
        files = parse_json_page(data, url, "i")
        long_way = sorted(
            (Release(r.name, r.version, choice.useful_files(r.files)) for r in group_releases("p", files)),
            key=lambda r: r.version,
            reverse=True,
        )
        listed, releases = json_page_releases(data, url, "i", "p", choice)
        assert (listed, releases) == (bool(files), long_way)


def _both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """json_page_releases of `data` with the compiled page pass and without it: its answer, or the
    InputError's text."""
    import repos.pypi.simple as simple

    def run() -> object:
        try:
            return json_page_releases(data, "https://index.example/simple/p/", "i", "p", FileChoice(TWO))
        except InputError as e:
            return str(e)

    compiled = run()
    with monkeypatch.context() as m:
        m.setattr(simple, "_page_scan", None)
        python = run()
    return compiled, python


def _page(*entries: str, meta: str = "") -> bytes:
    return ('{%s"files": [%s]}' % (meta, ", ".join(entries))).encode()  # noqa: UP031 - JSON's braces


WHEEL = '{"filename": "p-1.0-py3-none-any.whl", "url": "p-1.0-py3-none-any.whl", "hashes": {"sha256": "%s"}'
GOOD = WHEEL % ("a" * 64) + "}"


@pytest.mark.parametrize("data", [
    _page(GOOD, meta='"meta": {"api-version": "1.1"}, '),
    b' \n{"files" :[ ' + (WHEEL % ("a" * 64)).encode() + b', "yanked": "caf\\u00e9"} , '
    + (WHEEL % ("b" * 64)).encode() + b', "x": [1, -2.5e3, {"y": [true, false, null]}]} ]}\r\n ',
    _page(GOOD, meta='"meta": {"api-version": "2.0"}, '),  # an unsupported version
    _page(WHEEL % ("a" * 64) + ', "yanked": "caf\u00e9, raw UTF-8"}'),
    _page(WHEEL % ("a" * 64) + ', "size": NaN}'),  # json.loads takes NaN: the Python path reads it
    _page('{"filename": "p-1.0.tar.gz", "url": "p-1.0.tar.gz", "filename": "p-2.0.tar.gz"}'),  # twice
    _page('{"file\\u006eame": "p-1.0.tar.gz", "url": "p-1.0.tar.gz", "hashes": {}}'),  # an escaped key
    _page('{"filename": "p-1.0-py3-none-any.wh\\u006c", "url": "u", "hashes": {}}'),  # an escaped name
    _page('{"filename": "p-1.0.egg", "url": 1}', '{"filename": 5, "url": "u"}'),  # an egg, then no name
    _page('{"filename": "p-1.0.tar.gz"}'),  # no url
    _page('["p-1.0.tar.gz"]'),  # not an object
    b'{"files": {}}',
    b'{"meta": [], "files": []}',
    b'{"meta": {"api-version": 1.0}, "files": []}',  # a number: str() of it is "1.0"
    _page(GOOD)[:-1],  # truncated
    _page(GOOD) + b" x",  # trailing text
    _page(GOOD, GOOD)[:-2] + b", ]}",  # a trailing comma
    _page('"\\x"'),  # a bad escape
    _page('"a\tb"'),  # a raw control character
    _page("01"),  # a bad number
    _page("[" * 300 + "]" * 300),  # deeper than the compiled pass goes
    b'\xef\xbb\xbf{"files": []}',  # a byte order mark
    b"[]",
    b"",
], ids=lambda d: d[:40].decode("utf-8", "replace"))  # fmt: skip
def test_the_compiled_page_pass_answers_as_json_loads(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """repos/pypi/_page.c takes a page exactly as json.loads does or leaves it to the Python path:
    the same releases, or the same error, either way."""
    compiled, python = _both_ways(data, monkeypatch)
    assert compiled == python


def test_the_compiled_page_pass_takes_invalid_utf8_as_json_loads_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # json.loads decodes bytes with "surrogatepass": an encoded surrogate reads, the others do not
    for bad in (b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe0\x80\x80", b"\xf4\x90\x80\x80"):
        data = b'{"files": [{"filename": "p-1.0.tar.gz", "url": "p-1.0.tar.gz", "yanked": "' + bad + b'"}]}'
        compiled, python = _both_ways(data, monkeypatch)
        assert compiled == python
        assert ("malformed PEP 691" in str(python)) == (bad != b"\xed\xa0\x80")


def test_json_page_releases_checks_what_it_reads() -> None:
    choice = FileChoice(Target("3.11", (LINUX,)))
    url = "https://index.example/simple/p/"
    for bad in ([{"filename": "p-1.0.tar.gz"}], [["p-1.0.tar.gz"]], {"files": 1}):
        doc = {"meta": {"api-version": "1.0"}, "files": bad} if isinstance(bad, list) else bad
        with pytest.raises(InputError, match="malformed PEP 691"):
            json_page_releases(json.dumps(doc).encode(), url, "i", "p", choice)
    # the values of a file the target uses are checked as parse_json_page checks them
    doc = {"files": [{"filename": "p-1.0.tar.gz", "url": "p-1.0.tar.gz", "hashes": {"sha256": "xyz"}}]}
    with pytest.raises(InputError, match="malformed sha256"):
        json_page_releases(json.dumps(doc).encode(), url, "i", "p", choice)


def pypi_tags(filename: str):  # type: ignore[no-untyped-def]
    from packaging.utils import parse_wheel_filename

    return parse_wheel_filename(filename)[3]


# ---- digests over a served index -----------------------------------------------------------------------
DISTS = [
    Dist("lib", "1.0"),
    Dist("lib", "1.0", tag="cp311-cp311-win_amd64"),
    Dist("lib", "1.1", tag="cp311-cp311-manylinux_2_17_x86_64"),
    Dist("lib", "1.1", tag="cp311-cp311-win_amd64"),
    Dist("lib", "1.1", tag="cp311-cp311-macosx_11_0_arm64"),
    Dist("lib", "1.2", yanked="broken"),
    Dist("lib", "2.0", requires_python=">=3.12"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path_factory.mktemp("repo"), DISTS)
    with serve_directory(repo.root) as server:
        yield server.url + "/simple/"


def _shape(releases) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    return sorted((str(r.version), [f.filename for f in r.files]) for r in releases)


def _releases(url: str, cache: Path, target: Target | None, offline: bool) -> list[Release]:
    with PypiIndex([url], cache_dir=cache, offline=offline, target=target) as index:
        return list(index.list_releases("lib"))


def test_digest_is_reused_for_its_page_and_target_only(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linux = Target("3.11", (LINUX,))
    everything = _releases(served, tmp_path, None, offline=False)  # no target: every file
    online = _releases(served, tmp_path, linux, offline=False)
    choice = FileChoice(linux)
    assert _shape(online) == _shape(
        Release(r.name, r.version, choice.useful_files(r.files)) for r in everything
    )
    assert dict(_shape(online))["1.1"] == ["lib-1.1-cp311-cp311-manylinux_2_17_x86_64.whl"]
    assert len(dict(_shape(everything))["1.1"]) == 3
    digests = list((tmp_path / "pypi" / "digests").iterdir())
    assert len(digests) == 1

    # warm: the digest answers, nothing is regrouped
    calls: list[str] = []
    real_group = pypi_index.group_releases

    def counting(name: str, files):  # type: ignore[no-untyped-def]
        calls.append(name)
        return real_group(name, files)

    monkeypatch.setattr(pypi_index, "group_releases", counting)
    warm = _releases(served, tmp_path, linux, offline=True)
    assert _shape(warm) == _shape(online) and calls == []
    assert [r.version for r in warm] == sorted((r.version for r in warm), reverse=True)

    # another target has its own digest, built from the page
    win = _releases(served, tmp_path, Target("3.11", ("win_amd64",)), offline=True)
    assert calls == ["lib"] and dict(_shape(win))["1.1"] == ["lib-1.1-cp311-cp311-win_amd64.whl"]
    assert len(list((tmp_path / "pypi" / "digests").iterdir())) == 2

    # a corrupt digest is ignored, and rewritten
    calls.clear()
    digests[0].write_bytes(b"\x00garbage")
    assert _shape(_releases(served, tmp_path, linux, offline=True)) == _shape(online) and calls == ["lib"]
    calls.clear()
    assert _shape(_releases(served, tmp_path, linux, offline=True)) == _shape(online) and calls == []

    # a digest that unmarshals but does not hold releases is ignored, and rewritten
    calls.clear()
    page_url = served + "lib/"
    cached = Cache(tmp_path).page(page_url, with_body=False)
    assert cached is not None
    Cache(tmp_path).store_digest(page_url, cached.sha256, pypi_index._target_key(linux), "not releases")
    assert _shape(_releases(served, tmp_path, linux, offline=True)) == _shape(online) and calls == ["lib"]

    # a digest of other page content (the page changed since) is not used
    calls.clear()
    cache = Cache(tmp_path)
    page = cache.page(served + "lib/", with_body=False)
    assert page is not None
    key = pypi_index._target_key(linux)
    assert cache.digest(page.url, page.sha256, key) is not None
    cache.store_digest(page.url, "0" * 64, key, (True, [("9.9", [])]))
    assert cache.digest(page.url, page.sha256, key) is None
    assert _shape(_releases(served, tmp_path, linux, offline=True)) == _shape(online) and calls == ["lib"]


def test_parsed_metadata_is_reused_unless_unreadable_or_stale(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linux = Target("3.11", (LINUX,))
    with PypiIndex([served], cache_dir=tmp_path, target=linux) as index:
        rel = next(r for r in index.list_releases("lib") if str(r.version) == "1.1")
        meta = index.get_metadata(rel, rel.files[0])
    assert meta.name == "lib" and meta.version == "1.1"
    parsed = list((tmp_path / "pypi" / "metadata").glob("*.parsed"))
    assert len(parsed) == 1

    def offline_metadata():  # type: ignore[no-untyped-def]
        with PypiIndex([served], cache_dir=tmp_path, offline=True, target=linux) as index:
            rel = next(r for r in index.list_releases("lib") if str(r.version) == "1.1")
            return index.get_metadata(rel, rel.files[0])

    real_parse = pypi_index.parse_core_metadata

    def no_parsing(data: bytes):  # type: ignore[no-untyped-def]
        raise AssertionError("the parsed form should have been used")

    monkeypatch.setattr(pypi_index, "parse_core_metadata", no_parsing)
    assert offline_metadata() == meta
    for broken in (b"\x00garbage", None):
        if broken is None:  # written by another version of the parser
            Cache(tmp_path).store_core_metadata(
                rel.files[0].url, rel.files[0].sha256, CORE_METADATA_PARSER + 1, ()
            )
        else:
            parsed[0].write_bytes(broken)
        monkeypatch.setattr(pypi_index, "parse_core_metadata", real_parse)
        assert offline_metadata() == meta  # parsed again, and stored again
        monkeypatch.setattr(pypi_index, "parse_core_metadata", no_parsing)
        assert offline_metadata() == meta


# ---- the memoising resolution against resolvelib's own -------------------------------------------------
def _random_universe(rng: random.Random) -> tuple[dict, list[str]]:  # type: ignore[type-arg]
    names = [f"p{i}" for i in range(7)]
    entries = []
    for i, name in enumerate(names):
        for v in rng.sample(range(1, 8), rng.randint(1, 4)):
            deps = []
            for other in names[i + 1 :] if rng.random() < 0.9 else names:
                if other != name and rng.random() < 0.35:
                    op = rng.choice([">=", "<", "==", "!=", ""])
                    deps.append(f"{other}{op}{rng.randint(1, 7) if op else ''}")
            rp = rng.choice([None, None, None, ">=3.8", ">=3.12"])
            entries.append((name, (f"{v}.0", (deps, rp, [f"{name}-{v}.0-py3-none-any.whl"]))))
    roots = [names[0]] + ([f"{names[1]}>={rng.randint(1, 5)}"] if rng.random() < 0.5 else [])
    return uni(*entries), roots


def _outcome(universe, roots: list[str]) -> object:  # type: ignore[no-untyped-def]
    try:
        result = resolve(MemIndex(universe), Target("3.11", (LINUX,)), [Wanted(r) for r in roots])
    except Unsatisfiable as e:
        return ("unsatisfiable", str(e))
    return {name: pin.version for name, pin in result.pins.items()}


def test_memoising_resolution_resolves_as_resolvelib(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    cases = [_random_universe(rng) for _ in range(300)]
    ours = [_outcome(u, roots) for u, roots in cases]
    monkeypatch.setattr(resolve_module, "make_resolver", lambda provider: Resolver(provider, BaseReporter()))
    theirs = [_outcome(u, roots) for u, roots in cases]
    assert ours == theirs
    kinds = {isinstance(o, dict) for o in ours}
    assert kinds == {True, False}  # both solvable and unsolvable cases were compared


class _Recorder(BaseReporter):  # type: ignore[type-arg]
    """Every event resolvelib reports, in order: the trace of the algorithm's decisions."""

    def __init__(self, events: list[tuple[object, ...]]) -> None:
        self.events = events

    def starting_round(self, index: int) -> None:
        self.events.append(("round", index))

    def pinning(self, candidate) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("pin", candidate.key, str(candidate.version)))

    def rejecting_candidate(self, criterion, candidate) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("reject", candidate.key, str(candidate.version)))

    def resolving_conflicts(self, causes) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("conflict", tuple(sorted(c.requirement.text for c in causes))))

    def ending(self, state) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("end", tuple(state.mapping)))


def _trace(resolver_class: type, universe, roots: list[str], monkeypatch: pytest.MonkeyPatch) -> list:  # type: ignore[no-untyped-def, type-arg]
    events: list[tuple[object, ...]] = []
    monkeypatch.setattr(
        resolve_module, "make_resolver", lambda provider: resolver_class(provider, _Recorder(events))
    )
    events.append(("outcome", _outcome(universe, roots)))
    return events


def test_incremental_resolution_makes_resolvelibs_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The incremental loop (solver/python/resolution.py) is resolvelib's: the same rounds, pins,
    rejections, conflicts and end state as resolvelib's own Resolver, event for event, on universes
    that backtrack."""
    from solver.python.resolution import IncrementalResolver, MemoResolver, make_resolver

    if not isinstance(
        make_resolver(PythonProvider(MemIndex({}), Target("3.11", (LINUX,)))), IncrementalResolver
    ):
        pytest.skip("the installed resolvelib is not one the incremental loop was written for")
    rng = random.Random(11)
    cases = [_random_universe(rng) for _ in range(300)]
    conflicts = 0
    for universe, roots in cases:
        theirs = _trace(Resolver, universe, roots, monkeypatch)
        assert _trace(IncrementalResolver, universe, roots, monkeypatch) == theirs
        assert _trace(MemoResolver, universe, roots, monkeypatch) == theirs
        conflicts += any(e[0] == "conflict" for e in theirs)
    assert conflicts >= 30  # the backjumping paths were compared, not only straight resolutions


def test_the_answers_after_a_pin_are_those_of_the_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """After each pin `_rescan_pinned` updates the answers from what the pin changed, without comparing
    the state: they must be what resolvelib's own questions give, and the lists it keeps must be the
    state's criteria and pins, object for object (they are what the next backjump's comparison reads)."""
    from resolvelib.resolvers import Resolution

    from solver.python import resolution

    if not hasattr(resolution._IncrementalResolution, "_rescan_pinned"):  # pragma: no cover
        pytest.skip("no incremental loop")
    checked = 0

    def checking(self, name, changes):  # type: ignore[no-untyped-def]
        nonlocal checked
        broken = real(self, name, changes)
        criteria, pins = self.state.criteria, self.state.mapping
        keys, values = self._criteria_seen
        assert keys == list(criteria) and all(map(operator.is_, values, criteria.values()))
        assert len(values) == len(criteria)
        assert self._pins_seen[0] == list(pins) and all(map(operator.is_, self._pins_seen[1], pins.values()))
        assert self._criteria_at == {k: i for i, k in enumerate(keys)}
        assert self._pins_at == {k: i for i, k in enumerate(pins)}
        for key, criterion in criteria.items():
            assert self._satisfied[key] == Resolution._is_current_pin_satisfying(self, key, criterion)
        checked += 1
        return broken

    real = resolution._IncrementalResolution._rescan_pinned
    monkeypatch.setattr(resolution._IncrementalResolution, "_rescan_pinned", checking)
    monkeypatch.setattr(
        resolve_module,
        "make_resolver",
        lambda provider: resolution.IncrementalResolver(provider, BaseReporter()),
    )
    rng = random.Random(13)
    for _ in range(200):
        universe, roots = _random_universe(rng)
        _outcome(universe, roots)
    assert checked > 500


# ---- requirement parsing with shared markers -------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "a",
        "a>=1",
        "A_b.c [X, y] (>=1.0,<2) ; platform_machine != 'x86_64'",
        "a>=1;python_version<'3.8'",
        "a ; extra == 'test'",
        "a>=1 ;os_name=='nt' and (extra=='a' or extra=='b')",
        "a @ https://example.invalid/a.whl ; python_version > '3'",
        "a @ https://example.invalid/a;b.whl",
        "a; ",
        "a;",
        "a>=1;;",
        "a>=1; python_version > '3' ; extra == 'x'",
        "a>=1 python_version > '3'",
        "a>=1; @",
        "a[; extra == 'x'",
    ],
)
def test_split_requirement_parse_is_the_full_parse(text: str) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        full: Requirement | None = Requirement(text)
    except InvalidRequirement:
        full = None
    mine = PythonProvider(MemIndex({}), Target("3.11", (LINUX,)))._parse_split(text)
    assert (mine is None) == (full is None)
    if full is not None and mine is not None:
        assert str(mine) == str(full)
        assert (mine.name, mine.url, mine.extras, mine.specifier) == (
            full.name,
            full.url,
            full.extras,
            full.specifier,
        )
        assert repr(getattr(mine.marker, "_markers", None)) == repr(getattr(full.marker, "_markers", None))


# ---- find_matches straight to the pinned releases ---------------------------------------------------------
def test_pinned_positions_hold_every_release_the_pin_admits() -> None:
    from packaging.specifiers import SpecifierSet

    from solver.python.provider import Req

    texts = [
        "1",
        "1.0",
        "1.0.0",
        "1.0+local",
        "1.0.0+abc.1",
        "1.0.post1",
        "1.0rc1",
        "1.0.dev0",
        "1!1.0",
        "1.0.1",
        "2.0",
        "0.9",
        "1.0a1.post2.dev3",
        "01.00",
    ]
    releases = [Release("p", Version(t), ()) for t in texts]

    class Index(MemIndex):
        def list_releases(self, name: str) -> list[Release]:
            return list(releases)

    provider = PythonProvider(Index({}), Target("3.11", (LINUX,)))
    walk = provider._releases_walk("p")
    specs = [f"=={t}" for t in texts] + [f"==={t}" for t in texts]
    specs += ["===1.0.0", "===foo", "==1.0,>=0.5", ">=0.5,==1.0", "===1.0,>=1"]
    for text in specs:
        spec = SpecifierSet(text)
        req = Req("p", "p", None, spec, frozenset({LINUX}), f"p{text}")
        only = provider._pinned_positions("p", [req])
        if text == "===foo":  # not a version: left to the walk
            assert only is None
            continue
        assert only is not None and only == sorted(only)
        admitted = [i for i, rel in enumerate(walk) if spec.contains(rel.version, prereleases=True)]
        assert set(admitted) <= set(only), text
    loose = Req("p", "p", None, SpecifierSet(">=1,==1.*"), frozenset({LINUX}), "p>=1,==1.*")
    assert provider._pinned_positions("p", [loose]) is None


def test_pinned_lookup_resolves_and_explains_as_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    cases = [_random_universe(rng) for _ in range(300)]
    # preferred versions (a previous lock) reorder the walk; constraints pin too
    extras = [
        (
            {f"p{rng.randint(0, 6)}": f"{rng.randint(1, 7)}.0"} if rng.random() < 0.5 else {},
            [Wanted(f"p{rng.randint(1, 6)}=={rng.randint(1, 7)}")] if rng.random() < 0.3 else [],
        )
        for _ in cases
    ]

    def outcome(universe, roots, preferred, constraints):  # type: ignore[no-untyped-def]
        try:
            result = resolve(
                MemIndex(universe),
                Target("3.11", (LINUX,)),
                [Wanted(r) for r in roots],
                preferred=preferred,
                constraints=constraints,
            )
        except Unsatisfiable as e:
            return ("unsatisfiable", str(e))
        return {name: pin.version for name, pin in result.pins.items()}

    ours = [outcome(u, roots, *more) for (u, roots), more in zip(cases, extras, strict=True)]
    monkeypatch.setattr(PythonProvider, "_pinned_positions", lambda self, name, reqs, preferred=False, read=None: None)
    assert [outcome(u, roots, *more) for (u, roots), more in zip(cases, extras, strict=True)] == ours
    assert {isinstance(o, dict) for o in ours} == {True, False}


# ---- releases known newest first are not sorted again ------------------------------------------------------
def test_newest_first_releases_are_taken_in_their_order() -> None:
    from solver.python.model import NewestFirst

    releases = [Release("p", Version(v), ()) for v in ("3.0", "2.0", "1.0")]

    class Index(MemIndex):
        def list_releases(self, name: str) -> list[Release]:
            return NewestFirst(releases) if name == "sorted" else list(reversed(releases))

    provider = PythonProvider(Index({}), Target("3.11", (LINUX,)))
    assert provider.releases("sorted") == releases
    assert provider.releases("other") == releases


def test_newest_first_makes_each_release_once_when_read() -> None:
    from solver.python.model import NewestFirst

    made: list[str] = []

    def make(text: str) -> Release:
        made.append(text)
        return Release("p", Version(text), ())

    seq = NewestFirst(["3.0", "2.0", "1.0"], make)
    assert len(seq) == 3 and made == []
    first = seq[0]
    assert seq[0] is first and seq[-3] is first and made == ["3.0"]
    assert [r.version for r in seq[1:]] == [Version("2.0"), Version("1.0")]
    assert list(seq) == [first, seq[1], seq[2]] and made == ["3.0", "2.0", "1.0"]
    for bad in (3, -4):
        with pytest.raises(IndexError):
            seq[bad]


def test_digest_releases_are_made_when_read() -> None:
    from solver.python.model import NewestFirst

    row = ("p-1.0-py3-none-any.whl", "https://x/p-1.0-py3-none-any.whl", "ab", 1, None, None, None)
    blob = marshal.dumps([row])
    got = pypi_index._from_digest(
        (True, [("2.0", marshal.dumps([row, row])), ("1.0", blob)]), "p", "https://x/"
    )
    assert got is not None and isinstance(got[1], NewestFirst)
    releases = got[1]
    assert [r.version for r in releases] == [Version("2.0"), Version("1.0")]
    assert len(releases[0].files) == 2 and releases[1].files[0].index == "https://x/"
    # what does not read as a digest is refused up front
    for bad in ((True, 5), "x", (True,)):
        assert pypi_index._from_digest(bad, "p", "https://x/") is None
    # a release that does not read (the digest's checksum makes this another packaging's or a forged
    # file) is reported when read, naming the page, never used
    for bad_item in (
        ("not a version", blob),
        ("1.0", marshal.dumps([row[:3]])),
        ("1.0", b"\x00junk"),
        ("1.0", [row]),
        ("1.0",),
        7,
    ):
        got = pypi_index._from_digest((True, [("2.0", blob), bad_item]), "p", "https://x/")
        assert got is not None and got[1][0].version == Version("2.0")
        with pytest.raises(InputError, match="cached digest of this page is unreadable") as e:
            got[1][1]
        assert e.value.where == "https://x/p/"


def test_a_digest_whose_body_fails_its_checksum_is_not_read(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    url, sha = "https://x/simple/p/", "a" * 64
    cache.store_digest(url, sha, "t", (True, [("1.0", [])]))
    assert cache.digest(url, sha, "t") == (True, [("1.0", [])])
    (path,) = (tmp_path / "pypi" / "digests").iterdir()
    data = path.read_bytes()
    end = 4 + int.from_bytes(data[:4], "little")
    assert marshal.loads(data[end:]) == (True, [("1.0", [])])
    body = data[end:].replace(b"1.0", b"9.0")
    assert marshal.loads(body) == (True, [("9.0", [])])
    path.write_bytes(data[:end] + body)
    assert cache.digest(url, sha, "t") is None
    path.write_bytes(data[:3])  # cut short
    assert cache.digest(url, sha, "t") is None


def test_changes_finds_new_replaced_and_gone_keys_in_every_shape() -> None:
    from solver.python.resolution import _changes

    a, b, c, d = object(), object(), object(), object()
    old = {"x": a, "y": b, "z": c}
    seen = (list(old), list(old.values()))
    grown = {"x": a, "y": d, "z": c, "w": a}  # one replaced in place, one appended
    assert _changes(grown, *seen)[:2] == (["y", "w"], [])
    shrunk = {"x": d, "y": b}  # an earlier state's criteria: a prefix, one value differs
    assert _changes(shrunk, *seen)[:2] == (["x"], ["z"])
    moved = {"x": a, "z": c, "y": b}  # pinned again: moved to the end
    assert _changes(moved, *seen)[:2] == ([], [])
    other = {"y": b, "v": d}
    assert _changes(other, *seen)[:2] == (["v"], ["x", "z"])
    assert _changes(other, *seen)[2] == (["y", "v"], [b, d])


def test_the_compiled_page_pass_groups_as_python_does() -> None:
    """On pages as indexes write them the compiled pass answers (it does not leave them to Python),
    its groups, entries the choice may install and entries are those of the Python pass, and each
    entry is read where it lies."""
    import repos.pypi.simple as simple

    if simple._page_scan is None:
        pytest.skip("repos.pypi._page is not built")
    rng = random.Random(7)
    for target in (TWO, Target("3.8", ("win_amd64",))):
        choice = FileChoice(target)
        for _ in range(300):
            data = _random_page(rng)
            assert simple._page_scan(data, choice.may_install) is not None
            url = "https://index.example/simple/p/"
            try:
                compiled = simple._grouped(data, url, choice.may_install)
            except InputError as e:  # an entry without a url: both raise it
                with pytest.raises(InputError, match=re.escape(str(e.message))):
                    simple._grouped_python(data, url, choice.may_install)
                continue
            python = simple._grouped_python(data, url, choice.may_install)
            assert compiled.listed == python.listed and compiled.serving == python.serving
            assert [(k, s, list(p)) for k, s, p in compiled.groups] == [
                (k, s, list(p)) for k, s, p in python.groups
            ]
            files = json.loads(data)["files"]
            assert [compiled.entry(i) for i in range(len(files))] == files


def test_the_compiled_page_pass_and_python_agree_on_mutated_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages with bytes replaced, dropped or inserted (JSON's own characters, a NUL, DEL, UTF-8 and a
    byte no UTF-8 has): the compiled pass reads network input in C, so whatever it meets, the answer
    or the error is the Python path's (the session that wrote it ran 15,000 such pages)."""
    rng = random.Random(20261208)
    alphabet = b'{}[]",:\\ \t\n0123456789.eE+-truefalsn\x00\x7f\xc3\xa9\xff"filenameurl'
    for _ in range(800):
        data = bytearray(_random_page(rng))
        for _ in range(rng.randint(1, 4)):
            if not data:
                break
            op, i = rng.random(), rng.randrange(len(data))
            if op < 0.4:
                data[i] = rng.choice(alphabet)
            elif op < 0.7:
                del data[i : i + rng.randint(1, 5)]
            else:
                data[i:i] = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
        compiled, python = _both_ways(bytes(data), monkeypatch)
        assert compiled == python, bytes(data)[:200]


# ---- the preferred release (a previous lock's) first, found by bisection ---------------------------------
def _check_preferred_walk(texts: list[str], pref: Version) -> None:
    from solver.python.model import NewestFirst

    made: list[str] = []

    def make(text: str) -> Release:
        made.append(text)
        return Release("p", Version(text), ())

    class Index(MemIndex):
        def list_releases(self, name: str) -> NewestFirst:
            return NewestFirst(texts, make)

    provider = PythonProvider(Index({}), Target("3.11", (LINUX,)))
    walk = provider._preferred_walk("p", pref)
    assert len(made) <= 2 + len(texts).bit_length()  # bisected: not every release made
    expected = sorted((Release("p", Version(t), ()) for t in texts), key=lambda rel: rel.version != pref)
    assert list(walk) == expected and [walk[i] for i in range(-len(texts), 0)] == expected
    assert walk[1:3] == expected[1:3]
    assert provider._preferred_walk("p", pref) is walk
    with pytest.raises(IndexError):
        walk[len(texts)]


def test_preferred_walk_is_the_stable_sort_and_reads_few_releases() -> None:
    rng = random.Random(5)
    for _ in range(200):
        drawn = {
            f"{rng.randint(0, 3)}.{rng.randint(0, 9)}{rng.choice(['', 'rc1', '.post1'])}"
            for _ in range(rng.randint(0, 40))
        }
        texts = sorted(drawn, key=Version, reverse=True)
        _check_preferred_walk(texts, Version(rng.choice([*texts, "9.9", "0.0.1", "1.5"])))


def test_kept_pins_read_only_the_newer_releases_of_a_newest_first_walk() -> None:
    from types import SimpleNamespace

    from bundler.audit import python_kept
    from solver.python.model import NewestFirst

    index = "https://index.invalid/simple/"
    target = Target("3.11", (LINUX,))

    def release(text: str) -> Release:
        tag = "py3-none-any" if text != "2.1" else "cp27-cp27m-win32"  # 2.1: no file for the target
        name = f"p-{text}-{tag}.whl"
        return Release("p", Version(text), (DistFile(name, index + name, "", 1, None, None, None, index),))

    texts = ["3.0rc1", "2.1", "2.0", "1.1", "1.0", "0.9"]
    made: list[str] = []

    def make(text: str) -> Release:
        made.append(text)
        return release(text)

    for pinned, newest in (("1.0", "2.0"), ("2.0", None), ("0.9", "2.0"), ("3.0rc1", None)):
        pins = {"p": SimpleNamespace(version=pinned)}
        made.clear()
        lazily = python_kept(pins, lambda name: NewestFirst(texts, make), target, {"p": pinned}, None)
        listed = python_kept(
            pins, lambda name: [release(t) for t in reversed(texts)], target, {"p": pinned}, None
        )
        assert lazily == listed and [k.newest for k in lazily] == ([newest] if newest else [])
        assert made == texts[: texts.index(pinned) + 1]  # the newer ones, and the first that is not


def test_pinned_positions_by_bisection_or_text_are_those_of_the_whole_walk() -> None:
    from packaging.specifiers import SpecifierSet

    from solver.python.model import NewestFirst
    from solver.python.provider import Req, _version_key

    rng = random.Random(9)
    parts = ["", "rc1", ".post1", ".dev0", "+local", "+abc.1", ".0", ".0+x"]
    for _ in range(300):
        drawn = {
            f"{rng.randint(0, 2)}.{rng.randint(0, 3)}{rng.choice(parts)}" for _ in range(rng.randint(0, 30))
        }
        # one release per version (as an index's releases are): "1.0" and "1.0.0" are one
        texts = list({Version(t): t for t in sorted(drawn)}.values())
        texts.sort(key=Version, reverse=True)
        # half the walks know their versions' texts (str() of each, as a digest stores them): the
        # pinned release is then found by its text, else by bisection
        known = [str(Version(t)) for t in texts] if rng.random() < 0.5 else None

        class Index(MemIndex):
            def list_releases(self, name: str, texts: list[str] = texts, known=known) -> NewestFirst:  # type: ignore[no-untyped-def]
                return NewestFirst(texts, lambda text: Release("p", Version(text), ()), None, known)

        provider = PythonProvider(Index({}), Target("3.11", (LINUX,)))
        pin = rng.choice([*texts, "1.1", "9.0", "0.0+z"])
        pref = Version(rng.choice([*texts, "5.0"])) if rng.random() < 0.5 else None
        walk = provider._releases_walk("p") if pref is None else provider._preferred_walk("p", pref)
        req = Req("p", "p", None, SpecifierSet(f"=={pin}"), frozenset({LINUX}), f"p=={pin}")
        key = _version_key(Version(pin))
        expected = [i for i, rel in enumerate(walk) if _version_key(rel.version) == key]
        assert provider._pinned_positions("p", [req], pref is not None) == expected, (texts, pin, pref)


def _constrained_universe(rng: random.Random) -> tuple[dict, list[str], dict[str, Any]]:  # type: ignore[type-arg]
    """Seven versions with pre- and post-releases; constraints that pin (`==`, `===`) or not; fixes;
    vetoes."""
    from solver.veto import Veto

    names = [f"p{i}" for i in range(6)]
    pool = ["1.0", "1.1", "2.0rc1", "2.0", "2.1.post1", "3.0a1", "3.0"]
    entries = []
    for i, name in enumerate(names):
        for v in rng.sample(pool, rng.randint(1, 5)):
            deps = []
            for other in names[i + 1 :]:
                if rng.random() < 0.35:
                    op = rng.choice([">=", "<", "==", "!=", ""])
                    deps.append(f"{other}{op}{rng.choice(pool) if op else ''}")
            entries.append((name, (v, (deps, None, [f"{name}-{v}-py3-none-any.whl"]))))
    roots = [names[0]] + ([f"{names[1]}>=1.1"] if rng.random() < 0.4 else [])
    options: dict[str, Any] = {
        "constraints": [
            Wanted(f"{n}{rng.choice(['==', '===', '>=', '=='])}{rng.choice(pool)}")
            for n in names
            if rng.random() < 0.5
        ],
        "fixes": [Wanted(f"{n}=={rng.choice(pool)}") for n in names[2:] if rng.random() < 0.15],
        "vetoes": [
            Veto(n, rng.choice([None, "<2", ">=3.0a1"]), "CVE-1") for n in names if rng.random() < 0.15
        ],
    }
    return uni(*entries), roots, options


def test_a_constraints_pin_resolves_explains_and_reports_vetoes_as_the_walk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(21)
    cases = [_constrained_universe(rng) for _ in range(400)]

    def outcome(universe, roots, options):  # type: ignore[no-untyped-def]
        try:
            result = resolve(
                MemIndex(universe), Target("3.11", (LINUX,)), [Wanted(r) for r in roots], **options
            )
        except (Unsatisfiable, InputError) as e:
            return (type(e).__name__, str(e))
        pins = {name: pin.version for name, pin in result.pins.items()}
        return pins, result.vetoes_hit, [(m.label, m.removed) for m in result.vetoes_met], result.notes

    ours = [outcome(*case) for case in cases]
    monkeypatch.setattr(PythonProvider, "_pinned_positions", lambda self, name, reqs, preferred=False, read=None: None)
    assert [outcome(*case) for case in cases] == ours
    kinds = {o[0] if isinstance(o, tuple) and isinstance(o[0], str) else "solved" for o in ours}
    assert kinds >= {"solved", "Unsatisfiable"}, kinds
    assert any(
        "excluded by the constraint" in o[1] for o in ours if isinstance(o, tuple) and isinstance(o[0], str)
    )


def test_bisection_over_a_digest_reads_versions_and_makes_only_the_releases_found() -> None:
    from packaging.specifiers import SpecifierSet

    from solver.python.provider import Req

    row = ("p-{}-py3-none-any.whl", "https://x/p.whl", "ab", 1, None, None, None)
    texts = ["4.0", "3.1", "3.0", "3.0rc1", "2.0", "1.0+local", "1.0", "0.9"]
    payload = (True, [(t, marshal.dumps([(row[0].format(t), *row[1:])])) for t in texts])

    class Index(MemIndex):
        def list_releases(self, name: str) -> Any:
            return pypi_index._from_digest(payload, "p", "https://x/")[1]  # type: ignore[index]

    provider = PythonProvider(Index({}), Target("3.11", (LINUX,)))
    walk = provider._releases_walk("p")
    assert [walk.version_at(i) for i in range(len(walk))] == [Version(t) for t in texts]
    assert walk.made_positions() == set()  # versions read, no release made
    req = Req("p", "p", None, SpecifierSet("==1.0"), frozenset({LINUX}), "p==1.0")
    assert provider._pinned_positions("p", [req]) == [5, 6]
    preferred = provider._preferred_walk("p", Version("3.0"))
    assert walk.made_positions() == set()
    assert [r.version for r in preferred[:3]] == [Version("3.0"), Version("4.0"), Version("3.1")]
    assert walk.made_positions() == {0, 1, 2}


def test_req_flags_are_those_of_its_own_specifier_object() -> None:
    from packaging.specifiers import SpecifierSet

    from solver.python.provider import Req

    for text, pinned, pre in (
        ("==1.0", True, False),
        ("===1.0", True, False),
        ("==1.*", False, False),
        (">=1.0rc1", False, True),
        ("", False, False),
        (">=1,==2.0", True, False),
    ):
        req = Req("p", "p", None, SpecifierSet(text), frozenset({LINUX}), f"p{text}")
        assert (req.pinned, req.prereleases) == (pinned, pre), text
    plain, explicit = SpecifierSet(">=1"), SpecifierSet(">=1", prereleases=True)
    assert plain == explicit  # equal, yet their flags differ: kept per object
    assert Req("p", "p", None, plain, frozenset(), "p").prereleases is False
    assert Req("p", "p", None, explicit, frozenset(), "p").prereleases is True


def test_requirements_read_step_by_step_are_those_read_at_once() -> None:
    """find_matches reads a project's requirements from its last read when resolvelib added one
    (`_reqs_read`): on random sequences that grow, shrink and change (a backjump), with specifier
    objects shared and not, the read is the one made from scratch."""
    from packaging.specifiers import SpecifierSet

    from solver.python.provider import _NOTHING_READ, Req

    provider = PythonProvider(MemIndex({}), Target("3.11", (LINUX, "win_amd64")))
    texts = ["", ">=1", "==1.0", "===2.0", ">=1.0rc1", "==1.*", "<3", "===banana"]
    pool = [SpecifierSet(t) for t in texts] + [SpecifierSet(">=1", prereleases=True)]
    plats = [frozenset({LINUX}), frozenset({"win_amd64"}), frozenset({LINUX, "win_amd64"})]
    rng = random.Random(5)
    reqs = [Req("p", "p", None, rng.choice(pool), rng.choice(plats), "p") for _ in range(40)]
    seq: list = []  # type: ignore[type-arg]
    extended = 0
    for _ in range(600):
        roll = rng.random()
        if roll < 0.7 or not seq:
            seq = [*seq, rng.choice(reqs)]
        elif roll < 0.85:
            seq = seq[: rng.randrange(len(seq))] or [rng.choice(reqs)]
        else:
            seq = rng.sample(reqs, rng.randint(1, 6))
        before = provider._reads.get("p")
        got = provider._reqs_read("p", seq)
        extended += before is not None and len(before.reqs) == len(seq) - 1
        whole = _NOTHING_READ.extended(provider, seq, 0)
        assert (got.platforms, got.pinned, got.prereleases, got.pin) == (
            whole.platforms,
            whole.pinned,
            whole.prereleases,
            whole.pin,
        )
        assert [(id(s), id(m)) for s, m in got.checks] == [(id(s), id(m)) for s, m in whole.checks]
        assert got.platforms == frozenset().union(*(r.platforms for r in seq))
        assert got.pinned == any(r.pinned for r in seq) and got.prereleases == any(r.prereleases for r in seq)
        assert got.pin == provider._first_pin(seq)
    assert extended > 200  # most reads were taken on from the last one


def test_a_plain_wheel_prefix_is_one_packaging_accepts() -> None:
    """The name-version parts `wheel_priority` takes without parsing (`_PLAIN_WHEEL_PREFIX`) are ones
    packaging's parse accepts; and `_valid_wheel_prefix` is packaging's answer on every part, plain,
    odd or invalid (random parts from pieces of real names and versions, and their neighbours)."""
    from packaging.utils import InvalidWheelFilename
    from packaging.version import InvalidVersion

    from solver.python.target import _PLAIN_WHEEL_PREFIX, _valid_wheel_prefix

    def packaging_accepts(prefix: str) -> bool:
        try:
            parse_wheel_filename(f"{prefix}-py3-none-any.whl")
        except (InvalidWheelFilename, InvalidVersion):
            return False
        return True

    names = ["requests", "oslo.config", "oslo_config", "zope.interface", "A1", "x", "PyYAML", "p__q", "_p",
             "p_", "p.", "é", "p-q", "", "1p", "p..q", "p._q"]  # fmt: skip
    versions = ["1", "1.0", "2.31.0", "0", "01", "1.0.0", "1!2.0", "0!1", "1.0a1", "1.0b2", "1.0rc3", "1.0c1",
                "1.0.post1", "1.0.dev0", "1.0a1.post2.dev3", "1.0-1", "1.0+local", "1.0.post", "v1.0",
                "1.0RC1", "1.0_1", "1.*", "", "1.0.", "1.0-x", "1.0-1x"]  # fmt: skip
    rng = random.Random(3)
    plain = 0
    for _ in range(3000):
        prefix = f"{rng.choice(names)}-{rng.choice(versions)}"
        if rng.random() < 0.1:
            prefix = prefix[: rng.randrange(len(prefix) + 1)]
        expected = packaging_accepts(prefix)
        if _PLAIN_WHEEL_PREFIX.fullmatch(prefix):
            plain += 1
            assert expected, prefix
        assert _valid_wheel_prefix(prefix) == expected, prefix
    assert plain > 500
