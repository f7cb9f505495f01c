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
"""

from __future__ import annotations

from typing import Any

from resolvelib import BaseReporter, Resolver
from resolvelib.resolvers import Criterion, Resolution

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


class MemoResolver(Resolver):  # type: ignore[type-arg]
    """`resolvelib.Resolver` whose resolution memoises per criterion (see the module docstring)."""

    def resolve(self, requirements: Any, max_rounds: int = 100) -> Any:  # type: ignore[override]
        resolution = _MemoResolution(self.provider, self.reporter)
        state = resolution.resolve(requirements, max_rounds=max_rounds)
        return _build_result(state)  # type: ignore[misc]


def make_resolver(provider: Any, reporter: BaseReporter | None = None) -> Resolver:  # type: ignore[type-arg]
    reporter = reporter if reporter is not None else BaseReporter()
    usable = _build_result is not None and all(
        hasattr(Resolution, m) for m in ("_is_current_pin_satisfying", "_get_preference")
    )
    return (MemoResolver if usable else Resolver)(provider, reporter)
