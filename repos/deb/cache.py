"""The index cache: verified Release files and compact Packages indexes, keyed by the Release's SHA256.

A Release's SHA256 pins every index it lists (wiki.debian.org/DebianRepository/Format), so a compact
index stored under `<cache>/deb/indexes/<release sha256>/<path>.idx` never goes stale: a second load of
an unchanged repository fetches only the (In)Release, and `offline=True` not even that — the last
Release fetched for each "<uri> <suite>" is kept under `<cache>/deb/releases/`.

The compact index of one Packages file keeps its stanzas grouped by package name, plus the Provides
map (provided name -> package names) and the base-system names (Essential: yes / Priority: required).
Stanzas are kept whole: trimming them to the solver's fields cost more at build time (per-line work
in Python) than the extra bytes cost later. On disk it is the name table (uncompressed since format 5:
a zstandard frame of it took 10 ms to decompress, and zstandard ~5 ms to import, on every warm solve,
to save 2.6 MB of bookworm main's 51 MB; a file of format 4 is still read, and rewritten behind the
solve), followed by the Packages text as it was fetched, uncompressed; a big file is mapped into memory (as
apt maps its pkgcache.bin; a small one is read whole, see `Cache.read_index`): opening it costs a few
milliseconds and a lookup copies only the stanzas asked for. The text used to be kept in zstandard frames of 64 KiB; a solve of 2,000 random roots of
bookworm main reaches stanzas in nearly every frame, so it decompressed the whole 50 MB text (0.16 s
of a 1.5 s solve) to read 11,000 stanzas. The cost is disk: 50 MB for bookworm main amd64, where
the frames took 14 MB (apt's lists/ keep the same text uncompressed).

`build_compact` is a hand-written fast path kept for speed (with `_scan.c`): it finds stanzas and their
names without reading every field, which a per-line reader cannot do in the time. Each stanza it hands
out is read by the project's one deb822 reader, `repos/deb822.py`.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import itertools
import mmap
import os
import re
import struct
import sys
import threading
from array import array
from collections.abc import Sequence
from itertools import repeat
from pathlib import Path

from solver.errors import InputError

from ..deb822 import read_stanza
from ..errors import ParseError
from ..files import write_atomic

try:  # the compiled scanner; without a C compiler at install time, `_scan_python` does the same work
    from ._scan import scan as _scan_compiled
except ImportError:
    _scan_compiled = None

FORMAT = b"bundler-deb-index/5\n"
_FORMAT_4 = b"bundler-deb-index/4\n"  # the same, its table a zstandard frame: still read (`from_bytes`)
_MAP_AT = 4 << 20  # cache files of this size and more are mapped into memory (`Cache.read_index`)
_TABLE_PARTS = 7


class CompactIndex:
    """Stanzas of one Packages file, by package name. Thread-safe for readers.

    Built from a Packages file (`build_compact`: the stanzas stay where they are in its text) or read
    from the cache (`from_bytes`: the same text after the table, in a file mapped into memory).
    Everything but the name table is decoded on first use: the Provides map on the first `providers`
    question, a stanza when it is asked for.
    """

    def __init__(
        self,
        names: list[str],
        first_span: array[int],
        spans: tuple[array[int], array[int]],
        provides: dict[bytes, list[bytes]] | dict[bytes, bytes] | tuple[bytes, bytes],
        base: tuple[str, ...],
        text: bytes | mmap.mmap,
        text_offset: int = 0,
    ) -> None:
        self.names = names  # sorted, unique
        # Where the stanzas start and end in the text, sorted by name (a name's in file order); those of
        # names[i] are at first_span[i] up to first_span[i + 1].
        self._first_span = first_span
        self._span_starts, self._span_ends = spans
        # Provided name -> the packages providing it: built as lists, read from the cache as two blobs
        # (the names, and the providers of each) that become a dict on the first question.
        self._provides: dict[bytes, list[bytes]] | dict[bytes, bytes] | tuple[bytes, bytes] = provides
        self.base = base
        # The Packages text (a stanza at `text_offset` + its span): the file's bytes when built here,
        # the cache file mapped into memory when read from it (slicing either gives bytes).
        self._text = text
        self._text_offset = text_offset
        self._lock = threading.Lock()
        self._index = dict(zip(names, range(len(names)), strict=True))
        self.old_format = False  # read from a cache file of an earlier format (`Cache.read_index` rewrites it)

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self.names)

    def providers(self, name: str) -> tuple[str, ...]:
        """The names of the packages that provide `name`, sorted; () if none."""
        raw = self._provides
        if isinstance(raw, tuple):
            keys, values = raw
            parsed: dict[bytes, bytes] = (
                dict(zip(keys.split(b"\n"), values.split(b"\n"), strict=True)) if keys else {}
            )
            with self._lock:
                self._provides = parsed
            found: bytes | list[bytes] | None = parsed.get(name.encode())
        else:
            found = raw.get(name.encode())
        if not found:
            return ()
        owners = found.split(b" ") if isinstance(found, bytes) else found
        return tuple(sorted(set(map(bytes.decode, owners))))

    @property
    def provides(self) -> dict[str, tuple[str, ...]]:
        """Provided name -> names of the packages providing it (all of it; for tests and listings)."""
        self.providers("")
        assert isinstance(self._provides, dict)
        return {k.decode(): self.providers(k.decode()) for k in self._provides}

    def stanzas(self, name: str) -> list[str]:
        """The stanzas (text) of every version of `name` in this index, in file order; [] if none."""
        return [raw.decode("utf-8") for raw in self.stanza_bytes(name)]

    def spans(self, name: str) -> tuple[bytes | mmap.mmap, int, array[int], array[int], int, int]:
        """Where the stanzas of `name` are, for a reader that takes them from the text in place
        (repos/deb/packages.py `candidates_in`): the text, the Packages text's offset in it, the span
        arrays and the range of `name`'s spans in them (empty if the index has no such name)."""
        i = self._index.get(name)
        first, last = (0, 0) if i is None else (self._first_span[i], self._first_span[i + 1])
        return self._text, self._text_offset, self._span_starts, self._span_ends, first, last

    def stanza_bytes(self, name: str) -> list[bytes]:
        """The stanzas of every version of `name` as they are in the file (bytes), in file order."""
        i = self._index.get(name)
        if i is None:
            return []
        text, at = self._text, self._text_offset
        starts, ends = self._span_starts, self._span_ends
        return [text[at + starts[j] : at + ends[j]] for j in range(self._first_span[i], self._first_span[i + 1])]

    # -- serialisation -------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The cache file: FORMAT, the table's length, the table, the Packages text."""
        if isinstance(self._provides, tuple):
            provided_names, providers = self._provides
        else:
            keys = sorted(self._provides)
            provided_names = b"\n".join(keys)
            providers = b"\n".join(
                b" ".join(v) if isinstance(v := self._provides[k], list) else v for k in keys
            )
        parts = [
            "\n".join(self.names).encode(),
            "\n".join(self.base).encode(),
            provided_names,
            providers,
            self._first_span.tobytes(),
            self._span_starts.tobytes(),
            self._span_ends.tobytes(),
        ]
        head = array("Q", [len(p) for p in parts])
        table = head.tobytes() + b"".join(parts)
        text = self._text[self._text_offset :]
        return FORMAT + struct.pack("<Q", len(table)) + table + text

    @classmethod
    def from_bytes(cls, data: bytes | mmap.mmap, where: str) -> CompactIndex:
        """The index in a cache file's bytes (or the file mapped into memory, which it then keeps)."""
        magic = data[: len(FORMAT)]
        try:
            if magic != FORMAT and magic != _FORMAT_4:
                raise ValueError("not a compact index of this version")
            off = len(FORMAT)
            (table_len,) = struct.unpack_from("<Q", data, off)
            off += 8
            table = data[off : off + table_len]
            if magic == _FORMAT_4:
                table = _zstd_decompress(table)
            off += table_len
            head = array("Q")
            head.frombytes(table[: _TABLE_PARTS * 8])
            parts, pos = [], _TABLE_PARTS * 8
            for n in head:
                parts.append(table[pos : pos + n])
                pos += n
            names_b, base_b, provided_b, providers_b, *arrays = parts
            names = names_b.decode("utf-8").split("\n") if names_b else []
            first_span, span_starts, span_ends = array("I"), array("I"), array("I")
            for arr, raw in zip((first_span, span_starts, span_ends), arrays, strict=True):
                arr.frombytes(raw)
            if (
                pos != len(table)
                or len(first_span) != len(names) + 1
                or len(span_starts) != len(span_ends)
                or len(span_ends) != first_span[-1]
                or off + max(span_ends, default=0) > len(data)
            ):
                raise ValueError("inconsistent sizes")
        except (ValueError, struct.error) as e:
            raise ParseError(f"corrupt cache file ({e}); delete it to refetch", where=where) from None
        base = tuple(base_b.decode("utf-8").split("\n")) if base_b else ()
        index = cls(names, first_span, (span_starts, span_ends), (provided_b, providers_b), base, data, off)
        index.old_format = magic != FORMAT
        return index


