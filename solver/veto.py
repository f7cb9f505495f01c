"""A veto: packages kept out of the answer (a CVE, a licence, a known-bad build), with the reason.

One type for both ecosystems and every source of vetoes: the spec's `veto` lists (bundler/spec.py),
those an `[audit]` adds from advisories (bundler/audit.py), the Python resolver's input
(solver/python/resolve.py) and a hotfix's reasons (bundler/delta.py). The Debian solver compiles each
into the matcher it tests candidates with (solver.deb.problem.DebVeto, via parse_veto); Python's provider
reads `version` as a PEP 440 specifier set.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Veto:
    package: str
    # None: every version. Debian: a relation "<< 3.0.11" (Policy §7.1 operator and version);
    # Python: a PEP 440 specifier set "<5.4".
    version: str | None
    reason: str
