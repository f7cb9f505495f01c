"""The on-disk cache of project pages and metadata, with HTTP validators (RFC 9111 in miniature).

    <cache>/pypi/pages/<key>.body      the page bytes as served
    <cache>/pypi/pages/<key>.json      {url, status, content_type, etag, last_modified, fetched, max_age, sha256}
    <cache>/pypi/pages/<key>.parsed    the page's files as tuples (marshal), for the page's sha256
    <cache>/pypi/digests/<key>.digest  the page's releases reduced for one target (a header's length, the
                                       header and the payload, marshal; checksummed), see `digest`
    <cache>/pypi/metadata/<key>.metadata  a file's core metadata (immutable: keyed by the file's URL+sha256)
    <cache>/pypi/metadata/<key>.json      {url, size}
    <cache>/pypi/metadata/<key>.parsed    the fields parsed from it (marshal), see `core_metadata`
    <cache>/pypi/hashes.json              sha256 of local files, keyed by path, size and mtime

A page with status 404 is cached too (a project absent from an index), so a warm offline run can apply
the first-index rule without the network. Writes are atomic (temp file + rename): several threads and
processes may share the cache.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Bump when what a digest holds changes: older digests are then ignored and rebuilt. (What the file
# choice depends on, its rules and the target, is in the `target` string a digest is stored under.)
DIGEST_FORMAT = 3


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


_DIRS: set[Path] = set()


Ident = tuple[int, int, int]  # a file's (inode, size, mtime_ns): which content it holds (see `_write`)


def _write(path: Path, data: bytes) -> Ident:
    """Write `path` atomically; the ident of what was written.

    A temporary name unique to this process and thread (cheaper than mkstemp's probing), then an
    atomic rename; each directory is made once per process (again if it went away meanwhile). The
    rename keeps the inode and the mtime, so a later `os.stat` of `path` gives the same ident for as
    long as this content is there, and a new content always comes with a new inode."""
    parent = path.parent
    if parent not in _DIRS:
        parent.mkdir(parents=True, exist_ok=True)
        _DIRS.add(parent)
    tmp = parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}"
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except FileNotFoundError:
            parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            ident = _ident(os.fstat(fd))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ident


def _ident(st: os.stat_result) -> Ident:
    return st.st_ino, st.st_size, st.st_mtime_ns


def stat_ident(path: str) -> Ident | None:
    """The ident of the file at `path` as it is now (None: there is none)."""
    try:
        return _ident(os.stat(path))
    except OSError:
        return None


def _read_ident(path: str) -> tuple[bytes, Ident]:
    """The file's bytes and the ident of exactly those bytes (fstat of the descriptor read)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        data = os.read(fd, st.st_size + 1)  # one read, unless it came short or the file grew
        if len(data) != st.st_size:
            parts = [data]
            while chunk := os.read(fd, 1 << 20):
                parts.append(chunk)
            data = b"".join(parts)
    finally:
        os.close(fd)
    return data, _ident(st)


def _read(path: str) -> bytes:
    # os.open + fstat + read: 14.5 against 23 µs for open().read() here, and a warm solve reads a
    # few cache files per project
    return _read_ident(path)[0]


@dataclass
class CachedPage:
    url: str
    status: int
    content_type: str
    etag: str | None
    last_modified: str | None
    fetched: float
    max_age: int
    sha256: str
    body: bytes | None = None


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "pypi"
        # the directories as text: a warm solve builds a path per project page and digest, and
        # pathlib's joins cost more than the reads
        self._pages = os.path.join(self.root, "pages", "")
        self._digests = os.path.join(self.root, "digests", "")
        self._lock = threading.Lock()
        self._hashes: dict[str, Any] | None = None

    # pages
    def page(self, url: str, with_body: bool = True) -> CachedPage | None:
        got = self.page_meta(url)
        if got is None or not with_body or got[0].status != 200:
            return None if got is None else got[0]
        try:
            got[0].body = _read(self._pages + _key(url) + ".body")
        except OSError:
            return None
        return got[0]

    def page_meta(self, url: str) -> tuple[CachedPage, Ident] | None:
        """The page without its body, and the ident of the meta file it was read from."""
        try:
            data, ident = _read_ident(self._pages + _key(url) + ".json")
            meta = json.loads(data)
            page = CachedPage(
                url=meta["url"],
                status=meta["status"],
                content_type=meta.get("content_type", ""),
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
                fetched=meta.get("fetched", 0.0),
                max_age=meta.get("max_age", 0),
                sha256=meta.get("sha256", ""),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return page, ident

    def page_ident(self, url: str) -> Ident | None:
        """The ident of the page's meta file as it is now (None: there is none)."""
        return stat_ident(self._pages + _key(url) + ".json")

    def store_page(self, page: CachedPage) -> Ident:
        """Store the page; the ident of its meta file."""
        base = self.root / "pages" / _key(page.url)
        if page.body is not None:
            _write(base.with_suffix(".body"), page.body)
        meta = {k: v for k, v in page.__dict__.items() if k != "body"}
        return _write(base.with_suffix(".json"), json.dumps(meta, sort_keys=True).encode())

    # parsed pages: the files of a page as plain tuples (marshal), so a warm run skips JSON/HTML parsing
    def parsed(self, url: str, sha256: str) -> list[tuple[Any, ...]] | None:
        try:
            got_sha, rows = marshal.loads((self.root / "pages" / f"{_key(url)}.parsed").read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return rows if got_sha == sha256 else None  # type: ignore[no-any-return]

    def store_parsed(self, url: str, sha256: str, rows: list[tuple[Any, ...]]) -> None:
        _write(self.root / "pages" / f"{_key(url)}.parsed", marshal.dumps((sha256, rows)))

    # digests: a page's releases, grouped, with only the files one target can use (PypiIndex's
    # `_index_page`); valid for exactly the page content (sha256), the target and the format
    def digest(self, url: str, sha256: str, target: str) -> Any:
        """The payload stored for this page content and target, or None (absent, stale or unreadable)."""
        try:
            data = _read(self._digest_path(url, target))
            end = 4 + int.from_bytes(data[:4], "little")
            fmt, got_url, got_sha, got_target, checksum = marshal.loads(data[4:end])
            if (fmt, got_url, got_sha, got_target) != (DIGEST_FORMAT, url, sha256, target):
                return None
            # the payload is read lazily (PypiIndex's `_from_digest`): it must be what was stored
            body = memoryview(data)[end:]  # not copied (a large project's digest is 100 kB)
            if hashlib.sha256(body).digest() != checksum:
                return None
            return marshal.loads(body)
        except (OSError, ValueError, EOFError, TypeError):
            return None

    def store_digest(self, url: str, sha256: str, target: str, payload: Any) -> Ident:
        """Store the digest; the ident of its file."""
        body = marshal.dumps(payload)
        header = marshal.dumps((DIGEST_FORMAT, url, sha256, target, hashlib.sha256(body).digest()))
        data = len(header).to_bytes(4, "little") + header + body
        return _write(Path(self._digest_path(url, target)), data)

    def digest_ident(self, url: str, target: str) -> Ident | None:
        """The ident of the page's digest file for `target` as it is now (None: there is none)."""
        return stat_ident(self._digest_path(url, target))

    def _digest_path(self, url: str, target: str) -> str:
        return f"{self._digests}{_key(url + chr(0) + target)}.digest"

    # metadata
    def metadata(self, url: str, sha256: str) -> bytes | None:
        try:
            return (self.root / "metadata" / f"{_key('v2:' + url + '#' + sha256)}.metadata").read_bytes()
        except OSError:
            return None

    def store_metadata(self, url: str, sha256: str, data: bytes, size: int | None) -> None:
        k = _key(f"v2:{url}#{sha256}")
        _write(self.root / "metadata" / f"{k}.metadata", data)
        if size is not None:
            self.store_size(url, size)

    # parsed metadata: the fields the resolver reads, so a warm run skips the RFC 822 parser; tagged
    # with the parser's version (a change to the parser or the fields makes them stale). `ident` says
    # which contents of the file they are of: a remote file's sha256, a local file's sha256, size and
    # mtime (PypiIndex's `_local_ident`)
    def core_metadata(self, url: str, ident: str, version: int) -> tuple[Any, ...] | None:
        k = _key(f"v2:{url}#{ident}")
        try:
            got_version, fields = marshal.loads((self.root / "metadata" / f"{k}.parsed").read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return fields if got_version == version and isinstance(fields, tuple) else None

    def store_core_metadata(self, url: str, ident: str, version: int, fields: tuple[Any, ...]) -> None:
        k = _key(f"v2:{url}#{ident}")
        _write(self.root / "metadata" / f"{k}.parsed", marshal.dumps((version, fields)))

    def size(self, url: str) -> int | None:
        try:
            return int(json.loads((self.root / "sizes" / f"{_key(url)}.json").read_bytes())["size"])
        except (OSError, ValueError, KeyError):
            return None

    def store_size(self, url: str, size: int) -> None:
        _write(self.root / "sizes" / f"{_key(url)}.json", json.dumps({"url": url, "size": size}).encode())

    # local file hashes
    def local_sha256(self, path: Path) -> str:
        st = path.stat()
        ident = f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
        with self._lock:
            if self._hashes is None:
                try:
                    self._hashes = json.loads((self.root / "hashes.json").read_bytes())
                except (OSError, ValueError):
                    self._hashes = {}
            known = self._hashes.get(ident)
        if known:
            return str(known)
        h = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
        with self._lock:
            assert self._hashes is not None
            self._hashes[ident] = digest
            _write(self.root / "hashes.json", json.dumps(self._hashes, sort_keys=True).encode())
        return digest
