"""Time (and optionally profile) the Python half of `bundler solve` on a fixed workload.

    .venv/bin/python -m benchmarks.python_profile --cold            # fresh cache dir, network
    .venv/bin/python -m benchmarks.python_profile --warm CACHE      # offline=True against CACHE
    .venv/bin/python -m benchmarks.python_profile --cold --profile  # cProfile (main thread)
    .venv/bin/python -m benchmarks.python_profile --warm CACHE --profile pyinstrument

Indexes come from the host's pip configuration, as `bundler solve` does without [python] indexes.
`--fill CACHE` runs a cold solve into CACHE (to warm it). `--workload openstack` resolves the
OpenStack global requirements under their upper constraints, as the benchmark's `py-openstack` case
does (`openstack_target` in run.py): without the projects of `data/openstack/exclude.txt` and with
salt's stated metadata (`data/openstack/dependency-metadata.toml`). `--pins FILE` writes every pin
(name, version, filename, sha256) as JSON, to check that a change leaves the answer alone. The time
printed is the solve's alone (no interpreter start-up or imports), wall and CPU.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from bundler.python_solve import PythonSolution, solve_python
from bundler.spec import DependencyMetadata, PythonSpec

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
OPENSTACK = Path(__file__).resolve().parent / "data" / "openstack"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _openstack_requirements(work: Path) -> Path:
    """global-requirements without the excluded projects (what run.py's openstack_target writes)."""
    exclude = {
        _normalize(line.split("#")[0].strip())
        for line in (OPENSTACK / "exclude.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    }
    kept = []
    for line in (OPENSTACK / "global-requirements-2026.1.txt").read_text().splitlines():
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if m and _normalize(m.group(1)) in exclude:
            continue
        kept.append(line)
    out = work / "openstack-requirements.txt"
    out.write_text("\n".join(kept) + "\n")
    return out


def _openstack_metadata() -> tuple[DependencyMetadata, ...]:
    doc = tomllib.loads((OPENSTACK / "dependency-metadata.toml").read_text())
    return tuple(
        DependencyMetadata(
            d["name"], d.get("version"), tuple(d.get("requires-dist", ())), d.get("requires-python")
        )
        for d in doc["python"]["dependency-metadata"]
    )


def workload(name: str, work: Path) -> PythonSpec:
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
            requirements_file=str(_openstack_requirements(work)),
            constraints_file=str(OPENSTACK / "upper-constraints-2026.1.txt"),
            dependency_metadata=_openstack_metadata(),
            **common,  # type: ignore[arg-type]
        )
    return PythonSpec(require=AIRFLOW, requirements_file=None, constraints_file=None, **common)  # type: ignore[arg-type]


def run(spec: PythonSpec, cache: Path, offline: bool) -> tuple[float, float, PythonSolution]:
    """(wall seconds, CPU seconds of the process, solution); on a shared machine the CPU time varies less."""
    t0, c0 = time.perf_counter(), time.process_time()
    sol = solve_python(spec, cache_dir=cache, offline=offline, legacy_sdists=spec.legacy_sdists)
    return time.perf_counter() - t0, time.process_time() - c0, sol


def write_pins(sol: PythonSolution, path: Path) -> None:
    pins = sorted((p.name, p.version, p.filename, p.sha256) for p in sol.packages)
    path.write_text(json.dumps(pins, indent=0) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--cold", action="store_true")
    mode.add_argument("--warm", metavar="CACHE", type=Path)
    mode.add_argument("--fill", metavar="CACHE", type=Path)
    ap.add_argument("--workload", choices=("airflow", "openstack"), default="airflow")
    ap.add_argument("--profile", choices=("pyinstrument", "cprofile"), nargs="?", const="cprofile")
    ap.add_argument("--profile-out", type=Path, default=None)
    ap.add_argument("--pins", metavar="FILE", type=Path, default=None, help="write the pins as JSON")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bundler-profile-") as work:
        spec = workload(args.workload, Path(work))
        if args.cold:
            cache, offline = Path(work) / "cache", False
        elif args.fill:
            cache, offline = args.fill, False
        else:
            cache, offline = args.warm, True

        def go() -> tuple[float, float, PythonSolution]:
            return run(spec, cache, offline)

        if args.profile == "cprofile":
            import cProfile
            import pstats

            prof = cProfile.Profile()
            dt, cpu, sol = prof.runcall(go)
            stats = pstats.Stats(prof, stream=sys.stderr)
            if args.profile_out:
                stats.dump_stats(str(args.profile_out))
            stats.sort_stats("tottime").print_stats(40)
        elif args.profile == "pyinstrument":
            # the main thread only, as a tree (it has crashed with many threads)
            from pyinstrument import Profiler

            p = Profiler(interval=0.001)
            p.start()
            dt, cpu, sol = go()
            p.stop()
            if args.profile_out:
                args.profile_out.write_text(p.output_html())
            sys.stderr.write(p.output_text(unicode=False, color=False, show_all=False))
        else:
            dt, cpu, sol = go()
    n = len({p.name for p in sol.packages})
    print(f"{args.workload} {'offline' if offline else 'online'}: {dt:.2f} s (CPU {cpu:.2f} s), {n} pins")
    if args.pins:
        write_pins(sol, args.pins)
    return 0


if __name__ == "__main__":
    sys.exit(main())
