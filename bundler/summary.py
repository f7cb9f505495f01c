"""The text summary `bundler solve` prints, and the rich console it prints it with: used by the typer
command (bundler/commands/solve.py) and by the path that runs before typer (bundler/quicksolve.py),
which must print the same. rich is imported only to print: a `--json` or `-q` solve needs none of it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bundler.quicksolve import closing_lines, counts, up_to_date_lines

if TYPE_CHECKING:
    from rich.console import Console

    from bundler.pipeline import SolveReport


def print_summary(console: Console, report: SolveReport, lock_path: Path) -> None:
    """The text summary of a solve, as `bundler solve` prints it."""
    lock = report.lock
    if report.up_to_date:  # the lock fast path (its lines are bundler.quicksolve's, which prints them too)
        for line in up_to_date_lines(report, lock_path):
            console.print(line)
    else:
        console.print(f"solved {lock.name}: {counts(lock)} from {len(lock.roots)} roots → {lock_path}")
    d = report.debian
    if d is not None:
        for f in d.fixes:
            chosen = f"{f.chosen.name} {f.chosen.version}" if f.chosen else "?"
            console.print(f"  fix {f.fix}: {chosen}; changed because of it: {len(f.changed)}")
            for name, old, new in f.changed:
                console.print(f"    {name}: {old or '(new)'} → {new}")
        audited = {(e, n, v) for e, n, v, _ in report.audit.added} if report.audit is not None else set()
        for veto, removed in d.vetoes_hit:
            if ("deb", veto.package, f"{veto.op} {veto.version}") in audited:
                continue  # listed with the other audit vetoes below
            names = ", ".join(f"{c.name} {c.version}" for c in removed[:5])
            more = f" and {len(removed) - 5} more" if len(removed) > 5 else ""
            moved = "; ".join(f"{n} {old or '(absent)'} → {new or '(dropped)'}"
                              for n, old, new in report.debian_veto_changes.get(str(veto), []))
            console.print(f"  veto {veto} ({veto.reason}) removed {names}{more}; moved: {moved or 'nothing'}")
        if d.mirror_extra:
            console.print(f"  mirror closure added {len(d.mirror_extra)} alternatives and providers")
        if d.skipped_recommends:
            console.print(f"  {len(d.skipped_recommends)} Recommends could not be installed and were skipped")
            for c, group in d.skipped_recommends:  # the notes of the JSON's "debian" part
                console.print(f"  note: {c.name} {c.version} ({c.arch}): Recommends {group} skipped: cannot be installed")
    p = report.python
    if p is not None:
        from bundler.python_solve import describe_change

        for fix, changed in sorted(p.fix_changes.items()):
            text = ", ".join(describe_change(*c) for c in changed)
            console.print(f"  fix {fix}: changed because of it: {text or 'nothing else'}")
        for e in p.veto_effects:
            gone = f"{e.project} " + ", ".join(e.removed[:5])
            gone += f" and {len(e.removed) - 5} more" if len(e.removed) > 5 else ""
            moved = "; ".join(f"{n} {old or '(absent)'} → {new or '(dropped)'}" for n, old, new in e.changed)
            console.print(f"  veto {e.veto} ({e.reason}) removed {gone}; moved: {moved or 'nothing'}")
            for name, old, new in e.backwards():
                console.print(f"  warning: veto {e.veto} sent {name} back a major version: {old} → {new}")
        for b in p.sdists:
            console.print(f"  warning: {b.describe()}")
        for note in p.notes:
            console.print(f"  note: {note}")
    if report.audit is not None:
        for eco, name, version, reason in report.audit.added:
            console.print(f"  audit veto {eco} {name} ({version}): {reason}")
    for kept in report.kept:  # a re-solve kept these from the previous lock: say so (--upgrade moves them)
        console.print(f"  kept {kept.ecosystem} {kept}")
    for line in closing_lines(report):
        console.print(line)


def console_for(as_json: bool) -> Console:
    """The console `bundler solve` prints its summary with (on stderr when stdout has the JSON)."""
    # rich is loaded only to print: a --json or -q solve (the lock fast path's 30 ms) needs none of it
    from rich.console import Console

    return Console(stderr=as_json, highlight=False, soft_wrap=True)
