"""repos.deb: apt sources files, Packages parsing, the compact index, and the deb822 reader agreeing with apt."""

from __future__ import annotations

from pathlib import Path

import pytest

from repos.deb.cache import CompactIndex, build_compact
from repos.deb.packages import parse_packages, to_candidate
from repos.deb.sources import AptSource, read_apt_sources
from repos.deb822 import read_stanza, read_stanzas
from repos.errors import ParseError
from tests.support.debrepo import DebRepo

try:
    import apt_pkg

    HAVE_APT_PKG = True
except ImportError:  # pragma: no cover - python-apt is optional
    HAVE_APT_PKG = False
needs_apt = pytest.mark.skipif(not HAVE_APT_PKG, reason="python-apt is not importable")


def _apt_stanzas(data: bytes, tmp: Path) -> list[dict[str, str]]:
    """What apt's own TagFile (the real client's C++ reader) makes of `data`."""
    path = tmp / "Packages"
    path.write_bytes(data)
    with open(path, "rb") as f:
        return [{k: section[k] for k in section.keys()} for section in apt_pkg.TagFile(f)]


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_apt_sources_one_line_and_deb822(tmp_path: Path) -> None:
    write(
        tmp_path,
        "etc/apt/sources.list",
        """\
# a comment
deb http://mirror.example/debian bookworm main contrib   # trailing comment
deb-src http://mirror.example/debian bookworm main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/x.gpg check-valid-until=no] http://m.example/d/ sid main
deb [trusted=yes] file:///srv/flat ./

""",
    )
    write(
        tmp_path,
        "etc/apt/sources.list.d/b.sources",
        """\
Types: deb deb-src
URIs: http://a.example/debian http://b.example/debian
Suites: bookworm bookworm-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

# disabled
Enabled: no
Types: deb
URIs: http://disabled.example/
Suites: x
Components: main

Types: deb-src
URIs: http://src-only.example/
Suites: x
Components: main

Types: deb
URIs: http://inline.example/
Suites: y/
Architectures: i386
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mDMEZQ==
 -----END PGP PUBLIC KEY BLOCK-----
""",
    )
    write(tmp_path, "etc/apt/sources.list.d/a.list", "deb [arch+=i386] http://c.example/ stable main\n")
    write(tmp_path, "etc/apt/sources.list.d/ignored.txt", "deb http://ignored.example/ x main\n")
    got = read_apt_sources(tmp_path, native_arch="amd64")
    assert got[:3] == [
        AptSource("http://mirror.example/debian", ("bookworm",), ("main", "contrib"), ("amd64",)),
        AptSource("http://m.example/d", ("sid",), ("main",), ("amd64", "arm64"), "/usr/share/keyrings/x.gpg",
                  check_valid_until=False),
        AptSource("file:///srv/flat", ("./",), (), ("amd64",), trusted=True),
    ]  # fmt: skip
    assert got[3] == AptSource("http://c.example", ("stable",), ("main",), ("amd64", "i386"))
    key = "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert got[4:6] == [
        AptSource(u, ("bookworm", "bookworm-updates"), ("main", "non-free-firmware"), ("amd64",), key)
        for u in ("http://a.example/debian", "http://b.example/debian")
    ]
    inline = got[6]
    assert inline.is_flat and inline.architectures == ("i386",)
    assert inline.signed_by is not None and inline.signed_by.startswith(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
    )
    assert len(got) == 7


def test_apt_sources_errors(tmp_path: Path) -> None:
    write(tmp_path, "etc/apt/sources.list", "deb http://x.example/ bookworm\n")
    with pytest.raises(ParseError, match="component") as e:
        read_apt_sources(tmp_path, native_arch="amd64")
    assert e.value.where is not None and e.value.where.endswith("sources.list:1")
    write(tmp_path, "etc/apt/sources.list", "")
    write(
        tmp_path,
        "etc/apt/sources.list.d/x.sources",
        "Types: deb\nURIs: http://x/\nSuites: a\nComponents: main\nEnabled: maybe\n",
    )
    with pytest.raises(ParseError, match="yes or no"):
        read_apt_sources(tmp_path, native_arch="amd64")
    assert read_apt_sources(tmp_path / "nothing", native_arch="amd64") == []


TRICKY = b"""\
Package: alpha
Version: 1:2.0~rc1-3
Architecture: amd64
Depends: libc6 (>= 2.36), foo | bar (<< 3)
Description: short
 long line one
 .
 long line three
Filename: pool/main/a/alpha/alpha_2.0~rc1-3_amd64.deb
Size: 10
SHA256: %(h)s

Package: beta
Source: beta-src (0.9-1)
Version: 1.0-1+b1
Architecture: all
Multi-Arch: foreign
Provides: beta-virtual (= 1.0), other
X-Empty:
 continued
Filename: pool/main/b/beta-src/beta_1.0-1+b1_all.deb
Size: 20
SHA256: %(h)s


Package: gamma
Version: 3
Architecture: amd64
Essential: yes
Priority: required
Pre-Depends: alpha:any
Breaks: beta (<< 1.0)
Conflicts: delta
Filename: pool/main/g/gamma/gamma_3_amd64.deb
Size: 30
SHA256: %(h)s
""" % {b"h": b"a" * 64}


