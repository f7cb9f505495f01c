"""`bundler publish`: a bundle onto S3-compatible object storage, read back by the real apt-get and pip.

The store is moto's stand-alone S3 server (`python -m moto.server`, from the `test` extra): a real HTTP
server on 127.0.0.1 speaking the S3 REST API, with bucket policies enforced for anonymous readers (so the
tests also prove that a public-read policy is what a fleet needs). Uploads are observed through
botocore's event hooks on the client publish uses: which PutObject started and which finished, in order.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# boto3 and moto come with the test extra: a missing one is an error, never a silently skipped module.
import boto3  # noqa: F401
import moto.server  # noqa: F401
import pytest

from bundler.build import build_bundle
from bundler.cli import main
from bundler.publish import PublishError, make_client, plan, publish_bundle
from solver.errors import InputError
from tests.support.debrepo import DebRepo
from tests.support.locks import OldKey, Upstream, with_package
from tests.support.schemas import assert_strict, assert_valid

KEY, SECRET = "bundler-test", "bundler-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class S3:
    url: str
    proc: subprocess.Popen[bytes]

    def client(self) -> Any:
        return make_client(self.url, access_key=KEY, secret_key=SECRET)

    def bucket(self, name: str, public: bool = True) -> str:
        c = self.client()
        c.create_bucket(Bucket=name)
        if public:  # what a fleet's anonymous apt and pip need: GetObject for everyone
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                      "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}]}  # fmt: skip
            c.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
        return name

    def keys(self, bucket: str) -> dict[str, str]:
        """{key: ETag} of every object in the bucket."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {o["Key"]: o["ETag"].strip('"') for p in pages for o in p.get("Contents", ())}


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    log = open(tmp_path_factory.mktemp("moto") / "server.log", "wb")  # noqa: SIM115
    for _attempt in range(3):  # another process may take the free port before the server binds it
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-W", "ignore", "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        if proc.poll() is None:
            break
    else:
        pytest.fail("moto's S3 server did not start")
    try:
        yield S3(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials from the environment, as an operator gives them; no host configuration read."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@dataclass
class Bundles:
    a: Path  # release 1: hello 1.0-1
    b: Path  # release 2: hello 1.1-1, everything else the same
    upstream: Upstream


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    base = tmp_path_factory.mktemp("bundles")
    up = Upstream.create(base / "upstream")
    lock = up.lock()
    build_bundle(lock, base / "a")
    hello = DebRepo(up.root / "debian").add(
        "bookworm", "main", name="hello", version="1.1-1",
        depends="libgreet1 (>= 1.0), greeting-data | nothing-else", pre_depends="libgreet1",
    )  # fmt: skip
    lock_b = with_package(lock, "hello", version="1.1-1", source_version="1.1-1", filename=hello.filename,
                          size=hello.size, sha256=hello.sha256)  # fmt: skip
    build_bundle(lock_b, base / "b")
    return Bundles(base / "a", base / "b", up)


def _apt(root: Path, base: str, *args: str) -> subprocess.CompletedProcess[str]:
    from tests.test_build import _apt as apt

    return apt(root, f"deb [trusted=yes] {base}/debian bookworm main contrib", *args)


def _apt_versions(root: Path, base: str, *packages: str) -> dict[str, str]:
    """`apt-get update` then `-s install`: {package: version} apt would install from `base`."""
    r = _apt(root, base, "update")
    assert r.returncode == 0 and "W:" not in r.stderr and "E:" not in r.stderr, r.stdout + r.stderr
    r = _apt(root, base, "-s", "install", *packages)
    assert r.returncode == 0, r.stdout + r.stderr
    return dict(re.findall(r"^Inst (\S+) \((\S+)", r.stdout, re.M))


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["publish", *args])
    out, err = capsys.readouterr()
    return code, out, err


