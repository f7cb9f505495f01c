"""Start-up: `bundler --version`, `bundler --help` and a trivial offline solve, whole process, next to
the floors under them and uv on the same solve; and where the time goes (`python -X importtime`).

    .venv/bin/python -m benchmarks.startup [--repeats 10] [--top 12]
    .venv/bin/python -m benchmarks --only startup          # the same rows in the full report

Issue 11's target is `bundler --help` and a trivial solve in <= 0.10 s of wall time for the whole
process. The floors say how much of that bundler can act on at all: `python -S -c pass` (the
interpreter alone), `python -c pass` (plus `site`: this environment's .pth files run at every start,
e.g. a setuptools editable-install finder) and `python -c "import typer"` (the CLI framework kept).

The trivial solve needs no network: its only source is the wheel directory of examples/demo (find-links),
its one requirement `demo-http` (two wheels in the lock), solved `--offline` on a warm cache; uv compiles
the same requirement from the same directory (`--offline --no-index --find-links`, warm cache).

The development install is editable and sees the system's site-packages (for python3-apt): its
`python -c pass` runs a setuptools import finder and every .pth file of the machine. Two more rows
measure bundler as a user installs it: its wheel (built here, no network) in a venv of its own whose
one .pth line makes the development venv's dependencies importable; `python -c pass` in that venv is
its floor.

The import profile runs each bundler command with PYTHONPROFILEIMPORTTIME=1 (the same as
`python -X importtime`, but it reaches the `bundler` console script too) a few times and reports, per
module, the median of its cumulative and self microseconds: the top-level imports by cumulative time
and the heaviest modules by self time, and which of the modules that `--help` and `--version` must not
import (tests/test_startup.py) were imported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from . import bundler_side as bs
from . import peers
from .measure import Budget, Contender, Result, Run, alternate, timed
from .peers import PyTarget

HERE = Path(__file__).resolve().parent
WHEELS = HERE.parent / "examples" / "demo" / "wheels"
REQUIREMENT = "demo-http"
# Modules the start-up commands must not import (what tests/test_startup.py asserts for --help/--version).
HEAVY = ("bundler.pipeline", "networkx", "httpx", "packaging", "resolvelib", "zstandard", "rich.markdown",
         "markdown_it", "pygments", "email.parser")  # fmt: skip


def _process(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> Run:
    seconds, proc = timed(cmd, env=env, timeout=timeout)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode != 0:
        return Run(seconds, False, error=f"exit {proc.returncode}: {peers._tail(proc.stderr)}")
    return Run(seconds, True)


def tiny_target(work: Path) -> PyTarget:
    """The trivial solve: one requirement from one local wheel directory, no index."""
    req = work / "startup-requirements.in"
    req.write_text(REQUIREMENT + "\n")
    return PyTarget(req, None, None, find_links=WHEELS)


def wheel_install(work: Path) -> tuple[Path | None, str | None]:
    """bundler's wheel installed in a venv of its own under `work`: (its bin directory, None), or
    (None, why not). Built once per work directory, offline: the development venv's setuptools builds
    the wheel (no build isolation), and a .pth line lends the venv the development venv's dependencies
    (a plain path: the .pth files in that directory, the editable finder among them, are not run)."""
    venv = work / "wheel-venv"
    bin_dir = venv / "bin"
    if (bin_dir / "bundler").is_file():
        return bin_dir, None
    wheels = work / "wheel"
    steps = [
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
         str(HERE.parent)],
        [getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)],
    ]  # fmt: skip
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return None, f"{' '.join(cmd[:4])}: exit {proc.returncode}: {peers._tail(proc.stderr)}"
    import sysconfig

    purelib = subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    lent = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(purelib, "zz-bundler-dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(lent)))
    built = sorted(wheels.glob("bundler-*.whl"))
    cmd = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "-q", "--no-deps",
           "--no-index", *map(str, built)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if not built or proc.returncode != 0:
        return None, f"pip install of the wheel: exit {proc.returncode}: {peers._tail(proc.stderr)}"
    return bin_dir, None


def contenders(work: Path) -> list[Contender]:
    py = sys.executable
    target = tiny_target(work)
    spec = bs.py_spec(work / "startup.toml", target)
    lock = work / "startup.lock"
    b_cache, uv_cache = work / "startup-bundler-cache", work / "startup-uv-cache"
    why_b = bs.missing("solve")
    why_uv = None if peers.which("uv") else "uv not installed"

    def prime_bundler() -> None:
        if not (b_cache / ".primed").exists():
            bs.solve(spec, lock, b_cache, 120)
            b_cache.mkdir(parents=True, exist_ok=True)
            (b_cache / ".primed").write_text("")

    def prime_uv() -> None:
        if not (uv_cache / ".primed").exists():
            peers.uv_compile(target, uv_cache, 120, offline=True)
            uv_cache.mkdir(parents=True, exist_ok=True)
            (uv_cache / ".primed").write_text("")

    def solve(t: float) -> Run:
        run = bs.solve(spec, lock, b_cache, t, offline=True)
        run.internal = {}  # the report shows the wall time; --json's phases are below a millisecond
        return run

    kept = work / "startup-kept.lock"

    def solve_kept(t: float) -> Run:  # the same solve again with its lock in place: the lock fast path
        if not kept.exists():
            bs.solve(spec, kept, b_cache, t, offline=True)
        run = bs.solve(spec, kept, b_cache, t, offline=True, keep_lock=True)
        run.internal = {}
        return run

    def solve_kept_text(t: float) -> Run:  # the same, printing the text summary (bundler/quicksolve.py)
        if not kept.exists():
            bs.solve(spec, kept, b_cache, t, offline=True)
        return _process([*bs.cli(), "solve", str(spec), "-o", str(kept), "--cache-dir", str(b_cache), "--offline"], t)

    help_cache = work / "startup-help-cache"
    installed: list[tuple[Path | None, str | None]] = []

    def wheel_bin() -> Path:
        if not installed:
            installed.append(wheel_install(work))
        bin_dir, why = installed[0]
        if bin_dir is None:
            raise RuntimeError(why)
        return bin_dir

    def wheel_pass(t: float) -> Run:
        try:
            return _process([str(wheel_bin() / "python"), "-c", "pass"], t)
        except RuntimeError as e:
            return Run(0.0, False, error=str(e))

    kept_wheel = work / "startup-kept-wheel.lock"

    def solve_kept_wheel(t: float) -> Run:  # the lock fast path, bundler installed from its wheel
        try:
            exe = str(wheel_bin() / "bundler")
        except RuntimeError as e:
            return Run(0.0, False, error=str(e))
        cmd = [exe, "solve", str(spec), "-o", str(kept_wheel), "--cache-dir", str(b_cache), "--offline", "--json"]
        if not kept_wheel.exists():
            _process(cmd, t)
        return _process(cmd, t)

    def help_rendered(t: float) -> Run:  # bundler/helpcache.py keeps the page: a fresh cache renders it
        shutil.rmtree(help_cache, ignore_errors=True)
        return _process([*bs.cli(), "--help"], t, env={**os.environ, "BUNDLER_CACHE_DIR": str(help_cache)})

    return [
        Contender("python -S -c pass (interpreter alone)", "floor", lambda t: _process([py, "-S", "-c", "pass"], t)),
        Contender("python -c pass (+ site and .pth files)", "floor", lambda t: _process([py, "-c", "pass"], t)),
        Contender('python -c "import typer"', "floor", lambda t: _process([py, "-c", "import typer"], t)),
        Contender("bundler --version", "bundler", lambda t: _process([*bs.cli(), "--version"], t)),
        Contender("bundler --help (the page kept by the last run)", "bundler",
                  lambda t: _process([*bs.cli(), "--help"], t)),
        Contender("bundler --help (rendered: no page kept)", "bundler", help_rendered),
        Contender(f"bundler solve --offline ({REQUIREMENT}, one find-links dir, warm)", "bundler", solve,
                  prime_bundler, why_b),
        Contender(f"bundler solve --offline ({REQUIREMENT}), lock up to date: the lock fast path", "bundler",
                  solve_kept, prime_bundler, why_b),
        Contender(f"bundler solve --offline ({REQUIREMENT}), lock up to date, text summary", "bundler",
                  solve_kept_text, prime_bundler, why_b),
        Contender("python -c pass (a venv of bundler's wheel: no .pth files but its one path line)", "floor",
                  wheel_pass),
        Contender(f"bundler solve --offline ({REQUIREMENT}), lock up to date, installed from its wheel",
                  "bundler", solve_kept_wheel, prime_bundler, why_b),
        Contender("uv --version", "uv", lambda t: _process([peers.which("uv") or "uv", "--version"], t), None, why_uv),
        Contender(f"uv pip compile --offline ({REQUIREMENT}, same dir, warm)", "uv",
                  lambda t: peers.uv_compile(target, uv_cache, t, offline=True), prime_uv, why_uv),
    ]  # fmt: skip


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, depth, self µs, cumulative µs) for each `import time:` line, in the order printed."""
    out = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        head, cumulative, name = line.split("|", 2)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2  # two spaces per level under the importer
        out.append((name.strip(), depth, int(head.split(":")[1]), int(cumulative)))
    return out


