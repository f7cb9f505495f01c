"""The compiled Packages scanner (repos/deb/_scan.c) finds exactly what the Python passes find.

`build_compact` takes the compiled scanner's answer when it gives one (the usual layout) and the Python
passes' otherwise; both must give the same index, byte for byte, and the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import repos.deb.cache as cache
from repos.deb.cache import CompactIndex, build_compact
from repos.errors import ParseError

compiled = cache._scan_compiled


def test_the_compiled_scanner_is_built() -> None:
    # CI installs a C compiler and Python's headers (scripts/dev): a silent fallback would lose the speed.
    assert compiled is not None, "repos.deb._scan is not built (pip install -e . with gcc and python3-dev)"


@pytest.fixture
def python_only() -> Iterator[Callable[[bytes], Any]]:
    """build_compact, run once with the compiled scanner and once without it."""
    saved = cache._scan_compiled

    def build(data: bytes, use_compiled: bool) -> Any:
        cache._scan_compiled = saved if use_compiled else None
        try:
            index = build_compact(data, "P")
        except ParseError as e:
            return ("error", str(e), e.where)
        finally:
            cache._scan_compiled = saved
        return _summary(index)

    yield build


def _summary(index: CompactIndex) -> tuple[Any, ...]:
    frames = index.to_bytes()
    again = CompactIndex.from_bytes(frames, "cache")
    return (
        index.names,
        index.provides,
        index.base,
        {name: index.stanzas(name) for name in index.names},
        frames,
        again.provides,
    )


USUAL = b"""\
Package: a
Version: 1
Provides: v (= 1.0), w:any, x [amd64],
 y (>> 2) [!i386]
Essential: yes
Description: d
 long
 .
 more

Package:  b\t
Version: 2
Provides: v
Priority: required\t

Package: a
Version: 3
Provides: ,,z,
Priority: optional
Essential: no
"""


def test_the_usual_layout_takes_the_compiled_path(python_only: Callable[..., Any]) -> None:
    if compiled is None:
        pytest.skip("repos.deb._scan is not built")
    assert compiled(USUAL) is not None
    fast, slow = python_only(USUAL, True), python_only(USUAL, False)
    assert fast == slow
    names, provides, base = fast[:3]
    assert names == ["a", "b"]
    assert provides == {"v": ("a", "b"), "w": ("a",), "x": ("a",), "y": ("a",), "z": ("a",)}
    assert base == ("a", "b")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b"# comment\nPackage: a\n",
        b"Package: a\r\nVersion: 1\r\n",
        b"Package: a\n\n\nPackage: b\n",
        b"Version: 1\nPackage: a\n",
        b"Package: a\ngarbage\n",
        b"Package: a\x00\n",
        b" Package: a\n",
        b"Package:\nVersion: 1\n",
        b"Package: a\nProvides: v (= 1\n",
        b"Package: a\nProvides: v [amd64\n",
    ],
)
def test_what_the_compiled_scanner_leaves_to_python(data: bytes, python_only: Callable[..., Any]) -> None:
    if compiled is None:
        pytest.skip("repos.deb._scan is not built")
    assert compiled(data) is None
    assert python_only(data, True) == python_only(data, False)


# Generated Packages texts: mostly the usual layout (so that most take the compiled path), with each
# oddity the Python passes handle now and then.
def _rarely(usual: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    return st.integers(0, 19).flatmap(lambda n: st.sampled_from(odd if n == 0 else usual))


_names = st.text(alphabet="abcxyz0+-.", min_size=1, max_size=4)
_ws = st.sampled_from(["", " ", "  ", "\t"])
_provided = st.builds(
    lambda name, version, arch, qualifier, sep: name + version + arch + qualifier + sep,
    _names,
    _rarely(["", " (= 1.0)", "( >= 2 )", " (<< 3,4)"], [" (= 1"]),
    _rarely(["", " [amd64]", "[!i386 arm64]"], [" [amd64"]),
    st.sampled_from(["", ":any", ":native"]),
    st.sampled_from([",", ", ", ",\n ", " ,", ",,", ",\n\t"]),
)
_field = st.one_of(
    st.builds(lambda v: f"Version: {v}", st.sampled_from(["1", "2:1.0-1", ""])),
    st.builds(
        lambda ps, ws: "Provides:" + ws + "".join(ps).rstrip(",\n\t "), st.lists(_provided, max_size=4), _ws
    ),
    st.builds(lambda v, ws: f"Essential: {v}{ws}", st.sampled_from(["yes", "no", "yes please"]), _ws),
    st.builds(
        lambda v, ws: f"Priority: {v}{ws}", st.sampled_from(["required", "optional", "requiredx"]), _ws
    ),
    _rarely(
        ["Description: d\n long\n .\n\tmore", "X-Empty:\n continued", "Tag: a::b,\n\tc::d", "Some Field: x"],
        ["Essential:yes", "Provides:v", "garbage", "# comment"],
    ),
)
_stanza = st.builds(
    lambda lead, name, trail, fields: f"Package:{lead}{name}{trail}\n" + "\n".join(fields),
    st.sampled_from([" ", " ", " ", "", "  ", "\t"]),
    st.integers(0, 19).flatmap(lambda n: st.just("") if n == 0 else _names),
    st.sampled_from(["", "", "", " ", "\t"]),
    st.lists(_field, max_size=5),
)


@st.composite
def _packages(draw: st.DrawFn) -> bytes:
    stanzas = draw(st.lists(_stanza, min_size=1, max_size=6))
    separators = draw(st.lists(_rarely(["\n\n"], ["\n\n\n", "\n\n# c\n"]),
                               min_size=len(stanzas), max_size=len(stanzas)))  # fmt: skip
    text = "".join(s + sep for s, sep in zip(stanzas, separators, strict=True))
    text = text[: len(text) - draw(st.sampled_from([0, 1, 2]))]
    if draw(st.integers(0, 19)) == 0:
        text = text.replace("\n", "\r\n")
    return text.encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_packages())
def test_compiled_and_python_scanners_agree(data: bytes, python_only: Callable[..., Any]) -> None:
    assert python_only(data, True) == python_only(data, False)
