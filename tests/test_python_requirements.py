"""The fast requirement parser gives what packaging gives, or leaves the string to packaging."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement

from solver.python.requirements import _SIMPLE, parse_requirement


def _parts(req: Requirement) -> tuple[object, ...]:
    return (req.name, req.url, req.extras, str(req.specifier), req.specifier, req.marker, str(req))


def _same_as_packaging(text: str) -> None:
    try:
        expected = Requirement(text)
    except InvalidRequirement as e:
        with pytest.raises(InvalidRequirement) as got:
            parse_requirement(text)
        assert str(got.value) == str(e)
        return
    assert _parts(parse_requirement(text)) == _parts(expected)


TYPICAL = [
    "requests",
    "requests>=2.31",
    "requests[socks]>=2.31,<3",
    "requests [socks, security] (>=2.31, <3)",
    "urllib3 (<3,>=1.21.1)",
    "Django>=4.2,!=4.2.1",
    "zope.interface==6.*",
    "foo ~= 1.4.2",
    "foo==1.0.post1.dev3+local.7",
    "foo>=1!2.0",
    "A_B.c-d<=3",
    "x[]",
    "  spaced  >=  1.0  ",
    "tab\t>=1",
    "foo===weird-1",
    "oslo.config===9.7.1",
    "foo === 1.0 ",
]
NOT_SIMPLE = [
    "foo (===1.0)",
    "foo===1.0)",
    "foo===1.0 ,",
    "foo===0,==1",
    "foo>=1.0; python_version < '3.12'",
    "foo @ https://example.invalid/foo.whl",
    "foo (>=1.0",
    "foo >=1.0 <2",
    "foo>=1.0,",
    "foo-",
    "-foo",
    "foo~=1",
    "foo==1.0.*.1",
    "foo>=abc def",
    "foo[bar",
    "foo>=1.0)",
    "",
    "foo==",
]


@pytest.mark.parametrize("text", TYPICAL + NOT_SIMPLE)
def test_agrees_with_packaging(text: str) -> None:
    _same_as_packaging(text)


def test_typical_strings_take_the_fast_path() -> None:
    assert all(_SIMPLE.fullmatch(t) for t in TYPICAL)


_name = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,6}[A-Za-z0-9])?", fullmatch=True)
_version = st.from_regex(r"([0-9]!)?[0-9]{1,3}(\.[0-9*]{1,2}){0,3}((a|b|rc|\.post|\.dev)[0-9])?(\+[a-z0-9.]{1,4})?",
                         fullmatch=True)  # fmt: skip
_clause = st.builds(lambda op, ws, v: f"{op}{ws}{v}", st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "===",
                    "=", "=>"]), st.sampled_from(["", " ", "\t"]), _version)  # fmt: skip
_text = st.builds(
    lambda name, ws1, extras, ws2, clauses, sep, parens, tail: (
        name + ws1 + (f"[{', '.join(extras)}]" if extras is not None else "") + ws2
        + (f"({sep.join(clauses)})" if parens else sep.join(clauses)) + tail
    ),
    _name,
    st.sampled_from(["", " "]),
    st.none() | st.lists(_name, max_size=3),
    st.sampled_from(["", " ", "  "]),
    st.lists(_clause, max_size=3),
    st.sampled_from([",", ", ", " ,", " "]),
    st.booleans(),
    st.sampled_from(["", " ", ",", ")", "; extra == 'x'"]),
)


@settings(max_examples=1000, deadline=None)
@given(_text)
def test_generated_strings_agree_with_packaging(text: str) -> None:
    _same_as_packaging(text)
