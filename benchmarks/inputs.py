"""Real inputs, fetched once and cached under `benchmarks/cache/` so that reruns are offline.

A Debian index is copied as a repository would serve it (wiki.debian.org/DebianRepository/Format):
`<cache>/debian/<mirror>/dists/<suite>/{InRelease|Release}` and `.../<component>/binary-<arch>/Packages`
(uncompressed, checked against the Release's SHA256 list). The copy is itself a valid (pool-less)
repository, so every tool can read the same bytes: apt from a lists directory, libsolv and dose from
the Packages file, bundler through a `file://` source. `pool/` is filled on demand (the build case).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import re
import shutil
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

USER_AGENT = "bundler-benchmarks/0.1"


def fetch(url: str, timeout: float = 120) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def slug(uri: str) -> str:
    """A directory name for a URI: scheme dropped, other punctuation folded to '_'."""
    rest = re.sub(r"^[a-z+]+:/*", "", uri)
    return re.sub(r"[^A-Za-z0-9.-]+", "_", rest).strip("_") or "root"


@dataclass
class DebIndex:
    uri: str  # the mirror as the host's apt sources name it
    suite: str
    component: str
    arch: str
    local_root: str  # the cached copy's repository root (usable as file://)
    release_name: str  # "InRelease" or "Release"
    release_sha256: str
    date: str
    packages_sha256: str
    packages_size: int
    stanzas: int
    signed_by: str | None = None
    note: str = ""

    @property
    def release_path(self) -> Path:
        return Path(self.local_root) / "dists" / self.suite / self.release_name

    @property
    def packages_path(self) -> Path:
        return Path(self.local_root) / "dists" / self.suite / self.component / f"binary-{self.arch}" / "Packages"

    @property
    def local_uri(self) -> str:
        return Path(self.local_root).resolve().as_uri()

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def release_body(data: bytes) -> str:
    """The Release text inside an InRelease (the clearsigned part), or the Release itself."""
    text = data.decode("utf-8", errors="replace")
    if text.startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        head, _, rest = text.partition("\n\n")
        text = rest.split("\n-----BEGIN PGP SIGNATURE-----", 1)[0]
    return text


def release_sha256s(body: str) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    section = None
    for line in body.splitlines():
        if line and not line[0].isspace():
            section = line.split(":", 1)[0]
            continue
        if section == "SHA256":
            parts = line.split()
            if len(parts) == 3:
                out[parts[2]] = (parts[0], int(parts[1]))
    return out


def release_field(body: str, name: str) -> str:
    m = re.search(rf"^{name}:\s*(.*)$", body, re.M)
    return m.group(1).strip() if m else ""


_DECOMPRESS = {".xz": lzma.decompress, ".gz": gzip.decompress, ".bz2": bz2.decompress, "": lambda b: b}


def fetch_debian(
    uri: str,
    suite: str,
    cache: Path,
    component: str = "main",
    arch: str = "amd64",
    signed_by: str | None = None,
    refresh: bool = False,
    log=print,
) -> DebIndex:
    """Copy one Packages index (and its Release) into the cache, or reuse the copy already there."""
    root = (cache / "debian" / slug(uri)).resolve()
    meta = root / "dists" / suite / f"{component}_binary-{arch}.json"
    if meta.is_file() and not refresh:
        index = DebIndex(**json.loads(meta.read_text()))
        if index.packages_path.is_file():
            return index
    base = uri.rstrip("/") + f"/dists/{suite}/"
    release_name, release = "", b""
    for name in ("InRelease", "Release"):
        try:
            release = fetch(base + name)
            release_name = name
            break
        except OSError:
            continue
    if not release_name:
        raise OSError(f"no InRelease or Release under {base}")
    body = release_body(release)
    sums = release_sha256s(body)
    rel = f"{component}/binary-{arch}/Packages"
    if rel not in sums:
        raise OSError(f"{base}{release_name} does not list {rel}")
    store = root / "dists" / suite
    data = _fetch_packages(base, rel, sums, release_name, log, store)
    # Debian also lists binary-all (merged into each binary-<arch> as well): copied too, since a
    # client that reads it (bundler does) must find it in the copy. The peers read binary-<arch>.
    rel_all = f"{component}/binary-all/Packages"
    note = ""
    if rel_all in sums:
        try:
            _fetch_packages(base, rel_all, sums, release_name, log, store)
        except OSError as e:
            note = f"binary-all not copied: {e}"
    index = DebIndex(
        uri=uri.rstrip("/"),
        suite=suite,
        component=component,
        arch=arch,
        local_root=str(root),
        release_name=release_name,
        release_sha256=hashlib.sha256(release).hexdigest(),
        date=release_field(body, "Date"),
        packages_sha256=sums[rel][0],
        packages_size=len(data),
        stanzas=sum(1 for line in data.split(b"\n") if line.startswith(b"Package: ")),
        signed_by=signed_by,
        note=note,
    )
    index.release_path.write_bytes(release)
    meta.write_text(json.dumps(index.to_json(), indent=1))
    return index


def _fetch_packages(base: str, rel: str, sums: dict, release_name: str, log, store: Path) -> bytes:
    """Fetch `rel` in the first compression listed, check it (both digests), store both forms."""
    for ext in (".xz", ".gz", ".bz2", ""):
        if rel + ext not in sums:
            continue
        want = sums[rel + ext][0]
        log(f"  fetching {base}{rel}{ext}")
        # By hash first: a mirror that updates between our Release and our Packages request still
        # serves the file this Release names (Acquire-By-Hash, DebianRepository/Format).
        raw = b""
        for url in (f"{base}{rel.rsplit('/', 1)[0]}/by-hash/SHA256/{want}", base + rel + ext):
            try:
                raw = fetch(url, timeout=600)
            except OSError:
                continue
            if hashlib.sha256(raw).hexdigest() == want:
                break
        else:
            log(f"  {base}{rel}{ext}: no copy with the sha256 {release_name} lists; trying another")
            continue
        data = _DECOMPRESS[ext](raw)
        if hashlib.sha256(data).hexdigest() != sums[rel][0]:
            raise OSError(f"{base}{rel}: uncompressed sha256 differs from {release_name}")
        (store / rel).parent.mkdir(parents=True, exist_ok=True)
        (store / rel).write_bytes(data)
        if ext:
            (store / (rel + ext)).write_bytes(raw)
        return data
    raise OSError(f"{base}: no {rel} with the sha256 {release_name} lists could be fetched (mirror in sync?)")


def stanzas(path: Path) -> list[dict[str, str]]:
    """The fields the harness needs from a Packages file (name, version, arch, filename, size, sha256)."""
    out = []
    keep = {"Package", "Version", "Architecture", "Filename", "Size", "SHA256", "Essential", "Priority"}
    for block in path.read_text(errors="replace").split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line and not line[0].isspace():
                k, _, v = line.partition(":")
                if k in keep:
                    fields[k] = v.strip()
        if "Package" in fields:
            out.append(fields)
    return out


def fetch_pool_files(index: DebIndex, filenames: list[str], log=print) -> int:
    """Download pool files (checked against the index) into the cached copy; returns bytes fetched."""
    by_file = {s["Filename"]: s for s in stanzas(index.packages_path) if "Filename" in s}
    todo = []
    for f in filenames:
        dest = Path(index.local_root) / f
        if not dest.is_file() and f in by_file:
            todo.append(f)
    if todo:
        log(f"  fetching {len(todo)} .deb files from {index.uri}")

    def one(f: str) -> int:
        data = fetch(index.uri + "/" + f, timeout=600)
        if hashlib.sha256(data).hexdigest() != by_file[f]["SHA256"]:
            raise OSError(f"{f}: sha256 differs from the index")
        dest = Path(index.local_root) / f
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(dest)
        return len(data)

    with ThreadPoolExecutor(6) as ex:
        return sum(ex.map(one, todo))


# --- the Python index ---------------------------------------------------------------------------


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class PyPages:
    index: str
    pages: dict[str, str]  # normalized project name -> sha256 of its PEP 503 page
    missing: list[str]

    def to_json(self) -> dict[str, object]:
        digest = hashlib.sha256("".join(f"{k} {v}\n" for k, v in sorted(self.pages.items())).encode())
        return {
            "index": self.index,
            "page_count": len(self.pages),
            "pages_sha256": digest.hexdigest(),
            "missing": self.missing,
        }


def record_pages(index: str, names: list[str], cache: Path, offline: bool = False) -> PyPages:
    """Cache the project pages of `names` (the projects a resolution touched) and digest them."""
    root = cache / "python" / slug(index)
    root.mkdir(parents=True, exist_ok=True)
    pages: dict[str, str] = {}
    missing: list[str] = []

    def one(name: str) -> tuple[str, bytes | None]:
        dest = root / f"{name}.html"
        if dest.is_file():
            return name, dest.read_bytes()
        if offline:
            return name, None
        try:
            data = fetch(index.rstrip("/") + "/" + urllib.parse.quote(name) + "/", timeout=60)
        except OSError:
            return name, None
        dest.write_bytes(data)
        return name, data

    with ThreadPoolExecutor(8) as ex:
        for name, data in ex.map(one, sorted({normalize(n) for n in names})):
            if data is None:
                missing.append(name)
            else:
                pages[name] = hashlib.sha256(data).hexdigest()
    return PyPages(index, pages, missing)


def copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