@needs_apt
def test_reader_agrees_with_apt(deb_repo: DebRepo, tmp_path: Path) -> None:
    ours = list(read_stanzas(TRICKY, "P"))
    assert ours == _apt_stanzas(TRICKY, tmp_path)
    assert ours[0]["Description"] == "short\n long line one\n .\n long line three"
    assert ours[1]["X-Empty"] == "continued"
    # A generated index too.
    for i in range(30):
        deb_repo.add("s", "main", name=f"p{i}", version=f"{i}.0", depends=f"p{i + 1} (>= 1)",
                     provides="v" if i % 3 == 0 else None, extra_fields={"Homepage": "https://x.invalid/"})  # fmt: skip
    deb_repo.write(compressions=("",))
    data = (deb_repo.root / "dists/s/main/binary-amd64/Packages").read_bytes()
    assert list(read_stanzas(data, "P")) == _apt_stanzas(data, tmp_path)


def test_reader_rejects_malformed() -> None:
    bad = b"Package: a\nVersion: 1\n\nPackage: b\nnot a field\nVersion: 2\n"
    with pytest.raises(ParseError, match="malformed line") as e:
        list(read_stanzas(bad, "Packages"))
    assert e.value.where == "Packages:5"


def test_candidate_fields() -> None:
    a, b, g = parse_packages(TRICKY, "P", repository="r s main", rank=2, native_arch="amd64")
    assert (a.name, a.version, a.arch, a.source, a.source_version) == (
        "alpha",
        "1:2.0~rc1-3",
        "amd64",
        "alpha",
        "1:2.0~rc1-3",
    )
    assert [[str(d) for d in grp] for grp in a.depends] == [["libc6 (>= 2.36)"], ["foo", "bar (<< 3)"]]
    assert (b.source, b.source_version, b.multi_arch) == ("beta-src", "0.9-1", "foreign")
    assert [str(p) for p in b.provides] == ["beta-virtual (= 1.0)", "other"]
    assert g.essential and g.priority == "required" and str(g.pre_depends[0][0]) == "alpha:any"
    assert [str(d) for d in g.breaks] == ["beta (<< 1.0)"] and [str(d) for d in g.conflicts] == ["delta"]
    assert (
        g.origin is not None
        and g.origin.rank == 2
        and g.origin.repository == "r s main"
        and g.origin.size == 30
    )
    with pytest.raises(ParseError, match="zeta"):
        to_candidate({"Package": "zeta", "Version": "1", "Architecture": "amd64"}, where="P", repository="r",
                      rank=0, native_arch="amd64")  # fmt: skip


def test_compact_index_round_trip_matches_full_parse() -> None:
    index = build_compact(TRICKY, "P")
    assert index.names == ["alpha", "beta", "gamma"]
    assert index.provides == {"beta-virtual": ("beta",), "other": ("beta",)}
    assert index.base == ("gamma",)
    again = CompactIndex.from_bytes(index.to_bytes(), "cache")
    assert again.provides == index.provides and again.base == index.base
    full = {c.name: c for c in parse_packages(TRICKY, "P", repository="r")}
    for name in index.names:
        (text,) = again.stanzas(name)
        assert text == index.stanzas(name)[0]
        c = to_candidate(read_stanza(text, "P"), where="P", repository="r", rank=0, native_arch="amd64")
        assert c == full[name] and c.origin == full[name].origin
    with pytest.raises(ParseError, match="corrupt cache"):
        CompactIndex.from_bytes(b"garbage", "cachefile")


def _generated_packages(deb_repo: DebRepo) -> bytes:
    for i in range(40):
        deb_repo.add("s", "main", name=f"p{i % 30}", version=f"{i}.0", depends=f"p{i + 1} (>= 1) | q",
                     provides="v, w (= 1)" if i % 3 == 0 else None, essential=i == 7,
                     extra_fields={"Homepage": "https://x.invalid/", "Description": "d: x\n long\n .\n more",
                                   "Tag": "a::b,\n\tc::d"})  # fmt: skip
    deb_repo.write(compressions=("",))
    return (deb_repo.root / "dists/s/main/binary-amd64/Packages").read_bytes()


@pytest.mark.parametrize("layout", ["as written", "CRLF", "comments and blank runs", "no final newline"])
def test_compact_index_matches_the_full_parse(deb_repo: DebRepo, layout: str) -> None:
    data = _generated_packages(deb_repo)
    expected: dict[str, list[dict[str, str]]] = {}
    for fields in read_stanzas(data, "P"):
        expected.setdefault(fields["Package"], []).append(fields)
    if layout == "CRLF":
        data = data.replace(b"\n", b"\r\n")
    elif layout == "comments and blank runs":
        data = b"\n# head\n" + data.replace(b"\n\n", b"\n\n\n# between\n\n") + b"\n\n\n"
    elif layout == "no final newline":
        data = data.rstrip(b"\n")
    index = build_compact(data, "P")
    again = CompactIndex.from_bytes(index.to_bytes(), "cache")
    assert index.names == again.names == sorted(expected)
    providers = tuple(
        sorted({n for n, versions in expected.items() if any("Provides" in f for f in versions)})
    )
    assert len(providers) == 10 and index.provides == again.provides == {"v": providers, "w": providers}
    assert index.base == again.base == ("p7",)
    for name in index.names:
        assert [read_stanza(t, "P", first_line=None) for t in again.stanzas(name)] == expected[name]  # in file order


