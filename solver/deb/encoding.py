"""The Debian encoding: a problem's sub-universe as clauses for the shared engine (solver/sat.py).

Encoding (rules, Debian Policy §7): one variable per reachable candidate; a clause per Depends /
Pre-Depends OR group (`¬P ∨ alt1 ∨ alt2 …`), per Conflicts/Breaks match (`¬P ∨ ¬Q`), at most one
version per name+arch (Multi-Arch: same instances of one version may share a name), vetoes false, fixes
true, and the source-package move of each fix. The decisions are apt's (policy.py); the solve
that puts problem, encoding and policy together is solve.py.

Only the sub-universe reachable from the roots is encoded, so a solve of a few roots touches a few
thousand of an archive's 63,000 stanzas.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Hashable, Iterable

from ..debversion import compare, satisfies, sort_key
from ..errors import InputError
from ..model import DebCandidate, Dep, OrGroup, format_group
from ..sat import Solver
from ..universe import DebUniverse
from .priorities import AptPin, Priorities
from .problem import DebProblem, DebVeto

try:  # the compiled inner loop of `Encoding.expand` and `Encoding.matches` (solver/deb/_encode.c)
    from ._encode import matches as _compiled_matches
    from ._encode import requirements as _compiled_requirements
except ImportError:  # pragma: no cover - depends on the install
    _compiled_matches = _compiled_requirements = None

# -- the encoding ----------------------------------------------------------------------------------

class EncodingMemo:
    """What encodings work out about one universe under one policy, whatever their roots: the ordered
    matches of each relation, the ordered candidates of each dependency group, apt's candidate version
    of each package and the priorities. `bundler check` encodes the whole archive once and then solves
    each broken package again for its explanation; with a memo those solves look nothing up twice.
    Valid for problems that agree on what the policy reads (preferred versions, releases, pins, vetoes)."""

    def __init__(self, universe: DebUniverse, problem: DebProblem) -> None:
        self.universe = universe
        self.problem = problem
        self.prio = Priorities(problem.releases, problem.pins)
        # Keyed by the relation object's id() and the architecture, the object kept beside the answer
        # and checked with `is` on a hit (so an id reused after a free can never match): hashing a
        # Dep, a dataclass, is a Python call, and a group's tuple hashes every Dep in it again, 480,000
        # times in an encoding of bookworm main. Equal relations parsed apart are two entries with
        # the same answer.
        self.matches: dict[tuple[int, str], tuple[Dep, tuple[DebCandidate, ...]]] = {}
        self.groups: dict[
            tuple[int, str], tuple[OrGroup, tuple[DebCandidate, ...], tuple[int, ...] | None]
        ] = {}
        self.best: dict[tuple[str, str], object] = {}

    def fits(self, universe: DebUniverse, problem: DebProblem) -> bool:
        p = self.problem
        return universe is self.universe and (
            dict(p.preferred) == dict(problem.preferred)
            and dict(p.releases) == dict(problem.releases)
            and p.pins == problem.pins
            and p.vetoes == problem.vetoes
        )


class Encoding:
    """Variables for the reachable candidates and the clauses between them."""

    def __init__(self, universe: DebUniverse, problem: DebProblem, memo: EncodingMemo | None = None) -> None:
        self.u = universe
        self.problem = problem
        self.native = universe.native_arch
        self.cands: list[DebCandidate] = [DebCandidate("", "", "")]  # var 0 unused
        self.var_of: dict[tuple[str, str, str], int] = {}
        self.vetoed: dict[int, DebVeto] = {}
        if memo is None or not memo.fits(universe, problem):
            memo = EncodingMemo(universe, problem)
        # apt's priorities; a version below 0 is never installed (apt_preferences(5)).
        self.prio = memo.prio
        self.pinned_out: dict[int, tuple[int, AptPin | None]] = {}
        self._best = memo.best  # (name, arch) -> apt's candidate's key or None
        self._match_cache = memo.matches
        self._group_cache = memo.groups
        self._memo = memo  # keeps the candidates behind `_var_by_id`'s keys alive
        self._var_by_id: dict[int, int] = {}
        self._group_vars: dict[tuple[int, str], tuple[OrGroup, tuple[int, ...]]] = {}  # as the memo's groups
        self._pending: deque[int] = deque()
        # Requirements the policy satisfies: per guard var, the ordered candidate vars of each group.
        self.requirements: dict[int, list[tuple[int, ...]]] = defaultdict(list)
        self.weak: dict[int, list[tuple[int, ...]]] = defaultdict(list)
        self.root_reqs: list[tuple[int, ...]] = []
        # The clauses of the requirements (`¬P ∨ alt1 ∨ …`) and their tags, made while expanding, in
        # the order the requirements are met; `encode` adds them after the roots' clauses.
        self.dep_clauses: list[list[int]] = []
        self.dep_tags: list[Hashable] = []

    # candidates matching a relation atom, in policy order
    def matches(self, dep: Dep, from_arch: str) -> tuple[DebCandidate, ...]:
        if _compiled_matches is not None:
            return _compiled_matches(self._context(), dep, from_arch)  # type: ignore[no-any-return]
        return self._matches(dep, from_arch)

    def _matches(self, dep: Dep, from_arch: str) -> tuple[DebCandidate, ...]:
        key = (id(dep), from_arch)
        hit = self._match_cache.get(key)
        if hit is not None and hit[0] is dep:
            return hit[1]
        found = self.u.candidates(dep.name)
        if dep.arch is None:  # the usual atom, `_arch_ok` written out: 18,000 atoms at 2,000 roots
            native = self.native
            found = [
                c for c in found
                if (native if c.arch == "all" else c.arch) == from_arch or c.multi_arch == "foreign"
            ]  # fmt: skip
        else:
            found = [c for c in found if self._arch_ok(c, dep.arch, from_arch)]
        real = found if dep.op is None else [c for c in found if satisfies(c.version, dep.op, dep.version)]
        virtual = []
        for c in self.u.providers(dep.name):
            if not self._arch_ok(c, dep.arch, from_arch):
                continue
            for p in c.provides:
                if p.name != dep.name:
                    continue
                if dep.op is None or (p.op == "=" and p.version and satisfies(p.version, dep.op, dep.version)):
                    virtual.append(c)
                    break
        result = tuple(self._order(real, from_arch))
        if virtual:
            result += tuple(c for c in self._order(virtual, from_arch, virtual=True) if c not in real)
        self._match_cache[key] = (dep, result)
        return result

    def _arch_ok(self, c: DebCandidate, qualifier: str | None, from_arch: str) -> bool:
        # Multi-Arch spec: a foreign package satisfies dependencies of any architecture; ":any"
        # is also satisfied by "allowed" packages; "all" counts as the native architecture.
        arch = self.native if c.arch == "all" else c.arch
        if qualifier is None:
            return arch == from_arch or c.multi_arch == "foreign"
        if qualifier == "any":
            return arch == from_arch or c.multi_arch in ("foreign", "allowed")
        if qualifier == "native":
            return arch == self.native
        return arch == qualifier

    def _order(self, cands: Iterable[DebCandidate], from_arch: str, virtual: bool = False) -> list[DebCandidate]:
        """Policy order: the previous lock's version, then the dependent's architecture, then (for
        providers of a virtual package) required/important/standard before the rest and by name,
        then apt's priority (solver.deb.priorities), then the newest version, then the source listed first."""
        if not isinstance(cands, list):
            cands = list(cands)
        if len(cands) < 2:  # most relations of an archive match one version of one package
            return cands
        preferred = self.problem.preferred
        native = self.native
        pin = self.prio.priority

        def key(c: DebCandidate) -> tuple[int, int, int, str, int]:
            arch = native if c.arch == "all" else c.arch
            keep = preferred.get((c.name, c.arch)) == c.version
            prio = _PRIORITY_ORDER.get(c.priority, 4) if virtual else 0
            # Within one package, apt's GetCandidateVer: the highest pin priority, then the newest.
            return (0 if keep else 1, 0 if arch == from_arch else 1, prio, c.name if virtual else "", -pin(c))

        newest_first = sorted(cands, key=lambda c: (sort_key(c.version), -_rank(c)), reverse=True)
        return sorted(newest_first, key=key)

    def var(self, c: DebCandidate) -> int:
        v = self.var_of.get(c.key)
        if v is None:
            v = len(self.cands)
            self.cands.append(c)
            self.var_of[c.key] = v
            for veto in self.problem.vetoes:
                if veto.covers(c):
                    self.vetoed[v] = veto
                    break
            else:
                prio, pin = self.prio.explain(c)
                if prio < 0:
                    self.pinned_out[v] = (prio, pin)
            self._pending.append(v)
        return v

    def from_arch(self, c: DebCandidate) -> str:
        return self.native if c.arch == "all" else c.arch

    def expand(self) -> None:
        """Breadth-first over Depends/Pre-Depends (and Recommends when on) from what is pending."""
        recommends = self.problem.recommends
        pending, vetoed, cands, native = self._pending, self.vetoed, self.cands, self.native
        group_vars, clauses, tags = self.group_vars, self.dep_clauses, self.dep_tags
        known = self._group_vars  # group_vars' own first look, written out for its 34,000 hits at 2,000 roots
        compiled = _compiled_requirements
        context = self._context() if compiled is not None else None
        while pending:
            v = pending.popleft()
            if v in vetoed:
                continue  # never installed: what it needs is irrelevant
            c = cands[v]
            arch = native if c.arch == "all" else c.arch
            for kind, groups in (("Pre-Depends", c.pre_depends), ("Depends", c.depends)):
                if not groups:
                    continue
                required = self.requirements[v]
                if compiled is not None:  # the loop below, in C
                    groups = groups if type(groups) is tuple else tuple(groups)
                    compiled(v, groups, arch, kind, known, context, required, clauses, tags)
                    continue
                for group in groups:
                    hit = known.get((id(group), arch))
                    alts = hit[1] if hit is not None and hit[0] is group else group_vars(group, arch)
                    required.append(alts)
                    if v not in alts:  # depends on itself: always true (add_clause would drop it too)
                        clauses.append([-v, *alts])  # alts are distinct
                        tags.append(("dep", v, kind, group))
            if recommends and c.recommends:
                weak = self.weak[v]
                for group in c.recommends:
                    weak.append(group_vars(group, arch))

    def _context(self) -> tuple[object, ...]:
        """What the compiled expansion and matches (solver/deb/_encode.c) work with: the state and the
        methods `group_vars` uses, in the order that file's `struct context` lists them. Made for each
        use, not kept: held by the encoding, its bound methods would make a cycle, and the encoding
        would wait for the cyclic collector instead of being freed with its solution."""
        return (self.native, self._group_cache, self._match_cache, self._var_by_id, self.u.candidates,
                self.u.providers, satisfies, self._order, self.is_candidate, self.var, self._matches)  # fmt: skip

    def group_vars(self, group: OrGroup, arch: str, *, root: bool = False) -> tuple[int, ...]:
        """The candidates of an OR group, apt's choices first: in the order written, each package's
        candidate version (apt considers no other, depcache.cc getAllPossibleSolutions), then the
        other versions, which only a solver that looks further than apt can use. A root names a real
        package when one exists, never its providers (`_root_matches`)."""
        if root:
            met, order = self._group_candidates(group, arch, root=True)
        else:
            key = (id(group), arch)
            known = self._group_vars.get(key)
            if known is not None and known[0] is group:
                return known[1]
            # The candidates of a group depend on the universe and the policy only, and the same
            # group ("libc6 (>= 2.34)") recurs in thousands of stanzas: worked out once (EncodingMemo).
            hit = self._group_cache.get(key)
            if hit is None or hit[0] is not group:
                hit = self._group_cache[key] = (group, *self._group_candidates(group, arch, root=False))
            _, met, order = hit
        # Variables are given in the order the candidates are met, as before the cache existed: the
        # numbering decides the order of clauses and watches, hence of propagation. The candidate
        # objects of the memo live as long as this encoding, so their id() is a cheaper key than
        # (name, version, arch); `var` still decides by that key.
        by_id = self._var_by_id
        vs = []
        for m in met:
            v = by_id.get(id(m))
            if v is None:
                v = by_id[id(m)] = self.var(m)
            vs.append(v)
        result = tuple(vs) if order is None else tuple(vs[i] for i in order)
        if not root:
            self._group_vars[(id(group), arch)] = (group, result)
        return result

    def _group_candidates(
        self, group: OrGroup, arch: str, *, root: bool
    ) -> tuple[tuple[DebCandidate, ...], tuple[int, ...] | None]:
        """`group_vars` before variables are given: the candidates once each in the order met, and
        the order they are offered in (positions in the former; None: the same order)."""
        if len(group) == 1 and not root:
            found = self.matches(group[0], arch)
            if len(found) < 2:
                return found, None
            if all(m.name == found[0].name and m.arch == found[0].arch for m in found[1:]):
                # One package: policy order already puts its candidate first (the versions ahead
                # of it can only be vetoed or pinned below 0, hence never installed).
                return tuple({m.key: m for m in found}.values()), None
        met: dict[tuple[str, str, str], int] = {}
        cands: list[DebCandidate] = []
        alts: list[int] = []
        later: list[int] = []
        for dep in group:
            for m in self._root_matches(dep, arch, len(group) == 1) if root else self.matches(dep, arch):
                k = m.key
                if k in met:
                    continue
                met[k] = len(cands)
                (alts if self.is_candidate(m) else later).append(len(cands))
                cands.append(m)
        return tuple(cands), tuple(alts + later)

    def _root_matches(self, dep: Dep, arch: str, alone: bool) -> tuple[DebCandidate, ...]:
        """What `apt-get install NAME` may install: NAME when it is a real package, i.e. one with a
        version apt could install (priority above 0; a vetoed version still counts: a veto must not
        turn the root into a provider); else its providers, and when NAME is the whole request only
        if exactly one package provides it (apt: "is a virtual package provided by ... You should
        explicitly select one to install"; with one provider apt installs it)."""
        found = self.matches(dep, arch)
        pin = self.prio.priority
        if any(self._arch_ok(c, dep.arch, arch) and pin(c) > 0 for c in self.u.candidates(dep.name)):
            return tuple(c for c in found if c.name == dep.name)
        found = tuple(c for c in found if c.name != dep.name)  # versions apt would not install
        names = sorted({c.name for c in found})
        if alone and len(names) > 1:
            shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
            raise InputError(
                f"{dep} is a virtual package provided by {shown}; require one of them explicitly",
                hint=f"name the one you want in require, e.g. {names[0]!r}",
            )
        return found

    def is_candidate(self, c: DebCandidate) -> bool:
        """Whether `c` is the version apt would install of its package: the previous lock's, else the
        highest priority above 0, newest among equals (GetCandidateVer), vetoes aside."""
        key = (c.name, c.arch)
        best = self._best.get(key, _UNKNOWN)
        if best is _UNKNOWN:
            versions = [o for o in self.u.candidates(c.name) if o.arch == c.arch]
            kept = self.problem.preferred.get(key)
            found = next((o for o in versions if o.version == kept), None) if kept is not None else None
            if found is None:
                pin = self.prio.priority
                found = max(
                    (o for o in versions if not self._vetoed(o) and pin(o) > 0),
                    key=lambda o: (pin(o), sort_key(o.version), -_rank(o)),
                    default=None,
                )
            best = found.key if found is not None else None
            self._best[key] = best
        return best == c.key

    def _vetoed(self, c: DebCandidate) -> bool:
        return any(v.covers(c) for v in self.problem.vetoes)


