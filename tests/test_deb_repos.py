"""repos.deb: loading real (test-built) Debian repositories over file:// and HTTP into a lazy universe."""

from __future__ import annotations

import errno
import hashlib
import lzma
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from repos.deb import AptSource, load_debian
from repos.deb import cache as cache_module
from repos.deb import release as release_module
from repos.deb.cache import wait_for_writes
from repos.deb.decompress import choose, decompress
from repos.errors import ExpiredError, IntegrityError, OfflineMiss, ParseError, SignatureError
from tests.support.debrepo import COMPRESSIONS, DebRepo, GpgKey, compress
from tests.support.http import serve_directory


def fill(repo: DebRepo) -> None:
    """Two suites: "stable" and "updates" (newer hello, and a libfoo1 identical to stable's)."""
    repo.add(
        "stable", "main", name="hello", version="1.0-1", depends="libfoo1 (>= 1.0), mail-transport-agent"
    )
    repo.add("stable", "main", name="libfoo1", version="1.0-1", source="libfoo (1.0-1)", multi_arch="same")
    repo.add("stable", "main", name="mta-a", version="2.0", provides="mail-transport-agent")
    repo.add(
        "stable", "main", name="mta-b", version="3.0", provides="mail-transport-agent, mta-b-compat (= 3.0)"
    )
    repo.add("stable", "main", name="doc", version="1", arch="all")
    repo.add("stable", "main", name="coreutils", version="9.1-1", essential=True, priority="required")
    repo.add("stable", "main", name="libreq", version="1", priority="required")
    repo.add("stable", "contrib", name="extra", version="1", pre_depends="hello", breaks="mta-a (<< 2)")
    repo.add("updates", "main", name="hello", version="1.1-1", depends="libfoo1 (>= 1.0)", recommends="doc")
    repo.add("updates", "main", name="libfoo1", version="1.0-1", source="libfoo (1.0-1)", multi_arch="same")


def source(
    repo: DebRepo, key: GpgKey | None, suites: tuple[str, ...] = ("stable",), **kw: object
) -> AptSource:
    args: dict[str, object] = {
        "uri": repo.root.as_uri(),
        "suites": suites,
        "components": ("main", "contrib"),
        "architectures": ("amd64",),
        "signed_by": str(key.keyring) if key else None,
    }
    args.update(kw)
    return AptSource(**args)  # type: ignore[arg-type]


def versions(universe, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(c.version for c in universe.candidates(name))


@pytest.mark.parametrize("ext", COMPRESSIONS)
def test_every_compression(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path, ext: str) -> None:
    fill(deb_repo)
    deb_repo.write(compressions=(ext,), sign_with=gpg_key)
    loaded = load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "cache")
    u = loaded.universe
    (hello,) = u.candidates("hello")
    assert hello.version == "1.0-1" and hello.arch == "amd64"
    assert [str(g[0]) for g in hello.depends] == ["libfoo1 (>= 1.0)", "mail-transport-agent"]
    assert hello.origin is not None and hello.origin.filename == "pool/main/h/hello/hello_1.0-1_amd64.deb"
    assert (deb_repo.root / hello.origin.filename).stat().st_size == hello.origin.size


