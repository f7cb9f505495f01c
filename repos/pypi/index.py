"""`PypiIndex`: the `solver.python.PackageIndex` over simple-API indexes and find-links directories.

Project pages come from HTTP(S) indexes (PEP 691 JSON preferred through the Accept header, PEP 503
HTML otherwise) or `file://` indexes (a directory per project holding index.json or index.html), and
from find-links (a local directory of wheels/sdists, or a flat HTML page of links). Several indexes:
the first index that has a project supplies all of its files (`first-index`, uv's default, which
defeats dependency confusion) or every index's files are merged (`best-match`); find-links are always
merged in.

Metadata, cheapest first: the PEP 658 `.metadata` file where the index advertises one (checked against
the index's hash); the wheel's METADATA read with HTTP range requests; the whole file (checked against
the index's sha256) when the server refuses ranges, and always for sdists. Everything is fetched on a
thread pool, so prefetching hundreds of projects runs concurrently, and cached on disk with HTTP
validators: a fresh page (by its Cache-Control max-age) is not revalidated, and `offline=True` uses
only the cache. The HTTP stack (httpx, TLS, the CA bundle: some 0.07 s of start-up) is loaded on first
use, so an offline run never loads it (a solve with network indexes starts loading it early:
bundler/earlyhttp.py).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import packaging
from packaging.utils import canonicalize_name
from packaging.version import Version

from solver.errors import InputError
from solver.python.files import CHOICE_VERSION, FileChoice
from solver.python.model import (
    CORE_METADATA_PARSER,
    SPECULATIVE,
    URGENT,
    CoreMetadata,
    DistFile,
    MetadataCallback,
    NewestFirst,
    PageCallback,
    Release,
    core_metadata_fields,
    parse_core_metadata,
)
from solver.python.target import Target

from .archive import RangesRefused, remote_wheel_metadata, sdist_metadata, wheel_metadata
from .cache import DIGEST_FORMAT, Cache, CachedPage
from .fresh import index_base, local_page, local_path
from .fresh import is_local as _is_local
from .pool import PriorityPool, Task
from .predigest import PredigestStore, store_context
from .simple import (
    ACCEPT,
    JSON_TYPE,
    group_releases,
    json_page_releases,
    parse_html_page,
    parse_json_page,
    parse_version,
    split_filename,
)
from .warm import WarmSet

if TYPE_CHECKING:
    import ssl

    import httpx

    from ..http import Resolver

Progress = Callable[[str, str], None]  # (kind: "page" | "metadata" | "file", what)


_THREADS_PER_CLIENT = 8  # threads sharing one connection pool (see PypiIndex.__init__)


def _is_json(content_type: str) -> bool:
    return content_type == JSON_TYPE or content_type.endswith("+json") or content_type == "application/json"


def _max_age(headers: httpx.Headers) -> int:  # only online: httpx is loaded
    cc = headers.get("cache-control", "")
    if "no-store" in cc or "no-cache" in cc:
        return 0
    m = re.search(r"max-age=(\d+)", cc)
    return int(m.group(1)) if m else 0


@dataclass(frozen=True, slots=True)
class ProjectPage:
    url: str
    sha256: str
    has_files: bool  # it lists at least one wheel or sdist (an empty page does not win first-index)


class PypiIndex:
    def __init__(
        self,
        indexes: Sequence[str],
        find_links: Sequence[str] = (),
        *,
        cache_dir: Path,
        offline: bool = False,
        strategy: str = "first-index",
        cert: str | None = None,
        workers: int = 24,
        progress: Progress | None = None,
        target: Target | None = None,
        request: str | None = None,
    ) -> None:
        """`request` says what the caller will ask for (its requirements, as text): with a target, the
        cache entries the last solve of the same request read are then read from one file (warm.py)."""
        self.indexes = [index_base(i) for i in indexes]
        self.find_links = list(find_links)
        self.cache = Cache(cache_dir)
        self.offline = offline
        self.strategy = strategy
        self.progress = progress
        # With a target, a project's releases keep only the files that target can ever choose
        # (solver.python.files), and that reduction of each cached page is cached too (a digest).
        self._choice = FileChoice(target) if target is not None else None
        self._target_key = _target_key(target) if target is not None else ""
        # the cache entries the last solve of this request read, in one file (warm.py)
        self._warm: WarmSet | None = None
        if target is not None and request is not None:
            context = f"{DIGEST_FORMAT}:{store_context(self._target_key)}"
            self._warm = WarmSet(self.cache, self._target_key, context, "\n".join([*self.indexes, request]))
        # what the resolver derived from metadata for this target, kept per project (predigest.py)
        self._predigest = (
            PredigestStore(cache_dir, self._target_key, self._warm) if target is not None else None
        )
        self.notes: list[str] = []
        self.stats: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        # offline the work is parsing, not waiting: no threads, so none contend for the GIL, and each
        # page or metadata file is read when the resolver asks for it (prefetching is then a no-op)
        self._pool = PriorityPool(0 if offline else workers, "pypi")
        self._projects: dict[str, Task[Sequence[Release]]] = {}
        self._pages: dict[str, list[ProjectPage]] = {}
        self._metadata: dict[str, Task[CoreMetadata]] = {}
        self._sizes: dict[str, int] = {}
        self._missing_roots: set[str] = set()
        self._flat: dict[str, dict[str, list[DistFile]]] | None = None
        self._flat_lock = threading.Lock()
        # One client (connection pool) per _THREADS_PER_CLIENT threads: httpx's pool takes one lock
        # for every request and every response close, and with dozens of threads on one pool that
        # lock, not the network, was the limit; with a pool per thread, every thread's first request
        # to each host paid its own TCP and TLS handshake (37 on a cold solve of five roots), though
        # other threads' connections stood idle. The TLS context (the CA bundle, costly to load) and
        # the name lookups (http.py) are shared by all.
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._threads_seen = 0
        self._ssl: ssl.SSLContext | None = None
        self._resolver: Resolver | None = None
        self._cert = cert

    # ---- plumbing ----------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        if self.offline:
            raise InputError("offline: the network may not be used")
        c: httpx.Client | None = getattr(self._local, "client", None)
        if c is None:
            from ..http import Resolver, make_client, tls_context, usable_cert

            with self._lock:
                if self._ssl is None:
                    self._ssl = tls_context(usable_cert(self._cert))
                    self._resolver = Resolver()
                assert self._resolver is not None
                slot = self._threads_seen // _THREADS_PER_CLIENT
                self._threads_seen += 1
                if slot == len(self._clients):
                    self._clients.append(
                        make_client(
                            max_connections=_THREADS_PER_CLIENT,
                            ssl_context=self._ssl,
                            resolver=self._resolver,
                        )
                    )
                c = self._clients[slot]
            self._local.client = c
        return c

    def close(self) -> None:
        self._pool.shutdown()
        if self._predigest is not None:
            self._predigest.flush()
        if self._warm is not None:
            self._warm.save()
        with self._lock:
            clients, self._clients = self._clients, []
            # Each task holds a bound method of this index (and its future the resolver's callbacks),
            # and this index holds the tasks: without this, everything read (every release and
            # file) would wait for the cyclic garbage collector instead of being freed here.
            self._projects.clear()
            self._metadata.clear()
        for c in clients:
            c.close()

    def __enter__(self) -> PypiIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    def _tick(self, kind: str, what: str) -> None:
        with self._lock:
            self.stats[kind] += 1
        if self.progress is not None:
            self.progress(kind, what)

    def _get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        client = self.client
        import httpx  # loaded by `client`

        from ..http import get

        try:
            return get(client, url, headers)  # the retry policy of repos/http.py
        except httpx.HTTPError as e:
            raise InputError(f"cannot fetch: {e}", where=url) from None

    # ---- project pages -----------------------------------------------------------------------
    def _http_page(self, url: str) -> tuple[bytes | None, str, str] | None:
        """(body, content type, sha256) of a project page, or None when the index has no such project.

        The body is None when the page is answered from the cache: it is read only if neither a digest
        nor the parsed rows of that content are cached (`_page_body`).
        """
        cached = self.cache.page(url, with_body=False) if self._warm is None else self._warm.page(url)
        now = time.time()
        if self.offline or (cached is not None and cached.max_age and now < cached.fetched + cached.max_age):
            if cached is None:
                raise InputError("not in the cache; run once without offline", where=url)
            if cached.status != 200:
                return None
            return None, cached.content_type, cached.sha256
        if cached is not None and cached.status == 200:
            cached = self.cache.page(url)
        headers = {"Accept": ACCEPT}
        if cached is not None and cached.status == 200:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        r = self._get(url, headers)
        self._tick("page", url)
        if r.status_code == 304 and cached is not None:
            cached.fetched, cached.max_age = now, _max_age(r.headers) or cached.max_age
            self._store_page(cached)
            return cached.body or b"", cached.content_type, cached.sha256
        if r.status_code in (404, 410):
            self._store_page(CachedPage(url, 404, "", None, None, now, _max_age(r.headers), ""))
            return None
        if r.status_code != 200:
            raise InputError(f"HTTP {r.status_code} for a project page", where=url)
        body = r.content
        page = CachedPage(
            url=url,
            status=200,
            content_type=r.headers.get("content-type", "text/html").split(";")[0].strip(),
            etag=r.headers.get("etag"),
            last_modified=r.headers.get("last-modified"),
            fetched=now,
            max_age=_max_age(r.headers),
            sha256=hashlib.sha256(body).hexdigest(),
            body=body,
        )
        self._store_page(page)
        return body, page.content_type, page.sha256

    def _store_page(self, page: CachedPage) -> None:
        ident = self.cache.store_page(page)
        if self._warm is not None:
            self._warm.stored_page(page, ident)

    def _digest(self, page_url: str, sha: str) -> Any:
        """The cached digest payload of this page content for the target (None: none is cached)."""
        if self._warm is not None:
            return self._warm.digest(page_url, sha)
        return self.cache.digest(page_url, sha, self._target_key)

    def _full_digest(self, page_url: str, sha: str) -> Any:
        """The cache's digest, for the rows a digest trimmed by the warm set lacks (warm.py)."""
        if self._warm is not None:
            return self._warm.full_digest(page_url, sha)
        return self.cache.digest(page_url, sha, self._target_key)

    def _store_digest(self, page_url: str, sha: str, payload: Any) -> None:
        ident = self.cache.store_digest(page_url, sha, self._target_key, payload)
        if self._warm is not None:
            self._warm.stored_digest(page_url, sha, payload, ident)

    def _local_page(self, index: str, name: str) -> tuple[bytes, str, str, str] | None:
        root = local_path(index)
        if not root.is_dir():
            with self._lock:
                first = index not in self._missing_roots
                self._missing_roots.add(index)
            if first:
                self._note(f"index {index} does not exist; skipped")
            return None
        return local_page(root, name)

    def _page_body(self, url: str, body: bytes | None) -> bytes:
        if body is not None:
            return body
        full = self.cache.page(url)
        if full is None or full.body is None:
            raise InputError("the cached page has no body; run once without offline", where=url)
        return full.body

    def _page_files(
        self, index: str, page_url: str, body: bytes | None, ctype: str, sha: str
    ) -> list[DistFile]:
        """The files a page lists: from its cached parsed rows, else parsed (and the rows cached)."""
        local = _is_local(index)
        rows = None if local else self.cache.parsed(page_url, sha)
        if rows is not None:
            return [DistFile(*row, index) for row in rows]  # type: ignore[arg-type, call-arg]
        data = self._page_body(page_url, body)
        if _is_json(ctype):
            files = parse_json_page(data, page_url, index)
        else:
            files = parse_html_page(data, page_url, index)
        if not local:
            self.cache.store_parsed(page_url, sha, [_row(f) for f in files])
        return files

    def _index_page(self, index: str, name: str) -> tuple[ProjectPage, Sequence[Release]] | None:
        """The project's page on `index` and its releases (for the target, when there is one)."""
        if _is_local(index):
            got = self._local_page(index, name)
            if got is None:
                return None
            data, ctype, sha, page_url = got
            body: bytes | None = data
        else:
            page_url = f"{index}{name}/"
            fetched = self._http_page(page_url)
            if fetched is None:
                return None
            body, ctype, sha = fetched
        if self._choice is not None and not _is_local(index):
            # A warm run reads the small per-target digest of this very page content instead of the
            # page's rows: no regrouping of (for big projects) thousands of filenames.
            digest = _from_digest(
                self._digest(page_url, sha), name, index, partial(self._full_digest, page_url, sha)
            )
            if digest is not None:
                if self._warm is not None:
                    self._warm.note_releases(page_url, digest[1])
                return ProjectPage(page_url, sha, digest[0]), digest[1]
        if self._choice is not None and not _is_local(index) and _is_json(ctype):
            rows = self.cache.parsed(page_url, sha)
            if rows is None:
                # the cold path: only the files this target may use are built (json_page_releases)
                has_files, newest = json_page_releases(
                    self._page_body(page_url, body), page_url, index, name, self._choice
                )
                self._store_digest(page_url, sha, _to_digest(has_files, newest))
                return ProjectPage(page_url, sha, has_files), self._read_from(page_url, newest)
        files = self._page_files(index, page_url, body, ctype, sha)
        releases: Sequence[Release] = group_releases(name, files)
        if self._choice is not None:
            choice = self._choice
            # newest first, the order the resolver wants them in (and so marked: it need not sort);
            # group_releases gave each version once
            releases = NewestFirst(
                sorted(
                    (Release(r.name, r.version, choice.useful_files(r.files)) for r in releases),
                    key=lambda r: r.version,
                    reverse=True,
                )
            )
            if not _is_local(index):
                # str() of a Version parses back to an equal Version with the same str(): the pins' text
                self._store_digest(page_url, sha, _to_digest(bool(files), releases))
                releases = self._read_from(page_url, releases)
        return ProjectPage(page_url, sha, bool(files)), releases

    def _read_from(self, page_url: str, releases: Sequence[Release]) -> NewestFirst:
        """The page's releases (newest first) as the resolver gets them. With a warm set, the
        positions it reads are noted (the releases are already made: `make` gives each back as it
        is), so that the warm set keeps the rows of those releases only, from this first solve on."""
        if self._warm is None:
            return releases if isinstance(releases, NewestFirst) else NewestFirst(releases)
        read = NewestFirst(releases, _as_made)
        self._warm.note_releases(page_url, read)
        return read

    def _flat_files(self) -> dict[str, list[DistFile]]:
        """Every find-links location listed once, grouped by project."""
        with self._flat_lock:
            if self._flat is not None:
                return self._flat.get("", {})
            out: dict[str, list[DistFile]] = defaultdict(list)
            for loc in self.find_links:
                for f in self._list_find_links(loc):
                    parsed = split_filename(f.filename)
                    if parsed is not None:
                        out[parsed[0]].append(f)
            self._flat = {"": out}
            return out

    def _list_find_links(self, loc: str) -> list[DistFile]:
        if _is_local(loc):
            root = local_path(loc)
            if not root.is_dir():
                self._note(f"find-links {loc} does not exist; skipped")
                return []
            out = []
            for p in sorted(root.iterdir()):
                if p.is_file() and split_filename(p.name) is not None:
                    out.append(
                        DistFile(p.name, p.resolve().as_uri(), "", p.stat().st_size, None, None, None, loc)
                    )
            return out
        fetched = self._http_page(loc)
        if fetched is None:
            self._note(f"find-links {loc} not found; skipped")
            return []
        return parse_html_page(self._page_body(loc, fetched[0]), loc, loc)

    def _load_project(self, name: str) -> Sequence[Release]:
        pages: list[ProjectPage] = []
        parts: list[Sequence[Release]] = []
        for index in self.indexes:
            got = self._index_page(index, name)
            if got is not None and got[0].has_files:
                pages.append(got[0])
                parts.append(got[1])
                if self.strategy == "first-index":
                    break
        flat_files = self._flat_files().get(name) if self.find_links else None
        if flat_files:
            flat = group_releases(name, flat_files)
            if self._choice is not None:
                flat = [Release(r.name, r.version, self._choice.useful_files(r.files)) for r in flat]
            parts.append(flat)
        with self._lock:
            self._pages[name] = pages
        self._tick("project", name)
        return parts[0] if len(parts) == 1 else _merge_releases(parts)

    def _project_task(self, name: str, priority: int) -> Task[Sequence[Release]]:
        with self._lock:
            task = self._projects.get(name)
            if task is None:
                task = self._pool.submit(self._load_project, name, priority=priority)
                self._projects[name] = task
                return task
        self._pool.promote(task, priority)
        return task

    # ---- PackageIndex ------------------------------------------------------------------------
    @property
    def prefetches(self) -> bool:
        """False offline: nothing is fetched ahead, so the resolver need not say what to fetch."""
        return not self.offline

    def list_releases(self, name: str) -> Sequence[Release]:
        return self._pool.wait(self._project_task(canonicalize_name(name), URGENT))

    def prefetch(
        self, names: Iterable[str], on_page: PageCallback | None = None, *, priority: int = SPECULATIVE
    ) -> None:
        if self.offline:
            return
        for name in names:
            task = self._project_task(name, priority)
            if on_page is not None:
                task.future.add_done_callback(_then(partial(_call_page, on_page, name)))

    def get_metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        return self._pool.wait(self._metadata_task(file, URGENT))

    def prefetch_metadata(
        self,
        items: Iterable[tuple[Release, DistFile]],
        on_metadata: MetadataCallback | None = None,
        *,
        priority: int = SPECULATIVE,
    ) -> None:
        if self.offline:
            return
        for release, file in items:
            task = self._metadata_task(file, priority)
            if on_metadata is not None:
                task.future.add_done_callback(_then(partial(_call_metadata, on_metadata, release, file)))

    def _metadata_task(self, file: DistFile, priority: int) -> Task[CoreMetadata]:
        with self._lock:
            task = self._metadata.get(file.url)
            if task is None:
                task = self._pool.submit(self._load_metadata, file, priority=priority)
                self._metadata[file.url] = task
                return task
        self._pool.promote(task, priority)
        return task

    def digested_dependencies(
        self, release: Release, file: DistFile, extra: str, platforms: tuple[str, ...]
    ) -> Any:
        """What the resolver kept of `file`'s metadata for this candidate (solver.python.predigest), or None."""
        if self._predigest is None or _is_local(file.url):
            return None
        return self._predigest.get(release.name, file, extra, platforms)

    def store_digested_dependencies(
        self, release: Release, file: DistFile, extra: str, platforms: tuple[str, ...], payload: Any
    ) -> None:
        """Keep `payload` for `digested_dependencies` (written when the index closes)."""
        if self._predigest is not None and not _is_local(file.url):
            self._predigest.put(release.name, file, extra, platforms, payload)

    # ---- metadata ----------------------------------------------------------------------------
    def _load_metadata(self, file: DistFile) -> CoreMetadata:
        local = _is_local(file.url)
        # what the parsed fields are kept under: a remote file's sha256; a local file's identity
        ident = _local_ident(file) if local else file.sha256
        if ident is not None:
            fields = self.cache.core_metadata(file.url, ident, CORE_METADATA_PARSER)
            if fields is not None:
                try:
                    return CoreMetadata(*fields)
                except TypeError:  # not what this CoreMetadata holds: parse again
                    pass
        data = self.cache.metadata(file.url, file.sha256)
        stale = data is not None and _lacks_build_system(file, data)
        if stale and not self.offline:
            data = None  # cached before sdists' build requirements were read: read the sdist again
        if data is None:
            if local:
                data = self._local_metadata(file)
            elif self.offline:
                raise InputError("metadata not in the cache; run once without offline", where=file.url)
            else:
                data = self._remote_metadata(file)
                self.cache.store_metadata(file.url, file.sha256, data, self._sizes.get(file.url))
            self._tick("metadata", file.filename)
        meta = parse_core_metadata(data)
        if ident is not None and not (stale and self.offline):
            self.cache.store_core_metadata(file.url, ident, CORE_METADATA_PARSER, core_metadata_fields(meta))
        return meta

    def _local_metadata(self, file: DistFile) -> bytes:
        path = local_path(file.url)
        if file.core_metadata is not None:
            side = Path(str(path) + ".metadata")
            if side.is_file():
                data = side.read_bytes()
                self._check(data, file.core_metadata, file.url + ".metadata")
                return data
        if not path.is_file():
            raise InputError("file listed by the index does not exist", where=file.url)
        if file.sha256:
            self._check(path.read_bytes(), file.sha256, file.url)
        if file.is_wheel:
            return wheel_metadata(path, file.url)
        return sdist_metadata(path.read_bytes(), file.filename, file.url)

    @staticmethod
    def _check(data: bytes, expected: str, url: str) -> None:
        if expected:
            got = hashlib.sha256(data).hexdigest()
            if got != expected:
                raise InputError(f"sha256 mismatch: the index says {expected}, the file has {got}", where=url)

    def _remote_metadata(self, file: DistFile) -> bytes:
        if file.core_metadata is not None:
            r = self._get(file.url + ".metadata")
            if r.status_code == 200:
                self._check(r.content, file.core_metadata, file.url + ".metadata")
                return r.content
        # An unadvertised `.metadata` file is not guessed at (nor by pip or uv): through a mirror that
        # drops PEP 658's key while its file host serves some of those files, half the guesses were
        # answered 404 after 100-300 ms, on the resolver's path at every level of a chain
        # (oslo.config -> stevedore -> pbr -> setuptools), while a hit saved nothing over the range
        # read, which is one request for all but the rare wheel whose directory exceeds 64 KiB.
        if file.is_wheel:
            try:
                data, total = remote_wheel_metadata(self._range_reader(file.url), file.url)
                self._sizes[file.url] = total
                return data
            except RangesRefused as whole:
                self._check(whole.data, file.sha256, file.url)
                self._sizes[file.url] = len(whole.data)
                return wheel_metadata(whole.data, file.url)
        r = self._get(file.url)
        if r.status_code != 200:
            raise InputError(f"HTTP {r.status_code} downloading an sdist", where=file.url)
        self._check(r.content, file.sha256, file.url)
        self._sizes[file.url] = len(r.content)
        return sdist_metadata(r.content, file.filename, file.url)

    def _range_reader(self, url: str) -> Callable[[int | None, int], tuple[bytes, int, int]]:
        def read(start: int | None, end: int) -> tuple[bytes, int, int]:
            spec = f"bytes=-{end}" if start is None else f"bytes={start}-{end}"
            r = self._get(url, {"Range": spec, "Accept-Encoding": "identity"})
            if r.status_code == 200:
                raise RangesRefused(r.content)
            if r.status_code != 206:
                raise InputError(f"HTTP {r.status_code} reading a range", where=url)
            m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", r.headers.get("content-range", ""))
            if m is None:
                raise InputError("range response without a usable Content-Range", where=url)
            total = int(m.group(3)) if m.group(3) != "*" else -1
            return r.content, int(m.group(1)), total

        return read

    # ---- for the lock ------------------------------------------------------------------------
    def pages(self, name: str) -> list[ProjectPage]:
        """The project pages that supplied `name`'s files (after `list_releases`)."""
        with self._lock:
            return list(self._pages.get(canonicalize_name(name), []))

    def file_digest(self, file: DistFile) -> tuple[str, int]:
        """(sha256, size) of a file, computing what the index did not say."""
        sha, size = file.sha256, file.size
        if _is_local(file.url):
            path = local_path(file.url)
            if not path.is_file():
                raise InputError("file does not exist", where=file.url)
            return sha or self.cache.local_sha256(path), size if size is not None else path.stat().st_size
        if size is None:
            size = self._sizes.get(file.url) or self.cache.size(file.url)
        if sha and size is not None:
            return sha, size
        if self.offline:
            raise InputError("size/sha256 not known offline; run once without offline", where=file.url)
        if not sha:
            r = self._get(file.url)
            if r.status_code != 200:
                raise InputError(f"HTTP {r.status_code} downloading to hash", where=file.url)
            sha, size = hashlib.sha256(r.content).hexdigest(), len(r.content)
        else:
            client = self.client
            import httpx  # loaded by `client`

            try:
                r = client.head(file.url)
            except httpx.HTTPError as e:
                raise InputError(f"cannot fetch: {e}", where=file.url) from None
            if r.status_code != 200 or "content-length" not in r.headers:
                raise InputError(f"HTTP {r.status_code}: cannot learn the file's size", where=file.url)
            size = int(r.headers["content-length"])
        self.cache.store_size(file.url, size)
        return sha, size

    def file_digests(self, files: Iterable[DistFile]) -> dict[str, tuple[str, int]]:
        """`file_digest` of many files, concurrently; keyed by URL."""
        uniq = {f.url: f for f in files}
        tasks = {url: self._pool.submit(self.file_digest, f, priority=URGENT) for url, f in uniq.items()}
        return {url: self._pool.wait(task) for url, task in tasks.items()}


