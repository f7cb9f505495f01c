"""apt's decisions over an encoding: the roots, then apt's depth-first MarkInstall walk from them:
requirements in the order they appear, each with its first alternative, newest version, the earlier
source on ties, and the previous lock's version first when re-solving; Recommends are weak: tried,
dropped on conflict (apt's depcache.cc, as bundler reproduces it; tests/test_apt_priorities.py)."""

from __future__ import annotations

from ..sat import Solver
from .encoding import Encoding


class AptPolicy:
    """Decides like apt-get install: every root first, then apt's MarkInstall walk, depth first from
    the roots in order. A dependency group of a package on the walk, in the order written, is left
    alone when an alternative is already marked (on the walk, or a root), else its first alternative
    that can still be installed is marked and walked into before the next group. Then the installed
    packages no walk went into (forced by propagation, or marked as a root's other alternative), then
    weak Recommends, then whatever a learned
    clause still asks for. Everything left undecided is not installed.

    "Marked" is apt's notion, not "true in the assignment": propagation makes a package true as soon
    as some installed package has no other way to its dependency, which apt does not know about. Were
    that enough to leave a group alone, the answer would hang on how many versions the suites offer
    (a second suite with another open-iscsi stopped it being forced early, and "tgt | open-iscsi"
    then took tgt) and would differ from apt's (ieee-data's "wget | libwww-perl | curl" is met on
    apt's walk before curl is marked, so apt installs wget).
    """

    def __init__(self, enc: Encoding) -> None:
        self.enc = enc
        self._seen_backjumps = 0
        self._reset()
        self.weak_dropped: set[tuple[int, int]] = set()

    def _reset(self) -> None:
        self._root = 0  # the next root to walk from
        self._stack: list[list[int]] = []  # [package var, index of its next dependency group]
        self._marked: set[int] | None = None  # set once every root is installed
        self._walked: set[int] = set()  # the packages whose walk has started
        self._scan = 0  # how far the trail was searched for installed packages no walk reached

    def _walk_into(self, var: int) -> None:
        assert self._marked is not None
        self._marked.add(var)
        if var not in self._walked:
            self._walked.add(var)
            self._stack.append([var, 0])

    def decide(self, s: Solver) -> int | None:
        value = s.value
        if s.backjumps != self._seen_backjumps:
            self._seen_backjumps = s.backjumps
            self._reset()
        roots = self.enc.root_reqs
        if self._marked is None:
            for alts in roots:
                lit = _first_open(alts, value)
                if lit is not None:
                    return lit
            self._marked = {v for alts in roots for v in alts if value[v] == 1}
        marked = self._marked
        reqs = self.enc.requirements
        stack = self._stack
        while True:
            if stack:
                frame = stack[-1]
                groups = reqs.get(frame[0], ())
                if frame[1] >= len(groups):
                    stack.pop()
                    continue
                alts = groups[frame[1]]
                if marked.isdisjoint(alts):
                    for v in alts:
                        x = value[v]
                        if x == 0:
                            return v  # once it is installed, the next call walks into it
                        if x == 1:
                            frame[1] += 1
                            self._walk_into(v)
                            break
                    else:
                        frame[1] += 1  # none can be installed: propagation reports the conflict
                    continue
                frame[1] += 1
            elif self._root < len(roots):
                for v in roots[self._root]:
                    if value[v] == 1:
                        self._walk_into(v)  # a root is marked already: only its walk starts
                        break
                self._root += 1
            else:
                trail = s.trail
                # Installed packages no walk went into: forced by propagation, or marked only as an
                # alternative of a root that was met otherwise. Their groups are decided too.
                while self._scan < len(trail) and not stack:
                    lit = trail[self._scan]
                    if lit > 0 and lit not in self._walked:
                        self._walk_into(lit)
                    self._scan += 1
                if not stack:
                    break
        if self.enc.weak:
            for lit in s.trail:
                if lit > 0:
                    for alts in self.enc.weak.get(lit, ()):
                        pick = _first_open(alts, value)
                        if pick is not None:
                            return pick
        for ci in s.learned:
            pick = _open_learned(s.clauses[ci], value)
            if pick is not None:
                return pick
        return None


def _first_open(alts: tuple[int, ...], value: list[int]) -> int | None:
    """None when some alternative is installed (or none can be: propagation reports that);
    else the first unassigned alternative."""
    first = None
    for v in alts:
        x = value[v]
        if x == 1:
            return None
        if x == 0 and first is None:
            first = v
    return first


def _open_learned(clause: list[int], value: list[int]) -> int | None:
    # Satisfied if a literal is true, or a negative literal is unassigned (it will default to false).
    first = None
    for lit in clause:
        x = value[lit] if lit > 0 else -value[-lit]
        if x == 1 or (x == 0 and lit < 0):
            return None
        if x == 0 and first is None:
            first = lit
    return first
