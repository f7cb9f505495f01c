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

import contextlib
import gc
import hashlib
import itertools
import operator
import os
import struct
import tempfile
import threading
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import zstandard

from solver.errors import InputError

from ..errors import ParseError
from ..files import write_atomic
from .packages import HAVE_APT_PKG, SOLVER_FIELDS, parse_stanza

_apt_pkg: Any
try:
    import apt_pkg as _apt_pkg
except ImportError:  # pragma: no cover - python-apt is optional
    _apt_pkg = None

FORMAT = b"bundler-deb-index/2\n"
_CHUNK = 64 * 1024

# Lines are kept when their first four bytes start a solver field (or the line is blank). A few other
# fields share a prefix (e.g. Package-Type); they are kept and ignored, which is harmless.
_KEEP_PREFIXES = frozenset({f.encode()[:4] for f in SOLVER_FIELDS} | {b""})


class CompactIndex:
    """Trimmed stanzas of one Packages file, by package name. Thread-safe for readers.

    Built from a Packages file (`build_compact`) or read from the cache (`from_bytes`). Everything but
    the name table is decoded on first use: the Provides map on the first `providers` question, a
    chunk of stanzas when a name in it is first asked for.
    """

    def __init__(
        self,
        names: list[str],
        positions: array[int],
        provides: dict[str, tuple[str, ...]] | bytes,
        base: tuple[str, ...],
        chunks: Sequence[bytes | memoryview],
        compressed: bool,
    ) -> None:
        self.names = names  # sorted, unique
        self._positions = positions  # per name: chunk, start, end (in the decompressed chunk)
        self._provides = provides  # the map, or its serialised form until first used
        self.base = base
        self._chunks = chunks
        self._compressed = compressed
        self._plain: dict[int, bytes] = {}
        self._lock = threading.Lock()
        self._index = dict(zip(names, range(len(names)), strict=True))

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self.names)

    @property
    def provides(self) -> dict[str, tuple[str, ...]]:
        """Provided name -> names of the packages providing it."""
        raw = self._provides
        if isinstance(raw, bytes):
            parsed: dict[str, tuple[str, ...]] = {}
            for line in raw.decode("utf-8").split("\n"):
                if line:
                    key, _, value = line.partition("\t")
                    parsed[key] = tuple(value.split(" "))
            with self._lock:
                self._provides = parsed
            return parsed
        return raw

    def stanzas(self, name: str) -> list[str]:
        """The trimmed stanzas (text) of every version of `name` in this index; [] if none."""
        i = self._index.get(name)
        if i is None:
            return []
        chunk, start, end = self._positions[3 * i : 3 * i + 3]
        text = self._chunk(chunk)[start:end].decode("utf-8")
        return [s for s in text.split("\n\n") if s]

    def _chunk(self, n: int) -> bytes:
        if not self._compressed:
            return bytes(self._chunks[n])
        plain = self._plain.get(n)
        if plain is None:
            plain = zstandard.ZstdDecompressor().decompress(self._chunks[n])
            with self._lock:
                self._plain[n] = plain
        return plain

    # -- serialisation -------------------------------------------------------------------------

    def to_bytes(self, level: int = 3) -> bytes:
        """The cache file: FORMAT, the table frame's length, the table frame, the chunk frames."""
        cctx = zstandard.ZstdCompressor(level=level)
        if self._compressed:
            frames = [bytes(c) for c in self._chunks]
        else:
            frames = [cctx.compress(c) for c in self._chunks]
        provides = "".join(f"{k}\t{' '.join(v)}\n" for k, v in sorted(self.provides.items())).encode()
        names = "\n".join(self.names).encode()
        base = "\n".join(self.base).encode()
        sizes = array("I", [len(f) for f in frames])
        parts = [names, base, provides, self._positions.tobytes(), sizes.tobytes()]
        head = array("I", [len(p) for p in parts])
        table = cctx.compress(head.tobytes() + b"".join(parts))
        return FORMAT + struct.pack("<Q", len(table)) + table + b"".join(frames)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> CompactIndex:
        try:
            if not data.startswith(FORMAT):
                raise ValueError("not a compact index of this version")
            off = len(FORMAT)
            (table_len,) = struct.unpack_from("<Q", data, off)
            off += 8
            table = zstandard.ZstdDecompressor().decompress(data[off : off + table_len])
            off += table_len
            head = array("I")
            head.frombytes(table[:20])
            parts, pos = [], 20
            for n in head:
                parts.append(table[pos : pos + n])
                pos += n
            names_b, base_b, provides_b, positions_b, sizes_b = parts
            names = names_b.decode("utf-8").split("\n") if names_b else []
            positions = array("I")
            positions.frombytes(positions_b)
            sizes = array("I")
            sizes.frombytes(sizes_b)
            view = memoryview(data)
            chunks: list[memoryview] = []
            for n in sizes:
                chunks.append(view[off : off + n])
                off += n
            if len(positions) != 3 * len(names) or off != len(data):
                raise ValueError("inconsistent sizes")
        except (ValueError, struct.error, zstandard.ZstdError) as e:
            raise ParseError(f"corrupt cache file ({e}); delete it to refetch", where=where) from None
        base = tuple(base_b.decode("utf-8").split("\n")) if base_b else ()
        return cls(names, positions, provides_b, base, chunks, True)


