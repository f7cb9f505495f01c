"""The Debian side of the solver, beside solver/python/ and sharing its engine (solver/sat.py) and
model (solver/model.py, relations.py, debversion.py, universe.py):

- problem.py: what a solve is asked (roots, fixes, vetoes, pins), parsed from the spec, and the
  solution's shape;
- encoding.py: the reachable sub-universe of a problem as clauses;
- policy.py: apt's decisions over them (the MarkInstall walk);
- solve.py: `solve`, putting them together, with a fix's minimal change and the mirror closure;
- priorities.py: apt's version priorities (Release fields and pins, apt_preferences(5));
- explain.py: a failed solve's minimal core as typed causes (solver/causes.py);
- installability.py: every package of an archive checked (`bundler check`).
"""
