"""OpenPGP signatures of the Release file: `InRelease` (clearsigned) and `Release.gpg` (detached,
armored), by gpg, as apt verifies them (DebianRepository/Format#A.22Release.22_files).

The signature time is the bundle's epoch (`--faked-system-time EPOCH!`), so the same key signs the same
Release to the same bytes when the signature algorithm is deterministic (EdDSA, RSA PKCS#1 v1.5); the
key is whatever `KEYID` names in the caller's GnuPG home (`GNUPGHOME`).

The public half ships in the bundle as `debian/bundle.gpg` (a binary keyring, `gpg --export` with
export-minimal, the form apt's `Signed-By` and gpgv read) and the primary key's fingerprint goes into the
Release file's `Signed-By` field (DebianRepository/Format#Signed-By), so `bundler verify` can tell a
stripped or re-signed bundle from a good one with no keyring of its own (bundler/verify/).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from solver.errors import InputError


def _gpg(args: list[str], data: bytes, key: str) -> bytes:
    return _run(
        [
            "--pinentry-mode", "loopback", "--passphrase", "",
            "--local-user", key, "--digest-algo", "SHA512", "--personal-digest-preferences", "SHA512",
            "--no-emit-version", "--no-comments",
            *args,
        ],
        data,
        f"gpg could not sign with key {key!r}",
    )  # fmt: skip


def _run(args: list[str], data: bytes, failure: str) -> bytes:
    cmd = [
        "gpg", "--batch", "--yes", "--no-tty", "--quiet", "--no-auto-key-locate", *args,
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
            f"{failure}: {message[-1] if message else 'unknown error'}",
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


def public_key(key: str) -> tuple[str, bytes]:
    """The primary fingerprint of `key` and its public key as a binary keyring (for debian/bundle.gpg)."""
    listing = _run(["--with-colons", "--list-keys", key], b"", f"gpg does not know the key {key!r}")
    fprs = [
        line.split(":")[9]
        for line in listing.decode("utf-8", "replace").splitlines()
        if line.startswith("fpr:")
    ]
    if not fprs:
        raise InputError(f"gpg does not know the key {key!r}", hint="the key must be in GNUPGHOME")
    primary = fprs[0].upper()  # the first fpr record is the primary key's
    return primary, _run(
        ["--export-options", "export-minimal", "--export", primary], b"", f"gpg could not export key {key!r}"
    )
