"""dpkg version ordering: the pure-Python comparison against apt_pkg and against dpkg itself."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import debversion
from solver.errors import InputError

apt_pkg = pytest.importorskip("apt_pkg")
apt_pkg.init_system()

_part = st.text(alphabet="0123456789abz.+~", min_size=1, max_size=6)
versions = st.builds(
    lambda epoch, up, rev: (f"{epoch}:" if epoch else "") + "1" + up + (f"-{rev}" if rev else ""),
    st.sampled_from(["", "0", "1", "2"]),
    _part,
    st.one_of(st.just(""), st.text(alphabet="0123456789abz.+~", min_size=1, max_size=4)),
)


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


@settings(max_examples=2000, deadline=None)
@given(versions, versions)
def test_pure_python_agrees_with_apt_pkg(a: str, b: str) -> None:
    assert _sign(debversion.compare_pure(a, b)) == _sign(apt_pkg.version_compare(a, b))


@settings(max_examples=60, deadline=None)
@given(versions, versions)
def test_pure_python_agrees_with_dpkg(a: str, b: str) -> None:
    c = debversion.compare_pure(a, b)
    op = "lt" if c < 0 else "eq" if c == 0 else "gt"
    assert subprocess.run(["dpkg", "--compare-versions", a, op, b]).returncode == 0, (a, op, b)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0~rc1", "1.0", -1),
        ("1.0", "1.0-0", 0),
        ("2:1.0", "1:9.9", 1),
        ("3.0.15-1~deb12u1", "3.0.15-1", -1),
        ("1.2.10", "1.2.9", 1),
        ("1.0a", "1.0+", -1),
        ("1:2.36-9+deb12u4", "1:2.36-9", 1),
    ],
)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert _sign(debversion.compare_pure(a, b)) == expected
    assert _sign(debversion.compare(a, b)) == expected


@pytest.mark.parametrize("bad", ["", "a1.0", "1.0 beta", "x:1.0"])
def test_invalid_versions_are_rejected(bad: str) -> None:
    with pytest.raises(InputError):
        debversion.check(bad)


def test_satisfies_operators() -> None:
    assert debversion.satisfies("2.0", ">=", "2.0")
    assert debversion.satisfies("2.0", ">>", "1.9")
    assert not debversion.satisfies("2.0", "<<", "2.0")
    assert debversion.satisfies("2.0", None, None)
