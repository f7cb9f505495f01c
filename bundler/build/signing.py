"""OpenPGP signatures of the Release file: `InRelease` (clearsigned) and `Release.gpg` (detached,
armored), by gpg, as apt verifies them (DebianRepository/Format#A.22Release.22_files).

The signature time is the bundle's epoch (`--faked-system-time EPOCH!`), so the same key signs the same
Release to the same bytes when the signature algorithm is deterministic (EdDSA, RSA PKCS#1 v1.5); the
key is whatever `KEYID` names in the caller's GnuPG home (`GNUPGHOME`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from solver.errors import InputError


def _gpg(args: list[str], data: bytes, key: str) -> bytes:
    cmd = [
        "gpg", "--batch", "--yes", "--no-tty", "--quiet", "--no-auto-key-locate",
        "--pinentry-mode", "loopback", "--passphrase", "",
        "--local-user", key, "--digest-algo", "SHA512", "--personal-digest-preferences", "SHA512",
        "--no-emit-version", "--no-comments",
        *args,
    ]  # fmt: skip
    try:
        result = subprocess.run(cmd, input=data, capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError(
            "gpg is not installed; it is needed for --sign-key", hint="apt-get install gnupg"
        ) from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"gpg could not sign with key {key!r}: {message[-1] if message else 'unknown error'}",
            hint="the key must be in GNUPGHOME without a passphrase, and no newer than the bundle's epoch",
        )
    return result.stdout


def sign_release(release: Path, key: str, epoch: int) -> dict[str, bytes]:
    """Write InRelease and Release.gpg beside `release`; returns {name: content}."""
    data = release.read_bytes()
    faked = ["--faked-system-time", f"{epoch}!"]
    out = {
        "InRelease": _gpg([*faked, "--clearsign"], data, key),
        "Release.gpg": _gpg([*faked, "--armor", "--detach-sign"], data, key),
    }
    for name, content in out.items():
        (release.parent / name).write_bytes(content)
    return out
