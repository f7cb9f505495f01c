"""`bundler solve / why / graph` end to end on real repositories built in the test (file:// and HTTP),
checked by the independent checker and by the real apt-get."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bundler.lock import read_lock
from tests.support.apt import IsolatedApt
from tests.support.debcheck import Pkg, check_install_set
from tests.support.debrepo import DebRepo
from tests.support.http import serve_directory

ROOTS = ["demo-api"]


def make_repo(root: Path) -> DebRepo:
    repo = DebRepo(root)
    a = repo.add
    a("bookworm", "main", name="demo-api", version="2:27.0.0-1", arch="all",
      depends="python3-demo (= 2:27.0.0-1), adduser, default-mta | mail-transport-agent", source="demo")
    a("bookworm", "main", name="python3-demo", version="2:27.0.0-1", arch="all",
      depends="python3 (>= 3.11), libdemo-util (>= 1.2), libssl3", source="demo")
    a("bookworm", "main", name="libdemo-util", version="1.2-1", depends="libc6 (>= 2.36)")
    a("bookworm", "main", name="libdemo-util", version="1.4-1", depends="libc6 (>= 2.36), libzstd1")
    a("bookworm", "main", name="libzstd1", version="1.5.4+dfsg2-5", depends="libc6 (>= 2.34)")
    a("bookworm", "main", name="libc6", version="2.36-9+deb12u4", multi_arch="same")
    a("bookworm", "main", name="python3", version="3.11.2-1+b1", multi_arch="allowed", depends="libc6")
    a("bookworm", "main", name="adduser", version="3.134", arch="all", multi_arch="foreign")
    a("bookworm", "main", name="exim4-daemon-light", version="4.96-15+deb12u6",
      provides="mail-transport-agent", conflicts="mail-transport-agent")
    a("bookworm", "main", name="postfix", version="3.7.11-0+deb12u1",
      provides="mail-transport-agent", conflicts="mail-transport-agent", depends="libssl3")
    a("bookworm", "main", name="openssl", version="3.0.9-1", depends="libssl3 (>= 3.0.9)", source="openssl")
    a("bookworm", "main", name="libssl3", version="3.0.9-1", depends="libc6 (>= 2.34)", source="openssl")
    a("bookworm-updates", "main", name="openssl", version="3.0.11-1~deb12u2", depends="libssl3 (>= 3.0.11)",
      source="openssl")
    a("bookworm-updates", "main", name="libssl3", version="3.0.11-1~deb12u2", depends="libc6 (>= 2.34)",
      source="openssl")
    a("bookworm-updates", "main", name="libssl3", version="3.0.13-1~deb12u1", depends="libc6 (>= 2.34)",
      source="openssl")
    repo.write(compressions=(".xz", ".gz"))
    return repo


SPEC = """
[bundle]
name = "demo"
[[debian.sources]]
uri = "{uri}"
suites = ["bookworm", "bookworm-updates"]
components = ["main"]
architectures = ["amd64"]
trusted = true
[debian]
require = {require}
fix = {fix}
veto = [{{ package = "exim4-daemon-light", reason = "we ship postfix" }},
        {{ package = "libssl3", version = "<< 3.0.11", reason = "CVE-2023-5363" }}]
