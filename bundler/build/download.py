"""Fetch the artifacts of a lock, verified, into the bundle being assembled (DESIGN.md, "The bundle").

Every file is checked against the lock's size and sha256 *before* it is placed in the bundle: a
corrupt file is never written where the bundle is staged. Files come from a local artifact store
(`--cache-dir DIR`: `DIR/artifacts/sha256/ab/abcdef…`, content-addressed, the one `solve --bundle`
fills) when present there, else from their repository over HTTP(S) (httpx) or `file://`. Downloads
land as `<sha256>.part` in the store first; an interrupted or truncated download is continued with a
`Range: bytes=N-` request on the next attempt or the next run, and a resumed file whose digest is wrong is fetched again from scratch before giving up.

The commands always pass the store; a caller that passes none gets a transient sibling directory of
the output that the build removes on success, so that an interrupted build can still be resumed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from repos.http import ATTEMPTS, is_transient, make_client, pauses  # isort: skip  (first: repos/http.py loads httpx)

import httpx  # isort: skip
from solver.errors import InputError

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file to place in the bundle: where it comes from, what it must be, where it goes."""

    url: str
    size: int
    sha256: str
    dest: Path
    want_md5: bool = False  # Debian's Packages lists MD5sum too: computed in the same pass

    @property
    def name(self) -> str:
        return self.dest.name


class Meter:
    """Progress sink: bytes placed and files finished. The base class shows nothing."""

    def start(self, total_bytes: int, total_files: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def file_done(self) -> None:
        pass

    def stop(self) -> None:
        pass


class DisplayMeter(Meter):
    """The download as a line of the process's display (bundler/progress.py): bytes, labelled as
    bytes, and the files finished in its text."""

    def __init__(self, display: Any) -> None:
        self.display = display
        self._own = display.rich_progress is None  # a build run on its own opens the display itself

    def start(self, total_bytes: int, total_files: int) -> None:
        if self._own:
            self.display.__enter__()
        self._task = self.display.task(f"artifacts 0/{total_files} files", total=total_bytes, unit="bytes")
        self._done, self._nfiles = 0, total_files

    def advance(self, nbytes: int) -> None:
        self._task.advance(nbytes)

    def file_done(self) -> None:
        self._done += 1
        self._task.update(description=f"artifacts {self._done}/{self._nfiles} files")

    def stop(self) -> None:
        self._task.finish()
        if self._own:
            self.display.__exit__(None, None, None)


def make_meter(progress: object) -> Meter:
    """`progress`: None/False (silent), True (a display of its own on a terminal), a
    bundler.progress.Display, or a Meter."""
    from bundler.progress import Display

    if isinstance(progress, Meter):
        return progress
    if progress is None or progress is False:
        return Meter()
    return DisplayMeter(progress if isinstance(progress, Display) else Display())


class Hashes:
    """sha256 (always) and md5 (on request) over one pass of the bytes."""

    def __init__(self, md5: bool) -> None:
        self.sha = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False) if md5 else None

    def update(self, data: bytes | memoryview) -> None:
        self.sha.update(data)
        if self.md5 is not None:
            self.md5.update(data)

    def sha256(self) -> str:
        return self.sha.hexdigest()


class _Cancelled(Exception):
    pass


class _Transient(Exception):
    """A failure worth another attempt (repos.http.is_transient: 429, most 5xx, ...)."""


