"""The peers: how each tool is run on the same work, and how its answer is read back.

Every runner returns a `measure.Run`: wall time of the whole subprocess (the primary figure, as a user
would see it), the tool's own phase timings when it reports them, and its answer (solved or not, how
many packages, which ones) so the report can compare answers as well as times.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .inputs import DebIndex
from .measure import Run, timed

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"
VENV_BIN = Path(sys.executable).parent


def which(name: str) -> str | None:
    local = VENV_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


_PROBE: dict[str, bool] | None = None


def system_modules() -> dict[str, bool]:
    """Which of apt_pkg and solv the system Python can import."""
    global _PROBE
    if _PROBE is None:
        try:
            out = subprocess.run(
                [SYSTEM_PYTHON, str(HERE / "sysprobe.py"), "probe"], capture_output=True, text=True, timeout=60
            )
            _PROBE = json.loads(out.stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            _PROBE = {"apt_pkg": False, "solv": False}
    return _PROBE


def _sysprobe(args: list[str], timeout: float) -> Run:
    seconds, proc = timed([SYSTEM_PYTHON, str(HERE / "sysprobe.py"), *args], timeout=timeout)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode != 0:
        return Run(seconds, False, error=_tail(proc.stderr))
    answer = json.loads(proc.stdout)
    internal = {k: v for k, v in answer.items() if k.endswith("_s")}
    return Run(seconds, True, answer=answer, internal=internal)


def _tail(text: str | bytes, lines: int = 3) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return " | ".join(text.strip().splitlines()[-lines:])[-400:]


# --- index load -----------------------------------------------------------------------------------


def tagfile_load(indexes: list[DebIndex], timeout: float) -> Run:
    run = _sysprobe(["tagfile", *(str(i.packages_path) for i in indexes)], timeout)
    if run.ok:
        run.answer = {"stanzas": run.answer["stanzas"], "load_s": run.answer["load_s"]}
    return run


def solv_load(indexes: list[DebIndex], timeout: float) -> Run:
    run = _sysprobe(["solv-load", *(str(i.packages_path) for i in indexes)], timeout)
    if run.ok:
        run.answer = {"stanzas": run.answer["solvables"], "load_s": run.answer["load_s"]}
    return run


# --- libsolv solve ----------------------------------------------------------------------------------


def solv_solve(indexes: list[DebIndex], roots: list[str], timeout: float, weak: bool = False) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".roots", delete=False) as f:
        f.write("\n".join(roots) + "\n")
    try:
        cmd = "solv-weak" if weak else "solv-solve"
        run = _sysprobe([cmd, f.name, *(str(i.packages_path) for i in indexes)], timeout)
    finally:
        os.unlink(f.name)
    if run.ok:
        run.answer["solved"] = bool(run.answer.get("solved"))
    return run


# --- apt ----------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    # apt's QuoteString(…, "\\|{}[]<>\"^~_=!@#$%^&*"): those and controls/non-ASCII become %xx.
    bad = set('\\|{}[]<>"^~_=!@#$%^&*')
    return "".join(f"%{ord(c):02x}" if c in bad or ord(c) <= 0x20 or ord(c) >= 0x7F else c for c in text)


def apt_list_name(uri: str, path: str) -> str:
    """apt's URItoFileName: the name a downloaded index gets in Dir::State::Lists."""
    full = uri.rstrip("/") + "/" + path
    rest = re.sub(r"^[a-z+]+:", "", full)  # the access method is dropped
    if rest.startswith("//"):  # host form: "//user:pass@host/path" -> "host/path"
        rest = re.sub(r"^//([^@/]*@)?", "", rest)
    return _quote(rest).replace("/", "_")  # file:/srv/x -> "_srv_x_…", as apt names it


