"""`bundler build`: a lock over real .debs and wheels becomes a bundle that apt and pip install from,
byte for byte reproducible, atomic, and never holding a file the lock does not vouch for."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import zstandard

from bundler.build import DEFAULT_EPOCH, build_bundle, resolve_epoch
from bundler.build.debfile import parse_stanzas, read_control
from bundler.cli import main
from bundler.lock import dumps, write_lock
from solver.errors import InputError
from tests.support.http import serve_directory
from tests.support.locks import EPOCH, OldKey, Upstream, with_package

REPO = Path(__file__).resolve().parents[1]
HAVE_XORRISO = shutil.which("xorriso") is not None


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    return Upstream.create(tmp_path_factory.mktemp("upstream"))


@pytest.fixture(scope="module")
def built(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bundle (with archive and ISO) from file:// sources, shared by the read-only tests."""
    base = tmp_path_factory.mktemp("built")
    build_bundle(
        upstream.lock(),
        base / "out",
        archive=base / "b.tar.zst",
        iso=base / "b.iso" if HAVE_XORRISO else None,
    )
    return base


def files_of(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# -- layout ---------------------------------------------------------------------------------------
def test_layout(built: Path, upstream: Upstream) -> None:
    out = built / "out"
    files = files_of(out)
    assert {
        "README", "SHA256SUMS", "bundle.lock",
        "debian/dists/bookworm/Release",
        "debian/dists/bookworm/main/binary-amd64/Packages",
        "debian/dists/bookworm/main/binary-amd64/Packages.gz",
        "debian/dists/bookworm/main/binary-amd64/Packages.xz",
        "debian/dists/bookworm/contrib/binary-amd64/Packages",
        "debian/pool/main/h/hello/hello_1.0-1_amd64.deb",
        "debian/pool/main/libg/libgreet/libgreet1_1.2-1_amd64.deb",
        "debian/pool/main/g/greet/greet-data_1.0_all.deb",
        "debian/pool/contrib/e/extra-tool/extra-tool_0.1_amd64.deb",
        "python/simple/index.html", "python/simple/index.json",
        "python/simple/foo/index.html", "python/simple/bar-lib/index.json",
        "python/files/foo-1.0-py3-none-any.whl", "python/files/foo-1.0-py3-none-any.whl.metadata",
    } <= set(files)  # fmt: skip
    assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name or ".downloads" in p.name]
    assert (out / "bundle.lock").read_text() == dumps(upstream.lock())
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out, check=True)
    listed = [line.split("  ", 1)[1] for line in (out / "SHA256SUMS").read_text().splitlines()]
    assert listed == sorted(set(files) - {"SHA256SUMS"})
    for path in out.rglob("*"):
        assert path.stat().st_mtime == EPOCH
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644)
    readme = (out / "README").read_text()
    assert "deb [trusted=yes] file:/MOUNT/debian bookworm contrib main" in readme
    assert "--index-url file:///MOUNT/python/simple foo" in readme


def test_release_and_packages(built: Path) -> None:
    dist = built / "out/debian/dists/bookworm"
    release = dict(parse_stanzas((dist / "Release").read_text())[0])
    assert release["Suite"] == release["Codename"] == "bookworm"
    assert release["Date"] == "Tue, 14 Nov 2023 22:13:20 UTC"
    assert release["Architectures"] == "amd64 all" and release["Components"] == "contrib main"
    assert release["No-Support-for-Architecture-all"] == "Packages"
    assert "Valid-Until" not in release
    sha = {line.split()[2]: line.split()[0] for line in release["SHA256"].strip().splitlines()}
    for rel in (
        "main/binary-amd64/Packages",
        "main/binary-amd64/Packages.gz",
        "main/binary-amd64/Packages.xz",
    ):
        assert sha[rel] == hashlib.sha256((dist / rel).read_bytes()).hexdigest()
    gz = (dist / "main/binary-amd64/Packages.gz").read_bytes()
    assert gz[3] == 0 and gz[4:8] == b"\0\0\0\0"  # no file name, mtime 0
    text = (dist / "main/binary-amd64/Packages").read_text()
    assert gzip.decompress(gz).decode() == text
    stanzas = [dict(s) for s in parse_stanzas(text)]
    assert [s["Package"] for s in stanzas] == ["greet-data", "hello", "libgreet1"]  # all in amd64 too
    hello = stanzas[1]
    deb = built / "out/debian" / hello["Filename"]
    data = deb.read_bytes()
    assert hello["Size"] == str(len(data)) and hello["SHA256"] == hashlib.sha256(data).hexdigest()
    assert hello["MD5sum"] == hashlib.md5(data).hexdigest()
    assert hello["Depends"] == "libgreet1 (>= 1.0), greeting-data | nothing-else"
    assert hello["Description"].startswith("test package hello\n ")
    # The upstream control fields, as dpkg-deb itself reads them.
    control = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    assert read_control(deb) == control.strip("\n")


