"""The one exception hierarchy of the project (DESIGN.md, "Errors").

It lives in `solver/` because that is the bottom of the import graph: `repos/` and `bundler/` subclass
it. Every error carries where the fault is (a file, a line, a package) so the CLI can print one line.
"""

from __future__ import annotations


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
    """No consistent set exists (exit 1). `explanation` is the human chain of causes."""

    exit_code = 1

    def __init__(self, explanation: str, *, hint: str | None = None) -> None:
        super().__init__(explanation, hint=hint)
        self.explanation = explanation