class Fetcher:
    """Places artifacts into the staged bundle, from `store` or from their URLs, concurrently."""

    def __init__(
        self,
        store: Path,
        *,
        keep: bool,
        meter: Meter | None = None,
        workers: int = 8,
        client: httpx.Client | None = None,
    ) -> None:
        self.store = store
        self.keep = keep  # True: `store` is the user's cache (copy out of it); False: transient (move)
        self.meter = meter or Meter()
        self.workers = workers
        self._client = client
        self._own_client = client is None
        self._stop = threading.Event()
        self._client_lock = threading.Lock()
        self.md5: dict[str, str] = {}  # sha256 -> md5 of artifacts with want_md5

    # -- paths ------------------------------------------------------------------------------------
    def stored(self, sha256: str) -> Path:
        return self.store / "sha256" / sha256[:2] / sha256

    def client(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                # identity: the bytes on the wire are the artifact, never a transfer-encoded variant.
                self._client = make_client(max_connections=self.workers, identity=True)
            return self._client

    # -- the whole job ----------------------------------------------------------------------------
    def fetch_all(self, artifacts: Iterable[Artifact]) -> None:
        """Place every artifact; raises the first InputError after stopping the other workers."""
        groups: dict[str, list[Artifact]] = {}
        for a in artifacts:
            groups.setdefault(a.sha256, []).append(a)
        jobs = sorted(groups.values(), key=lambda g: -g[0].size)  # largest first: better packing
        self.meter.start(sum(g[0].size for g in jobs), sum(len(g) for g in jobs))
        pool = ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="fetch")
        try:
            futures = [pool.submit(self._place_group, g) for g in jobs]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            errors = [f.exception() for f in futures if f.done() and f.exception() is not None]
            if errors:
                self._stop.set()
                for f in futures:
                    f.cancel()
                wait(futures)
                real = [e for e in errors if not isinstance(e, _Cancelled)]
                raise (real or errors)[0]  # type: ignore[misc]
        except BaseException:
            self._stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.meter.stop()
            if self._own_client and self._client is not None:
                self._client.close()

    def _place_group(self, group: list[Artifact]) -> None:
        first = group[0]
        source, hashes = self._obtain(first)
        if hashes.md5 is not None:
            self.md5[first.sha256] = hashes.md5.hexdigest()
        for a in group[1:]:
            a.dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, a.dest)
            self.meter.file_done()
        if source != first.dest:
            first.dest.parent.mkdir(parents=True, exist_ok=True)
            if self.keep:
                shutil.copyfile(source, first.dest)
            else:
                _move(source, first.dest)
        self.meter.file_done()

    def _obtain(self, a: Artifact) -> tuple[Path, Hashes]:
        """A verified copy of `a`: `a.dest` itself (copied from the cache) or the stored file."""
        cached = self.stored(a.sha256)
        part = cached.with_name(cached.name + ".part")
        try:
            st = cached.stat()
        except FileNotFoundError:
            st = None
        if st is not None:
            if st.st_size == a.size:
                if self.keep:
                    hashes = self._copy_verified(cached, a)
                    if hashes is not None:
                        return a.dest, hashes
                else:
                    hashes = _digest_file(cached, a.want_md5, self._stop)
                    if hashes.sha256() == a.sha256:
                        self.meter.advance(a.size)
                        return cached, hashes
                cached.unlink(missing_ok=True)  # wrong content under this digest: drop it
            elif st.st_size < a.size and (not part.exists() or part.stat().st_size < st.st_size):
                os.replace(cached, part)  # a short copy: continue it rather than start over
            else:
                cached.unlink(missing_ok=True)
        hashes = self._download(a, part)
        os.replace(part, cached)
        return cached, hashes

    def _copy_verified(self, src: Path, a: Artifact) -> Hashes | None:
        a.dest.parent.mkdir(parents=True, exist_ok=True)
        h = Hashes(a.want_md5)
        n = 0
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        with open(src, "rb") as r, open(a.dest, "wb") as w:
            while k := r.readinto(buf):
                if self._stop.is_set():
                    raise _Cancelled()
                h.update(view[:k])
                w.write(view[:k])
                n += k
                self.meter.advance(k)
        if n == a.size and h.sha256() == a.sha256:
            return h
        self.meter.advance(-n)
        a.dest.unlink(missing_ok=True)
        return None

    # -- downloading ------------------------------------------------------------------------------
    def _download(self, a: Artifact, part: Path) -> Hashes:
        part.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._download_attempts(a, part)
        except BaseException:
            if part.exists() and part.stat().st_size == 0:
                part.unlink(missing_ok=True)  # keep partial files only when they hold something
            raise

    def _download_attempts(self, a: Artifact, part: Path) -> Hashes:
        fresh_retry_done = False
        last_problem = ""
        for _last in pauses():  # repos/http.py's attempts and backoff; each attempt resumes the .part
            if self._stop.is_set():
                raise _Cancelled()
            have = part.stat().st_size if part.exists() else 0
            if have > a.size:
                part.unlink()
                have = 0
            resumed = have > 0
            h = Hashes(a.want_md5)
            if have:
                with open(part, "rb") as f:
                    while chunk := f.read(CHUNK):
                        h.update(chunk)
                self.meter.advance(have)
            try:
                # A complete .part (interrupted just before its rename) needs no request at all.
                got, h = (have, h) if have == a.size else self._fetch_into(a, part, have, h)
            except (httpx.TransportError, OSError, _Transient) as e:
                self.meter.advance(-(part.stat().st_size if part.exists() else 0))
                last_problem = f"{type(e).__name__}: {e}"
                continue
            if got < a.size:
                self.meter.advance(-got)
                last_problem = f"truncated: got {got} of {a.size} bytes"
                continue
            if got > a.size:
                self.meter.advance(-got)
                part.unlink(missing_ok=True)
                raise InputError(
                    f"{a.name}: size mismatch: the lock says {a.size} bytes, the source has more", where=a.url
                )
            digest = h.sha256()
            if digest == a.sha256:
                return h
            self.meter.advance(-got)
            part.unlink(missing_ok=True)
            if resumed and not fresh_retry_done:
                fresh_retry_done = True  # the kept prefix may be what was wrong
                last_problem = "sha256 mismatch after resuming"
                continue
            raise InputError(
                f"{a.name}: sha256 mismatch: the lock says {a.sha256}, the download is {digest}",
                where=a.url,
                hint="the repository changed since the lock was written: re-run `bundler solve`",
            )
        raise InputError(
            f"{a.name}: download failed after {ATTEMPTS} attempts ({last_problem})", where=a.url
        )

    def _fetch_into(self, a: Artifact, part: Path, have: int, h: Hashes) -> tuple[int, Hashes]:
        """Append the bytes after offset `have` to `part`; returns the file's size and digest state."""
        scheme = urlsplit(a.url).scheme
        if scheme == "file":
            src = Path(unquote(urlsplit(a.url).path))
            try:
                r = open(src, "rb")
            except FileNotFoundError:
                raise InputError(f"{a.name}: not found in its repository", where=a.url) from None
            with r, open(part, "ab") as w:
                r.seek(have)
                return have + self._pump(r.read, w, h, a.size + 1 - have), h
        if scheme not in ("http", "https"):
            raise InputError(f"{a.name}: unsupported URL scheme {scheme!r}", where=a.url)
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self.client().stream("GET", a.url, headers=headers) as resp:
            if resp.status_code == 416:
                part.unlink(missing_ok=True)  # the kept prefix does not fit the file: start over
                self.meter.advance(-have)
                return 0, h
            if is_transient(resp.status_code):
                raise _Transient(f"HTTP {resp.status_code}")
            if resp.status_code >= 400:
                raise InputError(f"{a.name}: HTTP {resp.status_code}", where=a.url)
            mode = "ab"
            if have and resp.status_code != 206:  # the server ignored the range: start over
                self.meter.advance(-have)
                have = 0
                h = Hashes(a.want_md5)
                mode = "wb"
            with open(part, mode) as w:
                it = resp.iter_bytes(CHUNK)
                return have + self._pump(lambda _n: next(it, b""), w, h, a.size + 1 - have), h

    def _pump(self, read: Callable[[int], bytes], w: IO[bytes], h: Hashes, limit: int) -> int:
        n = 0
        while n < limit:
            if self._stop.is_set():
                raise _Cancelled()
            chunk = read(min(CHUNK, limit - n))
            if not chunk:
                break
            if len(chunk) > limit - n:
                chunk = chunk[: limit - n]
            w.write(chunk)
            h.update(chunk)
            n += len(chunk)
            self.meter.advance(len(chunk))
        return n


def _move(src: Path, dest: Path) -> None:
    try:
        os.replace(src, dest)
    except OSError:
        shutil.copyfile(src, dest)
        src.unlink()


def _digest_file(path: Path, md5: bool = False, stop: threading.Event | None = None) -> Hashes:
    h = Hashes(md5)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            if stop is not None and stop.is_set():
                raise _Cancelled()
            h.update(chunk)
    return h


def sha256_file(path: Path) -> str:
    return _digest_file(path).sha256()
