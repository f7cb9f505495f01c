"""Packages index files: deb822 stanzas of binary packages, and their conversion to `DebCandidate`s.

Format: wiki.debian.org/DebianRepository/Format ("Packages Indices") and Debian Policy §5.3 (binary
package fields). The stanzas are read by the one deb822 reader, `repos.deb822` (Policy §5.1); the
loader reads big indexes through the compact index (`repos/deb/cache.py`) and converts only the
stanzas a solve needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from solver.debversion import check as check_version
from solver.errors import InputError
from solver.model import DebCandidate, Dep, OrGroup, Origin
from solver.relations import parse_dep_list, parse_relations

from ..deb822 import Stanza, read_stanza, read_stanzas
from ..errors import ParseError

if TYPE_CHECKING:
    from .cache import CompactIndex

try:  # the compiled readers; without a C compiler at install time the Python parsers do it all
    from ._fields import candidate as _compiled_candidate
    from ._fields import candidates as _compiled_candidates
    from ._fields import relations as _compiled_relations
    from ._fields import values as _compiled_values
except ImportError:  # pragma: no cover - depends on the install
    _compiled_candidate = _compiled_candidates = _compiled_relations = _compiled_values = None

# Relation atoms the compiled parser has made, by text: one Dep per distinct atom of all the indexes
# read (bookworm main has 110,000 in 400,000 relations), as `solver.relations.parse_dep` memoises.
_ATOMS: dict[str, Dep] = {}
_GROUPS: dict[str, OrGroup] = {}  # and OR groups, by text: one object each (the encoder keys by identity)


# The fields a candidate is made of, lower case (Policy §5.1: names are case-insensitive), in the
# order `_candidate` takes them.
_WANTED = (
    "package", "version", "architecture", "depends", "pre-depends", "recommends", "conflicts", "breaks",
    "provides", "source", "size", "filename", "sha256", "multi-arch", "essential", "priority",
)  # fmt: skip
_WANTED_BYTES = tuple(n.encode() for n in _WANTED)
_POSITION = {n: i for i, n in enumerate(_WANTED)}
# The fields of a candidate and of its origin in the order `_fields.candidate` fills them; they must be
# all of each dataclass's fields (tests/test_deb_fields.py), or it would leave one unset.
_CANDIDATE_FIELDS = (
    "name", "version", "arch", "depends", "pre_depends", "recommends", "conflicts", "breaks", "provides",
    "multi_arch", "essential", "priority", "source", "source_version", "origin", "key",
)  # fmt: skip
_ORIGIN_FIELDS = ("repository", "filename", "size", "sha256", "rank")
_DEP_FIELDS = ("name", "op", "version", "arch")
_CONTEXT = (_WANTED_BYTES, DebCandidate, _CANDIDATE_FIELDS, Origin, _ORIGIN_FIELDS, Dep, _DEP_FIELDS, _ATOMS, _GROUPS)


def candidate_from_stanza(
    stanza: bytes,
    *,
    where: str,
    repository: str,
    rank: int,
    native_arch: str,
) -> DebCandidate:
    """A `DebCandidate` from one stanza's bytes (as the compact index keeps them). The compiled
    `_fields.candidate` makes the candidate of a stanza of the usual shape, and `_fields.values` reads
    the fields of one whose values are unusual; any other goes through the strict reader, which names
    what is wrong."""
    if _compiled_candidate is not None:
        found: DebCandidate | None = _compiled_candidate(stanza, _CONTEXT, repository, rank)
        if found is not None:
            return found
    values = _compiled_values(stanza, _WANTED_BYTES) if _compiled_values is not None else None
    if values is None:
        values = _values(read_stanza(stanza, where, first_line=None))
    return _candidate(values, where=where, repository=repository, rank=rank, native_arch=native_arch)


def candidates_in(
    index: CompactIndex,
    name: str,
    *,
    where: str,
    repository: str,
    rank: int,
    native_arch: str,
) -> list[DebCandidate]:
    """The candidates of every stanza of `name` in a compact index, in file order: each as
    `candidate_from_stanza` makes it (errors name `where` and the package). The compiled
    `_fields.candidates` reads the stanzas where they lie in the index's text; a stanza it finds
    unusual comes back as bytes and takes the Python path."""
    if _compiled_candidates is None:
        raws: list[bytes | DebCandidate] = list(index.stanza_bytes(name))
    else:
        raws = _compiled_candidates(*index.spans(name), _CONTEXT, repository, rank)
    return [
        c if isinstance(c, DebCandidate) else candidate_from_stanza(
            c, where=f"{where}: package {name}", repository=repository, rank=rank, native_arch=native_arch
        )
        for c in raws
    ]  # fmt: skip


def to_candidate(
    fields: Mapping[str, str],
    *,
    where: str,
    repository: str,
    rank: int,
    native_arch: str,
) -> DebCandidate:
    """A `DebCandidate` from a stanza; ParseError(where) naming the package when a field is invalid."""
    return _candidate(_values(fields), where=where, repository=repository, rank=rank, native_arch=native_arch)


def _values(fields: Mapping[str, str]) -> Sequence[str | None]:
    """The `_WANTED` fields' values, in any case of their names. One pass over the stanza's fields:
    looking sixteen names up, most of them absent, cost four times the reading (a case-insensitive
    miss is Python code)."""
    if isinstance(fields, Stanza):
        fields.check_names()  # a name twice in two cases is an error, as a look-up would find
    values: list[str | None] = [None] * len(_WANTED)
    position = _POSITION.get
    for name, value in fields.items():
        i = position(name)
        if i is None:
            i = position(name.lower())
            if i is None:
                continue
        values[i] = value
    return values


def _candidate(
    values: Sequence[str | None],
    *,
    where: str,
    repository: str,
    rank: int,
    native_arch: str,
) -> DebCandidate:
    (name, version, arch, depends_text, pre_depends_text, recommends_text, conflicts_text, breaks_text,
     provides_text, src, size_text, filename, sha256, multi_arch, essential, priority) = values  # fmt: skip
    if not name:
        raise ParseError("stanza without a Package field", where=where)
    if not version or not arch:
        raise ParseError(f"package {name} has no {'Version' if not version else 'Architecture'}", where=where)
    try:
        check_version(version)
        rel_arch = native_arch if arch == "all" else arch
        depends = _groups(depends_text, rel_arch)
        pre_depends = _groups(pre_depends_text, rel_arch)
        recommends = _groups(recommends_text, rel_arch)
        conflicts = _atoms(conflicts_text, rel_arch)
        breaks = _atoms(breaks_text, rel_arch)
        provides = _atoms(provides_text, rel_arch)
        source, source_version = name, version
        if src:
            source, _, rest = src.partition(" ")
            rest = rest.strip()
            if rest:
                if not (rest.startswith("(") and rest.endswith(")")):
                    raise InputError(f"malformed Source {src!r}")
                source_version = check_version(rest[1:-1].strip())
        size_text = size_text or ""
        sha256 = (sha256 or "").lower()
        if not filename or not size_text.isdigit() or len(sha256) != 64:
            raise InputError("needs Filename, Size and SHA256")
    except InputError as e:
        raise ParseError(f"package {name} {version}: {e.message}", where=where) from None
    return DebCandidate(
        name=name,
        version=version,
        arch=arch,
        depends=depends,
        pre_depends=pre_depends,
        recommends=recommends,
        conflicts=conflicts,
        breaks=breaks,
        provides=provides,
        multi_arch=(multi_arch or "no").lower() or "no",
        essential=(essential or "no").lower() == "yes",
        priority=priority or "optional",
        source=source,
        source_version=source_version,
        origin=Origin(
            repository=repository, filename=filename, size=int(size_text), sha256=sha256, rank=rank
        ),
    )


def _groups(text: str | None, arch: str) -> tuple[OrGroup, ...]:
    """A Depends-like field: the compiled parser's groups for the usual shape, else `parse_relations`'."""
    if not text:
        return ()
    if _compiled_relations is not None:
        found: tuple[OrGroup, ...] | None = _compiled_relations(text, True, Dep, _ATOMS, _GROUPS, _DEP_FIELDS)
        if found is not None:
            return found
    return parse_relations(text, arch)


def _atoms(text: str | None, arch: str) -> tuple[Dep, ...]:
    """A Conflicts-like field: the compiled parser's atoms for the usual shape, else `parse_dep_list`'."""
    if not text:
        return ()
    if _compiled_relations is not None:
        found: tuple[Dep, ...] | None = _compiled_relations(text, False, Dep, _ATOMS, _GROUPS, _DEP_FIELDS)
        if found is not None:
            return found
    return parse_dep_list(text, arch)


def parse_packages(
    data: bytes,
    where: str,
    *,
    repository: str,
    rank: int = 0,
    native_arch: str = "amd64",
) -> list[DebCandidate]:
    """Every candidate of a (decompressed) Packages file, parsed eagerly. For small indexes and tests;
    the loader goes through the lazy compact index instead."""
    out = []
    for n, fields in enumerate(read_stanzas(data, where), 1):
        out.append(
            to_candidate(
                fields,
                where=f"{where}: stanza {n}",
                repository=repository,
                rank=rank,
                native_arch=native_arch,
            )
        )
    return out
