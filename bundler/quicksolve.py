"""`bundler solve` of the plain shapes, answered before typer and click are imported (issue 11).

Loading the command line machinery costs 40-80 ms (typer, click, their help renderer), where an
up-to-date solve does a few milliseconds of work (bundler/fastpath.py). `bundler.cli.main` therefore
hands the arguments of `solve` to `run` first, which recognises only these plain shapes, each given at
most once, in any order after `solve`:

    SPEC  -o/--output LOCK  --output=LOCK  --cache-dir DIR  --cache-dir=DIR
    --offline  --json  -q/--quiet  --check  --strict

and answers them as the command would: the lock fast path when it applies, else the full solve
(`bundler.solving.solve_report`, the one function both run), the lock written, then the `--json`
document, nothing (`-q`) or the text summary. An up-to-date solve's plain summary is written as rich
would print it, without importing rich (`_as_rich_prints_it`); any other summary is printed by rich
with `bundler.summary`, as the command prints it. An error is reported as `bundler.cli` reports it.

On anything else it returns None having printed and written nothing, and the command runs the
ordinary way (typer's parser, `bundler.commands.solve`), which then gives the answer, the usage error
or the solve: any other option or argument (`--upgrade`, `--bundle`, `-oX`, `--`, a value that starts
with "-"), a spec that does not load, a `--strict` error of the fast path, and `--check` but for an
up-to-date lock with `--json` or `-q` (its report of what would change is the command's).

What it answers is what `bundler.commands.solve.solve` answers in the same case, byte for byte: the
same defaults (`default_lock_path`, `bundler.cachedir.default_cache_dir`), the same check
(`fastpath.check`), the same reports (`fastpath.up_to_date_report`, `solving.solve_report`), the same
`--json` document (`solve_json`) and the same summary (`bundler.summary`, and its up-to-date lines
`up_to_date_lines`, `closing_lines`); tests/test_quicksolve.py runs both paths and compares their
output, exit code and lock bytes. Setting BUNDLER_NO_QUICK_SOLVE (to anything) skips it, for those
tests.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

DISABLE = "BUNDLER_NO_QUICK_SOLVE"
_FLAGS = {"--offline": "offline", "--json": "as_json", "-q": "quiet", "--quiet": "quiet", "--check": "check",
          "--strict": "strict"}  # fmt: skip
_VALUES = {"-o": "output", "--output": "output", "--cache-dir": "cache_dir"}


def default_lock_path(spec_path: Path) -> Path:
    """The lock a solve of `spec_path` writes without -o: bundle.lock beside the spec."""
    return spec_path.parent / "bundle.lock"


class SolveArgs:
    """The recognised arguments of `bundler solve` (a plain class: a dataclass costs ~1 ms to define,
    a tenth of what this module saves)."""

    __slots__ = ("as_json", "cache_dir", "check", "offline", "output", "quiet", "spec", "strict")

    def __init__(self, spec: Path, options: dict[str, str], flags: set[str]) -> None:
        self.spec = spec
        self.output = Path(options["output"]) if "output" in options else None
        self.cache_dir = Path(options["cache_dir"]) if "cache_dir" in options else None
        self.offline = "offline" in flags
        self.as_json = "as_json" in flags
        self.quiet = "quiet" in flags
        self.check = "check" in flags
        self.strict = "strict" in flags


def parse(args: list[str]) -> SolveArgs | None:
    """The arguments of `bundler solve ...` if they have one of the plain shapes above, else None."""
    if args[:1] != ["solve"]:
        return None
    options: dict[str, str] = {}
    flags: set[str] = set()
    positional: list[str] = []
    rest = iter(args[1:])
    for arg in rest:
        if arg in _FLAGS:
            if _FLAGS[arg] in flags:
                return None
            flags.add(_FLAGS[arg])
            continue
        name, eq, value = arg.partition("=")
        if arg in _VALUES or (eq and name.startswith("--") and name in _VALUES):
            if not eq:
                value = next(rest, "")
            if not value or value.startswith("-") or _VALUES[name] in options:
                return None
            options[_VALUES[name]] = value
        elif arg.startswith("-") or not arg:
            return None
        else:
            positional.append(arg)
    if len(positional) != 1:
        return None
    try:
        for a in args:  # arguments that are not text (undecodable bytes): click's business
            a.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return SolveArgs(Path(positional[0]), options, flags)


def run(args: list[str]) -> int | None:
    """Answer `bundler ARGS` if it is an up-to-date solve of a recognised shape; else None, silently."""
    if os.environ.get(DISABLE) is not None:
        return None
    parsed = parse(args)
    if parsed is None:
        return None
    lock_path = parsed.output or default_lock_path(parsed.spec)
    if parsed.check and not os.path.isfile(lock_path):  # --check of no lock: the command's report
        return None
    try:
        return _answer(parsed, lock_path)
    except KeyboardInterrupt:
        from bundler.cli import _err

        _err().out("interrupted")  # as bundler.cli._run says it
        return 130


def _answer(a: SolveArgs, lock_path: Path) -> int | None:
    from bundler import fastpath
    from bundler.cachedir import default_cache_dir
    from bundler.cli import report as report_error
    from bundler.cli import tune_gc
    from bundler.lock import write_lock
    from bundler.progress import Display
    from bundler.solving import solve_report
    from bundler.spec import load_spec
    from solver.errors import BundlerError

    try:
        spec = load_spec(a.spec)
    except BundlerError:  # reported by the ordinary path
        return None
    if a.check and (spec.debian is not None and not a.offline or not (a.as_json or a.quiet)):
        return None  # --check's text, and a Debian check online (the command would fetch the Release again)
    if spec.python is not None and not a.offline and not a.check and not os.path.exists(lock_path):
        from bundler import earlyhttp

        earlyhttp.start(spec.python)  # no lock: a solve follows, and its first request waits for these
    started = time.perf_counter()
    cache_dir = default_cache_dir(a.cache_dir)
    outcome = fastpath.check(spec, lock_path, cache_dir=cache_dir, offline=a.offline)
    if a.check and outcome.lock is None:
        return None  # what a solve would change: the command's report
    tune_gc()
    try:
        report = solve_report(spec, lock_path, cache_dir=cache_dir, offline=a.offline, as_json=a.as_json,
                              progress=Display.for_command(quiet=a.quiet, as_json=a.as_json), strict=a.strict,
                              outcome=outcome, started=started)  # fmt: skip
        if not report.up_to_date:  # else the lock is already these bytes
            write_lock(lock_path, report.lock)
    except BundlerError as e:
        if outcome.lock is not None:  # --strict and the ecosystems disagree: reported by the ordinary path
            return None
        return report_error(e)
    if a.as_json:
        sys.stdout.write(solve_json(report, lock_path))
    elif not a.quiet:
        _print_summary(report, lock_path)
    return 0


def _print_summary(report: Any, lock_path: Path) -> None:
    """The text summary as `bundler.commands.solve` prints it (bundler/summary.py): an up-to-date
    lock's plain lines written as rich would print them, without importing rich (~25 ms); anything else
    printed by rich."""
    if report.up_to_date and report.debian is None and report.python is None and report.audit is None \
            and not report.kept:  # fmt: skip
        text = "".join(f"{line}\n" for line in [*up_to_date_lines(report, lock_path), *closing_lines(report)])
        if _as_rich_prints_it(text):
            sys.stdout.write(text)
            return
    from bundler.summary import console_for, print_summary

    print_summary(console_for(False), report, lock_path)


def _as_rich_prints_it(text: str) -> bool:
    """Whether rich's console (bundler.commands.solve `_console`: markup and emoji codes on, soft wrap,
    no highlighting) prints `text` as it is: no markup (nothing without a "["), no emoji code (two
    colons with no space between them), no control character (rich removes some, expands tabs), and
    a UTF-8 stdout (what rich writes to; another encoding may fail on "→" or a path)."""
    import re

    if "[" in text or re.search(r":\S*?:", text) or re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", text):
        return False
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("_", "-")
    if encoding not in ("utf-8", "utf8"):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: a file name that is not UTF-8
        return False
    return True


def counts(lock: Any) -> str:
    """What a lock (a bundler.lock.Lock) holds, as the summary says it: "2 Debian packages and 1
    Python files", or "nothing"."""
    deb = sum(1 for p in lock.packages if p.ecosystem == "deb")
    py = sum(1 for p in lock.packages if p.ecosystem == "python")
    parts = []
    if deb:
        parts.append(f"{deb} Debian packages")
    if py:
        parts.append(f"{py} Python files")
    return " and ".join(parts) or "nothing"