def test_candidates_providers_base_and_ranks(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.write(sign_with=gpg_key)
    # updates listed first: rank 0; stable: rank 1.
    sources = [source(deb_repo, gpg_key, ("updates",), components=("main",)), source(deb_repo, gpg_key)]
    loaded = load_debian(sources, architectures=["amd64"], cache_dir=tmp_path / "cache")
    u = loaded.universe
    assert u.native_arch == "amd64" and u.architectures == ("amd64",)
    assert versions(u, "hello") == ["1.0-1", "1.1-1"]
    ranks = {c.version: c.origin.rank for c in u.candidates("hello") if c.origin}
    assert ranks == {"1.0-1": 1, "1.1-1": 0}
    (lib,) = u.candidates("libfoo1")  # the same version in both suites: the first source's wins
    assert lib.origin is not None and lib.origin.rank == 0
    assert lib.origin.repository == f"{deb_repo.root.as_uri()} updates main"
    assert (lib.source, lib.source_version, lib.multi_arch) == ("libfoo", "1.0-1", "same")
    assert sorted(c.name for c in u.providers("mail-transport-agent")) == ["mta-a", "mta-b"]
    (compat,) = u.providers("mta-b-compat")
    assert compat.provides[1].op == "=" and compat.provides[1].version == "3.0"
    assert u.providers("hello") == () and u.candidates("nonexistent") == ()
    assert list(u.base_system()) == ["coreutils", "libreq"]
    (extra,) = u.candidates("extra")
    assert extra.origin is not None and extra.origin.repository.endswith(" stable contrib")
    assert [str(d) for d in extra.breaks] == ["mta-a (<< 2)"] and extra.pre_depends[0][0].name == "hello"
    assert [url for url, _ in loaded.indexes] == [
        f"{deb_repo.root.as_uri()} {s}" for s in ("updates", "stable")
    ]
    inrelease = deb_repo.root / "dists/stable/InRelease"
    assert loaded.indexes[1][1] == hashlib.sha256(inrelease.read_bytes()).hexdigest()


def test_arch_all_deduplicated_and_binary_all(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    deb_repo.add("s", "main", name="tool", version="1", arch="amd64")
    deb_repo.add("s", "main", name="tool", version="1", arch="i386", multi_arch="foreign")
    deb_repo.add("s", "main", name="common", version="1", arch="all")
    deb_repo.write(sign_with=gpg_key, binary_all=True)
    src = source(deb_repo, gpg_key, ("s",), components=("main",), architectures=("amd64", "i386"))
    u = load_debian([src], architectures=["amd64", "i386"], cache_dir=tmp_path / "c").universe
    assert [c.arch for c in u.candidates("common")] == ["all"]
    assert sorted(c.arch for c in u.candidates("tool")) == ["amd64", "i386"]
    only = load_debian([src], architectures=["amd64"], cache_dir=tmp_path / "c").universe
    assert [c.arch for c in only.candidates("tool")] == ["amd64"]
    assert sorted(s.repository for s in only.shards) == [f"{deb_repo.root.as_uri()} s main"] * 2  # amd64, all
    # Debian's Release says binary-all is redundant with the per-architecture files: not read then.
    deb_repo.write(
        sign_with=gpg_key, binary_all=True, release_fields={"No-Support-for-Architecture-all": "Packages"}
    )
    lean = load_debian([src], architectures=["amd64"], cache_dir=tmp_path / "c").universe
    assert len(lean.shards) == 1 and [c.arch for c in lean.candidates("common")] == ["all"]
    # Nor when the Release does not list "all" among its Architectures (apt ignores such a binary-all,
    # and a security mirror was seen serving a stale one).
    deb_repo.write(sign_with=gpg_key, binary_all=True, release_fields={"Architectures": "amd64 i386"})
    stale = deb_repo.root / "dists" / "s" / "main" / "binary-all" / "Packages"
    stale.write_bytes(b"garbage that does not match the Release\n")
    lean = load_debian([src], architectures=["amd64"], cache_dir=tmp_path / "c").universe
    assert len(lean.shards) == 1 and [c.arch for c in lean.candidates("common")] == ["all"]


def test_http_then_warm_then_offline(
    deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpgv_runs: list[str] = []
    real_gpgv = release_module.gpgv
    monkeypatch.setattr(release_module, "gpgv", lambda *a: gpgv_runs.append(a[-1]) or real_gpgv(*a))
    fill(deb_repo)
    deb_repo.write(compressions=(".gz", ".xz"), sign_with=gpg_key, by_hash=True)
    cache = tmp_path / "cache"
    with serve_directory(deb_repo.root) as server:
        src = source(deb_repo, gpg_key, ("stable", "updates"), uri=server.url)
        first = load_debian([src], architectures=None, cache_dir=cache)
        assert versions(first.universe, "hello") == ["1.0-1", "1.1-1"]
        paths = [r.path for r in server.requests]
        assert "/dists/stable/InRelease" in paths
        assert any("/by-hash/SHA256/" in p for p in paths)  # Acquire-By-Hash honoured
        assert len(gpgv_runs) == 2
        server.requests.clear()
        warm = load_debian([src], architectures=None, cache_dir=cache)
        assert len(gpgv_runs) == 2  # the same InRelease bytes, verified before with the same key
        assert sorted(r.path for r in server.requests) == [
            "/dists/stable/InRelease",
            "/dists/updates/InRelease",
        ]
        assert warm.indexes == first.indexes
        server.requests.clear()
        offline = load_debian([src], architectures=None, cache_dir=cache, offline=True)
        assert server.requests == []
        assert offline.indexes == first.indexes
        assert versions(offline.universe, "hello") == ["1.0-1", "1.1-1"]
    with pytest.raises(OfflineMiss):
        load_debian([src], architectures=None, cache_dir=tmp_path / "empty", offline=True)


def test_signatures(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.write(sign_with=gpg_key)
    inrelease = deb_repo.root / "dists/stable/InRelease"
    good = inrelease.read_bytes()
    inrelease.write_bytes(good.replace(b"Label: Bundler Tests", b"Label: Evil Tests"))
    with pytest.raises(SignatureError, match="bad signature") as e:
        load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")
    assert "InRelease" in str(e.value)
    # Without InRelease: Release + Release.gpg is verified instead.
    inrelease.unlink()
    loaded = load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")
    assert versions(loaded.universe, "hello") == ["1.0-1"]
    # Unsigned but signed-by given: refused. Trusted: accepted.
    (deb_repo.root / "dists/stable/Release.gpg").unlink()
    with pytest.raises(SignatureError, match="not signed"):
        load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")
    trusted = source(deb_repo, None, trusted=True)
    assert versions(load_debian([trusted], architectures=None, cache_dir=tmp_path / "c").universe, "hello")
    # Signed by another key: refused.
    other = GpgKey.generate("Other <other@example.invalid>")
    try:
        deb_repo.write(sign_with=other)
        with pytest.raises(SignatureError):
            load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")
    finally:
        other.close()


def test_valid_until(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.write(sign_with=gpg_key, valid_until=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(ExpiredError, match="expired"):
        load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")
    loaded = load_debian(
        [source(deb_repo, gpg_key, check_valid_until=False)], architectures=None, cache_dir=tmp_path / "c"
    )
    assert versions(loaded.universe, "hello") == ["1.0-1"]
    deb_repo.write(sign_with=gpg_key, valid_until=datetime.now(UTC) + timedelta(days=1))
    load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")


def test_packages_hash_mismatch_names_the_file(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.write(compressions=(".gz",), sign_with=gpg_key)
    packages = deb_repo.root / "dists/stable/main/binary-amd64/Packages.gz"
    packages.write_bytes(compress(b"Package: evil\nVersion: 1\nArchitecture: amd64\n", ".gz"))
    with pytest.raises(IntegrityError, match="SHA256|size") as e:
        load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")
    assert "main/binary-amd64/Packages.gz" in str(e.value)


def test_truncated_xz(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    (release,) = deb_repo.write(compressions=(".xz",), sign_with=gpg_key)[:1]
    packages = deb_repo.root / "dists/stable/main/binary-amd64/Packages.xz"
    packages.write_bytes(packages.read_bytes()[:-30])
    deb_repo.relist(release, sign_with=gpg_key)  # the Release now vouches for the truncated file
    with pytest.raises(ParseError, match="corrupt or truncated xz") as e:
        load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")
    assert "main/binary-amd64/Packages.xz" in str(e.value)


@pytest.mark.parametrize("ext", [e for e in COMPRESSIONS if e])
def test_decompress_rejects_truncated(ext: str) -> None:
    data = b"Package: a\nVersion: 1\n\n" * 200
    packed = compress(data, ext)
    assert decompress(packed, ext, "u") == data
    with pytest.raises(ParseError, match="corrupt or truncated") as e:
        decompress(packed[: len(packed) // 2], ext, "http://x/Packages" + ext)
    assert e.value.where == "http://x/Packages" + ext


def test_choose_prefers_cheap_total_cost() -> None:
    bookworm = {"": 50_060_337, ".gz": 12_084_798, ".xz": 8_790_396}
    assert choose(bookworm, uncompressed_size=50_060_337)[0] == ".gz"
    assert choose(bookworm, uncompressed_size=50_060_337, local=True)[0] == ""
    assert choose({".xz": 100, ".bz2": 90})[0] == ".xz"
    assert lzma  # the stdlib codec behind .xz


def test_malformed_stanza(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.add_raw_stanza(
        "stable", "main", "amd64", "Package: broken\nthis line has no colon\nVersion: 1\n"
    )
    deb_repo.write(sign_with=gpg_key)
    with pytest.raises(ParseError, match="malformed line") as e:
        load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c")
    assert "main/binary-amd64/Packages" in str(e.value)
    assert e.value.where is not None and e.value.where.rsplit(":", 1)[1].isdigit()  # the line number


def test_invalid_version_names_the_package(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.add_raw_stanza(
        "stable", "main", "amd64",
        "Package: badver\nVersion: not a version!\nArchitecture: amd64\nFilename: x.deb\nSize: 1\n"
        "SHA256: " + "0" * 64 + "\n",
    )  # fmt: skip
    deb_repo.write(sign_with=gpg_key)
    u = load_debian([source(deb_repo, gpg_key)], architectures=None, cache_dir=tmp_path / "c").universe
    with pytest.raises(ParseError, match="badver") as e:
        u.candidates("badver")
    assert "Packages" in str(e.value)


def test_flat_repository(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.write_flat("flat/", suite="stable", sign_with=gpg_key)
    src = AptSource(deb_repo.root.as_uri(), ("flat/",), (), ("amd64",), signed_by=str(gpg_key.keyring))
    loaded = load_debian([src], architectures=None, cache_dir=tmp_path / "c")
    (hello,) = loaded.universe.candidates("hello")
    assert hello.origin is not None and hello.origin.repository == f"{deb_repo.root.as_uri()} flat/"
    assert (deb_repo.root / hello.origin.filename).is_file()
    assert loaded.indexes[0][0] == f"{deb_repo.root.as_uri()} flat/"
    # "./" — the Release at the top of the URI.
    top = DebRepo(tmp_path / "top")
    top.add("x", "main", name="solo", version="1")
    top.write_flat("./", sign_with=gpg_key)
    src = AptSource(top.root.as_uri(), ("./",), (), ("amd64",), signed_by=str(gpg_key.keyring))
    assert [
        c.name
        for c in load_debian([src], architectures=None, cache_dir=tmp_path / "c").universe.candidates("solo")
    ]


def test_missing_component_is_an_error(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.write(sign_with=gpg_key)
    with pytest.raises(ParseError, match="non-free"):
        load_debian(
            [source(deb_repo, gpg_key, components=("non-free",))], architectures=None, cache_dir=tmp_path
        )


def test_stale_or_damaged_cache_is_a_miss(deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path) -> None:
    fill(deb_repo)
    deb_repo.write(compressions=(".xz",), sign_with=gpg_key)
    src = source(deb_repo, gpg_key, ("stable", "updates"))
    cache = tmp_path / "cache"
    load_debian([src], architectures=None, cache_dir=cache)
    wait_for_writes()  # the index files are written behind the load
    damaged = sorted((cache / "deb" / "indexes").rglob("*.idx"))
    assert len(damaged) >= 3  # each kind of damage below
    # Written by an older bundler; cut short (the text after the table is mapped, not read: a stanza
    # past the end must be found missing when the file is opened, not when the solve gets there); empty.
    for n, path in enumerate(damaged):
        whole = path.read_bytes()
        path.write_bytes([b"written by an older bundler", whole[: len(whole) - 10], b""][n % 3])
    with pytest.raises(OfflineMiss):
        load_debian([src], architectures=None, cache_dir=cache, offline=True)
    healed = load_debian([src], architectures=None, cache_dir=cache)
    assert versions(healed.universe, "hello") == ["1.0-1", "1.1-1"]
    assert versions(load_debian([src], architectures=None, cache_dir=cache, offline=True).universe, "hello")


def test_an_index_cache_that_cannot_be_written_is_a_warning(
    deb_repo: DebRepo,
    gpg_key: GpgKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The index is stored on a thread behind the load: a full disk there must not fail the load, only
    # say so; the next offline load then finds no index and says that.
    fill(deb_repo)
    deb_repo.write(sign_with=gpg_key)
    src = source(deb_repo, gpg_key)
    cache = tmp_path / "cache"
    write = cache_module.write_atomic

    def full_disk(path: Path, data: bytes | str, mode: int = 0o644) -> None:
        if path.suffix == ".idx":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(path, data, mode)

    monkeypatch.setattr(cache_module, "write_atomic", full_disk)
    loaded = load_debian([src], architectures=None, cache_dir=cache)
    wait_for_writes()
    assert versions(loaded.universe, "hello") == ["1.0-1"]
    assert "index cache not stored" in capsys.readouterr().err
    monkeypatch.setattr(cache_module, "write_atomic", write)
    with pytest.raises(OfflineMiss, match="not in the cache"):
        load_debian([src], architectures=None, cache_dir=cache, offline=True)


@pytest.mark.parametrize("mapped", [True, False])
def test_cached_indexes_read_mapped_or_whole(
    deb_repo: DebRepo, gpg_key: GpgKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapped: bool
) -> None:
    # Big cache files are mapped into memory, small ones read whole (a map keeps a descriptor open:
    # a thousand mapped indexes would run out of them). Both give the same universe.
    fill(deb_repo)
    deb_repo.write(sign_with=gpg_key)
    src = source(deb_repo, gpg_key, ("stable", "updates"))
    cache = tmp_path / "cache"
    load_debian([src], architectures=None, cache_dir=cache)
    wait_for_writes()
    monkeypatch.setattr(cache_module, "_MAP_AT", 0 if mapped else 1 << 40)
    fds = len(os.listdir("/proc/self/fd"))
    loaded = load_debian([src], architectures=None, cache_dir=cache, offline=True)
    assert versions(loaded.universe, "hello") == ["1.0-1", "1.1-1"]
    held = len(os.listdir("/proc/self/fd")) - fds
    assert (held > 0) if mapped else (held == 0)
