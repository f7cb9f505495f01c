"""Units of the Python side: target tags/markers, pip configuration, page parsing, range reads, and the
resolver over an in-memory index (explanations are checked as text)."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from packaging.version import Version

from repos.pypi.archive import RangesRefused, remote_wheel_metadata
from repos.pypi.config import read_pip_config
from repos.pypi.index import local_path
from repos.pypi.simple import parse_html_page, parse_json_page
from solver.errors import InputError, Unsatisfiable
from solver.python import CoreMetadata, DistFile, Release, Target, Veto, Wanted, resolve
from solver.python.target import platform_tags


# ---- target ----------------------------------------------------------------------------------
def test_manylinux_follows_pip_platform_semantics() -> None:
    tags = platform_tags("manylinux_2_28_x86_64")
    assert tags[0] == "manylinux_2_28_x86_64"
    for t in ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"):
        assert t in tags
    assert "linux_x86_64" not in tags and "manylinux_2_31_x86_64" not in tags
    assert platform_tags("manylinux_2_28_aarch64")[-1] == "manylinux2014_aarch64"


def test_wheel_priorities_and_markers() -> None:
    t = Target("3.11", ("manylinux_2_28_x86_64", "win_amd64", "macosx_11_0_arm64"))
    linux, win, mac = t.per_platform
    assert (
        linux.wheel_priority("a-1-cp311-cp311-manylinux_2_28_x86_64.whl")
        < linux.wheel_priority("a-1-cp38-abi3-manylinux2014_x86_64.whl")
        < linux.wheel_priority("a-1-py3-none-any.whl")
    )
    assert linux.wheel_priority("a-1-cp312-cp312-manylinux_2_17_x86_64.whl") is None
    assert linux.wheel_priority("a-1-cp311-cp311-linux_x86_64.whl") is None
    assert win.wheel_priority("a-1-cp311-cp311-win_amd64.whl") is not None
    assert mac.wheel_priority("a-1-cp311-cp311-macosx_10_9_universal2.whl") is not None
    assert (
        linux.environment["sys_platform"],
        win.environment["sys_platform"],
        mac.environment["sys_platform"],
    ) == (
        "linux",
        "win32",
        "darwin",
    )
    assert linux.environment["python_full_version"] == "3.11.0"
    with pytest.raises(InputError):
        Target("eleven", ("manylinux_2_28_x86_64",))


# ---- pip configuration -------------------------------------------------------------------------
def test_pip_config_files_sections_and_environment(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "pip").mkdir(parents=True)
    (xdg / "pip" / "pip.conf").write_text("[global]\nindex-url = https://global.invalid/simple\n")
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text(
        "[global]\nextra-index-url =\n  file:///a/simple\n  file:///b/simple\nfind-links = /w1\n"
        "[install]\nindex_url = https://install.invalid/simple\n"
    )
    env = {"HOME": str(home), "XDG_CONFIG_DIRS": str(xdg)}
    cfg = read_pip_config(env, home)
    assert cfg.index_url == "https://install.invalid/simple"
    assert cfg.extra_index_urls == ("file:///a/simple", "file:///b/simple")
    assert cfg.find_links == ("/w1",)
    assert cfg.indexes() == ("https://install.invalid/simple", "file:///a/simple", "file:///b/simple")
    extra = tmp_path / "extra.conf"
    extra.write_text("[global]\nfind-links = /w2\n")
    cfg = read_pip_config({**env, "PIP_CONFIG_FILE": str(extra), "PIP_EXTRA_INDEX_URL": "file:///c"}, home)
    assert cfg.find_links == ("/w2",) and cfg.extra_index_urls == ("file:///c",)
    cfg = read_pip_config({**env, "PIP_CONFIG_FILE": "/dev/null"}, home)
    assert cfg.index_url is None and cfg.files == ()
    default = cfg.indexes()[0]  # pip's own default, whatever it is
    assert default.startswith("https://") and default.endswith("/simple")


# ---- pages ---------------------------------------------------------------------------------------
def test_parse_json_and_html_pages() -> None:
    sha = "a" * 64
    doc = (
        '{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"x-1.0-py3-none-any.whl",'
        '"url":"../../f/x-1.0-py3-none-any.whl","hashes":{"sha256":"' + sha + '"},'
        '"requires-python":">=3.8","yanked":"bad","core-metadata":{"sha256":"' + sha + '"},"size":5}]}'
    )
    (f,) = parse_json_page(doc.encode(), "https://i.invalid/simple/x/", "https://i.invalid/simple/")
    assert (f.url, f.sha256, f.requires_python, f.yanked, f.core_metadata, f.size) == (
        "https://i.invalid/f/x-1.0-py3-none-any.whl",
        sha,
        ">=3.8",
        "bad",
        sha,
        5,
    )
    page = (
        f'<a href="/f/x-1.0.tar.gz#sha256={sha}" data-requires-python="&gt;=3.8" data-yanked="">x</a>'
        f'<a href="x-1.0-py3-none-any.whl" data-dist-info-metadata="true">x</a>'
    )
    a, b = parse_html_page(page.encode(), "https://i.invalid/simple/x/", "i")
    assert (a.url, a.sha256, a.requires_python, a.yanked, a.core_metadata) == (
        "https://i.invalid/f/x-1.0.tar.gz",
        sha,
        ">=3.8",
        "",
        None,
    )
    assert (b.url, b.sha256, b.yanked, b.core_metadata) == (
        "https://i.invalid/simple/x/x-1.0-py3-none-any.whl",
        "",
        None,
        "",
    )
    with pytest.raises(InputError, match="api-version|unsupported"):
        parse_json_page(b'{"meta":{"api-version":"2.0"},"files":[]}', "u", "i")
    with pytest.raises(InputError, match="no 'files'"):
        parse_json_page(b'{"meta":{}}', "u", "i")


# ---- range reads -----------------------------------------------------------------------------------
def _wheel(extra_members: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: x\nVersion: 1.0\n")
        for i in range(extra_members):
            z.writestr(f"x/mod{i}.py", random.Random(i).randbytes(4096))
        z.writestr("x-1.0.dist-info/RECORD", "")
    return buf.getvalue()


@pytest.mark.parametrize("members,tail", [(0, 65536), (300, 1024), (300, 100), (300, 65536)])
def test_remote_wheel_metadata_by_ranges(members: int, tail: int) -> None:
    data = _wheel(members)
    calls = []

    def read(start: int | None, end: int) -> tuple[bytes, int, int]:
        calls.append((start, end))
        if start is None:
            s = max(0, len(data) - end)
            return data[s:], s, len(data)
        return data[start : end + 1], start, len(data)

    meta, total = remote_wheel_metadata(read, "w", tail=tail)
    assert meta.startswith(b"Metadata-Version: 2.1") and total == len(data)
    fetched = sum((len(data) - max(0, len(data) - e)) if s is None else e - s + 1 for s, e in calls)
    if members:
        assert fetched < len(data) / 10


def test_ranges_refused_propagates() -> None:
    def read(start: int | None, end: int) -> tuple[bytes, int, int]:
        raise RangesRefused(b"whole")

    with pytest.raises(RangesRefused):
        remote_wheel_metadata(read, "w")


# ---- the resolver over an in-memory index -------------------------------------------------------------
class MemIndex:
    """name -> version -> (requires_dist, requires_python, filenames)."""

    def __init__(self, universe: dict[str, dict[str, tuple[list[str], str | None, list[str]]]]) -> None:
        self.u = universe
        self.prefetched: list[str] = []

    def list_releases(self, name: str) -> Sequence[Release]:
        out = []
        for v, (_deps, _rp, files) in self.u.get(name, {}).items():
            fs = tuple(DistFile(f, f"mem://{f}", "", 1, None, None, "", "mem") for f in files)
            out.append(Release(name, Version(v), fs))
        return out

    def get_metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        deps, rp, _ = self.u[release.name][str(release.version)]
        return CoreMetadata(release.name, str(release.version), "2.1", tuple(deps), rp, ())

    def prefetch(self, names: Iterable[str], on_page=None, **kw) -> None:  # type: ignore[no-untyped-def]
        for n in names:
            self.prefetched.append(n)
            if on_page:
                on_page(n, self.list_releases(n))

    def prefetch_metadata(self, items, on_metadata=None, **kw) -> None:  # type: ignore[no-untyped-def]
        for rel, f in items:
            if on_metadata:
                on_metadata(rel, f, self.get_metadata(rel, f))


def W(name: str, v: str, deps: list[str] | None = None, rp: str | None = None, tag: str = "py3-none-any"):
    return v, (deps or [], rp, [f"{name}-{v}-{tag}.whl"])


def uni(*entries: tuple[str, tuple[str, tuple[list[str], str | None, list[str]]]]):
    out: dict[str, dict[str, tuple[list[str], str | None, list[str]]]] = {}
    for name, (v, data) in entries:
        out.setdefault(name, {})[v] = data
    return out


LINUX = Target("3.11", ("manylinux_2_28_x86_64",))


class RecordingIndex(MemIndex):
    """A MemIndex that records each batch of metadata fetched ahead: (priority, a label per release)."""

    def __init__(self, universe, label) -> None:  # type: ignore[no-untyped-def]
        super().__init__(universe)
        self.label = label
        self.batches: list[tuple[int, list[str]]] = []

    def prefetch_metadata(self, items, on_metadata=None, **kw) -> None:  # type: ignore[no-untyped-def]
        items = list(items)
        self.batches.append((kw.get("priority", 99), [self.label(r) for r, _f in items]))
        super().prefetch_metadata(items, on_metadata)


def pins(index: MemIndex, reqs: list[str], **kw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = resolve(index, kw.pop("target", LINUX), [Wanted(t) for t in reqs], **kw)
    return {k: p.version for k, p in r.pins.items()}


def test_backtracking_extras_and_prereleases() -> None:
    idx = MemIndex(
        uni(
            ("a", W("a", "2.0", ["b<2", "c>=2"])),
            ("a", W("a", "1.0", ["b<2"])),
            ("b", W("b", "1.5", ["d[x]"])),
            ("b", W("b", "2.0")),
            ("c", W("c", "1.0")),
            ("d", W("d", "1.0", ["e; extra == 'x'", "f; extra == 'y'"])),
            ("e", W("e", "1.0")),
            ("e", W("e", "2.0b1")),
            ("f", W("f", "1.0")),
        )
    )
    assert pins(idx, ["a"]) == {"a": "1.0", "b": "1.5", "d": "1.0", "e": "1.0"}
    assert pins(idx, ["a", "e>=2.0b1"]) == {"a": "1.0", "b": "1.5", "d": "1.0", "e": "2.0b1"}
    assert "b" in idx.prefetched and "d" in idx.prefetched


def test_explanations_read_like_pubgrub() -> None:
    idx = MemIndex(
        uni(
            ("a", W("a", "1.0", ["b>=2"])),
            ("b", W("b", "1.0")),
            ("b", W("b", "2.0")),
            ("c", W("c", "1.0", ["b<2"])),
            ("p", W("p", "1.0", rp=">=3.12")),
        )
    )
    with pytest.raises(Unsatisfiable) as e:
        pins(idx, ["a", "c"])
    assert e.value.explanation == (
        "Because a 1.0 depends on b>=2,\n  and c 1.0 depends on b<2,\na 1.0 and c 1.0 cannot be used together.\n"
        "And because you require a,\n  and you require c,\nno solution exists."
    )
    with pytest.raises(Unsatisfiable) as e:
        pins(idx, ["a"], vetoes=[Veto("b", ">=2", "CVE-1")])
    assert e.value.explanation == (
        "Because a 1.0 depends on b>=2,\n  and b>=2 is vetoed (CVE-1),\na 1.0 cannot be used.\n"
        "And because you require a,\nno solution exists."
    )
    with pytest.raises(Unsatisfiable) as e:
        pins(idx, ["p"])
    assert e.value.explanation == (
        "Because p 1.0 requires Python >=3.12,\n  and the target is Python 3.11,\np 1.0 cannot be used.\n"
        "And because you require p,\nno solution exists."
    )
    with pytest.raises(Unsatisfiable) as e:
        pins(idx, ["zzz"])
    assert e.value.explanation == "Because you require zzz,\n  and no index offers zzz,\nno solution exists."
    with pytest.raises(Unsatisfiable) as e:
        pins(idx, ["a"], fixes=[Wanted("b==1.0")])
    assert e.value.explanation.startswith("Because the fix b==1.0 pins b to 1.0,\n  and a 1.0 depends on b>=2")
    with pytest.raises(InputError, match="a fix must pin"):
        pins(idx, ["a"], fixes=[Wanted("b>=1")])


def test_constraints_only_apply_when_present_and_preferred_versions() -> None:
    idx = MemIndex(uni(("a", W("a", "1.0")), ("a", W("a", "2.0")), ("z", W("z", "1.0"))))
    assert pins(idx, ["a"], constraints=[Wanted("a<2"), Wanted("z==9")]) == {"a": "1.0"}
    assert pins(idx, ["a"], preferred={"a": "1.0"}) == {"a": "1.0"}
    assert pins(idx, ["a"], preferred={"a": "7.0"}) == {"a": "2.0"}


def test_one_version_serves_every_platform() -> None:
    t = Target("3.11", ("manylinux_2_28_x86_64", "win_amd64"))
    idx = MemIndex(
        {
            "n": {
                "2.0": ([], None, ["n-2.0-cp311-cp311-manylinux_2_17_x86_64.whl"]),
                "1.0": (
                    [],
                    None,
                    ["n-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "n-1.0-cp311-cp311-win_amd64.whl"],
                ),
            },
            "w": {"1.0": (["n; sys_platform == 'win32'"], None, ["w-1.0-py3-none-any.whl"])},
        }
    )
    assert pins(idx, ["n"], target=t) == {"n": "1.0"}
    r = resolve(idx, t, [Wanted("w")])  # n is needed on Windows only: 1.0 is the newest with a Windows wheel
    assert (r.pins["n"].version, r.pins["n"].platforms) == ("1.0", frozenset({"win_amd64"}))
    with pytest.raises(Unsatisfiable, match="n 2.0 has no file installable on win_amd64"):
        pins(idx, ["w", "n>=2; sys_platform == 'linux'"], target=t)


# ---- fetching machinery: priority pool, name lookups, backtracking prefetch ------
def test_pool_runs_by_priority_and_caller_takes_queued_tasks() -> None:
    import threading

    from repos.pypi.pool import PriorityPool

    pool = PriorityPool(1, "t")
    gate = threading.Event()
    order: list[str] = []
    blocker = pool.submit(gate.wait, priority=0)  # occupies the only worker
    late = pool.submit(order.append, "speculative", priority=5)
    soon = pool.submit(order.append, "ahead", priority=1)
    mine = pool.submit(lambda: threading.current_thread().name, priority=9)
    assert pool.wait(mine) == threading.current_thread().name  # queued: run by the caller
    pool.promote(late, 0)  # now ahead of "ahead"
    gate.set()
    for t in (blocker, soon, late):
        t.future.result(timeout=10)  # not pool.wait: that would run a queued task here
    assert order == ["speculative", "ahead"]
    pool.shutdown()
    idle = PriorityPool(0, "offline")  # no workers: tasks run only when waited for
    task = idle.submit(lambda: 42)
    assert idle.queued() == 1 and idle.wait(task) == 42
    idle.shutdown()


def test_resolver_looks_each_host_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import threading

    from repos.http import Resolver

    calls: list[str] = []

    def fake(host: str, port: int, *a: object, **k: object) -> list[tuple[object, ...]]:
        calls.append(host)
        if len(calls) == 1:
            raise socket.gaierror(-3, "Temporary failure in name resolution")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    r = Resolver()
    threads = [threading.Thread(target=r.addresses, args=("index.invalid", 443)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert r.addresses("index.invalid", 443) == ["127.0.0.1"]
    assert calls == ["index.invalid", "index.invalid"]  # one failure retried, then cached


def test_backtracking_prefetches_the_next_versions_in_batches() -> None:
    from solver.python.model import AHEAD

    # every p newer than 1.0 needs a q that does not exist: resolvelib walks down p's releases
    entries = [("p", W("p", f"{v}.0", ["q>=9"])) for v in range(20, 1, -1)]
    idx = RecordingIndex(
        uni(("root", W("root", "1.0", ["p"])), *entries, ("p", W("p", "1.0")), ("q", W("q", "1.0"))),
        label=lambda r: str(r.version),
    )
    assert pins(idx, ["root"]) == {"root": "1.0", "p": "1.0"}
    ahead = [vs for prio, vs in idx.batches if prio == AHEAD and vs and vs[0] != "1.0"]
    walked = [v for vs in ahead for v in vs]
    assert max(len(vs) for vs in ahead) >= 8, ahead  # batches, not one version at a time
    assert walked.index("10.0") < walked.index("5.0")  # newest first, ahead of the walk
    assert len(ahead) < 10


def test_a_name_asked_again_under_its_pin_prefetches_no_batch() -> None:
    """resolvelib asks for a pinned name's candidates again when another requirement on it comes in;
    that walks nothing, so no batch of older releases' metadata is fetched (only backtracking does)."""
    from solver.python.model import AHEAD

    # c is pinned (before d: same preference, then by name), then d's requirement on c comes in
    cs = [("c", W("c", f"{v}.0")) for v in range(20, 0, -1)]
    idx = RecordingIndex(
        uni(
            ("root", W("root", "1.0", ["a"])),
            ("a", W("a", "1.0", ["c>=1", "d"])),
            ("d", W("d", "1.0", ["c>=1.5"])),
            *cs,
        ),
        label=lambda r: f"{r.name} {r.version}",
    )
    assert pins(idx, ["root"]) == {"root": "1.0", "a": "1.0", "c": "20.0", "d": "1.0"}
    batches = [vs for prio, vs in idx.batches if prio == AHEAD]
    assert all(len(vs) == 1 for vs in batches), batches


def test_local_path_unquotes_a_file_url_once(tmp_path: Path) -> None:
    path = tmp_path / "wheels a%41"  # "%41" is no escape here: the URL spells it "%2541"
    assert local_path(path.as_uri()) == path
    assert local_path(str(path)) == path