def up_to_date_lines(report: Any, lock_path: Path) -> list[str]:
    """The first lines of the text summary of a solve the lock fast path answered (a
    bundler.pipeline.SolveReport with `up_to_date`): that, and the lock's sdists."""
    lock = report.lock
    lines = [f"lock up to date: {lock.name}: {counts(lock)} from {len(lock.roots)} roots; spec, its files and "
             f"indexes unchanged, nothing resolved → {lock_path}"]  # fmt: skip
    # What a solve warns about and the lock alone tells: the sdists the target builds (what their
    # build needs is in their metadata, which the fast path does not read).
    for p in sorted({(p.name, p.version, p.filename) for p in lock.packages
                     if p.ecosystem == "python" and not p.filename.endswith(".whl")}):  # fmt: skip
        lines.append(f"  warning: {p[0]} {p[1]} is an sdist ({p[2]}), built on install "
                     "(--no-fast-path reports what its build needs)")  # fmt: skip
    return lines


def closing_lines(report: Any) -> list[str]:
    """The last lines of every solve's text summary: the cross-ecosystem warnings and the timings."""
    lines = [f"  warning: {warning}" for warning in report.warnings]
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items())
    if timing:
        lines.append(f"  time: {timing}")
    return lines


def solve_json(report: Any, lock_path: Path) -> str:
    """The `solve --json` document of `report` (a bundler.pipeline.SolveReport) for `lock_path`."""
    import json

    out = report.to_json()
    out["solved"] = True
    out["lock"] = str(lock_path)
    return json.dumps(out, indent=2, sort_keys=True) + "\n"
