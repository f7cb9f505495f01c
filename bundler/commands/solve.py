"""`bundler solve SPEC`: write the lock (and, with --bundle, build the bundle from it)."""

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bundler.app import app
from bundler.quicksolve import default_lock_path, solve_json
from bundler.summary import console_for as _console
from bundler.summary import print_summary as _print_summary
from solver.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from bundler.pipeline import SolveReport


def _would_change(old: str, report: "SolveReport", lock_path: Path) -> str:
    """What a solve would change in the lock whose text is `old`: the pins that move, at most ten."""
    from bundler.lock import loads

    def versions(packages: Any) -> dict[tuple[str, str], str]:
        return {(p.id, p.platform): p.version for p in packages}

    try:
        before = versions(loads(old, str(lock_path)).packages)
    except InputError as e:
        return f"it does not parse ({e.message})"
    after = versions(report.lock.packages)
    moved = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if not moved:
        return "the same pins, but the lock's other lines (digests, inputs-sha256) would change"
    shown = ", ".join(f"{i}{f' ({pf})' if pf else ''} {before.get((i, pf)) or '(new)'} → "
                      f"{after.get((i, pf)) or '(dropped)'}" for i, pf in moved[:10])
    return f"{len(moved)} packages would change: {shown}{' ...' if len(moved) > 10 else ''}"


def _check_lock(console: "Console", report: "SolveReport", lock_path: Path, *, as_json: bool, quiet: bool) -> None:
    """--check: say whether the lock at `lock_path` is what this solve would write; exit 1 if not."""
    from bundler.lock import dumps

    try:
        old = lock_path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        old = None
    new = dumps(report.lock)
    current = report.up_to_date or old == new
    if as_json:
        sys.stdout.write(solve_json(report, lock_path))
    elif not quiet:
        if current:
            console.print(f"{lock_path} is up to date" + ("" if report.up_to_date else " (resolved to check)"))
        elif old is None:
            console.print(f"{lock_path} is missing or unreadable: a solve would write it")
        else:
            console.print(f"{lock_path} is out of date: {_would_change(old, report, lock_path)}")
    if not current:
        raise typer.Exit(1)


@app.command()
def solve(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="The bundle spec (TOML).")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Lock file to write [default: bundle.lock beside the spec].")] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Index cache [default: $BUNDLER_CACHE_DIR or the XDG cache].")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use only cached indexes; no network.")] = False,
    upgrade: Annotated[bool, typer.Option("--upgrade", help="Ignore the versions of an existing lock.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No summary, no progress.")] = False,
    bundle: Annotated[Path | None, typer.Option("--bundle", help="Also build the offline bundle into this directory.")] = None,
    archive: Annotated[Path | None, typer.Option("--archive", help="With --bundle: also write this .tar.zst.")] = None,
    iso: Annotated[Path | None, typer.Option("--iso", help="With --bundle: also write this ISO image.")] = None,
    sign_key: Annotated[str | None, typer.Option("--sign-key", help="With --bundle: sign the Release with this gpg key.")] = None,
    closure: Annotated[str | None, typer.Option("--closure", help="install (default) or mirror: also every alternative and provider.")] = None,
    source_packages: Annotated[bool, typer.Option("--source-packages", help="Also lock (and ship) the Debian source package of every binary.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (write nothing) where the ecosystems disagree, e.g. python-version vs Debian's python3.")] = False,
    since: Annotated[Path | None, typer.Option("--since", help="With --bundle: keep this lock's versions where they fit, and build a hotfix bundle of what changed since it.")] = None,
    no_fast_path: Annotated[bool, typer.Option("--no-fast-path", help="Resolve even when the lock is up to date (inputs and indexes unchanged).")] = False,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the lock is not what a solve would write.")] = False,
) -> None:
    """Pick one consistent set of versions for SPEC and write the lock file."""
    if bundle is None and (archive or iso or sign_key):
        # Checked before any work: a solve must not run (and write the lock) only to end in a usage error.
        raise typer.BadParameter("--archive, --iso and --sign-key need --bundle")
    if since is not None and bundle is None:
        raise typer.BadParameter("--since needs --bundle")
    if check and bundle is not None:
        raise typer.BadParameter("--check writes nothing: it does not take --bundle")
    # Imported here, not at the top: `bundler --help` and the other commands need none of it.
    from bundler.lock import read_lock, write_lock
    from bundler.pipeline import default_cache_dir
    from bundler.spec import load_spec
    spec = load_spec(spec_path)
    if closure is not None:
        if closure not in ("install", "mirror"):
            raise InputError(f"--closure must be 'install' or 'mirror', not {closure!r}")
        if spec.debian is not None:
            spec = dataclasses.replace(spec, debian=dataclasses.replace(spec.debian, closure=closure))
    if source_packages:
        if spec.debian is None:
            raise InputError("--source-packages needs a [debian] section", where=str(spec_path))
        spec = dataclasses.replace(spec, debian=dataclasses.replace(spec.debian, source_packages=True))
    lock_path = output or default_lock_path(spec_path)
    base = read_lock(since) if since is not None else None  # unreadable: fail before solving
    from bundler.progress import Display
    from bundler.solving import solve_report

    display = Display.for_command(quiet=quiet, as_json=as_json)
    # The lock fast path (bundler/fastpath.py): an unchanged re-solve keeps the lock without resolving.
    # --upgrade and --since ask for other preferences than the lock's own, so they always solve.
    report = solve_report(spec, lock_path, cache_dir=default_cache_dir(cache_dir), offline=offline,
                          progress=display, as_json=as_json, upgrade=upgrade, strict=strict, since=since,
                          fast_path=not no_fast_path)  # fmt: skip
    if check:
        _check_lock(_console(as_json), report, lock_path, as_json=as_json, quiet=quiet)
        return
    if base is not None:
        from bundler.delta import plan_delta, spec_vetoes

        # Refuse a bad pair (another bundle, a downgrade) before anything is written.
        vetoes = spec_vetoes(spec, report.audit)
        plan_delta(base, report.lock, vetoes=vetoes, old_where=str(since), new_where=str(lock_path))
    if not report.up_to_date:  # else the lock is already these bytes
        write_lock(lock_path, report.lock)
    if base is not None and bundle is not None:
        from bundler.delta import build_delta

        build_delta(base, report.lock, bundle, vetoes=vetoes, old_where=str(since),
                    new_where=str(lock_path), archive=archive, iso=iso, sign_key=sign_key,
                    cache_dir=default_cache_dir(cache_dir) / "artifacts", epoch=spec.epoch, progress=display)
    elif bundle is not None:
        from bundler.build import build_bundle

        build_bundle(report.lock, bundle, archive=archive, iso=iso, sign_key=sign_key,
                     cache_dir=default_cache_dir(cache_dir) / "artifacts", epoch=spec.epoch, progress=display)
    if as_json:
        sys.stdout.write(solve_json(report, lock_path))
    elif not quiet:
        console = _console(as_json)
        _print_summary(console, report, lock_path)
        if bundle is not None:
            console.print(f"bundle written to {bundle}")