def test_compact_index_reads_stanzas_not_starting_with_package() -> None:
    data = b"Priority: required\nProvides: v (= 1)\nPackage: a\nVersion: 1\n\nVersion: 2\nProvides: w\nPackage: b\n"
    index = build_compact(data, "P")
    assert index.names == ["a", "b"] and index.base == ("a",)
    assert index.provides == {"v": ("a",), "w": ("b",)}
    assert read_stanza(index.stanzas("b")[0], "P") == {"Version": "2", "Provides": "w", "Package": "b"}


@pytest.mark.parametrize(
    ("bad", "line"),
    [
        (b"garbage", 3),
        (b"garbage with spaces", 3),
        (b"garbage\twith a tab", 3),
        (b"\tcontinued: with a tab", None),
        (b" continued", None),
        (b"garbage\n", 3),
    ],
)
def test_compact_index_names_the_malformed_line(bad: bytes, line: int | None) -> None:
    data = b"Package: a\nVersion: 1\n" + bad + b"\nArchitecture: all\n\nPackage: b\nVersion: 2\n"
    if line is None:  # a continuation line: fine
        assert build_compact(data, "P").names == ["a", "b"]
        return
    with pytest.raises(ParseError, match="malformed line") as e:
        build_compact(data, "P")
    assert e.value.where == f"P:{line}"


def test_compact_index_rejects_malformed() -> None:
    with pytest.raises(ParseError) as e:
        build_compact(TRICKY + b"\nPackage: z\ngarbage\nVersion: 1\n", "P")
    line = TRICKY.count(b"\n") + 3
    assert e.value.where == f"P:{line}"
    with pytest.raises(ParseError, match="continuation"):
        build_compact(b" leading continuation\nPackage: a\n", "P")
    with pytest.raises(ParseError, match="NUL"):
        build_compact(b"Package: a\x00\n", "P")
    # Comments and runs of blank lines are fine.
    ok = build_compact(b"# comment\n\n\n\nPackage: a\nVersion: 1\n\n\n\nPackage: b\nVersion: 2\n", "P")
    assert ok.names == ["a", "b"]


def test_compact_index_keeps_fields_apart() -> None:
    # The last field of a stanza is not the last of the solver's field order.
    index = build_compact(b"Package: a\nFilename: f.deb\nSize: 3\nVersion: 1\n\nPackage: b\nVersion: 2", "P")
    (a,) = index.stanzas("a")
    assert read_stanza(a, "P") == {"Package": "a", "Filename": "f.deb", "Size": "3", "Version": "1"}
    assert [read_stanza(t, "P", first_line=None) for t in index.stanzas("b")] == [{"Package": "b", "Version": "2"}]


def test_a_cache_file_of_format_4_is_read_and_rewritten_in_this_format(tmp_path: Path) -> None:
    """Format 4 kept the name table as a zstandard frame; format 5 keeps it as it is (no zstandard on a
    warm solve). A cache of format 4 is still read, offline too, and rewritten behind the solve."""
    import struct

    import zstandard

    from repos.deb.cache import _FORMAT_4, FORMAT, Cache

    index = build_compact(TRICKY, "P")
    new = index.to_bytes()
    assert new.startswith(FORMAT)
    (table_len,) = struct.unpack_from("<Q", new, len(FORMAT))
    start = len(FORMAT) + 8
    frame = zstandard.ZstdCompressor(level=1).compress(new[start : start + table_len])
    old = _FORMAT_4 + struct.pack("<Q", len(frame)) + frame + new[start + table_len :]
    cache = Cache(tmp_path)
    path = cache.index_path("ab" * 32, "main/binary-amd64/Packages")
    path.parent.mkdir(parents=True)
    path.write_bytes(old)
    got = cache.read_index("ab" * 32, "main/binary-amd64/Packages")
    assert got is not None and got.old_format
    assert got.names == index.names and got.provides == index.provides and got.base == index.base
    assert [got.stanzas(n) for n in got.names] == [index.stanzas(n) for n in index.names]
    again = cache.read_index("ab" * 32, "main/binary-amd64/Packages")  # waits for the rewrite
    assert again is not None and not again.old_format and path.read_bytes() == new
    path.write_bytes(_FORMAT_4 + struct.pack("<Q", 5) + b"12345" + b"text")  # not a zstandard frame
    with pytest.raises(ParseError, match="corrupt cache"):
        CompactIndex.from_bytes(path.read_bytes(), "cachefile")
    assert cache.read_index("ab" * 32, "main/binary-amd64/Packages") is None and not path.exists()
