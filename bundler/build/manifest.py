"""The bundle's manifest and instructions: `SHA256SUMS` (sha256sum(1) `-c` format, every file but
itself, sorted by path) and `README` (how to point apt and pip/uv at the bundle, offline)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from bundler.lock import Lock

SUMS = "SHA256SUMS"


def walk_files(root: Path) -> list[str]:
    """Every regular file under `root`, as sorted POSIX paths relative to it."""
    out = []
    for dirpath, _dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            out.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return sorted(out)


def write_sums(root: Path, known: dict[str, str]) -> str:
    """Write SHA256SUMS for every file under `root`; `known` digests are trusted (they were verified
    while the file was placed), the rest are hashed now. Returns the digest of SHA256SUMS itself."""
    lines = []
    for rel in walk_files(root):
        if rel == SUMS:
            continue
        digest = known.get(rel)
        if digest is None:
            h = hashlib.sha256()
            with open(root / rel, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            digest = h.hexdigest()
        lines.append(f"{digest}  {rel}\n")
    data = "".join(lines).encode("utf-8")
    (root / SUMS).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def readme(
    lock: Lock,
    *,
    components: list[str],
    has_debian: bool,
    has_python: bool,
    signed: bool,
    roots_deb: list[str],
    roots_py: list[str],
    has_sources: bool = False,
    sdists: Sequence[str] = (),
    fingerprint: str | None = None,
) -> str:
    """The instructions a person needs to install from this bundle with no network."""
    suite = lock.suite
    comps = " ".join(components) or "main"
    out = [
        f"Offline bundle {lock.name!r}",
        "=" * (len(lock.name) + 17),
        "",
        "This directory (or the .tar.zst / .iso made from it) holds a Debian repository and a Python",
        "package index with one consistent set of packages, pinned by bundle.lock. Below, /MOUNT stands",
        "for the path where the bundle is mounted or unpacked (e.g. /media/cdrom or /srv/bundle), and",
        "HOST:PORT for the machine running `bundler serve` on the offline network.",
        "",
        "Check it first:",
        "",
        "    cd /MOUNT && sha256sum -c SHA256SUMS",
        "",
    ]
    if has_debian:
        opt = "signed-by=/etc/apt/keyrings/bundle.gpg" if signed else "trusted=yes"
        out += [
            "Debian packages (apt)",
            "---------------------",
            "",
            "One-line style, /etc/apt/sources.list.d/bundle.list:",
            "",
            f"    deb [{opt}] file:/MOUNT/debian {suite} {comps}",
            "",
            "or deb822 style, /etc/apt/sources.list.d/bundle.sources:",
            "",
            "    Types: deb",
            "    URIs: file:/MOUNT/debian",
            f"    Suites: {suite}",
            f"    Components: {comps}",
            "    Signed-By: /etc/apt/keyrings/bundle.gpg" if signed else "    Trusted: yes",
            "",
            "Over HTTP from `bundler serve`, use http://HOST:PORT/debian instead of file:/MOUNT/debian.",
            "",
        ]
        if signed:
            out += [
                "The Release file is signed (InRelease, Release.gpg). The signer's public key ships as",
                "debian/bundle.gpg; check its fingerprint against the one you were given out of band,",
                "then install it:",
                "",
                f"    Signed-By: {fingerprint or '(see Release)'}",
                "    gpg --show-keys /MOUNT/debian/bundle.gpg",
                "    install -m 0644 /MOUNT/debian/bundle.gpg /etc/apt/keyrings/bundle.gpg",
                "",
            ]
        out += [
            "Then:",
            "",
            "    apt-get update",
            f"    apt-get install {' '.join(roots_deb) or '<packages>'}",
            "",
            "The ISO is also an apt disc (labelled as in .disk/info): instead of the lines above,",
            *(
                [
                    "with the key in apt's trusted keys (apt-cdrom checks the Release signature there):",
                    "",
                    "    install -m 0644 /MOUNT/debian/bundle.gpg /etc/apt/trusted.gpg.d/bundle.gpg",
                ]
                if signed
                else []
            ),
            "",
            "    apt-cdrom add                              # the disc in the drive, or",
            "    apt-cdrom --no-mount -d /MOUNT add         # the image mounted or unpacked at /MOUNT",
            f"    apt-get install {' '.join(roots_deb) or '<packages>'}",
            "",
            "A chroot or image tree from the bundle alone, with mmdebstrap (copy:// because mmdebstrap's",
            "apt reads the files from inside the new tree):",
            "",
            f"    mmdebstrap --variant=extract --include={','.join(roots_deb) or '<packages>'} {suite} TARGET \\",
            f"        'deb [{'signed-by=/MOUNT/debian/bundle.gpg' if signed else 'trusted=yes'}] copy:///MOUNT/debian {suite} {comps}'",
            "",
            "unpacks the packages above and everything they depend on into TARGET. A bundle solved with",
            "`base = true` holds Debian's required set, and `--variant=required` bootstraps a system from it.",
            "",
        ]
        if has_sources:
            out += [
                "Source packages (deb-src)",
                "-------------------------",
                "",
                "The source package of every binary (.dsc, .orig.tar.*, .debian.tar.* or native .tar.*) is in",
                "pool/ beside the binaries and listed in dists/*/*/source/Sources. Add a deb-src line:",
                "",
                f"    deb-src [{opt}] file:/MOUNT/debian {suite} {comps}",
                "",
                "(or `Types: deb deb-src` in the deb822 file above), then:",
                "",
                "    apt-get update",
                "    apt-get source PACKAGE           # fetches and unpacks with dpkg-source -x",
                "",
                "or without apt: dpkg-source -x /MOUNT/debian/pool/<component>/<prefix>/<source>/<file>.dsc",
                "",
            ]
    if has_python:
        out += _python_readme(lock, roots_py, sdists)
    out += [
        "Re-check the whole bundle, checksums and dependencies, with:",
        "",
        "    bundler verify /MOUNT",
        "",
    ]
    return "\n".join(out)


def _python_readme(lock: Lock, roots: list[str], sdists: Sequence[str]) -> list[str]:
    """The Python part of the README. Every command in it is run, as written, by the stock pip of
    Debian 12, a current pip and uv, from file:// and over `bundler serve`
    (tests/test_python_clients.py)."""
    version = str(lock.extra.get("python-version") or "")
    platforms = ", ".join(str(p) for p in lock.extra.get("platforms") or ())
    names = " ".join(roots) or "<packages>"
    target = f"Python {version}" if version else "the target Python"
    out = [
        "Python packages (pip, uv)",
        "-------------------------",
        "",
        f"Solved for {target}" + (f" on {platforms}" if platforms else "") + ". In a virtual environment",
        "of that Python (`python3 -m venv ENV && . ENV/bin/activate`), install the whole locked set,",
        "every package at its locked version (python/requirements.txt lists them):",
        "",
        "    pip install --index-url file:///MOUNT/python/simple -r /MOUNT/python/requirements.txt",
        "    uv pip install --index-url file:///MOUNT/python/simple -r /MOUNT/python/requirements.txt",
        "",
        "Over HTTP from `bundler serve`:",
        "",
        "    pip install --index-url http://HOST:PORT/python/simple -r http://HOST:PORT/python/requirements.txt",
        "    uv pip install --index-url http://HOST:PORT/python/simple -r http://HOST:PORT/python/requirements.txt",
        "",
        "or only some projects (what they need comes from the bundle too; name the extras you want):",
        "",
        f"    pip install --index-url file:///MOUNT/python/simple {names}",
        f"    uv pip install --index-url file:///MOUNT/python/simple {names}",
        "",
        "or, without the index pages, from the files directory alone:",
        "",
        "    pip install --no-index --find-links /MOUNT/python/files -r /MOUNT/python/requirements.txt",
        "    uv pip install --no-index --find-links /MOUNT/python/files -r /MOUNT/python/requirements.txt",
        "",
        "(--no-index would make pip and uv ignore --index-url: use it only with --find-links.)",
        "",
        "or in pip.conf:",
        "",
        "    [global]",
        "    index-url = file:///MOUNT/python/simple",
        "",
    ]
    if sdists:
        out += [
            "Sdists: these are built on the target when installed. pip and uv first install their build",
            'requirements from the same index, so whatever is "not in the bundle" below must be added',
            "to the spec (or the project vetoed or constrained to a release with wheels):",
            "",
            *(f"  - {line}" for line in sdists),
            "",
        ]
    return out
