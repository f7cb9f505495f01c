"""Requirement strings (PEP 508) to `packaging.requirements.Requirement`, the common ones fast.

A warm resolution reads a few thousand Requires-Dist lines; packaging's parser (a tokenizer written in
Python) was a sixth of a warm airflow solve. Nearly all of them are a name, maybe extras and a plain
version list, in the shape metadata tools write: `name[extra] (>=1.0,<2)`, `name>=1.0`. Those are
matched by one regular expression and assembled from the same parts packaging would produce (the
specifier still goes through `SpecifierSet`, which validates every version); anything else, and
anything the expression or SpecifierSet refuses, is left to packaging, so what is valid and what an
error says is always packaging's decision. tests/test_python_requirements.py checks the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
# Not "===" in a list: its version is anything up to whitespace, ";" or ")", commas included, so where
# one clause ends is packaging's call. Alone and ending the string (`name===1.2.3`, the shape of every
# line of OpenStack's upper-constraints) it is unambiguous.
_CLAUSE = r"(?:~=|==|!=|<=|>=|<|>)[ \t]*[A-Za-z0-9.*+!_-]+"
_SPECIFIERS = rf"{_CLAUSE}(?:[ \t]*,[ \t]*{_CLAUSE})*"
_ARBITRARY = r"===[ \t]*[A-Za-z0-9.*+!_-]+"
_SIMPLE = re.compile(
    rf"[ \t]*(?P<name>{_NAME})[ \t]*"
    rf"(?:\[[ \t]*(?P<extras>{_NAME}(?:[ \t]*,[ \t]*{_NAME})*)?[ \t]*\])?[ \t]*"
    rf"(?:\([ \t]*(?P<inner>{_SPECIFIERS})[ \t]*\)|(?P<bare>{_ARBITRARY}|{_SPECIFIERS}))?[ \t]*"
)
_COMMA = re.compile(r"[ \t]*,[ \t]*")


def parse_requirement(text: str) -> Requirement:
    """`Requirement(text)`, the same parts; raises InvalidRequirement as it does. (A marker or a URL
    is left to packaging: the provider splits markers off and parses each distinct one once.)"""
    m = _SIMPLE.fullmatch(text)
    if m is not None:
        specifiers = m["inner"] or m["bare"] or ""
        try:
            specifier = SpecifierSet(specifiers)
        except InvalidSpecifier:
            pass  # packaging's own error message
        else:
            req = object.__new__(Requirement)
            req.name = m["name"]
            req.url = None
            req.extras = set(_COMMA.split(m["extras"])) if m["extras"] else set()
            req.specifier = specifier
            req.marker = None
            return req
    return Requirement(text)


def requirement_or_none(text: str) -> Requirement | None:
    try:
        return parse_requirement(text)
    except InvalidRequirement:
        return None


def unmet(
    requirements: Iterable[str], pins: Mapping[str, str], environment: Mapping[str, str]
) -> tuple[str, ...]:
    """The requirements (PEP 508 strings) that `pins` (canonical name -> version) leaves unmet in
    `environment` (a marker environment: a requirement whose marker is false there is met); an
    invalid requirement string is unmet."""
    out = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            out.append(text)
            continue
        if req.marker is not None and not req.marker.evaluate({**environment, "extra": ""}):
            continue
        have = pins.get(canonicalize_name(req.name))
        try:
            ok = have is not None and req.specifier.contains(Version(have), prereleases=True)
        except InvalidVersion:
            ok = False
        if not ok:
            out.append(text)
    return tuple(out)
