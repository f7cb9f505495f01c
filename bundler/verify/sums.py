"""`bundler verify`: the files of a bundle against SHA256SUMS, each file read once (its sha256 and
md5 cached for the index checks that name it again)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

CHUNK = 1 << 20


class Digests:
    """sha256 (and md5) of bundle files, each file read once however many indexes list it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, tuple[int, str, str] | None] = {}

    def get(self, rel: str) -> tuple[int, str, str] | None:
        if rel not in self._cache:
            path = self.root / rel
            if not _inside(self.root, rel) or not path.is_file():
                self._cache[rel] = None
            else:
                sha, md5, n = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
                with open(path, "rb") as f:
                    while chunk := f.read(CHUNK):
                        sha.update(chunk)
                        md5.update(chunk)
                        n += len(chunk)
                self._cache[rel] = (n, sha.hexdigest(), md5.hexdigest())
        return self._cache[rel]


def _inside(root: Path, rel: str) -> bool:
    return not (rel.startswith("/") or ".." in rel.split("/") or rel == "")


def _walk(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        out.extend(name if rel == "." else f"{rel}/{name}" for name in files)
    return sorted(out)


# -- SHA256SUMS -----------------------------------------------------------------------------------
def check_sums(root: Path, digests: Digests, problems: list[str]) -> int:
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        problems.append("SHA256SUMS: missing")
        return 0
    listed: set[str] = set()
    for n, line in enumerate(sums.read_text("utf-8", "replace").splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m:
            problems.append(f"SHA256SUMS:{n}: malformed line")
            continue
        digest, rel = m.groups()
        listed.add(rel)
        got = digests.get(rel)
        if got is None:
            problems.append(f"{rel}: listed in SHA256SUMS but missing")
        elif got[1] != digest:
            problems.append(
                f"{rel}: sha256 mismatch (SHA256SUMS says {digest[:16]}…, the file is {got[1][:16]}…)"
            )
    for rel in _walk(root):
        if rel != "SHA256SUMS" and rel not in listed:
            problems.append(f"{rel}: not listed in SHA256SUMS")
    return len(listed)


# -- Debian ---------------------------------------------------------------------------------------

