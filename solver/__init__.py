"""The solver: the data model and the algorithms that turn candidates into one consistent pinned set.

No I/O here (see ../shared/DESIGN.md): candidates come in through `solver.universe.DebUniverse`
(implemented by `repos/`) or the Python metadata protocol, results go out as plain data.
"""
