"""`bundler publish OUT s3://BUCKET/PREFIX`: a built bundle onto S3-compatible object storage, so that a
fleet's apt and pip read it over HTTP (Amazon S3 REST API: PutObject, ListObjectsV2, HeadObject,
DeleteObjects; https://docs.aws.amazon.com/AmazonS3/latest/API/).

    publish_bundle(out, "s3://bucket/prefix", endpoint="http://...", prune=False, dry_run=False)
        -> PublishReport

Every file of the bundle becomes the object `PREFIX/<path>`; the readers' view is kept consistent by
the order of the uploads, in stages, each finished before the next begins:

    1. artifacts     debian/pool/**, python/files/** — content-addressed: a name never changes content
    2. by-hash       each index a Release names, also as `<dir>/by-hash/SHA256/<digest>`
    3. indexes       Packages{,.gz,.xz}, per-architecture Release, simple/<project>/ pages, README, lock
    4. project list  python/simple/index.html (+ index.json): names the pages of stage 3
    5. Release       dists/<suite>/Release and Release.gpg: name the indexes of stages 2-3
    6. InRelease     what apt reads first: the switch to the new release
    7. SHA256SUMS    names every file, Release included

so no reader ever sees a Release (or a page) naming an object not yet uploaded. The bundle's Release
says `Acquire-By-Hash: yes` (DebianRepository/Format#Acquire-By-Hash; bundler/build/debrepo.py), so apt
fetches each index by its digest: a client that read the old Release keeps reading the old indexes
under their by-hash names while the new plain-named ones are uploaded. Nothing is deleted during a
publish: the old release's pool files, pages and by-hash indexes stay readable; `prune=True` (after
the switch) deletes the objects under PREFIX that the new release does not name. Python files are
immutable and only pages change, so pip sees either the old page or the new one, and both name
objects that exist.

S3 serves keys, not directories: pip asks for `simple/<project>/`, so each simple page is uploaded under
both `.../index.html` and `.../` (the pages' relative links resolve the same from both).

Unchanged objects are skipped: one paginated listing of PREFIX gives every object's size and ETag, and
the ETag of a single-part upload is the MD5 of its bytes (multipart ETags carry a "-": those are
compared with the `sha256` user metadata that every upload stores, by one HEAD each). S3 replaces an
object atomically, so an interrupted publish leaves whole old or whole new objects and a re-run skips
what already arrived: publishing is idempotent.

boto3 is imported here only, by `bundler publish` (installed with the `s3` extra).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solver.errors import BundlerError, InputError

SUMS = "SHA256SUMS"
SINGLE_PUT_LIMIT = 5 * 1024**3  # S3's largest single PUT; larger files go up in parts
STAGES = ("artifacts", "by-hash", "indexes", "project list", "Release", "InRelease", "SHA256SUMS")

_CONTENT_TYPES = {
    ".deb": "application/vnd.debian.binary-package",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".xz": "application/x-xz",
    ".zst": "application/zstd",
    ".bz2": "application/x-bzip2",
    ".html": "text/html; charset=utf-8",
    ".json": "application/vnd.pypi.simple.v1+json",
    ".gpg": "application/pgp-signature",
}
# Indexes change from release to release: caches must revalidate them. Everything else under a name
# never changes content (pool files, distribution files, by-hash indexes) and may be cached for good.
_MUTABLE = "no-cache"
_IMMUTABLE = "public, max-age=31536000, immutable"


class PublishError(BundlerError):
    """The object store cannot be used: unreachable, no such bucket, refused credentials (exit 2)."""


@dataclass(frozen=True, slots=True)
class Target:
    bucket: str
    prefix: str  # no leading or trailing slash; "" for the bucket's root

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_target(url: str) -> Target:
    """`s3://bucket[/prefix]` -> Target. Bucket names follow S3's rules (3-63 of a-z 0-9 . -)."""
    m = re.fullmatch(r"s3://([^/]+)(?:/(.*))?", url)
    if not m:
        raise InputError(f"not an s3://BUCKET/PREFIX address: {url!r}")
    bucket, prefix = m.group(1), (m.group(2) or "").strip("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise InputError(f"not a valid S3 bucket name: {bucket!r}")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise InputError(f"empty, '.' or '..' component in the prefix {prefix!r}")
    return Target(bucket, prefix)


@dataclass(frozen=True, slots=True)
class Upload:
    """One object to put: the key below the prefix, the local file and what the store should say."""

    rel: str  # key below the prefix
    path: Path
    size: int
    sha256: str
    md5: str
    stage: int
    content_type: str
    cache_control: str


@dataclass(frozen=True, slots=True)
class PublishReport:
    target: str
    objects: int  # objects the release consists of
    uploaded: int
    uploaded_bytes: int
    skipped: int  # already there with the same content
    skipped_bytes: int
    pruned: int
    dry_run: bool
    uploaded_keys: tuple[str, ...] = ()  # stage by stage, in key order within a stage
    pruned_keys: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "objects": self.objects, "uploaded": self.uploaded,
            "uploaded_bytes": self.uploaded_bytes, "skipped": self.skipped,
            "skipped_bytes": self.skipped_bytes, "pruned": self.pruned, "dry_run": self.dry_run,
            **({"uploaded_keys": list(self.uploaded_keys), "pruned_keys": list(self.pruned_keys)}
               if self.dry_run else {}),
        }  # fmt: skip


