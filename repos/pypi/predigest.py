"""The pre-digested dependency cache: per project and target, what the resolver derived from metadata.

    <cache>/pypi/predigest/<key>.deps    one project's entries for one target (marshal, checksummed)

A warm `--offline` solve spent most of its provider time turning cached core metadata into
requirements for the target (PEP 508 parsing, marker evaluation per platform and extra): the same
work, with the same answer, on every run. `solver.python.predigest` defines that answer as plain
tuples; this store keeps it, one file per project, so a warm run reads one small file per project
instead of a metadata file per release, and parses nothing.

Each entry is keyed by everything its derivation depends on:
- the metadata it derives from: the file's URL and sha256 (a file's metadata is immutable, and the
  project page that lists the file names that sha256) and the PEP 658 hash of the metadata file when
  the index gives one; files without a sha256 are never kept;
- the target: python version, platforms and the rules that pick files and evaluate markers (the
  index's target key), and packaging's version (the PEP 508 and 440 implementation);
- the derivation: `DEPS_DIGEST_VERSION` and the metadata parser's version (`CORE_METADATA_PARSER`);
- the candidate: its extra and the platforms it serves.

A file whose header, checksum or layout does not match is ignored and rebuilt (never trusted); an
entry whose file changed (another sha256) is simply not found. New entries are written when the
index closes, merged with what the file held, atomically (temp file + rename).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from solver.python.model import CORE_METADATA_PARSER, DistFile
from solver.python.predigest import DEPS_DIGEST_VERSION

from .cache import Ident, _key, _read_ident, _write

if TYPE_CHECKING:
    from .warm import WarmSet

# The layout of the file itself (its header and the shape of its entries).
STORE_FORMAT = 1

EntryKey = tuple[str, str, str, str, tuple[str, ...]]  # (url, sha256, metadata hash, extra, platforms)


def store_context(target_key: str) -> str:
    """Everything an entry depends on besides its file and candidate: in each file's header."""
    return f"{STORE_FORMAT}:{DEPS_DIGEST_VERSION}:{CORE_METADATA_PARSER}:{target_key}"


class PredigestStore:
    def __init__(self, cache_root: Path, target_key: str, warm: WarmSet | None = None) -> None:
        """With `warm`, a project's entries are taken from the warm set while its file is the one they
        were read from, and the warm set is told what each project's file holds (warm.py)."""
        self.dir = Path(cache_root) / "pypi" / "predigest"
        self._dir = os.path.join(self.dir, "")  # as text: one path per project, pathlib costs more
        self.context = store_context(target_key)
        self._lock = threading.Lock()
        self._loaded: dict[str, dict[EntryKey, Any]] = {}  # project -> its entries
        self._dirty: set[str] = set()
        self._warm = warm

    def _path(self, project: str) -> str:
        return f"{self._dir}{_key(project + chr(0) + self.context)}.deps"

    def _entries(self, project: str) -> dict[EntryKey, Any]:
        entries = self._loaded.get(project)
        if entries is None:
            held = self._warm.deps(project, self._path(project)) if self._warm is not None else None
            if held is None:
                entries, ident = self._read_ident(project)
            else:
                entries = held
            with self._lock:
                if project not in self._loaded:
                    self._loaded[project] = entries
                    if self._warm is not None and held is None:
                        self._warm.read_deps(project, entries, ident)
                entries = self._loaded[project]
        return entries

    def _read(self, project: str) -> dict[EntryKey, Any]:
        return self._read_ident(project)[0]

    def _read_ident(self, project: str) -> tuple[dict[EntryKey, Any], Ident | None]:
        """The project's entries ({} when its file is absent or unreadable), and the ident of its
        file (None: there is none)."""
        try:
            data, ident = _read_ident(self._path(project))
        except OSError:
            return {}, None
        return self._entries_of(project, data), ident

    def _entries_of(self, project: str, data: bytes) -> dict[EntryKey, Any]:
        try:
            fmt, got_project, context, checksum, body = marshal.loads(data)
            if (fmt, got_project, context) != (STORE_FORMAT, project, self.context):
                return {}
            if not isinstance(body, bytes) or hashlib.sha256(body).hexdigest() != checksum:
                return {}
            entries = marshal.loads(body)
        except (ValueError, EOFError, TypeError):
            return {}
        return entries if isinstance(entries, dict) else {}

    @staticmethod
    def _entry_key(file: DistFile, extra: str, platforms: tuple[str, ...]) -> EntryKey | None:
        if not file.sha256:
            return None  # the metadata is not pinned by a hash: derive it each time
        return (file.url, file.sha256, file.core_metadata or "", extra, platforms)

    def get(self, project: str, file: DistFile, extra: str, platforms: tuple[str, ...]) -> Any:
        """The payload kept for this candidate's metadata, or None."""
        key = self._entry_key(file, extra, platforms)
        if key is None:
            return None
        return self._entries(project).get(key)

    def put(self, project: str, file: DistFile, extra: str, platforms: tuple[str, ...], payload: Any) -> None:
        key = self._entry_key(file, extra, platforms)
        if key is None:
            return
        entries = self._entries(project)
        with self._lock:
            if entries.get(key) != payload:
                entries[key] = payload
                self._dirty.add(project)

    def flush(self) -> None:
        """Write the projects with new entries (each merged with what its file holds now)."""
        with self._lock:
            dirty, self._dirty = sorted(self._dirty), set()
        for project in dirty:
            entries = {**self._read(project), **self._loaded[project]}
            try:
                body = marshal.dumps(entries)
            except ValueError:  # not marshal-able: nothing is kept for this project
                continue
            header = (STORE_FORMAT, project, self.context, hashlib.sha256(body).hexdigest(), body)
            try:
                ident = _write(Path(self._path(project)), marshal.dumps(header))
            except OSError:
                continue  # a cache that cannot be written is only a slower next run
            if self._warm is not None:
                self._warm.read_deps(project, entries, ident)
