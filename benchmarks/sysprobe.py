"""Peers that live in the *system* Python: apt_pkg (python3-apt) and libsolv (python3-solv).

Run as `/usr/bin/python3 benchmarks/sysprobe.py COMMAND ...`; prints one JSON object on stdout with the
answer and the tool's own timings (interpreter start-up excluded), so the harness can report both the
end-to-end wall time and the phases. Standard library + the two bindings only: this file must not
import anything from the project or its venv.

    tagfile PACKAGES...                 iterate apt_pkg.TagFile over each file
    solv-load PACKAGES...               libsolv: repo.add_debpackages per file, createwhatprovides
    solv-solve ROOTS_FILE PACKAGES...   libsolv: one SOLVER_INSTALL job per root, no recommends
    solv-weak ROOTS_FILE PACKAGES...    the same with SOLVER_WEAK jobs: which roots can be installed together
"""

import json
import sys
import time


def tagfile(paths):
    import apt_pkg

    t0 = time.perf_counter()
    n = 0
    for path in paths:
        with open(path, "rb") as f:
            for section in apt_pkg.TagFile(f):
                section["Package"]
                n += 1
    return {"load_s": time.perf_counter() - t0, "stanzas": n}


def _pool(paths):
    import solv

    t0 = time.perf_counter()
    pool = solv.Pool()
    pool.setdisttype(solv.Pool.DISTTYPE_DEB)
    pool.setarch("amd64")
    for i, path in enumerate(paths):
        repo = pool.add_repo(f"index{i}")
        f = solv.xfopen(path)
        repo.add_debpackages(f)
        f.close()
    pool.addfileprovides()
    pool.createwhatprovides()
    return pool, time.perf_counter() - t0


def solv_load(paths):
    pool, load = _pool(paths)
    return {"load_s": load, "solvables": sum(r.nsolvables for r in pool.repos)}


def _roots(path):
    with open(path) as f:
        return [w for line in f for w in line.split()]


def solv_solve(roots_file, paths, weak=False):
    import solv

    pool, load = _pool(paths)
    roots = _roots(roots_file)
    t0 = time.perf_counter()
    jobs, unknown = [], []
    for name in roots:
        sel = pool.select(name, solv.Selection.SELECTION_NAME)
        if sel.isempty():
            unknown.append(name)
            continue
        flags = solv.Job.SOLVER_INSTALL | (solv.Job.SOLVER_WEAK if weak else 0)
        jobs += sel.jobs(flags)
    solver = pool.Solver()
    solver.set_flag(solv.Solver.SOLVER_FLAG_IGNORE_RECOMMENDED, 1)
    problems = solver.solve(jobs)
    solve = time.perf_counter() - t0
    out = {"load_s": load, "solve_s": solve, "roots": len(roots), "unknown": unknown}
    if problems and not weak:
        out.update(solved=False, problems=[str(p) for p in problems[:5]], count=0, packages=[])
        return out
    new = solver.transaction().newsolvables()
    names = sorted(f"{s.name}={s.evr}" for s in new)
    chosen = {s.name for s in new}
    out.update(solved=not unknown, count=len(names), packages=names)
    if weak:
        out["installable"] = [r for r in roots if r in chosen]
    return out


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "tagfile":
        out = tagfile(args)
    elif cmd == "solv-load":
        out = solv_load(args)
    elif cmd == "solv-solve":
        out = solv_solve(args[0], args[1:])
    elif cmd == "solv-weak":
        out = solv_solve(args[0], args[1:], weak=True)
    elif cmd == "probe":
        out = {}
        for mod in ("apt_pkg", "solv"):
            try:
                __import__(mod)
                out[mod] = True
            except ImportError:
                out[mod] = False
    else:
        raise SystemExit(f"unknown command {cmd}")
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