def _then(fn: Callable[[Future], None]) -> Callable[[Future], None]:  # type: ignore[type-arg]
    """A done-callback that ignores failed futures (the failure surfaces when the result is asked)."""

    def cb(f: Future) -> None:  # type: ignore[type-arg]
        if f.cancelled() or f.exception() is not None:
            return
        try:
            fn(f)
        except Exception:
            pass

    return cb


def _local_ident(file: DistFile) -> str | None:
    """What a local file's parsed metadata is kept under, None when the file is missing: the sha256 the
    index gives for it and the size and mtime of the file, and of the PEP 658 file the index names (the
    trust `Cache.local_sha256` puts in a file's size and mtime). Without it a warm solve over a file://
    index read every candidate wheel again, whole when the index gives its sha256, to check it and
    to take its METADATA out of the zip."""
    path = str(local_path(file.url))
    try:
        st = os.stat(path)
    except OSError:
        return None
    ident = f"local:{file.sha256}:{st.st_size}:{st.st_mtime_ns}"
    if file.core_metadata is not None:
        try:
            side = os.stat(path + ".metadata")
            ident += f":{file.core_metadata}:{side.st_size}:{side.st_mtime_ns}"
        except OSError:
            ident += ":-"
    return ident


def _call_page(on_page: PageCallback, name: str, fut: Future[Sequence[Release]]) -> None:
    on_page(name, fut.result())


