"""resolvelib's resolver with its two per-round questions memoised (same algorithm, same answers).

Every round, resolvelib's `Resolution` asks for each known project whether its current pin satisfies
all of its requirements (`_is_current_pin_satisfying`), and for each unsatisfied one its preference
(`_get_preference`): a number of provider calls proportional to the number of projects, in every round,
so quadratic over a resolution (470,000 satisfaction checks and 130,000 preferences for OpenStack's
global requirements). Almost all of those questions were already answered in the previous round.

Both answers depend only on objects that never change once made: a `Criterion` ("externally
immutable", resolvelib's docstring says; every change to a project's requirements builds a new one) and
a pinned candidate; `PythonProvider.get_preference` reads nothing but the criterion's information. So
the last answer per project is kept with the criterion and pin it was computed for, and reused while
the project's criterion and pin are those very objects.

This subclasses resolvelib's `Resolution` (exported, but its two methods are internal); when the
installed resolvelib does not have them, `make_resolver` falls back to its plain `Resolver`.

Memoised, each question is still a Python call per project per round. `_IncrementalResolution` runs
resolvelib 1.2's own loop but asks only about the projects whose criterion or pin changed since the
round before, found by identity in C loops: OpenStack's warm in-process resolution 0.76-0.83 s ->
0.62-0.65 s, airflow's 0.21-0.23 -> 0.19-0.21 s (min of 5, alternating, same machine).

What was left of resolvelib's per-round work over every project: copying all the criteria for each
candidate tried and merging the copy back, comparing the criteria and pins with the last round's
after each pin, and the set of satisfied names. After a pin what changed is known (the pin and the
criteria its dependencies touched, `_Overlay`), so `_rescan_pinned` takes only those; the
comparison (`_rescan`) stays for the states a backjump or a removal makes. OpenStack's warm solve,
whole process, 10 runs alternated: 0.391 -> 0.302 s (in the loop 239 -> 146 ms). Airflow's (238
rounds over ~230 projects, against OpenStack's 581 over ~600) gained within the noise of 25
alternated runs.
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

import resolvelib
from resolvelib import BaseReporter, Resolver
from resolvelib.resolvers import (
    Criterion,
    InconsistentCandidate,
    RequirementsConflicted,
    Resolution,
    ResolutionImpossible,
    ResolutionTooDeep,
)
from resolvelib.structs import IteratorMapping, State

try:  # internal to resolvelib 1.x: how Resolver.resolve turns the final state into its Result
    from resolvelib.resolvers.resolution import _build_result
except ImportError:  # pragma: no cover - another resolvelib layout
    _build_result = None  # type: ignore[assignment]


class _MemoResolution(Resolution):  # type: ignore[type-arg]
    def __init__(self, provider: Any, reporter: Any) -> None:
        super().__init__(provider, reporter)
        # per project: the last (criterion, pin, satisfied) and (criterion, preference) computed. The
        # entries hold the objects they were computed for, which are compared by identity.
        self._satisfying: dict[Any, tuple[Any, Any, bool]] = {}
        self._preference: dict[Any, tuple[Any, Any]] = {}

    def _is_current_pin_satisfying(self, name: Any, criterion: Criterion) -> bool:  # type: ignore[type-arg]
        pin = self._states[-1].mapping.get(name)
        if pin is None:
            return False
        hit = self._satisfying.get(name)
        if hit is not None and hit[1] is pin:
            if hit[0] is criterion:
                return hit[2]
            # resolvelib adds a requirement to a project by copying its criterion's information and
            # appending to it: then only the added requirements need asking about (a project many
            # others require, such as `<python>`, would otherwise make this quadratic again)
            old, new = hit[0].information, criterion.information
            if (
                isinstance(old, list)
                and isinstance(new, list)
                and len(new) > len(old)
                and new[: len(old)] == old
            ):
                satisfied = hit[2] and all(
                    self._p.is_satisfied_by(requirement=info.requirement, candidate=pin)
                    for info in new[len(old) :]
                )
                self._satisfying[name] = (criterion, pin, satisfied)
                return satisfied
        satisfied = super()._is_current_pin_satisfying(name, criterion)
        self._satisfying[name] = (criterion, pin, satisfied)
        return satisfied

    def _get_preference(self, name: Any) -> Any:
        criterion = self._states[-1].criteria[name]
        hit = self._preference.get(name)
        if hit is None or hit[0] is not criterion:
            hit = self._preference[name] = (criterion, super()._get_preference(name))
        return hit[1]


class _IncrementalResolution(_MemoResolution):
    """resolvelib 1.2's `Resolution.resolve` loop, with its two scans of every project made incremental.

    Each round resolvelib asks, for every project it knows, whether the current pin satisfies it
    (the unsatisfied ones are the candidates for the next pin), and after a pin asks again of the ones
    that were satisfied (to drop what newly broke). Memoised (`_MemoResolution`), each question is
    cheap, but still one Python call per project per round: half of OpenStack's warm resolution. Here
    a round looks only at the projects whose criterion or pin is not the very object it was when last
    asked (`_rescan`: identity comparisons, no calls), keeps each answer, and takes the preference
    from a table refreshed for those projects only. The loop is otherwise resolvelib's own, statement
    for statement: the provider is asked the same questions less often (never one it answered for the
    same criterion and pin), and the resolution pins the same candidates in the same rounds
    (tests/test_python_caches.py compares the reporter's events with resolvelib's on random universes
    that backtrack). `make_resolver` uses it only with the
    resolvelib versions whose loop this is (`_LOOP_VERSIONS`).
    """

    def __init__(self, provider: Any, reporter: Any) -> None:
        super().__init__(provider, reporter)
        # The criteria and pins the answers below were computed for, as parallel lists in dict order.
        self._criteria_seen: tuple[list[Any], list[Any]] = ([], [])
        self._pins_seen: tuple[list[Any], list[Any]] = ([], [])
        self._satisfied: dict[Any, bool] = {}  # project -> whether its pin satisfies its criterion
        self._preferences: dict[Any, Any] = {}  # project -> preference, for its current criterion
        # where each key of `_criteria_seen` and `_pins_seen` is in its lists, for `_rescan_pinned`
        self._criteria_at: dict[Any, int] = {}
        self._pins_at: dict[Any, int] = {}
        self._pinned: tuple[Any, dict[Any, Any]] | None = None  # the last pin and the criteria it changed

    def _rescan(self) -> list[Any]:
        """Bring the answers up to date with the current state; return the projects that were asked."""
        state = self.state
        criteria, pins = state.criteria, state.mapping
        changed_criteria, gone, self._criteria_seen = _changes(criteria, *self._criteria_seen)
        changed_pins, unpinned, self._pins_seen = _changes(pins, *self._pins_seen)
        satisfied, preferences = self._satisfied, self._preferences
        for key in gone:  # the states that required them were popped by a backjump
            del satisfied[key]
            preferences.pop(key, None)
        for key in changed_criteria:
            preferences.pop(key, None)
        self._criteria_at = {key: i for i, key in enumerate(self._criteria_seen[0])}
        self._pins_at = {key: i for i, key in enumerate(self._pins_seen[0])}
        changed = changed_criteria + changed_pins + unpinned
        for key in changed:
            criterion = criteria.get(key)
            if criterion is not None:
                satisfied[key] = self._is_current_pin_satisfying(key, criterion)
        return changed

    def _rescan_pinned(self, name: Any, changes: dict[Any, Any]) -> set[Any]:
        """`_rescan` right after `name` was pinned and `changes` merged into the criteria, from a state
        the answers were current for: then what changed is known, and nothing is compared. Return
        the projects the pin made unsatisfied (satisfied at the round's start, no longer)."""
        criteria, pins = self.state.criteria, self.state.mapping
        keys, values = self._criteria_seen
        at = self._criteria_at
        for key, criterion in changes.items():
            i = at.get(key)
            if i is None:
                at[key] = len(keys)
                keys.append(key)
                values.append(criterion)
            else:
                values[i] = criterion
        pin_keys, pin_values = self._pins_seen
        if name in self._pins_at:  # pinned again: it moved to the end of the pins (rare)
            self._pins_seen = (list(pins), list(pins.values()))
            self._pins_at = {key: i for i, key in enumerate(self._pins_seen[0])}
        else:
            self._pins_at[name] = len(pin_keys)
            pin_keys.append(name)
            pin_values.append(pins[name])
        satisfied, preferences = self._satisfied, self._preferences
        broken = set()
        for key in (*changes, name):
            if key in changes:
                preferences.pop(key, None)
            was = satisfied.get(key)
            now = satisfied[key] = self._is_current_pin_satisfying(key, criteria[key])
            if was and not now:
                broken.add(key)
        return broken

    def _attempt_to_pin_criterion(self, name: Any) -> list[Any]:
        # resolvelib 1.2.1's, but for the criteria a candidate's dependencies make: resolvelib copies
        # all the state's criteria (~600 for OpenStack) for each candidate it tries, adds to the copy
        # and merges the whole copy back; here they are added to an overlay of the state's criteria,
        # and only what changed is merged (the same entries: the copy's others are the state's own).
        criterion = self.state.criteria[name]

        causes: list[Any] = []
        for candidate in criterion.candidates:
            overlay = _Overlay(self.state.criteria)
            try:
                for requirement in self._p.get_dependencies(candidate=candidate):
                    self._add_to_criteria(overlay, requirement, parent=candidate)  # type: ignore[arg-type]
            except RequirementsConflicted as e:
                self._r.rejecting_candidate(e.criterion, candidate)
                causes.append(e.criterion)
                continue

            satisfied = all(
                self._p.is_satisfied_by(requirement=r, candidate=candidate)
                for r in criterion.iter_requirement()
            )
            if not satisfied:
                raise InconsistentCandidate(candidate, criterion)

            self._r.pinning(candidate=candidate)
            self.state.criteria.update(overlay.changes)

            # Put newly-pinned candidate at the end. This is essential because
            # backtracking looks at this mapping to get the last pin.
            self.state.mapping.pop(name, None)
            self.state.mapping[name] = candidate
            self._pinned = (name, overlay.changes)
            return []

        # All candidates tried, nothing works. This criterion is a dead
        # end, signal for backtracking.
        return causes

    def resolve(self, requirements: Any, max_rounds: int) -> Any:
        # resolvelib 1.2.1's Resolution.resolve (ISC licence, Copyright (c) 2018 Tzu-ping Chung), with
        # the two scans and the preference marked "incremental" below.
        if self._states:
            raise RuntimeError("already resolved")

        self._r.starting()

        # Initialize the root state.
        # a plain dict for the pins: resolvelib's OrderedDict is copied each round (`_push_new_state`),
        # slower than a dict's copy, and only its `popitem()` (the last pin) is used, which a dict has
        self._states = [State(mapping={}, criteria={}, backtrack_causes=[])]
        for r in requirements:
            try:
                self._add_to_criteria(self.state.criteria, r, parent=None)
            except RequirementsConflicted as e:
                raise ResolutionImpossible(e.criterion.information) from e

        # The root state is saved as a sentinel so the first ever pin can have
        # something to backtrack to if it fails. The root state is basically
        # pinning the virtual "root" package in the graph.
        self._push_new_state()

        # Variables for optimistic backjumping
        optimistic_rounds_cutoff: int | None = None
        optimistic_backjumping_start_round: int | None = None
        answered = False  # incremental: whether the answers are those of the current state

        for round_index in range(max_rounds):
            self._r.starting_round(index=round_index)

            # Handle if optimistic backjumping has been running for too long
            if self._optimistic_backjumping_ratio and self._save_states is not None:
                if optimistic_backjumping_start_round is None:
                    optimistic_backjumping_start_round = round_index
                    optimistic_rounds_cutoff = int(
                        (max_rounds - round_index) * self._optimistic_backjumping_ratio
                    )

                    if optimistic_rounds_cutoff <= 0:
                        answered = False
                        self._rollback_states()
                        continue
                elif optimistic_rounds_cutoff is not None:
                    if round_index - optimistic_backjumping_start_round >= optimistic_rounds_cutoff:
                        answered = False
                        self._rollback_states()
                        continue

            # incremental: the projects whose current pin does not satisfy them, in criteria order (the
            # answers are already current after a pin that unsatisfied nothing: see below)
            if not answered:
                self._rescan()
            answered = False
            unsatisfied_names = list(
                itertools.filterfalse(self._satisfied.__getitem__, self._criteria_seen[0])
            )

            # All criteria are accounted for. Nothing more to pin, we are done!
            if not unsatisfied_names:
                self._r.ending(state=self.state)
                return self.state

            # (resolvelib keeps the set of satisfied names here, for after the pin: `_rescan_pinned`
            # finds them from the answers instead)

            if len(unsatisfied_names) > 1:
                narrowed_unstatisfied_names = list(
                    self._p.narrow_requirement_selection(
                        identifiers=unsatisfied_names,
                        resolutions=self.state.mapping,
                        candidates=IteratorMapping(self.state.criteria, operator.attrgetter("candidates")),
                        information=IteratorMapping(self.state.criteria, operator.attrgetter("information")),
                        backtrack_causes=self.state.backtrack_causes,
                    )
                )
            else:
                narrowed_unstatisfied_names = unsatisfied_names

            # If there are no unsatisfied names use unsatisfied names
            if not narrowed_unstatisfied_names:
                raise RuntimeError("narrow_requirement_selection returned 0 names")

            # If there is only 1 unsatisfied name skip calling self._get_preference
            if len(narrowed_unstatisfied_names) > 1:
                # Choose the most preferred unpinned criterion to try.
                # incremental: a preference is asked once per criterion (see _rescan)
                preferences = self._preferences
                for key in set(narrowed_unstatisfied_names).difference(preferences):
                    preferences[key] = Resolution._get_preference(self, key)
                name = min(narrowed_unstatisfied_names, key=preferences.__getitem__)
            else:
                name = narrowed_unstatisfied_names[0]

            self._pinned = None
            failure_criterion = self._attempt_to_pin_criterion(name)

            if failure_criterion:
                causes = self._extract_causes(failure_criterion)
                # Backjump if pinning fails. The backjump process puts us in
                # an unpinned state, so we can work on it in the next round.
                self._r.resolving_conflicts(causes=causes)

                try:
                    success = self._backjump(causes)
                except ResolutionImpossible:
                    if self._optimistic_backjumping_ratio and self._save_states:
                        failed_optimistic_backjumping = True
                    else:
                        raise
                else:
                    failed_optimistic_backjumping = bool(
                        not success and self._optimistic_backjumping_ratio and self._save_states
                    )

                if failed_optimistic_backjumping and self._save_states:
                    self._rollback_states()
                else:
                    self.state.backtrack_causes[:] = causes

                    # Dead ends everywhere. Give up.
                    if not success:
                        raise ResolutionImpossible(self.state.backtrack_causes)
            else:
                # discard as information sources any invalidated names
                # (unsatisfied names that were previously satisfied)
                # incremental: only a project whose criterion or pin changed can have become unsatisfied,
                # and the pin says which did
                assert self._pinned is not None
                newly_unsatisfied_names = self._rescan_pinned(*self._pinned)
                self._remove_information_from_criteria(self.state.criteria, newly_unsatisfied_names)
                # incremental: nothing removed, the next round's state is a copy of what was just scanned
                answered = not newly_unsatisfied_names
                # Pinning was successful. Push a new state to do another pin.
                self._push_new_state()

            self._r.ending_round(index=round_index, state=self.state)

        raise ResolutionTooDeep(max_rounds)


_MISSING = object()


class _Overlay:
    """The criteria a candidate's dependencies change, read through to the state's (left alone):
    what `_add_to_criteria` and the provider's `find_matches` read of the mapping they are given."""

    __slots__ = ("base", "changes")

    def __init__(self, base: dict[Any, Any]) -> None:
        self.base = base
        self.changes: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        value = self.changes.get(key, _MISSING)
        return self.base[key] if value is _MISSING else value

    def get(self, key: Any, default: Any = None) -> Any:
        value = self.changes.get(key, _MISSING)
        return self.base.get(key, default) if value is _MISSING else value

    def __setitem__(self, key: Any, value: Any) -> None:
        self.changes[key] = value

    def __contains__(self, key: Any) -> bool:
        return key in self.changes or key in self.base

    def __iter__(self) -> Any:
        return itertools.chain(self.base, (key for key in self.changes if key not in self.base))

    def __len__(self) -> int:
        return len(self.base) + sum(key not in self.base for key in self.changes)


def _changes(
    current: dict[Any, Any], keys: list[Any], values: list[Any]
) -> tuple[list[Any], list[Any], tuple[list[Any], list[Any]]]:
    """What changed in `current` since it had `keys` and `values`: the keys that are new or whose value is
    not the very object it was, the keys it no longer has, and its keys and values now.

    In C loops (`compress`, `map`) while the old keys and the new are one the prefix of the other:
    resolvelib's criteria only grow, or go back to an earlier state's (a backjump), and so do its pins
    except when a project is pinned again (moved to the end); other shapes take the dict lookups.
    """
    now_keys, now_values = list(current), list(current.values())
    n, m = len(now_keys), len(keys)
    if n >= m and now_keys[:m] == keys:
        changed = list(itertools.compress(now_keys, map(operator.is_not, now_values, values)))
        return changed + now_keys[m:], [], (now_keys, now_values)
    if n < m and now_keys == keys[:n]:
        changed = list(itertools.compress(now_keys, map(operator.is_not, now_values, values)))
        return changed, keys[n:], (now_keys, now_values)
    old = dict(zip(keys, values, strict=True))
    missing = object()
    changed = [k for k, v in current.items() if old.get(k, missing) is not v]
    return changed, [k for k in keys if k not in current], (now_keys, now_values)


# The resolvelib releases whose `Resolution.resolve` loop `_IncrementalResolution.resolve` is: 1.2.0's
# and 1.2.1's are the same (they differ in `_backjump`, which the loop calls, not copies); 1.1's has no
# optimistic backjumping. Another release gets `MemoResolver`, resolvelib's own loop.
_LOOP_VERSIONS = ("1.2.",)


class MemoResolver(Resolver):  # type: ignore[type-arg]
    """`resolvelib.Resolver` whose resolution memoises per criterion (see the module docstring)."""

    resolution: type[_MemoResolution] = _MemoResolution

    def resolve(self, requirements: Any, max_rounds: int = 100) -> Any:  # type: ignore[override]
        resolution = self.resolution(self.provider, self.reporter)
        state = resolution.resolve(requirements, max_rounds=max_rounds)
        return _build_result(state)  # type: ignore[misc]


class IncrementalResolver(MemoResolver):
    """`MemoResolver` whose rounds look only at what changed (`_IncrementalResolution`)."""

    resolution = _IncrementalResolution


def make_resolver(provider: Any, reporter: BaseReporter | None = None) -> Resolver:  # type: ignore[type-arg]
    reporter = reporter if reporter is not None else BaseReporter()
    usable = _build_result is not None and all(
        hasattr(Resolution, m) for m in ("_is_current_pin_satisfying", "_get_preference")
    )
    if not usable:
        return Resolver(provider, reporter)
    if resolvelib.__version__.startswith(_LOOP_VERSIONS):
        return IncrementalResolver(provider, reporter)
    return MemoResolver(provider, reporter)
