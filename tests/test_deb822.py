"""repos.deb822: the one strict deb822 reader (Debian Policy §5.1) and the callers that now share it."""

from __future__ import annotations

import pytest

from bundler.build.debfile import parse_stanza, parse_stanzas
from repos.deb.release import parse_release
from repos.deb.sources import parse_deb822_sources
from repos.deb822 import read_stanza, read_stanzas, value_lines
from repos.errors import ParseError
from solver.errors import InputError


def test_stanzas_fields_lines_and_continuations() -> None:
    text = "# head\nPackage: a\nDescription: short\n long\n .\n more  \n\n \n\nPackage: b\r\nVersion: 2\r\n"
    a, b = read_stanzas(text, "P")
    assert (a.line, b.line) == (2, 10)
    assert list(a.items()) == [("Package", "a"), ("Description", "short\n long\n .\n more")]
    assert value_lines(a["Description"]) == ["short", "long", "", "more"]
    assert dict(b) == {"Package": "b", "Version": "2"}


def test_field_names_ignore_case() -> None:
    s = read_stanza("package: a\nPRE-DEPENDS: c\n", "P")
    assert s["Package"] == "a" and s.get("Pre-Depends") == "c" and "pre-depends" in s
    assert s.get("Depends") is None and s.get("Depends", "") == "" and "Depends" not in s
    assert list(s) == ["package", "PRE-DEPENDS"]  # as written
    with pytest.raises(KeyError):
        s["Version"]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("Package: a\nnot a field\n", "malformed line", 2),
        ("Package: a\nBad Name: x\n", "malformed line", 2),
        ("Package: a\n: x\n", "malformed line", 2),
        ("Package: a\n-Dash: x\n", "malformed line", 2),
        ("\n\n continued\nPackage: a\n", "continuation line outside a field", 3),
        ("Package: a\nVersion: 1\nVersion: 2\n", "appears twice", 3),
    ],
)
def test_bad_line_is_one_input_error_with_file_and_line(text: str, message: str, line: int) -> None:
    with pytest.raises(ParseError, match=message) as e:
        list(read_stanzas(text, "dir/Packages"))
    assert isinstance(e.value, InputError) and e.value.where == f"dir/Packages:{line}"


def test_a_name_twice_in_two_cases_is_an_error_when_looked_up() -> None:
    """Checked on the first lookup by another case (checking every stanza as it is read would cost a
    third more time on a big index); a lookup as written is unambiguous."""
    _, b = read_stanzas("Package: a\n\nPackage: b\nversion: 1\nVersion: 2\n", "dir/Packages")
    assert b["Version"] == "2"
    with pytest.raises(ParseError, match="field version appears twice in a stanza") as e:
        b.get("VERSION")
    assert e.value.where == "dir/Packages:3"


def test_comments_only_where_the_format_allows_them() -> None:
    assert dict(read_stanza("# c\nA: 1\n", "x.sources")) == {"A": "1"}
    with pytest.raises(ParseError, match="malformed line") as e:
        list(read_stanzas("A: 1\n# c\n", "Release", comments=False))
    assert e.value.where == "Release:2"


def test_bytes_must_be_utf8_and_pieces_name_the_file_alone() -> None:
    with pytest.raises(ParseError, match="not UTF-8") as e:
        list(read_stanzas(b"A: 1\nB: \xff\n", "P"))
    assert e.value.where == "P:2"
    with pytest.raises(ParseError) as e:
        read_stanza("A: 1\nbad\n", "P: package a", first_line=None)
    assert e.value.where == "P: package a"
    with pytest.raises(ParseError, match="more than one stanza") as e:
        read_stanza("A: 1\n\nB: 2\n", "control")
    assert e.value.where == "control:3"
    assert read_stanza("\n \n", "empty") == {}


