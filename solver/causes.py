"""Why there is no solution, as data: the causes of a failed solve, typed, and their one renderer.

A failed solve (Debian: solver/deb/explain.py from the SAT core; Python: solver/python/explain.py from
resolvelib's causes) returns an `Explanation`: the causes that together rule every answer out, in
the order a person reads them (from the spec's requests outwards), each a dataclass naming what it is
about, and an optional hint. `render()` turns it into the text the CLI prints ("Because …,\n  and
…,\nno consistent set of packages exists."), `to_json()` into the `--json` form; nothing else formats
them, so text and JSON never disagree.

The kinds: Requirement (a root of the spec, or one package's dependency), Fix, BaseNeed (Debian's
required set), Veto, Pin (apt priority below 0), Conflict (Conflicts/Breaks), OneVersion (two
versions of one package), SourceMove (a fix moving every binary of its source), PythonVersion and
NoMatch (a requirement no version satisfies, with the reason: vetoes, yanks, Requires-Python, ...),
and Excluded (the versions left cannot be used together).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Requirement:
    """`by` requires `requirement` ("you" for a root of the spec); `unavailable`: why nothing fits."""

    by: str  # "you", a package ("libssl3 3.0.9-1"), or several joined by " and " (`many`)
    requirement: str
    field: str = "Depends"  # root | Depends | Pre-Depends (Debian) | requires | extra-of (Python)
    unavailable: str | None = None
    many: bool = False

    def sentence(self) -> str:
        if self.field == "root":
            text = f"you require {self.requirement}"
        elif self.field == "Pre-Depends":
            text = f"{self.by} pre-depends on {self.requirement}"
        elif self.field == "requires":
            text = f"{self.by} requires {self.requirement}"
        elif self.field == "extra-of":  # a project's extra is that project at the same version
            text = f"{self.by} is {self.requirement}"
        else:
            text = f"{self.by} {'depend' if self.many else 'depends'} on {self.requirement}"
        return text + (f", {self.unavailable}" if self.unavailable else "")


@dataclass(frozen=True, slots=True)
class Fix:
    fix: str
    unavailable: str | None = None  # "but no source has that version"
    pins: str | None = None  # Python: "name to version"

    def sentence(self) -> str:
        if self.pins is not None:
            return f"the fix {self.fix} pins {self.pins}"
        return f"you fix {self.fix}" + (f", {self.unavailable}" if self.unavailable else "")


@dataclass(frozen=True, slots=True)
class BaseNeed:
    package: str
    unavailable: str | None = None

    def sentence(self) -> str:
        return f"the base system needs {self.package}" + (f", {self.unavailable}" if self.unavailable else "")


@dataclass(frozen=True, slots=True)
class Veto:
    package: str  # "libssl3 3.0.9-1" or a Python range "pyyaml>=6"
    reason: str
    veto: str = ""  # the veto as written ("libssl3 (<< 3.0.11)")

    def sentence(self) -> str:
        return f"{self.package} is vetoed ({self.reason})"


@dataclass(frozen=True, slots=True)
class Pin:
    package: str
    priority: int
    pin: str

    def sentence(self) -> str:
        return f"{self.package} has apt priority {self.priority} ({self.pin}), so it is never installed"


@dataclass(frozen=True, slots=True)
class Conflict:
    package: str
    field: str  # Conflicts | Breaks
    relation: str
    matched: str

    def sentence(self) -> str:
        verb = "conflicts with" if self.field == "Conflicts" else "breaks"
        return f"{self.package} {verb} {self.relation} (matched by {self.matched})"


@dataclass(frozen=True, slots=True)
class OneVersion:
    name: str
    versions: tuple[str, str]

    def sentence(self) -> str:
        return f"only one version of {self.name} can be installed ({self.versions[0]} or {self.versions[1]})"


@dataclass(frozen=True, slots=True)
class SourceMove:
    fix: str
    source: str
    version: str
    rules_out: str

    def sentence(self) -> str:
        return (
            f"the fix {self.fix} moves every binary of source {self.source} to {self.version}, "
            f"which rules out {self.rules_out}"
        )


@dataclass(frozen=True, slots=True)
class PythonVersion:
    """The target interpreter: what a Requires-Python (or a `python` requirement) is checked against."""

    version: str

    def sentence(self) -> str:
        return f"the target is Python {self.version}"


@dataclass(frozen=True, slots=True)
class NoMatch:
    """No usable version of `name` meets the requirements: `detail` says why (no version matches,
    vetoed, yanked, Requires-Python, no wheel for the platform, ...)."""

    name: str
    detail: str

    def sentence(self) -> str:
        return self.detail


@dataclass(frozen=True, slots=True)
class Excluded:
    """The conclusion of one Python conflict: these candidates cannot be used (together), and how
    each was needed (`because`)."""

    candidates: tuple[str, ...]
    because: tuple[str, ...] = ()
    together: bool = False  # candidates of several projects

    def sentence(self) -> str:
        together = " together" if self.together else ""
        return f"{' and '.join(self.candidates)} cannot be used{together}"


Cause = (
    Requirement | Fix | BaseNeed | Veto | Pin | Conflict | OneVersion | SourceMove | PythonVersion | NoMatch
    | Excluded
)
_KIND = {
    Requirement: "requirement", Fix: "fix", BaseNeed: "base", Veto: "veto", Pin: "pin", Conflict: "conflict",
    OneVersion: "one-version", SourceMove: "source-move", PythonVersion: "python-version",
    NoMatch: "no-match", Excluded: "excluded",
}  # fmt: skip


def kind(cause: Cause) -> str:
    return _KIND[type(cause)]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why there is no solution: one or more chains of causes, and what to try."""

    ecosystem: str  # "deb" | "python"
    chains: tuple[tuple[Cause, ...], ...]
    hint: str | None = None
    note: str | None = None  # a failure without causes (resolvelib gave up): said as it is

    def render(self) -> str:
        if self.note is not None:
            return self.note
        return "\n".join(_render_chain(chain, self.ecosystem) for chain in self.chains) or "no consistent set exists."

    def to_json(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "chains": [[{"kind": kind(c), **dataclasses.asdict(c), "text": c.sentence()} for c in chain]
                       for chain in self.chains],  # fmt: skip
            "hint": self.hint,
            "text": self.render(),
        }


def _render_chain(chain: tuple[Cause, ...], ecosystem: str) -> str:
    if not chain:
        return "no consistent set exists."
    *reasons, last = chain
    if isinstance(last, Excluded):
        text = "Because " + ",\n  and ".join(c.sentence() for c in reasons) + f",\n{last.sentence()}."
        if last.because:
            text += "\nAnd because " + ",\n  and ".join(last.because) + ",\nno solution exists."
        return text
    end = "no consistent set of packages exists." if ecosystem == "deb" else "no solution exists."
    return "Because " + ",\n  and ".join(c.sentence() for c in chain) + f",\n{end}"
