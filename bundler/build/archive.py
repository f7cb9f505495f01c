"""The bundle as one `.tar.zst` (reproducible-builds.org/docs/archives).

Entries are sorted by path under one top directory named after the bundle; every entry has the
epoch as mtime, uid/gid 0, no user or group names, mode 0644/0755; the format is PAX (POSIX.1-2001)
and the stream is compressed by zstd at level 19, single-threaded, with a content checksum, so the
bytes depend only on the tree.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import zstandard

LEVEL = 19


def _entries(root: Path) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in dirnames:
            out.append((name if rel == "." else f"{rel}/{name}", True))
        for name in filenames:
            out.append((name if rel == "." else f"{rel}/{name}", False))
    return sorted(out)


def write_archive(root: Path, dest: Path, top: str, epoch: int) -> None:
    """Write `root`'s tree into `dest` (a .tar.zst) with every entry under `top/`."""
    cctx = zstandard.ZstdCompressor(level=LEVEL, threads=0, write_checksum=True, write_content_size=False)
    with open(dest, "wb") as raw, cctx.stream_writer(raw, closefd=False) as zw:
        with tarfile.open(fileobj=zw, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:
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