def test_callers_share_the_reader() -> None:
    # Release: one stanza, no comments, names in any case, line-numbered errors.
    h = "0" * 64
    rel = parse_release(f"suite: s\nsha256:\n {h} 3 main/binary-amd64/Packages\n".encode(), "R")
    assert rel.fields.get("Suite") == "s" and list(rel.files) == ["main/binary-amd64/Packages"]
    with pytest.raises(ParseError) as e:
        parse_release(b"Suite: s\n# no comments here\n", "R")
    assert e.value.where == "R:2"
    # apt .sources: comments, any case, an inline key with " ." for its empty line.
    src = "# mine\nTYPES: deb\nuris: http://h/d\nSuites: s\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n k\n"
    (one,) = parse_deb822_sources(src, "amd64", "x.sources")
    assert one.uri == "http://h/d" and one.signed_by == "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nk"
    with pytest.raises(ParseError) as e:
        list(parse_deb822_sources("Types: deb\nURIs: a\nURIs: b\n", "amd64", "x.sources"))
    assert e.value.where == "x.sources:3"
    # The build's control/Packages helpers: fields in order, errors name the file and line.
    assert parse_stanza("Package: a\nDescription: x\n y\n") == [("Package", "a"), ("Description", "x\n y")]
    assert parse_stanzas("A: 1\n\n\nB: 2\n") == [[("A", "1")], [("B", "2")]]
    with pytest.raises(InputError) as e:
        parse_stanza("Package: a\nnot a field\n", "pool/a.deb")
    assert e.value.where == "pool/a.deb:2"


def test_a_big_packages_file_reads_whole() -> None:
    """~63,000 stanzas of 19 fields (the size of Debian main amd64): every one read, the last one
    whole. Its speed is measured in repos/deb822.py's docstring, never asserted here."""
    stanza = "".join(f"Field-{k}: value {k}\n" for k in range(17)) + "Description: d\n more\n"
    text = "\n".join(f"Package: p{i}\n{stanza}" for i in range(63_000))
    stanzas = list(read_stanzas(text, "P"))
    assert len(stanzas) == 63_000
    assert stanzas[-1]["package"] == "p62999" and stanzas[-1]["DESCRIPTION"] == "d\n more"


def test_the_compact_index_hands_its_stanzas_to_the_reader() -> None:
    """The fast path checks line shapes only; a name with a space is caught when the stanza is read,
    naming the index and the package."""
    from repos.deb.cache import build_compact
    from repos.deb.universe import LazyDebUniverse, Shard

    h = "a" * 64
    good = f"Package: a\nVersion: 1\nArchitecture: all\nFilename: a.deb\nSize: 1\nSHA256: {h}\n"
    index = build_compact(f"{good}\nPackage: b\nVersion: 1\nBad Name: x\n".encode(), "P")
    universe = LazyDebUniverse(
        [Shard(index, "r s main", "P", 0)], native_arch="amd64", architectures=("amd64",)
    )
    assert [c.name for c in universe.candidates("a")] == ["a"]
    with pytest.raises(ParseError, match="malformed line 'Bad Name: x'") as e:
        universe.candidates("b")
    assert e.value.where == "P: package b"


def test_line_numbers_count_from_first_line_and_shape_only_is_lenient() -> None:
    (s,) = read_stanzas("\nA: 1\n", "P", first_line=10)
    assert s.line == 11
    with pytest.raises(ParseError) as e:
        list(read_stanzas("A: 1\nbad\n", "P", first_line=10))
    assert e.value.where == "P:11"
    # What the compact index's scanner accepts (it checks line shapes only) is read the same here.
    assert read_stanza("Package: a\n-X: 1\nP: 1\nP: 2\n", "P", shape_only=True) == {
        "Package": "a",
        "-X": "1",
        "P": "2",
    }
    assert read_stanza("Package: a\nSome Field: 1\n", "P", shape_only=True)["Some Field"] == "1"
    with pytest.raises(ParseError, match="malformed line"):
        read_stanza("Package: a\ngarbage\n", "P", shape_only=True)
