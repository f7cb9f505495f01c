"""The result as a graph: members are nodes, satisfied dependencies are edges (networkx).

Behind `bundler why` (shortest paths from the roots to a member), `bundler graph` (export) and cycle
reports. Node ids are the lock's package ids (`deb:name:arch`, `python:name`); a synthetic node
`ROOT` points at every root so that "why" has one place to start from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

ROOT = "ROOT"


def build_graph(
    nodes: Mapping[str, Mapping[str, Any]],
    edges: Iterable[tuple[str, str]],
    roots: Iterable[str],
) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_node(ROOT, label="(your requirements)")
    for node_id in sorted(nodes):
        g.add_node(node_id, **dict(nodes[node_id]))
    for a, b in sorted(set(edges)):
        if a in g and b in g and a != b:
            g.add_edge(a, b)
    for r in sorted(set(roots)):
        if r in g:
            g.add_edge(ROOT, r)
    return g


def find_nodes(g: nx.DiGraph, query: str) -> list[str]:
    """Node ids matching a user's word: an exact id, `name:arch`, or a bare name (all archs)."""
    if query in g:
        return [query]
    out = []
    for node in g.nodes:
        if node == ROOT:
            continue
        parts = node.split(":")
        name = parts[1] if len(parts) > 1 else node
        if query == name or query == ":".join(parts[1:]):
            out.append(node)
    return sorted(out)


def why_paths(g: nx.DiGraph, target: str, limit: int = 5) -> list[list[str]]:
    """Up to `limit` shortest dependency paths from a root to `target` (without the ROOT node),
    shortest first, ties in a stable (sorted) order."""
    if target not in g or not nx.has_path(g, ROOT, target):
        return []
    paths: list[list[str]] = []
    for path in nx.all_shortest_paths(g, ROOT, target):
        paths.append(path[1:])
    paths.sort()
    if len(paths) < limit:
        # Add the shortest path through each other parent, so "why" shows every distinct reason.
        for parent in sorted(g.predecessors(target)):
            if parent == ROOT or len(paths) >= limit:
                continue
            if nx.has_path(g, ROOT, parent):
                p = nx.shortest_path(g, ROOT, parent)[1:] + [target]
                if p not in paths:
                    paths.append(p)
    return paths[:limit]


def dependency_cycles(g: nx.DiGraph, limit: int = 20) -> list[list[str]]:
    """Strongly connected groups of more than one member (dependency cycles), largest first."""
    sccs = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    sccs.sort(key=lambda c: (-len(c), c))
    return sccs[:limit]
