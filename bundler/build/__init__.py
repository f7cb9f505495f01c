"""`bundler build`: from a lock to an offline bundle (DESIGN.md, "The bundle").

    build_bundle(lock, out, archive=..., iso=..., sign_key=..., cache_dir=...) -> BuildReport

The steps, one module each: download.py (fetch and verify every artifact), debfile.py + debrepo.py
(pool, Packages, Release), signing.py (InRelease, Release.gpg, debian/bundle.gpg), pyindex.py (PEP 503/691/658),
manifest.py (SHA256SUMS, README), tree.py (modes and mtimes), archive.py (.tar.zst), iso.py (ISO 9660).

Atomic: the bundle is assembled in `OUT.tmp-XXXX` beside OUT and renamed into place only when
everything succeeded, and the archive and ISO are written to hidden temporary names next to their
destinations and renamed last; a failed or interrupted build leaves neither OUT nor half an archive.

Reproducible: the timestamps of everything are one epoch: the `epoch` argument, else the lock's epoch,
else `SOURCE_DATE_EPOCH`, else DEFAULT_EPOCH (1980-01-01T00:00:00Z, the earliest date every format
here, zip included, can hold). Nothing else about the machine or the moment reaches the output.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bundler.lock import Lock, LockedPackage, dumps
from solver.errors import InputError

from . import debrepo, debsrc, manifest, pyindex, tree
from .download import Artifact, Fetcher, Meter, make_meter

DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z

_SAFE_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+~!%=-]*$")
_SAFE_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+~-]*$")


@dataclass(frozen=True, slots=True)
class BuildReport:
    out: Path
    epoch: int
    files: int  # files in the bundle, SHA256SUMS included
    debs: int
    python_files: int
    artifact_bytes: int
    sha256sums: str  # digest of OUT/SHA256SUMS: one value that pins the whole tree
    archive: Path | None = None
    iso: Path | None = None
    signed: bool = False
    source_packages: int = 0


@dataclass(frozen=True, slots=True)
class Overlay:
    """A bundle of part of a lock (a hotfix bundle, see bundler/delta.py): only the artifacts of `ship`
    are placed and indexed, the Debian indexes are written for `suite`, `readme` replaces the README,
    and `files` ((relative path, bytes), e.g. the base lock) are added. bundle.lock is the whole lock.
    `name` names the archive's top directory and the ISO's volume, so that the overlay never unpacks
    over the full bundle it completes."""

    ship: Collection[LockedPackage]
    suite: str
    readme: str
    files: tuple[tuple[str, bytes], ...] = ()
    description: str = ""
    name: str = ""


def resolve_epoch(lock: Lock, epoch: int | None = None) -> int:
    """The one time source of a build (see the module docstring)."""
    if epoch is not None:
        return int(epoch)
    if lock.epoch is not None:
        return int(lock.epoch)
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env:
        if not env.isdigit():
            raise InputError(f"SOURCE_DATE_EPOCH must be a number of seconds, not {env!r}")
        return int(env)
    return DEFAULT_EPOCH


def _target_archs(lock: Lock) -> list[str]:
    for source in (
        lock.extra,
        lock.extra.get("debian") if isinstance(lock.extra.get("debian"), dict) else {},
    ):
        value = source.get("architectures") if isinstance(source, dict) else None
        if isinstance(value, list | tuple):
            return [str(a) for a in value]
    return []


def _check(p: LockedPackage) -> None:
    where = f"bundle.lock: {p.id}"
    if p.ecosystem == "deb":
        base = p.filename.rsplit("/", 1)[-1]
        if not _SAFE_FILE.match(base) or not p.repository_uri:
            raise InputError(f"bad filename or repository {p.filename!r}", where=where)
        if p.source and not _SAFE_WORD.match(p.source):
            raise InputError(f"bad source package name {p.source!r}", where=where)
        if any(not _SAFE_WORD.match(c) for c in p.component.split("/")):
            raise InputError(f"bad component {p.component!r}", where=where)
        if not _SAFE_WORD.match(p.architecture or ""):
            raise InputError(f"bad architecture {p.architecture!r}", where=where)
    elif p.ecosystem == "python":
        if not _SAFE_FILE.match(p.filename) or not p.url:
            raise InputError(f"bad filename or url {p.filename!r}", where=where)
    else:
        raise InputError(f"unknown ecosystem {p.ecosystem!r}", where=where)
    if not re.fullmatch(r"[0-9a-f]{64}", p.sha256) or p.size < 0:
        raise InputError("bad sha256 or size", where=where)


def _deb_url(p: LockedPackage) -> str:
    return p.repository_uri.rstrip("/") + "/" + p.filename.lstrip("/")


def _temp_sibling(dest: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.tmp-", dir=dest.parent)
    os.close(fd)
    return Path(name)


def _replace_dir(staging: Path, out: Path) -> None:
    if not out.exists() and not out.is_symlink():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, old / "x")
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old / "x", out)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def build_bundle(
    lock: Lock,
    out: Path,
    *,
    archive: Path | None = None,
    iso: Path | None = None,
    sign_key: str | None = None,
    cache_dir: Path | None = None,
    epoch: int | None = None,
    progress: object = None,
    overlay: Overlay | None = None,
) -> BuildReport:
    """Build the bundle of `lock` at `out` (and optionally a .tar.zst and an ISO of it).

    `cache_dir`: a content-addressed artifact store read first and filled with what is downloaded.
    `progress`: None/False (silent), True (a display of its own on a terminal), the command's
    bundler.progress.Display, or a `download.Meter`. `overlay`: build only part of the lock (see Overlay).
    Raises InputError (naming the file) when an artifact does not match the lock.
    """
    out = Path(os.path.abspath(out))
    when = resolve_epoch(lock, epoch)
    for p in lock.packages:
        _check(p)
    debsrc.check_lock(lock)
    wanted = None if overlay is None else set(overlay.ship)
    shipped = [p for p in lock.packages if wanted is None or p in wanted]
    suite = lock.suite if overlay is None else overlay.suite
    debs = sorted((p for p in shipped if p.ecosystem == "deb"), key=lambda p: debrepo.pool_path(p))
    pys = sorted((p for p in shipped if p.ecosystem != "deb"), key=lambda p: p.filename)
    # An overlay carries the source packages of the binaries it ships, the full bundle all of them.
    of_debs = {(p.source or p.name, p.source_version or p.version) for p in debs}
    sources = sorted(
        (s for s in lock.sources if overlay is None or (s.name, s.version) in of_debs), key=lambda s: (s.name, s.version)
    )
    if (debs or sources) and not _SAFE_WORD.match(suite or ""):
        raise InputError(f"bad suite name {suite!r}", where="bundle.lock")

    placed: dict[str, LockedPackage] = {}
    artifacts: list[Artifact] = []
    deb_rel: dict[str, LockedPackage] = {}
    url_of = {**{id(p): _deb_url(p) for p in debs}, **{id(p): p.url for p in pys}}
    for p in debs + pys:
        rel = f"debian/{debrepo.pool_path(p)}" if p.ecosystem == "deb" else f"python/files/{p.filename}"
        if rel in placed:
            if placed[rel].sha256 != p.sha256:
                raise InputError(f"two different files would be {rel}", where=f"bundle.lock: {p.id}")
            continue
        placed[rel] = p
        if p.ecosystem == "deb":
            deb_rel[rel] = p
        artifacts.append(Artifact(url_of[id(p)], p.size, p.sha256, Path(rel), want_md5=p.ecosystem == "deb"))
    src_rel: dict[str, str] = {}  # bundle path -> sha256 of the source packages' files
    for s in sources:
        for f in s.files:
            rel = f"debian/{debsrc.directory(s)}/{f.name}"
            if rel in src_rel or rel in placed:
                if src_rel.get(rel) != f.sha256:
                    raise InputError(f"two different files would be {rel}", where=f"bundle.lock: {s.id}")
                continue
            src_rel[rel] = f.sha256
            artifacts.append(Artifact(debsrc.url(s, f.name), f.size, f.sha256, Path(rel), want_md5=True))

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-", dir=out.parent))
    store = Path(cache_dir) if cache_dir is not None else out.parent / f".{out.name}.downloads"
    temps: list[Path] = []
    from bundler.progress import Display

    # One display for the download and the archive and ISO steps (the command's, when it has one).
    display = progress if isinstance(progress, Display) else Display(None if progress is True else False)
    meter = make_meter(progress if isinstance(progress, Meter) else display)
    try:
        display.__enter__()
        fetcher = Fetcher(store, keep=cache_dir is not None, meter=meter)
        fetcher.fetch_all(Artifact(a.url, a.size, a.sha256, staging / a.dest, a.want_md5) for a in artifacts)
        known = {rel: p.sha256 for rel, p in placed.items()}

        known.update(src_rel)
        staged_sources = []
        for s in sources:
            dsc = debsrc.dsc_of(s)
            fields = debsrc.read_dsc(staging / "debian" / debsrc.directory(s) / dsc, debsrc.url(s, dsc))
            debsrc.check_dsc(s, fields, debsrc.url(s, dsc))  # blame the upstream .dsc
            staged_sources.append(debsrc.StagedSource(s, fields, fetcher.md5))

        components: list[str] = []
        sdists: list[str] = []
        fingerprint: str | None = None
        if debs or staged_sources:
            root = staging / "debian"
            if sign_key:
                from .signing import public_key

                fingerprint, key_data = public_key(sign_key)
                (root / "bundle.gpg").write_bytes(key_data)
            pool = [
                debrepo.PoolFile(p, staging / rel, rel.removeprefix("debian/"), fetcher.md5[p.sha256])
                for rel, p in sorted(deb_rel.items())
            ]
            written = debrepo.write_repository(
                root, suite, pool, epoch=when, origin=lock.name, architectures=_target_archs(lock),
                description=overlay.description if overlay else f"offline bundle {lock.name}",
                sources=debsrc.sources_indexes(staged_sources) or None,
                signed_by=fingerprint,
            )  # fmt: skip
            known.update({f"debian/{k}": v for k, v in written.items()})
            components = sorted({p.component for p in debs} | {s.component for s in sources})
            if sign_key:
                from .signing import sign_release

                sign_release(root / "dists" / suite / "Release", sign_key, when)
        if pys:
            files_dir = staging / "python" / "files"
            py_files = [p for rel, p in sorted(placed.items()) if rel.startswith("python/")]
            meta = pyindex.write_metadata(files_dir, py_files)
            known.update({f"python/files/{name}.metadata": digest for name, digest in meta.items()})
            py_version = str(lock.extra.get("python-version") or "3.11")
            py_platforms = [str(p) for p in lock.extra.get("platforms") or ()]
            written = pyindex.write_index(
                staging / "python",
                [pyindex.IndexFile(p, meta.get(p.filename)) for p in py_files],
                python_version=py_version,
                platforms=py_platforms,
            )
            sdists = [
                b.describe() for b in pyindex.sdist_builds(files_dir, py_files, py_version, py_platforms)
            ]
            known.update({f"python/{k}": v for k, v in written.items()})

        (staging / "bundle.lock").write_text(dumps(lock), "utf-8")
        for rel, data in overlay.files if overlay else ():
            (staging / rel).write_bytes(data)
        if debs:
            from .iso import DISK_INFO, disk_info

            (staging / DISK_INFO).parent.mkdir()
            label = overlay.name if overlay is not None and overlay.name else lock.name
            (staging / DISK_INFO).write_text(disk_info(label, suite, when), "utf-8")
        roots_deb = sorted({r.split(":")[1] for r in lock.roots if r.startswith("deb:")})
        roots_py = sorted({r.split(":", 1)[1] for r in lock.roots if r.startswith("python:")})
        (staging / "README").write_text(
            overlay.readme if overlay else manifest.readme(
                lock, components=components, has_debian=bool(debs), has_python=bool(pys),
                signed=bool(sign_key and debs), roots_deb=roots_deb, roots_py=roots_py,
                has_sources=bool(sources),
                sdists=sdists,
                fingerprint=fingerprint,
            ),
            "utf-8",
        )  # fmt: skip
        sums = manifest.write_sums(staging, known)
        tree.normalize(staging, when)
        nfiles = len(manifest.walk_files(staging))

        label = overlay.name if overlay and overlay.name else lock.name
        top = re.sub(r"[^A-Za-z0-9._+-]+", "-", label).strip("-.") or "bundle"
        if archive is not None:
            archive = Path(os.path.abspath(archive))
            archive.parent.mkdir(parents=True, exist_ok=True)
            tmp = _temp_sibling(archive)
            temps.append(tmp)
            from .archive import write_archive

            step = display.task(f"writing {archive.name}")
            write_archive(staging, tmp, top, when)
            step.finish()
        if iso is not None:
            iso = Path(os.path.abspath(iso))
            iso.parent.mkdir(parents=True, exist_ok=True)
            tmp = _temp_sibling(iso)
            temps.append(tmp)
            tmp.unlink()  # xorriso wants to create it
            from .iso import write_iso

            step = display.task(f"writing {iso.name}")
            write_iso(staging, tmp, label, when)
            step.finish()

        _replace_dir(staging, out)
        for tmp, dest in zip(temps, [d for d in (archive, iso) if d is not None], strict=True):
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        temps.clear()
        if cache_dir is None:
            shutil.rmtree(store, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        display.__exit__(None, None, None)
    return BuildReport(
        out=out, epoch=when, files=nfiles, debs=len(deb_rel), python_files=len(pys),
        artifact_bytes=sum(p.size for p in placed.values()) + sum(f.size for s in sources for f in s.files),
        sha256sums=sums,
        archive=archive, iso=iso, signed=bool(sign_key and debs), source_packages=len(sources),
    )  # fmt: skip
