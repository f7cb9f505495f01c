"""`bundler check SPEC`: which packages of the spec's Debian sources can be installed at all
(the question dose-distcheck answers), with the reason for each that cannot."""

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from bundler.app import app
from solver.errors import InputError


@app.command()
def check(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="A spec whose [debian] sources to check.")],
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Index cache.")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use only cached indexes.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    explain_limit: Annotated[int, typer.Option("--explain", help="Explain at most this many.")] = 200,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress.")] = False,
) -> None:
    """Check that every package of the Debian sources is installable; exit 1 if some are not."""
    from bundler.pipeline import default_cache_dir, load_debian_sources
    from bundler.spec import load_spec
    from solver.deb.installability import check_installability

    spec = load_spec(spec_path)
    if spec.debian is None:
        raise InputError("the spec has no [debian] section", where=str(spec_path))
    from bundler.gcpause import gc_paused
    from bundler.progress import Display

    started = time.perf_counter()
    with gc_paused(), Display.for_command(quiet=quiet, as_json=as_json) as display:
        loaded, _archs = load_debian_sources(
            spec.debian, cache_dir=default_cache_dir(cache_dir), offline=offline, progress=display
        )
        universe = loaded.universe
        candidates = [c for name in sorted(universe.names()) for c in universe.candidates(name)]
        loaded_at = time.perf_counter()
        step = display.task(f"checking {len(candidates)} packages")
        report = check_installability(universe, candidates, explain_limit=explain_limit)
        step.finish()
    done = time.perf_counter()
    if as_json:
        out = {
            "checked": report.checked,
            "installable": report.installable,
            "broken": [{"package": c.name, "version": c.version, "architecture": c.arch, "why": why}
                       for c, why in report.broken],
            "timings": {"load": round(loaded_at - started, 3), "check": round(done - loaded_at, 3)},
        }
        sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
    else:
        typer.echo(f"{report.checked} packages checked, {report.installable} installable, "
                   f"{len(report.broken)} not (load {loaded_at - started:.1f}s, check {done - loaded_at:.1f}s)")
        for c, why in report.broken:
            typer.echo(f"\n{c.name} {c.version} ({c.arch}) cannot be installed:")
            typer.echo("  " + why.replace("\n", "\n  "))
    if report.broken:
        raise typer.Exit(1)