def import_profile(args: list[str], repeats: int = 3, top: int = 12, timeout: float = 60) -> dict:
    """The import profile of `bundler ARGS`: medians over `repeats` runs."""
    runs: list[list[tuple[str, int, int, int]]] = []
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    for _ in range(repeats):
        proc = subprocess.run([*bs.cli(), *args], env=env, capture_output=True, text=True, timeout=timeout)
        runs.append(parse_importtime(proc.stderr))
    cumulative: dict[str, list[int]] = {}
    self_us: dict[str, list[int]] = {}
    depth: dict[str, int] = {}
    for run in runs:
        for name, d, s, c in run:
            cumulative.setdefault(name, []).append(c)
            self_us.setdefault(name, []).append(s)
            depth.setdefault(name, d)
    med = {n: statistics.median(v) / 1000 for n, v in cumulative.items()}
    med_self = {n: statistics.median(v) / 1000 for n, v in self_us.items()}
    top_level = sorted((n for n in med if depth[n] == 0), key=lambda n: -med[n])
    return {
        "command": "bundler " + " ".join(args),
        "modules": len(med),
        "total_ms": round(sum(med[n] for n in med if depth[n] == 0), 1),
        "top_level": [{"module": n, "cumulative_ms": round(med[n], 1)} for n in top_level[:top]],
        "top_self": [{"module": n, "self_ms": round(med_self[n], 1)}
                     for n in sorted(med_self, key=lambda n: -med_self[n])[:top]],  # fmt: skip
        "heavy_imported": sorted(h for h in HEAVY if h in med),
    }


