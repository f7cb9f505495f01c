"""The shipped example (examples/demo) copied where a test may change it: its repository, wheels and
spec, the spec edited by (old, new) replacements that must each apply."""

from __future__ import annotations

import shutil
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent.parent / "examples" / "demo"


def copy_demo(dest: Path, *edits: tuple[str, str]) -> Path:
    """The demo under `dest`; returns the path of its bundle.toml."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in ("debian", "wheels"):
        shutil.copytree(DEMO / part, dest / part)
    text = (DEMO / "bundle.toml").read_text()
    for old, new in edits:
        assert old in text, f"the demo spec has no {old!r}"
        text = text.replace(old, new)
    (dest / "bundle.toml").write_text(text)
    return dest / "bundle.toml"
