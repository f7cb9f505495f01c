"""Small text files the CLI keeps under its cache directory between runs, and the source listing that
says whether what they were made from has changed.

Two start-up paths keep such a file: the help pages (bundler/helpcache.py) and the digest of bundler's
own sources (bundler/fastpath.py `solver_digest`). Both are keyed by the stats of source files and both
exist to save milliseconds, so this module is standard library only and writes without
`repos.files.write_atomic`, whose `tempfile` import (~5 ms) would be most of what they save; it is as
atomic: a temporary name of this process, then a rename. A file that cannot be read or written is no
error: the caller works the answer out again.
"""

from __future__ import annotations

import os
from pathlib import Path


def read(directory: Path, name: str) -> str | None:
    """The text kept as `name`, or None."""
    try:
        return (directory / name).read_text("utf-8")  # "ascii" would import its codec
    except (OSError, UnicodeDecodeError):
        return None


def keep(directory: Path, name: str, text: str, *, newest: int) -> None:
    """Keep `text` as `name` (atomically), and of the files kept in `directory` only the `newest`."""
    tmp = directory / f".{name}.{os.getpid()}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, "utf-8")
        os.replace(tmp, directory / name)
        kept = sorted(
            (p for p in directory.iterdir() if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime_ns
        )
        for old in kept[:-newest]:
            old.unlink(missing_ok=True)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def source_files(root: str, suffixes: tuple[str, ...]) -> list[tuple[str, str, os.stat_result]]:
    """(path relative to `root`, path, stat) of each file under `root` ending in one of `suffixes`,
    `__pycache__` left out, in a fixed order: a directory's files sorted by name, then its
    subdirectories, each walked the same way."""
    out: list[tuple[str, str, os.stat_result]] = []
    _walk(root, "", suffixes, out)
    return out


def _walk(directory: str, rel: str, suffixes: tuple[str, ...], out: list[tuple[str, str, os.stat_result]]) -> None:
    with os.scandir(directory) as it:
        entries = sorted(it, key=lambda e: e.name)
    subdirs = []
    for e in entries:
        if e.is_dir():
            if e.name != "__pycache__":
                subdirs.append(e)
        elif e.name.endswith(suffixes):
            out.append((rel + e.name, e.path, e.stat()))
    for d in subdirs:
        _walk(d.path, f"{rel}{d.name}/", suffixes, out)