def profiles(work: Path, repeats: int = 3, top: int = 12) -> list[dict]:
    target = tiny_target(work)
    spec = bs.py_spec(work / "startup.toml", target)
    solve = ["solve", str(spec), "-o", str(work / "startup-profile.lock"), "--cache-dir",
             str(work / "startup-bundler-cache"), "--offline", "--quiet"]  # fmt: skip
    return [import_profile(a, repeats, top) for a in (["--version"], ["--help"], solve)]


def markdown(profiles: list[dict]) -> list[str]:
    """The report's start-up section: per command, its top imports."""
    out = ["## Start-up: where the import time goes (`python -X importtime`, median of the runs)", ""]
    for p in profiles:
        heavy = ", ".join(p["heavy_imported"]) or "none"
        out.append(f"- `{p['command'].split(' /')[0]}`: {p['modules']} modules, {p['total_ms']} ms of imports; "
                   f"of the heavy ones ({', '.join(HEAVY)}) imported: {heavy}")  # fmt: skip
        out.append("  - top level, cumulative: " + ", ".join(
            f"{e['module']} {e['cumulative_ms']}" for e in p["top_level"]))  # fmt: skip
        out.append("  - self: " + ", ".join(f"{e['module']} {e['self_ms']}" for e in p["top_self"]))
    out.append("")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=10, help="runs per row (default 10)")
    ap.add_argument("--top", type=int, default=12, help="modules listed per import profile")
    args = ap.parse_args(argv)
    from .run import byte_compile_bundler

    byte_compile_bundler()
    with tempfile.TemporaryDirectory(prefix="bundler-startup-") as tmp:
        work = Path(tmp)
        results: list[Result] = alternate("startup", contenders(work), args.repeats, Budget(600), log=lambda m: None)
        for r in results:
            figure = f"median {r.median * 1000:6.1f} ms, min {min(r.runs) * 1000:6.1f} ms" if r.runs else r.status
            print(f"{r.contender:62s} {figure} {r.note}")
        print()
        print("\n".join(markdown(profiles(work, top=args.top))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
