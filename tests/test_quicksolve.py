"""An up-to-date `bundler solve`, and with `--json` or `-q` any solve, answered before typer is imported
(bundler/quicksolve.py), and the cached digest of bundler's sources (bundler/fastpath.py `solver_digest`).

Each case runs the real command twice on the same files: as it runs (the quick path when it applies)
and with BUNDLER_NO_QUICK_SOLVE set (the typer path, `bundler.commands.solve`), and compares stdout
(the `--json` document with its timings' values blanked, the only part that differs between two runs),
stderr, the exit code and the lock's bytes. Which path ran is told by what was imported (`-X
importtime`), never by a timing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bundler import fastpath, quicksolve
from tests.support.demo import copy_demo

FRAMEWORK = ("typer", "click", "rich")


def run(*args: str | Path, cwd: Path, quick: bool = True) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """`bundler ARGS` in `cwd` and the top-level packages it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLER_")}
    if not quick:
        env[quicksolve.DISABLE] = "1"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bundler", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env)  # fmt: skip
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}  # fmt: skip
    proc.stderr = "".join(line + "\n" for line in proc.stderr.splitlines() if not line.startswith("import time:"))
    return proc, imported


def _blank_timings(stdout: str) -> str:
    """A `--json` document with every float (a timing: `timings`, the Debian solver's `stats`) as 0;
    a text summary with the figures of its `time:` line as 0."""
    if not stdout.startswith("{"):
        return re.sub(r"(?m)^(  time: .*?)$", lambda m: re.sub(r"\d+\.\d+s", "0s", m[1]), stdout)

    def blank(x: Any) -> Any:
        if isinstance(x, float):
            return 0
        if isinstance(x, dict):
            return {k: blank(v) for k, v in x.items()}
        if isinstance(x, list):
            return [blank(v) for v in x]
        return x

    return json.dumps(blank(json.loads(stdout)), indent=2, sort_keys=True)


