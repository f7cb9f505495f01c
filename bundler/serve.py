"""`bundler serve OUT`: the bundle over HTTP for an offline network (stdlib ThreadingHTTPServer).

Static files, plus PEP 691 content negotiation under `python/simple/`: a directory is answered with
its `index.json` (`application/vnd.pypi.simple.v1+json`) when the client's Accept header prefers that,
else with `index.html` (`text/html` or `application/vnd.pypi.simple.v1+html`, whichever was asked for).
The `?format=` query parameter of PEP 691 overrides the header. Nothing outside OUT is served.
"""

from __future__ import annotations

import os
import posixpath
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
HTML = "text/html"
_OFFERED = (JSON_V1, HTML_V1, HTML)
_WILDCARD_ORDER = (HTML, HTML_V1, JSON_V1)


def negotiate(accept: str | None, query: str = "") -> str | None:
    """The media type to answer a simple-API request with, or None if nothing acceptable (406)."""
    fmt = parse_qs(query).get("format")
    if fmt:
        accept = fmt[0]
    if not accept:
        return HTML
    best: tuple[float, int, str] | None = None
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        media, q = parts[0].lower(), 1.0
        for param in parts[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        for offered in _OFFERED:
            if media in (offered, "*/*", offered.split("/")[0] + "/*") and q > 0:
                # An exact match beats a wildcard; a bare wildcard gets HTML, the classic answer.
                key = (q, 0 if media == offered else -10 - _WILDCARD_ORDER.index(offered), offered)
                if best is None or key[:2] > best[:2]:
                    best = key
    return best[2] if best else None


class BundleHandler(SimpleHTTPRequestHandler):
    """Serves one bundle directory; see the module docstring."""

    server_version = "bundler-serve"
    sys_version = ""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".deb": "application/vnd.debian.binary-package",
        ".whl": "application/zip",
        ".metadata": "text/plain; charset=utf-8",
        ".json": JSON_V1,
        ".gpg": "application/pgp-signature",
        "": "text/plain; charset=utf-8",
    }

    def log_message(self, format: str, *args: object) -> None:
        if not getattr(self.server, "quiet", False):
            super().log_message(format, *args)

    def send_head(self):  # type: ignore[no-untyped-def]
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        rel = posixpath.normpath(path).lstrip("/")
        if rel.startswith("python/simple") and (rel == "python/simple" or rel.startswith("python/simple/")):
            target = Path(self.directory) / rel
            if target.is_dir():
                if not path.endswith("/"):
                    self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                    self.send_header(
                        "Location", parts.path + "/" + (f"?{parts.query}" if parts.query else "")
                    )
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                chosen = negotiate(self.headers.get("Accept"), parts.query)
                if chosen is None:
                    self.send_error(
                        HTTPStatus.NOT_ACCEPTABLE, "only the PEP 691 JSON and HTML forms are offered"
                    )
                    return None
                name = "index.json" if chosen == JSON_V1 else "index.html"
                return self._send_file(
                    target / name, chosen if chosen != HTML else "text/html; charset=utf-8"
                )
        return super().send_head()

    def _send_file(self, path: Path, ctype: str):  # type: ignore[no-untyped-def]
        try:
            f = open(path, "rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(f.fileno()).st_size
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(size))
        self.send_header("Vary", "Accept")
        self.end_headers()
        return f

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        # Directory listings of the pool and files/ help a person browsing; they are plain HTML.
        return super().list_directory(path)


class BundleServer(ThreadingHTTPServer):
    daemon_threads = True
    quiet = False


def make_server(out: Path, host: str = "127.0.0.1", port: int = 8080, *, quiet: bool = False) -> BundleServer:
    """A server for the bundle at `out` (not yet serving: call `serve_forever()`); port 0 picks one."""
    handler = partial(BundleHandler, directory=os.fspath(Path(out).resolve()))
    server = BundleServer((host, port), handler)
    server.quiet = quiet
    return server
