"""The warm set: the cache entries one solve read, kept in one file for the next solve of the same request.

A warm solve reads three small cache files per project: the page's meta and its per-target digest
(cache.py) and the project's kept dependencies (predigest.py). That is 684 files for airflow's 228
projects and 1,722 for OpenStack's 574: ~50 and ~150 ms of opening, reading, checksumming and
unmarshalling. This file holds the same entries for one request (target, indexes, requirements), so the
next such solve reads one file and stats the files the entries were read from:

    <cache>/pypi/warm/<key>.warm    a header's length (4 bytes), the header, the body
    header: marshal of (format, context, request, sha256 of the body)
    body:   marshal of (pages, deps)
      pages: {page URL: (meta ident, meta fields, digest ident, the digest's page sha256, digest, trimmed)}
      deps:  {project: (ident of its predigest file, its entries)}

It copies, and never decides: an entry is used only while the file it was read from is unchanged, that
is while `os.stat` gives the ident (inode, size, mtime_ns) that file had when it was read. The cache
replaces a file by an atomic rename, so new content always comes with a new inode (cache.py `_write`),
and a removed file has no ident. Besides:
- A digest is valid for one page content (sha256) and one target (the context): it is used for the
  page's sha256 only.
- A digest is kept trimmed. It lists every release of the page (38,000 for OpenStack's 574 pages,
  10 MB); a solve reads a few of each project's (4,700), and unmarshalling the rest cost more than the
  small files saved. A trimmed digest keeps every version's text but the file rows only of the releases
  the solve read (`_trimmed`); a read of another takes its rows from the cache's digest of the page
  (index.py `_from_digest`).

The body is checksummed, and a file that does not read back exactly as written is ignored. The file is
rewritten (atomically) when the solve read anything it did not hold, or it held many entries the solve
did not read (more than an eighth, and more than 16), or a digest it read is not trimmed or keeps the
rows of many releases the solve did not read; it then holds exactly what this solve read.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import Cache, CachedPage, Ident, _key, _read, _write, stat_ident

if TYPE_CHECKING:
    from solver.python.model import NewestFirst

# Bump when the layout of the file or of its entries changes: older files are then ignored.
WARM_FORMAT = 1


class _Page:
    """What this solve read of one page: its meta, and its digest for the target."""

    __slots__ = ("ident", "fields", "digest_ident", "sha256", "digest", "trimmed", "releases")

    def __init__(self, ident: Ident, fields: tuple[Any, ...]) -> None:
        self.ident = ident
        self.fields = fields
        self.digest_ident: Ident | None = None
        self.sha256 = ""  # the page content the digest is of ("": no digest)
        self.digest: Any = None
        self.trimmed = False
        self.releases: NewestFirst | None = None  # made from the digest: the positions read


class WarmSet:
    def __init__(self, cache: Cache, target_key: str, context: str, request: str) -> None:
        """`target_key` is what the cache's digests are stored under; `context` everything else the
        entries depend on (the predigest store's context, which holds the target key); `request`
        says what the solve asks for (its indexes and requirements), so that solves of different
        requests do not take turns overwriting one file."""
        self._cache = cache
        self._target_key = target_key
        self._header = (WARM_FORMAT, context, request)
        self.path = Path(cache.root) / "warm" / f"{_key(context + chr(0) + request)}.warm"
        self._lock = threading.Lock()
        self._held: tuple[dict[str, Any], dict[str, Any]] | None = None
        self._pages: dict[str, _Page] = {}  # what this solve read, by page URL
        self._deps: dict[str, tuple[Ident | None, dict[Any, Any]]] = {}
        self._stale = False  # this solve read something the file does not hold

    def _load(self) -> tuple[dict[str, Any], dict[str, Any]]:
        held = self._held
        if held is None:
            with self._lock:
                if self._held is None:
                    self._held = self._read()
                held = self._held
        return held

    def _read(self) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            data = _read(str(self.path))
            end = 4 + int.from_bytes(data[:4], "little")
            *header, checksum = marshal.loads(data[4:end])
            if tuple(header) != self._header:
                return {}, {}
            body = memoryview(data)[end:]  # not copied
            if hashlib.sha256(body).digest() != checksum:
                return {}, {}
            pages, deps = marshal.loads(body)
            if isinstance(pages, dict) and isinstance(deps, dict):
                return pages, deps
        except (OSError, ValueError, EOFError, TypeError):
            pass
        return {}, {}

    # ---- pages (cache.py's page meta) -----------------------------------------------------------
    def page(self, url: str) -> CachedPage | None:
        """The cache's page meta for `url` (no body), as `Cache.page(url, with_body=False)` reads it."""
        held = self._load()[0].get(url)
        if held is not None:
            try:
                ident, fields, digest_ident, sha256, digest, trimmed = held
                if tuple(ident) == self._cache.page_ident(url):
                    page = CachedPage(url, *fields)
                    entry = _Page(tuple(ident), tuple(fields))
                    if digest is not None and tuple(digest_ident) == self._cache.digest_ident(
                        url, self._target_key
                    ):
                        entry.digest_ident, entry.sha256, entry.digest = tuple(digest_ident), sha256, digest
                        entry.trimmed = bool(trimmed)
                    with self._lock:
                        self._pages[url] = entry
                    return page
            except (TypeError, ValueError):
                pass
        self._stale = True
        got = self._cache.page_meta(url)
        with self._lock:
            if got is None:
                self._pages.pop(url, None)
                return None
            self._pages[url] = _Page(got[1], _fields(got[0]))
        return got[0]

    def stored_page(self, page: CachedPage, ident: Ident) -> None:
        """`page` was just stored (its meta file has `ident`)."""
        with self._lock:
            before = self._pages.get(page.url)
            entry = self._pages[page.url] = _Page(ident, _fields(page))
            if before is not None:  # its digest stays: it is used for its own sha256 only
                entry.digest_ident, entry.sha256, entry.digest = (
                    before.digest_ident,
                    before.sha256,
                    before.digest,
                )
                entry.trimmed = before.trimmed
            self._stale = True

    # ---- digests (cache.py's per-target page digests) ---------------------------------------------
    def digest(self, url: str, sha256: str) -> Any:
        """The digest payload of this page content for the target: `Cache.digest`'s, or trimmed
        (`full_digest` has the rows it lacks)."""
        entry = self._pages.get(url)
        if entry is not None and entry.sha256 == sha256 and entry.digest is not None:
            return entry.digest
        ident = self._cache.digest_ident(url, self._target_key)
        payload = self._cache.digest(url, sha256, self._target_key)
        if payload is not None and ident is not None:
            self.stored_digest(url, sha256, payload, ident)
        self._stale = True
        return payload

    def full_digest(self, url: str, sha256: str) -> Any:
        """The cache's digest of this page content (for the rows a trimmed one lacks), or None."""
        payload = self._cache.digest(url, sha256, self._target_key)
        with self._lock:
            entry = self._pages.get(url)
            if payload is not None and entry is not None and entry.sha256 == sha256:
                entry.digest, entry.trimmed = payload, False  # trimmed again when saved, with these rows
            self._stale = True
        return payload

    def stored_digest(self, url: str, sha256: str, payload: Any, ident: Ident) -> None:
        """`payload` is the digest of this page content, in the file that has `ident`."""
        with self._lock:
            entry = self._pages.get(url)
            if entry is not None:
                entry.digest_ident, entry.sha256, entry.digest, entry.trimmed = ident, sha256, payload, False
                entry.releases = None
            self._stale = True

    def note_releases(self, url: str, releases: NewestFirst) -> None:
        """`releases` were made from the page's digest: the positions read are the rows kept."""
        with self._lock:
            entry = self._pages.get(url)
            if entry is not None:
                entry.releases = releases

    # ---- predigest entries ------------------------------------------------------------------------
    def deps(self, project: str, path: str) -> dict[Any, Any] | None:
        """The predigest entries held for `project` while its file (at `path`) is the one they were
        read from, or None (the store then reads the file and calls `read_deps`)."""
        held = self._load()[1].get(project)
        if held is not None:
            try:
                ident, entries = held
                ident = tuple(ident) if ident is not None else None
                if isinstance(entries, dict) and ident == stat_ident(path):
                    with self._lock:
                        self._deps[project] = (ident, entries)
                    return entries
            except (TypeError, ValueError):
                pass
        self._stale = True
        return None

    def read_deps(self, project: str, entries: dict[Any, Any], ident: Ident | None) -> None:
        """`entries` (the store's dict: saved as it is when the index closes) are what the project's
        file with `ident` holds (None: it has none)."""
        with self._lock:
            self._deps[project] = (ident, entries)
            self._stale = True

    # ---- saving -------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write what this solve read, when that is not what the file holds."""
        with self._lock:
            held = self._held or ({}, {})
            untrimmed = any(e.digest is not None and not e.trimmed for e in self._pages.values())
            # entries held and not read (not stale: what was read, the file holds): a first solve's
            # speculative fetches, which the next solve does not read; a few cost less to load than
            # rewriting the file would
            unused = len(held[0]) - len(self._pages) + len(held[1]) - len(self._deps)
            same = unused <= max(16, (len(self._pages) + len(self._deps)) // 8)
            # rows kept for releases this solve did not read (an earlier solve read more: with a
            # previous lock, say): trimmed again when they are most of the file
            kept = sum(len(e.digest[2]) for e in self._pages.values() if e.trimmed and len(e.digest) == 3)
            read = sum(len(e.releases.made_positions() or ()) for e in self._pages.values() if e.releases)
            bloated = kept > 2 * read + 256
            if same and not self._stale and not untrimmed and not bloated:
                return
            pages = {}
            for url, e in self._pages.items():
                digest, trimmed = e.digest, e.trimmed
                if digest is not None and (bloated or not trimmed):
                    digest, trimmed = _trimmed(digest, e.releases)
                pages[url] = (e.ident, e.fields, e.digest_ident, e.sha256, digest, trimmed)
            deps = {project: (ident, dict(entries)) for project, (ident, entries) in self._deps.items()}
        try:
            body = marshal.dumps((pages, deps))
            header = marshal.dumps((*self._header, hashlib.sha256(body).digest()))
            _write(self.path, len(header).to_bytes(4, "little") + header + body)
        except (ValueError, OSError):
            pass  # not marshal-able, or a cache that cannot be written: only a slower next run


def _trimmed(payload: Any, releases: NewestFirst | None) -> tuple[Any, bool]:
    """The digest `payload` (has files, [(version text, rows)]) trimmed to (has files, the version
    texts joined by newlines, {position: rows} of the releases read: the positions `releases` made);
    unchanged (and not trimmed) when those are unknown. One string for the texts, not a tuple per
    release: unmarshalling 38,000 small tuples cost more than the rest of the file. A trimmed
    payload keeps the rows of the releases read only (it holds those: they were read from it, or it
    was replaced by the full digest, `full_digest`)."""
    made = releases.made_positions() if releases is not None else None
    if made is None:
        return payload, len(payload) == 3
    try:
        if len(payload) == 3:
            has_files, texts, rows = payload
            return (has_files, texts, {i: rows[i] for i in sorted(made) if i in rows}), True
        has_files, grouped = payload
        if not grouped:
            return payload, True  # no releases: nothing to trim (and "".split would make one)
        texts = [text for text, _rows in grouped]
        if not all(isinstance(t, str) and "\n" not in t for t in texts):
            return payload, False
        return (has_files, "\n".join(texts), {i: grouped[i][1] for i in sorted(made)}), True
    except (TypeError, ValueError, IndexError):
        return payload, False


def _fields(page: CachedPage) -> tuple[Any, ...]:
    """CachedPage's fields after its url, without the body (what `page` builds it back from)."""
    return (
        page.status,
        page.content_type,
        page.etag,
        page.last_modified,
        page.fetched,
        page.max_age,
        page.sha256,
    )
