"""Driving bundler the way a user does (the CLI, end to end) and, where it exists, through its API.

bundler is being built while this harness is: every entry point is probed first, and a missing one
makes its rows "not available" instead of crashing the run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .inputs import DebIndex
from .measure import Run, timed
from .peers import PyTarget, _tail

_HELP: dict[str, str | None] = {}


def cli() -> list[str]:
    exe = Path(sys.executable).parent / "bundler"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "bundler.cli"]


def missing(command: str) -> str | None:
    """None if `bundler COMMAND --help` works, else why not (cached)."""
    if command not in _HELP:
        try:
            proc = subprocess.run([*cli(), command, "--help"], capture_output=True, text=True, timeout=60)
            ok = proc.returncode == 0
            _HELP[command] = None if ok else f"`bundler {command}` not available: {_tail(proc.stderr, 1)}"
        except (OSError, subprocess.TimeoutExpired) as e:
            _HELP[command] = f"`bundler {command}` not available: {e}"
    return _HELP[command]


def api(module: str, attr: str) -> str | None:
    """None if `module.attr` exists, else why not."""
    try:
        if importlib.util.find_spec(module) is None:
            return f"{module} does not exist yet"
        mod = importlib.import_module(module)
    except Exception as e:  # a module half-written by someone else must not stop the run
        return f"{module} cannot be imported: {type(e).__name__}: {e}"
    return None if hasattr(mod, attr) else f"{module}.{attr} does not exist yet"


def _toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def _toml_list(items) -> str:
    return "[" + ", ".join(_toml_str(i) for i in items) + "]"


def deb_sources(indexes: list[DebIndex], local: bool = True) -> str:
    """`[[debian.sources]]` for the indexes: their cached copies (file://) or the mirrors themselves."""
    groups: dict[tuple[str, str | None], list[DebIndex]] = {}
    for i in indexes:
        groups.setdefault((i.local_uri if local else i.uri, i.signed_by), []).append(i)
    out = []
    for (uri, signed_by), items in groups.items():
        out.append("[[debian.sources]]")
        out.append(f"uri = {_toml_str(uri)}")
        out.append(f"suites = {_toml_list(dict.fromkeys(i.suite for i in items))}")
        out.append(f"components = {_toml_list(dict.fromkeys(i.component for i in items))}")
        out.append(f"architectures = {_toml_list(dict.fromkeys(i.arch for i in items))}")
        if signed_by and items[0].release_name == "InRelease":
            out.append(f"signed-by = {_toml_str(signed_by)}")
        else:
            out.append("trusted = true")
        out.append("check-valid-until = false")  # cached indexes are reused after Valid-Until
        out.append("")
    return "\n".join(out)


def deb_spec(path: Path, indexes: list[DebIndex], roots: list[str], local: bool = True) -> Path:
    text = '[bundle]\nname = "bench"\nepoch = 0\n\n' + deb_sources(indexes, local)
    text += f"\n[debian]\nrequire = {_toml_list(roots)}\nrecommends = false\n"
    path.write_text(text)
    return path


def py_spec(path: Path, target: PyTarget) -> Path:
    lines = ['[bundle]', 'name = "bench"', 'epoch = 0', '', '[python]']
    lines.append(f"indexes = {_toml_list([target.index] if target.index else [])}")
    if target.find_links:
        lines.append(f"find-links = {_toml_list([str(target.find_links)])}")
    lines.append(f"python-version = {_toml_str(target.python_version)}")
    lines.append(f"platforms = {_toml_list([target.platform])}")
    lines.append(f"requirements-file = {_toml_str(str(target.requirements))}")
    # uv and pip build sdist-only dependencies (airflow needs python-nvd3); the closest bundler comes
    # without running code is the sdist's egg-info requirements.
    lines.append("legacy-sdists = true")
    if target.constraints:
        lines.append(f"constraints-file = {_toml_str(str(target.constraints))}")
    path.write_text("\n".join(lines) + "\n" + getattr(target, "bundler_extra", ""))
    return path


def read_lock(path: Path) -> list:
    from bundler.lock import read_lock as _read

    return list(_read(path).packages)


def solve(spec: Path, lock: Path, cache_dir: Path, timeout: float, offline: bool = False,
          keep_lock: bool = False) -> Run:
    """`bundler solve SPEC -o LOCK --cache-dir DIR`: exit 0 solved, 1 unsolvable, 2 bad input. The lock
    is removed first (a full solve) unless `keep_lock` (then an unchanged one takes the lock fast path)."""
    if not keep_lock:
        lock.unlink(missing_ok=True)
    cmd = [*cli(), "solve", str(spec), "-o", str(lock), "--cache-dir", str(cache_dir), "--json"]
    if offline:
        cmd.append("--offline")
    seconds, proc = timed(cmd, timeout=timeout)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode == 1:
        return Run(seconds, True, answer={"solved": False, "count": 0, "error": _tail(proc.stderr, 4)})
    if proc.returncode != 0:
        return Run(seconds, False, error=f"exit {proc.returncode}: {_tail(proc.stderr)}")
    try:
        packages = read_lock(lock)
    except Exception as e:
        return Run(seconds, False, error=f"lock unreadable: {type(e).__name__}: {e}")
    names = sorted(f"{p.name}={p.version}" if p.ecosystem == "deb" else f"{p.name.lower()}=={p.version}"
                   for p in packages)
    internal: dict[str, float] = {}
    up_to_date = None
    try:
        summary = json.loads(proc.stdout)
        internal = {f"{k}_s": float(v) for k, v in summary.get("timings", {}).items()}
        up_to_date = summary.get("up-to-date")
    except (ValueError, AttributeError, TypeError):
        pass
    answer = {"solved": True, "count": len(names), "packages": names}
    if keep_lock:
        answer["up_to_date"] = up_to_date  # did the lock fast path apply (it should, on an unchanged lock)
    return Run(seconds, True, answer=answer, internal=internal)


def build(lock: Path, out: Path, cache: Path, timeout: float) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [*cli(), "build", str(lock), str(out), "--cache-dir", str(cache)]  # artifacts in CACHE/artifacts
    seconds, proc = timed(cmd, timeout=timeout)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode != 0:
        return Run(seconds, False, error=f"exit {proc.returncode}: {_tail(proc.stderr)}")
    files = [p for p in out.rglob("*") if p.is_file()]
    return Run(seconds, True, answer={"files": len(files), "bytes": sum(p.stat().st_size for p in files)})


def older_lock(lock: Path, old: Path, every: int = 20) -> int:
    """Write `old`: `lock` with every `every`-th Debian package at an older version (and another
    digest), as if `lock` were a hotfix of it; returns how many packages differ. `bundler delta OLD
    LOCK` then ships those packages only."""
    import dataclasses

    from bundler.lock import read_lock as _read
    from bundler.lock import write_lock

    new = _read(lock)
    debs = sorted((p for p in new.packages if p.ecosystem == "deb"), key=lambda p: p.id)
    moved = set(debs[::every])
    older = tuple(
        dataclasses.replace(p, version="0~bench" + p.version.replace(":", "."), sha256="0" * 64) if p in moved else p
        for p in new.packages
    )
    write_lock(old, dataclasses.replace(new, packages=older))
    return len(moved)


def delta(old: Path, new: Path, out: Path, cache: Path, timeout: float) -> Run:
    """`bundler delta OLD NEW OUT --cache DIR`: the hotfix bundle of what changed since OLD."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [*cli(), "delta", str(old), str(new), str(out), "--cache", str(cache), "-q"]
    seconds, proc = timed(cmd, timeout=timeout)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode != 0:
        return Run(seconds, False, error=f"exit {proc.returncode}: {_tail(proc.stderr)}")
    files = [p for p in out.rglob("*") if p.is_file()]
    return Run(seconds, True, answer={"files": len(files), "bytes": sum(p.stat().st_size for p in files)})


def check(spec: Path, cache_dir: Path, timeout: float) -> Run:
    """`bundler check SPEC --json` (archive-wide installability), if the command exists."""
    cmd = [*cli(), "check", str(spec), "--cache-dir", str(cache_dir), "--json"]
    seconds, proc = timed(cmd, timeout=timeout)
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode not in (0, 1):
        return Run(seconds, False, error=f"exit {proc.returncode}: {_tail(proc.stderr)}")
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return Run(seconds, False, error="`bundler check --json` printed no JSON")
    if not isinstance(data, dict):
        return Run(seconds, False, error="`bundler check --json` printed no JSON object")
    names = sorted(b if isinstance(b, str) else b.get("package") or b.get("name", "?") for b in data.get("broken", []))
    total = data.get("checked", data.get("total"))
    internal = {f"{k}_s": float(v) for k, v in (data.get("timings") or {}).items()}
    return Run(seconds, True, answer={"total": total, "broken": len(names), "broken_packages": names},
               internal=internal)


LOAD_SNIPPET = r"""
import json, sys, time
from pathlib import Path
spec_path, cache_dir = Path(sys.argv[1]), Path(sys.argv[2])
from bundler.spec import load_spec
from bundler.pipeline import _apt_sources, _debian_architectures
from repos.deb.load import load_debian
spec = load_spec(spec_path)
sources = _apt_sources(spec.debian)
archs = _debian_architectures(spec.debian, sources)
t0 = time.perf_counter()
loaded = load_debian(sources, architectures=archs, cache_dir=cache_dir, offline=False)
t1 = time.perf_counter()
json.dump({"load_s": t1 - t0, "indexes": len(loaded.indexes)}, sys.stdout)
"""


def load_missing() -> str | None:
    return api("repos.deb.load", "load_debian") or api("bundler.pipeline", "_apt_sources")


def load(spec: Path, cache_dir: Path, timeout: float) -> Run:
    """Load the indexes through `repos.deb.load.load_debian` in a fresh process; reports its own time."""
    cmd = [sys.executable, "-c", LOAD_SNIPPET, str(spec), str(cache_dir)]
    seconds, proc = timed(cmd, timeout=timeout, env=dict(os.environ))
    if proc is None:
        return Run(seconds, False, error=f"timeout after {timeout:.0f}s")
    if proc.returncode != 0:
        return Run(seconds, False, error=_tail(proc.stderr))
    answer = json.loads(proc.stdout)
    return Run(seconds, True, answer=answer, internal={"load_s": answer["load_s"]})
