"""The `.tar.zst` writer (bundler/build/archive.py): multi-threaded zstd whose bytes do not depend on
the number of worker threads, nor on how the stream is fed."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
from pathlib import Path

import pytest
import zstandard

from bundler.build import archive

EPOCH = 315532800


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~40 MB: incompressible files (the shape of .debs and wheels) and compressible text, enough for
    several zstd jobs at the archive's level, so the threads really split the work."""
    root = tmp_path_factory.mktemp("tree")
    rng = random.Random(12)
    pool = root / "debian" / "pool" / "main"
    for i in range(6):
        (pool / f"p{i}").mkdir(parents=True)
        (pool / f"p{i}" / f"p{i}_1.0-1_amd64.deb").write_bytes(rng.randbytes(5_000_000 + i * 77_777))
    text = root / "debian" / "dists" / "t" / "main" / "binary-amd64" / "Packages"
    text.parent.mkdir(parents=True)
    text.write_text(
        "".join(
            f"Package: p{i}\nVersion: 1.{i}-1\nSHA256: {rng.getrandbits(256):064x}\n\n"
            for i in range(100_000)
        )
    )
    return root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_threads_do_not_change_the_bytes(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digests = {}
    for threads in (1, 2, 4, -1):
        monkeypatch.setattr(archive, "THREADS", threads)
        dest = tmp_path / f"t{threads}.tar.zst"
        archive.write_archive(tree, dest, "demo", EPOCH)
        digests[threads] = _digest(dest)
    assert len(set(digests.values())) == 1, digests
    # The check can fail: zstd's single-threaded mode (threads=0) writes another frame for the same tree.
    monkeypatch.setattr(archive, "THREADS", 0)
    archive.write_archive(tree, tmp_path / "t0.tar.zst", "demo", EPOCH)
    assert _digest(tmp_path / "t0.tar.zst") != digests[1]


def test_the_stream_is_the_tree(tree: Path, tmp_path: Path) -> None:
    dest = tmp_path / "a.tar.zst"
    archive.write_archive(tree, dest, "demo", EPOCH)
    raw = dest.read_bytes()
    params = zstandard.get_frame_parameters(raw)
    assert params.has_checksum and params.content_size == zstandard.CONTENTSIZE_UNKNOWN
    data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    want = {f"demo/{p.relative_to(tree).as_posix()}": p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    assert got == want
    # Compressed text, stored .debs: the archive is smaller than the tree, by about the text's size.
    assert len(raw) < sum(len(b) for b in want.values()) - 5_000_000


def test_feeding_does_not_change_the_bytes(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same input written in different chunk sizes, with 1 and 2 threads, gives one frame."""
    data = b"".join(p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file())
    frames = set()
    for threads, chunk in ((1, 1 << 16), (2, 1 << 20), (2, 7_777_777)):
        out = io.BytesIO()
        monkeypatch.setattr(archive, "THREADS", threads)
        with archive.compressor().stream_writer(out, closefd=False) as zw:
            for i in range(0, len(data), chunk):
                zw.write(data[i : i + chunk])
        frames.add(hashlib.sha256(out.getvalue()).hexdigest())
    assert len(frames) == 1
