/* The bulk clause watcher of the CDCL engine (solver/sat.py `Solver.add_distinct_clauses`), compiled.
 *
 * For clauses just appended at index `first` onwards: a clause of two or more literals is watched on
 * its first two (its index appended to the watch list of each), a shorter one is queued as a unit
 * (literal 0 for the empty clause). For valid clauses, exactly the Python loop beside it, which runs
 * when this module is not built (tests/test_sat_watch.py compares both). Profile behind it: the
 * encoding of bookworm main adds
 * 280,000 clauses, a solve of 2,000 random roots 60,000; the loop was 6% of `bundler check`.
 *
 * watch(clauses, first, watches, units) -> None
 *   clauses:  list of clauses (lists of non-zero ints), as added
 *   first:    the index of the first of them in the solver's clause list
 *   watches:  list of lists: the watch list of literal l is watches[2l] (l > 0) or watches[-2l + 1]
 *   units:    list (literal, clause index) tuples are appended to
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int watch_slot(PyObject *lit, Py_ssize_t n_watches, Py_ssize_t *slot) {
    long l = PyLong_AsLong(lit);
    if (l == -1 && PyErr_Occurred()) return -1;
    Py_ssize_t w = l > 0 ? 2 * (Py_ssize_t)l : -2 * (Py_ssize_t)l + 1;
    if (l == 0 || w >= n_watches) {
        PyErr_SetString(PyExc_ValueError, "watch: a literal names no variable of the solver");
        return -1;
    }
    *slot = w;
    return 0;
}

static PyObject *watch(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *clauses, *watches, *units;
    Py_ssize_t first;
    if (!PyArg_ParseTuple(args, "O!nO!O!", &PyList_Type, &clauses, &first, &PyList_Type, &watches, &PyList_Type,
                          &units))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(clauses), n_watches = PyList_GET_SIZE(watches);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *clause = PyList_GET_ITEM(clauses, i);
        if (!PyList_Check(clause)) {
            PyErr_SetString(PyExc_TypeError, "watch: a clause must be a list");
            return NULL;
        }
        PyObject *idx = PyLong_FromSsize_t(first + i);
        if (idx == NULL) return NULL;
        int failed = 0;
        if (PyList_GET_SIZE(clause) > 1) {
            for (int k = 0; k < 2 && !failed; k++) {
                Py_ssize_t slot;
                PyObject *list;
                failed = watch_slot(PyList_GET_ITEM(clause, k), n_watches, &slot) < 0 ||
                         !PyList_Check(list = PyList_GET_ITEM(watches, slot)) || PyList_Append(list, idx) < 0;
            }
        } else {
            PyObject *lit = PyList_GET_SIZE(clause) ? PyList_GET_ITEM(clause, 0) : NULL;
            PyObject *zero = lit ? NULL : PyLong_FromLong(0);
            PyObject *unit = (lit || zero) ? PyTuple_Pack(2, lit ? lit : zero, idx) : NULL;
            Py_XDECREF(zero);
            failed = unit == NULL || PyList_Append(units, unit) < 0;
            Py_XDECREF(unit);
        }
        Py_DECREF(idx);
        if (failed) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "watch: a watch list must be a list");
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"watch", watch, METH_VARARGS,
     "watch(clauses, first, watches, units) -> None: watch clauses added in bulk (see solver/_sat.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_sat", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__sat(void) { return PyModule_Create(&module); }
