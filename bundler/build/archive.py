"""The bundle as one `.tar.zst` (reproducible-builds.org/docs/archives).

Entries are sorted by path under one top directory named after the bundle; every entry has the
epoch as mtime, uid/gid 0, no user or group names, mode 0644/0755; the format is PAX (POSIX.1-2001).

The stream is one zstd frame (RFC 8878) with a content checksum, compressed at a fixed LEVEL by
zstd's multi-threaded mode on every CPU. The bytes depend only on the tree: in multi-threaded mode
zstd cuts the input into jobs of a size derived from the level alone, so the frame is the same for
any number of worker threads from 1 up, however the input is fed (tests/test_archive.py compares
threads=1, 2, 4 and all CPUs on incompressible files and text, and chunked writes). Only threads=0 (the
single-threaded mode, used before) writes a different frame, so THREADS is never 0.

LEVEL is chosen for speed (`python -m benchmarks.archive_speed`): a bundle is mostly .debs and
wheels, which are compressed already, so level 19 spent 238 s on 647 MB to save about 1%. Measured
2026-12-07 on 2 CPUs, 167 MB of the host's .debs plus a Packages-like text, warm cache, median of 3,
each write fsynced: `cp -r` + `sync` 0.46 s; level 1 0.49 s (1.08x), level 3 0.52 s (1.15x), level 6
0.98 s (2.15x), level 19 91.7 s (200x); the archive is 97.6% of the tree at level 3, 97.3% at 19.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import zstandard

LEVEL = 3
THREADS = -1  # every CPU; any value >= 1 gives the same bytes (see the module docstring)
_BUFFER = 1 << 20  # tar's stream buffer and file copy size: fewer, larger writes into zstd


def _entries(root: Path) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in dirnames:
            out.append((name if rel == "." else f"{rel}/{name}", True))
        for name in filenames:
            out.append((name if rel == "." else f"{rel}/{name}", False))
    return sorted(out)


def compressor() -> zstandard.ZstdCompressor:
    """The archive's zstd parameters (also what the tests compress with)."""
    return zstandard.ZstdCompressor(
        level=LEVEL, threads=THREADS, write_checksum=True, write_content_size=False
    )


def write_archive(root: Path, dest: Path, top: str, epoch: int) -> None:
    """Write `root`'s tree into `dest` (a .tar.zst) with every entry under `top/`."""
    with open(dest, "wb") as raw, compressor().stream_writer(raw, closefd=False, write_size=_BUFFER) as zw:
        with tarfile.open(
            fileobj=zw, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8", bufsize=_BUFFER
        ) as tar:
            tar.copybufsize = _BUFFER  # type: ignore[attr-defined]  # CPython has it; typeshed does not
            tar.addfile(_info(top, True, 0, epoch))
            for rel, is_dir in _entries(root):
                path = root / rel
                if is_dir:
                    tar.addfile(_info(f"{top}/{rel}", True, 0, epoch))
                else:
                    size = path.stat().st_size
                    with open(path, "rb") as f:
                        tar.addfile(_info(f"{top}/{rel}", False, size, epoch), f)


def _info(name: str, is_dir: bool, size: int, epoch: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    info.mode = 0o755 if is_dir else 0o644
    info.size = size
    info.mtime = epoch
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info
