"""`python -m benchmarks.publish`: wall time of `bundler publish` to a local S3-compatible server.

    python -m benchmarks.publish BUNDLE [--repeats 3]
    python -m benchmarks.publish --from-debs /var/cache/apt/archives --count 300 [--repeats 3]

The store is moto's stand-alone S3 server (the `test` extra) on 127.0.0.1, as in tests/test_publish.py.
Each repeat publishes into a fresh bucket twice, each time as its own `bundler publish` process timed
end to end: the first publish (every object uploaded) and the second (the same bundle again: one
listing, every object skipped by its ETag). The floor beside them: the same files put by a bare
loop of boto3 PutObject calls on 8 threads (in this process: no interpreter start-up, no checks, no
order). `--hotfix N` adds issue 10's row: a hotfix bundle (`bundler delta`) of N packages against the
whole bundle, built and published. `--from-debs` first builds a bundle of the first COUNT
distinct packages (name, architecture) of a directory of .deb files (each at most --max-mb), with a lock written by hand as
tests/support/locks.py does, so the benchmark needs no network. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bundler.build import build_bundle
from bundler.build.debfile import parse_stanza, read_control
from bundler.lock import IndexDigest, Lock, LockedPackage


def bundle_from_debs(debs: Path, count: int, out: Path, max_size: int) -> Path:
    packages: dict[tuple[str, str], LockedPackage] = {}
    for path in sorted(debs.glob("*.deb")):
        if "%" in path.name or path.stat().st_size > max_size:  # an epoch's %3a; toolchains of 500 MB
            continue
        fields = dict(parse_stanza(read_control(path)))
        key = (fields["Package"], fields["Architecture"])
        if key in packages:
            continue
        data = path.read_bytes()
        source = fields.get("Source", fields["Package"]).split()[0]
        packages[key] = LockedPackage(
            ecosystem="deb", name=key[0], version=fields["Version"], filename=path.name, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), architecture=key[1], source=source,
            source_version=fields["Version"], repository=f"{debs.as_uri()} bench main",
        )  # fmt: skip
        if len(packages) == count:
            break
    lock = Lock(
        name="bench", suite="bench", spec_sha256="0" * 64, epoch=1700000000,
        roots=tuple(p.id for p in packages.values()), indexes=(IndexDigest("deb", "bench", "0" * 64),),
        packages=tuple(packages.values()),
    )  # fmt: skip
    build_bundle(lock, out)
    return out


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - t0, proc.stdout


def hotfix_rows(bundle: Path, work: Path, n: int, repeats: int, client: object, url: str, env: dict[str, str]) -> None:
    """Issue 10's row: a hotfix (delta) bundle's build and publish time against the whole bundle's.
    The release is the bundle's lock without its last `n` packages; the update adds them back."""
    from bundler.lock import read_lock, write_lock

    new = read_lock(bundle / "bundle.lock")
    gone = {p.id for p in new.packages[-n:]}
    old = Lock(name=new.name, suite=new.suite, spec_sha256=new.spec_sha256, epoch=new.epoch,
               roots=tuple(r for r in new.roots if r not in gone), indexes=new.indexes,
               packages=tuple(p for p in new.packages if p.id not in gone))  # fmt: skip
    write_lock(work / "old.lock", old)
    write_lock(work / "new.lock", new)
    cache = ["--cache-dir", str(work / "cache")]
    bundler = [sys.executable, "-m", "bundler"]
    subprocess.run([*bundler, "build", str(work / "old.lock"), str(work / "old"), *cache], env=env, check=True,
                   capture_output=True)  # fmt: skip
    t: dict[str, list[float]] = {k: [] for k in ("build", "delta", "pub-full", "pub-delta", "pub-over")}
    for r in range(repeats):
        for d in ("full", "hotfix"):
            subprocess.run(["rm", "-rf", str(work / d)], check=True)
        t["build"].append(_timed([*bundler, "build", str(work / "new.lock"), str(work / "full"), *cache], env)[0])
        t["delta"].append(_timed([*bundler, "delta", str(work / "old.lock"), str(work / "new.lock"),
                                  str(work / "hotfix"), "-q", *cache], env)[0])  # fmt: skip
        bucket = f"hotfix-{r}"
        client.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
        pub = [*bundler, "publish", "--endpoint", url, "--json", "-q"]
        t["pub-full"].append(_timed([*pub[:4], str(work / "full"), f"s3://{bucket}/full", *pub[4:]], env)[0])
        t["pub-delta"].append(_timed([*pub[:4], str(work / "hotfix"), f"s3://{bucket}/hotfix", *pub[4:]], env)[0])
        _timed([*pub[:4], str(work / "old"), f"s3://{bucket}/live", *pub[4:]], env)
        seconds, out = _timed([*pub[:4], str(work / "full"), f"s3://{bucket}/live", *pub[4:]], env)
        t["pub-over"].append(seconds)
        over = json.loads(out)

    def cell(k: str) -> str:
        return f"{statistics.median(t[k]):.2f} s ({min(t[k]):.2f}-{max(t[k]):.2f})"

    def size(d: str) -> str:
        files = [f for f in (work / d).rglob("*") if f.is_file()]
        return f"{len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB"

    print(f"hotfix: {n} of {len(new.packages)} packages new; median (min-max) of {repeats}")
    print("| hotfix step | hotfix bundle | whole bundle |")
    print("|---|---|---|")
    print(f"| build (warm artifact cache) | `bundler delta` {cell('delta')}, {size('hotfix')} | "
          f"`bundler build` {cell('build')}, {size('full')} |")  # fmt: skip
    print(f"| publish to an empty prefix | {cell('pub-delta')} | {cell('pub-full')} |")
    print(f"| publish over the release's prefix | - | {cell('pub-over')} ({over['uploaded']} uploaded, "
          f"{over['skipped']} unchanged) |")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.publish", description=__doc__.split("\n")[0])
    ap.add_argument("bundle", nargs="?", type=Path)
    ap.add_argument("--from-debs", type=Path)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--max-mb", type=float, default=10, help="Skip larger .debs (with --from-debs).")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--hotfix", type=int, default=0, metavar="N",
                    help="Also time a hotfix: the bundle without N of its packages is the release, "
                         "then `bundler delta` and `bundler build` of the whole, and their publishes.")  # fmt: skip
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    bundle = args.bundle or bundle_from_debs(args.from_debs, args.count, work / "bundle", int(args.max_mb * 1e6))
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-W", "ignore", "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        from bundler.publish import make_client

        client = make_client(url, access_key="bench", secret_key="bench")
        times: dict[str, list[float]] = {"first": [], "second": [], "floor": []}
        report: dict[str, dict] = {}
        for r in range(args.repeats):
            bucket = f"bench-{r}"
            client.create_bucket(Bucket=bucket)
            for kind in ("first", "second"):
                cmd = [sys.executable, "-m", "bundler", "publish", str(bundle), f"s3://{bucket}/x",
                       "--endpoint", url, "--json", "-q"]  # fmt: skip
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
                times[kind].append(time.perf_counter() - t0)
                report[kind] = json.loads(proc.stdout)
            client.create_bucket(Bucket=f"floor-{r}")
            files = [f for f in sorted(bundle.rglob("*")) if f.is_file()]

            def put(f: Path, bucket: str = f"floor-{r}") -> None:
                with open(f, "rb") as body:
                    client.put_object(Bucket=bucket, Key=f"x/{f.relative_to(bundle).as_posix()}", Body=body)

            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(put, files))
            times["floor"].append(time.perf_counter() - t0)
        if args.hotfix:
            hotfix_rows(bundle, work, args.hotfix, args.repeats, client, url, env)
        size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file())
        print(f"bundle {bundle}: {report['first']['objects']} objects, {size / 1e6:.1f} MB on disk; "
              f"moto S3 server on 127.0.0.1; median (min-max) of {args.repeats}")  # fmt: skip
        print("| publish | wall time | uploaded | skipped |")
        print("|---|---|---|---|")
        for kind in ("first", "second", "floor"):
            t = times[kind]
            rep = report.get(kind, {"uploaded": len(files), "uploaded_bytes": size, "skipped": 0})
            label = {"floor": "floor: bare boto3 PutObject loop, 8 threads"}.get(kind, f"bundler publish, {kind}")
            print(f"| {label} | {statistics.median(t):.2f} s ({min(t):.2f}-{max(t):.2f}) | "
                  f"{rep['uploaded']} ({rep['uploaded_bytes'] / 1e6:.1f} MB) | {rep['skipped']} |")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