def compare(args: list[str], work: Path, lock: Path) -> tuple[dict[str, Any], set[str]]:
    """Run `bundler ARGS` both ways and check they answer the same; the quick run's outcome and imports."""
    before = lock.read_bytes() if lock.exists() else None
    quick, imported = run(*args, cwd=work)
    after_quick = lock.read_bytes() if lock.exists() else None
    typer_run, typer_imported = run(*args, cwd=work, quick=False)
    assert "typer" in typer_imported  # the switch works: this run did take the typer path
    assert quick.returncode == typer_run.returncode, quick.stderr + typer_run.stderr
    assert _blank_timings(quick.stdout) == _blank_timings(typer_run.stdout)
    assert quick.stderr == typer_run.stderr
    assert after_quick == before  # an up-to-date lock is not rewritten; the typer path agrees below
    assert (lock.read_bytes() if lock.exists() else None) == before
    doc = json.loads(quick.stdout) if quick.stdout.startswith("{") else {}
    return {"code": quick.returncode, "stdout": quick.stdout, "stderr": quick.stderr, "doc": doc}, imported


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo (Debian and Python, local repositories) solved once: its bundle.lock is up to date."""
    spec = copy_demo(tmp_path_factory.mktemp("quick") / "demo")
    proc, _ = run("solve", "bundle.toml", "--cache-dir", "cache", "-q", cwd=spec.parent)
    assert proc.returncode == 0, proc.stderr
    shutil.copy(spec.parent / "bundle.lock", spec.parent / "other.lock")
    shutil.copytree(spec.parent, spec.parent.parent / "pristine")
    return spec.parent


def restore(demo: Path) -> Path:
    """The solved demo as the fixture left it, in the same place (its paths are in the lock and the
    cache's keys)."""
    shutil.rmtree(demo)
    shutil.copytree(demo.parent / "pristine", demo)
    return demo


@pytest.mark.parametrize("args", [
    ["solve", "bundle.toml", "--offline", "--json"],
    ["solve", "bundle.toml", "--offline"],
    ["solve", "bundle.toml", "--offline", "--strict", "-o", "other.lock"],
    ["solve", "--json", "--offline", "bundle.toml"],
    ["solve", "bundle.toml", "--offline", "-q"],
    ["solve", "bundle.toml", "--offline", "--quiet", "--json"],
    ["solve", "bundle.toml", "--offline", "--json", "--check"],
    ["solve", "bundle.toml", "--offline", "-q", "--check"],
    ["solve", "bundle.toml", "--offline", "--json", "--strict"],
    ["solve", "bundle.toml", "-o", "other.lock", "--offline", "--json"],
    ["solve", "bundle.toml", "--output=other.lock", "--cache-dir=cache", "--offline", "--json"],
    ["solve", "{abs}/bundle.toml", "--output", "{abs}/other.lock", "--cache-dir", "{abs}/cache", "--offline", "--json"],
    ["solve", "bundle.toml", "--json"],  # a Debian spec online: its check reads the Release files (file://)
])  # fmt: skip
def test_an_up_to_date_solve_answers_without_typer_as_typer_does(demo: Path, args: list[str]) -> None:
    args = [a.format(abs=demo) for a in args]
    if "--cache-dir" not in " ".join(args):
        args += ["--cache-dir", "cache"]
    lock = demo / ("other.lock" if "other.lock" in " ".join(args) else "bundle.lock")
    outcome, imported = compare(args, demo, lock)
    assert outcome["code"] == 0
    assert not imported & set(FRAMEWORK), imported & set(FRAMEWORK)
    if "--json" in args:
        assert outcome["doc"]["up-to-date"] is True
    elif "-q" in args or "--quiet" in args:
        assert outcome["stdout"] == ""
    else:
        assert outcome["stdout"].startswith("lock up to date: demo: 10 Debian packages and 5 Python files")


@pytest.mark.parametrize("args", [
    ["solve", "bundle.toml", "--offline", "--check"],  # --check's text
    ["solve", "bundle.toml", "--offline", "--json", "--no-fast-path"],
    ["solve", "bundle.toml", "--offline", "--json", "--upgrade"],
    ["solve", "bundle.toml", "--offline", "--json", "--closure", "mirror"],
    ["solve", "bundle.toml", "--offline", "--json", "--json"],
    ["solve", "bundle.toml", "--offline", "--json", "-oother.lock"],
    ["solve", "bundle.toml", "--offline", "--json", "--", "x"],
    ["solve", "bundle.toml", "nope.toml", "--offline", "--json"],
    ["solve", "--offline", "--json"],
    ["solve", "missing.toml", "-o", "bundle.lock", "--offline", "--json"],
])  # fmt: skip
def test_anything_else_takes_the_typer_path_and_answers_the_same(demo: Path, args: list[str]) -> None:
    for quick in (True, False):  # each path on the same files, in the same state
        work = restore(demo)
        for name in ("x[b].lock", "x:smile:.lock"):
            shutil.copy(work / "bundle.lock", work / name)
        proc, imported = run(*args, "--cache-dir", "cache", cwd=work, quick=quick)
        assert "typer" in imported
        if quick:
            first = (proc.returncode, proc.stderr, _blank_timings(proc.stdout), (work / "bundle.lock").read_bytes())
    assert first == (proc.returncode, proc.stderr, _blank_timings(proc.stdout), (work / "bundle.lock").read_bytes())


def _both_ways(demo: Path, args: list[str], prepare: Any) -> list[tuple[Any, ...]]:
    """`bundler ARGS` on the restored demo as changed by `prepare(work)`, the quick way then the typer
    way: each run's exit code, stdout (timings blanked), stderr, lock bytes and whether typer loaded."""
    runs = []
    for quick in (True, False):
        work = restore(demo)
        prepare(work)
        proc, imported = run(*args, cwd=work, quick=quick)
        lock = work / "bundle.lock"
        runs.append((proc.returncode, _blank_timings(proc.stdout), proc.stderr,
                     lock.read_bytes() if lock.exists() else None, "typer" in imported))  # fmt: skip
    return runs


def _change(change: str) -> Any:
    def prepare(work: Path) -> None:
        if change == "spec":
            (work / "bundle.toml").write_text((work / "bundle.toml").read_text() + "# changed\n")
        elif change == "lock":
            text = (work / "bundle.lock").read_text()
            (work / "bundle.lock").write_text(text.replace('name = "demo"', 'name = "demo2"', 1))
        elif change == "no lock":
            (work / "bundle.lock").unlink()
        elif change == "unsatisfiable":
            spec = (work / "bundle.toml").read_text()
            (work / "bundle.toml").write_text(spec.replace('require = ["demo-client"]', 'require = ["demo-client>=99"]'))
        elif change == "bad requirement":
            spec = (work / "bundle.toml").read_text()
            (work / "bundle.toml").write_text(spec.replace('require = ["demo-client"]', 'require = ["demo-client>=!1"]'))

    return prepare


@pytest.mark.parametrize("output", [["--json"], ["-q"], ["--quiet", "--json"]])
@pytest.mark.parametrize("change", ["spec", "lock", "no lock"])
def test_a_miss_with_json_or_quiet_is_solved_here_as_typer_solves_it(demo: Path, change: str, output: list[str]) -> None:
    quick, typer_run = _both_ways(demo, ["solve", "bundle.toml", "--cache-dir", "cache", "--offline", *output], _change(change))
    assert quick[0] == 0, quick[2]
    assert quick[4] is False and typer_run[4] is True  # solved without typer; the other run took its path
    assert quick[:4] == typer_run[:4]  # exit code, output, stderr and the lock written, byte for byte
    if "--json" in output:
        assert json.loads(quick[1])["up-to-date"] is False
    else:
        assert quick[1] == ""


@pytest.mark.parametrize("change", ["unsatisfiable", "bad requirement"])
@pytest.mark.parametrize("output", [["--json"], ["-q"]])
def test_a_failing_solve_here_fails_as_typer_fails_it(demo: Path, change: str, output: list[str]) -> None:
    quick, typer_run = _both_ways(demo, ["solve", "bundle.toml", "--cache-dir", "cache", "--offline", *output], _change(change))
    assert quick[0] in (1, 2) and quick[2].strip(), quick
    assert quick[4] is False and typer_run[4] is True
    assert quick[:4] == typer_run[:4]  # the same exit code, failure document, one-line error, lock untouched
    if change == "unsatisfiable" and "--json" in output:
        assert json.loads(quick[1])["solved"] is False


@pytest.mark.parametrize("change", ["spec", "no lock"])
def test_a_miss_with_a_text_summary_is_solved_here_and_printed_by_rich(demo: Path, change: str) -> None:
    quick, typer_run = _both_ways(demo, ["solve", "bundle.toml", "--cache-dir", "cache", "--offline"], _change(change))
    assert quick[0] == 0 and quick[4] is False and typer_run[4] is True
    assert quick[:4] == typer_run[:4]
    assert quick[1].startswith("solved demo: 10 Debian packages and 5 Python files")


@pytest.mark.parametrize("args", [
    ["solve", "bundle.toml", "--offline", "-o", "x[b].lock"],  # rich's markup: [b] is bold
    ["solve", "bundle.toml", "--offline", "-o", "x:smile:.lock"],  # and an emoji code
    ["solve", "bundle.toml"],  # a Debian spec online: its check reads the Release files (file://)
])  # fmt: skip
def test_an_up_to_date_summary_rich_must_print_is_printed_by_rich_without_typer(demo: Path, args: list[str]) -> None:
    for name in ("x[b].lock", "x:smile:.lock"):
        shutil.copy(demo / "bundle.lock", demo / name)
    lock = demo / next((a for a in args if a.endswith(".lock")), "bundle.lock")
    outcome, imported = compare([*args, "--cache-dir", "cache"], demo, lock)
    assert outcome["code"] == 0
    assert "typer" not in imported and "click" not in imported
    assert "lock up to date: demo:" in outcome["stdout"]


def test_strict_with_a_disagreement_is_reported_by_the_typer_path(tmp_path: Path) -> None:
    """--strict: a lock whose Debian python3 is not the spec's python-version. The fast path applies,
    then `up_to_date_report` raises: the quick path hands over, and typer's path prints the error."""
    spec = copy_demo(tmp_path / "demo", ('python-version = "3.11"', 'python-version = "3.12"'))
    work = spec.parent
    first, _ = run("solve", "bundle.toml", "--cache-dir", "cache", "-q", cwd=work)
    assert first.returncode == 0, first.stderr
    lock = work / "bundle.lock"
    lock_text = lock.read_text()
    if "python3" not in {line.split('"')[1] for line in lock_text.splitlines() if line.startswith("name = ")}:
        pytest.skip("the demo locks no Debian python3: nothing to disagree with")
    outcome, imported = compare(["solve", "bundle.toml", "--cache-dir", "cache", "--offline", "--json", "--strict"],
                                work, lock)  # fmt: skip
    assert outcome["code"] == 2 and "typer" in imported
    ok, imported = run("solve", "bundle.toml", "--cache-dir", "cache", "--offline", "--json", cwd=work)
    assert ok.returncode == 0 and json.loads(ok.stdout)["warnings"] and "typer" not in imported


@pytest.mark.parametrize("text", [
    "lock up to date: demo: 2 Python files from 1 roots; spec, its files and indexes unchanged → out/bundle.lock",
    "  time: fast-path 0.01s, total 0.01s", "a: b: c", "wide 漢字 and é and combining e\u0301 and emoji 🎉 → x",
    "x" * 400, "back\\slash", "trailing spaces   ", "a:b c:d",
    "[b]bold[/b]", "x[b].lock", ":smile:", "a:b:c", "tab\there", "cr\rhere", "esc\x1b[0m", "bell\x07",
])  # fmt: skip
@pytest.mark.parametrize("terminal", [False, True])
def test_what_is_written_as_it_is_is_what_rich_prints(text: str, terminal: bool) -> None:
    import io

    from rich.console import Console

    out = io.StringIO()
    Console(file=out, force_terminal=terminal, width=40, highlight=False, soft_wrap=True).print(text)
    if quicksolve._as_rich_prints_it(text + "\n"):
        assert out.getvalue() == text + "\n"
    else:  # each one that is left to rich is one that rich changes (or that the check cannot tell)
        assert text.startswith(("[", "x[", ":", "a:b:", "tab", "cr", "esc", "bell"))


# ---- the parser -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args, expected", [
    (["solve", "s.toml"], ("s.toml", None, None, set())),
    (["solve", "s.toml", "-o", "x.lock", "--cache-dir", "c", "--offline", "--json", "-q", "--check", "--strict"],
     ("s.toml", "x.lock", "c", {"offline", "as_json", "quiet", "check", "strict"})),
    (["solve", "--output=x.lock", "--quiet", "s.toml", "--cache-dir=c"], ("s.toml", "x.lock", "c", {"quiet"})),
    (["solve", "-o", "a=b.lock", "s.toml"], ("s.toml", "a=b.lock", None, set())),
])  # fmt: skip
def test_parse_recognises_the_plain_shapes(args: list[str], expected: tuple[Any, ...]) -> None:
    parsed = quicksolve.parse(args)
    assert parsed is not None
    flags = {f for f in ("offline", "as_json", "quiet", "check", "strict") if getattr(parsed, f)}
    got = (str(parsed.spec), parsed.output and str(parsed.output), parsed.cache_dir and str(parsed.cache_dir), flags)
    assert got == expected