def _call_metadata(
    on_metadata: MetadataCallback, release: Release, file: DistFile, fut: Future[CoreMetadata]
) -> None:
    on_metadata(release, file, fut.result())


def _lacks_build_system(file: DistFile, data: bytes) -> bool:
    """True for an sdist's metadata, read from the sdist itself, that does not say what building it
    needs (cached by an older bundler; `sdist_metadata` always says it now)."""
    return not file.is_wheel and file.core_metadata is None and b"\nX-Build-System:" not in b"\n" + data


def _target_key(target: Target) -> str:
    """What a digest's file choice depends on: the choice's rules, packaging's tag lists, the target."""
    return f"{CHOICE_VERSION}:{packaging.__version__}:{target.python_version}:{','.join(target.platforms)}"


def _row(f: DistFile) -> tuple[object, ...]:
    return (f.filename, f.url, f.sha256, f.size, f.requires_python, f.yanked, f.core_metadata)


def _to_digest(has_files: bool, releases: Sequence[Release]) -> tuple[bool, list[tuple[str, bytes]]]:
    """A digest's payload: per release, newest first, its version's text (which parses back to an
    equal Version) and its file rows, marshalled apart so that a warm run unmarshals only the rows
    of the releases the resolver reads."""
    return has_files, [(str(r.version), marshal.dumps([_row(f) for f in r.files])) for r in releases]


