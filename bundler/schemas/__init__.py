"""The JSON Schemas (draft 2020-12, https://json-schema.org/draft/2020-12) of every `--json` output:
solve.json, verify.json, check.json, diff.json, audit.json, publish.json, upgrade-check.json.

They are shipped with the package so that a consumer can validate what it reads; the tests validate
each command's output against them (tests/test_json_schemas.py). Every object is closed
(`additionalProperties: false`) and lists its keys as `required`, so a key dropped or renamed in the
code fails there before a consumer does. The README's "Machine-readable output" section describes them.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

COMMANDS = ("solve", "verify", "check", "diff", "audit", "publish", "upgrade-check")


def load(command: str) -> dict[str, Any]:
    """The schema of `bundler COMMAND --json`."""
    if command not in COMMANDS:
        raise KeyError(f"no JSON schema for {command!r}")
    doc: dict[str, Any] = json.loads(resources.files(__name__).joinpath(f"{command}.json").read_text("utf-8"))
    return doc