@pytest.mark.parametrize("args", [
    [], ["build", "s.toml"], ["solve"], ["solve", "a.toml", "b.toml"], ["solve", "s.toml", "--upgrade"],
    ["solve", "s.toml", "--no-fast-path"], ["solve", "s.toml", "--bundle", "out"], ["solve", "s.toml", "--help"],
    ["solve", "s.toml", "-o"], ["solve", "s.toml", "-o", ""], ["solve", "s.toml", "-o", "-q"],
    ["solve", "s.toml", "-ox.lock"], ["solve", "s.toml", "-o=x.lock"], ["solve", "s.toml", "--output="],
    ["solve", "s.toml", "-o", "a", "-o", "b"], ["solve", "s.toml", "-o", "a", "--output", "b"],
    ["solve", "s.toml", "--json", "--json"], ["solve", "s.toml", "-q", "--quiet"], ["solve", "s.toml", "-qo", "x"],
    ["solve", "s.toml", "--offline=1"], ["solve", "--", "s.toml"], ["solve", "-"], ["solve", ""],
    ["solve", "s.toml", "--cache"], ["solve", "s.toml", "--closure", "mirror"], ["solve", "s\udcff.toml"],
    ["--version", "solve", "s.toml"],
])  # fmt: skip
def test_parse_rejects_everything_else(args: list[str]) -> None:
    assert quicksolve.parse(args) is None


