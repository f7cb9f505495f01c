"""How fast `bundler build --archive` writes its `.tar.zst`, next to copying the same bytes.

    .venv/bin/python -m benchmarks.archive_speed                     # ~200 MB of the host's .debs
    .venv/bin/python -m benchmarks.archive_speed --mb 100 --levels 1,3,6 --repeats 3 --source DIR

The tree is a bundle-like directory: real .debs (already compressed, like a bundle's pool) copied from
`--source` (default /var/cache/apt/archives, else .so files from /usr/lib) up to `--mb`, plus a few MB
of plain text (the shape of Packages indexes). Each contender runs `--repeats` times on the warm page
cache, the median is reported, and every write ends with fsync of what it wrote (so "copy" is `cp -r`
plus `sync -f`, the archive is written and fsynced): the same bytes reach the disk either way.
The archive is written by bundler.build.archive.write_archive, with its own LEVEL (or each of
`--levels`, by patching that constant), so the numbers are the code's, not a model of it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_tree(dest: Path, source: Path, mb: int) -> int:
    """Fill `dest` with up to `mb` MB of real package files and ~4 MB of text; returns the bytes."""
    budget = mb << 20
    total = 0
    pool = dest / "debian" / "pool" / "main"
    files = sorted(
        p for p in source.rglob("*") if p.is_file() and (p.suffix in (".deb", ".so") or ".so." in p.name)
    )
    for path in files:
        if total >= budget:
            break
        size = path.stat().st_size
        if size == 0 or path.is_symlink():
            continue
        target = pool / path.name[:1] / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        total += size
    text = dest / "debian" / "dists" / "bench" / "main" / "binary-amd64" / "Packages"
    text.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Package: p{i}\nVersion: 1.{i}-1\nArchitecture: amd64\nFilename: pool/main/p/p{i}.deb\n"
        f"Size: {i * 37}\nSHA256: {i:064x}\nDescription: benchmark stanza {i}\n\n"
        for i in range(20000)
    ]
    text.write_text("".join(lines))
    total += text.stat().st_size
    return total


def _time(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.archive_speed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--source", type=Path, default=None)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--levels", default="", help="comma-separated zstd levels (default: archive.LEVEL)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from bundler.build import archive

    source = args.source
    if source is None:
        apt = Path("/var/cache/apt/archives")
        source = apt if any(apt.glob("*.deb")) else Path("/usr/lib")
    levels = [int(x) for x in args.levels.split(",") if x.strip()] or [archive.LEVEL]
    with tempfile.TemporaryDirectory(prefix="archive-bench-", dir=os.environ.get("TMPDIR")) as t:
        work = Path(t)
        tree = work / "tree"
        nbytes = make_tree(tree, source, args.mb)
        subprocess.run(["cp", "-r", str(tree), str(work / "warm")], check=True)  # warm the page cache
        shutil.rmtree(work / "warm")

        def copy() -> None:
            shutil.rmtree(work / "copy", ignore_errors=True)
            subprocess.run(["cp", "-r", str(tree), str(work / "copy")], check=True)
            subprocess.run(["sync", "-f", str(work / "copy")], check=True)

        base = _time(copy, args.repeats)
        shutil.rmtree(work / "copy", ignore_errors=True)
        print(f"tree: {nbytes / 1e6:.0f} MB from {source}, {os.cpu_count()} CPUs, threads={archive.THREADS}")
        print(f"cp -r + sync: {base:.2f} s ({nbytes / 1e6 / base:.0f} MB/s)")
        saved = archive.LEVEL
        dest = work / "bundle.tar.zst"
        try:
            for level in levels:
                archive.LEVEL = level

                def write() -> None:
                    archive.write_archive(tree, dest, "bench", 315532800)
                    with open(dest, "rb") as f:
                        os.fsync(f.fileno())

                took = _time(write, args.repeats)
                size = dest.stat().st_size
                print(
                    f"level {level:2d}: {took:.2f} s = {took / base:.2f}x the copy, "
                    f"{size / 1e6:.0f} MB ({size / nbytes:.1%} of the tree)"
                )
                dest.unlink()
        finally:
            archive.LEVEL = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