def test_python_index(built: Path) -> None:
    simple = built / "out/python/simple"
    page = (simple / "bar-lib/index.html").read_text()
    whl = built / "out/python/files/bar_lib-1.2-py3-none-any.whl"
    meta = whl.with_name(whl.name + ".metadata")
    assert f'href="../../files/{whl.name}#sha256={hashlib.sha256(whl.read_bytes()).hexdigest()}"' in page
    assert 'data-requires-python="&gt;=3.8"' in page
    assert f'data-core-metadata="sha256={hashlib.sha256(meta.read_bytes()).hexdigest()}"' in page
    assert b"Name: Bar.Lib" in meta.read_bytes()
    assert '<a href="bar-lib/">bar-lib</a>' in (simple / "index.html").read_text()


# -- the real clients -----------------------------------------------------------------------------
def _apt(
    root: Path, sources_line: str, *args: str, keyring: Path | None = None
) -> subprocess.CompletedProcess[str]:
    for d in ("etc/parts", "etc/trusted.d", "etc/prefs.d", "lists/partial", "cache/archives/partial", "log"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "status").touch()
    (root / "sources.list").write_text(sources_line + "\n")
    opts = {
        "Dir": str(root), "Dir::State": str(root), "Dir::State::status": str(root / "status"),
        "Dir::State::Lists": str(root / "lists"), "Dir::Cache": str(root / "cache"),
        "Dir::Cache::Archives": str(root / "cache/archives"), "Dir::Log": str(root / "log"),
        "Dir::Etc::SourceList": str(root / "sources.list"), "Dir::Etc::SourceParts": str(root / "etc/parts"),
        "Dir::Etc::Trusted": str(root / "etc/trusted.gpg"), "Dir::Etc::TrustedParts": str(root / "etc/trusted.d"),
        "Dir::Etc::Preferences": str(root / "etc/prefs"), "Dir::Etc::PreferencesParts": str(root / "etc/prefs.d"),
        "APT::Architecture": "amd64", "APT::Architectures": "amd64", "Debug::NoLocking": "1",
        "APT::Sandbox::User": "root", "Acquire::Languages": "none", "Dir::Bin::dpkg": "/bin/false",
    }  # fmt: skip
    cmd = ["apt-get", "-q", "-y"] + [a for k, v in opts.items() for a in ("-o", f"{k}={v}")] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})


def test_apt_installs_from_bundle(built: Path, tmp_path: Path) -> None:
    line = f"deb [trusted=yes] file:{built / 'out/debian'} bookworm main contrib"
    r = _apt(tmp_path, line, "update")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "W:" not in r.stderr and "E:" not in r.stderr, r.stderr
    r = _apt(tmp_path, line, "-s", "install", "hello", "extra-tool")
    assert r.returncode == 0, r.stdout + r.stderr
    installed = sorted(re.findall(r"^Inst (\S+) ", r.stdout, re.M))
    assert installed == ["extra-tool", "greet-data", "hello", "libgreet1"]
    # apt uses file: URIs in place; the copy: method fetches into the archives directory.
    line = line.replace(" file:", " copy:")
    assert _apt(tmp_path, line, "update").returncode == 0
    r = _apt(tmp_path, line, "install", "--download-only", "hello", "extra-tool")
    assert r.returncode == 0, r.stdout + r.stderr
    debs = sorted((tmp_path / "cache/archives").glob("*.deb"))
    assert len(debs) == 4
    for deb in debs:
        subprocess.run(["dpkg-deb", "-I", str(deb)], capture_output=True, check=True)