class AptRoot:
    """An isolated apt configuration over cached index files: empty status, own lists, own cache."""

    def __init__(self, indexes: list[DebIndex], workdir: Path) -> None:
        self.dir = workdir
        self.indexes = indexes
        shutil.rmtree(workdir, ignore_errors=True)
        for sub in ("lists/partial", "cache/archives/partial", "sources.list.d", "preferences.d", "apt.conf.d"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        (workdir / "status").write_text("")
        # Read first (APT_CONFIG), so the host's apt.conf.d (which may disable pkgcache.bin, set proxies or
        # Install-Recommends) never applies: parts and main config point into this root.
        (workdir / "apt.conf").write_text(
            f'Dir::Etc::Parts "{workdir / "apt.conf.d"}";\nDir::Etc::Main "/dev/null";\n'
        )
        lines = []
        for i in indexes:
            # One sources line per (uri, suite); the lists hold exactly the cached files.
            line = f"deb [trusted=yes arch={i.arch}] {i.uri} {i.suite} {i.component}"
            if line not in lines:
                lines.append(line)
            release = workdir / "lists" / apt_list_name(i.uri, f"dists/{i.suite}/{i.release_name}")
            packages = workdir / "lists" / apt_list_name(
                i.uri, f"dists/{i.suite}/{i.component}/binary-{i.arch}/Packages"
            )
            for src, dst in ((i.release_path, release), (i.packages_path, packages)):
                if not dst.exists():
                    os.symlink(src, dst)
        (workdir / "sources.list").write_text("\n".join(lines) + "\n")

    def options(self) -> list[str]:
        d = self.dir
        opts = {
            "Dir::State::status": d / "status",
            "Dir::State::Lists": d / "lists",
            "Dir::State::extended_states": d / "extended_states",
            "Dir::Cache": d / "cache",
            "Dir::Cache::pkgcache": "pkgcache.bin",
            "Dir::Cache::srcpkgcache": "srcpkgcache.bin",
            "Dir::Etc::SourceList": d / "sources.list",
            "Dir::Etc::SourceParts": d / "sources.list.d",
            "Dir::Etc::Preferences": d / "preferences",
            "Dir::Etc::PreferencesParts": d / "preferences.d",
            "Dir::Etc::Parts": d / "apt.conf.d",
            "APT::Install-Recommends": "false",
            "APT::Install-Suggests": "false",
            "APT::Architecture": "amd64",
            "Acquire::Check-Valid-Until": "false",
            "Debug::NoLocking": "1",
        }
        out = []
        for k, v in opts.items():
            out += ["-o", f"{k}={v}"]
        return out

    def env(self) -> dict[str, str]:
        # APT_CONFIG: the host's apt.conf must not leak in (e.g. proxies, Install-Recommends).
        return dict(os.environ, APT_CONFIG=str(self.dir / "apt.conf"), LC_ALL="C")

    def drop_cache(self) -> None:
        for name in ("pkgcache.bin", "srcpkgcache.bin"):
            (self.dir / "cache" / name).unlink(missing_ok=True)

    def install(self, args: list[str], timeout: float, cold: bool = False) -> Run:
        """`apt-get -s install ARGS`; the answer counts the Inst lines (new packages)."""
        if cold:
            self.drop_cache()
        cmd = ["apt-get", "-s", "-q", *self.options(), "install", *args]
        seconds, proc = timed(cmd, env=self.env(), timeout=timeout)
        if proc is None:
            return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
        out = proc.stdout.decode(errors="replace")
        inst = sorted(
            f"{m.group(1)}={m.group(2)}" for m in re.finditer(r"^Inst (\S+) \((\S+)", out, re.M)
        )
        solved = proc.returncode == 0
        answer: dict[str, object] = {"solved": solved, "count": len(inst), "packages": inst}
        if not solved:
            answer["error"] = _tail(proc.stderr + proc.stdout, 4)
            if "Unable to locate package" in proc.stderr.decode(errors="replace"):
                answer["unknown"] = re.findall(r"Unable to locate package (\S+)", proc.stderr.decode())
        # apt exits 100 both for "unsolvable" and for real errors; both are a valid answer here.
        return Run(seconds, True, answer=answer)


# --- dose ---------------------------------------------------------------------------------------


def dose_check(indexes: list[DebIndex], timeout: float) -> Run:
    cmd = ["dose-distcheck", "--deb-native-arch=amd64", "--failures"]  # report only what is broken
    cmd += [f"deb://{i.packages_path}" for i in indexes]
    seconds, proc = timed(cmd, timeout=timeout)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    out = proc.stdout.decode(errors="replace")
    total = re.search(r"^total-packages: (\d+)", out, re.M)
    broken = re.search(r"^broken-packages: (\d+)", out, re.M)
    if proc.returncode not in (0, 1) or not total:
        return Run(seconds, False, error=_tail(proc.stderr + proc.stdout))
    names, current = set(), None
    for line in out.splitlines():  # top-level entries are indented by two spaces
        if line.startswith("  package: "):
            current = line.split(": ", 1)[1].strip()
        elif line.startswith("  status: broken") and current:
            names.add(current)
    names = sorted(names)
    return Run(
        seconds,
        True,
        answer={
            "total": int(total.group(1)),
            "broken": int(broken.group(1)) if broken else 0,
            "broken_packages": names,
        },
    )


def installcheck(indexes: list[DebIndex], timeout: float, arch: str = "amd64") -> Run:
    """libsolv's own archive-wide check (libsolv-tools): `installcheck ARCH PACKAGES...`, the same files
    dose reads. It prints `can't install NAME-EVR.ARCH:` and the reasons for each broken package."""
    cmd = ["installcheck", arch, *(str(i.packages_path) for i in indexes)]
    seconds, proc = timed(cmd, timeout=timeout)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode not in (0, 1):
        return Run(seconds, False, error=_tail(proc.stderr + proc.stdout))
    out = proc.stdout.decode(errors="replace")
    broken = sorted(set(re.findall(r"^can't install (\S+):$", out, re.M)))  # a package may come twice
    names = sorted({_solv_name(b) for b in broken})
    # installcheck prints no total; the stanza count of the same files stands in for it
    return Run(seconds, True, answer={"total": sum(i.stanzas for i in indexes), "broken": len(broken),
                                      "broken_packages": names})  # fmt: skip


def _solv_name(nevra: str) -> str:
    """`console-setup-freebsd-1.221.all` → `console-setup-freebsd`: libsolv writes name-evr.arch; a
    Debian revision adds a second '-', and a version starts with a digit."""
    stem = nevra.rsplit(".", 1)[0]
    m = re.match(r"^(.+?)-(?:\d+:)?\d[^-]*(?:-[^-]+)?$", stem)
    return m.group(1) if m else stem


# --- Python resolvers ----------------------------------------------------------------------------


class PyTarget:
    """What to resolve and where from: the same for bundler, uv and pip."""

    def __init__(
        self,
        requirements: Path,
        constraints: Path | None,
        index: str | None,
        find_links: Path | None = None,
        python_version: str = "3.11",
        bundler_extra: str = "",
        platform: str = "manylinux_2_28_x86_64",
    ) -> None:
        self.bundler_extra = bundler_extra  # TOML appended to bundler's spec only (see its callers)
        self.requirements = requirements
        self.constraints = constraints
        self.index = index
        self.find_links = find_links
        self.python_version = python_version
        self.platform = platform


def count_pins(text: str) -> list[str]:
    return sorted(
        m.group(1).lower() + "==" + m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+?)(?:\s|;|\\|$)", text, re.M)
    )


