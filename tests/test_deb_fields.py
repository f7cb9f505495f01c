"""The compiled field reader (repos/deb/_fields.c) finds exactly what the strict reader finds.

`candidate_from_stanza` takes the compiled reader's values when it gives them (a stanza of the usual
shape) and the strict deb822 reader's otherwise; both must give the same candidate, and any stanza the
strict reader rejects must go to it, so that its error is the one a person reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import repos.deb.packages as packages
from repos.deb822 import read_stanza
from repos.errors import ParseError
from solver.errors import InputError

compiled = packages._compiled_values
SHA = "ab" * 32


def test_the_compiled_reader_is_built() -> None:
    # CI installs a C compiler and Python's headers (scripts/dev): a silent fallback would lose the speed.
    assert compiled is not None, "repos.deb._fields is not built (pip install -e . with gcc and python3-dev)"


def _python_values(data: bytes) -> Any:
    try:
        return tuple(packages._values(read_stanza(data, "P", first_line=None)))
    except ParseError as e:
        return ("error", str(e))


def _with_and_without_compiled(data: bytes) -> tuple[Any, Any]:
    """candidate_from_stanza with the compiled readers and with none: (candidate or error) twice."""
    saved = packages._compiled_values, packages._compiled_candidate
    out = []
    for use in (True, False):
        packages._compiled_values, packages._compiled_candidate = saved if use else (None, None)
        try:
            c = packages.candidate_from_stanza(data, where="P", repository="r", rank=3, native_arch="amd64")
            # every field, the origin and the key too (they are not part of a candidate's ==)
            out.append((c, c.origin, c.key, {f: getattr(c, f) for f in packages._CANDIDATE_FIELDS}))
        except ParseError as e:
            out.append(("error", str(e), e.where))
        finally:
            packages._compiled_values, packages._compiled_candidate = saved
    return out[0], out[1]


@pytest.fixture
def both() -> Iterator[Any]:
    yield _with_and_without_compiled


USUAL = f"""\
Package: libfoo1
Source: foo (1.2-3)
Version: 1.2-3+b1
Architecture: amd64
Multi-Arch: same
Pre-Depends: libc6 (>= 2.34)
Depends: libbar2 (>= 2) | libbaz, libqux [amd64],
 libquux:any
Recommends: foo-data
Breaks: libfoo0 (<< 1)
Conflicts: libfoo0
Provides: libfoo (= 1.2)
Description: the foo library
 with a long
 .
 description é
