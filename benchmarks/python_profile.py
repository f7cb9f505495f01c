"""Time (and optionally profile) the Python half of `bundler solve` on a fixed workload.

    .venv/bin/python -m benchmarks.python_profile --cold            # fresh cache dir, network
    .venv/bin/python -m benchmarks.python_profile --warm CACHE      # offline=True against CACHE
    .venv/bin/python -m benchmarks.python_profile --cold --profile  # cProfile (main thread)
    .venv/bin/python -m benchmarks.python_profile --warm CACHE --profile pyinstrument

Indexes come from the host's pip configuration, as `bundler solve` does without [python] indexes.
`--fill CACHE` runs a cold solve into CACHE (to warm it). `--workload openstack` resolves the
OpenStack global requirements under their upper constraints.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bundler.python_solve import solve_python
from bundler.spec import PythonSpec

AIRFLOW = (
    "apache-airflow==2.10.5",
    "jupyterlab",
    "pandas",
    "scikit-learn",
    "matplotlib",
    "django",
    "celery",
    "flask",
    "requests",
)
OPENSTACK = Path(__file__).resolve().parents[2] / "shared" / "data" / "openstack"


def workload(name: str) -> PythonSpec:
    common = dict(
        indexes=None,
        find_links=(),
        python_version="3.11",
        platforms=("manylinux_2_28_x86_64",),
        constraints=(),
        fix=(),
        veto=(),
        legacy_sdists=True,
    )
    if name == "openstack":
        return PythonSpec(
            require=(),
            requirements_file="global-requirements-2026.1.txt",
            constraints_file="upper-constraints-2026.1.txt",
            base_dir=OPENSTACK,
            **common,  # type: ignore[arg-type]
        )
    return PythonSpec(require=AIRFLOW, requirements_file=None, constraints_file=None, **common)  # type: ignore[arg-type]


def run(spec: PythonSpec, cache: Path, offline: bool) -> tuple[float, int, dict[str, int]]:
    t0 = time.perf_counter()
    sol = solve_python(spec, cache_dir=cache, offline=offline, legacy_sdists=spec.legacy_sdists)
    dt = time.perf_counter() - t0
    return dt, len({p.name for p in sol.packages}), {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--cold", action="store_true")
    mode.add_argument("--warm", metavar="CACHE", type=Path)
    mode.add_argument("--fill", metavar="CACHE", type=Path)
    ap.add_argument("--workload", choices=("airflow", "openstack"), default="airflow")
    ap.add_argument("--profile", choices=("pyinstrument", "cprofile"), nargs="?", const="cprofile")
    ap.add_argument("--profile-out", type=Path, default=None)
    args = ap.parse_args(argv)
    spec = workload(args.workload)
    tmp = None
    if args.cold:
        tmp = tempfile.TemporaryDirectory(prefix="bundler-cold-")
        cache, offline = Path(tmp.name), False
    elif args.fill:
        cache, offline = args.fill, False
    else:
        cache, offline = args.warm, True

    def go() -> tuple[float, int, dict[str, int]]:
        return run(spec, cache, offline)

    if args.profile:
        if args.profile == "cprofile":
            import cProfile
            import pstats

            prof = cProfile.Profile()
            dt, n, _ = prof.runcall(go)
            stats = pstats.Stats(prof, stream=sys.stderr)
            if args.profile_out:
                stats.dump_stats(str(args.profile_out))
            stats.sort_stats("tottime").print_stats(40)
        else:  # pyinstrument: the main thread only, as a tree (it has crashed with many threads)
            from pyinstrument import Profiler

            p = Profiler(interval=0.001)
            p.start()
            dt, n, _ = go()
            p.stop()
            if args.profile_out:
                args.profile_out.write_text(p.output_html())
            sys.stderr.write(p.output_text(unicode=False, color=False, show_all=False))
    else:
        dt, n, _ = go()
    print(f"{args.workload} {'offline' if offline else 'online'}: {dt:.2f} s, {n} pins")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