def uv_command(uv: str, target: PyTarget, out: Path, offline: bool = False) -> list[str]:
    """`uv pip compile` of the target into `out`, as the harness times it (and benchmarks.alternate)."""
    cmd = [uv, "pip", "compile", "--no-config", "--quiet", "--generate-hashes"]
    cmd += ["--python-version", target.python_version, "--python-platform", _uv_platform(target.platform)]
    if target.index:
        cmd += ["--index-url", target.index]
    else:
        cmd += ["--no-index"]
    if target.find_links:
        cmd += ["--find-links", str(target.find_links)]
    if offline:
        cmd += ["--offline"]
    cmd += [str(target.requirements), "-o", str(out)]
    if target.constraints:
        cmd += ["-c", str(target.constraints)]
    return cmd


def uv_compile(target: PyTarget, cache_dir: Path, timeout: float, offline: bool = False) -> Run:
    uv = which("uv")
    if not uv:
        return Run(0.0, False, error="uv not installed")
    with tempfile.TemporaryDirectory(prefix="uv-out-") as tmp:
        out = Path(tmp) / "requirements.txt"
        cmd = uv_command(uv, target, out, offline)
        env = dict(os.environ, UV_CACHE_DIR=str(cache_dir), UV_NO_PROGRESS="1")
        seconds, proc = timed(cmd, env=env, timeout=timeout)
        if proc is None:
            return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
        if proc.returncode != 0:
            return Run(seconds, True, answer={"solved": False, "count": 0, "error": _tail(proc.stderr, 4)})
        pins = count_pins(out.read_text())
        return Run(seconds, True, answer={"solved": True, "count": len(pins), "packages": pins})