"""


def bundler(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLER_")}
    return subprocess.run([sys.executable, "-m", "bundler", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env)


def write_spec(tmp: Path, uri: str, require: list[str] = ROOTS, fix: list[str] | None = None) -> Path:
    spec = tmp / "bundle.toml"
    spec.write_text(SPEC.format(uri=uri, require=json.dumps(require), fix=json.dumps(fix or [])))
    return spec


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> DebRepo:
    return make_repo(tmp_path_factory.mktemp("mirror"))


def _check_lock_with_checker(repo: DebRepo, lock_path: Path, roots: list[str]) -> None:
    lock = read_lock(lock_path)
    fields = {(e.fields["Package"], e.fields["Version"]): e.fields for e in repo.entries}
    members = []
    for p in lock.packages:
        f = fields[(p.name, p.version)]
        members.append(Pkg(p.name, p.version, p.architecture, f.get("Depends", ""), f.get("Pre-Depends", ""),
                           f.get("Conflicts", ""), f.get("Breaks", ""), f.get("Provides", "")))
    assert check_install_set(members, roots, {"exim4-daemon-light": (None, None), "libssl3": ("<<", "3.0.11")}) == []


def test_solve_file_repo_writes_a_deterministic_lock(repo: DebRepo, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, repo.root.as_uri(), fix=["openssl (= 3.0.11-1~deb12u2)"])
    proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    lock_path = tmp_path / "bundle.lock"
    first = lock_path.read_bytes()
    lock = read_lock(lock_path)
    got = {p.name: p.version for p in lock.packages}
    assert got["postfix"] == "3.7.11-0+deb12u1" and "exim4-daemon-light" not in got
    # The fix moves libssl3 with its source, though 3.0.13 is newer.
    assert got["openssl"] == "3.0.11-1~deb12u2" and got["libssl3"] == "3.0.11-1~deb12u2"
    assert got["libdemo-util"] == "1.4-1" and "libzstd1" in got
    assert "fix openssl (= 3.0.11-1~deb12u2)" in proc.stdout
    assert "veto libssl3 (<< 3.0.11) (CVE-2023-5363)" in proc.stdout
    _check_lock_with_checker(repo, lock_path, ROOTS + ["openssl (= 3.0.11-1~deb12u2)"])
    entry = next(p for p in lock.packages if p.name == "libzstd1")
    assert entry.filename == "pool/main/libz/libzstd1/libzstd1_1.5.4+dfsg2-5_amd64.deb"
    assert entry.repository == f"{repo.root.as_uri()} bookworm main"
    assert len(entry.sha256) == 64 and entry.size > 0
    assert len(lock.indexes) == 2
    # Same inputs, same bytes: again, and again offline from the cache.
    lock_path.unlink()
    assert bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--offline").returncode == 0
    assert lock_path.read_bytes() == first


def test_a_solve_waits_for_its_index_cache(repo: DebRepo, tmp_path: Path) -> None:
    # The index cache is written on a thread behind the solve, and the CLI leaves by os._exit: it must
    # wait for that thread. A slowed-down writer makes the race certain to be lost without the wait.
    spec = write_spec(tmp_path, repo.root.as_uri())
    slow_writer = (
        "import sys, time\n"
        "import repos.deb.cache as cache\n"
        "write = cache.write_atomic\n"
        "cache.write_atomic = lambda *a, **k: (time.sleep(0.5), write(*a, **k))\n"
        "from bundler.cli import run\n"
        "sys.argv = ['bundler', *sys.argv[1:]]\n"
        "run()\n"
    )
    args = ["solve", str(spec), "--cache-dir", str(tmp_path / "cache")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLER_")}
    proc = subprocess.run([sys.executable, "-c", slow_writer, *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "cache").rglob("*.idx"))
    assert bundler(*args, "--offline").returncode == 0


def test_solve_over_http_and_json_summary(repo: DebRepo, tmp_path: Path) -> None:
    with serve_directory(repo.root) as server:
        spec = write_spec(tmp_path, server.url)
        proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--json", "-o", tmp_path / "x.lock")
        assert proc.returncode == 0, proc.stderr
        assert any(r.path.endswith("InRelease") or r.path.endswith("Release") for r in server.requests)
    summary = json.loads(proc.stdout)
    assert summary["packages"]["deb"] == len(read_lock(tmp_path / "x.lock").packages)
    assert summary["debian"]["vetoes"][0]["reason"] in ("we ship postfix", "CVE-2023-5363")


def test_apt_accepts_the_locked_set(repo: DebRepo, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, repo.root.as_uri())
    assert bundler("solve", spec, "--cache-dir", tmp_path / "cache").returncode == 0
    lock = read_lock(tmp_path / "bundle.lock")
    # A repository holding exactly the locked set: apt must be able to install the roots from it.
    only = DebRepo(tmp_path / "only")
    chosen = {(p.name, p.version) for p in lock.packages}
    for e in repo.entries:
        if (e.fields["Package"], e.fields["Version"]) in chosen:
            kwargs = {k.lower().replace("-", "_"): v for k, v in e.fields.items()
                      if k in ("Depends", "Pre-Depends", "Conflicts", "Breaks", "Provides", "Multi-Arch")}
            only.add("bundle", "main", name=e.fields["Package"], version=e.fields["Version"],
                     arch=e.fields["Architecture"], source=e.fields.get("Source"), **kwargs)
    only.write(compressions=("",))
    apt = IsolatedApt(tmp_path / "apt")
    apt.sources.write_text(f"deb [trusted=yes] {only.root.as_uri()} bundle main\n")
    update = apt.run("update")
    assert update.returncode == 0, update.stderr
    proc, installs = apt.simulate_install(*ROOTS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(n for n, _ in installs) == sorted(n for n, _ in chosen)


def test_unsatisfiable_exits_1_with_explanation(repo: DebRepo, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, repo.root.as_uri(), fix=["libssl3 (= 3.0.9-1)"])
    proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache")
    assert proc.returncode == 1
    assert "you fix libssl3 (= 3.0.9-1)" in proc.stderr
    assert "is vetoed (CVE-2023-5363)" in proc.stderr
    assert "hint:" in proc.stderr
    assert not (tmp_path / "bundle.lock").exists()


@pytest.mark.parametrize(
    ("require", "fragment"),
    [
        (["demo-api (>= x1)"], "invalid version 'x1'"),
        (["demo-api, foo"], "bad requirement"),
        (["Demo_API"], "bad requirement"),
    ],
)
def test_bad_requirements_exit_2(repo: DebRepo, tmp_path: Path, require: list[str], fragment: str) -> None:
    spec = write_spec(tmp_path, repo.root.as_uri(), require=require)
    proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache")
    assert proc.returncode == 2
    assert fragment in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_repository_exits_2(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, (tmp_path / "nowhere").as_uri())
    proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache")
    assert proc.returncode == 2
    assert "nowhere" in proc.stderr


def test_resolve_keeps_previous_versions_unless_upgrade(repo: DebRepo, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, repo.root.as_uri())
    assert bundler("solve", spec, "--cache-dir", tmp_path / "cache").returncode == 0
    lock_path = tmp_path / "bundle.lock"
    text = lock_path.read_text().replace('version = "1.4-1"', 'version = "1.2-1"')
    lock_path.write_text(text)
    assert bundler("solve", spec, "--cache-dir", tmp_path / "cache").returncode == 0
    assert {p.name: p.version for p in read_lock(lock_path).packages}["libdemo-util"] == "1.2-1"
    assert bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--upgrade").returncode == 0
    assert {p.name: p.version for p in read_lock(lock_path).packages}["libdemo-util"] == "1.4-1"


def test_why_and_graph(repo: DebRepo, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, repo.root.as_uri())
    assert bundler("solve", spec, "--cache-dir", tmp_path / "cache").returncode == 0
    lock = tmp_path / "bundle.lock"
    why = bundler("why", lock, "libzstd1")
    assert why.returncode == 0, why.stderr
    assert "demo-api 2:27.0.0-1 → python3-demo 2:27.0.0-1 → libdemo-util 1.4-1 → libzstd1 1.5.4+dfsg2-5" in why.stdout
    assert bundler("why", lock, "no-such-package").returncode == 2
    dot = bundler("graph", lock, "--format", "dot")
    assert dot.returncode == 0 and '"deb:libdemo-util:amd64" -> "deb:libzstd1:amd64"' in dot.stdout
    js = json.loads(bundler("graph", lock, "--format", "json").stdout)
    assert any(n["id"] == "deb:postfix:amd64" for n in js["nodes"])
    gml = bundler("graph", lock, "--format", "graphml")
    assert gml.returncode == 0 and "<graphml" in gml.stdout


def test_check_reports_uninstallable_packages(tmp_path: Path) -> None:
    repo = DebRepo(tmp_path / "mirror")
    repo.add("bookworm", "main", name="good", version="1", depends="lib")
    repo.add("bookworm", "main", name="lib", version="1")
    repo.add("bookworm", "main", name="orphan", version="1", depends="gone (>= 2)")
    repo.add("bookworm-updates", "main", name="gone", version="1")
    repo.add("bookworm", "main", name="clash", version="1", depends="lib", conflicts="lib")
    repo.write(compressions=("",))
    spec = write_spec(tmp_path, repo.root.as_uri())
    proc = bundler("check", spec, "--cache-dir", tmp_path / "cache")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("5 packages checked, 3 installable, 2 not")
    assert "orphan 1 depends on gone (>= 2), but no available version fits for amd64 (available: 1)" in proc.stdout
    assert "clash 1 (amd64) cannot be installed" in proc.stdout
    data = json.loads(bundler("check", spec, "--cache-dir", tmp_path / "cache", "--json").stdout)
    assert sorted(b["package"] for b in data["broken"]) == ["clash", "orphan"]


def test_same_lock_without_python_apt(repo: DebRepo, tmp_path: Path) -> None:
    """Everything works without python-apt: the pure-Python version comparison gives the
    very same lock (apt_pkg is hidden by a module on PYTHONPATH that fails to import)."""
    spec = write_spec(tmp_path, repo.root.as_uri(), fix=["openssl (= 3.0.11-1~deb12u2)"])
    assert bundler("solve", spec, "--cache-dir", tmp_path / "c1", "-o", tmp_path / "with.lock").returncode == 0
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "apt_pkg.py").write_text("raise ImportError('hidden by the test')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLER_")}
    env["PYTHONPATH"] = f"{hide}{os.pathsep}{env.get('PYTHONPATH', '')}"
    probe = subprocess.run([sys.executable, "-c", "import solver.debversion as d; print(d.HAVE_APT_PKG)"],
                           capture_output=True, text=True, env=env)
    assert probe.stdout.split() == ["False"], probe.stderr
    proc = subprocess.run([sys.executable, "-m", "bundler", "solve", str(spec), "--cache-dir", str(tmp_path / "c2"),
                           "-o", str(tmp_path / "without.lock")], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "without.lock").read_bytes() == (tmp_path / "with.lock").read_bytes()


def test_mirror_closure_from_the_command_line(tmp_path: Path) -> None:
    mirror_repo = DebRepo(tmp_path / "mirror")
    mirror_repo.add("bookworm", "main", name="app", version="1", depends="web | httpd")
    mirror_repo.add("bookworm", "main", name="web", version="1")
    mirror_repo.add("bookworm", "main", name="nginx", version="1", provides="httpd", depends="libpcre")
    mirror_repo.add("bookworm", "main", name="libpcre", version="1")
    mirror_repo.add("bookworm", "main", name="apache2", version="1", provides="httpd")
    mirror_repo.add("bookworm-updates", "main", name="unrelated", version="1")
    mirror_repo.write(compressions=("",))
    spec = write_spec(tmp_path, mirror_repo.root.as_uri(), require=["app"])
    text = spec.read_text().replace('package = "exim4-daemon-light"', 'package = "apache2"')
    spec.write_text(text)
    assert bundler("solve", spec, "--cache-dir", tmp_path / "cache").returncode == 0
    install = {p.name for p in read_lock(tmp_path / "bundle.lock").packages}
    assert install == {"app", "web"}
    proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--closure", "mirror", "-o", tmp_path / "m.lock")
    assert proc.returncode == 0, proc.stderr
    # Every alternative and provider a dependency admits, and what they need; vetoes still apply.
    assert {p.name for p in read_lock(tmp_path / "m.lock").packages} == {"app", "web", "nginx", "libpcre"}
    assert "mirror closure added 2" in proc.stdout
    bad = bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--closure", "everything")
    assert bad.returncode == 2 and "--closure must be 'install' or 'mirror'" in bad.stderr


def test_diff_between_two_locks(repo: DebRepo, tmp_path: Path) -> None:
    plain = write_spec(tmp_path, repo.root.as_uri())
    assert bundler("solve", plain, "--cache-dir", tmp_path / "cache", "-o", tmp_path / "a.lock").returncode == 0
    fixed = write_spec(tmp_path, repo.root.as_uri(), fix=["openssl (= 3.0.11-1~deb12u2)"])
    assert bundler("solve", fixed, "--cache-dir", tmp_path / "cache", "-o", tmp_path / "b.lock").returncode == 0
    proc = bundler("diff", tmp_path / "a.lock", tmp_path / "b.lock", "--why")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert "~ deb:libssl3:amd64 3.0.13-1~deb12u1 → 3.0.11-1~deb12u2" in lines[0]
    assert lines[1].startswith("+ deb:openssl:amd64 3.0.11-1~deb12u2")
    assert lines[-1] == "1 added, 0 removed, 1 changed"
    same = bundler("diff", tmp_path / "a.lock", tmp_path / "a.lock")
    assert same.returncode == 0 and same.stdout.strip() == "0 added, 0 removed, 0 changed"
    data = json.loads(bundler("diff", tmp_path / "a.lock", tmp_path / "b.lock", "--json").stdout)
    assert [c["kind"] for c in data] == ["changed", "added"]
