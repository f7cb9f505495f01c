"""Start-up stays cheap (issue 11): what `bundler --help`, `bundler --version` and every command's
`--help` import, checked in a fresh interpreter through sys.modules — structure, never timing.

A command module imports at module level only what its signature needs; the solver, the indexes' clients,
networkx and the like come in when a command runs. typer renders help through typer.rich_utils, which is
imported with stand-ins for rich.markdown and rich.traceback (bundler/startup.py): the help must come out
byte for byte as with the real modules, and the stand-ins must turn into the real thing when called.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bundler.app import WORKFLOW_ORDER

# Modules that `--help` and `--version` must not import: the solve pipeline and what it pulls in, the
# heavy third-party libraries, and what typer.rich_utils would import for markdown help and tracebacks.
HEAVY = (
    "bundler.pipeline", "bundler.lock", "bundler.spec", "bundler.python_solve", "solver.deb.solve", "solver.deb.encoding",
    "solver.python", "repos.pypi", "repos.deb", "networkx", "httpx", "packaging", "resolvelib",
    "zstandard", "rich.markdown", "markdown_it", "rich.traceback", "pygments", "email.parser",
)  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent
TERMINAL = {"COLUMNS": "120", "TERM": "xterm-256color", "FORCE_COLOR": "1"}


def _env() -> dict[str, str]:
    """The environment of the processes these tests start, read when they start: it then holds the
    test's own cache directory (conftest.py), so no help page kept by an earlier run is printed
    instead of rendered."""
    env = {**os.environ, **TERMINAL}
    env.pop("NO_COLOR", None)
    return env


def _python(code: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=_env())
    assert proc.returncode == 0, proc.stderr
    return proc


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def _imported_by(argvs: list[list[str]]) -> dict[str, list[str]]:
    """{" ".join(argv): modules that `bundler ARGV` added to sys.modules}, each argv run in turn in one
    fresh interpreter (a module imported by an earlier one is not counted again: each is checked)."""
    proc = _python(f"""
        import json, sys
        from bundler.cli import main
        out = {{}}
        for argv in {argvs!r}:
            before = set(sys.modules)
            code = main(argv)
            assert code == 0, (argv, code)
            out[" ".join(argv)] = sorted(set(sys.modules) - before)
        sys.stderr.write("MODULES" + json.dumps(out))
    """)
    return json.loads(proc.stderr.rsplit("MODULES", 1)[1])


def test_version_imports_no_solver_no_rich() -> None:
    modules = _imported_by([["--version"]])["--version"]
    assert _heavy(modules) == []
    assert not [m for m in modules if m == "rich" or m.startswith("rich.")], "--version prints without rich"


def test_help_of_the_app_and_every_command_imports_nothing_heavy() -> None:
    argvs = [["--help"]] + [[name, "--help"] for name in WORKFLOW_ORDER]
    imported = _imported_by(argvs)
    heavy = {argv: _heavy(modules) for argv, modules in imported.items() if _heavy(modules)}
    assert heavy == {}
    assert "typer.rich_utils" in imported["--help"], "help is still rendered by typer with rich"


def _help_texts(preamble: str) -> dict[str, str]:
    proc = _python(f"""
        import contextlib, io, json, sys
        {preamble}
        from bundler.cli import main
        out = {{}}
        for argv in {[["--help"]] + [[name, "--help"] for name in WORKFLOW_ORDER]!r}:
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                main(argv)
            out[" ".join(argv)] = buf.getvalue()
        out["rich.markdown imported"] = str("rich.markdown" in sys.modules)
        sys.stderr.write("HELP" + json.dumps(out))
    """)
    return json.loads(proc.stderr.rsplit("HELP", 1)[1])


def test_help_is_byte_identical_with_the_real_rich_modules() -> None:
    deferred = _help_texts("")
    # typer.rich_utils imported first, the ordinary way: the stand-ins never come into play
    real = _help_texts("import typer.rich_utils")
    assert (deferred.pop("rich.markdown imported"), real.pop("rich.markdown imported")) == ("False", "True")
    assert "\x1b[" in deferred["--help"], "the comparison includes rich's colours and styles"
    assert deferred == real


def test_stand_ins_become_the_real_classes_when_used() -> None:
    _python("""
        import sys
        from bundler.startup import defer_rich_extras
        defer_rich_extras()
        import typer.rich_utils as ru
        assert "rich.markdown" not in sys.modules and "rich.traceback" not in sys.modules
        md = ru.Markdown("*hello*")  # what typer does with rich_markup_mode="markdown"
        import rich.markdown, rich.traceback
        assert type(md) is rich.markdown.Markdown and sys.modules["rich.markdown"] is rich.markdown
        assert ru.Traceback.from_exception == rich.traceback.Traceback.from_exception
        try:
            1 / 0
        except ZeroDivisionError as e:
            tb = ru.get_traceback(e, ru.DeveloperExceptionConfig(), [])
        assert type(tb) is rich.traceback.Traceback
    """)


def test_lazy_console_imports_rich_when_first_used() -> None:
    proc = _python("""
        import sys
        from bundler.app import console
        assert "rich.console" not in sys.modules
        console().print("[b]plain[/b] text")
        assert "rich.console" in sys.modules
    """)
    assert proc.stdout == "[b]plain[/b] text\n"


@pytest.mark.parametrize("argv", [["--help"], ["solve", "--help"]])
def test_python_m_bundler_help_works(argv: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "bundler", *argv], capture_output=True, text=True, env=_env())
    assert proc.returncode == 0 and "Usage:" in proc.stdout, proc.stderr


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="the harness's fixtures need dpkg-deb")
def test_benchmark_startup_case_reports_rows_and_import_profiles(tmp_path: Path) -> None:
    """`python -m benchmarks --only startup`: the rows, and import profiles in which --help and
    --version import none of the heavy modules (offline: the trivial solve reads examples/demo/wheels)."""
    from tests.test_benchmarks_smoke import _fixtures

    fx = _fixtures(tmp_path)
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--repeats", "1", "--budget", "120", "--no-setup",
           "--only", "startup", "--offline-fixtures", str(fx), "--cache-dir", str(tmp_path / "cache"),
           "--results-dir", str(results)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((results / "latest.json").read_text())
    rows = {r["contender"]: r for r in data["results"] if r["case"] == "startup"}
    for name in ("bundler --version", "bundler --help (the page kept by the last run)",
                 "bundler --help (rendered: no page kept)", "python -S -c pass (interpreter alone)"):
        assert rows[name]["status"] == "ok" and len(rows[name]["runs_s"]) == 1, rows[name]
    solve = next(r for n, r in rows.items() if n.startswith("bundler solve"))
    assert solve["status"] == "ok" and solve["answer"] == {"solved": True, "count": 2}, solve  # demo-http, demo-certs
    kept = next(r for n, r in rows.items() if n.endswith("the lock fast path"))
    wheel = next(r for n, r in rows.items() if n.endswith("installed from its wheel"))
    assert wheel["status"] == "ok" and wheel["answer"] == {}, wheel  # the wheel built and installed offline
    assert kept["status"] == "ok" and kept["answer"]["up_to_date"] is True, kept
    profiles = {p["command"].split(" /")[0]: p for p in data["startup"]}
    assert profiles["bundler --help"]["heavy_imported"] == []
    assert profiles["bundler --version"]["heavy_imported"] == []
    assert "packaging" in profiles["bundler solve"]["heavy_imported"], "the solve's profile is read too"
    assert profiles["bundler --help"]["top_level"][0]["cumulative_ms"] > 0
    assert "## Start-up: where the import time goes" in (results / "latest.md").read_text()


def test_only_the_invoked_command_is_built_and_the_listing_stays_whole() -> None:
    """cli._only_what_runs: typer builds the click command of the command that runs only, yet every
    way of asking for the command list still lists them all, and the app is left as it was."""
    proc = _python("""
        import contextlib, io, sys
        import typer.main
        from bundler.app import app
        from bundler.cli import _register_commands, main

        _register_commands()
        built = []
        real = typer.main.get_command_from_info
        def spy(*args, **kw):
            built.append((args[0] if args else kw["command_info"]).callback.__name__)
            return real(*args, **kw)
        typer.main.get_command_from_info = spy
        everything = len(app.registered_commands)

        def run(*argv):
            built.clear()
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = main(list(argv))
            assert len(app.registered_commands) == everything, "the app is restored"
            return code, sorted(built), out.getvalue()

        assert run("--version")[:2] == (0, [])
        assert run("solve", "--help")[:2] == (0, ["solve"])
        assert run("upgrade-check", "--help")[:2] == (0, ["upgrade_check"])
        code, built_for_help, listing = run("--help")
        assert code == 0 and len(built_for_help) == everything
        for argv in (["--help", "solve"], ["--help", "--version"]):
            assert run(*argv) == (0, built_for_help, listing), argv
        assert run("nosuch")[:2] == (2, built_for_help), "an unknown name is checked against all"
    """)
    assert "No such command 'nosuch'" in proc.stderr


def test_a_warm_python_solve_imports_no_fetching_and_no_archive_reading(tmp_path: Path) -> None:
    """A warm `--offline` solve of a Python section reads its cache: no HTTP stack, no HTML page parser,
    no sdist reader (each imported where it is used)."""
    spec = tmp_path / "bundle.toml"
    spec.write_text(textwrap.dedent(f"""\
        [bundle]
        name = "warm"
        [python]
        indexes = []
        find-links = ["{ROOT / "examples" / "demo" / "wheels"}"]
        python-version = "3.11"
        platforms = ["manylinux_2_28_x86_64"]
        require = ["demo-client"]
    """))
    argv = ["solve", str(spec), "-o", str(tmp_path / "bundle.lock"), "--offline", "--json",
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    _imported_by([argv])  # the cold run fills the cache
    (tmp_path / "bundle.lock").unlink()  # a full solve again, not the lock fast path
    warm = _imported_by([argv])[" ".join(argv)]
    assert "bundler.python_solve" in warm and "resolvelib" in warm  # it did solve
    unwanted = ("httpx", "httpcore", "ssl", "html.parser", "tarfile", "repos.http")
    assert [m for m in warm if m in unwanted] == []
