"""The index cache: verified Release files and compact Packages indexes, keyed by the Release's SHA256.

A Release's SHA256 pins every index it lists (wiki.debian.org/DebianRepository/Format), so a compact
index stored under `<cache>/deb/indexes/<release sha256>/<path>.idx` never goes stale: a second load of
an unchanged repository fetches only the (In)Release, and `offline=True` not even that — the last
Release fetched for each "<uri> <suite>" is kept under `<cache>/deb/releases/`.

The compact index of one Packages file keeps, per package name, its stanzas trimmed to the fields the
solver reads (`packages.SOLVER_FIELDS`), plus the Provides map (provided name -> package names) and the
base-system names (Essential: yes / Priority: required). On disk it is a small zstandard frame with the
name table, followed by the stanzas in zstandard frames of ~64 KiB each, so opening it costs a few
milliseconds and a lookup decompresses only the chunk that holds the name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import tempfile
import threading
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from ..errors import ParseError
from .packages import SOLVER_FIELDS, parse_stanza

FORMAT = b"bundler-deb-index/1\n"
_CHUNK = 64 * 1024

# Lines are kept when their first four bytes start a solver field (or the line is blank). A few other
# fields share a prefix (e.g. Package-Type); they are kept and ignored, which is harmless.
_KEEP_PREFIXES = frozenset({f.encode()[:4] for f in SOLVER_FIELDS} | {b""})
_BAD_LINE = re.compile(rb"\n[^ \t#\n:][^:\n]*(?:\n|$)")


@dataclass
class CompactIndex:
    """Trimmed stanzas of one Packages file, by package name. Thread-safe for readers."""

    names: list[str]  # sorted, unique
    where: list[tuple[int, int, int]]  # per name: (chunk, start, end) in the decompressed chunk
    provides: dict[str, tuple[str, ...]]
    base: tuple[str, ...]
    chunks: list[bytes]  # zstandard frames (or, freshly built, raw chunk text)
    compressed: bool
    _position: dict[str, int] = field(default_factory=dict, repr=False)
    _plain: dict[int, bytes] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._position = dict(zip(self.names, range(len(self.names)), strict=True))

    def __contains__(self, name: str) -> bool:
        return name in self._position

    def __len__(self) -> int:
        return len(self.names)

    def stanzas(self, name: str) -> list[str]:
        """The trimmed stanzas (text) of every version of `name` in this index; [] if none."""
        i = self._position.get(name)
        if i is None:
            return []
        chunk, start, end = self.where[i]
        text = self._chunk(chunk)[start:end].decode("utf-8")
        return [s for s in text.split("\n\n") if s]

    def _chunk(self, n: int) -> bytes:
        if not self.compressed:
            return self.chunks[n]
        plain = self._plain.get(n)
        if plain is None:
            plain = zstandard.ZstdDecompressor().decompress(self.chunks[n])
            with self._lock:
                self._plain[n] = plain
        return plain

    # -- serialisation -------------------------------------------------------------------------

    def to_bytes(self, level: int = 3) -> bytes:
        cctx = zstandard.ZstdCompressor(level=level)
        frames = [cctx.compress(c) for c in self.chunks] if not self.compressed else self.chunks
        pos = array("I")
        for triple in self.where:
            pos.extend(triple)
        header = {
            "names": len(self.names),
            "provides": {k: list(v) for k, v in self.provides.items()},
            "base": list(self.base),
            "frames": [len(f) for f in frames],
        }
        table = b"\n".join(
            [json.dumps(header, separators=(",", ":"), sort_keys=True).encode(), "\n".join(self.names).encode()]
        )
        table_frame = cctx.compress(struct.pack("<I", len(table)) + table + pos.tobytes())
        return FORMAT + struct.pack("<Q", len(table_frame)) + table_frame + b"".join(frames)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> CompactIndex:
        try:
            if not data.startswith(FORMAT):
                raise ValueError("not a compact index")
            off = len(FORMAT)
            (table_len,) = struct.unpack_from("<Q", data, off)
            off += 8
            table = zstandard.ZstdDecompressor().decompress(data[off : off + table_len])
            off += table_len
            (json_and_names,) = struct.unpack_from("<I", table, 0)
            head, _, names_blob = table[4 : 4 + json_and_names].partition(b"\n")
            header = json.loads(head)
            names = names_blob.decode("utf-8").split("\n") if header["names"] else []
            pos = array("I")
            pos.frombytes(table[4 + json_and_names :])
            it = iter(pos)
            positions = list(zip(it, it, it, strict=True))
            chunks = []
            for n in header["frames"]:
                chunks.append(data[off : off + n])
                off += n
            if len(names) != header["names"] or len(positions) != len(names) or off != len(data):
                raise ValueError("inconsistent sizes")
        except (ValueError, KeyError, struct.error, zstandard.ZstdError) as e:
            raise ParseError(f"corrupt cache file ({e}); delete it to refetch", where=where) from None
        provides = {k: tuple(v) for k, v in header["provides"].items()}
        return cls(names, positions, provides, tuple(header["base"]), chunks, True)


def build_compact(data: bytes, where: str) -> CompactIndex:
    """Build the compact index of a decompressed Packages file. Malformed input raises ParseError(where).

    The fast path works on whole-buffer byte operations (join continuation lines, split, filter by
    field prefix), which profiling showed to be ~4x faster than parsing every field of every stanza.
    """
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise ParseError("NUL byte in a Packages file", where=f"{where}:{line}")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    joined = data.replace(b"\n ", b"\x00 ").replace(b"\n\t", b"\x00\t")
    lines = joined.split(b"\n")
    kept = [line for line in lines if line[:4] in _KEEP_PREFIXES]
    _check_lines(data, where)
    text = b"\n".join(kept).replace(b"\x00", b"\n")
    entries: list[tuple[bytes, int, bytes]] = []
    provides: dict[str, set[str]] = {}
    base: set[str] = set()
    for n, stanza in enumerate(text.split(b"\n\n")):
        if not stanza.strip(b"\n"):
            continue
        stanza = stanza.strip(b"\n")
        if stanza[:9] == b"Package: ":
            nl = stanza.find(b"\n")
            name = (stanza[9:nl] if nl >= 0 else stanza[9:]).strip()
        else:
            fields = parse_stanza(stanza.decode("utf-8", errors="replace"), where)
            if "Package" not in fields:
                raise ParseError(f"stanza without a Package field: {stanza[:60]!r}", where=where)
            name = fields["Package"].encode()
        if b"\nProvides:" in stanza:
            for provided in _provided_names(stanza, where):
                provides.setdefault(provided, set()).add(name.decode())
        if b"\nEssential: yes" in stanza or b"\nPriority: required" in stanza:
            base.add(name.decode())
        entries.append((name, n, stanza))
    entries.sort(key=lambda e: (e[0], e[1]))
    names: list[str] = []
    positions: list[tuple[int, int, int]] = []
    chunks: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for name, _, stanza in entries:
        if names and names[-1] == name.decode():
            c, start, _ = positions[-1]
            current.append(stanza + b"\n\n")
            size += len(stanza) + 2
            positions[-1] = (c, start, size)
            continue
        if size >= _CHUNK:
            chunks.append(b"".join(current))
            current, size = [], 0
        names.append(name.decode())
        current.append(stanza + b"\n\n")
        positions.append((len(chunks), size, size + len(stanza) + 2))
        size += len(stanza) + 2
    if current:
        chunks.append(b"".join(current))
    prov = {k: tuple(sorted(v)) for k, v in sorted(provides.items())}
    return CompactIndex(names, positions, prov, tuple(sorted(base)), chunks, compressed=False)


def _check_lines(data: bytes, where: str) -> None:
    # Every line that is not blank is "Field: value", a continuation (leading space) or a comment. One
    # regex search for a line without a colon is the cheapest full check (profiled: ~5x cheaper than a
    # findall of the field names); the slow scan below only runs to name the line at fault.
    nl = data.find(b"\n")
    first = data if nl < 0 else data[:nl]
    first_ok = first[:1] not in (b" ", b"\t") and (not first.strip() or first[:1] == b"#" or b":" in first)
    if first_ok and _BAD_LINE.search(data) is None:
        return
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if lineno == 1 and line[:1] in (b" ", b"\t"):
            raise ParseError("continuation line outside a field", where=f"{where}:{lineno}")
        if line.strip() and line[:1] not in b" \t#" and b":" not in line:
            raise ParseError(
                f"malformed line {line.decode(errors='replace')[:60]!r} (expected 'Field: value')",
                where=f"{where}:{lineno}",
            )


def _provided_names(stanza: bytes, where: str) -> list[str]:
    i = stanza.find(b"\nProvides:") + 10
    j = stanza.find(b"\n", i)
    value = stanza[i:] if j < 0 else stanza[i:j]
    if j >= 0 and stanza[j + 1 : j + 2] in (b" ", b"\t"):
        value = parse_stanza(stanza.decode("utf-8", errors="replace"), where).get("Provides", "").encode()
    out = []
    for part in value.split(b","):
        nm = part.split(b"(")[0].split(b"[")[0].split(b":")[0].strip()
        if nm:
            out.append(nm.decode())
    return out


class Cache:
    """The on-disk cache under `root` (bundler picks it: --cache-dir, $BUNDLER_CACHE_DIR, XDG)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "deb"

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def index_path(self, release_sha256: str, index_path: str) -> Path:
        safe = index_path.strip("/").replace("/", "_") or "Packages"
        return self.root / "indexes" / release_sha256 / f"{safe}.idx"

    def read_index(self, release_sha256: str, index_path: str) -> CompactIndex | None:
        path = self.index_path(release_sha256, index_path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return CompactIndex.from_bytes(data, str(path))

    def write_index(self, release_sha256: str, index_path: str, index: CompactIndex) -> None:
        _atomic_write(self.index_path(release_sha256, index_path), index.to_bytes())

    def release_dir(self, url: str) -> Path:
        return self.root / "releases" / self._key(url)

    def read_release(self, url: str) -> dict[str, bytes]:
        """The files last stored for "<uri> <suite>": a subset of InRelease, Release, Release.gpg."""
        d = self.release_dir(url)
        out = {}
        for name in ("InRelease", "Release", "Release.gpg"):
            p = d / name
            if p.is_file():
                out[name] = p.read_bytes()
        return out

    def write_release(self, url: str, files: dict[str, bytes]) -> None:
        d = self.release_dir(url)
        d.mkdir(parents=True, exist_ok=True)
        for name in ("InRelease", "Release", "Release.gpg"):
            if name in files:
                _atomic_write(d / name, files[name])
            else:
                (d / name).unlink(missing_ok=True)
        _atomic_write(d / "url", url.encode())


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