def _zstd_decompress(frame: bytes) -> bytes:
    import zstandard  # only for a cache file of format 4

    try:
        return zstandard.ZstdDecompressor().decompress(frame)
    except zstandard.ZstdError as e:
        raise ValueError(str(e)) from None


# A copy of a Packages text with only the bytes that tell its lines apart: newline, colon, space, tab,
# and the bytes that need a second look (NUL, CR, '#'). Its lines are the text's lines.
_DROP = bytes(b for b in range(256) if b not in b"\n: \t\x00\r#")


def build_compact(data: bytes, where: str) -> CompactIndex:
    """Build the compact index of a decompressed Packages file. Malformed input raises ParseError(where).

    Profiled on bookworm main amd64 (50 MB, 63,440 stanzas, 1.2 million lines): anything done per line
    or per field in Python costs most of a second, and so did asking python-apt for the solver's fields
    of each stanza. So the stanzas stay whole, where they are in the text, and are found by one pass of
    the compiled scanner (`_scan.c`) or, where it is not built or the layout is not the usual one, by
    C-level bytes operations (`_scan_python`); Python then touches each stanza only in C-level maps and
    a sort by name.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the many short-lived objects would trigger needless collections
    try:
        scanned = _scan_compiled(data) if _scan_compiled is not None else None
        if scanned is None:
            return _scan_python(data, where)
        starts_b, ends_b, names, provides, base_b = scanned
        starts, ends, base_at = array("I"), array("I"), array("I")
        starts.frombytes(starts_b)
        ends.frombytes(ends_b)
        base_at.frombytes(base_b)
        return _assemble(data, starts, ends, names, provides, base_at, where)
    finally:
        if gc_was_enabled:
            gc.enable()


def _scan_python(data: bytes, where: str) -> CompactIndex:
    """What `_scan.c` finds, for any layout: each pass over the text one C-level bytes operation
    (checking the lines, splitting the stanzas, searching for Provides and Essential/Priority).
    Uncommon layouts (comments, CRLF, runs of blank lines) are normalised first. Decides every error.
    """
    squeezed = data.translate(None, _DROP)
    if b"\x00" in squeezed:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise ParseError("NUL byte in a Packages file", where=f"{where}:{line}")
    if data[:1] in (b" ", b"\t"):
        raise ParseError("continuation line outside a field", where=f"{where}:1")
    # The usual layout: LF line ends, no comments, a field first, single blank lines between stanzas.
    usual = squeezed[:1] == b":" and not (b"\r" in squeezed or b"\n\n\n" in squeezed or b"\n#" in squeezed)
    if not usual:
        data = data.replace(b"\r\n", b"\n")
        _check_lines_slow(data, where)  # line by line, with the line numbers of the file as given
        data = _normalised(data)
    if not data or data.isspace():  # (isspace stops at the first other byte; strip would copy)
        return CompactIndex([], array("I", [0]), (array("I"), array("I")), {}, (), data)
    stanzas = data.split(b"\n\n")
    if not stanzas[-1].strip(b"\n"):
        stanzas.pop()
    stanzas[-1] = stanzas[-1].rstrip(b"\n")
    if usual:
        _check_lines(data, squeezed, len(stanzas), where)
    # Where each stanza starts in `data`: a field found by a search of the whole text is mapped to
    # its stanza with them.
    starts = array("I", itertools.accumulate(map((2).__add__, map(len, stanzas[:-1])), initial=0))
    ends = array("I", map(int.__add__, starts, map(len, stanzas)))
    newlines = list(map(bytes.find, stanzas, repeat(b"\n")))
    if all(map(bytes.startswith, stanzas, repeat(b"Package: "))) and -1 not in newlines:
        names = list(map(bytes.__getitem__, stanzas, map(slice, repeat(9), newlines)))
    else:
        names = [_package_name(stanza, where) for stanza in stanzas]
    joined = b"\n" + b"\n".join(names) + b"\n"
    if any(ws in joined for ws in (b" \n", b"\t\n", b"\n ", b"\n\t")):
        names = [n.strip(b" \t") for n in names]
    if b"" in names:
        line = data.count(b"\n", 0, starts[names.index(b"")]) + 1
        raise ParseError("empty Package field", where=f"{where}:{line}")
    provides_at, provides_values = _field_hits(data, starts, _PROVIDES)
    base_at = [n for pattern in _BASE for n in _field_hits(data, starts, pattern)[0]]
    if not stanzas[0].startswith(b"Package:"):  # the searches miss a first line that is no field
        first = read_stanza(
            stanzas[0].decode("utf-8", errors="replace"), where, first_line=None, shape_only=True
        )
        provides_at.insert(0, 0)
        provides_values.insert(0, first.get("Provides", "").encode())
        if first.get("Essential", "").strip() == "yes" or first.get("Priority", "").strip() == "required":
            base_at.append(0)
    provides = _provides_map(names, provides_at, provides_values)
    return _assemble(data, starts, ends, names, provides, base_at, where)


def _normalised(data: bytes) -> bytes:
    """`data` without comment lines, with single blank lines between stanzas only."""
    if data[:1] == b"#" or b"\n#" in data:
        data = b"\n".join(line for line in data.split(b"\n") if line[:1] != b"#")
    return re.sub(rb"\n\n\n+", b"\n\n", data.lstrip(b"\n"))


def _check_lines(data: bytes, squeezed: bytes, stanzas: int, where: str) -> None:
    """Every line is blank, a continuation or a field ("Name: value"), else ParseError naming the line.

    For the usual layout (no runs of blank lines). Counted on the squeezed copy: a field's line starts
    with its colon there (a field name has no space), a continuation line with its space or tab, and a
    blank one is empty. So the empty lines must be the blank lines between the stanzas, and the lines
    starting with a space (a tab) must be the text's lines starting with one; a line that is neither
    has made one of the counts too high. (Tabs are rare: their count is skipped when there are none.)
    """
    empty = squeezed.count(b"\n\n") - squeezed.endswith(b"\n\n")
    tabbed = squeezed.count(b"\n\t")
    if (
        empty != stanzas - 1
        or squeezed.count(b"\n ") != data.count(b"\n ")
        or (tabbed and tabbed != data.count(b"\n\t"))
    ):
        _check_lines_slow(data, where)


def _check_lines_slow(data: bytes, where: str) -> None:
    """Raise ParseError naming the first line that is not blank, a continuation, a comment or a field."""
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if line.strip() and line[:1] not in b" \t#" and b":" not in line:
            raise ParseError(
                f"malformed line {line.decode(errors='replace')[:60]!r} (expected 'Field: value')",
                where=f"{where}:{lineno}",
            )


def _assemble(
    data: bytes,
    starts: array[int],
    ends: array[int],
    names: list[bytes],
    provides: dict[bytes, list[bytes]],
    base_at: Sequence[int],
    where: str,
) -> CompactIndex:
    """The index of the stanzas data[starts[k]:ends[k]] named names[k]."""
    # Each step is a C-level map, sort or search over all stanzas; Python loops only over what is rare.
    base = set(map(names.__getitem__, base_at))
    # Sorted by name, stably: a name's stanzas stay in file order.
    order = sorted(range(len(names)), key=names.__getitem__)
    spans = (array("I", map(starts.__getitem__, order)), array("I", map(ends.__getitem__, order)))
    after_last = dict(zip(map(names.__getitem__, order), range(1, len(order) + 1), strict=True))
    unique = list(after_last)  # sorted, as the sort put them in
    first_span = array("I", [0])
    first_span.extend(map(after_last.__getitem__, unique))
    try:
        out_names = list(map(bytes.decode, unique))
    except UnicodeDecodeError:
        raise ParseError("a package name is not UTF-8", where=where) from None
    base_names = tuple(sorted(n.decode() for n in base))
    return CompactIndex(out_names, first_span, spans, provides, base_names, data)


def _package_name(stanza: bytes, where: str) -> bytes:
    fields = read_stanza(stanza.decode("utf-8", errors="replace"), where, first_line=None, shape_only=True)
    if "Package" not in fields:
        raise ParseError(f"stanza without a Package field: {stanza[:60]!r}", where=where)
    return fields["Package"].encode()


# A field's line and its continuation lines, searched for in the whole text: a stanza starts with its
# Package field, so every other field follows a newline.
_PROVIDES = re.compile(rb"\nProvides:([^\n]*(?:\n[ \t][^\n]*)*)")
_BASE = (
    re.compile(rb"\nEssential: yes[ \t]*()(?=\n|\Z)"),
    re.compile(rb"\nPriority: required[ \t]*()(?=\n|\Z)"),
)


def _field_hits(data: bytes, starts: array[int], pattern: re.Pattern[bytes]) -> tuple[list[int], list[bytes]]:
    """The numbers of the stanzas where `pattern` matches, and its first group there."""
    positions, values = [], []
    for m in pattern.finditer(data):
        positions.append(m.start())
        values.append(m.group(1))
    numbers = [n - 1 for n in map(bisect.bisect_right, repeat(starts), positions)]
    return numbers, values


# What a Provides entry names, once whitespace is gone: drop versions "(=1)", architecture lists
# "[amd64]" and qualifiers ":any".
_NOT_A_NAME = re.compile(rb"\([^)\0]*\)|\[[^\]\0]*\]|:[^,\0]*")


def _provides_map(
    names: list[bytes], numbers: Sequence[int], values: list[bytes]
) -> dict[bytes, list[bytes]]:
    """Provided name -> the names of the packages (stanza numbers index `names`) providing it."""
    if not values:
        return {}
    # One substitution over all values at once (NUL, checked absent, separates them); then each value
    # is a plain comma-separated list.
    joined = b"\0".join(values).translate(None, b" \t\n")
    entries = [v.split(b",") for v in _NOT_A_NAME.sub(b"", joined).split(b"\0")]
    owners = itertools.chain.from_iterable(map(repeat, map(names.__getitem__, numbers), map(len, entries)))
    providers: dict[bytes, list[bytes]] = {}
    for provided, owner in zip(itertools.chain.from_iterable(entries), owners, strict=True):
        found = providers.get(provided)
        if found is None:
            providers[provided] = [owner]
        elif owner not in found:
            found.append(owner)
    providers.pop(b"", None)
    return providers


# Index files being written by `Cache.write_index_behind` in this process.
_storing: dict[Path, threading.Thread] = {}
_storing_lock = threading.Lock()


def wait_for_writes() -> None:
    """Wait until every index file this process is writing behind (`Cache.write_index_behind`) is on
    disk: for a caller that looks at the cache directory itself."""
    with _storing_lock:
        pending = list(_storing.values())
        _storing.clear()
    for thread in pending:
        thread.join()


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
        with _storing_lock:
            storing = _storing.pop(path, None)
        if storing is not None:
            storing.join()
        data: bytes | mmap.mmap
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                # A big index is mapped, not read: a solve touches the pages of the stanzas it asks
                # for (the map outlives the file object; a file replaced later is a new inode, this
                # one stays). A small one is read: Python's mmap keeps a duplicate of the file
                # descriptor open, and a load of a thousand indexes would run out of descriptors.
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size >= _MAP_AT else f.read()
        except FileNotFoundError:
            return None
        try:
            index = CompactIndex.from_bytes(data, str(path))
        except InputError:
            # Written by another version of bundler, or damaged: a miss, so it is fetched and rebuilt
            # (offline, the caller reports the miss).
            path.unlink(missing_ok=True)
            return None
        if index.old_format:  # read as it is this time; stored in this version's format for the next
            self.write_index_behind(release_sha256, index_path, index)
        return index

    def write_index(self, release_sha256: str, index_path: str, index: CompactIndex) -> None:
        write_atomic(self.index_path(release_sha256, index_path), index.to_bytes())

    def write_index_behind(self, release_sha256: str, index_path: str, index: CompactIndex) -> None:
        """Store `index` on a thread of its own, so that writing it (50 MB for bookworm main) overlaps
        the solve instead of delaying it.

        The thread is no daemon: the interpreter waits for it at exit. A reader of the same file in
        this process waits for it too, and `write_atomic` makes the file appear whole or not at all.
        The cache only saves work, so a failure to write it is a warning: the next run rebuilds it.
        """
        path = self.index_path(release_sha256, index_path)

        def store() -> None:
            try:
                write_atomic(path, index.to_bytes())
            except OSError as e:
                print(f"bundler: warning: index cache not stored: {path}: {e.strerror}", file=sys.stderr)

        thread = threading.Thread(target=store, name=f"store {path.name}")
        with _storing_lock:
            _storing[path] = thread
        thread.start()

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