def test_signed_bundle_apt_and_reproducible(upstream: Upstream, tmp_path: Path) -> None:
    key = OldKey.generate()
    try:
        old = os.environ.get("GNUPGHOME")
        os.environ["GNUPGHOME"] = str(key.home)
        try:
            build_bundle(upstream.lock(), tmp_path / "a", sign_key=key.fingerprint)
            build_bundle(upstream.lock(), tmp_path / "b", sign_key=key.fingerprint)
        finally:
            if old is None:
                os.environ.pop("GNUPGHOME")
            else:
                os.environ["GNUPGHOME"] = old
        dist = tmp_path / "a/debian/dists/bookworm"
        assert (dist / "InRelease").read_bytes().startswith(b"-----BEGIN PGP SIGNED MESSAGE-----")
        assert files_of(tmp_path / "a") == files_of(tmp_path / "b")  # signatures included
        line = f"deb [signed-by={key.keyring}] file:{tmp_path / 'a/debian'} bookworm main contrib"
        r = _apt(tmp_path / "apt", line, "update")
        assert r.returncode == 0 and "W:" not in r.stderr and "E:" not in r.stderr, r.stdout + r.stderr
        r = _apt(tmp_path / "apt", line, "-s", "install", "extra-tool")
        assert r.returncode == 0 and "Inst extra-tool" in r.stdout, r.stdout + r.stderr
        from bundler.verify import verify_bundle

        assert verify_bundle(tmp_path / "a", keyring=str(key.keyring)).problems == []
        build_bundle(upstream.lock(), tmp_path / "c")  # not signed
        unsigned = verify_bundle(tmp_path / "c", keyring=str(key.keyring)).problems
        assert unsigned == ["debian/dists/bookworm: not signed (no InRelease, no Release.gpg)"]
        other = OldKey.generate()
        try:
            wrong = verify_bundle(tmp_path / "a", keyring=str(other.keyring)).problems
        finally:
            other.close()
        assert any("InRelease: bad signature" in p for p in wrong), wrong
    finally:
        key.close()


def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh venv (no pip inside: the test's pip drives it with --python, which is much faster)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    return tmp_path / "v" / "bin" / "python"


def pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pip", "--python", str(venv), "--no-cache-dir", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_pip_env())


@pytest.mark.parametrize("how", ["index", "find-links"])
def test_pip_installs_from_bundle(built: Path, venv: Path, how: str) -> None:
    py = built / "out/python"
    source = (
        ["--index-url", (py / "simple").as_uri()]
        if how == "index"
        else ["--no-index", "--find-links", str(py / "files")]
    )
    r = pip(venv, "install", *source, "foo")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Successfully installed Bar.Lib-1.2 foo-1.0" in r.stdout
    r = pip(venv, "check")
    assert r.returncode == 0, r.stdout + r.stderr


# -- reproducibility ------------------------------------------------------------------------------
_SECOND_BUILD = """
import os, sys
os.umask(0o077)
from pathlib import Path
from bundler.lock import read_lock
from bundler.build import build_bundle
d = Path(sys.argv[1])
build_bundle(read_lock(d / "bundle.lock"), d / "elsewhere" / "deeper" / "out",
             archive=d / "x.tar.zst", iso=d / "x.iso" if sys.argv[2] == "1" else None)
"""


def test_reproducible(built: Path, upstream: Upstream, tmp_path: Path) -> None:
    write_lock(tmp_path / "bundle.lock", upstream.lock())
    time.sleep(max(0.0, 1.1 - (time.time() - (built / "b.tar.zst").stat().st_mtime)))
    env = {**os.environ, "TZ": "Pacific/Chatham", "PYTHONPATH": str(REPO), "LC_ALL": "C"}
    subprocess.run(
        [sys.executable, "-c", _SECOND_BUILD, str(tmp_path), "1" if HAVE_XORRISO else "0"],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    assert files_of(built / "out") == files_of(tmp_path / "elsewhere/deeper/out")
    assert (built / "b.tar.zst").read_bytes() == (tmp_path / "x.tar.zst").read_bytes()
    if HAVE_XORRISO:
        assert (built / "b.iso").read_bytes() == (tmp_path / "x.iso").read_bytes()


def test_archive_contents(built: Path) -> None:
    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO((built / "b.tar.zst").read_bytes())).read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and names[0] == "demo"
    assert all(
        m.mtime == EPOCH and m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" for m in members
    )
    files = {m.name.removeprefix("demo/") for m in members if m.isfile()}
    assert files == set(files_of(built / "out"))


@pytest.mark.skipif(not HAVE_XORRISO, reason="xorriso is not installed")
def test_iso_lists_the_same_files(built: Path) -> None:
    r = subprocess.run(
        ["xorriso", "-indev", str(built / "b.iso"), "-find", "/", "-type", "f"],
        capture_output=True,
        text=True,
        check=True,
    )
    listed = {line.strip().strip("'").lstrip("/") for line in r.stdout.splitlines() if line.startswith("'/")}
    assert listed == set(files_of(built / "out"))
    r = subprocess.run(
        ["xorriso", "-indev", str(built / "b.iso"), "-pvd_info"], capture_output=True, text=True
    )
    assert "Volume Id    : DEMO" in r.stdout and "2023" in r.stdout


def test_epoch_sources(upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = upstream.lock(epoch=None)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert resolve_epoch(lock) == DEFAULT_EPOCH
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234")
    assert resolve_epoch(lock) == 1234
    assert resolve_epoch(upstream.lock()) == EPOCH
    assert resolve_epoch(upstream.lock(), 7) == 7


# -- failures leave nothing behind ----------------------------------------------------------------
def test_sha256_mismatch_leaves_no_out(upstream: Upstream, tmp_path: Path) -> None:
    bad = with_package(upstream.lock(), "hello", sha256="0" * 64)
    with pytest.raises(InputError, match="hello_1.0-1_amd64.deb: sha256 mismatch"):
        build_bundle(bad, tmp_path / "out", archive=tmp_path / "x.tar.zst", iso=tmp_path / "x.iso")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.downloads"]  # only the resumable store
    assert not list((tmp_path / ".out.downloads").rglob("0000*"))  # nothing corrupt is kept

    # An existing bundle survives a failed rebuild.
    build_bundle(upstream.lock(), tmp_path / "out")
    before = files_of(tmp_path / "out")
    with pytest.raises(InputError):
        build_bundle(bad, tmp_path / "out")
    assert files_of(tmp_path / "out") == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".out.downloads")) == ["out"]