Filename: pool/main/f/foo/libfoo1_1.2-3+b1_amd64.deb
Size: 1234
SHA256: {SHA}
Priority: optional
""".encode()


def test_a_usual_stanza_takes_the_compiled_path(both: Any) -> None:
    if compiled is None:
        pytest.skip("repos.deb._fields is not built")
    values = compiled(USUAL, packages._WANTED_BYTES)
    assert values is not None
    assert values == _python_values(USUAL)
    assert values[packages._WANTED.index("depends")] == "libbar2 (>= 2) | libbaz, libqux [amd64],\n libquux:any"
    fast, slow = both(USUAL)
    assert fast == slow
    c = fast[0]
    assert (c.name, c.version, c.source, c.source_version, c.multi_arch) == (
        "libfoo1", "1.2-3+b1", "foo", "1.2-3", "same"
    )  # fmt: skip
    assert [str(d) for d in c.provides] == ["libfoo (= 1.2)"]


@pytest.mark.parametrize(
    "data",
    [
        b"Package: a\r\nVersion: 1\r\n",  # CR
        b"Package: a\x00\n",  # NUL
        b"# comment\nPackage: a\n",  # comment line
        b"Package: a\n# comment\n more\n",
        b"Package: a\ngarbage\n",  # no colon
        b"Package: a\n: empty name\n",
        b"Package: a\n-X: 1\n",  # a name starting with "-"
        b"Package: a\nSome Field: 1\n",  # a space in a name
        b"Package: a\nVersion: 1\nversion: 2\n",  # a name twice, in two cases
        b"Package: a\nDescription: x\nDescription: y\n",  # an unwanted name twice
        b"Package: a\n\nPackage: b\n",  # two stanzas
        b" Package: a\n",  # a continuation first
        b"Package: a\nX: \xff\n",  # not UTF-8, in a field nobody asked for
        b"Package: \xc3\xa9\n",  # a value starting with a non-ASCII character
        b"Package: a\nVersion: 1\xc2\xa0\n",  # ending with a no-break space (str.strip removes it)
        b"Package: a\nX\xc3\xa9: 1\n",  # a non-ASCII name
        b"Package: a\nDescription: x\n \xc2\xa0\n more\n",  # a line of no-break space: blank to str.strip
        b"Package: a\nDescription: x\n \xe2\x80\xa8\n",  # U+2028, the same
    ],
)
def test_what_the_compiled_reader_leaves_to_python(data: bytes, both: Any) -> None:
    if compiled is None:
        pytest.skip("repos.deb._fields is not built")
    assert compiled(data, packages._WANTED_BYTES) is None
    fast, slow = both(data)
    assert fast == slow


def test_errors_name_the_place_and_the_problem(both: Any) -> None:
    fast, _ = both(b"Package: a\nVersion: 1\nversion: 2\n")
    assert fast[0] == "error" and "appears twice" in fast[1] and fast[2] == "P"
    fast, _ = both(b"Package: a\nVersion: 1\nArchitecture: amd64\nX: \xff\n")
    assert fast[0] == "error" and "UTF-8" in fast[1]
    fast, _ = both(b"Package: a\nVersion: 1\nArchitecture: amd64\nDepends: b (>= \n")
    assert fast[0] == "error" and "malformed relation" in fast[1]


def test_case_of_names_does_not_matter(both: Any) -> None:
    data = f"PACKAGE: a\nversion: 1\nArchitecture: all\nDEPENDS: b\nfilename: f.deb\nsize: 3\nsha256: {SHA}\n"
    fast, slow = both(data.encode())
    assert fast == slow
    assert [str(g[0]) for g in fast[0].depends] == ["b"]


def test_the_compiled_candidate_fills_every_field() -> None:
    from dataclasses import fields

    from solver.model import DebCandidate, Dep, Origin

    assert sorted(packages._CANDIDATE_FIELDS) == sorted(f.name for f in fields(DebCandidate))
    assert sorted(packages._ORIGIN_FIELDS) == sorted(f.name for f in fields(Origin))
    assert packages._DEP_FIELDS == tuple(f.name for f in fields(Dep))  # and in this order
    if packages._compiled_candidate is None:
        pytest.skip("repos.deb._fields is not built")
    assert packages._compiled_candidate(USUAL, packages._CONTEXT, "r", 3) is None  # "[amd64]": Python's
    c = packages._compiled_candidate(USUAL.replace(b" [amd64]", b""), packages._CONTEXT, "r", 3)
    assert isinstance(c, DebCandidate) and c.key == ("libfoo1", "1.2-3+b1", "amd64")
    assert c.origin == Origin("r", "pool/main/f/foo/libfoo1_1.2-3+b1_amd64.deb", 1234, SHA, 3)


# Values of the fields a candidate is made of, usual and not (the usual ones first and more often):
# what the compiled candidate builds must be what the Python path builds, and what it leaves alone the
# Python path must decide.
def _mostly(usual: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(usual), st.sampled_from(usual), st.sampled_from(usual), st.sampled_from(odd))


_needed = {
    "Version": _mostly(["1.0-1", "2:1.2~rc1+dfsg-3", "1:a"], ["a1", "1.0é", "", "1_0"]),
    "Architecture": _mostly(["amd64", "all"], [""]),
    "Size": _mostly(["1234", "007"], ["12a", "", "\u0661"]),
    "SHA256": _mostly([SHA, SHA.upper()], [SHA[:-1], "é" * 64]),
    "Filename": _mostly(["pool/f.deb"], [""]),
}
_optional = {
    "Source": _mostly(["foo", "foo (1.0-1)", "foo ( 2:1.0 )"],
                      ["foo (1.0", "foo\t(1)", "Foo", "foo ()", "foo (é)", "foo  (1)", "f (1) x", ""]),
    "Multi-Arch": _mostly(["same", "Foreign", "ALLOWED"], ["", "né"]),
    "Essential": _mostly(["yes", "YES", "no"], ["", "é"]),
    "Priority": _mostly(["required", "optional", "Extra"], [""]),
    "Depends": _mostly(["a (>= 1) | b, c:any", "a | b"], ["a [amd64]", "", "a (>= )"]),
    "Pre-Depends": _mostly(["a (>= 1)"], ["a <!nocheck>"]),
    "Recommends": _mostly(["r | s"], [""]),
    "Breaks": _mostly(["a (<< 2)"], [""]),
    "Conflicts": _mostly(["a, b (<< 2)"], ["a | b", ""]),
    "Provides": _mostly(["v (= 1)", "v, w"], [""]),
}


@settings(max_examples=400, deadline=None)
@given(chosen=st.fixed_dictionaries(_needed, optional=_optional))
def test_the_compiled_candidate_agrees_with_the_python_path(chosen: dict[str, str]) -> None:
    if packages._compiled_candidate is None:
        pytest.skip("repos.deb._fields is not built")
    text = "Package: p\n" + "".join(f"{k}: {v}\n" for k, v in chosen.items())
    fast, slow = _with_and_without_compiled(text.encode())
    assert fast == slow
    built = packages._compiled_candidate(text.encode(), packages._CONTEXT, "r", 3)
    assert built is None or (built, built.origin, built.key) == fast[:3]


# Generated stanzas: the usual shape most of the time, with each oddity now and then.
_value = st.text(alphabet="ab1 \t(>=)|,:é\u00a0", max_size=12)
_name = st.sampled_from(
    ["Package", "package", "Version", "Architecture", "Depends", "DEPENDS", "Provides", "Source", "Size",
     "Filename", "SHA256", "Essential", "Priority", "Multi-Arch", "Description", "X-Thing", "Some Field",
     "-X", "#X", ""]
)  # fmt: skip
_continuation = st.builds(lambda ws, v: ws + v, st.sampled_from([" ", "\t", "  "]), _value)
_field = st.builds(
    lambda name, v, more: f"{name}:{v}" + "".join("\n" + m for m in more),
    _name,
    _value,
    st.lists(_continuation, max_size=2),
)
_line_end = st.sampled_from(["\n"] * 12 + ["\r\n", "\n\n", "\n \n"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.lists(st.tuples(_field, _line_end), min_size=1, max_size=8),
    lead=st.sampled_from(["", "\n", " \n", "# c\n"]),
    raw=st.sampled_from([b"", b"\xff", b"\x00"]),
)
def test_the_compiled_reader_agrees_with_the_strict_reader(fields: Any, lead: str, raw: bytes) -> None:
    if compiled is None:
        pytest.skip("repos.deb._fields is not built")
    data = (lead + "".join(f + end for f, end in fields)).encode() + raw
    values = compiled(data, packages._WANTED_BYTES)
    python = _python_values(data)
    if values is not None:  # when it answers, it answers what the strict reader answers
        assert values == python


# ---- relation fields -------------------------------------------------------------------------------
relations = packages._compiled_relations


def _python_relations(text: str, alternatives: bool) -> Any:
    from solver.relations import parse_dep_list, parse_relations

    try:
        return parse_relations(text, "amd64") if alternatives else parse_dep_list(text, "amd64")
    except InputError as e:
        return ("error", str(e))


@pytest.mark.parametrize(
    "text",
    [
        "libc6 (>= 2.34), libfoo | libbar:any (<< 3~), perl:any, c (>2), d (<1), e(=1.0-1)",
        " , x ,, ",
        "a ( >= 1.0~b )",
        "python3 (>= 3.11~), python3 (<< 3.12)",
        "",
    ],
)
def test_the_compiled_relation_parser_agrees(text: str) -> None:
    if relations is None:
        pytest.skip("repos.deb._fields is not built")
    from solver.model import Dep

    got = relations(text, True, Dep, {}, {})
    assert got is not None and got == _python_relations(text, True)
    if "|" not in text:
        assert relations(text, False, Dep, {}, {}) == _python_relations(text, False)


@pytest.mark.parametrize(
    "text",
    [
        "a [amd64]",  # an architecture restriction depends on the target: Python applies it
        "a (= 1) <!nocheck>",  # a build profile
        "a | ",  # an empty alternative: Python names it
        "a (>= )",  # no version (the pattern reads ">" "=" there; Python decides)
        "A",  # not a package name
        "a (>= 1",  # unclosed
        "a:",  # empty qualifier
        "é",  # not ASCII
        "a (~ 1)",  # no such operator
    ],
)
def test_what_the_compiled_relation_parser_leaves_to_python(text: str) -> None:
    if relations is None:
        pytest.skip("repos.deb._fields is not built")
    from solver.model import Dep

    assert relations(text, True, Dep, {}, {}) is None


def test_alternatives_in_a_conflicts_field_go_to_python() -> None:
    if relations is None:
        pytest.skip("repos.deb._fields is not built")
    from solver.model import Dep

    assert relations("a | b", False, Dep, {}, {}) is None
    assert _python_relations("a | b", False)[0] == "error"


_atom = st.builds(
    lambda name, qual, ver: name + qual + ver,
    st.sampled_from(["a", "libc6", "z9+x", "a.b-c", "0ad", "a", "libc6", "A", ""]),
    st.sampled_from(["", "", "", ":any", ":amd64", ":"]),
    st.sampled_from(["", "", "", " (>= 1.0)", "(<< 2~b)", " ( = 1:2-3 )", " (> 1)", " (< 1)", " (>= )",
                     " [amd64]", " <!nocheck>", " (=1"]),
)  # fmt: skip
_relation_text = st.lists(
    st.tuples(st.lists(_atom, min_size=1, max_size=2), st.sampled_from([",", ", ", ",\n ", " ,"])), max_size=4
).map(lambda parts: "".join(" | ".join(alts) + sep for alts, sep in parts))


@settings(max_examples=500, deadline=None)
@given(text=_relation_text, alternatives=st.booleans())
def test_the_compiled_relation_parser_agrees_when_it_answers(text: str, alternatives: bool) -> None:
    if relations is None:
        pytest.skip("repos.deb._fields is not built")
    from solver.model import Dep

    got = relations(text, alternatives, Dep, {}, {})
    if got is not None:
        assert got == _python_relations(text, alternatives)
    # Atoms made without the dataclass's __init__ (the fields named) are the same atoms.
    assert relations(text, alternatives, Dep, {}, {}, packages._DEP_FIELDS) == got


def _candidates_both_ways(index: Any, name: str) -> tuple[Any, Any]:
    """`candidates_in` with the compiled `_fields.candidates` and with the stanzas sliced out and read
    one by one: (candidates, with their origins and keys, or the error) twice."""
    saved = packages._compiled_candidates
    out = []
    for use in (True, False):
        packages._compiled_candidates = saved if use else None
        try:
            found = packages.candidates_in(index, name, where="P", repository="r", rank=3, native_arch="amd64")
            out.append([(c, c.origin, c.key) for c in found])
        except ParseError as e:
            out.append(("error", str(e), e.where))
        finally:
            packages._compiled_candidates = saved
    return out[0], out[1]


def test_the_stanzas_of_a_name_read_in_place_are_those_read_one_by_one() -> None:
    from repos.deb.cache import CompactIndex, build_compact

    if packages._compiled_candidates is None:
        pytest.skip("repos.deb._fields is not built")
    plain = USUAL.replace(b" [amd64]", b"")
    newer = plain.replace(b"1.2-3+b1", b"1.2-4")
    unusual = USUAL.replace(b"1.2-3+b1", b"1.2-5")  # "[amd64]": the Python path's
    text = b"\n".join([plain, newer, unusual, plain.replace(b"libfoo1", b"other")])
    for index in (build_compact(text, "P"), CompactIndex.from_bytes(build_compact(text, "P").to_bytes(), "C")):
        fast, slow = _candidates_both_ways(index, "libfoo1")
        assert fast == slow
        assert [c.version for c, _, _ in fast] == ["1.2-3+b1", "1.2-4", "1.2-5"]  # file order
        assert _candidates_both_ways(index, "nothing") == ([], [])
    broken = build_compact(text + b"\n" + plain.replace(b"libfoo1", b"bad").replace(b"Size: 1234\n", b""), "P")
    fast, slow = _candidates_both_ways(broken, "bad")
    assert fast == slow
    assert fast[0] == "error" and "package bad 1.2-3+b1: needs Filename, Size and SHA256" in fast[1]
    assert fast[2] == "P: package bad"  # the index and the package, as the universe names them
