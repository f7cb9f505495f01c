"""`python -m benchmarks.startup`: how long `bundler` takes to start, and what its imports cost.

    .venv/bin/python -m benchmarks.startup [--repeats 11] [--spec examples/demo/bundle.toml]

Whole-process wall time (median and min of `--repeats` runs) of the interpreter alone (`python -S -c
pass`, `python -c pass`: the floor this venv's site hooks set), `bundler --version`, `bundler --help`,
`bundler solve --help` and an offline solve of the demo spec (its cache filled once first); then the
ten most expensive imports of `--help` and of the solve by `python -X importtime` (cumulative µs).
No network. Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _time(cmd: list[str], repeats: int, cwd: Path) -> tuple[float, float]:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), min(runs)


def _imports(cmd: list[str], cwd: Path, top: int = 10) -> list[tuple[int, str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=cwd, capture_output=True, text=True,
                          check=False)  # fmt: skip
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
            if cumulative.isdigit():
                rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--spec", type=Path, default=ROOT / "examples" / "demo" / "bundle.toml")
    args = ap.parse_args(argv)
    py = sys.executable
    bundler = [py, "-m", "bundler"]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as t:
        work = Path(t)
        solve = [*bundler, "solve", str(args.spec.resolve()), "-q", "--offline", "-o", str(work / "x.lock"),
                 "--cache-dir", str(work / "cache")]  # fmt: skip
        subprocess.run([c for c in solve if c != "--offline"], check=True, capture_output=True)
        rows = [
            ("python -S -c pass", [py, "-S", "-c", "pass"]),
            ("python -c pass", [py, "-c", "pass"]),
            ("bundler --version", [*bundler, "--version"]),
            ("bundler --help", [*bundler, "--help"]),
            ("bundler solve --help", [*bundler, "solve", "--help"]),
            ("bundler solve (demo, --offline, warm)", solve),
        ]
        load = os.getloadavg()[0]
        print(f"start-up, whole process, median (min) of {args.repeats}; load average {load:.2f}\n")
        print("| command | median | min |")
        print("|---|---|---|")
        for label, cmd in rows:
            median, fastest = _time(cmd, args.repeats, work)
            print(f"| `{label}` | {median:.3f} s | {fastest:.3f} s |")
        for label, cmd in (("bundler --help", ["-m", "bundler", "--help"]), ("solve", solve[1:])):
            print(f"\n`python -X importtime` of {label}, most expensive (cumulative):\n")
            print("| module | ms |")
            print("|---|---|")
            for micros, name in _imports(cmd, work):
                print(f"| `{name}` | {micros / 1000:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