def build_compact(data: bytes, where: str, *, use_apt: bool | None = None) -> CompactIndex:
    """Build the compact index of a decompressed Packages file. Malformed input raises ParseError(where).

    Profiled on bookworm main amd64 (50 MB, 63,440 stanzas): building a dict of every field of every
    stanza costs seconds. With python-apt (`use_apt` None: when importable), apt's TagFile splits the
    stanzas in C++ and `find_raw` copies out only the solver's fields; without it, whole-buffer byte
    operations do the same (join continuation lines, split into lines, keep the solver's fields with
    C-level iteration, split into stanzas). Either way each stanza is touched once in Python (its name,
    and whether it has Provides or is Essential/required). The cyclic GC is paused meanwhile: the many
    short-lived objects would trigger needless collections.
    """
    if use_apt is None:
        use_apt = HAVE_APT_PKG
    if data[:1] == b"#" or b"\n#" in data:
        use_apt = False  # python-apt's TagFile reads a comment line as part of the next field's name
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise ParseError("NUL byte in a Packages file", where=f"{where}:{line}")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    if data[:1] in (b" ", b"\t"):
        raise ParseError("continuation line outside a field", where=f"{where}:1")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        stanzas = _trimmed_apt(data, where) if use_apt else _trimmed_pure(data, where)
        return _assemble(stanzas, where)
    finally:
        if gc_was_enabled:
            gc.enable()


def _trimmed_pure(data: bytes, where: str) -> list[bytes]:
    # Continuation lines are glued onto their field with NUL (checked absent), so that one line is one
    # field; the NULs become newlines again after filtering.
    joined = data.replace(b"\n ", b"\x00 ").replace(b"\n\t", b"\x00\t")
    lines = joined.split(b"\n")
    _check_lines(data, joined, lines, where)
    kept = itertools.compress(lines, map(_KEEP_PREFIXES.__contains__, map(_PREFIX, lines)))
    text = b"\n".join(kept).replace(b"\x00", b"\n")
    return text.split(b"\n\n")


def _trimmed_apt(data: bytes, where: str) -> list[bytes]:
    assert _apt_pkg is not None
    fields = 0
    out: list[bytes] = []
    append = out.append
    with _memfile(data) as f:
        for section in _apt_pkg.TagFile(f, bytes=True):
            raw = section.find_raw
            fields += len(section)
            # find_raw gives "Field: value\n", except for a section's last field: no newline there.
            append(
                b"".join(
                    [r if r[-1:] == b"\n" else r + b"\n" for k in SOLVER_FIELDS if (r := raw(k)) is not None]
                )
            )
    # apt's TagFile takes a line without a colon as the start of the next field's name rather than an
    # error, so count: every line that is not blank and not a continuation must be one of apt's fields.
    # Rare layouts (comments, runs of blank lines) miscount too and take the line-by-line check.
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    other = data.count(b"\n\n") + data.count(b"\n ") + data.count(b"\n\t") + (data[:1] == b"\n")
    if lines - other != fields:
        _check_lines_slow(data, where)
    return out


