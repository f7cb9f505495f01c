"""A small CDCL SAT engine with policy-driven decisions (libsolv's split of rules and policy).

The engine knows clauses and literals only. *What* must hold is the clause set; *which* literal to try
next is asked of a `Policy`, so apt-like preferences (first alternative, newest version, keep the
previous lock) live with the Debian encoding, not here. Each clause carries an opaque `tag` saying why
it exists (a dependency, a conflict, a veto, ...); when the problem is unsatisfiable, `core()` returns
the tags of the original clauses the refutation used, which is what the explanation is made from.

Techniques: two watched literals, first-UIP conflict analysis with clause learning, non-chronological
backjumping (Marques-Silva & Sakallah 1999; Moskewicz et al. 2001). Variables are 1..n; literal `v`
is "v is installed", `-v` "v is not".
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Protocol

try:  # the compiled bulk watcher of `add_distinct_clauses` (solver/_sat.c); the Python loop otherwise
    from ._sat import watch as _compiled_watch
except ImportError:  # pragma: no cover - depends on the install
    _compiled_watch = None


class Policy(Protocol):
    def decide(self, solver: Solver) -> int | None:
        """The next literal to assume (must be unassigned), or None when every requirement holds."""
        ...


class Solver:
    """Clauses in, a model (or a refutation core) out."""

    def __init__(self, nvars: int) -> None:
        self.nvars = nvars
        self.clauses: list[list[int]] = []
        self.tags: list[Hashable | None] = []  # None for learned clauses
        self.antecedents: list[tuple[int, ...]] = []  # learned clause -> clauses it was derived from
        self.learned: list[int] = []  # indices of learned clauses, oldest first
        self.value = [0] * (nvars + 1)  # 1 true, -1 false, 0 unassigned
        self.level = [0] * (nvars + 1)
        self.reason = [-1] * (nvars + 1)  # clause index that implied it, -1 for decisions/units
        self.trail: list[int] = []
        self.trail_lim: list[int] = []  # trail length at the start of each decision level
        self.watches: list[list[int]] = [[] for _ in range(2 * nvars + 2)]
        self._qhead = 0
        self._units: list[tuple[int, int]] = []  # (literal, clause index) of unit clauses
        self.conflict_clause = -1  # at level 0, the clause that failed
        self.backjumps = 0
        self.decisions = 0

    # -- building -----------------------------------------------------------------------------------
    @staticmethod
    def _w(lit: int) -> int:
        return 2 * lit if lit > 0 else -2 * lit + 1

    def add_clause(self, lits: Sequence[int], tag: Hashable | None) -> int:
        """Add an original clause. Duplicate literals are removed; a tautology is dropped (-1)."""
        seen: dict[int, None] = {}
        for lit in lits:
            if -lit in seen:
                return -1
            seen[lit] = None
        return self.add_distinct_clause(list(seen), tag)

    def add_distinct_clause(self, clause: list[int], tag: Hashable | None) -> int:
        """`add_clause` for literals the caller knows are distinct and not complementary (an encoder's
        `¬P ∨ Q` with Q ≠ P): the same clause, without checking each literal again. Keeps `clause`."""
        idx = len(self.clauses)
        self.clauses.append(clause)
        self.tags.append(tag)
        self.antecedents.append(())
        if len(clause) == 1:
            self._units.append((clause[0], idx))
        elif clause:
            a, b = clause[0], clause[1]
            self.watches[2 * a if a > 0 else -2 * a + 1].append(idx)
            self.watches[2 * b if b > 0 else -2 * b + 1].append(idx)
        else:
            self._units.append((0, idx))
        return idx

    def add_distinct_clauses(self, clauses: Sequence[list[int]], tags: Sequence[Hashable]) -> None:
        """`add_distinct_clause` for each pair, in order (an encoder adds hundreds of thousands: one
        loop here instead of a method call each)."""
        if len(clauses) != len(tags):
            raise ValueError("one tag per clause")
        units, watches = self._units, self.watches
        first = len(self.clauses)
        self.clauses.extend(clauses)
        self.tags.extend(tags)
        self.antecedents.extend([()] * len(clauses))
        if _compiled_watch is not None and type(clauses) is list:
            _compiled_watch(clauses, first, watches, units)  # the loop below, in C (solver/_sat.c)
            return
        for idx, clause in enumerate(clauses, first):
            if len(clause) > 1:
                a, b = clause[0], clause[1]
                watches[2 * a if a > 0 else -2 * a + 1].append(idx)
                watches[2 * b if b > 0 else -2 * b + 1].append(idx)
            else:
                units.append((clause[0] if clause else 0, idx))

    # -- assignment ---------------------------------------------------------------------------------
    def lit_value(self, lit: int) -> int:
        v = self.value[lit if lit > 0 else -lit]
        return v if lit > 0 else -v

    def _assign(self, lit: int, reason: int) -> None:
        var = lit if lit > 0 else -lit
        self.value[var] = 1 if lit > 0 else -1
        self.level[var] = len(self.trail_lim)
        self.reason[var] = reason
        self.trail.append(lit)

    def _propagate(self) -> int:
        """Unit propagation; returns the index of a falsified clause, or -1."""
        value, clauses, watches, w = self.value, self.clauses, self.watches, self._w
        trail = self.trail
        while self._qhead < len(trail):
            lit = trail[self._qhead]
            self._qhead += 1
            false_lit = -lit
            wl = watches[w(false_lit)]
            i = 0
            while i < len(wl):
                ci = wl[i]
                c = clauses[ci]
                if c[0] == false_lit:
                    c[0], c[1] = c[1], c[0]
                first = c[0]
                fv = value[first] if first > 0 else -value[-first]
                if fv == 1:
                    i += 1
                    continue
                for k in range(2, len(c)):
                    lk = c[k]
                    if (value[lk] if lk > 0 else -value[-lk]) != -1:
                        c[1], c[k] = lk, false_lit
                        watches[w(lk)].append(ci)
                        wl[i] = wl[-1]
                        wl.pop()
                        break
                else:
                    if fv == -1:
                        return ci
                    self._assign(first, ci)
                    i += 1
        return -1

    def restart(self) -> None:
        """Undo every decision (what was learned stays): the next `solve` starts from the facts at
        level 0, with another policy if wanted (solver/deb/installability.py solves again and again)."""
        self._backjump(0)

    def _backjump(self, level: int) -> None:
        if len(self.trail_lim) <= level:
            return
        start = self.trail_lim[level]
        for lit in self.trail[start:]:
            var = lit if lit > 0 else -lit
            self.value[var] = 0
            self.reason[var] = -1
        del self.trail[start:]
        del self.trail_lim[level:]
        self._qhead = len(self.trail)
        self.backjumps += 1

    def _analyze(self, confl: int) -> tuple[list[int], int, tuple[int, ...]]:
        """First-UIP learning: the learned clause (asserting literal first), the backjump level, and
        the clauses resolved on (kept so that an unsatisfiability core can be traced to originals)."""
        seen = [False] * (self.nvars + 1)
        learned: list[int] = [0]
        used = [confl]
        counter = 0
        current = len(self.trail_lim)
        idx = len(self.trail) - 1
        clause = self.clauses[confl]
        pivot = 0
        while True:
            for lit in clause:
                var = abs(lit)
                if var == abs(pivot) or seen[var]:
                    continue
                seen[var] = True
                if self.level[var] == current:
                    counter += 1
                elif self.level[var] > 0:
                    learned.append(lit)
                else:
                    # Falsified at level 0: its unit reason belongs to the refutation.
                    if self.reason[var] >= 0:
                        used.append(self.reason[var])
            while not seen[abs(self.trail[idx])]:
                idx -= 1
            pivot = self.trail[idx]
            idx -= 1
            counter -= 1
            if counter == 0:
                break
            r = self.reason[abs(pivot)]
            used.append(r)
            clause = self.clauses[r]
        learned[0] = -pivot
        if len(learned) == 1:
            return learned, 0, tuple(used)
        # Second watch: the literal of the highest level among the rest.
        best = max(range(1, len(learned)), key=lambda i: self.level[abs(learned[i])])
        learned[1], learned[best] = learned[best], learned[1]
        return learned, self.level[abs(learned[1])], tuple(used)

    def _learn(self, lits: list[int], used: tuple[int, ...]) -> int:
        idx = len(self.clauses)
        self.clauses.append(lits)
        self.tags.append(None)
        self.antecedents.append(used)
        self.learned.append(idx)
        if len(lits) > 1:
            self.watches[self._w(lits[0])].append(idx)
            self.watches[self._w(lits[1])].append(idx)
        return idx

    # -- search -------------------------------------------------------------------------------------
    def solve(self, policy: Policy) -> bool:
        for lit, ci in self._units:
            if lit == 0:
                self.conflict_clause = ci
                return False
            v = self.lit_value(lit)
            if v == -1:
                self.conflict_clause = self._level0_conflict(ci)
                return False
            if v == 0:
                self._assign(lit, ci)
        while True:
            confl = self._propagate()
            if confl >= 0:
                if not self.trail_lim:
                    self.conflict_clause = confl
                    return False
                learned, level, used = self._analyze(confl)
                self._backjump(level)
                ci = self._learn(learned, used)
                self._assign(learned[0], ci)
                continue
            decision = policy.decide(self)
            if decision is None:
                return True
            self.decisions += 1
            self.trail_lim.append(len(self.trail))
            self._assign(decision, -1)

    def _level0_conflict(self, ci: int) -> int:
        return ci

    def is_true(self, var: int) -> bool:
        return self.value[var] == 1

    # -- explanation --------------------------------------------------------------------------------
    def core(self) -> list[int]:
        """Indices of the original clauses that together are unsatisfiable (after `solve` failed).

        Walks back from the falsified clause through the reasons of level-0 assignments and the
        antecedents of learned clauses, in the order first met (closest to the conflict first).
        """
        if self.conflict_clause < 0:
            return []
        out: list[int] = []
        seen_clause: set[int] = set()
        stack = [self.conflict_clause]
        while stack:
            ci = stack.pop()
            if ci < 0 or ci in seen_clause:
                continue
            seen_clause.add(ci)
            if self.tags[ci] is not None:
                out.append(ci)
            else:
                stack.extend(reversed(self.antecedents[ci]))
            for lit in self.clauses[ci]:
                var = abs(lit)
                if self.value[var] != 0 and self.level[var] == 0 and self.reason[var] >= 0:
                    stack.append(self.reason[var])
        return out
