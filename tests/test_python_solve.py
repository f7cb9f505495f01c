"""End to end: `solve_python` over real wheels/sdists served as JSON, HTML, file:// and find-links."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from bundler.python_solve import solve_python
from bundler.spec import PythonSpec, Veto
from solver.errors import InputError, Unsatisfiable
from tests.support.http import serve_directory
from tests.support.pyindex import Dist, check_solution, make_find_links, make_repo

PY = "3.11"
LINUX = "manylinux_2_28_x86_64"
LINUX_TAGS = [f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
]
WIN = "win_amd64"

UNIVERSE = [
    Dist(
        "app",
        "1.0",
        ["lib>=1.0", "helper[fast]>=2; python_version >= '3.8'", "winonly; sys_platform == 'win32'"],
    ),
    Dist("lib", "1.0"),
    Dist("lib", "1.1"),
    Dist("lib", "1.2", yanked="broken build"),
    Dist("lib", "2.0", requires_python=">=3.12"),
    Dist("helper", "2.0", ["speedup; extra == 'fast'"], provides_extra=["fast"]),
    Dist("speedup", "1.0", sdist=True),
    Dist("native", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"),
    Dist("native", "1.0", tag="cp311-cp311-win_amd64"),
    Dist("native", "2.0", tag="cp311-cp311-manylinux_2_31_x86_64"),
    Dist("dynsdist", "0.9"),
    Dist("dynsdist", "1.0", sdist=True, dynamic=["Requires-Dist"]),
    Dist("winonly", "1.0"),
    Dist("abi", "1.0", tag="cp38-abi3-manylinux1_x86_64"),
]
REQUIRE = ("app", "native", "dynsdist", "abi")


def spec(tmp: Path, **kw: object) -> PythonSpec:
    base = dict(
        indexes=(),
        find_links=(),
        python_version=PY,
        platforms=(LINUX,),
        require=REQUIRE,
        requirements_file=None,
        constraints=(),
        constraints_file=None,
        fix=(),
        veto=(),
        base_dir=tmp,
    )
    base.update(kw)
    return PythonSpec(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory):
    return make_repo(tmp_path_factory.mktemp("repo"), UNIVERSE)


def versions(sol) -> dict[str, str]:
    return {p.name: p.version for p in sol.packages}


def check(sol, repo, requires=REQUIRE, platforms=None, **kw) -> None:
    check_solution(
        sol.packages,
        requires,
        python_version=PY,
        platforms=platforms or {LINUX: LINUX_TAGS},
        file_dirs=[repo.files],
        **kw,
    )


EXPECTED = {
    "abi": "1.0",
    "app": "1.0",
    "dynsdist": "0.9",
    "helper": "2.0",
    "lib": "1.1",
    "native": "1.0",
    "speedup": "1.0",
}


def test_json_index_over_http(repo, tmp_path: Path) -> None:
    with serve_directory(repo.root) as server:
        sol = solve_python(spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c")
        pages = [r for r in server.requests if r.path.startswith("/simple/")]
    assert versions(sol) == EXPECTED
    check(sol, repo)
    assert pages and all("application/vnd.pypi.simple.v1+json" in r.headers.get("Accept", "") for r in pages)
    assert not any(r.path.endswith(".whl") for r in server.requests), "PEP 658 metadata should suffice"
    assert any("dynsdist-1.0.tar.gz" in n and "not static" in n for n in sol.notes)
    assert sol.roots == ["python:abi", "python:app", "python:dynsdist", "python:native"]
    app = next(p for p in sol.packages if p.name == "app")
    assert app.depends == ("python:helper", "python:lib")
    helper = next(p for p in sol.packages if p.name == "helper")
    assert helper.depends == ("python:speedup",)
    assert all(p.url.startswith(server.url) and p.platform == "" for p in sol.packages)
    assert {d.url for d in sol.indexes} == {f"{server.url}/simple/{n}/" for n in EXPECTED}


def test_html_index_over_http(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", UNIVERSE, json_pages=False)
    with serve_directory(repo.root) as server:
        sol = solve_python(spec(tmp_path, indexes=(server.url + "/simple",)), cache_dir=tmp_path / "c")
    assert versions(sol) == EXPECTED
    check(sol, repo)


def test_file_index_and_find_links(repo, tmp_path: Path) -> None:
    sol = solve_python(spec(tmp_path, indexes=(repo.simple.as_uri(),)), cache_dir=tmp_path / "c")
    assert versions(sol) == EXPECTED
    check(sol, repo)
    links = make_find_links(tmp_path / "links", UNIVERSE)
    sol = solve_python(spec(tmp_path, find_links=("links",)), cache_dir=tmp_path / "c2")
    assert versions(sol) == {**EXPECTED, "lib": "1.2"}  # a directory cannot mark a yank
    check_solution(sol.packages, REQUIRE, python_version=PY, platforms={LINUX: LINUX_TAGS}, file_dirs=[links])


def test_a_warm_solve_over_local_files_reads_none_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parsed metadata of a local file (a file:// index, a find-links directory) is kept under
    the file's size and mtime (and the sha256 its index gives): a warm solve opens no wheel or sdist,
    and a file that changed is read again, and checked against its index's sha256."""
    from repos.pypi.index import PypiIndex

    repo = make_repo(tmp_path / "r", UNIVERSE, metadata_files=False)
    links = make_find_links(tmp_path / "links", UNIVERSE)
    index_spec = spec(tmp_path, indexes=(repo.simple.as_uri(),))
    links_spec = spec(tmp_path, find_links=("links",))
    cold = [solve_python(s, cache_dir=tmp_path / "c") for s in (index_spec, links_spec)]
    read = PypiIndex._local_metadata

    def no_read(self: PypiIndex, file: object) -> bytes:
        raise AssertionError(f"read again: {file}")

    monkeypatch.setattr(PypiIndex, "_local_metadata", no_read)
    warm = [solve_python(s, cache_dir=tmp_path / "c", offline=True) for s in (index_spec, links_spec)]
    assert [w.packages for w in warm] == [c.packages for c in cold]
    monkeypatch.setattr(PypiIndex, "_local_metadata", read)
    # lib 1.1 rebuilt with other contents: the file:// index's sha256 no longer holds
    name = "lib-1.1-py3-none-any.whl"
    (repo.files / name).write_bytes((links / name).read_bytes() + b"changed")
    with pytest.raises(InputError, match=rf"{name}.*sha256 mismatch"):
        solve_python(index_spec, cache_dir=tmp_path / "c", offline=True)