def _assemble(stanzas: list[bytes], where: str) -> CompactIndex:
    by_name: dict[bytes, list[bytes]] = {}
    provides: dict[str, set[str]] = {}
    base: set[bytes] = set()
    for stanza in stanzas:
        if not stanza:
            continue
        if stanza[0] == 10 or stanza[-1] == 10:  # around runs of blank lines, and at the end
            stanza = stanza.strip(b"\n")
            if not stanza:
                continue
        if stanza[:9] == b"Package: ":
            nl = stanza.find(b"\n")
            name = (stanza[9:nl] if nl >= 0 else stanza[9:]).strip()
        else:
            fields = parse_stanza(stanza.decode("utf-8", errors="replace"), where)
            if "Package" not in fields:
                raise ParseError(f"stanza without a Package field: {stanza[:60]!r}", where=where)
            name = fields["Package"].encode()
        group = by_name.get(name)
        if group is None:
            by_name[name] = [stanza]
        else:
            group.append(stanza)
        if b"\nProvides:" in stanza:
            for provided in _provided_names(stanza, where):
                provides.setdefault(provided, set()).add(name.decode())
        if b"\nEssential: yes" in stanza or b"\nPriority: required" in stanza:
            base.add(name)
    names: list[str] = []
    positions = array("I")
    chunks: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for name in sorted(by_name):
        block = b"\n\n".join(by_name[name]) + b"\n\n"
        if size >= _CHUNK:
            chunks.append(b"".join(current))
            current, size = [], 0
        names.append(name.decode("utf-8"))
        current.append(block)
        positions.extend((len(chunks), size, size + len(block)))
        size += len(block)
    if current:
        chunks.append(b"".join(current))
    prov = {k: tuple(sorted(v)) for k, v in provides.items()}
    return CompactIndex(
        names, positions, prov, tuple(sorted(n.decode() for n in base)), chunks, compressed=False
    )


@contextlib.contextmanager
def _memfile(data: bytes) -> Iterator[Any]:
    # TagFile reads from a file descriptor; an anonymous in-memory file avoids touching the disk.
    f: Any = (
        os.fdopen(os.memfd_create("packages"), "w+b")
        if hasattr(os, "memfd_create")
        else tempfile.TemporaryFile()
    )
    with f:
        f.write(data)
        f.seek(0)
        yield f


_PREFIX = operator.itemgetter(slice(0, 4))
_ALL_BUT_NL_COLON = bytes(b for b in range(256) if b not in (10, 58))


def _check_lines(data: bytes, joined: bytes, lines: list[bytes], where: str) -> None:
    # Every line (continuations already joined) is blank or has a colon. Counted at C speed: delete all
    # bytes but newlines and colons, then a line with a colon is a "\n:" and each colon-less line must be
    # one of the blank lines. Comments are rare; they take the slow path.
    squeezed = joined.translate(None, _ALL_BUT_NL_COLON)
    colonless = squeezed.count(b"\n") - squeezed.count(b"\n:") + (b":" not in lines[0])
    if colonless == lines.count(b"") and not (joined[:1] == b"#" or b"\n#" in joined):
        return
    _check_lines_slow(data, where)


def _check_lines_slow(data: bytes, where: str) -> None:
    """Raise ParseError naming the first line that is not blank, a continuation, a comment or a field."""
    for lineno, line in enumerate(data.split(b"\n"), 1):
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
        try:
            return CompactIndex.from_bytes(data, str(path))
        except InputError:
            # Written by another version of bundler, or damaged: a miss, so it is fetched and rebuilt
            # (offline, the caller reports the miss).
            path.unlink(missing_ok=True)
            return None

    def write_index(self, release_sha256: str, index_path: str, index: CompactIndex) -> None:
        write_atomic(self.index_path(release_sha256, index_path), index.to_bytes())

    def is_verified(self, seal: str) -> bool:
        """Whether a Release's signature was verified before (`seal`: its bytes and keyrings, hashed)."""
        return (self.root / "verified" / seal).is_file()

    def mark_verified(self, seal: str) -> None:
        write_atomic(self.root / "verified" / seal, b"")

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
                write_atomic(d / name, files[name])
            else:
                (d / name).unlink(missing_ok=True)
        write_atomic(d / "url", url.encode())


