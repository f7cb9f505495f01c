"""An up-to-date `bundler solve` answered before typer, click and rich are imported (issue 11).

Loading the command line machinery costs about 50 ms (typer, click, their help renderer), where an
up-to-date solve does a few milliseconds of work (bundler/fastpath.py). `bundler.cli.main` therefore
hands the arguments of `solve` to `run` first, which recognises only these plain shapes, each given at
most once, in any order after `solve`:

    SPEC  -o/--output LOCK  --output=LOCK  --cache-dir DIR  --cache-dir=DIR
    --offline  --json  -q/--quiet  --check  --strict

and answers when the lock fast path applies and the answer needs no rich console (`--json`, or `-q`).
On anything else it returns None having printed and written nothing, and the command runs the
ordinary way (typer's parser, `bundler.commands.solve`), which then gives the answer, the usage error
or the full solve: any other option or argument (`--upgrade`, `--bundle`, `-oX`, `--`, a value that
starts with "-"), no lock file at the lock path (a full solve), a spec that does not load, a miss of the
fast path, a `--strict` error, text output (printed through rich), or a Debian spec without
`--offline` (its check fetches the Release files, which the ordinary path would then fetch again).

What it answers is what `bundler.commands.solve.solve` answers in the same case, byte for byte: the
same defaults (`default_lock_path`, `bundler.cachedir.default_cache_dir`), the same check
(`fastpath.check`), the same report (`fastpath.up_to_date_report`) and the same `--json` document;
tests/test_quicksolve.py runs both paths and compares their output, exit code and lock bytes.
Setting BUNDLER_NO_QUICK_SOLVE (to anything) skips it, for those tests.
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
    if parsed is None or not (parsed.as_json or parsed.quiet):
        return None
    lock_path = parsed.output or default_lock_path(parsed.spec)
    if not os.path.isfile(lock_path):  # no lock: a full solve, which needs all of the rest anyway
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
    from bundler.spec import load_spec
    from solver.errors import BundlerError

    try:
        spec = load_spec(a.spec)
    except BundlerError:  # reported by the ordinary path
        return None
    if spec.debian is not None and not a.offline:
        return None
    started = time.perf_counter()
    outcome = fastpath.check(spec, lock_path, cache_dir=default_cache_dir(a.cache_dir), offline=a.offline)
    if outcome.lock is None:
        return None
    try:
        report = fastpath.up_to_date_report(spec, outcome.lock, strict=a.strict, seconds=outcome.seconds)
    except BundlerError:  # --strict and the ecosystems disagree: reported by the ordinary path
        return None
    report.timings["total"] = time.perf_counter() - started
    if a.as_json:
        sys.stdout.write(solve_json(report, lock_path))
    return 0


def solve_json(report: Any, lock_path: Path) -> str:
    """The `solve --json` document of `report` (a bundler.pipeline.SolveReport) for `lock_path`."""
    import json

    out = report.to_json()
    out["solved"] = True
    out["lock"] = str(lock_path)
    return json.dumps(out, indent=2, sort_keys=True) + "\n"