# -- the real clients read what was published -----------------------------------------------------
def test_apt_and_pip_install_from_the_store(s3: S3, bundles: Bundles, tmp_path: Path) -> None:
    bucket = s3.bucket("fleet-a")
    base = f"{s3.url}/{bucket}/releases/demo"
    report = publish_bundle(bundles.a, f"s3://{bucket}/releases/demo", endpoint=s3.url)
    assert report.uploaded == report.objects and report.skipped == 0
    keys = s3.keys(bucket)
    assert all(k.startswith("releases/demo/") for k in keys)
    assert "releases/demo/python/simple/foo/" in keys and "releases/demo/python/simple/" in keys
    assert any("/binary-amd64/by-hash/SHA256/" in k for k in keys)

    assert _apt_versions(tmp_path / "apt", base, "hello", "extra-tool") == {
        "hello": "1.0-1", "libgreet1": "1.2-1", "greet-data": "1:1.0", "extra-tool": "0.1"}  # fmt: skip
    r = _apt(tmp_path / "apt", base, "install", "--download-only", "extra-tool")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(list((tmp_path / "apt/cache/archives").glob("*.deb"))) == 4

    from tests.test_build import pip

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    r = pip(tmp_path / "v/bin/python", "install", "--index-url", f"{base}/python/simple/", "foo")
    assert r.returncode == 0 and "Successfully installed Bar.Lib-1.2 foo-1.0" in r.stdout, r.stdout + r.stderr


def test_anonymous_readers_need_the_bucket_policy(s3: S3, bundles: Bundles, tmp_path: Path) -> None:
    """Publishing does not open the bucket: without a public-read policy anonymous apt is refused."""
    bucket = s3.bucket("fleet-private", public=False)
    publish_bundle(bundles.a, f"s3://{bucket}/p", endpoint=s3.url)
    r = _apt(tmp_path, f"{s3.url}/{bucket}/p", "update")
    assert "403" in r.stdout + r.stderr


# -- skipping, order, interruption ---------------------------------------------------------------
def test_second_publish_skips_unchanged(s3: S3, bundles: Bundles, capsys: pytest.CaptureFixture[str]) -> None:
    bucket = s3.bucket("fleet-skip")
    target = f"s3://{bucket}/demo"
    code, out, _ = _cli(capsys, str(bundles.a), target, "--endpoint", s3.url, "--json")
    first = assert_strict("publish", json.loads(out))
    assert code == 0 and first["uploaded"] == first["objects"] > 20 and first["skipped"] == 0
    etags = s3.keys(bucket)

    code, out, _ = _cli(capsys, str(bundles.a), target, "--endpoint", s3.url)
    assert code == 0
    assert out.strip() == (f"{target}: uploaded 0 objects (0 B), {first['objects']} unchanged "
                           f"({first['uploaded_bytes'] / 1024:.1f} KiB)")  # fmt: skip
    assert s3.keys(bucket) == etags

    # The next release: only what differs goes up (hello's new .deb and the indexes naming it).
    code, out, _ = _cli(capsys, str(bundles.b), target, "--endpoint", s3.url, "--json", "--dry-run")
    would = assert_strict("publish", json.loads(out))["uploaded_keys"]
    assert s3.keys(bucket) == etags  # a dry run changes nothing
    pool = [k for k in would if "/pool/" in k or "/files/" in k]
    assert pool == ["debian/pool/main/h/hello/hello_1.1-1_amd64.deb"]
    assert "debian/dists/bookworm/Release" in would and "SHA256SUMS" in would
    assert not any(k.startswith("python/") for k in would)  # the Python side did not change
    assert "debian/dists/bookworm/contrib/binary-amd64/Packages" not in would
    code, out, _ = _cli(capsys, str(bundles.b), target, "--endpoint", s3.url, "--json")
    assert assert_valid("publish", json.loads(out))["uploaded"] == len(would)


