"""Help pages from the cache (bundler/helpcache.py): the same bytes as rendering them, without typer,
and a new rendering whenever anything the page depends on changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bundler import helpcache

ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("BUNDLER_", "PIP_"))},
    "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb",
}  # fmt: skip


def run(cache: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bundler", *args],
        capture_output=True,
        text=True,
        env={**ENV, **(env or {}), "BUNDLER_CACHE_DIR": str(cache)},
    )


def imported(result: subprocess.CompletedProcess[str]) -> set[str]:
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("args", [("--help",), ("solve", "--help"), ("check", "--help")])
def test_a_cached_page_is_the_rendered_page(tmp_path: Path, args: tuple[str, ...]) -> None:
    first = run(tmp_path, *args)
    assert first.returncode == 0 and "Usage: " in first.stdout
    assert "typer" in imported(first)
    assert len(list((tmp_path / "help").glob("*.txt"))) == 1
    again = run(tmp_path, *args)
    assert again.returncode == 0
    assert again.stdout == first.stdout
    assert not {"typer", "click", "rich"} & imported(again)


def test_each_page_and_terminal_has_its_own_entry(tmp_path: Path) -> None:
    wide = run(tmp_path, "--help", env={"COLUMNS": "140"})
    narrow = run(tmp_path, "--help", env={"COLUMNS": "70"})
    assert wide.stdout != narrow.stdout
    assert len(list((tmp_path / "help").glob("*.txt"))) == 2
    assert run(tmp_path, "--help", env={"COLUMNS": "70"}).stdout == narrow.stdout


def test_a_failed_help_request_is_not_kept(tmp_path: Path) -> None:
    result = run(tmp_path, "no-such-command", "--help")
    assert result.returncode == 2
    assert not list(tmp_path.glob("help/*.txt"))


def test_an_unwritable_cache_still_prints_the_page(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    result = run(blocked, "--help")
    assert result.returncode == 0 and "Usage: " in result.stdout


def test_the_key_follows_what_the_page_depends_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "bundler"
    shutil.copytree(Path(helpcache.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(helpcache, "_package", lambda: package)
    monkeypatch.setenv("COLUMNS", "100")
    base = helpcache.key(["--help"])
    assert base is not None and base == helpcache.key(["--help"])
    assert helpcache.key(["solve", "--help"]) != base
    monkeypatch.setenv("COLUMNS", "90")
    assert helpcache.key(["--help"]) != base
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    assert helpcache.key(["--help"]) != base
    monkeypatch.delenv("NO_COLOR")
    assert helpcache.key(["--help"]) == base
    command = package / "commands" / "solve.py"
    st = command.stat()
    os.utime(command, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # an edited command module
    assert helpcache.key(["--help"]) != base
    os.utime(command, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert helpcache.key(["--help"]) == base
    (package / "commands" / "new.py").write_text("")  # a new command
    assert helpcache.key(["--help"]) != base


def test_a_page_written_past_the_text_stream_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUNDLER_CACHE_DIR", str(tmp_path))
    with helpcache.recording("k1") as outcome:
        sys.stdout.write("Usage: x\n")
        outcome.append(0)
    assert helpcache.cached("k1") == "Usage: x\n"
    with helpcache.recording("k2") as outcome:
        sys.stdout.write("Usage: ")
        sys.stdout.buffer  # noqa: B018 - what click does before writing bytes past the text layer
        outcome.append(0)
    assert helpcache.cached("k2") is None
    with helpcache.recording("k3") as outcome:
        sys.stdout.write("Usage: x\n")
        outcome.append(2)
    assert helpcache.cached("k3") is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--help"], True), (["solve", "--help"], True), (["--version"], False), (["solve"], False),
     (["--help", "solve"], False), (["-q", "--help"], False), ([], False)],
)  # fmt: skip
def test_which_requests_are_help_pages(args: list[str], expected: bool) -> None:
    assert helpcache.is_help_request(args) is expected