def test_size_mismatch_named(upstream: Upstream, tmp_path: Path) -> None:
    lock = upstream.lock()
    foo = next(p for p in lock.packages if p.name == "foo")
    with pytest.raises(InputError, match="foo-1.0-py3-none-any.whl"):
        build_bundle(with_package(lock, "foo", size=foo.size - 10), tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- HTTP, cache, truncation, resume --------------------------------------------------------------
class _Truncating(BaseHTTPRequestHandler):
    """Serves files, but the first full GET of each gets only half its bytes (and says so)."""

    protocol_version = "HTTP/1.1"
    root: Path
    seen: set[str]
    log: list[tuple[str, str | None]]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        data = (self.root / self.path.lstrip("/")).read_bytes()
        rng = self.headers.get("Range")
        self.log.append((self.path, rng))
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            body, status = data[start:], 206
        elif self.path not in self.seen:
            self.seen.add(self.path)
            body, status = data[: len(data) // 2], 200
        else:
            body, status = data, 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {len(data) - len(body)}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def truncating(upstream: Upstream) -> Iterator[type[_Truncating]]:
    handler = type("H", (_Truncating,), {"root": upstream.root, "seen": set(), "log": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_truncated_downloads_are_resumed(
    upstream: Upstream, truncating: type[_Truncating], tmp_path: Path
) -> None:
    url = truncating.url  # type: ignore[attr-defined]
    lock = upstream.lock(f"{url}/debian", f"{url}/py")
    report = build_bundle(lock, tmp_path / "out", cache_dir=tmp_path / "cache")
    assert report.debs == 4
    ranged = [path for path, rng in truncating.log if rng]
    assert len(ranged) == 6  # every file came short once, and was continued with a Range request
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=tmp_path / "out", check=True)


def test_cache_and_resume_over_http(upstream: Upstream, built: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with serve_directory(upstream.root) as server:
        lock = upstream.lock(f"{server.url}/debian", f"{server.url}/py")
        hello = next(p for p in lock.packages if p.name == "hello")
        full = (upstream.root / "debian" / hello.filename).read_bytes()
        part = cache / "sha256" / hello.sha256[:2] / (hello.sha256 + ".part")
        part.parent.mkdir(parents=True)
        part.write_bytes(full[:100])  # an interrupted download
        wheel = next(p for p in lock.packages if p.name == "foo")
        short = cache / "sha256" / wheel.sha256[:2] / wheel.sha256
        short.parent.mkdir(parents=True, exist_ok=True)
        short.write_bytes(b"truncated")  # a cache entry that is too short (and wrong)
        build_bundle(lock, tmp_path / "out1", cache_dir=cache)
        ranges = [(r.path, r.headers.get("Range")) for r in server.requests]
        assert (f"/debian/{hello.filename}", "bytes=100-") in ranges
        # The short cache entry was continued first, then (its prefix being wrong) fetched whole.
        assert [rng for path, rng in ranges if path == f"/py/{wheel.filename}"] == ["bytes=9-", None]
        assert len(ranges) == 7

    def same(a: Path, b: Path) -> bool:  # the same bundle whatever the source (the lock's URLs differ)
        ignore = {"bundle.lock", "SHA256SUMS"}
        fa, fb = files_of(a), files_of(b)
        return {k: v for k, v in fa.items() if k not in ignore} == {
            k: v for k, v in fb.items() if k not in ignore
        }

    assert same(tmp_path / "out1", built / "out")
    assert (cache / "sha256" / hello.sha256[:2] / hello.sha256).read_bytes() == full
    # Warm cache, server gone: everything comes from the cache.
    build_bundle(lock, tmp_path / "out2", cache_dir=cache)
    assert files_of(tmp_path / "out2") == files_of(tmp_path / "out1")
    assert not list(cache.rglob("*.part"))


# -- the CLI --------------------------------------------------------------------------------------
def test_cli_build(upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_lock(tmp_path / "bundle.lock", upstream.lock())
    assert (
        main(
            [
                "build",
                str(tmp_path / "bundle.lock"),
                str(tmp_path / "out"),
                "--archive",
                str(tmp_path / "o.tar.zst"),
            ]
        )
        == 0
    )
    assert "4 .deb, 2 Python files" in capsys.readouterr().out
    assert (tmp_path / "o.tar.zst").is_file()
    write_lock(tmp_path / "bad.lock", with_package(upstream.lock(), "bar-lib", sha256="f" * 64))
    write_lock(tmp_path / "bad.lock", with_package(upstream.lock(), "Bar.Lib", sha256="f" * 64))
    assert main(["build", str(tmp_path / "bad.lock"), str(tmp_path / "out3")]) == 2
    assert "bar_lib-1.2-py3-none-any.whl: sha256 mismatch" in capsys.readouterr().err
    assert not (tmp_path / "out3").exists()
    assert main(["build", str(tmp_path / "missing.lock"), str(tmp_path / "out4")]) == 2


def test_interrupted_build_resumes(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bundler.build import download

    class Interrupt(download.Meter):
        def advance(self, nbytes: int) -> None:
            if nbytes > 0:
                raise KeyboardInterrupt

    monkeypatch.setattr(download, "CHUNK", 256)  # so that a test .deb takes several reads
    with serve_directory(upstream.root) as server:
        lock = upstream.lock(f"{server.url}/debian", f"{server.url}/py")
        with pytest.raises(KeyboardInterrupt):
            build_bundle(lock, tmp_path / "out", progress=Interrupt(), archive=tmp_path / "o.tar.zst")
        assert sorted(p.name for p in tmp_path.iterdir()) == [".out.downloads"]
        parts = list((tmp_path / ".out.downloads").rglob("*.part"))
        assert parts and all(0 < p.stat().st_size for p in parts)
        n = len(server.requests)
        build_bundle(lock, tmp_path / "out")
        resumed = [r.headers.get("Range") for r in server.requests[n:]]
        assert sum(1 for r in resumed if r) == len(parts)  # each partial file was continued, not refetched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the transient store is gone
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=tmp_path / "out", check=True)


def test_cli_build_shares_the_default_artifact_cache(upstream: Upstream, tmp_path: Path) -> None:
    # `build` and `solve --bundle` read and fill CACHE_DIR/artifacts: a second build needs no server.
    with serve_directory(upstream.root) as server:
        write_lock(tmp_path / "bundle.lock", upstream.lock(f"{server.url}/debian", f"{server.url}/py"))
        assert main(["build", str(tmp_path / "bundle.lock"), str(tmp_path / "out1")]) == 0
        fetched = len(server.requests)
    assert fetched >= 6
    cache = Path(os.environ["BUNDLER_CACHE_DIR"]) / "artifacts"
    assert len([p for p in cache.rglob("*") if p.is_file()]) == fetched
    assert main(["build", str(tmp_path / "bundle.lock"), str(tmp_path / "out2")]) == 0
    assert files_of(tmp_path / "out2") == files_of(tmp_path / "out1")