# ---- the cached digest of bundler's sources --------------------------------------------------------
@pytest.fixture
def fake_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """solver_digest over a small tree of its own (the first of its five packages), files old enough
    to be kept."""
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "__pycache__").mkdir()
    for name, text in (("a.py", "A = 1\n"), ("b.c", "int b;\n"), ("sub/c.py", "C = 3\n"), ("notes.txt", "x\n"),
                       ("sub/__pycache__/c.pyc", "junk")):  # fmt: skip
        (root / name).write_text(text)
    monkeypatch.setattr(fastpath, "_roots", lambda: [str(root), None, None, None, None])
    monkeypatch.setattr(fastpath, "_RACY", 0)
    monkeypatch.setattr(fastpath, "_solver_digest", None)
    return root


def _digest(cache: Path | None) -> str:
    fastpath._solver_digest = None
    return fastpath.solver_digest(cache)


def test_the_kept_digest_is_the_computed_one_and_a_changed_source_changes_it(fake_sources: Path,
                                                                            tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = _digest(None)
    assert _digest(cache) == plain and len(list((cache / "solver-digests").iterdir())) == 1
    assert _digest(cache) == plain  # read back
    (fake_sources / "notes.txt").write_text("not a source\n")
    (fake_sources / "sub" / "__pycache__" / "c.pyc").write_text("other junk")
    assert _digest(cache) == plain
    # the same size, the mtime put back: the content and the ctime changed
    target = fake_sources / "sub" / "c.py"
    st = target.stat()
    target.write_text("C = 4\n")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    changed = _digest(cache)
    assert changed != plain and changed == _digest(None)
    (fake_sources / "sub" / "d.py").write_text("")
    assert _digest(cache) not in (plain, changed)


def test_a_digest_of_files_modified_just_now_is_not_kept(fake_sources: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastpath, "_RACY", 3600)
    cache = tmp_path / "cache"
    _digest(cache)
    assert not (cache / "solver-digests").exists()
    monkeypatch.setattr(fastpath, "_RACY", 0)
    time.sleep(0.01)
    _digest(cache)
    assert len(list((cache / "solver-digests").iterdir())) == 1


def test_the_digest_of_the_installed_tree_is_that_of_its_file_contents(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The real packages: the kept digest is the one the files hash to, walked as before the cache
    (os.walk, sorted, without __pycache__), so the locks written before it stay current."""
    import hashlib
    import importlib.util

    import bundler

    monkeypatch.setattr(fastpath, "_solver_digest", None)
    h = hashlib.sha256(f"bundler {bundler.__version__}\n".encode())
    for top in ("solver", "repos", "bundler", "resolvelib", "packaging"):
        found = importlib.util.find_spec(top)
        if found is None or not found.submodule_search_locations:
            h.update(f"{top} -\n".encode())
            continue
        root = Path(next(iter(found.submodule_search_locations)))
        for dirpath, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".c", ".so", ".json")):
                    path = Path(dirpath, name)
                    h.update(f"{top}/{path.relative_to(root)}\0".encode())
                    h.update(hashlib.sha256(path.read_bytes()).digest())
    assert _digest(None) == h.hexdigest()
    monkeypatch.setattr(fastpath, "_RACY", 0)
    assert _digest(tmp_path / "cache") == h.hexdigest() == _digest(tmp_path / "cache")
    assert (tmp_path / "cache" / "solver-digests").is_dir()


def test_the_report_is_held_for_the_exit_that_never_frees_it(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bundler.cli.run` ends the process without freeing the heap; the quick path hands its report to
    `keep_until_exit` (in bundler.solving, which both paths run) so that returning from it does not free a
    10,000-package solve object by object."""
    from bundler import cli, quicksolve

    monkeypatch.setattr(cli, "tune_gc", lambda: None)  # the test process keeps its own collector settings
    monkeypatch.setattr(cli, "_KEPT_FOR_EXIT", [])
    monkeypatch.chdir(demo)
    assert quicksolve.run(["solve", "bundle.toml", "--cache-dir", "cache", "--offline", "-q"]) == 0
    assert [type(o).__name__ for o in cli._KEPT_FOR_EXIT] == ["SolveReport"]
    cli.keep_until_exit("the next one")
    assert cli._KEPT_FOR_EXIT == ["the next one"]  # only the latest: a long-lived caller keeps one


@pytest.mark.parametrize(
    ("lock_exists", "offline", "started"),
    [(False, False, True), (True, False, False), (False, True, False)],
)
def test_a_solve_without_a_lock_loads_the_http_stack_from_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lock_exists: bool, offline: bool, started: bool
) -> None:
    """With network indexes and no lock (a solve is certain), the HTTP stack starts loading right after
    the spec is read (bundler/earlyhttp.py), before the fast path's check; with a lock (it may be up
    to date, and then nothing is fetched) or offline, not there."""
    from bundler import earlyhttp

    spec = tmp_path / "bundle.toml"
    (tmp_path / "requirements.txt").write_text("attrs\n")
    spec.write_text(
        '[bundle]\nname = "x"\n\n[python]\nindexes = ["https://index.invalid/simple"]\n'
        'python-version = "3.11"\nplatforms = ["manylinux_2_28_x86_64"]\nrequirements-file = "requirements.txt"\n'
    )
    lock = tmp_path / "bundle.lock"
    if lock_exists:
        lock.write_text("")
    calls: list[object] = []
    monkeypatch.setattr(earlyhttp, "start", lambda python: calls.append(python))

    class Stop(Exception):
        pass

    def stop(*args: object, **kwargs: object) -> None:
        raise Stop

    monkeypatch.setattr(fastpath, "check", stop)  # what follows the early start: the test ends there
    args = ["solve", str(spec), "-o", str(lock), "--cache-dir", str(tmp_path / "c"), "--json"]
    with pytest.raises(Stop):
        quicksolve.run([*args, "--offline"] if offline else args)
    assert len(calls) == int(started)
