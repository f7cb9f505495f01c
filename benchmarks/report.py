"""The report: a Markdown table and the JSON behind it, timestamped plus `latest.*`, and the scaling plot."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

EXPLAIN = {
    "apt": (
        "apt's status file is empty, so its count is every package the roots need from nothing: it excludes "
        "nothing as already installed. It does not add Essential/Priority: required packages by itself "
        "unless a dependency asks for them, nor does bundler without `base = true` or libsolv (no job for them)."
    ),
    "libsolv": (
        "libsolv does not follow apt's policy of taking the first alternative of an OR-group (`a | b`) or "
        "the package over a virtual one: it may pick another provider (e.g. libelogind0 for libsystemd0, "
        "nova-compute-ironic for nova-compute's hypervisor), so its set differs in names, not in validity."
    ),
}


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _ratio(x: float) -> str:
    return f"{x:.2f}×"


def _ratio_cell(bundler: list[dict], peer: dict) -> str:
    if peer["median_s"] is None:
        return ""
    cells = []
    for b in bundler:
        if b["median_s"] is not None and peer["median_s"]:
            name = b["contender"]
            # The Python cases have two warm bundler runs: the revalidating one is named apart.
            label = ("cold" if "cold" in name else "warm revalidating" if "revalidating" in name
                     else "warm" if "warm" in name else "")  # fmt: skip
            if not label and len(bundler) > 1:  # e.g. the start-up rows: `--version`, `--help`
                label = name.removeprefix("bundler ").split(" (")[0]
            cells.append(f"{label} {_ratio(b['median_s'] / peer['median_s'])}".strip())
    return ", ".join(cells)


def _py_ratios(data: dict) -> list[str]:
    """The Python cases' bundler/uv pairs (run.PY_RATIOS), one small table per case."""
    status = {(r["case"], r["contender"]): r["status"] for r in data["results"]}
    out = []
    for a in data["answers"]:
        if not a.get("ratios"):
            continue
        out += [f"### {a['case']}: bundler / uv ratios", "", "| pair | bundler s | uv s | bundler/uv |",
                "|---|---|---|---|"]  # fmt: skip
        for p in a["ratios"]:
            if p["ratio"] is None:
                gaps = [f"{name}: {status.get((a['case'], name), 'not run')}"
                        for name, s in ((p["bundler"], p["bundler_median_s"]), (p["peer"], p["peer_median_s"]))
                        if s is None]  # fmt: skip
                cell = "— (" + "; ".join(gaps) + ")" if gaps else "—"
            else:
                cell = _ratio(p["ratio"])
            out.append(f"| {p['pair']} | {_fmt(p['bundler_median_s'])} | {_fmt(p['peer_median_s'])} | {cell} |")
        out.append("")
    if out:
        out += ["Revalidating: the default second run, which asks the index again about every cached project "
                "page; `--offline`: no network at all, the cache as it is.", ""]  # fmt: skip
    return out


def _answer_cell(a: dict) -> str:
    if not a:
        return ""
    if "solved" in a:
        s = ("solved" if a["solved"] else "unsolvable") + (f", {a['count']} pkgs" if a.get("count") else "")
        if "up_to_date" in a:  # the lock fast path's row: did it apply
            s += ", lock up to date" if a["up_to_date"] else ", fast path missed: resolved"
        return s
    if "broken" in a:
        return f"{a.get('broken')} broken of {a.get('total')}"
    if "stanzas" in a and a["stanzas"] is not None:
        return f"{a['stanzas']} stanzas"
    if "files" in a:
        return f"{a['files']} files, {a['bytes'] / 1e6:.1f} MB"
    return ""


