"""One progress display per process (bundler/progress.py), seen as a user sees it: on a terminal (a
pty the test opens) every step shows as a line of one display; without a terminal, with -q and with
--json, nothing of it is written."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.demo import copy_demo


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return copy_demo(tmp_path).parent


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run `bundler ARGS` with stdout and stderr on a pty; returns the exit code and all it wrote."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "bundler", *args], stdin=slave, stdout=slave, stderr=slave,
                            cwd=cwd, env=env, close_fds=True)  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(30), b"".join(chunks).decode("utf-8", "replace")


def test_solve_with_a_bundle_shows_each_step_in_one_display(demo: Path) -> None:
    code, text = _on_a_terminal(
        ["solve", "bundle.toml", "--cache-dir", "cache", "--bundle", "out", "--archive", "out.tar.zst",
         "--iso", "out.iso"], demo)  # fmt: skip
    assert code == 0, text
    assert "Python: " in text
    assert "artifacts" in text and " files" in text and "kB" in text  # bytes, labelled as bytes
    assert "writing out.tar.zst" in text and "writing out.iso" in text
    assert "LiveError" not in text and "Only one live display" not in text
    assert "solved demo" in text  # the summary after the (transient) display


def test_check_and_build_show_progress_on_a_terminal(demo: Path) -> None:
    code, text = _on_a_terminal(["check", "bundle.toml", "--cache-dir", "cache"], demo)
    assert code == 0, text
    assert "checking " in text and "packages checked" in text
    assert _on_a_terminal(["solve", "bundle.toml", "--cache-dir", "cache", "-q"], demo)[0] == 0
    code, text = _on_a_terminal(["build", "bundle.lock", "out", "--cache-dir", "cache"], demo)
    assert code == 0, text
    assert "artifacts" in text and "built " in text


@pytest.mark.parametrize("extra", [["-q"], ["--json"]])
def test_quiet_and_json_draw_nothing_even_on_a_terminal(demo: Path, extra: list[str]) -> None:
    code, text = _on_a_terminal(["solve", "bundle.toml", "--cache-dir", "cache", "--bundle", "out", *extra], demo)
    assert code == 0, text
    assert "artifacts" not in text and "Python: " not in text and "\x1b[?25l" not in text  # no bar, no hidden cursor


def test_nothing_is_drawn_without_a_terminal(demo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bundler", "solve", "bundle.toml", "--cache-dir", "cache", "--bundle", "out",
         "--archive", "out.tar.zst"],
        cwd=demo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "\x1b" not in proc.stdout and "solved demo" in proc.stdout
