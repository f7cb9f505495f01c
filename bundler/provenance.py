"""The bundle proves itself (`bundler verify`, issue 12 point 7): its files are the lock's, and a
bundle that was signed is still signed, by the same key.

Files: every package of the bundle's `bundle.lock` must be in the bundle at its place (the .deb at
`debian/pool/...`, the Python file at `python/files/NAME`) with the lock's size and sha256, so the
bundle is checked against the lock and not only against its own SHA256SUMS.

Signatures (DebianRepository/Format, "Release files" and "Signed-By"): a signed bundle's Release
names its signer in `Signed-By` (primary key fingerprints) and ships the public key as
`debian/bundle.gpg` (bundler/build/signing.py). For each suite:
- `Signed-By` present: InRelease or Release.gpg must exist (else the signatures were stripped), and
  every signature present must verify by gpgv, with `--keyring` if given, else the shipped key, and be
  made by a key `Signed-By` names (else it was replaced, whatever key was shipped beside it);
- no `Signed-By` but signatures present: they must verify (same keyrings);
- `--keyring` given: the suite must be signed, by a key of that keyring (the only anchor outside the
  bundle: one who rewrites Release, the signatures, the key, the README and SHA256SUMS together has made
  an unsigned or a differently signed bundle, which only a keyring or the SHA256SUMS digest printed by
  `bundler build` can tell apart).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol

from bundler.build.debfile import parse_stanzas
from bundler.lock import Lock

KEY_FILE = "debian/bundle.gpg"


class _Digests(Protocol):
    def get(self, rel: str) -> tuple[int, str, str] | None: ...


def check_lock_files(lock: Lock, digests: _Digests, problems: list[str]) -> int:
    """Every locked package's file in the bundle with the lock's size and sha256; returns how many."""
    from bundler.build.debrepo import pool_path

    n = 0
    for p in lock.packages:
        rel = f"debian/{pool_path(p)}" if p.ecosystem == "deb" else f"python/files/{p.filename}"
        got = digests.get(rel)
        if got is None:
            problems.append(f"{rel}: missing (bundle.lock has {p.id})")
        elif got[1] != p.sha256 or (p.size and got[0] != p.size):
            problems.append(f"{rel}: size/sha256 differ from bundle.lock ({p.id} is sha256 {p.sha256[:16]}…)")
        n += 1
    return n


def signed_by(release_text: str) -> list[str]:
    """The fingerprints of a Release's Signed-By field, upper case, without apt's `!` suffix."""
    stanzas = parse_stanzas(release_text, "Release")
    value = dict(stanzas[0]).get("Signed-By", "") if stanzas else ""
    return [w.rstrip("!").upper() for w in value.replace(",", " ").split()]


def _signer(signed: bytes, signature: bytes | None, keyrings: list[Path], tmp: Path) -> str:
    """gpgv's verdict: the primary fingerprint of the good signature's key; ValueError if none."""
    from repos.deb.release import run_gpgv

    try:
        proc = run_gpgv(signed, signature, keyrings, tmp)
    except OSError as e:
        raise ValueError(f"cannot run gpgv: {e}") from None
    valid = [
        line.split() for line in proc.stdout.decode(errors="replace").splitlines() if " VALIDSIG " in line
    ]
    if proc.returncode != 0 or not valid:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise ValueError(detail[-1] if detail else "no valid signature")
    words = valid[0]
    # [GNUPG:] VALIDSIG <fpr> <date> <ts> <expire> <ver> <res> <pkalgo> <hashalgo> <class> <primary-fpr>
    return (words[11] if len(words) > 11 else words[2]).upper()


def check_signatures(root: Path, suite_dir: Path, keyring: str | None, problems: list[str]) -> None:
    """The checks of the module docstring for one suite of the bundle's Debian repository."""
    from repos.deb.release import keyring_files
    from repos.errors import SignatureError

    rel = f"debian/dists/{suite_dir.name}"
    inrelease, release, detached = suite_dir / "InRelease", suite_dir / "Release", suite_dir / "Release.gpg"
    wanted = signed_by(release.read_text("utf-8", "replace"))
    present = [p for p in (inrelease, detached) if p.is_file()]
    if not present:
        if wanted:
            problems.append(
                f"{rel}: not signed (no InRelease, no Release.gpg), but its Release says Signed-By "
                f"{' '.join(wanted)}: the signatures were stripped"
            )
        elif keyring is not None:
            problems.append(f"{rel}: not signed (no InRelease, no Release.gpg)")
        return
    key_file = root / KEY_FILE
    if keyring is None and not key_file.is_file():
        problems.append(f"{KEY_FILE}: missing, so the signatures of {rel} cannot be checked (use --keyring)")
        return
    with tempfile.TemporaryDirectory(prefix="bundler-verify-") as t:
        tmp = Path(t)
        try:
            keyrings = keyring_files(keyring, tmp) if keyring is not None else [key_file]
        except SignatureError as e:
            problems.append(f"{rel}: {e.message}")
            return
        for path in present:
            signature = path.read_bytes() if path is detached else None
            signed = release.read_bytes() if path is detached else path.read_bytes()
            work = tmp / path.name
            work.mkdir()
            try:
                signer = _signer(signed, signature, keyrings, work)
            except ValueError as e:
                against = "--keyring" if keyring is not None else KEY_FILE
                problems.append(f"{rel}/{path.name}: bad signature (not verified by {against}: {e})")
                continue
            if wanted and signer not in wanted:
                problems.append(
                    f"{rel}/{path.name}: signed by {signer}, not by the key its Release names "
                    f"(Signed-By {' '.join(wanted)}): the signature was replaced"
                )
