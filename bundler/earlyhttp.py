"""Load the HTTP stack and the CA bundle on a thread of their own, as soon as a command knows it will
fetch from Python indexes on the network, while its main thread imports the resolver.

A cold solve of five roots (a requirements file through the host's mirror) waited ~0.11 s for its
first request: httpx and httpcore imported (~0.08 s, with the GIL, which the resolver's imports share
anyway) and then the CA bundle loaded (~0.03 s, without it: done here in parallel). Started where the
solve starts (bundler/pipeline.py), the thread still began after the imports of the solve itself
(~0.09 s into the process, in a timeline of one solve): `bundler solve` of a spec without a lock (a
solve is then certain, bundler/quicksolve.py) starts it right after reading the spec instead. That
cold five-root solve, against the tree before, in six sittings (`benchmarks.alternate --cold`, the
median of each): −19, −48, +6, −50, −15 and −34 ms, of ~0.6 s.

Nothing here imports more than the spec's own modules: the up-to-date path must not pay for it.
"""

from __future__ import annotations

import threading
from typing import Any

_STARTED: set[str | None] = set()  # the CA bundles a thread was started for (one per bundle)
_LOCK = threading.Lock()


def start(spec: Any) -> None:
    """Start the thread for a [python] section (a bundler.spec.PythonSpec) whose indexes or
    find-links are on the network; nothing otherwise, or when one was started for its CA bundle."""
    from bundler.pysources import python_sources

    indexes, find_links, cert, _notes = python_sources(spec)
    if not any(u.startswith(("https://", "http://")) for u in (*indexes, *find_links)):
        return
    with _LOCK:
        if cert in _STARTED:
            return
        _STARTED.add(cert)
    threading.Thread(target=_load, args=(cert,), name="http-early", daemon=True).start()


def _load(cert: str | None) -> None:
    try:
        from repos.http import tls_context, usable_cert

        tls_context(usable_cert(cert))
    except Exception:  # noqa: BLE001 - the first fetch makes the context again and reports the problem
        pass
