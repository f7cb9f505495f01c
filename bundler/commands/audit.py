"""`bundler audit LOCK --db PATH`: the lock's packages checked against security advisories.

Exit 0 when nothing is affected, 1 when something is, 2 on bad input (bundler.cli prints the error).
"""

import sys
from pathlib import Path
from typing import Annotated

import typer

from bundler.app import app


@app.command()
def audit(
    lock_path: Annotated[Path, typer.Argument(metavar="LOCK", help="The lock file to audit.")],
    db: Annotated[list[Path], typer.Option("--db", help="Advisories: an OSV .json, a directory of them, an "
                                           "OSV all.zip, or the Debian security tracker's JSON (repeatable).")],
    release: Annotated[str | None, typer.Option("--release", help="Debian release codename [default: from "
                                                "each package's suite].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Report the lock's packages that known vulnerabilities affect; exit 1 if there are any."""
    from bundler.audit import audit_lock, load_db
    from bundler.lock import read_lock

    lock = read_lock(lock_path)
    advisories = load_db(db)
    findings = audit_lock(lock, advisories, release)
    packages = {(f.ecosystem, f.package, f.version) for f in findings}
    if as_json:
        out = {
            "lock": str(lock_path),
            "advisories": advisories.count,
            "affected": [f.to_json() for f in findings],
            "packages-affected": len(packages),
        }
        import json

        sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
    else:
        for f in findings:
            aliases = f" ({', '.join(f.aliases)})" if f.aliases else ""
            fixed = f"fixed in {f.fixed}" if f.fixed else "no fix" + (f" ({f.status})" if f.status else "")
            what = f"{f.ecosystem} {f.package} {f.version}"
            if f.binaries:
                what += f" [{', '.join(f.binaries)}]"
            typer.echo(f"{what}: {f.advisory}{aliases}, {fixed}")
        if findings:
            typer.echo(f"{len(packages)} packages affected by {len({f.advisory for f in findings})} advisories")
        else:
            typer.echo(f"no known vulnerabilities ({advisories.count} advisories checked)")
    if findings:
        raise typer.Exit(1)
