"""`bundler why LOCK PACKAGE` and `bundler graph LOCK`: read the result graph back from a lock."""

import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bundler.app import app
from solver.errors import InputError

if TYPE_CHECKING:  # networkx costs 0.1 s to import: only the commands that need it pay for it
    import networkx as nx

    from bundler.lock import Lock


def read_lock(path: Path) -> "Lock":
    from bundler.lock import read_lock as read  # the lock reader, only when a command runs

    return read(path)


def lock_graph(lock: "Lock") -> "nx.DiGraph":
    from solver.graph import build_graph

    archs = {p.architecture for p in lock.packages if p.ecosystem == "deb" and p.architecture != "all"}
    multiarch = len(archs) > 1
    nodes = {
        p.id: {
            "label": f"{p.name}:{p.architecture} {p.version}" if multiarch and p.architecture != "all"
            else f"{p.name} {p.version}",
            "ecosystem": p.ecosystem,
            "name": p.name,
            "version": p.version,
            "architecture": p.architecture,
        }
        for p in lock.packages
    }
    edges = [(p.id, d) for p in lock.packages for d in p.depends]
    return build_graph(nodes, edges, lock.roots)


def _label(g: "nx.DiGraph", node: str) -> str:
    return str(g.nodes[node].get("label", node))


@app.command()
def why(
    lock_path: Annotated[Path, typer.Argument(metavar="LOCK", help="The lock file to read.")],
    package: Annotated[str, typer.Argument(help="A package name, name:arch, or lock id (deb:name:arch).")],
    limit: Annotated[int, typer.Option("--limit", help="At most this many paths.")] = 5,
) -> None:
    """Print the dependency path(s) from a root to PACKAGE."""
    from solver.graph import ROOT, find_nodes, why_paths

    lock = read_lock(lock_path)
    g = lock_graph(lock)
    targets = find_nodes(g, package)
    if not targets:
        raise InputError(f"{package} is not in the lock", where=str(lock_path))
    for target in targets:
        paths = why_paths(g, target, limit)
        if not paths:
            typer.echo(f"{_label(g, target)} is in the lock but no root needs it (mirror closure or fix)")
            continue
        if g.has_edge(ROOT, target):
            typer.echo(f"{_label(g, target)} is required directly")
        for path in paths:
            if len(path) > 1:
                typer.echo(" → ".join(_label(g, n) for n in path))


@app.command()
def graph(
    lock_path: Annotated[Path, typer.Argument(metavar="LOCK", help="The lock file whose dependency graph to write.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="dot, graphml or json.")] = "dot",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")] = None,
    cycles: Annotated[bool, typer.Option("--cycles", help="List dependency cycles instead.")] = False,
) -> None:
    """Export the dependency graph of a lock."""
    import networkx as nx

    from solver.graph import ROOT, dependency_cycles

    g = lock_graph(read_lock(lock_path))
    if cycles:
        for group in dependency_cycles(g):
            typer.echo(", ".join(_label(g, n) for n in group))
        return
    if fmt == "dot":
        lines = ["digraph bundle {"]
        for node in sorted(g.nodes):
            lines.append(f'  "{node}" [label="{_label(g, node) if node != ROOT else "(roots)"}"];')
        for a, b in sorted(g.edges):
            lines.append(f'  "{a}" -> "{b}";')
        lines.append("}")
        text = "\n".join(lines) + "\n"
    elif fmt == "graphml":
        buf = io.BytesIO()
        h = g.copy()
        for _, data in h.nodes(data=True):
            for k in list(data):
                data[k] = "" if data[k] is None else str(data[k])
        nx.write_graphml(h, buf)
        text = buf.getvalue().decode("utf-8")
    elif fmt == "json":
        text = json.dumps(nx.node_link_data(g, edges="edges"), indent=2, sort_keys=True) + "\n"
    else:
        raise InputError(f"unknown graph format {fmt!r} (dot, graphml or json)")
    if output is not None:
        from bundler.lock import write_atomic

        write_atomic(output, text)
    else:
        sys.stdout.write(text)


@app.command()
def diff(
    old_path: Annotated[Path, typer.Argument(metavar="OLD_LOCK", help="The earlier lock.")],
    new_path: Annotated[Path, typer.Argument(metavar="NEW_LOCK", help="The later lock.")],
    show_why: Annotated[bool, typer.Option("--why", help="Trace each added or changed package to a root.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Packages added, removed and changed between two locks; exit 1 when they differ."""
    from bundler.diff import diff_locks

    old, new = read_lock(old_path), read_lock(new_path)
    changes = diff_locks(old, new)
    g = lock_graph(new) if show_why else None
    paths: dict[str, str] = {}
    if g is not None:
        from solver.graph import why_paths

        for c in changes:
            if c.new is not None:
                found = why_paths(g, c.id, 1)
                if found:
                    paths[c.id] = " → ".join(_label(g, n) for n in found[0])
    if as_json:
        # bundler/schemas/diff.json; "why": the path from a root (--why), else null
        out = [{"id": c.id, "kind": c.kind, "from": c.old, "to": c.new, "why": paths.get(c.id)} for c in changes]
        sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
    else:
        for c in changes:
            text = {"added": f"+ {c.id} {c.new}", "removed": f"- {c.id} {c.old}", "changed": f"~ {c.id} {c.old} → {c.new}"}[c.kind]
            typer.echo(text + (f"   ({paths[c.id]})" if c.id in paths else ""))
        counts = {k: sum(1 for c in changes if c.kind == k) for k in ("added", "removed", "changed")}
        typer.echo(f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed")
    if changes:
        raise typer.Exit(1)
