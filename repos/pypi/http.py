"""The HTTP transport for index clients: httpx over httpcore, with each host name looked up once.

A cold resolve opens dozens of connections within a second. Each one made its own name lookup, and
a burst of lookups meets the C resolver's five-second timeout now and then (a dropped UDP answer):
one such stall on the resolver's path costs more than all the fetching. Here the addresses of a
(host, port) are looked up once per transport family (concurrent askers wait for the first), and a
connection tries them in order. TLS still verifies the host name (httpcore passes the origin's name
for SNI and certificate checks, whatever address the socket connected to).
"""

from __future__ import annotations

import socket
import ssl
import threading
import typing

import httpcore
import httpx


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


def ssl_context(cafile: str | None) -> ssl.SSLContext:
    """httpx's default TLS context, or one trusting `cafile` (pip's `cert`)."""
    return httpx.create_ssl_context(verify=cafile if cafile else True)
