"""The one HTTP policy (repos/http.py) as each client meets it: a server that is briefly broken
(503, 429) is asked again with a backoff, a real answer (404, 403) is not, and a server that stays
broken is given up on after `ATTEMPTS` requests; the Debian loader, the Python index and the build's
downloader all behave so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from repos.deb.fetch import Fetcher as DebFetcher
from repos.errors import FetchError, NotFound
from repos.http import ATTEMPTS, make_client
from repos.http import get as policy_get


class Flaky:
    """Answers each path's first `fails` requests with `status`, then 200 with the path as body."""

    def __init__(self, fails: int, status: int) -> None:
        self.fails, self.status = fails, status
        self.seen: dict[str, int] = {}
        self.agents: set[str] = set()


@pytest.fixture
def flaky() -> Iterator[tuple[str, Flaky]]:
    state = Flaky(0, 503)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            n = state.seen[self.path] = state.seen.get(self.path, 0) + 1
            state.agents.add(self.headers.get("User-Agent", ""))
            status = state.status if n <= state.fails else 200
            body = self.path.encode() if status == 200 else b"busy"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [503, 429, 502])
def test_a_briefly_broken_server_is_asked_again(flaky: tuple[str, Flaky], status: int) -> None:
    url, state = flaky
    state.fails, state.status = ATTEMPTS - 1, status
    with make_client() as client:
        r = policy_get(client, f"{url}/a")
    assert (r.status_code, r.content, state.seen["/a"]) == (200, b"/a", ATTEMPTS)
    assert all(agent.startswith("bundler") for agent in state.agents)


@pytest.mark.parametrize("status", [404, 403, 501])
def test_a_real_answer_is_not_asked_again(flaky: tuple[str, Flaky], status: int) -> None:
    url, state = flaky
    state.fails, state.status = 1, status
    with make_client() as client:
        assert policy_get(client, f"{url}/b").status_code == status
    assert state.seen["/b"] == 1


def test_the_debian_loader_follows_the_policy(flaky: tuple[str, Flaky]) -> None:
    url, state = flaky
    state.fails = ATTEMPTS - 1
    with DebFetcher() as f:
        assert f.get(f"{url}/Release") == b"/Release"
    state.fails = ATTEMPTS  # never recovers in time: one clear error after ATTEMPTS requests
    with DebFetcher() as f, pytest.raises(FetchError, match="HTTP 503"):
        f.get(f"{url}/InRelease")
    assert state.seen["/InRelease"] == ATTEMPTS
    state.fails, state.status = 1, 404
    with DebFetcher() as f, pytest.raises(NotFound):
        f.get(f"{url}/Packages.xz")
    assert state.seen["/Packages.xz"] == 1


def test_the_python_index_follows_the_policy(flaky: tuple[str, Flaky], tmp_path: Path) -> None:
    from repos.pypi.index import PypiIndex

    url, state = flaky
    state.fails = ATTEMPTS - 1
    index = PypiIndex([f"{url}/simple/"], cache_dir=tmp_path / "cache")
    try:
        assert index._get(f"{url}/simple/x/").content == b"/simple/x/"
    finally:
        index.close()
    assert state.seen["/simple/x/"] == ATTEMPTS


def test_the_build_downloader_follows_the_policy(flaky: tuple[str, Flaky], tmp_path: Path) -> None:
    import hashlib

    from bundler.build.download import Artifact, Fetcher
    from solver.errors import InputError

    url, state = flaky
    state.fails = ATTEMPTS - 1
    body = b"/pool/x.deb"
    art = Artifact(f"{url}/pool/x.deb", len(body), hashlib.sha256(body).hexdigest(), tmp_path / "out" / "x.deb")
    Fetcher(tmp_path / "store", keep=True).fetch_all([art])
    assert art.dest.read_bytes() == body and state.seen["/pool/x.deb"] == ATTEMPTS
    state.fails = ATTEMPTS
    body2 = b"/pool/y.deb"
    art2 = Artifact(f"{url}/pool/y.deb", len(body2), hashlib.sha256(body2).hexdigest(), tmp_path / "out" / "y.deb")
    with pytest.raises(InputError, match=f"failed after {ATTEMPTS} attempts"):
        Fetcher(tmp_path / "store", keep=True).fetch_all([art2])
    assert state.seen["/pool/y.deb"] == ATTEMPTS


def test_httpx_loads_without_its_command_line_client() -> None:
    """repos/http.py imports httpx without `httpx._main` (rich, click, pygments: ~50 ms of every
    fetching command), and leaves `import httpx._main` working afterwards."""
    import subprocess
    import sys

    code = (
        "import sys, repos.http\n"
        "print(sorted(m for m in ('httpx', 'httpx._main', 'click', 'rich', 'pygments') if m in sys.modules))\n"
        "import httpx._main\n"
        "print(callable(httpx._main.main), 'click' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines() == ["['httpx']", "True True"]


def test_the_user_agent_is_the_running_bundler_and_its_installed_version() -> None:
    from importlib.metadata import version

    import bundler
    from repos.http import _user_agent

    assert _user_agent() == f"bundler/{bundler.__version__}" == f"bundler/{version('bundler')}"


def test_a_ca_bundle_is_loaded_once_until_it_changes(tmp_path: Path) -> None:
    from repos.http import tls_context
    from tests.support.tls import make_certificates

    certs = make_certificates(tmp_path / "one")
    first = tls_context(str(certs.ca))
    assert tls_context(str(certs.ca)) is first
    assert tls_context(None) is tls_context(None)
    assert first.cert_store_stats()["x509_ca"] == 1
    other = make_certificates(tmp_path / "two")
    certs.ca.write_bytes(certs.ca.read_bytes() + other.ca.read_bytes())  # a bundle that gained one
    again = tls_context(str(certs.ca))
    assert again is not first and again.cert_store_stats()["x509_ca"] == 2
