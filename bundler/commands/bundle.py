"""The bundle commands: `bundler build LOCK OUT`, `bundler verify OUT`, `bundler serve OUT`."""

from pathlib import Path

import typer

from bundler.app import app, console
from solver.errors import InputError


@app.command()
def build(
    lock: Path = typer.Argument(..., help="The lock file written by `bundler solve`."),
    out: Path = typer.Argument(..., help="The bundle directory to write (replaced only on success)."),
    archive: Path | None = typer.Option(None, "--archive", help="Also write the bundle as FILE.tar.zst."),
    iso: Path | None = typer.Option(None, "--iso", help="Also write the bundle as an ISO 9660 image."),
    sign_key: str | None = typer.Option(None, "--sign-key", help="gpg key id to sign the Release file with."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Cache directory, shared with `solve` [default: $BUNDLER_CACHE_DIR or the XDG cache]."
    ),
    epoch: int | None = typer.Option(
        None, "--epoch", help="Timestamp of everything (default: lock, SOURCE_DATE_EPOCH, 1980-01-01)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Download, verify and lay out every artifact of LOCK as an offline bundle in OUT."""
    from bundler.build import build_bundle
    from bundler.lock import read_lock
    from bundler.pipeline import default_cache_dir
    from bundler.progress import Display

    # The artifacts live where `solve --bundle` keeps them, so a build after a solve downloads nothing.
    report = build_bundle(
        read_lock(lock), out, archive=archive, iso=iso, sign_key=sign_key,
        cache_dir=default_cache_dir(cache_dir) / "artifacts", epoch=epoch,
        progress=Display.for_command(quiet=quiet),
    )  # fmt: skip
    console().print(
        f"built {report.out}: {report.debs} .deb, {report.python_files} Python files, "
        f"{report.files} files in all; SHA256SUMS {report.sha256sums}"
    )
    for extra in (report.archive, report.iso):
        if extra is not None:
            console().print(f"wrote {extra}")


@app.command()
def verify(
    out: Path = typer.Argument(..., help="The bundle directory to check."),
    keyring: str | None = typer.Option(None, "--keyring", help="Verify the Release signatures with this keyring (not the shipped debian/bundle.gpg) and require them."),
    base: Path | None = typer.Option(None, "--base", help="For a hotfix bundle: the bundle it completes, to check dependencies across both."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (bundler/schemas/verify.json)."),
) -> None:
    """Re-check every checksum of the bundle and that every dependency is satisfiable inside it."""
    from bundler.verify import verify_bundle

    if not out.is_dir():
        raise InputError("not a bundle directory", where=str(out))
    report = verify_bundle(out, keyring=keyring, base=base)
    if as_json:
        import json
        import sys  # here, not at the top: the module imports only what every command needs

        doc = {"bundle": str(out), "ok": report.ok, "files": report.files, "debs": report.debs,
               "python-files": report.python_files, "dependencies-checked": not report.notes,
               "problems": list(report.problems), "notes": list(report.notes)}  # fmt: skip
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        if report.problems:
            raise typer.Exit(1)
        return
    for note in report.notes:
        console(stderr=True).print(f"note: {note}")
    if report.problems:
        console(stderr=True).print(f"[bold red]{len(report.problems)} problem(s)[/] in {out}:", markup=True)
        for problem in report.problems:
            console(stderr=True).out(f"  {problem}")
        raise typer.Exit(1)
    console().print(
        f"ok: {report.files} files, {report.debs} Debian package entries, "
        f"{report.python_files} Python files; "
        + ("dependencies not checked" if report.notes else "dependencies satisfiable")
    )


@app.command()
def serve(
    out: Path = typer.Argument(..., help="The bundle directory to serve."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on (0: any free port)."),
) -> None:
    """Serve the bundle over HTTP: apt at /debian, pip/uv at /python/simple (PEP 503 + PEP 691)."""
    from bundler.build.debfile import parse_stanzas
    from bundler.serve import make_server

    if not (out / "SHA256SUMS").is_file():
        raise InputError("not a bundle directory (no SHA256SUMS)", where=str(out))
    try:
        server = make_server(out, host, port)
    except OSError as e:
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    base = f"http://{bound_host}:{bound_port}"
    console().print(f"serving {out} at {base}/")
    for release in sorted((out / "debian" / "dists").glob("*/Release")):
        fields = dict(parse_stanzas(release.read_text("utf-8", "replace"))[0])
        signed = (release.parent / "InRelease").is_file()
        option = "signed-by=<keyring>" if signed else "trusted=yes"
        console().print(f"  apt: deb [{option}] {base}/debian {fields.get('Suite', '')} {fields.get('Components', '')}")
    if (out / "python" / "simple").is_dir():
        console().print(f"  pip: --index-url {base}/python/simple")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
