"""Decompressing index files, and choosing which compressed variant to fetch.

A Release file lists each index in several compressions (wiki.debian.org/DebianRepository/Format,
"Compression of indices"): none, .gz, .xz, .bz2, .lzma, .zst, .lz4. apt tries them in the order of
`Acquire::CompressionTypes::Order`. We choose by an estimate of the total cost — transfer time plus
decompression time — which is what a user waits for: for the bookworm main amd64 index the .gz (12 MB,
~0.3 s to inflate) beats the .xz (8.8 MB, ~0.9 s to decompress) on any link faster than ~5 MB/s, and a
local (file://) repository is best read uncompressed.

.lz4 uses the `lz4` PyPI package when it is importable, else the `lz4` command line tool (the package is
not a dependency: lz4 indexes are rare; both read the LZ4 frame format apt writes).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ParseError

# The codecs (zstandard, lzma, bz2, zlib; shutil and subprocess for lz4) are imported by the functions
# that use them: a warm solve reads every index from the cache and decompresses nothing, and loading
# them took ~7 ms of its start (`python -X importtime`).

EXTENSIONS = ("", ".gz", ".xz", ".bz2", ".lzma", ".zst", ".lz4")

# Seconds per byte of *output* to decompress, measured roughly with the stdlib codecs on one core.
_DECODE_COST = {"": 0.0, ".zst": 2e-9, ".lz4": 2e-9, ".gz": 5e-9, ".xz": 18e-9, ".lzma": 18e-9, ".bz2": 40e-9}
_REMOTE_BANDWIDTH = 25e6  # bytes/s: a modest mirror link
_LOCAL_BANDWIDTH = 2e9  # bytes/s: reading a local file


def choose(
    variants: dict[str, int], *, uncompressed_size: int | None = None, local: bool = False
) -> list[str]:
    """Extensions from `variants` ({extension: size as listed}), cheapest expected total cost first."""
    bandwidth = _LOCAL_BANDWIDTH if local else _REMOTE_BANDWIDTH

    def cost(ext: str) -> tuple[float, int]:
        size = variants[ext]
        out = uncompressed_size if uncompressed_size is not None else size * (1 if ext == "" else 5)
        return (size / bandwidth + out * _DECODE_COST.get(ext, 1e-7), EXTENSIONS.index(ext))

    return sorted((e for e in variants if e in _DECODE_COST), key=cost)


def decompress(data: bytes, ext: str, where: str) -> bytes:
    """`data` decompressed per `ext` ("" = as is). Corrupt or truncated data raises ParseError(where)."""
    if ext == "":
        return data
    import bz2
    import lzma
    import zlib

    import zstandard

    try:
        if ext == ".gz":
            d = zlib.decompressobj(wbits=47)  # gzip or zlib header
            out = d.decompress(data)
            if not d.eof:
                raise ValueError("truncated gzip stream")
            return out
        if ext == ".xz":
            return lzma.decompress(data, format=lzma.FORMAT_XZ)
        if ext == ".lzma":
            return lzma.decompress(data, format=lzma.FORMAT_ALONE)
        if ext == ".bz2":
            return bz2.decompress(data)
        if ext == ".zst":
            return _zstd(data)
        if ext == ".lz4":
            return _lz4(data)
    except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error, zstandard.ZstdError) as e:
        raise ParseError(f"corrupt or truncated {ext[1:]} data: {e}", where=where) from None
    raise ParseError(f"unknown compression {ext!r}", where=where)


def _zstd(data: bytes) -> bytes:
    import zstandard

    # Archive tools may omit the content size from the frame header, so stream rather than one-shot.
    d = zstandard.ZstdDecompressor().decompressobj()
    out = d.decompress(data)
    if not d.eof:
        raise ValueError("truncated zstd stream")
    return out


def _lz4(data: bytes) -> bytes:
    try:
        import lz4.frame  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        d = lz4.frame.LZ4FrameDecompressor()
        out: bytes = d.decompress(data)
        if not d.eof:
            raise ValueError("truncated lz4 stream")
        return out
    import shutil
    import subprocess

    tool = shutil.which("lz4")
    if tool is None:
        raise ValueError("lz4 data needs the lz4 Python package or the lz4 command")
    proc = subprocess.run([tool, "-d", "-c", "-q"], input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise ValueError(proc.stderr.decode(errors="replace").strip() or "lz4 failed")
    return proc.stdout


def extensions_of(paths: Iterable[str], base: str) -> dict[str, str]:
    """{extension: path} for the variants of `base` (e.g. "main/binary-amd64/Packages") among `paths`."""
    out = {}
    for p in paths:
        if p.startswith(base):
            ext = p[len(base) :]
            if ext in EXTENSIONS:
                out[ext] = p
    return out
