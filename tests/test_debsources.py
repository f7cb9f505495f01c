"""Debian source packages (the GPL's "complete corresponding source"): located in a signed repository's
Sources indexes at solve time, locked, shipped in the bundle with its own Sources index, and usable by
the real `apt-get source` and `dpkg-source -x` from the bundle alone; `bundler verify` checks them."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from bundler.build import build_bundle
from bundler.cli import main
from bundler.lock import dumps, loads, parse_own_toml, read_lock
from bundler.verify import verify_bundle
from tests.support.apt import IsolatedApt
from tests.support.debrepo import DebRepo, GpgKey
from tests.support.debsrc import DebSources, build_source
from tests.support.locks import OldKey

SPEC = """
[bundle]
name = "srcdemo"
epoch = 1700000000
[debian]
require = {require}
{extra}
[[debian.sources]]
uri = "{uri}"
suites = ["bookworm"]
components = ["main"]
architectures = ["amd64"]
signed-by = "{keyring}"
"""


@pytest.fixture(scope="module")
def key() -> GpgKey:
    k = GpgKey.generate()
    yield k  # type: ignore[misc]
    k.close()


def make_upstream(root: Path, key: GpgKey, *, tamper_orig: bool = False, orphan: bool = False) -> DebRepo:
    """hello 1.0-1 (3.0 quilt) builds hello (binNMU'd: 1.0-1+b1) and libhello1; greet-data 1:2.0 is
    3.0 (native) and Architecture: all. With `orphan`, a binary whose source is in no Sources index."""
    hello = build_source(root / "src", "hello", "1.0-1", binaries=["hello", "libhello1"])
    greet = build_source(root / "src", "greet-data", "1:2.0", arch="all")
    if tamper_orig:  # the Sources index will list this file as it is now; the .dsc does not
        orig = next(p for p in hello.files if p.name.endswith(".orig.tar.gz"))
        orig.write_bytes(orig.read_bytes() + b"\0")
    repo = DebRepo(root / "mirror")
    repo.add("bookworm", "main", name="hello", version="1.0-1+b1", source="hello (1.0-1)", depends="libhello1")
    repo.add("bookworm", "main", name="libhello1", version="1.0-1", source="hello")
    repo.add("bookworm", "main", name="greet-data", version="1:2.0", arch="all")
    if orphan:
        repo.add("bookworm", "main", name="orphan", version="0.9+b2", source="orphan-src (0.9)")
    repo.write(compressions=(".xz", ".gz"), sign_with=key)
    sources = DebSources(repo)
    sources.add("bookworm", "main", hello)
    sources.add("bookworm", "main", greet)
    sources.write(sign_with=key, compressions=(".xz",))
    return repo


def write_spec(tmp: Path, repo: DebRepo, key: GpgKey, *, require: str = '["hello", "greet-data"]',
               extra: str = "source-packages = true") -> Path:  # fmt: skip
    spec = tmp / "bundle.toml"
    spec.write_text(SPEC.format(uri=repo.root.as_uri(), keyring=key.keyring, require=require, extra=extra))
    return spec


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory, key: GpgKey) -> tuple[DebRepo, Path]:
    tmp = tmp_path_factory.mktemp("solved")
    repo = make_upstream(tmp / "up", key)
    spec = write_spec(tmp, repo, key)
    assert main(["solve", str(spec), "--cache-dir", str(tmp / "cache"), "-q"]) == 0
    return repo, tmp / "bundle.lock"


@pytest.fixture(scope="module")
def bundle(solved: tuple[DebRepo, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "out"
    build_bundle(read_lock(solved[1]), out)
    return out


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_lock_holds_each_source_once_with_checksums(solved: tuple[DebRepo, Path]) -> None:
    repo, lock_path = solved
    lock = read_lock(lock_path)
    assert lock.extra["source-packages"] is True
    assert [(s.name, s.version) for s in lock.sources] == [("greet-data", "1:2.0"), ("hello", "1.0-1")]
    hello = lock.sources[1]
    assert hello.directory == "pool/main/h/hello"
    assert hello.repository == f"{repo.root.as_uri()} bookworm main"
    names = [f.name for f in hello.files]
    assert names == ["hello_1.0-1.debian.tar.xz", "hello_1.0-1.dsc", "hello_1.0.orig.tar.gz"]
    for f in hello.files:
        path = repo.root / hello.directory / f.name
        assert (f.size, f.sha256) == (path.stat().st_size, _sha(path))
    assert [f.name for f in lock.sources[0].files] == ["greet-data_2.0.dsc", "greet-data_2.0.tar.xz"]
    # The binNMU'd binary keeps its own version; its source is the one its Source field names.
    assert {(p.name, p.version, p.source_version) for p in lock.packages} == {
        ("hello", "1.0-1+b1", "1.0-1"), ("libhello1", "1.0-1", "1.0-1"), ("greet-data", "1:2.0", "1:2.0"),
    }  # fmt: skip


def test_lock_text_round_trips_and_old_locks_still_read(solved: tuple[DebRepo, Path]) -> None:
    text = solved[1].read_text()
    assert "\n[[source]]\nname = \"greet-data\"\n" in text
    lock = loads(text)
    assert dumps(lock) == text
    assert parse_own_toml(text) == tomllib.loads(text)
    old = dumps(replace(lock, sources=(), extra={}))
    assert "[[source]]" not in old and loads(old).sources == ()
    shuffled = replace(lock, sources=tuple(reversed(lock.sources)))
    assert dumps(shuffled) == text


def test_flag_on_the_command_line(tmp_path: Path, key: GpgKey) -> None:
    repo = make_upstream(tmp_path / "up", key)
    spec = write_spec(tmp_path, repo, key, extra="")
    cache = str(tmp_path / "cache")
    assert main(["solve", str(spec), "--cache-dir", cache, "-q", "-o", str(tmp_path / "a.lock")]) == 0
    assert read_lock(tmp_path / "a.lock").sources == ()
    assert main(["solve", str(spec), "--cache-dir", cache, "-q", "--source-packages",
                 "-o", str(tmp_path / "b.lock")]) == 0  # fmt: skip
    assert [s.name for s in read_lock(tmp_path / "b.lock").sources] == ["greet-data", "hello"]
    # Offline, from the cache the first solve filled: the same lock.
    assert main(["solve", str(spec), "--cache-dir", cache, "-q", "--source-packages", "--offline",
                 "-o", str(tmp_path / "c.lock")]) == 0  # fmt: skip
    assert (tmp_path / "c.lock").read_bytes() == (tmp_path / "b.lock").read_bytes()


def test_bundle_layout_and_release(bundle: Path) -> None:
    pool = bundle / "debian/pool/main/h/hello"
    assert sorted(p.name for p in pool.iterdir()) == [
        "hello_1.0-1+b1_amd64.deb", "hello_1.0-1.debian.tar.xz", "hello_1.0-1.dsc",
        "hello_1.0.orig.tar.gz", "libhello1_1.0-1_amd64.deb",
    ]  # fmt: skip
    release = (bundle / "debian/dists/srcdemo/Release").read_text()
    for name in ("main/source/Sources", "main/source/Sources.gz", "main/source/Sources.xz"):
        data = (bundle / "debian/dists/srcdemo" / name).read_bytes()
        assert f" {hashlib.sha256(data).hexdigest()} {len(data):16d} {name}\n" in release
    sources = (bundle / "debian/dists/srcdemo/main/source/Sources").read_text()
    assert sources.startswith("Package: greet-data\n")
    assert "\nPackage: hello\nFormat: 3.0 (quilt)\n" in sources
    assert "Directory: pool/main/h/hello\n" in sources
    readme = (bundle / "README").read_text()
    assert "deb-src [trusted=yes] file:/MOUNT/debian srcdemo main" in readme


def test_apt_get_source_and_dpkg_source_from_the_bundle(bundle: Path, tmp_path: Path) -> None:
    apt = IsolatedApt(tmp_path / "apt")
    uri = (bundle / "debian").as_uri()
    apt.sources.write_text(f"deb [trusted=yes] {uri} srcdemo main\ndeb-src [trusted=yes] {uri} srcdemo main\n")
    update = apt.run("update")
    assert update.returncode == 0, update.stdout + update.stderr
    work = tmp_path / "work"
    work.mkdir()
    # By binary name (libhello1 -> source hello) and by source name; apt unpacks with dpkg-source -x.
    for name in ("libhello1", "greet-data"):
        proc = subprocess.run(["apt-get", "-q", *apt.options, "source", name], cwd=work,
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (work / "hello-1.0/hello.c").is_file()
    assert (work / "hello-1.0/debian/changelog").read_text().startswith("hello (1.0-1)")
    assert (work / "greet-data-2.0/README").read_text() == "greet-data native 1:2.0\n"
    # And with no apt at all: dpkg-source checks the .dsc's checksums against the files beside it.
    dsc = bundle / "debian/pool/main/h/hello/hello_1.0-1.dsc"
    x = subprocess.run(["dpkg-source", "-x", str(dsc), str(tmp_path / "x")], capture_output=True, text=True)
    assert x.returncode == 0, x.stderr
    assert (tmp_path / "x/debian/source/format").read_text() == "3.0 (quilt)\n"


def test_signed_bundle_deb_src_signed_by(
    solved: tuple[DebRepo, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = OldKey.generate()
    try:
        monkeypatch.setenv("GNUPGHOME", str(key.home))
        build_bundle(read_lock(solved[1]), tmp_path / "out", sign_key=key.fingerprint)
        inrelease = (tmp_path / "out/debian/dists/srcdemo/InRelease").read_text()
        assert " main/source/Sources.xz\n" in inrelease
        apt = IsolatedApt(tmp_path / "apt")
        apt.sources.write_text(f"deb-src [signed-by={key.keyring}] {(tmp_path / 'out/debian').as_uri()} srcdemo main\n")
        update = apt.run("update")
        assert update.returncode == 0 and "W:" not in update.stderr, update.stdout + update.stderr
        work = tmp_path / "work"
        work.mkdir()
        proc = subprocess.run(["apt-get", "-q", *apt.options, "source", "--download-only", "hello"], cwd=work,
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert sorted(p.name for p in work.iterdir()) == [
            "hello_1.0-1.debian.tar.xz", "hello_1.0-1.dsc", "hello_1.0.orig.tar.gz",
        ]  # fmt: skip
        assert verify_bundle(tmp_path / "out", keyring=str(key.keyring)).problems == []
    finally:
        key.close()


def test_verify_passes_and_names_a_tampered_source_file(bundle: Path, tmp_path: Path) -> None:
    assert verify_bundle(bundle).problems == []
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    orig = copy / "debian/pool/main/h/hello/hello_1.0.orig.tar.gz"
    orig.write_bytes(orig.read_bytes()[:-1] + b"x")
    problems = verify_bundle(copy).problems
    assert problems == [
        "debian/pool/main/h/hello/hello_1.0.orig.tar.gz: sha256 mismatch (SHA256SUMS says "
        f"{_sha(bundle / 'debian/pool/main/h/hello/hello_1.0.orig.tar.gz')[:16]}…, the file is {_sha(orig)[:16]}…)",
        "debian/pool/main/h/hello/hello_1.0.orig.tar.gz: size/sha256 differ from "
        "debian/dists/srcdemo/main/source/Sources",
        "debian/pool/main/h/hello/hello_1.0.orig.tar.gz: size/md5 differ from "
        "debian/dists/srcdemo/main/source/Sources",
    ]
    assert main(["verify", str(copy)]) == 1
    # A .dsc that disagrees with the Sources index about one of its files.
    shutil.rmtree(copy)
    shutil.copytree(bundle, copy)
    dsc = copy / "debian/pool/main/h/hello/hello_1.0-1.dsc"
    orig_sha = _sha(bundle / "debian/pool/main/h/hello/hello_1.0.orig.tar.gz")
    dsc.write_text(dsc.read_text().replace(orig_sha, "0" * 64))
    problems = verify_bundle(copy).problems
    assert (
        "debian/pool/main/h/hello/hello_1.0-1.dsc: hello_1.0.orig.tar.gz differs from "
        "debian/dists/srcdemo/main/source/Sources (or is missing from one of them)"
    ) in problems


def test_verify_wants_every_binarys_source(solved: tuple[DebRepo, Path], tmp_path: Path) -> None:
    lock = read_lock(solved[1])
    build_bundle(replace(lock, sources=tuple(s for s in lock.sources if s.name != "hello")), tmp_path / "out")
    problems = verify_bundle(tmp_path / "out").problems
    assert problems == [
        "deb hello 1.0-1+b1 (amd64): its source package hello 1.0-1 is not in debian/dists/srcdemo's Sources"
    ]


def test_build_is_reproducible(solved: tuple[DebRepo, Path], bundle: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_bundle(read_lock(solved[1]), again)
    files = sorted(p.relative_to(bundle) for p in bundle.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (bundle / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_missing_source_is_one_error_and_no_lock(
    tmp_path: Path, key: GpgKey, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_upstream(tmp_path / "up", key, orphan=True)
    spec = write_spec(tmp_path, repo, key, require='["hello", "orphan"]')
    assert main(["solve", str(spec), "--cache-dir", str(tmp_path / "cache"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "source package orphan-src 0.9, needed by orphan 0.9+b2 (amd64), is in no Sources index" in err
    assert err.count("error:") == 1
    assert not (tmp_path / "bundle.lock").exists()


def test_dsc_checksum_mismatch_names_the_file_and_writes_nothing(
    tmp_path: Path, key: GpgKey, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_upstream(tmp_path / "up", key, tamper_orig=True)
    spec = write_spec(tmp_path, repo, key)
    out = tmp_path / "out"
    code = main(["solve", str(spec), "--cache-dir", str(tmp_path / "cache"), "-q", "--bundle", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "hello_1.0.orig.tar.gz: checksum mismatch: the .dsc says" in err
    assert "hello_1.0-1.dsc" in err  # where: the .dsc at fault
    assert err.count("error:") == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("out", ".out"))) == []


def test_source_file_changed_upstream_after_solve(solved: tuple[DebRepo, Path], tmp_path: Path) -> None:
    from solver.errors import InputError

    repo, lock_path = solved
    lock = read_lock(lock_path)
    moved = tmp_path / "mirror"
    shutil.copytree(repo.root, moved)
    old = repo.root.as_uri()
    lock = replace(lock, sources=tuple(replace(s, repository=s.repository.replace(old, moved.as_uri()))
                                       for s in lock.sources))  # fmt: skip
    target = moved / "pool/main/g/greet-data/greet-data_2.0.tar.xz"
    target.write_bytes(target.read_bytes() + b"\0")
    with pytest.raises(InputError, match=r"greet-data_2.0.tar.xz: size mismatch"):
        build_bundle(lock, tmp_path / "out")
    assert not (tmp_path / "out").exists()
