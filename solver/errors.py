"""The one exception hierarchy of the project (DESIGN.md, "Errors").

It lives in `solver/` because that is the bottom of the import graph: `repos/` and `bundler/` subclass
it. Every error carries where the fault is (a file, a line, a package) so the CLI can print one line.
"""

from __future__ import annotations

from typing import Any


class BundlerError(Exception):
    """Base of every error the CLI reports as one line. `exit_code` is what `bundler` exits with."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class InputError(BundlerError):
    """Bad input: a spec, index, lock or file that cannot be used as it is (exit 2)."""


class Unsatisfiable(BundlerError):
    """No consistent set exists (exit 1). `causes` is the solver.causes.Explanation (data: typed
    causes and a hint), `explanation` its rendered text; a plain string stands for a failure the
    solver cannot break down."""

    exit_code = 1

    def __init__(self, explanation: Any, *, hint: str | None = None) -> None:
        causes = None if isinstance(explanation, str) else explanation
        text = explanation if causes is None else causes.render()
        super().__init__(text, hint=hint if hint is not None or causes is None else causes.hint)
        self.explanation: str = text
        self.causes = causes
