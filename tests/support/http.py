"""A static HTTP server on 127.0.0.1 for tests: Range requests, ETag/If-None-Match, Accept-aware pages.

    with serve_directory(root) as base_url:   # "http://127.0.0.1:PORT"
        ...

Requests are recorded in `server.requests` (method, path, headers) so a test can assert, for example,
that a warm run made no request or that a wheel was read by ranges rather than downloaded whole.
For a path `p` that is a directory, the server answers `p/index.json` when the client's Accept header
prefers `application/vnd.pypi.simple.v1+json` and that file exists, else `p/index.html` (PEP 691).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class ServerState:
    root: Path
    requests: list[Recorded] = field(default_factory=list)
    allow_ranges: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def _resolve(self) -> tuple[Path | None, str]:
            rel = unquote(urlsplit(self.path).path).lstrip("/")
            target = (state.root / rel).resolve()
            if state.root.resolve() not in (target, *target.parents):
                return None, ""
            if target.is_dir():
                accept = self.headers.get("Accept", "")
                if JSON_TYPE in accept and (target / "index.json").is_file():
                    return target / "index.json", JSON_TYPE
                return (target / "index.html" if (target / "index.html").is_file() else None), "text/html"
            if target.is_file():
                ctype = "text/html" if target.suffix == ".html" else "application/octet-stream"
                if target.suffix == ".json":
                    ctype = JSON_TYPE
                return target, ctype
            return None, ""

        def _serve(self, body: bool) -> None:
            with state.lock:
                state.requests.append(Recorded(self.command, self.path, dict(self.headers.items())))
            target, ctype = self._resolve()
            if target is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = target.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, payload, extra = 200, data, {}
            rng = self.headers.get("Range")
            if rng and state.allow_ranges:
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
                if m:
                    start_s, end_s = m.groups()
                    if start_s == "":
                        start = max(0, len(data) - int(end_s))
                        end = len(data) - 1
                    else:
                        start = int(start_s)
                        end = int(end_s) if end_s else len(data) - 1
                    end = min(end, len(data) - 1)
                    if start > end:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status, payload = 206, data[start : end + 1]
                    extra["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("ETag", etag)
            if state.allow_ranges:
                self.send_header("Accept-Ranges", "bytes")
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve(body=True)

        def do_HEAD(self) -> None:
            self._serve(body=False)

    return Handler


class Server:
    def __init__(self, root: Path, allow_ranges: bool = True, tls: tuple[Path, Path] | None = None) -> None:
        self.state = ServerState(Path(root), allow_ranges=allow_ranges)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        if tls is not None:  # (certificate chain, key): HTTPS, the name being localhost
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.url = f"https://localhost:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list[Recorded]:
        return self.state.requests

    def start(self) -> Server:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def serve_directory(
    root: Path | str, allow_ranges: bool = True, tls: tuple[Path, Path] | None = None
) -> Iterator[Server]:
    """Serve `root` on 127.0.0.1 (a free port) for the duration of the block; over HTTPS with `tls`
    (a certificate for localhost and its key, `tests.support.tls.make_certificates`)."""
    server = Server(Path(os.fspath(root)), allow_ranges=allow_ranges, tls=tls).start()
    try:
        yield server
    finally:
        server.stop()