def _record(client: Any) -> list[tuple[str, str]]:
    """[("start"|"done", key)] of the client's PutObject calls, in the order they happened."""
    events: list[tuple[str, str]] = []

    def start(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bundler-key"] = params["Key"]
        events.append(("start", params["Key"]))

    def done(context: dict[str, Any], **_: Any) -> None:
        events.append(("done", context["bundler-key"]))

    client.meta.events.register("before-parameter-build.s3.PutObject", start)
    client.meta.events.register("after-call.s3.PutObject", done)
    return events


def test_upload_order(s3: S3, bundles: Bundles, tmp_path: Path) -> None:
    """Every object a Release, an InRelease, a Packages index or a page names is whole in the store
    before that file's upload starts (a signed bundle, so InRelease and Release.gpg are there too)."""
    key = OldKey.generate()
    old = os.environ.get("GNUPGHOME")
    try:
        os.environ["GNUPGHOME"] = str(key.home)
        from bundler.lock import read_lock

        build_bundle(read_lock(bundles.a / "bundle.lock"), tmp_path / "signed", sign_key=key.fingerprint)
    finally:
        if old is None:
            os.environ.pop("GNUPGHOME", None)
        else:
            os.environ["GNUPGHOME"] = old
        key.close()
    out = tmp_path / "signed"
    bucket = s3.bucket("fleet-order")
    client = s3.client()
    events = _record(client)
    publish_bundle(out, f"s3://{bucket}/o", client=client, jobs=4)
    started = {k: i for i, (what, k) in enumerate(events) if what == "start"}
    finished = {k: i for i, (what, k) in enumerate(events) if what == "done"}
    assert set(started) == set(finished) == {"o/" + u.rel for u in plan(out)}

    def before(names: set[str], user: str) -> None:
        assert names, user
        for name in names:
            assert finished["o/" + name] < started["o/" + user], f"{user} was uploaded before {name} was whole"

    dists = "debian/dists/bookworm"
    release = (out / dists / "Release").read_text()
    named = {f"{dists}/{n}" for n in re.findall(r"^ [0-9a-f]{64} +\d+ (\S+)$", release, re.M)}
    by_hash = {f"{dists}/{os.path.dirname(n)}/by-hash/SHA256/{d}"
               for d, n in re.findall(r"^ ([0-9a-f]{64}) +\d+ (\S+)$", release, re.M)}  # fmt: skip
    for user in (f"{dists}/Release", f"{dists}/Release.gpg", f"{dists}/InRelease"):
        before(named | by_hash, user)
    before({f"{dists}/Release", f"{dists}/Release.gpg"}, f"{dists}/InRelease")
    pool = {k[2:] for k in started if "/pool/" in k}
    for packages in (k[2:] for k in started if re.search(r"/binary-[^/]+/Packages", k)):
        before(pool, packages)
    files = {k[2:] for k in started if "/python/files/" in k}
    pages = {k[2:] for k in started if re.fullmatch(r"o/python/simple/[^/]+/(index\.(html|json))?", k)}
    for page in pages:
        before(files, page)
    before(pages, "python/simple/index.html")
    before({k[2:] for k in started} - {"SHA256SUMS"}, "SHA256SUMS")


_KILLED_PUBLISH = """
import os, signal, sys
from pathlib import Path
from bundler.publish import make_client, publish_bundle
client = make_client(sys.argv[3])
count = 0
def after(**_):
    global count
    count += 1
    if count == int(sys.argv[4]):
        os.kill(os.getpid(), signal.SIGKILL)   # no clean-up of any kind: as a power cut would
client.meta.events.register("after-call.s3.PutObject", after)
publish_bundle(Path(sys.argv[1]), sys.argv[2], client=client, jobs=1)
"""


def test_killed_publish_completes_on_rerun(
    s3: S3, bundles: Bundles, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = s3.bucket("fleet-kill")
    target = f"s3://{bucket}/k"
    proc = subprocess.run([sys.executable, "-c", _KILLED_PUBLISH, str(bundles.a), target, s3.url, "6"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    keys = s3.keys(bucket)
    assert len(keys) == 6 and all("/pool/" in k or "/files/" in k for k in keys)  # no index names them yet
    code, out, err = _cli(capsys, str(bundles.a), target, "--endpoint", s3.url, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["skipped"] == 6 and report["uploaded"] == report["objects"] - 6
    assert _apt_versions(tmp_path / "apt", f"{s3.url}/{bucket}/k", "extra-tool")["extra-tool"] == "0.1"


def test_old_release_readable_during_publish(s3: S3, bundles: Bundles, tmp_path: Path) -> None:
    """Release 2 is stopped just before its Release goes up: every index and page of release 2 is
    already there under its plain name, yet apt, holding release 1's Release, reads release 1's indexes
    by hash and installs release 1 (without by-hash it would fail on the changed Packages)."""
    bucket = s3.bucket("fleet-switch")
    target, base = f"s3://{bucket}/s", f"{s3.url}/{bucket}/s"
    publish_bundle(bundles.a, target, endpoint=s3.url)
    assert _apt_versions(tmp_path / "apt0", base, "hello")["hello"] == "1.0-1"

    client = s3.client()

    def stop_at_release(params: dict[str, Any], **_: Any) -> None:
        if params["Key"].endswith("dists/bookworm/Release"):
            raise KeyboardInterrupt  # the operator's ^C, just before the switch

    client.meta.events.register("before-parameter-build.s3.PutObject", stop_at_release)
    with pytest.raises(KeyboardInterrupt):
        publish_bundle(bundles.b, target, client=client, jobs=1)
    keys = s3.keys(bucket)
    assert "s/debian/pool/main/h/hello/hello_1.1-1_amd64.deb" in keys
    new_packages = (bundles.b / "debian/dists/bookworm/main/binary-amd64/Packages").read_bytes()
    served = s3.client().get_object(Bucket=bucket, Key="s/debian/dists/bookworm/main/binary-amd64/Packages")
    assert served["Body"].read() == new_packages  # the plain-named index is already release 2's

    assert _apt_versions(tmp_path / "apt1", base, "hello")["hello"] == "1.0-1"
    r = _apt(tmp_path / "apt1", base, "install", "--download-only", "hello")
    assert r.returncode == 0, r.stdout + r.stderr
    # The same moment without by-hash: apt reads the plain names and finds release 2's bytes there.
    r = _apt(tmp_path / "apt2", base, "-o", "Acquire::By-Hash=no", "update")
    assert r.returncode != 0 or "E:" in r.stderr or "W:" in r.stderr, r.stdout + r.stderr

    report = publish_bundle(bundles.b, target, endpoint=s3.url)  # finishes the switch
    assert report.skipped > 0
    assert _apt_versions(tmp_path / "apt3", base, "hello")["hello"] == "1.1-1"
    assert "s/debian/pool/main/h/hello/hello_1.0-1_amd64.deb" in s3.keys(bucket)  # not pruned yet

    pruned = publish_bundle(bundles.b, target, endpoint=s3.url, prune=True)
    assert pruned.uploaded == 0
    assert "debian/pool/main/h/hello/hello_1.0-1_amd64.deb" in pruned.pruned_keys
    assert any("/by-hash/" in k for k in pruned.pruned_keys)  # release 1's indexes
    left = s3.keys(bucket)
    assert sorted(left) == sorted("s/" + u.rel for u in plan(bundles.b))
    assert _apt_versions(tmp_path / "apt4", base, "extra-tool")["hello"] == "1.1-1"


# -- errors: one line each ------------------------------------------------------------------------
def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if not line.startswith("hint:")]
    assert len(lines) == 1, err
    return lines[0]


def test_unreachable_endpoint(bundles: Bundles, capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()  # nothing listens there
    code, _, err = _cli(capsys, str(bundles.a), "s3://fleet/x", "--endpoint", f"http://127.0.0.1:{port}")
    assert code == 2
    assert _one_line_error(err) == f"error: cannot reach the object store at http://127.0.0.1:{port} (EndpointConnectionError)"


def test_missing_bucket(s3: S3, bundles: Bundles, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, str(bundles.a), "s3://no-such-bucket/x", "--endpoint", s3.url)
    assert code == 2
    assert _one_line_error(err) == f"error: bucket 'no-such-bucket' does not exist at {s3.url}"


def test_bad_credentials(s3: S3, bundles: Bundles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(PublishError, match="no S3 credentials"):
        publish_bundle(bundles.a, "s3://fleet-a/x", endpoint=s3.url)


def test_not_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, str(tmp_path), "s3://fleet/x", "--endpoint", "http://127.0.0.1:9")
    assert code == 2
    assert _one_line_error(err) == f"error: {tmp_path}: not a bundle directory (no SHA256SUMS)"
    code, _, err = _cli(capsys, str(tmp_path), "http://fleet/x")
    assert code == 2 and "not an s3://BUCKET/PREFIX address" in err
    code, _, err = _cli(capsys, str(tmp_path), "s3://fleet/", "--prune")
    assert code == 2 and "--prune needs a prefix" in err


def test_a_changed_bundle_is_refused_before_any_upload(s3: S3, bundles: Bundles, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundles.a, copy)
    (copy / "python/simple/foo/index.html").write_text("<html></html>\n")
    bucket = s3.bucket("fleet-changed")
    with pytest.raises(InputError, match=r"python/simple/foo/index.html does not match SHA256SUMS"):
        publish_bundle(copy, f"s3://{bucket}/x", endpoint=s3.url)
    assert s3.keys(bucket) == {}


def test_plan_aliases_and_stages(bundles: Bundles) -> None:
    uploads = {u.rel: u for u in plan(bundles.a)}
    page = uploads["python/simple/foo/"]
    assert page.path == bundles.a / "python/simple/foo/index.html" and page.content_type.startswith("text/html")
    assert uploads["python/simple/"].stage == uploads["python/simple/index.html"].stage == 3
    stages = [u.stage for u in plan(bundles.a)]
    assert stages == sorted(stages) and stages[-1] == 6
    assert uploads["debian/pool/main/h/hello/hello_1.0-1_amd64.deb"].cache_control.endswith("immutable")
    assert uploads["debian/dists/bookworm/Release"].cache_control == "no-cache"
