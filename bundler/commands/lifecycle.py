"""The release lifecycle: `bundler delta OLD NEW OUT` (a hotfix bundle, bundler/delta.py) and
`bundler upgrade-check OLD NEW` (the upgrade proof with the real apt and pip, bundler/upgrade.py)."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bundler.app import app, console


@app.command()
def delta(
    old_path: Annotated[Path, typer.Argument(metavar="OLD_LOCK", help="The lock of the bundle in the field.")],
    new_path: Annotated[Path, typer.Argument(metavar="NEW_LOCK", help="The lock of the update.")],
    out: Annotated[Path, typer.Argument(help="The hotfix bundle directory to write (replaced only on success).")],
    archive: Annotated[Path | None, typer.Option("--archive", help="Also write it as FILE.tar.zst.")] = None,
    iso: Annotated[Path | None, typer.Option("--iso", help="Also write it as an ISO 9660 image.")] = None,
    sign_key: Annotated[str | None, typer.Option("--sign-key", help="gpg key id to sign the Release with.")] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Cache directory, shared with `solve` [default: $BUNDLER_CACHE_DIR or the XDG cache].")] = None,
    epoch: Annotated[int | None, typer.Option("--epoch", help="Timestamp of everything (default: NEW's).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Write a hotfix bundle: only what changed from OLD_LOCK to NEW_LOCK, as an overlay of OLD's bundle."""
    from bundler.delta import build_delta
    from bundler.lock import read_lock
    from bundler.pipeline import default_cache_dir
    from bundler.progress import Display

    old, new = read_lock(old_path), read_lock(new_path)
    report, plan = build_delta(
        old, new, out, old_where=str(old_path), new_where=str(new_path), archive=archive, iso=iso,
        sign_key=sign_key, cache_dir=default_cache_dir(cache_dir) / "artifacts", epoch=epoch, progress=Display.for_command(quiet=quiet),
    )  # fmt: skip
    counts = {k: sum(1 for c in plan.changes if c.kind == k) for k in ("changed", "added", "dropped")}
    console().print(
        f"built hotfix {report.out}: {report.debs} .deb, {report.python_files} Python files "
        f"({counts['changed']} changed, {counts['added']} added, {counts['dropped']} dropped); "
        f"SHA256SUMS {report.sha256sums}"
    )
    for extra in (report.archive, report.iso):
        if extra is not None:
            console().print(f"wrote {extra}")


@app.command("upgrade-check")
def upgrade_check(
    old_path: Annotated[Path, typer.Argument(metavar="OLD_LOCK", help="The lock of the release in the field.")],
    new_path: Annotated[Path, typer.Argument(metavar="NEW_LOCK", help="The lock it should upgrade to.")],
    old_bundle: Annotated[Path | None, typer.Option("--old-bundle", help="OLD's bundle [default: built from OLD_LOCK].")] = None,
    new_bundle: Annotated[Path | None, typer.Option("--new-bundle", help="NEW's whole bundle [default: built from NEW_LOCK].")] = None,
    delta_dir: Annotated[Path | None, typer.Option("--delta", help="Instead of --new-bundle: the hotfix bundle, used over the old bundle.")] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Cache directory for the bundles built here, shared with `solve` [default: $BUNDLER_CACHE_DIR or the XDG cache].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Prove the upgrade: apt-get -s dist-upgrade and pip from OLD's installed set to NEW's; exit 1 if it breaks."""
    from bundler.lock import read_lock
    from bundler.pipeline import default_cache_dir
    from bundler.upgrade import upgrade_check as check

    old, new = read_lock(old_path), read_lock(new_path)
    report = check(
        old, new, old_bundle=old_bundle, new_bundle=new_bundle, delta=delta_dir,
        cache_dir=default_cache_dir(cache_dir) / "artifacts",
        old_where=str(old_path), new_where=str(new_path),
    )  # fmt: skip
    if as_json:
        doc = {"ok": report.ok, "problems": list(report.problems), "notes": list(report.notes),
               "apt": list(report.deb_actions), "python": report.python_installed}  # fmt: skip
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        for note in report.notes:
            console().print(f"note: {note}")
        for problem in report.problems:
            console(stderr=True).print(f"breaks: {problem}")
        if report.ok:
            console().print(f"ok: the upgrade from {old_path} to {new_path} reaches every version of NEW")
    if not report.ok:
        raise typer.Exit(1)
