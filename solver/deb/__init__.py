"""The Debian side of the solver, beside solver/python/ and sharing its engine (solver/sat.py) and
model (solver/model.py, relations.py, debversion.py, universe.py):

- encoding.py: a DebProblem as clauses, apt's decision walk over them, and `solve`;
- priorities.py: apt's version priorities (Release fields and pins, apt_preferences(5));
- explain.py: a failed solve's minimal core as typed causes (solver/causes.py);
- installability.py: every package of an archive checked (`bundler check`).
"""
