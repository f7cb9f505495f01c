"""A candidate's dependencies as the provider derived them, in plain tuples that load without parsing.

`PythonProvider.get_dependencies` turns a release's core metadata (Requires-Dist, Requires-Python; core
metadata spec 2.x) into resolvelib requirements for the target: each PEP 508 line parsed, its marker
evaluated for every target platform with the candidate's extra, the result split per extra. On a warm
re-run that work is the same every time for the same metadata, target and candidate, so an index may
keep the result (`repos.pypi.predigest`) and hand it back: this module says what is kept and checks
it on the way back in. What is kept is exactly what the derivation produced, notes included, so a
solve from a kept entry gives the answer of a solve that derives it again (the lock bytes are equal).

The payload is plain tuples of str/None (marshal-able): `(notes, deps)`, each dep `(key, name, extra,
specifier text, platforms, text, kind)`. Version specifiers travel as their canonical text
(`str(SpecifierSet)`), which parses back to an equal set. Anything else is refused (None), and the
provider then derives the dependencies again: an entry from the cache is never trusted on its shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

# Bump when get_dependencies' derivation or this payload's layout changes: kept entries are keyed by it.
DEPS_DIGEST_VERSION = 1

Payload = tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]
# (key, name, extra, specifier text, platforms, text, kind): the fields of provider.Req
DepRow = tuple[str, str, "str | None", str, tuple[str, ...], str, str]


def to_payload(notes: Sequence[str], deps: Sequence[Any]) -> Payload:
    """The payload of the dependencies `deps` (provider.Req objects) and the notes their derivation made."""
    rows = tuple(
        (d.key, d.name, d.extra, str(d.specifier), tuple(sorted(d.platforms)), d.text, d.kind) for d in deps
    )
    return tuple(notes), rows


def from_payload(
    payload: Any, spec: Callable[[str], SpecifierSet]
) -> tuple[list[str], list[tuple[str, str, str | None, SpecifierSet, frozenset[str], str, str]]] | None:
    """(notes, the fields of each dependency) of a payload, or None when it does not read as one.

    `spec` makes the SpecifierSet of a specifier text (the provider shares one per distinct text).
    """
    try:
        notes, rows = payload
        if not isinstance(notes, tuple) or not all(isinstance(n, str) for n in notes):
            return None
        if not isinstance(rows, tuple):
            return None
        out = []
        for key, name, extra, spec_text, platforms, text, kind in rows:
            if not (
                isinstance(key, str)
                and isinstance(name, str)
                and (extra is None or isinstance(extra, str))
                and isinstance(spec_text, str)
                and isinstance(platforms, tuple)
                and platforms
                and all(isinstance(p, str) for p in platforms)
                and isinstance(text, str)
                and kind in ("dep", "base", "python")
            ):
                return None
            out.append((key, name, extra, spec(spec_text), frozenset(platforms), text, kind))
    except (TypeError, ValueError, InvalidSpecifier):
        return None
    return list(notes), out