def _platform_tags(tag: str) -> list[str]:
    """pip (before 23.1) takes --platform literally: list every manylinux tag the target accepts (PEP 600)."""
    m = re.match(r"manylinux_2_(\d+)_(\w+)$", tag)
    if not m:
        return [tag]
    minor, arch = int(m.group(1)), m.group(2)
    tags = [f"manylinux_2_{n}_{arch}" for n in range(minor, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags += [f"{name}_{arch}" for n, name in legacy.items() if n <= minor]
    return tags


def _uv_platform(tag: str) -> str:
    # wheel tag manylinux_2_28_x86_64 -> uv's target triple x86_64-manylinux_2_28
    m = re.match(r"manylinux_(\d+)_(\d+)_(\w+)$", tag)
    return f"{m.group(3)}-manylinux_{m.group(1)}_{m.group(2)}" if m else tag


def pip_dry_run(target: PyTarget, cache_dir: Path | None, timeout: float) -> Run:
    """`pip install --dry-run --report -` for the target (ignore-installed, wheels only: a foreign target)."""
    target_dir = tempfile.mkdtemp(prefix="pip-target-")  # pip wants --target with --platform; nothing is written
    cmd = [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed"]
    cmd += ["--target", target_dir]
    cmd += ["--quiet", "--report", "-", "--python-version", target.python_version]
    for tag in _platform_tags(target.platform):
        cmd += ["--platform", tag]
    cmd += ["--implementation", "cp", "--only-binary=:all:"]
    cmd += ["--cache-dir", str(cache_dir)] if cache_dir else ["--no-cache-dir"]
    cmd += ["--index-url", target.index] if target.index else ["--no-index"]
    if target.find_links:
        cmd += ["--find-links", str(target.find_links)]
    cmd += ["-r", str(target.requirements)]
    if target.constraints:
        cmd += ["-c", str(target.constraints)]
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    try:
        seconds, proc = timed(cmd, env=env, timeout=timeout)
    finally:
        shutil.rmtree(target_dir, ignore_errors=True)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode != 0:
        return Run(seconds, True, answer={"solved": False, "count": 0, "error": _tail(proc.stderr, 4)})
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return Run(seconds, False, error="pip printed no JSON report: " + _tail(proc.stdout))
    pins = sorted(f"{i['metadata']['name'].lower()}=={i['metadata']['version']}" for i in report["install"])
    return Run(seconds, True, answer={"solved": True, "count": len(pins), "packages": pins})


# --- copying files ------------------------------------------------------------------------------


def cp_sha256(files: list[Path], out: Path, timeout: float) -> Run:
    """The floor for a bundle build: `cp` the artifacts, then `sha256sum` them."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write("set -e\n")
        # xargs keeps the command line short whatever the number of files.
        f.write(f'cd "{out}"\n')
        f.write('tr "\\n" "\\0" < "$1" | xargs -0 cp -t . \n')
        f.write("sha256sum * > SHA256SUMS\n")
    listing = out.parent / (out.name + ".files")
    listing.write_text("".join(f"{p}\n" for p in files))
    try:
        seconds, proc = timed(["sh", f.name, str(listing)], timeout=timeout)
    finally:
        os.unlink(f.name)
        listing.unlink(missing_ok=True)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode != 0:
        return Run(seconds, False, error=_tail(proc.stderr))
    size = sum(p.stat().st_size for p in out.iterdir())
    return Run(seconds, True, answer={"files": len(files), "bytes": size})