def markdown(data: dict) -> str:
    m = data["meta"]
    out = [f"# bundler benchmarks — {m['started']}", ""]
    out.append(f"`{m['command']}` · mode {m['mode']} · budget {m['budget_s']:.0f}s (used {m['used_s']}s) · "
               f"{m['host']} · load average {m['loadavg_start']} → {m['loadavg_end']}")  # fmt: skip
    out.append("")
    out.append("Versions: " + "; ".join(f"{k} {v}" for k, v in m["versions"].items()))
    out += ["", "## Inputs", "", "| index | Release Date | Release sha256 | Packages sha256 | stanzas |", "|---|---|---|---|---|"]
    for i in data["inputs"]["debian"]:
        out.append(f"| {i['uri']} {i['suite']} {i['component']}/{i['arch']} | {i['date']} | "
                   f"`{i['release_sha256'][:16]}…` ({i['release_name']}) | `{i['packages_sha256'][:16]}…` | {i['stanzas']} |")  # fmt: skip
    py = data["inputs"]["python"]
    out.append("")
    out.append(f"Python index: {py.get('index')}" + (f" — {py['page_count']} project pages recorded"
               + (f" (digest of name+sha256 list `{py['pages_sha256'][:16]}…`)" if py.get("pages_sha256") else "")
               if "page_count" in py else ""))  # fmt: skip
    rr = data["inputs"].get("random_roots")
    if rr:
        out.append(f"Random roots: seed {rr.get('seed')}, {rr.get('filter')}; pool of {rr.get('pool_size')} names.")
    out += ["", "## Results (wall time of the whole command, median of the runs)", ""]
    out.append("| case | contender | status | runs | median s | min–max s | peak RSS MB | phases (median s) | answer | "
               "bundler/peer |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    by_case: dict[str, list[dict]] = {}
    for r in data["results"]:
        by_case.setdefault(r["case"], []).append(r)
    for case, rows in by_case.items():
        bundler = [r for r in rows if r["tool"] == "bundler"]
        for r in rows:
            runs = r["runs_s"]
            span = f"{_fmt(min(runs))}–{_fmt(max(runs))}" if runs else ""
            phases = ", ".join(f"{k[:-2]} {_fmt(v)}" for k, v in r["internal_s"].items())
            status = r["status"] + (f" ({r['note']})" if r["note"] else "")
            ratio = _ratio_cell(bundler, r) if r["tool"] != "bundler" else ""
            rss = r.get("peak_rss_mb")
            out.append(f"| {case} | {r['contender']} | {status} | {len(runs)} | {_fmt(r['median_s'])} | {span} | "
                       f"{'' if rss is None else f'{rss:.0f}'} | {phases} | {_answer_cell(r['answer'])} | {ratio} |")  # fmt: skip
    out += ["", "bundler/peer < 1 means bundler is faster. Each contender runs in its own process; runs of the "
            "contenders of a case alternate (A B C A B C …).", ""]  # fmt: skip
    out += _py_ratios(data)
    if data.get("startup"):
        from .startup import markdown as startup_markdown

        out += startup_markdown(data["startup"])
    out += ["## Answers", ""]
    for a in data["answers"]:
        out.append(f"### {a['case']}")
        tools = a.get("tools", {})
        if tools:
            out.append("")
            out.append("| tool | " + " | ".join(tools) + " |")
            out.append("|---|" + "---|" * len(tools))
            keys = sorted({k for t in tools.values() for k in t if k not in ("broken_packages", "error")})
            for k in keys:
                out.append(f"| {k} | " + " | ".join(str(t.get(k, "")) for t in tools.values()) + " |")
            errors = {n: t.get("error") for n, t in tools.items() if t.get("error")}
            for n, e in errors.items():
                out.append(f"\n{n}: `{e[:300]}`")
        if "apt_accepts_bundler_set" in a:
            acc = a["apt_accepts_bundler_set"]
            verdict = "yes" if acc["accepted"] else "NO"
            out.append(f"\napt accepts bundler's set (`apt-get -s install name=version …` of every locked package, "
                       f"empty status): **{verdict}**" + (f"; apt would add {acc['extra_packages_apt_adds'][:20]}"
                       if acc["extra_packages_apt_adds"] else "") + (f"; `{acc['error'][:200]}`" if acc["error"] else ""))  # fmt: skip
        for pair, d in a.get("differences", {}).items():
            parts = [f"{k}: {len(v)}" + (f" ({', '.join(v[:12])}{' …' if len(v) > 12 else ''})" if v else "")
                     for k, v in d.items()]  # fmt: skip
            out.append(f"\n- {pair}: " + "; ".join(parts))
        if "broken_packages" in str(tools):
            for n, t in tools.items():
                if t.get("broken_packages"):
                    out.append(f"\n- {n} broken: {', '.join(t['broken_packages'][:20])}")
        if any("differences" in a and a["differences"] for _ in [0]) and a["case"].startswith("deb-"):
            out.append("")
            for tool in ("apt", "libsolv"):
                if tool in tools:
                    out.append(f"- why {tool} may differ: {EXPLAIN[tool]}")
        out.append("")
    if data["scaling"]:
        out += ["## Solve time against the number of roots", "", "![scaling](scaling.png)", ""]
        out.append("| roots | " + " | ".join(sorted({s["contender"] for s in data["scaling"]})) + " |")
        names = sorted({s["contender"] for s in data["scaling"]})
        out.append("|---|" + "---|" * len(names))
        for n in sorted({s["roots"] for s in data["scaling"]}):
            row = {s["contender"]: s for s in data["scaling"] if s["roots"] == n}
            cells = []
            for c in names:
                s = row.get(c)
                cells.append("" if not s else f"{_fmt(s['median_s'])}" + (f" ({s['count']})" if s.get("count") else "")
                             + ("" if s.get("solved") in (True, None) else " unsolvable"))  # fmt: skip
            out.append(f"| {n} | " + " | ".join(cells) + " |")
        out.append("")
    missing = [r for r in data["results"] if r["status"] != "ok"]
    if missing or data["notes"] or data["setup"]:
        out += ["## Not available, failed, skipped; notes", ""]
        for r in missing:
            out.append(f"- {r['case']} / {r['contender']}: {r['status']} — {r['note']}")
        for n in data["setup"] + data["notes"]:
            out.append(f"- {n}")
        out.append("")
    return "\n".join(out)


def plot(data: dict, path: Path) -> str | None:
    """Solve time against roots, one line per contender; None when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: no plot"
    series: dict[str, list[tuple[int, float]]] = {}
    for s in data["scaling"]:
        if s["median_s"] is not None:
            series.setdefault(s["contender"], []).append((s["roots"], s["median_s"]))
    if not series:
        return "no scaling figures: no plot"
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, pts in sorted(series.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("random roots (co-installable, fixed seed)")
    ax.set_ylabel("wall time, s (median)")
    ax.set_title("Debian solve time vs number of roots (bookworm main amd64)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


_URL_HOST = re.compile(r"\b(?:https?|ftp)://(?:[^/@\s\"']*@)?([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def redact_hosts(text: str) -> str:
    """`text` with every host name that appears in one of its URLs replaced by `HOST`, wherever it
    appears (also in cache directory names derived from it): results are committed, and the repo
    names no registry host (the indexes are the host's apt sources and pip configuration)."""
    for host in sorted(set(_URL_HOST.findall(text)), key=len, reverse=True):
        text = text.replace(host, "HOST")
    return text


def write(data: dict, results_dir: Path, started: datetime) -> str:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    if data["scaling"]:
        why = plot(data, results_dir / f"{stamp}-scaling.png")
        if why:
            data["notes"].append(why)
        else:
            (results_dir / "scaling.png").write_bytes((results_dir / f"{stamp}-scaling.png").read_bytes())
    text = redact_hosts(markdown(data))
    for name in (f"{stamp}.md", "latest.md"):
        (results_dir / name).write_text(text + "\n")
    as_json = redact_hosts(json.dumps(data, indent=1, default=str))
    for name in (f"{stamp}.json", "latest.json"):
        (results_dir / name).write_text(as_json + "\n")
    return text