_UNKNOWN = object()
_PRIORITY_ORDER = {"required": 0, "important": 1, "standard": 2, "optional": 3, "extra": 4}


def _rank(c: DebCandidate) -> int:
    return c.origin.rank if c.origin is not None else 0


# -- solving ---------------------------------------------------------------------------------------

def encode(
    universe: DebUniverse,
    problem: DebProblem,
    with_fixes: bool,
    seeds: Iterable[DebCandidate] = (),
    memo: EncodingMemo | None = None,
) -> tuple[Encoding, Solver]:
    """Variables for everything reachable from the roots (and `seeds`), and the clauses between them."""
    enc = Encoding(universe, problem, memo)
    for c in seeds:
        enc.var(c)
    native = universe.native_arch
    root_tags: list[tuple[object, ...]] = []
    for i, group in enumerate(problem.roots):
        alts = enc.group_vars(group, native, root=True)
        release = problem.root_releases[i] if i < len(problem.root_releases) else None
        if release is not None:
            alts = _from_release(enc, group, alts, release)
        enc.root_reqs.append(alts)
        root_tags.append(("root", group))
    if problem.base:
        for name in universe.base_system():
            group = (Dep(name),)
            enc.root_reqs.append(enc.group_vars(group, native))
            root_tags.append(("base", name))
    fix_vars: list[tuple[Dep, tuple[int, ...]]] = []
    if with_fixes:
        for fix in problem.fixes:
            alts = tuple(v for v in enc.group_vars((fix,), native) if enc.cands[v].name == fix.name)
            fix_vars.append((fix, alts))
            enc.root_reqs.insert(len(fix_vars) - 1, alts)
            root_tags.insert(len(fix_vars) - 1, ("fix", str(fix)))
    enc.expand()

    n = len(enc.cands) - 1
    s = Solver(n)
    for alts, tag in zip(enc.root_reqs, root_tags, strict=True):
        s.add_clause(alts, tag)
    for v, veto in enc.vetoed.items():
        s.add_clause([-v], ("veto", v, veto))
    for v, (prio, pin) in enc.pinned_out.items():
        s.add_clause([-v], ("pin", v, prio, str(pin) if pin is not None else "a release pin"))
    s.add_distinct_clauses(enc.dep_clauses, enc.dep_tags)
    clauses: list[list[int]] = []
    tags: list[Hashable] = []
    # At most one version per name (per arch for Multi-Arch: same of one version).
    by_name: dict[str, list[int]] = defaultdict(list)
    for v in range(1, n + 1):
        by_name[enc.cands[v].name].append(v)
    for name, vs in by_name.items():
        for i in range(len(vs)):
            a = enc.cands[vs[i]]
            for j in range(i + 1, len(vs)):
                b = enc.cands[vs[j]]
                if (
                    a.multi_arch == "same" == b.multi_arch
                    and a.arch != b.arch
                    and compare(a.version, b.version) == 0
                ):
                    continue
                clauses.append([-vs[i], -vs[j]])
                tags.append(("one-version", name, vs[i], vs[j]))
    s.add_distinct_clauses(clauses, tags)
    clauses, tags = [], []
    # Conflicts and Breaks, among reachable candidates only (others are never installed). A relation
    # can match a reachable candidate only through its name or what it provides: the others are not
    # looked up at all, which spares the universe parsing the stanzas of (in a solve of 500 random
    # roots) some 2,400 names that nothing installable depends on.
    named = set(by_name)
    provided = {p.name for v in range(1, n + 1) for p in enc.cands[v].provides}
    for v in range(1, n + 1):
        c = enc.cands[v]
        if v in enc.vetoed or not (c.conflicts or c.breaks):
            continue
        arch = enc.from_arch(c)
        for kind, deps in (("Conflicts", c.conflicts), ("Breaks", c.breaks)):
            for dep in deps:
                if dep.name not in named and dep.name not in provided:
                    continue
                for q in enc.matches(dep, arch):
                    qv = enc.var_of.get(q.key)
                    if qv is None or qv == v or q.name == c.name:
                        continue
                    clauses.append([-v, -qv])
                    tags.append(("conflict", v, qv, kind, str(dep)))
    s.add_distinct_clauses(clauses, tags)
    # A fix moves the other binaries of its source package to the fixed source version.
    for fix, alts in fix_vars:
        for fv in alts:
            f = enc.cands[fv]
            moved = {
                enc.cands[v].name
                for v in range(1, n + 1)
                if enc.cands[v].source == f.source and enc.cands[v].source_version == f.source_version
            }
            for v in range(1, n + 1):
                c = enc.cands[v]
                if c.source == f.source and c.name != f.name and c.name in moved and c.source_version != f.source_version:
                    s.add_clause([-fv, -v], ("source-move", str(fix), fv, v))
    return enc, s


def _from_release(enc: Encoding, group: OrGroup, alts: tuple[int, ...], release: str) -> tuple[int, ...]:
    """The versions of a `name/release` root that the release holds (apt's pkgVersionMatch of type
    Release: the Suite or Codename, or the Version when it starts with a digit), newest first."""
    from .priorities import release_matches

    picked = [v for v in alts if release_matches(release, enc.prio.release_of(enc.cands[v]))]
    if not picked:
        name = format_group(group)
        raise InputError(f"{name}/{release}: release {release!r} has no version of {name}")
    return tuple(sorted(picked, key=lambda v: sort_key(enc.cands[v].version), reverse=True))
