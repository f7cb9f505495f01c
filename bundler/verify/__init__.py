"""`bundler verify OUT`: re-check a bundle (DESIGN.md, "The bundle").

Checksums, outside in: SHA256SUMS → every file (and no file missing from it); dists/*/Release →
the Packages indexes (and InRelease says the same as Release); Packages → the .debs (Size, SHA256,
MD5sum); Sources → the source packages' files (Checksums-Sha256, Files), each .dsc → the files it
lists, and, in a bundle with source packages, every binary's source (its Source field) is there; the
PEP 503 pages and PEP 691 JSON → the distribution files and their PEP 658 metadata;
bundle.lock → every package file, and the Release signatures against the signer the bundle names
(bundler/provenance.py).

Closure: every Depends/Pre-Depends OR group of every package has a provider in the same architecture's
indexes, by name or by Provides, with its version relation (Debian Policy §7.1, §7.5); every
Requires-Dist of every Python file whose marker holds for the target (PEP 508; the lock's
`python-version` and `platforms`, default Python 3.11 on linux x86_64) names a project the bundle has
a matching version of, and every file's Requires-Python admits the target.

The result is a list of problems, each naming the file or package at fault; empty means clean.
This module holds the report, the checksums and the order of the checks; verify/debian.py checks
the Debian repository, verify/python.py the Python index, bundler/provenance.py the lock and the
signatures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from bundler.lock import Lock, loads
from bundler.provenance import check_lock_files
from solver.errors import BundlerError, InputError

from .debian import bundle_debs, check_debian
from .python import check_python
from .sums import Digests, check_sums


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why
    files: int = 0
    debs: int = 0
    python_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _base_lock(out: Path, problems: list[str]) -> Lock | None:
    """The lock of the bundle a hotfix bundle completes (its base.lock), if this is one."""
    path = out / "base.lock"
    if not path.is_file():
        return None
    try:
        return loads(path.read_text("utf-8"), str(path))
    except BundlerError as e:
        problems.append(f"base.lock: {e.message}")
        return None


def _base_lock_of(base: Path, problems: list[str]) -> Lock | None:
    try:
        return loads((base / "bundle.lock").read_text("utf-8"), str(base / "bundle.lock"))
    except OSError as e:
        problems.append(f"{base}/bundle.lock: unreadable ({e.strerror})")
    except BundlerError as e:
        problems.append(f"{base}/bundle.lock: {e.message}")
    return None



def verify_bundle(out: Path, keyring: str | None = None, base: Path | None = None) -> VerifyReport:
    """Check the bundle at `out`; the report's `problems` name every file or package at fault.
    Signatures are checked with the shipped debian/bundle.gpg, or with `keyring` (which also requires
    every suite to be signed).

    A hotfix bundle (bundler/delta.py: it holds `base.lock`) ships only what changed: its lock's
    other packages are the base's, so only the shipped ones are looked for, and its Debian
    dependencies are checked together with the packages of the `base` bundle directory when given,
    else not at all (said in `notes`; `bundler upgrade-check` proves the pair with apt)."""
    out = Path(out)
    report = VerifyReport()
    if not out.is_dir():
        report.problems.append(f"{out}: not a directory")
        return report
    digests = Digests(out)
    report.files = check_sums(out, digests, report.problems)
    lock: Lock | None = None
    lock_path = out / "bundle.lock"
    if lock_path.is_file():
        try:
            lock = loads(lock_path.read_text("utf-8"), str(lock_path))
        except BundlerError as e:
            report.problems.append(f"bundle.lock: {e.message}")
    else:
        report.problems.append("bundle.lock: missing")
    want_sources = lock is not None and bool(lock.sources or lock.extra.get("source-packages"))
    base_lock = _base_lock(out, report.problems)
    if lock is not None:
        if base_lock is not None:
            unchanged = {(p.id, p.version, p.sha256) for p in base_lock.packages}
            lock = dataclasses.replace(
                lock, packages=tuple(p for p in lock.packages if (p.id, p.version, p.sha256) not in unchanged)
            )
        check_lock_files(lock, digests, report.problems)
    base_debs = None
    if base_lock is not None:
        if base is None:
            report.notes.append("a hotfix bundle: its dependencies were not checked (give --base BUNDLE)")
        else:
            base_debs = bundle_debs(Path(base))
            theirs = _base_lock_of(Path(base), report.problems)
            if theirs is not None and {p.id + p.sha256 for p in theirs.packages} != {
                p.id + p.sha256 for p in base_lock.packages
            }:
                report.problems.append(f"{base}: its bundle.lock is not this hotfix bundle's base.lock")
    elif base is not None:
        raise InputError("--base is for a hotfix bundle (one with base.lock)", where=str(out))
    report.debs = check_debian(
        out, digests, report.problems, keyring, want_sources, base_debs,
        closure=base_lock is None or base_debs is not None,
    )  # fmt: skip
    report.python_files = check_python(out, digests, lock, report.problems)
    return report