def test_missing_file_index_is_a_note(repo, tmp_path: Path) -> None:
    missing = (tmp_path / "nowhere" / "simple").as_uri()
    sol = solve_python(spec(tmp_path, indexes=(missing, repo.simple.as_uri())), cache_dir=tmp_path / "c")
    assert versions(sol) == EXPECTED
    assert any("does not exist" in n for n in sol.notes)


def test_wheel_metadata_read_by_ranges(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", UNIVERSE, metadata_files=False)
    with serve_directory(repo.root) as server:
        sol = solve_python(spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c")
        wheel_gets = [r for r in server.requests if r.path.endswith(".whl")]
        assert wheel_gets and all(r.headers.get("Range", "").startswith("bytes=") for r in wheel_gets)
        assert not any(r.path.endswith(".metadata") for r in server.requests)  # none is advertised
        before = len(server.requests)
        warm = solve_python(
            spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c", offline=True
        )
        assert len(server.requests) == before, "a warm offline run must make no request"
    assert versions(sol) == versions(warm) == EXPECTED
    assert sol.packages == warm.packages and sol.indexes == warm.indexes
    check(sol, repo)


def test_unadvertised_metadata_files_are_not_guessed(tmp_path: Path) -> None:
    """A mirror that drops PEP 658's key while its file host still has the `.metadata` files: they are
    not asked for (a guess that misses is a round trip on the resolver's path); METADATA is read by
    ranges, as pip and uv read it."""
    repo = make_repo(tmp_path / "r", UNIVERSE, advertise_metadata=False)
    assert any(p.name.endswith(".whl.metadata") for p in repo.files.iterdir())
    with serve_directory(repo.root) as server:
        sol = solve_python(spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c")
        assert not any(r.path.endswith(".metadata") for r in server.requests)
        ranged = [r for r in server.requests if r.path.endswith(".whl")]
        assert ranged and all(r.headers.get("Range", "").startswith("bytes=") for r in ranged)
    assert versions(sol) == EXPECTED
    check(sol, repo)


def test_whole_wheel_when_ranges_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", UNIVERSE, metadata_files=False)
    with serve_directory(repo.root, allow_ranges=False) as server:
        sol = solve_python(spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c")
    assert versions(sol) == EXPECTED
    check(sol, repo)


def test_offline_cold_cache_is_an_input_error(repo, tmp_path: Path) -> None:
    with serve_directory(repo.root) as server:
        with pytest.raises(InputError, match="cache"):
            solve_python(
                spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c", offline=True
            )
        assert server.requests == []


def test_bad_metadata_hash(tmp_path: Path) -> None:
    name = "lib-1.1-py3-none-any.whl"
    repo = make_repo(tmp_path / "r", UNIVERSE, tamper_metadata=[name])
    with serve_directory(repo.root) as server:
        with pytest.raises(InputError, match=rf"{name}\.metadata.*sha256 mismatch"):
            solve_python(spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c")


def test_bad_file_hash_on_whole_download(tmp_path: Path) -> None:
    name = "lib-1.1-py3-none-any.whl"
    repo = make_repo(tmp_path / "r", UNIVERSE, metadata_files=False, tamper_hash=[name])
    with serve_directory(repo.root, allow_ranges=False) as server:
        with pytest.raises(InputError, match=rf"{name}.*sha256 mismatch"):
            solve_python(spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c")


def test_malformed_pages(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", UNIVERSE)
    (repo.simple / "lib" / "index.json").write_text("{not json")
    with serve_directory(repo.root) as server:
        with pytest.raises(InputError, match=r"/simple/lib/.*malformed PEP 691"):
            solve_python(spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c")
    (repo.simple / "lib" / "index.json").unlink()
    (repo.simple / "lib" / "index.html").write_text('<a href="../../files/x.whl#sha256=nothex">x</a>')
    with serve_directory(repo.root) as server:
        with pytest.raises(InputError, match=r"/simple/lib/.*malformed sha256"):
            solve_python(spec(tmp_path, indexes=(server.url + "/simple/",)), cache_dir=tmp_path / "c2")


@pytest.mark.parametrize("bad", ["app >=", "lib[", "lib @ "])
def test_bad_requirement_strings(repo, tmp_path: Path, bad: str) -> None:
    with pytest.raises(InputError, match="bad requirement"):
        solve_python(
            spec(tmp_path, indexes=(repo.simple.as_uri(),), require=(bad,)), cache_dir=tmp_path / "c"
        )


def test_veto_on_needed_release(repo, tmp_path: Path) -> None:
    s = spec(tmp_path, indexes=(repo.simple.as_uri(),), veto=(Veto("lib", ">=1.0", "CVE-2024-0001"),))
    with pytest.raises(Unsatisfiable) as e:
        solve_python(s, cache_dir=tmp_path / "c")
    text = e.value.explanation
    assert text == (
        "Because app 1.0 depends on lib>=1.0,\n  and lib>=1.0 is vetoed (CVE-2024-0001),\napp 1.0 cannot be used.\n"
        "And because you require app,\nno solution exists."
    )


def test_veto_that_moves_a_version(repo, tmp_path: Path) -> None:
    s = spec(tmp_path, indexes=(repo.simple.as_uri(),), veto=(Veto("lib", "==1.1", "CVE-2024-0002"),))
    sol = solve_python(s, cache_dir=tmp_path / "c")
    assert versions(sol)["lib"] == "1.0"
    assert sol.vetoes_hit == ["lib==1.1: CVE-2024-0002"]
    check(sol, repo, vetoes=[("lib", "==1.1")])


def test_fix_conflicting_with_requirement(repo, tmp_path: Path) -> None:
    s = spec(tmp_path, indexes=(repo.simple.as_uri(),), require=("app", "lib<1.1"), fix=("lib==1.1",))
    with pytest.raises(Unsatisfiable) as e:
        solve_python(s, cache_dir=tmp_path / "c")
    assert "the fix lib==1.1" in e.value.explanation and "lib<1.1" in e.value.explanation


def test_requires_python_excludes_all(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        [Dist("new", "1.0", requires_python=">=3.12"), Dist("new", "2.0", requires_python=">=3.13")],
    )
    with pytest.raises(Unsatisfiable) as e:
        solve_python(
            spec(tmp_path, indexes=(repo.simple.as_uri(),), require=("new",)), cache_dir=tmp_path / "c"
        )
    text = e.value.explanation
    assert text.startswith("Because you require new,\n  and new 2.0 requires Python >=3.13")
    assert "new 1.0 requires Python >=3.12 (the target is Python 3.11)" in text


def test_fix_changes_and_fixed_flag(repo, tmp_path: Path) -> None:
    sol = solve_python(
        spec(tmp_path, indexes=(repo.simple.as_uri(),), fix=("lib==1.0",)), cache_dir=tmp_path / "c"
    )
    assert versions(sol)["lib"] == "1.0"
    assert sol.fix_changes == {"lib==1.0": [("lib", "1.1", "1.0")]}
    assert sol.fix_chosen == {"lib==1.0": "lib 1.0"}
    assert [p.name for p in sol.packages if p.fixed] == ["lib"]
    check(sol, repo)


def test_yanked_only_when_pinned(repo, tmp_path: Path) -> None:
    sol = solve_python(
        spec(tmp_path, indexes=(repo.simple.as_uri(),), require=("lib==1.2",)), cache_dir=tmp_path / "c"
    )
    assert versions(sol) == {"lib": "1.2"}
    with pytest.raises(Unsatisfiable, match="lib 1.2 is yanked"):
        solve_python(
            spec(tmp_path, indexes=(repo.simple.as_uri(),), require=("lib>1.1",)), cache_dir=tmp_path / "c"
        )


def test_constraints_preferred_and_requirements_files(repo, tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "main.txt").write_text(
        "# the app\napp \\\n  >=1.0  # trailing comment\n-r more.txt\n-c cons.txt\n"
    )
    (tmp_path / "reqs" / "more.txt").write_text("native --hash=sha256:abc\n")
    (tmp_path / "reqs" / "cons.txt").write_text("lib<1.1\nnotpresent==1.0\n")
    s = spec(tmp_path, indexes=(repo.simple.as_uri(),), require=(), requirements_file="reqs/main.txt")
    sol = solve_python(s, cache_dir=tmp_path / "c")
    assert versions(sol) == {"app": "1.0", "helper": "2.0", "lib": "1.0", "native": "1.0", "speedup": "1.0"}
    check(sol, repo, requires=("app", "native"), constraints=["lib<1.1"])
    s = dataclasses.replace(s, requirements_file=None, require=("app",), constraints=("helper<=2.0",))
    sol = solve_python(s, cache_dir=tmp_path / "c", preferred={"lib": "1.0"})
    assert versions(sol)["lib"] == "1.0"
    (tmp_path / "bad.txt").write_text("app\nlib >=\n")
    with pytest.raises(InputError, match=r"bad\.txt:2"):
        solve_python(dataclasses.replace(s, requirements_file="bad.txt"), cache_dir=tmp_path / "c")


def test_several_platforms(repo, tmp_path: Path) -> None:
    s = spec(tmp_path, indexes=(repo.simple.as_uri(),), platforms=(LINUX, WIN), require=("app", "native"))
    sol = solve_python(s, cache_dir=tmp_path / "c")
    by = {(p.name, p.platform): p.filename for p in sol.packages}
    assert by[("native", LINUX)].endswith("manylinux2014_x86_64.whl")
    assert by[("native", WIN)].endswith("win_amd64.whl")
    assert by[("winonly", WIN)] == "winonly-1.0-py3-none-any.whl"
    assert ("lib", "") in by
    check(sol, repo, requires=("app", "native"), platforms={LINUX: LINUX_TAGS, WIN: ["win_amd64"]})
    # native 2.0 has no Windows wheel and no wheel for glibc 2.28: one version must serve both
    with pytest.raises(Unsatisfiable, match="native 2.0 has no file installable on"):
        solve_python(dataclasses.replace(s, require=("native>=2",)), cache_dir=tmp_path / "c")


def test_an_https_index_is_trusted_through_pips_cert(
    repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index over HTTPS whose certificate a private authority signed, trusted through pip's `cert`
    (PIP_CERT). The CA bundle is loaded once, early, on a thread of its own (bundler/pipeline.py
    bundler/earlyhttp.py), and the index's clients use that context; without the bundle the server's
    certificate is refused."""
    import threading

    import repos.http
    from bundler import earlyhttp
    from tests.support.tls import make_certificates

    certs = make_certificates(tmp_path / "tls")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # the host's pip.conf is not this test's
    for var in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX", "SSL_CERT_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_CERT", str(certs.ca))
    with serve_directory(repo.root, tls=certs.server) as server:
        monkeypatch.setenv("PIP_INDEX_URL", server.url + "/simple/")
        s = spec(tmp_path, indexes=None)
        earlyhttp.start(s)
        for t in threading.enumerate():
            if t.name == "http-early":
                t.join()
        made = [ctx for key, ctx in repos.http._TLS.items() if key[0] == str(certs.ca)]
        assert len(made) == 1, "the early load made the context"
        sol = solve_python(s, cache_dir=tmp_path / "c")
        assert [ctx for key, ctx in repos.http._TLS.items() if key[0] == str(certs.ca)] == made
        assert any(r.path.startswith("/simple/") for r in server.requests)
        monkeypatch.delenv("PIP_CERT")
        # one line naming the page and why
        refused = r"https://localhost:\d+/simple/\w+/: cannot fetch: \[SSL: CERTIFICATE_VERIFY_FAILED\]"
        with pytest.raises(InputError, match=refused):
            solve_python(s, cache_dir=tmp_path / "c2")
    assert versions(sol) == EXPECTED
    check(sol, repo)