def _from_digest(
    payload: Any, name: str, index: str, full: Callable[[], Any] | None = None
) -> tuple[bool, NewestFirst] | None:
    """(the page has files, its releases) from a digest's payload; None when it does not read as one.

    A digest trimmed by the warm set (warm.py) holds, in place of some releases' file rows, their
    position in the whole digest, which `full()` reads from the cache when one of them is read.

    The digest's checksum (`Cache.digest`) says the payload is what `_index_page` stored: version
    texts that parsed (with this packaging: it is part of the target key) and file rows of a
    DistFile's fields. So each version is parsed, and each Release made, only when the resolver
    first reads it (`NewestFirst`): it reads a few of each project's, and the pages of a large solve
    list tens of thousands (16,000 for airflow's, of which it reads 2,700). Only the outer shape is
    checked here; an item that does not read all the same is reported when read, naming the page.
    """
    if payload is None:
        return None
    texts: list[str] | None = None
    try:
        if len(payload) == 3:  # trimmed (warm.py `_trimmed`): every version's text, some releases' rows
            has_files, joined, kept = payload
            texts = joined.split("\n")
            grouped: Sequence[tuple[str, bytes | int]] = _Trimmed(texts, kept)
        else:
            has_files, grouped = payload
    except (TypeError, ValueError, AttributeError):
        return None
    if not isinstance(grouped, (list, _Trimmed)):
        return None

    whole: list[Any] = []  # the full digest's releases, once read

    def make(item: tuple[str, bytes | int]) -> Release:
        try:
            text, blob = item
            if isinstance(blob, int) and full is not None:  # trimmed: the rows are in the full digest
                if not whole:
                    whole.append(full()[1])
                text_there, blob = whole[0][blob]
                if text_there != text:
                    raise ValueError(text)
            if not isinstance(blob, bytes):
                raise TypeError(blob)
            version = parse_version(text) if isinstance(text, str) else None
            if version is None:
                raise TypeError(text)
            rows = marshal.loads(blob)
            if len(rows) == 1:  # nearly always, once files for other targets are gone
                return Release(name, version, (DistFile(*rows[0], index),))  # type: ignore[call-arg]
            return Release(name, version, tuple([DistFile(*row, index) for row in rows]))  # type: ignore[call-arg]
        except (TypeError, ValueError, EOFError, IndexError):
            raise InputError(
                "the cached digest of this page is unreadable",
                where=f"{index}{name}/",
                hint="remove the cache's pypi/digests and pypi/warm",
            ) from None

    def version_of(item: tuple[str, bytes | int]) -> Version:
        version = parse_version(item[0]) if isinstance(item[0], str) else None
        return version if version is not None else make(item).version  # make says what is wrong

    # stored sorted (`_index_page`), and each version parses back equal with the same str()
    return bool(has_files), NewestFirst(grouped, make, version_of, texts)


def _as_made(release: Release) -> Release:
    return release


class _Trimmed(Sequence[tuple[str, "bytes | int"]]):
    """A trimmed digest's releases as a digest's: (version text, rows), or (version text, position)
    where the rows were left out (`_from_digest` reads those from the full digest)."""

    __slots__ = ("_texts", "_kept")

    def __init__(self, texts: list[str], kept: dict[int, bytes]) -> None:
        if not isinstance(kept, dict):
            raise TypeError("kept rows")
        self._texts = texts
        self._kept = kept

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self._texts)))]
        if i < 0:
            i += len(self._texts)
        text = self._texts[i]  # IndexError past either end, as a list
        return text, self._kept.get(i, i)


def _merge_releases(parts: list[Sequence[Release]]) -> list[Release]:
    """Releases of several sources as `group_releases` of all their files in order would give them."""
    by_version: dict[Version, Release] = {}
    for releases in parts:
        for r in releases:
            known = by_version.get(r.version)
            by_version[r.version] = (
                r if known is None else Release(known.name, known.version, known.files + r.files)
            )
    return list(by_version.values())
