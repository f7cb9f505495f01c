"""Hotfix bundles (`bundler delta`, `bundler solve --since`) and the upgrade proof (`bundler
upgrade-check`), over real .debs and wheels, checked with the real apt-get and pip."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import zstandard

from bundler.build import build_bundle
from bundler.cli import main
from bundler.delta import build_delta
from bundler.lock import Lock, LockedPackage, dumps, read_lock, write_lock
from bundler.upgrade import upgrade_check
from bundler.verify import verify_bundle
from tests.support.debrepo import DebRepo
from tests.support.locks import EPOCH, OldKey, Upstream, build_wheel
from tests.support.schemas import assert_strict

REPO = Path(__file__).resolve().parents[1]


def _deb(repo: DebRepo, deps: str = "", fixed: bool = False, **kw: object) -> LockedPackage:
    """A .deb in `repo`'s pool (build_deb's keywords) as its lock entry; `deps`: the lock ids it needs."""
    e = repo.add("bookworm", "main", **kw)
    source = str(kw.get("source", kw["name"]))
    f = e.fields
    return LockedPackage(
        ecosystem="deb", name=f["Package"], version=f["Version"], filename=e.filename, size=e.size,
        sha256=e.sha256, architecture=f["Architecture"], source=source, source_version=f["Version"],
        repository=f"{repo.root.as_uri()} bookworm main", depends=tuple(d for d in deps.split(",") if d),
        fixed=fixed,
    )  # fmt: skip


def _wheel(root: Path, name: str, version: str, requires: tuple[str, ...] = (), fixed: bool = False) -> LockedPackage:
    path = build_wheel(root / "py", name, version, requires=requires)
    return LockedPackage(
        ecosystem="python", name=name, version=version, filename=path.name, size=path.stat().st_size,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), url=path.as_uri(), fixed=fixed,
    )  # fmt: skip


def _replace(lock: Lock, *packages: LockedPackage, drop: tuple[str, ...] = (), **changes: object) -> Lock:
    """`lock` with `packages` put in place of those of the same id (or added), `drop` ids removed."""
    ids = {p.id for p in packages} | set(drop)
    kept = tuple(p for p in lock.packages if p.id not in ids)
    return dataclasses.replace(lock, packages=kept + packages, **changes)  # type: ignore[arg-type]


class Release:
    """OLD (tests/support/locks.py's set) and a NEW hotfix of it: hello 1.1-1 is fixed and newly needs
    libnew1; foo 1.1 newly needs newdep; Bar.Lib moves up; extra-tool is dropped. `plugin` (needs
    foo<1.1) is for the breaking cases."""

    def __init__(self, root: Path) -> None:
        self.up = Upstream.create(root)
        self.repo = DebRepo(root / "debian")
        self.root = root
        self.old = self.up.lock()
        self.plugin = _wheel(root, "plugin", "1.0", requires=("foo<1.1",))
        hello = _deb(self.repo, "deb:libgreet1:amd64,deb:greet-data:all,deb:libnew1:amd64", fixed=True,
                     name="hello", version="1.1-1", depends="libgreet1 (>= 1.0), greeting-data | nothing-else, libnew1")  # fmt: skip
        libnew = _deb(self.repo, name="libnew1", version="1.0-1", source="libnew")
        foo = _wheel(root, "foo", "1.1", requires=("Bar.Lib>=1.3", "newdep"))
        bar = _wheel(root, "Bar.Lib", "1.3")
        newdep = _wheel(root, "newdep", "1.0")
        self.new = _replace(
            self.old, hello, libnew, foo, bar, newdep, drop=("deb:extra-tool:amd64",),
            epoch=EPOCH + 86400, roots=("deb:hello:amd64", "python:foo"),
        )  # fmt: skip


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Release:
    return Release(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def bundles(rel: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OLD's bundle, NEW's whole bundle and the hotfix bundle from OLD to NEW."""
    d = tmp_path_factory.mktemp("bundles")
    build_bundle(rel.old, d / "old")
    build_bundle(rel.new, d / "new")
    build_delta(rel.old, rel.new, d / "delta")
    write_lock(d / "old.lock", rel.old)
    write_lock(d / "new.lock", rel.new)
    return d


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- the hotfix bundle ----------------------------------------------------------------------------
def test_delta_holds_only_the_changes(bundles: Path, rel: Release) -> None:
    delta = bundles / "delta"
    debs = sorted(p.name for p in delta.rglob("*.deb"))
    assert debs == ["hello_1.1-1_amd64.deb", "libnew1_1.0-1_amd64.deb"]
    wheels = sorted(p.name for p in (delta / "python/files").glob("*.whl"))
    assert wheels == ["bar_lib-1.3-py3-none-any.whl", "foo-1.1-py3-none-any.whl", "newdep-1.0-py3-none-any.whl"]
    assert sorted(p.name for p in (delta / "debian/dists").iterdir()) == ["bookworm-updates"]
    packages = (delta / "debian/dists/bookworm-updates/main/binary-amd64/Packages").read_text()
    assert re.findall(r"^Package: (\S+)", packages, re.M) == ["hello", "libnew1"]
    release = (delta / "debian/dists/bookworm-updates/Release").read_text()
    assert "Suite: bookworm-updates\n" in release and "Codename: bookworm-updates\n" in release
    assert sorted(p.name for p in (delta / "python/simple").iterdir() if p.is_dir()) == ["bar-lib", "foo", "newdep"]
    assert (delta / "bundle.lock").read_text() == dumps(rel.new)
    assert (delta / "base.lock").read_text() == dumps(rel.old)
    r = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=delta, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    listed = {line.split("  ", 1)[1] for line in (delta / "SHA256SUMS").read_text().splitlines()}
    assert listed == set(_files(delta)) - {"SHA256SUMS"}


def test_delta_readme_says_what_it_fixes(bundles: Path) -> None:
    readme = (bundles / "delta/README").read_text()
    assert "~ deb:hello:amd64 1.0-1 -> 1.1-1   [fix]" in readme
    assert "+ deb:libnew1:amd64 (new) -> 1.0-1   [needed by the fix of hello]" in readme
    assert "- deb:extra-tool:amd64 0.1 -> (dropped)" in readme
    assert "~ python:foo 1.0 -> 1.1" in readme and "~ python:bar-lib 1.2 -> 1.3" in readme
    assert "+ python:newdep (new) -> 1.0" in readme
    # Whole lines, so that each can be pasted into sources.list as it is.
    assert "\n    deb [trusted=yes] file:/BASE/debian bookworm contrib main\n" in readme
    assert "\n    deb [trusted=yes] file:/MOUNT/debian bookworm-updates main\n" in readme
    assert "--extra-index-url file:///MOUNT/python/simple Bar.Lib==1.3 foo==1.1 newdep==1.0" in readme
    # No line of the unchanged packages.
    assert "libgreet1" not in readme and "greet-data" not in readme


def test_delta_is_reproducible(bundles: Path, rel: Release, tmp_path: Path) -> None:
    build_delta(rel.old, rel.new, tmp_path / "again")
    assert _files(tmp_path / "again") == _files(bundles / "delta")


def _apt(root: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    from bundler.upgrade import _Apt

    apt = _Apt(root, ["amd64"])
    (root / "status").touch()
    (root / "sources.list").write_text("".join(line + "\n" for line in lines))
    return apt.run(*args)


def test_apt_sees_the_whole_new_set_through_base_and_delta(bundles: Path, tmp_path: Path) -> None:
    # The sources lines exactly as the delta's README gives them, /BASE and /MOUNT filled in.
    readme = (bundles / "delta/README").read_text()
    mounts = {"file:/BASE/": f"file:{bundles / 'old'}/", "file:/MOUNT/": f"file:{bundles / 'delta'}/"}
    lines = [ln.strip() for ln in readme.splitlines() if ln.startswith("    deb [")]
    base, over = (re.sub("|".join(map(re.escape, mounts)), lambda m: mounts[m[0]], ln) for ln in lines)
    assert "/BASE/" not in base + over and "/MOUNT/" not in base + over
    r = _apt(tmp_path / "both", [base, over], "update")
    assert r.returncode == 0 and "W:" not in r.stderr, r.stdout + r.stderr
    r = _apt(tmp_path / "both", [base, over], "-s", "install", "hello")
    assert r.returncode == 0, r.stdout + r.stderr
    got = dict(re.findall(r"^Inst (\S+) \((\S+)", r.stdout, re.M))
    assert got == {"hello": "1.1-1", "libnew1": "1.0-1", "libgreet1": "1.2-1", "greet-data": "1:1.0"}
    # apt really fetches each file from the source that lists it (copy: fetches into the cache).
    lines = [s.replace(" file:", " copy:") for s in (base, over)]
    assert _apt(tmp_path / "copy", lines, "update").returncode == 0
    r = _apt(tmp_path / "copy", lines, "install", "--download-only", "hello")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(list((tmp_path / "copy/cache/archives").glob("*.deb"))) == 4
    # The delta alone is not a whole repository: a new install needs the base.
    r = _apt(tmp_path / "alone", [over], "update")
    r = _apt(tmp_path / "alone", [over], "-s", "install", "hello")
    assert r.returncode != 0 and "libgreet1" in r.stdout + r.stderr


def test_signed_delta_apt_verifies_it(bundles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = OldKey.generate()
    try:
        monkeypatch.setenv("GNUPGHOME", str(key.home))
        out = tmp_path / "signed"
        assert main(["delta", str(bundles / "old.lock"), str(bundles / "new.lock"), str(out), "-q",
                     "--sign-key", key.fingerprint]) == 0  # fmt: skip
        monkeypatch.delenv("GNUPGHOME")
        assert (out / "debian/dists/bookworm-updates/InRelease").read_bytes().startswith(
            b"-----BEGIN PGP SIGNED MESSAGE-----")  # fmt: skip
        line = "deb [signed-by=/etc/apt/keyrings/bundle.gpg] file:/MOUNT/debian bookworm-updates main"
        assert f"\n    {line}\n" in (out / "README").read_text()
        line = line.replace("/etc/apt/keyrings/bundle.gpg", str(key.keyring)).replace("/MOUNT/", f"{out}/")
        r = _apt(tmp_path / "apt", [line], "update")
        assert r.returncode == 0 and "W:" not in r.stderr and "E:" not in r.stderr, r.stdout + r.stderr
        # Another key: apt refuses the hotfix's Release.
        other = OldKey.generate()
        try:
            wrong = line.replace(str(key.keyring), str(other.keyring))
            r = _apt(tmp_path / "wrong", [wrong], "update")
        finally:
            other.close()
    finally:
        key.close()
    assert r.returncode != 0 and "NO_PUBKEY" in r.stderr and "is not signed" in r.stderr, r.stdout + r.stderr


def _pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from bundler.upgrade import _pip_env

    cmd = [sys.executable, "-m", "pip", "--python", str(venv), "--no-cache-dir", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_pip_env())


@pytest.mark.parametrize("how", ["extra-index-url", "find-links"])
def test_pip_installs_the_new_set_from_base_and_delta(bundles: Path, tmp_path: Path, how: str) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    venv = tmp_path / "v/bin/python"
    over = (
        ["--extra-index-url", (bundles / "delta/python/simple").as_uri()]
        if how == "extra-index-url"
        else ["--find-links", str(bundles / "delta/python/files")]
    )
    r = _pip(venv, "install", "--index-url", (bundles / "old/python/simple").as_uri(), *over, "foo")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Successfully installed Bar.Lib-1.3 foo-1.1 newdep-1.0" in r.stdout
    assert _pip(venv, "check").returncode == 0


# -- bad input ------------------------------------------------------------------------------------
def test_delta_refuses_bad_pairs(rel: Release, bundles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = bundles / "old.lock", bundles / "new.lock"
    cases = {
        "other-name": (old, dataclasses.replace(rel.new, name="other"), "bundle 'other' is not 'demo'"),
        "other-suite": (old, dataclasses.replace(rel.new, suite="trixie"), "suite 'trixie' is not 'bookworm'"),
        "other-python": (old, dataclasses.replace(rel.new, extra={"python-version": "3.12"}),
                         "python-version '3.12' is not '3.11'"),
        "older": (new, rel.old, "is older than"),
        "downgrade": (old, _replace(rel.old, dataclasses.replace(
            rel.old.packages[[p.name for p in rel.old.packages].index("libgreet1")], version="1.1-1")),
            "deb:libgreet1:amd64 goes down from 1.2-1 to 1.1-1"),
        "same-version-rebuild": (old, _replace(rel.new, dataclasses.replace(
            rel.old.packages[[p.name for p in rel.old.packages].index("libgreet1")], sha256="e" * 64)),
            "deb:libgreet1:amd64 1.2-1: its file differs from OLD's under the same version"),
        "nothing": (old, rel.old, "holds no new or changed package"),
    }  # fmt: skip
    for case, (old_path, new_lock, message) in cases.items():
        new_path = tmp_path / f"{case}.lock"
        write_lock(new_path, new_lock)
        out = tmp_path / f"out-{case}"
        assert main(["delta", str(old_path), str(new_path), str(out)]) == 2, case
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) <= 2, (case, err)
        assert not out.exists(), case
    (tmp_path / "garbage.lock").write_text("not [ a lock")
    assert main(["delta", str(tmp_path / "garbage.lock"), str(new), str(tmp_path / "o1")]) == 2
    assert "garbage.lock: not a valid lock file" in capsys.readouterr().err
    assert main(["delta", str(tmp_path / "missing.lock"), str(new), str(tmp_path / "o2")]) == 2
    assert "missing.lock: cannot read lock" in capsys.readouterr().err
    assert not list(tmp_path.glob("o[12]*")) and not list(tmp_path.glob(".o*"))


def test_failed_delta_leaves_the_previous_one(bundles: Path, rel: Release, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A file of NEW that cannot be fetched: exit 2, and the hotfix bundle and archive already there
    stay as they were, and nothing is left beside OUT (downloads resume from the cache directory)."""
    gone = dataclasses.replace(_wheel(tmp_path, "newdep", "1.0"), url=(tmp_path / "gone.whl").as_uri())
    write_lock(tmp_path / "new.lock", _replace(rel.new, gone))
    out, archive = tmp_path / "out", tmp_path / "hotfix.tar.zst"
    shutil.copytree(bundles / "delta", out)
    archive.write_bytes(b"the previous archive")
    code = main(["delta", str(bundles / "old.lock"), str(tmp_path / "new.lock"), str(out), "-q",
                 "--archive", str(archive)])  # fmt: skip
    assert code == 2 and "gone.whl" in capsys.readouterr().err
    assert _files(out) == _files(bundles / "delta") and archive.read_bytes() == b"the previous archive"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_cli_delta(bundles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    archive = tmp_path / "hotfix.tar.zst"
    args = ["delta", str(bundles / "old.lock"), str(bundles / "new.lock"), str(out), "-q", "--archive", str(archive)]
    assert main(args) == 0
    assert "2 .deb, 3 Python files (3 changed, 2 added, 1 dropped)" in capsys.readouterr().out
    assert _files(out) == _files(bundles / "delta")
    # Its own top directory: unpacked beside the base bundle's archive (top "demo"), it overwrites nothing.
    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(archive.read_bytes())).read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        names = tar.getnames()
    assert names[0] == "demo-updates" and all(n.split("/")[0] == "demo-updates" for n in names)
    assert {n.removeprefix("demo-updates/") for n in names if "/" in n} >= set(_files(out))


def test_verify_a_hotfix_bundle(bundles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    delta = bundles / "delta"
    # Alone: what it ships is checked against the lock, its dependencies are left to --base.
    assert main(["verify", str(delta)]) == 0
    captured = capsys.readouterr()
    assert "dependencies not checked" in captured.out and "give --base BUNDLE" in captured.err
    # With its base: hello 1.1 needs libgreet1 and greet-data, which only the base ships.
    assert main(["verify", str(delta), "--base", str(bundles / "old")]) == 0
    assert "dependencies satisfiable" in capsys.readouterr().out
    # Another bundle as its base is named; a base without what the hotfix needs fails the closure.
    assert main(["verify", str(delta), "--base", str(bundles / "new")]) == 1
    assert "its bundle.lock is not this hotfix bundle's base.lock" in capsys.readouterr().err
    report = verify_bundle(delta, base=delta)
    assert any("Depends 'libgreet1 (>= 1.0)' has no provider" in p for p in report.problems), report.problems
    # A shipped file that is not the lock's is caught although SHA256SUMS and the indexes agree with it.
    copy = tmp_path / "delta"
    shutil.copytree(delta, copy)
    wheel = next((copy / "python" / "files").iterdir())
    locked = next(p for p in read_lock(copy / "bundle.lock").packages if p.filename == wheel.name)
    assert any(f"python/files/{wheel.name}: size/sha256 differ from bundle.lock ({locked.id}" in p
               for p in verify_bundle(_tampered(copy, wheel)).problems)
    assert main(["verify", str(bundles / "old"), "--base", str(bundles / "old")]) == 2


def _tampered(bundle: Path, path: Path) -> Path:
    """`path` changed, and SHA256SUMS made to agree (only the lock still knows the right bytes)."""
    path.write_bytes(path.read_bytes() + b"\0")
    sums = bundle / "SHA256SUMS"
    rel = path.relative_to(bundle).as_posix()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sums.write_text("".join(
        f"{digest}  {rel}\n" if line.endswith(f"  {rel}") else line + "\n" for line in sums.read_text().splitlines()
    ))  # fmt: skip
    return bundle


# -- the upgrade proof ----------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["new-bundle", "delta"])
def test_upgrade_check_holds(bundles: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["upgrade-check", str(bundles / "old.lock"), str(bundles / "new.lock"),
            "--old-bundle", str(bundles / "old"), f"--{how}", str(bundles / ("new" if how == "new-bundle" else "delta"))]  # fmt: skip
    code = main(args)
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "ok: the upgrade" in out.out
    assert "note: deb:extra-tool:amd64: dropped by NEW; dist-upgrade " in out.out
    assert "pip ran on Python" not in out.out  # the locks target this interpreter's Python


def test_upgrade_check_builds_missing_bundles(rel: Release) -> None:
    # Both locks target another Python than the one pip runs on: the proof says so, it is not silent.
    other = {"python-version": f"3.{sys.version_info.minor + 1}"}
    report = upgrade_check(dataclasses.replace(rel.old, extra=other), dataclasses.replace(rel.new, extra=other))
    assert report.ok, report.problems
    assert any(a.startswith("Inst hello [1.0-1] (1.1-1") for a in report.deb_actions), report.deb_actions
    # Only the venv's own distributions (not the *.egg-info of the directory pytest runs in).
    assert report.python_installed == {"bar-lib": "1.3", "foo": "1.1", "newdep": "1.0"}
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"pip ran on Python {host}; the lock targets Python {other['python-version']}" in report.notes


def _debian_only(lock: Lock) -> Lock:
    return dataclasses.replace(lock, packages=tuple(p for p in lock.packages if p.ecosystem == "deb"))


def test_upgrade_check_finds_what_breaks_on_debian(rel: Release, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _debian_only(rel.old)
    build_bundle(old, tmp_path / "old")
    write_lock(tmp_path / "old.lock", old)
    # A downgrade: apt never moves an installed package down, so libgreet1 stays at OLD's version.
    down = _deb(rel.repo, name="libgreet1", version="1.1-1", source="libgreet", provides="greeter (= 1.1)")
    # hello 1.2-1 Breaks the extra-tool NEW still holds: dist-upgrade must give up one of them.
    breaking = _deb(rel.repo, "deb:libgreet1:amd64,deb:greet-data:all", name="hello", version="1.2-1",
                    depends="libgreet1 (>= 1.0), greeting-data | nothing-else", breaks="extra-tool (<< 0.2)")  # fmt: skip
    cases = {
        "downgrade": (_replace(old, down), ["deb:libgreet1:amd64: stays at 1.2-1, NEW has 1.1-1"]),
        "breaks": (_replace(old, breaking), ["deb:extra-tool:amd64: dist-upgrade removes it (0.1), NEW holds 0.1"]),
    }  # fmt: skip
    for case, (new, reasons) in cases.items():
        write_lock(tmp_path / f"{case}.lock", new)
        build_bundle(new, tmp_path / case)
        args = ["upgrade-check", str(tmp_path / "old.lock"), str(tmp_path / f"{case}.lock"),
                "--old-bundle", str(tmp_path / "old"), "--new-bundle", str(tmp_path / case)]  # fmt: skip
        assert main(args) == 1, case
        err = capsys.readouterr().err
        assert [line for line in err.splitlines() if line.startswith("breaks:")] == [f"breaks: {r}" for r in reasons]


def test_upgrade_check_runs_pip_check(rel: Release, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """OLD also held plugin (needs foo<1.1); NEW dropped it: pip leaves it installed, and broken."""
    old = _replace(rel.old, rel.plugin)
    write_lock(tmp_path / "old.lock", old)
    write_lock(tmp_path / "new.lock", rel.new)
    build_delta(old, rel.new, tmp_path / "delta")
    args = ["upgrade-check", str(tmp_path / "old.lock"), str(tmp_path / "new.lock"), "--delta", str(tmp_path / "delta"),
            "--json"]  # fmt: skip
    assert main(args) == 1
    doc = assert_strict("upgrade-check", json.loads(capsys.readouterr().out), free=("python",))
    assert doc["ok"] is False
    assert doc["problems"] == ["pip check: plugin 1.0 has requirement foo<1.1, but you have foo 1.1."]
    assert "python:plugin: dropped by NEW; pip leaves 1.0 installed" in doc["notes"]
    assert doc["python"]["plugin"] == "1.0" and doc["python"]["foo"] == "1.1"
    assert any(a.startswith("Inst hello [1.0-1] (1.1-1") for a in doc["apt"]), doc["apt"]


def test_upgrade_check_bad_input(bundles: Path, rel: Release, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = str(bundles / "old.lock"), str(bundles / "new.lock")
    write_lock(tmp_path / "other.lock", dataclasses.replace(rel.new, name="other"))
    runs = {
        "another bundle": (["upgrade-check", old, str(tmp_path / "other.lock")], "bundle 'other' is not 'demo'"),
        "wrong old bundle": (["upgrade-check", old, new, "--old-bundle", str(bundles / "new")],
                             "its bundle.lock is not"),
        "delta of another base": (["upgrade-check", old, new, "--new-bundle", str(bundles / "new"),
                                   "--delta", str(bundles / "delta")], "not both"),
        "not a bundle": (["upgrade-check", old, new, "--delta", str(tmp_path)], "not a hotfix bundle (no bundle.lock)"),
        "unreadable": (["upgrade-check", str(tmp_path / "nope.lock"), new], "nope.lock: cannot read lock"),
    }  # fmt: skip
    for case, (args, message) in runs.items():
        assert main(args) == 2, case
        assert message in capsys.readouterr().err, case


# -- bundler solve --since ------------------------------------------------------------------------
DEMO = REPO / "examples" / "demo"


def _demo(tmp_path: Path) -> Path:
    """The demo with an OLD spec beside it: openssl fixed at 3.0.9-1 (no CVE veto on libssl3) and
    pyyaml-lite kept below 5.4; the demo's own spec is the hotfix (openssl 3.0.11, the vetoes)."""
    work = tmp_path / "demo"
    shutil.copytree(DEMO / "debian", work / "debian")
    shutil.copytree(DEMO / "wheels", work / "wheels")
    spec = (DEMO / "bundle.toml").read_text()
    (work / "bundle.toml").write_text(spec)
    old = spec.replace('fix = ["openssl (= 3.0.11-1~deb12u2)"]', 'fix = ["openssl (= 3.0.9-1)"]')
    old = old.replace('    { package = "libssl3", version = "<< 3.0.11", reason = "CVE-2023-5363" },\n', "")
    old = old.replace('veto = [{ package = "pyyaml-lite", version = "<5.4", reason = "CVE-2020-14343" }]',
                      'constraints = ["pyyaml-lite<5.4", "demo-config<2.1"]')  # fmt: skip
    assert old.count("3.0.9-1") == 1 and "CVE" not in old
    (work / "old.toml").write_text(old)
    return work


def test_solve_since_writes_the_hotfix_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = _demo(tmp_path)
    cache = ["--cache-dir", str(work / "cache"), "-q"]
    assert main(["solve", str(work / "old.toml"), "-o", str(work / "old.lock"), "--bundle", str(work / "old"), *cache]) == 0
    assert main(["solve", str(work / "bundle.toml"), "-o", str(work / "new.lock"), "--since", str(work / "old.lock"),
                 "--bundle", str(work / "hotfix"), *cache]) == 0  # fmt: skip
    readme = (work / "hotfix/README").read_text()
    assert "~ deb:openssl:amd64 3.0.9-1 -> 3.0.11-1~deb12u2   [fix]" in readme
    assert ("~ deb:libssl3:amd64 3.0.9-1 -> 3.0.11-1~deb12u2   [same source as the fix of openssl "
            "(openssl 3.0.11-1~deb12u2); veto libssl3 (<< 3.0.11): CVE-2023-5363]") in readme  # fmt: skip
    assert "~ python:pyyaml-lite 5.3.0 -> 6.0.1   [veto pyyaml-lite (<5.4): CVE-2020-14343]" in readme
    assert sorted(p.name for p in (work / "hotfix").rglob("*.deb")) == [
        "libssl3_3.0.11-1~deb12u2_amd64.deb", "openssl_3.0.11-1~deb12u2_amd64.deb"]  # fmt: skip
    assert (work / "hotfix/bundle.lock").read_bytes() == (work / "new.lock").read_bytes()
    # The base's versions are kept where they still fit, though new.lock did not exist before:
    # demo-config stays at 2.0.0 (2.1.0 is in the index), so the hotfix does not carry it.
    versions = {p.name: p.version for p in read_lock(work / "new.lock").packages}
    assert versions["demo-config"] == "2.0.0" and "demo-config" not in readme
    capsys.readouterr()
    code = main(["upgrade-check", str(work / "old.lock"), str(work / "new.lock"),
                 "--old-bundle", str(work / "old"), "--delta", str(work / "hotfix")])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    # A hotfix of another bundle is refused before anything is written: no lock, no bundle.
    (work / "other.toml").write_text((work / "bundle.toml").read_text().replace('name = "demo"', 'name = "other"'))
    code = main(["solve", str(work / "other.toml"), "-o", str(work / "other.lock"), "--since", str(work / "old.lock"),
                 "--bundle", str(work / "other"), *cache])  # fmt: skip
    assert code == 2 and "bundle 'other' is not 'demo'" in capsys.readouterr().err
    assert not (work / "other.lock").exists() and not (work / "other").exists()
    assert main(["solve", str(work / "bundle.toml"), "--since", str(work / "old.lock"), *cache]) == 2
    assert "--since needs --bundle" in capsys.readouterr().err
