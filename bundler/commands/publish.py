"""`bundler publish OUT s3://BUCKET/PREFIX`: upload a built bundle to S3-compatible object storage
(bundler/publish.py says in which order, and why a re-run or a second release is safe)."""

import json
import sys
from pathlib import Path

import typer

from bundler.app import app, console


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@app.command()
def publish(
    out: Path = typer.Argument(..., help="The bundle directory (written by `bundler build`)."),
    target: str = typer.Argument(..., metavar="s3://BUCKET/PREFIX", help="Where the bundle goes."),
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="URL of a non-AWS S3-compatible store (else AWS_ENDPOINT_URL, else AWS)."
    ),
    access_key: str | None = typer.Option(None, "--access-key", help="Else AWS_ACCESS_KEY_ID (preferred)."),
    secret_key: str | None = typer.Option(None, "--secret-key", help="Else AWS_SECRET_ACCESS_KEY (preferred)."),
    region: str | None = typer.Option(None, "--region", help="Else AWS_REGION, AWS_DEFAULT_REGION, us-east-1."),
    prune: bool = typer.Option(
        False, "--prune", help="Afterwards, delete objects under PREFIX the new release does not name."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Compare with the store, change nothing."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable summary."),
    jobs: int = typer.Option(8, "--jobs", "-j", min=1, help="Uploads at a time."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress line."),
) -> None:
    """Upload the bundle OUT to S3-compatible storage, for apt and pip to read over HTTP."""
    from bundler.progress import Display
    from bundler.publish import publish_bundle

    display = Display.for_command(quiet=quiet, as_json=as_json)
    with display:
        task = display.task("objects", unit="objects")

        def progress(done: int, total: int, nbytes: int) -> None:
            task.update(description=f"objects, {_size(nbytes)}", total=total)
            task.advance()

        report = publish_bundle(
            out, target, endpoint=endpoint, access_key=access_key, secret_key=secret_key, region=region,
            prune=prune, dry_run=dry_run, jobs=jobs, progress=progress if display.enabled else None,
        )  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True) + "\n")
        return
    if dry_run:
        for key in report.uploaded_keys:
            console().print(f"would upload {key}")
        for key in report.pruned_keys:
            console().print(f"would delete {key}")
    verb = ("would upload", "would delete") if dry_run else ("uploaded", "deleted")
    line = (
        f"{report.target}: {verb[0]} {report.uploaded} objects ({_size(report.uploaded_bytes)}), "
        f"{report.skipped} unchanged ({_size(report.skipped_bytes)})"
    )
    if prune:
        line += f", {verb[1]} {report.pruned}"
    console().print(line)
