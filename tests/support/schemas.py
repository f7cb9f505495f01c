"""Validation of `--json` outputs against the schemas shipped in bundler/schemas (JSON Schema draft
2020-12, with the `jsonschema` library): `assert_valid("solve", doc)` in any test that reads one."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from bundler.schemas import load


def validator(command: str) -> Draft202012Validator:
    schema = load(command)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(command: str, doc: Any) -> list[str]:
    """Every way `doc` breaks the schema of `bundler COMMAND --json`, each with the path to the fault."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in sorted(validator(command).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]  # fmt: skip


def assert_valid(command: str, doc: Any) -> Any:
    """`doc`, after checking it against the schema of `bundler COMMAND --json`."""
    found = errors(command, doc)
    assert not found, f"{command} --json breaks bundler/schemas/{command}.json:\n" + "\n".join(found)
    return doc


def _key_paths(doc: Any, free: frozenset[str], path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every object key in `doc` (through lists), except the keys of free-form maps
    (those named in `free`, e.g. "timings": any stage name is allowed there)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if not path or path[-1] not in free:
                out.append((*path, key))
            out += _key_paths(value, free, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _key_paths(value, free, (*path, i))
    return out


def _without(doc: Any, path: tuple[Any, ...], rename: bool) -> Any:
    import copy

    doc = copy.deepcopy(doc)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    value = parent.pop(path[-1])
    if rename:
        parent[f"{path[-1]}_renamed"] = value
    return doc


def assert_strict(command: str, doc: Any, free: tuple[str, ...] = ()) -> Any:
    """`doc`, after checking that it is valid and that each of its keys dropped, and each renamed, breaks
    the schema: so no part of the output can go missing unnoticed while its schema test passes."""
    assert_valid(command, doc)
    paths = _key_paths(doc, frozenset(free))
    assert paths
    for path in paths:
        for rename in (False, True):
            assert errors(command, _without(doc, path, rename)), (
                f"{command}: {'renaming' if rename else 'dropping'} {'/'.join(map(str, path))} still validates"
            )
    return doc
