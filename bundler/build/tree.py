"""Normalising a staged tree for reproducibility (reproducible-builds.org: timestamps, file modes):
files 0644, directories 0755, every mtime (and atime) set to the bundle's epoch."""

from __future__ import annotations

import os
from pathlib import Path


def normalize(root: Path, epoch: int) -> None:
    times = (epoch, epoch)
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            path = os.path.join(dirpath, name)
            os.chmod(path, 0o644, follow_symlinks=False)
            os.utime(path, times, follow_symlinks=False)
        for name in dirnames:
            path = os.path.join(dirpath, name)
            os.chmod(path, 0o755)
            os.utime(path, times)
    os.chmod(root, 0o755)
    os.utime(root, times)
