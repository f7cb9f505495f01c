"""Which project pages a load of the indexes would read now, told from the cache alone.

`PypiIndex` (index.py) reads a project's page on each index in turn (PEP 503 simple API; the
`first-index` strategy stops at the first page that lists files, `best-match` reads them all) and
records the pages that supplied files, with their sha256, in the lock. `page_digests` walks the same
indexes for the locked projects without the network, the resolver or any page parsing: a remote page
is its cached meta (repos/pypi/cache.py keeps the body's sha256 there), a local page is hashed. It
answers None whenever only a real load could tell (a page not cached; online, a page past its HTTP
max-age, which a load would revalidate; a page whose content is not one the lock records: changed, or
one without files), so that a caller that trusts the answer never differs from a load.

Loaded by `bundler solve`'s lock fast path: it imports only the standard library and the cache.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Collection, Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .cache import Cache

JSON_TYPE = "application/vnd.pypi.simple.v1+json"  # PEP 691, as simple.JSON_TYPE (which loads packaging)


def is_local(url: str) -> bool:
    """A file: URL or a plain path (an index or find-links location on this machine)."""
    return url.startswith("file:") or "://" not in url


def local_path(url: str) -> Path:
    # Unquoted once, as repos.deb.fetch.file_path does (url2pathname would unquote a second time,
    # turning a file named "a%2541" into "a%41" and then "aA"; it also cost importing urllib.request).
    if url.startswith("file:"):
        return Path(unquote(urlsplit(url).path))
    return Path(url)


def index_base(url: str) -> str:
    """An index URL as project page URLs are made from it: with one trailing slash (PEP 503)."""
    return url if url.endswith("/") else url + "/"


def local_page(root: Path, name: str) -> tuple[bytes, str, str, str] | None:
    """(body, content type, sha256, URL) of project `name`'s page in the local index at `root`."""
    for fname, ctype in (("index.json", JSON_TYPE), ("index.html", "text/html")):
        p = root / name / fname
        if p.is_file():
            data = p.read_bytes()
            return data, ctype, hashlib.sha256(data).hexdigest(), (root / name).as_uri() + "/" + fname
    return None


def cached_page(cache: Cache, url: str, offline: bool, now: float) -> tuple[int, str] | None:
    """(status, sha256) of the cached page at `url` as a load would use it without asking the server,
    or None when a load would fetch it (not cached; online, past its max-age)."""
    meta = cache.page(url, with_body=False)
    if meta is None:
        return None
    if not offline and not (meta.max_age and now < meta.fetched + meta.max_age):
        return None
    return meta.status, meta.sha256


def page_digests(
    indexes: Iterable[str],
    names: Iterable[str],
    *,
    cache_dir: Path,
    offline: bool,
    strategy: str,
    supplying: Collection[tuple[str, str]],
) -> set[tuple[str, str]] | None:
    """The (URL, sha256) of the pages that would supply the canonical `names`, or None if unsure.

    `supplying`: the pages known to list files (a previous load's, i.e. the lock's); a page found with
    another content could be empty or changed, which only parsing it tells: None."""
    cache = Cache(cache_dir)
    now = time.time()
    indexes = [index_base(i) for i in indexes]
    out: set[tuple[str, str]] = set()
    for name in names:
        for index in indexes:
            if is_local(index):
                root = local_path(index)
                got = local_page(root, name) if root.is_dir() else None
                if got is None:
                    continue
                page = (got[3], got[2])
            else:
                url = f"{index}{name}/"
                cached = cached_page(cache, url, offline, now)
                if cached is None:
                    return None
                if cached[0] != 200:
                    continue  # the project is not on this index (a cached 404)
                page = (url, cached[1])
            if page not in supplying:
                return None
            out.add(page)
            if strategy == "first-index":
                break
    return out


def find_links_state(locations: Iterable[str], *, cache_dir: Path, offline: bool) -> list[str] | None:
    """What the find-links locations list, as lines to fingerprint: a local directory's files (name,
    size, mtime), a remote page's cached sha256; None when a load would fetch a page."""
    cache = Cache(cache_dir)
    now = time.time()
    out: list[str] = []
    for loc in locations:
        if is_local(loc):
            root = local_path(loc)
            if not root.is_dir():
                out.append(f"{loc} missing")
                continue
            for entry in sorted(os.scandir(root), key=lambda e: e.name):
                if entry.is_file():
                    st = entry.stat()
                    out.append(f"{loc} {entry.name} {st.st_size} {st.st_mtime_ns}")
        else:
            cached = cached_page(cache, loc, offline, now)
            if cached is None:
                return None
            out.append(f"{loc} {cached[0]} {cached[1]}")
    return out
