"""`bundler why LOCK PACKAGE` and `bundler graph LOCK`: read the result graph back from a lock."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bundler.app import app
from bundler.lock import Lock, read_lock
from solver.errors import InputError

if TYPE_CHECKING:  # networkx costs 0.1 s to import: only the commands that need it pay for it
    import networkx as nx


def lock_graph(lock: Lock) -> nx.DiGraph:
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


def _label(g: nx.DiGraph, node: str) -> str:
    return str(g.nodes[node].get("label", node))


@app.command()
def why(
    lock_path: Annotated[Path, typer.Argument(metavar="LOCK")],
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
    lock_path: Annotated[Path, typer.Argument(metavar="LOCK")],
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