# -- the plan: which objects, in which stage ------------------------------------------------------
def _stage(rel: str) -> int:
    parts = rel.split("/")
    if rel.startswith(("debian/pool/", "python/files/")):
        return 0
    if len(parts) == 4 and parts[:2] == ["debian", "dists"]:
        if parts[3] in ("Release", "Release.gpg"):
            return 4
        if parts[3] == "InRelease":
            return 5
    if rel in ("python/simple/index.html", "python/simple/index.json"):
        return 3
    if rel == SUMS:
        return 6
    return 2


def _content_type(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    return _CONTENT_TYPES.get(os.path.splitext(name)[1], "text/plain; charset=utf-8")


def _hash_file(path: Path) -> tuple[str, str, int]:
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), md5.hexdigest(), size


def _read_sums(out: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for n, line in enumerate((out / SUMS).read_text("utf-8").splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m:
            raise InputError(f"line {n} is not '<sha256>  <path>'", where=str(out / SUMS))
        sums[m.group(2)] = m.group(1)
    return sums


def _release_sha256(text: str, where: str) -> list[tuple[str, str]]:
    """The (digest, path) pairs of a Release file's SHA256 field."""
    from repos.deb822 import read_stanzas, value_lines

    release = next(read_stanzas(text, where, comments=False), None)
    out: list[tuple[str, str]] = []
    for entry in value_lines(release.get("SHA256", "") if release is not None else ""):
        parts = entry.split()
        if len(parts) == 3:
            out.append((parts[0], parts[2]))
    return out


def plan(out: Path, jobs: int = 4) -> list[Upload]:
    """Every object of the bundle at `out`, checked against its SHA256SUMS, with its by-hash and
    simple-page aliases, sorted by stage and key. Raises InputError for what is not a whole bundle."""
    if not out.is_dir():
        raise InputError("not a bundle directory", where=str(out))
    if not (out / SUMS).is_file():
        raise InputError(f"not a bundle directory (no {SUMS})", where=str(out))
    from bundler.build.manifest import walk_files

    sums = _read_sums(out)
    files = [rel for rel in walk_files(out) if rel != SUMS]
    if missing := sorted(set(sums) - set(files)):
        raise InputError(f"{missing[0]} is named in {SUMS} but missing", where=str(out))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:  # hashlib releases the GIL
        hashed = dict(zip(files, pool.map(lambda rel: _hash_file(out / rel), files), strict=True))
    hashed[SUMS] = _hash_file(out / SUMS)
    for rel in files:
        if sums.get(rel) != hashed[rel][0]:
            what = "is not in" if rel not in sums else "does not match"
            raise InputError(f"{rel} {what} {SUMS}", where=str(out),
                             hint="rebuild the bundle, or see `bundler verify`")  # fmt: skip

    def upload(rel: str, source: str, stage: int, cache: str | None = None) -> Upload:
        sha, md5, size = hashed[source]
        return Upload(rel, out / source, size, sha, md5, stage, _content_type(source),
                      cache or (_IMMUTABLE if stage == 0 else _MUTABLE))  # fmt: skip

    uploads = [upload(rel, rel, _stage(rel)) for rel in [*files, SUMS]]
    for rel in files:
        if rel.startswith("python/simple/") and rel.endswith("/index.html"):
            uploads.append(upload(rel.removesuffix("index.html"), rel, _stage(rel)))
        parts = rel.split("/")
        if len(parts) == 4 and parts[:2] == ["debian", "dists"] and parts[3] == "Release":
            dists = "/".join(parts[:3])
            for digest, name in _release_sha256((out / rel).read_text("utf-8", "replace"), str(out / rel)):
                source = f"{dists}/{name}"
                if source not in hashed:
                    continue  # named but not shipped (apt asks only for what it wants)
                if hashed[source][0] != digest:
                    raise InputError(f"{source} does not match its Release", where=str(out))
                alias = f"{dists}/{_dirname(name)}by-hash/SHA256/{digest}"
                uploads.append(upload(alias, source, 1, _IMMUTABLE))
    unique = {u.rel: u for u in uploads}  # two indexes with one digest are one by-hash object
    return sorted(unique.values(), key=lambda u: (u.stage, u.rel))


def _dirname(name: str) -> str:
    """"main/binary-amd64/Packages.xz" -> "main/binary-amd64/"; "Packages" -> ""."""
    return name.rsplit("/", 1)[0] + "/" if "/" in name else ""


# -- the store ------------------------------------------------------------------------------------
def make_client(
    endpoint: str | None = None,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
) -> Any:
    """A boto3 S3 client. Credentials: the arguments, else boto3's usual chain (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials, ...). With an endpoint (a non-AWS store),
    path-style addressing (`ENDPOINT/BUCKET/KEY`), which every S3-compatible server understands."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise InputError(
            "bundler publish needs boto3", hint="install it: pip install 'bundler[s3]'"
        ) from None
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
    config = Config(
        s3={"addressing_style": "path" if endpoint else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=32,
        # Only what the operation needs: every S3-compatible store accepts Content-MD5 (which we send);
        # not all accept the CRC32 trailers boto3 adds by default since 1.36.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )  # fmt: skip
    return session.client("s3", endpoint_url=endpoint, config=config)


@contextmanager
def _store_errors(target: Target, where: str) -> Iterator[None]:
    """botocore's exceptions as one line naming the endpoint and the bucket."""
    from botocore import exceptions as bx

    try:
        yield
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as e:
        raise PublishError(f"cannot reach the object store at {where} ({type(e).__name__})",
                           hint="check --endpoint and that the store is running") from None  # fmt: skip
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise PublishError("no S3 credentials",
                           hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --access-key and --secret-key"
                           ) from None  # fmt: skip
    except bx.ClientError as e:
        err = e.response.get("Error", {})
        code = str(err.get("Code", "?"))
        if code in ("NoSuchBucket", "404") and e.operation_name in ("ListObjectsV2", "HeadBucket"):
            raise PublishError(f"bucket {target.bucket!r} does not exist at {where}") from None
        message = " ".join(str(err.get("Message", "")).split())
        raise PublishError(f"{where} refused {e.operation_name} on {target}: {code} {message}".rstrip()) from None
    except bx.BotoCoreError as e:
        raise PublishError(f"{where}: {' '.join(str(e).split())}") from None


def _listing(client: Any, target: Target) -> dict[str, tuple[int, str]]:
    """{key below the prefix: (size, ETag without quotes)} of every object under the prefix."""
    found: dict[str, tuple[int, str]] = {}
    prefix = f"{target.prefix}/" if target.prefix else ""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=prefix):
        for obj in page.get("Contents", ()):
            found[obj["Key"][len(prefix):]] = (int(obj["Size"]), str(obj.get("ETag", "")).strip('"'))
    return found


def _unchanged(client: Any, target: Target, u: Upload, remote: tuple[int, str] | None) -> bool:
    if remote is None or remote[0] != u.size:
        return False
    if "-" not in remote[1]:
        return remote[1] == u.md5
    head = client.head_object(Bucket=target.bucket, Key=target.key(u.rel))  # a multipart upload
    return bool(head.get("Metadata", {}).get("sha256") == u.sha256)


def _put(client: Any, target: Target, u: Upload) -> None:
    extra = {"ContentType": u.content_type, "CacheControl": u.cache_control, "Metadata": {"sha256": u.sha256}}
    if u.size > SINGLE_PUT_LIMIT:
        from boto3.s3.transfer import TransferConfig

        client.upload_file(str(u.path), target.bucket, target.key(u.rel), ExtraArgs=extra,
                           Config=TransferConfig(multipart_threshold=SINGLE_PUT_LIMIT,
                                                 multipart_chunksize=256 * 1024**2))  # fmt: skip
        return
    with open(u.path, "rb") as body:
        client.put_object(
            Bucket=target.bucket, Key=target.key(u.rel), Body=body,
            ContentMD5=base64.b64encode(bytes.fromhex(u.md5)).decode(), **extra,
        )  # fmt: skip


@dataclass
class _Progress:
    total: int
    callback: Callable[[int, int, int], None] | None
    done: int = 0
    nbytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def step(self, size: int) -> None:
        with self.lock:
            self.done += 1
            self.nbytes += size
            if self.callback is not None:
                self.callback(self.done, self.total, self.nbytes)


def publish_bundle(
    out: Path,
    target_url: str,
    *,
    endpoint: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
    prune: bool = False,
    dry_run: bool = False,
    jobs: int = 8,
    client: Any = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> PublishReport:
    """Publish the bundle at `out` to `target_url` (see the module docstring for the order).

    `client`: a boto3 S3 client to use instead of `make_client(endpoint, ...)`. `progress(done, total,
    bytes)` is called after each object that is uploaded or skipped. Raises InputError for a bundle
    that is not whole, PublishError when the store cannot be used.
    """
    target = parse_target(target_url)
    if prune and not target.prefix:
        # Pruning deletes every object under the prefix that this release does not name: with no
        # prefix that is the whole bucket, which is never what one bundle should decide.
        raise InputError(f"--prune needs a prefix: s3://{target.bucket}/PREFIX")
    uploads = plan(Path(out), jobs=min(jobs, 4))
    if client is None:
        client = make_client(endpoint, access_key=access_key, secret_key=secret_key, region=region)
    where = str(endpoint or getattr(getattr(client, "meta", None), "endpoint_url", None) or "the object store")
    with _store_errors(target, where):
        remote = _listing(client, target)
        todo: list[Upload] = []
        skipped: list[Upload] = []
        for u in uploads:
            (skipped if _unchanged(client, target, u, remote.get(u.rel)) else todo).append(u)
        meter = _Progress(len(uploads), progress)
        for _ in skipped:
            meter.step(0)

        def put(u: Upload) -> str:
            _put(client, target, u)
            meter.step(u.size)
            return u.rel

        done: list[str] = []
        if not dry_run:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                for stage in range(len(STAGES)):
                    # The stage is whole before the next one starts (map re-raises the first failure).
                    done.extend(pool.map(put, [u for u in todo if u.stage == stage]))
        else:
            done = [u.rel for u in todo]
        wanted = {u.rel for u in uploads}
        stale = sorted(rel for rel in remote if rel not in wanted) if prune else []
        if stale and not dry_run:
            for i in range(0, len(stale), 1000):  # DeleteObjects takes at most 1000 keys
                batch_keys = [{"Key": target.key(rel)} for rel in stale[i : i + 1000]]
                answer = client.delete_objects(Bucket=target.bucket, Delete={"Objects": batch_keys, "Quiet": True})
                if answer.get("Errors"):
                    first = answer["Errors"][0]
                    raise PublishError(f"{where} refused to delete {first.get('Key')}: {first.get('Code')}")
    return PublishReport(
        target=str(target), objects=len(uploads), uploaded=len(todo), uploaded_bytes=sum(u.size for u in todo),
        skipped=len(skipped), skipped_bytes=sum(u.size for u in skipped), pruned=len(stale), dry_run=dry_run,
        uploaded_keys=tuple(done), pruned_keys=tuple(stale),
    )  # fmt: skip
