"""The compiled bulk clause watcher (solver/_sat.c) watches and queues what the Python loop of
`Solver.add_distinct_clauses` does, and the solver answers the same either way."""

from __future__ import annotations

import random

import pytest

import solver.sat as sat


def _solver_state(clauses: list[list[int]], nvars: int) -> tuple[object, ...]:
    s = sat.Solver(nvars)
    s.add_distinct_clauses([list(c) for c in clauses[:3]], [("t", i) for i in range(3)])
    s.add_distinct_clauses([list(c) for c in clauses[3:]], [("t", i) for i in range(3, len(clauses))])
    return s.watches, s._units, s.clauses, s.tags


def test_the_compiled_watcher_is_built() -> None:
    # CI installs a C compiler and Python's headers (scripts/dev): a silent fallback would lose the speed.
    assert sat._compiled_watch is not None, "solver._sat is not built (pip install -e . with gcc and python3-dev)"


@pytest.mark.parametrize("seed", range(5))
def test_the_compiled_watcher_agrees_with_the_python_loop(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(seed)
    nvars = 30
    clauses = [[]] + [
        rnd.sample([v if rnd.random() < 0.5 else -v for v in range(1, nvars + 1)], rnd.choice([1, 1, 2, 3, 5]))
        for _ in range(200)
    ]
    compiled = _solver_state(clauses, nvars)
    monkeypatch.setattr(sat, "_compiled_watch", None)
    assert _solver_state(clauses, nvars) == compiled


def test_a_literal_of_no_variable_is_an_error() -> None:
    if sat._compiled_watch is None:
        pytest.skip("solver._sat is not built")
    with pytest.raises(ValueError):
        sat.Solver(2).add_distinct_clauses([[1, 7]], ["t"])
