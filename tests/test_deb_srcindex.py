"""repos.deb.srcindex: Sources stanzas parsed strictly, located in the binary's own repository first,
a damaged or unlisted Sources file refused; and the `source-packages` spec key."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import pytest

from bundler.build import build_bundle
from bundler.lock import Lock, LockedSource, SourceFileEntry
from bundler.spec import load_spec
from repos.deb.load import load_debian
from repos.deb.sources import AptSource
from repos.deb.srcindex import MissingSource, Need, locate, parse_sources
from repos.errors import IntegrityError, ParseError
from solver.errors import InputError
from tests.support.debrepo import DebRepo
from tests.support.debsrc import DebSources, build_source

SHA = "a" * 64
STANZA = f"""Package: foo
Version: 1:1.0-1
Directory: pool/main/f/foo
Checksums-Sha256:
 {SHA} 10 foo_1.0-1.dsc
 {SHA} 20 foo_1.0.orig.tar.xz
"""


def test_parse_and_filter() -> None:
    data = (STANZA + "\n" + STANZA.replace("foo", "bar")).encode()
    got = parse_sources(data, "S", uri="file:///m", repository="file:///m s main", wanted={"bar"})
    assert [(s.name, s.version, s.directory) for s in got] == [("bar", "1:1.0-1", "pool/main/f/bar")]
    assert got[0].dsc.name == "bar_1.0-1.dsc"
    assert got[0].url(got[0].files[1]) == "file:///m/pool/main/f/bar/bar_1.0.orig.tar.xz"
    assert len(parse_sources(data, "S", uri="u", repository="r")) == 2


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("Directory: pool/main/f/foo", "Directory: ../../etc"), "leaves the repository"),
        ((f" {SHA} 10 foo_1.0-1.dsc\n", ""), "no .dsc"),
        ((f" {SHA} 20 foo_1.0.orig.tar.xz", f" {SHA} 20 ../x"), "malformed checksum line"),
        (("Checksums-Sha256:", "Checksums-Sha1:"), "has no Checksums-Sha256"),
        (("Version: 1:1.0-1\n", ""), "lacks Package, Version or Directory"),
    ],
)
def test_bad_stanzas_are_parse_errors(change: tuple[str, str], fragment: str) -> None:
    data = STANZA.replace(*change).encode()
    with pytest.raises(ParseError, match=fragment) as e:
        parse_sources(data, "http://m/dists/s/main/source/Sources", uri="u", repository="r")
    assert e.value.where is not None and e.value.where.startswith("http://m/dists/s/main/source/Sources")


def _two_suites(tmp: Path) -> DebRepo:
    """The same source version in two suites (as after a point release): the binary's own wins."""
    src = build_source(tmp / "src", "hello", "1.0-1")
    repo = DebRepo(tmp / "mirror")
    repo.add("stable", "main", name="hello", version="1.0-1")
    repo.add("updates", "main", name="hello", version="1.0-1")
    repo.write(compressions=(".gz",))
    s = DebSources(repo)
    s.add("stable", "main", src)
    s.add("updates", "main", src)
    s.write(compressions=(".gz",))
    return repo


def test_located_in_the_binarys_repository_first(tmp_path: Path) -> None:
    repo = _two_suites(tmp_path)
    source = AptSource(repo.root.as_uri(), ("stable", "updates"), ("main",), ("amd64",), trusted=True)
    loaded = load_debian([source], architectures=["amd64"], cache_dir=tmp_path / "cache")
    for suite in ("stable", "updates"):
        want = f"{repo.root.as_uri()} {suite} main"
        [found] = locate(loaded.suites, [Need("hello", "1.0-1", "hello", want)], cache_dir=tmp_path / "cache")
        assert found.repository == want
    with pytest.raises(MissingSource, match=r"source package hello 2.0-1, needed by hello 2.0-1 \(amd64\)"):
        locate(loaded.suites, [Need("hello", "2.0-1", "hello 2.0-1 (amd64)", "x")], cache_dir=tmp_path / "c2")


def test_flat_repository(tmp_path: Path) -> None:
    src = build_source(tmp_path / "src", "hello", "1.0-1")
    repo = DebRepo(tmp_path / "mirror")
    repo.add("x", "main", name="hello", version="1.0-1+b1", source="hello (1.0-1)")
    repo.write_flat("flat/")
    s = DebSources(repo)
    s.add("x", "main", src)
    s.write_flat("flat/")
    source = AptSource(repo.root.as_uri(), ("flat/",), (), ("amd64",), trusted=True)
    loaded = load_debian([source], architectures=["amd64"], cache_dir=tmp_path / "cache")
    [found] = locate(loaded.suites, [Need("hello", "1.0-1", "hello", "")], cache_dir=tmp_path / "cache")
    assert found.repository == f"{repo.root.as_uri()} flat/"
    assert found.url(found.dsc) == f"{repo.root.as_uri()}/pool/main/h/hello/hello_1.0-1.dsc"


def test_a_sources_file_that_differs_from_the_release_is_refused(tmp_path: Path) -> None:
    repo = _two_suites(tmp_path)
    path = repo.root / "dists/stable/main/source/Sources.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()).replace(b"Package: hello", b"Package: hellp")))
    source = AptSource(repo.root.as_uri(), ("stable",), ("main",), ("amd64",), trusted=True)
    loaded = load_debian([source], architectures=["amd64"], cache_dir=tmp_path / "cache")
    with pytest.raises(IntegrityError, match="differs from the Release's"):
        locate(loaded.suites, [Need("hello", "1.0-1", "hello", "")], cache_dir=tmp_path / "cache")


def test_spec_key(tmp_path: Path) -> None:
    spec = tmp_path / "bundle.toml"
    spec.write_text('[debian]\nrequire = ["a"]\nsource-packages = true\n')
    assert load_spec(spec).debian.source_packages is True  # type: ignore[union-attr]
    spec.write_text('[debian]\nrequire = ["a"]\nsource-packages = "yes"\n')
    with pytest.raises(InputError, match="debian.source-packages: must be a bool"):
        load_spec(spec)
    spec.write_text('[debian]\nrequire = ["a"]\nsources-packages = true\n')
    with pytest.raises(InputError, match="debian.sources-packages: unknown key"):
        load_spec(spec)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"name": "../x"}, "bad source name"),
        ({"directory": "../../etc"}, "bad directory"),
        ({"files": (SourceFileEntry("a.tar.xz", 1, SHA),)}, "exactly one .dsc"),
        ({"files": (SourceFileEntry("a.dsc", 1, SHA), SourceFileEntry("../b", 1, SHA))}, "bad file entry"),
    ],
)
def test_build_refuses_bad_source_entries(tmp_path: Path, change: dict[str, object], fragment: str) -> None:
    good = LockedSource("foo", "1.0", "file:///m s main", "pool/main/f/foo", (SourceFileEntry("foo.dsc", 1, SHA),))
    lock = Lock("b", "b", SHA, None, (), (), (), sources=(replace(good, **change),))  # type: ignore[arg-type]
    with pytest.raises(InputError, match=fragment):
        build_bundle(lock, tmp_path / "out")
    assert not (tmp_path / "out").exists()
