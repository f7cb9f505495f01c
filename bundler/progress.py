"""The one progress display of a bundler process.

rich draws one live display at a time: two (the Debian index bar and a Python spinner, say) overwrite
each other on the terminal. So a command opens one `Display` and every step reports into it as a task
of its own: index files fetched, Python pages and metadata read, artifacts downloaded (bytes, labelled
as bytes, with the file count), the archive and ISO written, objects published. The display is
transient (nothing is left on the terminal once the command is done) and off when stderr is not a
terminal, with `-q`, and with `--json`, so output meant for a program or a log never holds a bar.

A disabled Display still hands out tasks; they do nothing, so no caller needs an `if`.
rich is imported only when the display is on.
"""

from __future__ import annotations

import sys
from typing import Any


class Task:
    """One line of the display: `advance` a count (or bytes), `update` its text or total."""

    def __init__(self, progress: Any = None, task_id: Any = None) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._id, amount)

    def update(self, *, description: str | None = None, total: float | None = None) -> None:
        if self._progress is not None:
            fields: dict[str, Any] = {}
            if description is not None:
                fields["description"] = description
            if total is not None:
                fields["total"] = total
            self._progress.update(self._id, **fields)

    def finish(self) -> None:
        """Hide the line (a finished step should not keep a spinner running)."""
        if self._progress is not None:
            self._progress.update(self._id, visible=False)


class Display:
    """The process's progress display; `enabled=None` means: when stderr is a terminal."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._progress: Any = None
        self._depth = 0

    @classmethod
    def for_command(cls, *, quiet: bool = False, as_json: bool = False) -> Display:
        return cls(False if quiet or as_json else None)

    @property
    def rich_progress(self) -> Any:
        """The underlying `rich.progress.Progress` (None when off), for code that takes one."""
        return self._progress

    def __enter__(self) -> Display:
        # Re-entrant: `solve --bundle` runs the build inside the solve's display.
        self._depth += 1
        if self.enabled and self._progress is None:
            self._progress = _make_progress()
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._progress is not None:
            self._progress.stop()
            self._progress = None

    def task(self, description: str, total: float | None = None, unit: str = "") -> Task:
        """A new line: `unit` "bytes" shows sizes (1.2/3.4 MB), another word is printed after the
        count ("12/40 files"); total None shows a pulsing bar (work of unknown size)."""
        if self._progress is None:
            return Task()
        task = Task(self._progress, self._progress.add_task(description, total=total, unit=unit))
        # Drawn at once: a step shorter than rich's refresh period would otherwise never show.
        self._progress.refresh()
        return task


def _make_progress() -> Any:
    from rich.console import Console
    from rich.filesize import decimal
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Amount(ProgressColumn):
        """`done/total unit`, sizes for bytes: one column that reads right for every kind of task."""

        def render(self, task: Any) -> Text:
            unit = task.fields.get("unit", "")
            if unit == "bytes":
                done = decimal(int(task.completed))
                text = f"{done}/{decimal(int(task.total))}" if task.total is not None else done
            else:
                done_n = int(task.completed)
                text = f"{done_n}/{int(task.total)}" if task.total is not None else (str(done_n) if done_n else "")
                text += f" {unit}" if unit and text else ""
            return Text(text, style="progress.download")

    return Progress(
        TextColumn("{task.description}"), BarColumn(), Amount(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip
