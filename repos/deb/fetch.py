"""Getting bytes for `file://` and `http(s)://` URLs, many at once (RFC 8089 file URIs, RFC 9110 HTTP).

One `Fetcher` holds one pooled client of repos/http.py (keep-alive, its timeouts and retry policy:
transient failures are tried again with a short backoff) shared by a thread pool, so a load of a few
dozen index files costs a few connections. 404/410 raise `NotFound` so callers can fall back (for
example from InRelease to Release, or from Packages.xz to Packages.gz). A `rich.progress.Progress` may be
passed in; by default nothing is printed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from ..errors import FetchError, NotFound

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
R = TypeVar("R")


def join_url(base: str, *parts: str) -> str:
    """`base` + "/" + parts, without doubled slashes; "./" parts vanish."""
    out = base.rstrip("/")
    for part in parts:
        part = part.strip("/")
        if part in ("", "."):
            continue
        if part.startswith("./"):
            part = part[2:]
        out += "/" + part
    return out


def file_path(url: str) -> Path | None:
    """The local path of a `file:` URL (or a bare absolute path), else None."""
    if url.startswith("file:"):
        return Path(unquote(urlsplit(url).path))
    if url.startswith("/"):
        return Path(url)
    return None


class Fetcher:
    """Fetch URLs, one at a time (`get`) or concurrently (`map`). Use as a context manager."""

    def __init__(
        self,
        *,
        max_workers: int = 8,
        progress: Any | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.max_workers = max_workers
        self.progress = progress
        self._own_client = client is None
        self._client = client
        self._client_lock = threading.Lock()
        self.requests = 0  # network requests made, for tests and reports

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> httpx.Client:
        from ..http import make_client  # httpx: 40 ms to import, only when something is fetched over HTTP

        # Created on first use: building the TLS context costs ~0.1 s, wasted on a cached or file:// load.
        with self._client_lock:
            if self._client is None:
                self._client = make_client(max_connections=self.max_workers)
            return self._client

    def get(self, url: str) -> bytes:
        """The body at `url`. Raises NotFound (404/410, missing file) or FetchError."""
        path = file_path(url)
        if path is not None:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                raise NotFound(url, "no such file") from None
            except OSError as e:
                raise FetchError(url, f"cannot read: {e.strerror or e}") from None
        if not url.startswith(("http://", "https://")):
            raise FetchError(url, "unsupported URL scheme (use file://, http:// or https://)")
        from ..http import get  # isort: skip  (first: it imports httpx without httpx's CLI, repos/http.py)

        import httpx  # isort: skip

        try:
            self.requests += 1
            response = get(self._http(), url)
        except httpx.TransportError as e:
            raise FetchError(url, f"cannot fetch: {type(e).__name__}: {e}") from None
        status = response.status_code
        if status == 200:
            return response.content
        if status in (404, 410):
            raise NotFound(url, f"HTTP {status}")
        raise FetchError(url, f"HTTP {status}")

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, description: str = "") -> list[R]:
        """`[fn(item) for item in items]`, run on the thread pool; the first exception is re-raised.

        `fn` usually calls `self.get` (perhaps several times, for fallbacks) and then works on the bytes.
        """
        todo: Sequence[T] = list(items)
        if not todo:
            return []
        progress = self.progress
        task = progress.add_task(description or "fetching", total=len(todo)) if progress is not None else None

        def run(item: T) -> R:
            result = fn(item)
            if progress is not None:
                progress.advance(task)
            return result

        if len(todo) == 1:
            return [run(todo[0])]
        from concurrent.futures import ThreadPoolExecutor  # (and logging): not for one suite's one index

        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(todo))) as pool:
            futures = [pool.submit(run, item) for item in todo]
            return [f.result() for f in futures]
