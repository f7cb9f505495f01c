"""Alternated whole runs of `bundler solve` from two or more source trees, and of the case's peer, on one
case of a kept harness run: how a change is measured against the tree before it.

    .venv/bin/python -m benchmarks --only py-openstack --repeats 1 --keep-work   # says where WORK is
    git worktree add /tmp/before HEAD~1        # and copy the built extensions in (*.so)
    .venv/bin/python -m benchmarks.alternate WORK py-openstack --tree before=/tmp/before --tree after=. \\
        --rounds 15 --peer

A harness report gives the median of a few runs per contender; on a shared machine the speed moves by
10-20% within minutes, more than most single changes gain. Here every round runs each side once, in
turn, so that a slow minute falls on all of them alike; the order rotates from round to round (no
side always follows the same one), and the first round (a warm-up) is not counted. Two trees of the
same commit (an A/A run) show how far apart the noise alone puts them.

- A Python case's peer is `uv pip compile` with the harness's arguments (warm: `--offline` over the
  harness's uv cache; `--cold`: a new cache each run). A Debian case's peer is libsolv's load and solve
  (`sysprobe.py solv-solve`, the harness's probe).
- Each tree solves with its own copy of the case's warm cache: a solve may rewrite the cache's warm
  files, and two trees sharing one would take turns rewriting them. `--cold` gives each run a new
  cache instead, and solves online.
- Each tree's modules are byte-compiled first, as the harness compiles its own.
- Reported for each side: the median, min and max wall time, and the median CPU time (user and
  system); each tree's ratio to the peer; and whether the trees' locks are the same but for
  `inputs-sha256`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from .peers import SYSTEM_PYTHON, PyTarget, uv_command, which
from .run import byte_compile_bundler

HERE = Path(__file__).resolve().parent


@dataclass
class Side:
    """One contender: a tree of bundler, or the peer."""

    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    before: list[Path] = field(default_factory=list)  # removed before each run (a lock, a cold cache)
    lock: Path | None = None
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.alternate", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "work", type=Path, help="a harness run's work directory (python -m benchmarks --keep-work)"
    )
    p.add_argument("case", help="a case of that run: py-airflow, py-openstack, py-small, scaling-2000, ...")
    p.add_argument(
        "--tree", action="append", default=[], metavar="NAME=PATH", help="a source tree (twice or more)"
    )
    p.add_argument("--rounds", type=int, default=10, help="rounds counted (one more runs first, as warm-up)")
    p.add_argument("--peer", action="store_true", help="run the case's peer too (uv, or libsolv)")
    p.add_argument("--cold", action="store_true", help="a new cache for every run, online (Python cases)")
    p.add_argument("--uv-cache", type=Path, default=HERE / "cache" / "uv-warm", help="uv's warm cache")
    args = p.parse_args(argv)
    try:
        sides, scratch = _sides(args)
    except ValueError as e:
        print(f"benchmarks.alternate: {e}", file=sys.stderr)
        return 2
    try:
        for i in range(args.rounds + 1):
            for side in sides[i % len(sides) :] + sides[: i % len(sides)]:  # each side first in turn
                error = _run(side, counted=i > 0)
                if error:
                    print(f"{side.name}: {error}", file=sys.stderr)
                    return 1
        print(_summary(sides, args))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _sides(args: argparse.Namespace) -> tuple[list[Side], Path]:
    spec = args.work / f"{args.case}.toml"
    if not spec.is_file():
        raise ValueError(f"{spec}: no such case in the work directory (kept with --keep-work?)")
    if len(args.tree) < 1:
        raise ValueError("name at least one --tree NAME=PATH")
    doc = tomllib.loads(spec.read_text())
    warm = args.work / f"{args.case}-bundler-warm"
    if not args.cold and not warm.is_dir():
        raise ValueError(f"{warm}: the case has no warm cache in the work directory")
    scratch = Path(tempfile.mkdtemp(prefix="bundler-alternate-"))
    sides = []
    for entry in args.tree:
        name, sep, path = entry.partition("=")
        tree = Path(path).resolve()
        if not sep or not name or not (tree / "bundler" / "__init__.py").is_file():
            shutil.rmtree(scratch, ignore_errors=True)
            raise ValueError(f"--tree {entry}: expected NAME=PATH of a bundler source tree")
        byte_compile_bundler(tree)
        cache = scratch / f"{name}-cache"
        if not args.cold:
            shutil.copytree(warm, cache)
        lock = scratch / f"{name}.lock"
        command = [sys.executable, "-m", "bundler", "solve", str(spec.resolve()), "-o", str(lock),
                   "--cache-dir", str(cache), "--json"]  # fmt: skip
        if not args.cold:
            command.append("--offline")
        env = dict(os.environ, PYTHONPATH=str(tree))
        # run from the scratch directory: from a tree's root, `-m` would import that tree whatever the path
        sides.append(Side(name, command, env, scratch, [lock, cache] if args.cold else [lock], lock))
    if args.peer:
        sides.append(_peer(doc, args, scratch))
    return sides, scratch


def _peer(doc: dict, args: argparse.Namespace, scratch: Path) -> Side:
    if "python" in doc:
        py = doc["python"]
        uv = which("uv")
        if not uv:
            raise ValueError("uv is not installed (python -m benchmarks installs it)")
        target = PyTarget(  # what the harness wrote the spec from (bundler_side.py `py_spec`)
            Path(py["requirements-file"]),
            Path(py["constraints-file"]) if py.get("constraints-file") else None,
            py["indexes"][0] if py.get("indexes") else None,
            Path(py["find-links"][0]) if py.get("find-links") else None,
            py["python-version"],
            platform=py["platforms"][0],
        )
        command = uv_command(uv, target, scratch / "uv.txt", offline=not args.cold)
        cache = scratch / "uv-cache" if args.cold else args.uv_cache.resolve()
        env = dict(os.environ, UV_CACHE_DIR=str(cache), UV_NO_PROGRESS="1")
        # from the repository root, as the harness runs it: elsewhere uv first looks for an interpreter
        return Side("uv", command, env, HERE.parent, [cache] if args.cold else [])
    if "debian" in doc:
        roots = scratch / "roots.txt"
        roots.write_text("\n".join(doc["debian"]["require"]) + "\n")
        packages = []
        for source in doc["debian"]["sources"]:
            root = Path(unquote(urlparse(source["uri"]).path))
            for suite in source["suites"]:
                for component in source.get("components", ["main"]):
                    for arch in source.get("architectures", ["amd64"]):
                        packages.append(
                            str(root / "dists" / suite / component / f"binary-{arch}" / "Packages")
                        )
        missing = [f for f in packages if not os.path.isfile(f)]
        if missing or not os.path.exists(SYSTEM_PYTHON):
            raise ValueError(f"libsolv's probe needs {missing[0] if missing else SYSTEM_PYTHON}")
        command = [SYSTEM_PYTHON, str(HERE / "sysprobe.py"), "solv-solve", str(roots), *packages]
        return Side("libsolv", command, dict(os.environ), scratch)
    raise ValueError("the case's spec has neither [python] nor [debian]")


def _run(side: Side, counted: bool) -> str | None:
    for path in side.before:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(side.command, env=side.env, cwd=side.cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[-600:]}"
    if counted:
        side.wall.append(wall)
        side.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return None


def _summary(sides: list[Side], args: argparse.Namespace) -> str:
    mode = "cold, a new cache each run" if args.cold else "warm, --offline"
    out = [f"{args.case} ({mode}), {args.rounds} rounds after one warm-up, each side once a round:", ""]
    out.append("| side | median s | min s | max s | CPU median s |")
    out.append("|---|---|---|---|---|")
    for s in sides:
        out.append(f"| {s.name} | {statistics.median(s.wall):.3f} | {min(s.wall):.3f} | {max(s.wall):.3f} "
                   f"| {statistics.median(s.cpu):.3f} |")  # fmt: skip
    trees = [s for s in sides if s.lock is not None]
    peer = next((s for s in sides if s.lock is None), None)
    if peer is not None:
        out.append("")
        out += [f"{s.name} / {peer.name}: {statistics.median(s.wall) / statistics.median(peer.wall):.2f}×"
                for s in trees]  # fmt: skip
    if len(trees) > 1:
        texts = {_without_seal(s.lock) for s in trees if s.lock is not None}
        out += ["", "locks the same but for inputs-sha256: " + ("yes" if len(texts) == 1 else "NO")]
    return "\n".join(out)


def _without_seal(lock: Path) -> str:
    return "".join(
        line for line in lock.read_text().splitlines(keepends=True) if not line.startswith("inputs-sha256")
    )


if __name__ == "__main__":
    raise SystemExit(main())
