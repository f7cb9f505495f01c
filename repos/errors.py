"""Errors of the `repos` stage: fetching, verifying and parsing indexes (DESIGN.md, "Errors").

Each names what is at fault — a URL, an index file, a package — in `where`, so the CLI prints one line.
All are `InputError`s: the indexes are input the user pointed us at.
"""

from __future__ import annotations

from solver.errors import InputError


class RepoError(InputError):
    """Base of every `repos` error."""


class FetchError(RepoError):
    """A URL could not be read (network error, HTTP error status, unreadable file)."""

    def __init__(self, url: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, where=url, hint=hint)
        self.url = url


class NotFound(FetchError):
    """The URL does not exist (HTTP 404/410, or no such file)."""


class OfflineMiss(RepoError):
    """Offline mode asked for something the cache does not hold."""


class IntegrityError(RepoError):
    """A file's size or checksum differs from what its index promises."""


class SignatureError(RepoError):
    """A Release file is unsigned, or its signature does not verify against the given keyring."""


class ExpiredError(RepoError):
    """A Release file's Valid-Until is in the past."""


class ParseError(RepoError):
    """An index file cannot be parsed; `where` names the file and the line or stanza."""
