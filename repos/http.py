"""bundler's one HTTP client: its timeouts, its retry policy, and its transport (httpx over httpcore).

Every request bundler makes goes through a client from `make_client`: Debian indexes
(repos/deb/fetch.py), Python pages, metadata and files (repos/pypi/index.py), and the artifacts a
build downloads (bundler/build/download.py). One policy, here:

- timeouts: `TIMEOUT` (connect 10 s; 60 s without a byte read or written; no total limit, since an
  artifact of hundreds of MB on a slow link is not an error);
- retries: a transport error (refused, reset, timed out) and a transient answer (`TRANSIENT_STATUS`:
  408, 425, 429, 5xx but 501) are tried `ATTEMPTS` times in all, waiting 0.2, 0.4, 0.8 s (`pauses`);
  `get` does so for a whole response; the build's download loop, which resumes a partial file with a
  Range request between attempts, uses the same `ATTEMPTS`, `is_transient` and `pauses`;
- redirects followed, the User-Agent `bundler/<version>`, a CA bundle when pip names one.

The transport: a cold resolve opens dozens of connections within a second. Each one made its own name lookup, and
a burst of lookups meets the C resolver's five-second timeout now and then (a dropped UDP answer):
one such stall on the resolver's path costs more than all the fetching. Here the addresses of a
(host, port) are looked up once per transport family (concurrent askers wait for the first), and a
connection tries them in order. TLS still verifies the host name (httpcore passes the origin's name
for SNI and certificate checks, whatever address the socket connected to).
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import threading
import time
import typing
from collections.abc import Iterator

import httpcore

# httpx's __init__ imports its own command line client (`httpx._main`) whenever click and rich are
# installed, as they are for bundler's CLI: rich.console, rich.progress, click and pygments, ~50 ms of
# every command that fetches, for a client bundler never runs (and before typer is loaded, on the
# paths that skip typer: bundler/quicksolve.py). While httpx loads, that module is marked absent, so
# httpx takes its own fallback for a missing `httpx[cli]` (a stub `main`); the mark is then removed,
# and `import httpx._main` works as before for whoever wants it. The other modules that use httpx
# import it after this one.
_HTTPX_CLI = "httpx._main"
_marked = "httpx" not in sys.modules and _HTTPX_CLI not in sys.modules
if _marked:
    sys.modules[_HTTPX_CLI] = None  # type: ignore[assignment]
try:
    import httpx
finally:
    if _marked and sys.modules.get(_HTTPX_CLI, 0) is None:
        del sys.modules[_HTTPX_CLI]

TIMEOUT = httpx.Timeout(60.0, connect=10.0)
ATTEMPTS = 4
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def _user_agent() -> str:
    # The running application's version when bundler's package is loaded (always, under its CLI): no
    # import, where importlib.metadata costs ~25 ms to import and a scan of sys.path to answer. A
    # library caller without it gets the installed distribution's version.
    running = getattr(sys.modules.get("bundler"), "__version__", None)
    if isinstance(running, str):
        return f"bundler/{running}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"bundler/{version('bundler')}"
    except PackageNotFoundError:
        return "bundler"


def is_transient(status: int) -> bool:
    """An answer worth asking again for (the server was busy or briefly broken)."""
    return status in TRANSIENT_STATUS


def pauses(attempts: int = ATTEMPTS) -> Iterator[bool]:
    """Yields once per attempt, True on the last; sleeps 0.2 s, 0.4 s, ... between attempts."""
    delay = 0.2
    for attempt in range(attempts):
        if attempt:
            time.sleep(delay)
            delay *= 2
        yield attempt == attempts - 1


def get(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """GET with the retry policy: the last response (of any status) or the last transport error."""
    for last in pauses():
        try:
            response = client.get(url, headers=headers)
        except httpx.TransportError:
            if last:
                raise
            continue
        if last or not is_transient(response.status_code):
            return response
        response.close()
    raise AssertionError("unreachable")


def make_client(
    *,
    max_connections: int = 8,
    ssl_context: ssl.SSLContext | None = None,
    resolver: Resolver | None = None,
    identity: bool = False,
) -> httpx.Client:
    """A client with the policy above. `identity`: ask for the bytes as stored, never a
    transfer-encoded variant (an artifact's sha256 is of those bytes)."""
    headers = {"User-Agent": _user_agent()}
    if identity:
        headers["Accept-Encoding"] = "identity"
    transport = Transport(
        ssl_context or tls_context(None), resolver or Resolver(), max_connections=max_connections
    )
    return httpx.Client(transport=transport, timeout=TIMEOUT, follow_redirects=True, headers=headers)


class Resolver:
    """getaddrinfo results per (host, port), looked up once (with a retry) and shared by threads."""

    def __init__(self, attempts: int = 3) -> None:
        self.attempts = attempts
        self._lock = threading.Lock()
        self._known: dict[tuple[str, int], list[str]] = {}
        self._pending: dict[tuple[str, int], threading.Lock] = {}

    def addresses(self, host: str, port: int) -> list[str]:
        key = (host, port)
        with self._lock:
            got = self._known.get(key)
            if got is not None:
                return got
            gate = self._pending.setdefault(key, threading.Lock())
        with gate:  # one lookup per name; the others wait for it
            with self._lock:
                got = self._known.get(key)
            if got is not None:
                return got
            error: OSError | None = None
            for _ in range(self.attempts):
                try:
                    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except OSError as e:
                    error = e
                    continue
                addrs = list(dict.fromkeys(str(info[4][0]) for info in infos))
                with self._lock:
                    self._known[key] = addrs
                return addrs
            assert error is not None
            raise error


class _Backend(httpcore.SyncBackend):
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addrs = self.resolver.addresses(host, port)
        except OSError as e:
            raise httpcore.ConnectError(str(e)) from e
        last: Exception | None = None
        for addr in addrs:
            try:
                return super().connect_tcp(addr, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last = e
        if last is None:
            raise httpcore.ConnectError(f"no address for {host}")
        raise last


class Transport(httpx.HTTPTransport):
    """httpx's transport with the shared `Resolver` underneath its connection pool."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        resolver: Resolver,
        *,
        max_connections: int = 4,
        retries: int = 3,
    ) -> None:
        super().__init__(verify=ssl_context)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            retries=retries,
            network_backend=_Backend(resolver),
        )


def default_ssl_context(cafile: str | None) -> ssl.SSLContext:
    """httpx's default TLS context (certifi's bundle, or `SSL_CERT_FILE`/`SSL_CERT_DIR`), or one
    trusting `cafile` (pip's `cert`): what httpx made of `verify=<path>`, which it deprecates."""
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    return httpx.create_ssl_context()


def usable_cert(cert: str | None) -> str | None:
    """The CA bundle to load for pip's `cert` setting: the file, or None (the default bundle) when it
    names no file."""
    return cert if cert and os.path.isfile(cert) else None


_TLS: dict[tuple[str | None, ...], ssl.SSLContext] = {}
_TLS_LOCK = threading.Lock()


def tls_context(cafile: str | None) -> ssl.SSLContext:
    """`default_ssl_context(cafile)`, made once per process and CA bundle (its path, size and mtime;
    without one, the environment's `SSL_CERT_FILE` and `SSL_CERT_DIR`, which httpx's default reads).

    Loading a bundle of some 150 certificates takes ~30 ms, with the GIL released: a command that will
    fetch starts it early, on a thread of its own (`bundler/pipeline.py`), while it imports what the
    solve needs, and the first fetch then finds it made (or waits for it, not making it twice). A
    context is safe to share: every connection wraps its own socket with it."""
    try:
        st = os.stat(cafile) if cafile else None
    except OSError:
        st = None  # httpx reports the unusable file when the context is made
    key: tuple[str | None, ...] = (cafile, str(st.st_size if st else -1), str(st.st_mtime_ns if st else -1))
    if cafile is None:
        key += (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _TLS_LOCK:
        ctx = _TLS.get(key)
        if ctx is None:
            ctx = _TLS[key] = default_ssl_context(cafile)
    return ctx
