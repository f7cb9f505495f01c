"""`bundler serve`: the bundle over HTTP, PEP 691 JSON or HTML by content negotiation, apt and pip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from bundler.build import build_bundle
from bundler.serve import HTML_V1, JSON_V1, make_server, negotiate
from tests.support.locks import Upstream


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    base = tmp_path_factory.mktemp("serve")
    up = Upstream.create(base / "upstream")
    build_bundle(up.lock(), base / "out")
    server = make_server(base / "out", "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", base / "out"
    finally:
        server.shutdown()
        server.server_close()


def test_negotiate() -> None:
    pip_accept = f"{JSON_V1}, {HTML_V1}; q=0.1, text/html; q=0.01"
    assert negotiate(pip_accept) == JSON_V1
    assert negotiate(None) == "text/html"
    assert negotiate("text/html") == "text/html"
    assert negotiate(f"{HTML_V1}") == HTML_V1
    assert negotiate("*/*") == "text/html"
    assert negotiate("text/html, */*; q=0.8") == "text/html"
    assert negotiate("image/png") is None
    assert negotiate("text/html", "format=" + quote(JSON_V1, safe="")) == JSON_V1


def test_json_and_html(served: tuple[str, Path]) -> None:
    url, out = served
    r = httpx.get(f"{url}/python/simple/foo/", headers={"Accept": JSON_V1})
    assert r.status_code == 200 and r.headers["content-type"] == JSON_V1
    doc = r.json()
    assert doc == json.loads((out / "python/simple/foo/index.json").read_text())
    assert doc["meta"]["api-version"] == "1.1" and doc["files"][0]["filename"] == "foo-1.0-py3-none-any.whl"
    r = httpx.get(f"{url}/python/simple/foo/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.content == (out / "python/simple/foo/index.html").read_bytes()
    r = httpx.get(f"{url}/python/simple/foo", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/python/simple/foo/"
    assert httpx.get(f"{url}/python/simple/", headers={"Accept": "image/png"}).status_code == 406
    wheel = httpx.get(f"{url}/python/files/foo-1.0-py3-none-any.whl")
    assert wheel.content == (out / "python/files/foo-1.0-py3-none-any.whl").read_bytes()
    release = httpx.get(f"{url}/debian/dists/bookworm/Release")
    assert release.content == (out / "debian/dists/bookworm/Release").read_bytes()
    assert httpx.get(f"{url}/../../etc/passwd").status_code == 404


def test_pip_and_apt_over_http(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _out = served
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin/python"),
            "--no-cache-dir",
            "install",
            "--index-url",
            f"{url}/python/simple",
            "foo",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode == 0 and "Successfully installed Bar.Lib-1.2 foo-1.0" in r.stdout, r.stdout + r.stderr

    from tests.test_build import _apt

    line = f"deb [trusted=yes] {url}/debian bookworm main contrib"
    r = _apt(tmp_path / "apt", line, "update")
    assert r.returncode == 0 and "W:" not in r.stderr, r.stdout + r.stderr
    r = _apt(tmp_path / "apt", line, "install", "--download-only", "extra-tool")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(list((tmp_path / "apt/cache/archives").glob("*.deb"))) == 4


def test_serve_refuses_a_non_bundle(tmp_path: Path) -> None:
    from bundler.cli import main

    assert main(["serve", str(tmp_path)]) == 2
