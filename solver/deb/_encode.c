/* The inner loop of the Debian encoder's expansion (solver/deb/encoding.py `Encoding.expand`), compiled.
 *
 * For one package variable and one of its dependency fields: each OR group's candidate variables (the
 * encoder's `_group_vars` memo, else its `group_vars` method), recorded as a requirement of the package,
 * and the clause `-v | alt1 | alt2 ...` with its tag unless the package satisfies the group itself.
 * Exactly what the Python loop beside it does (that loop runs when this module is not built; the tests
 * compare the clauses, tags and requirements of both). Profile behind it: `bundler check` of bookworm
 * main expands 63,440 packages and 400,000 groups; the loop's own Python was 13% of the command.
 *
 * requirements(v, groups, arch, kind, known, group_vars, required, clauses, tags) -> None
 *   v:           the package's variable (int > 0)
 *   groups:      tuple of OR groups (the field, as parsed)
 *   arch:        the architecture the field is read for (str)
 *   kind:        "Pre-Depends" or "Depends", for the tags
 *   known:       dict, (id(group), arch) -> (group, variables): the encoding's memo
 *   group_vars:  called as group_vars(group, arch) on a miss (it fills `known`)
 *   required:    list the variables of each group are appended to
 *   clauses:     list each clause is appended to (a new list of ints)
 *   tags:        list each clause's tag ("dep", v, kind, group) is appended to
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *requirements(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *v, *groups, *arch, *kind, *known, *group_vars, *required, *clauses, *tags;
    if (!PyArg_ParseTuple(args, "O!O!UUO!OO!O!O!", &PyLong_Type, &v, &PyTuple_Type, &groups, &arch, &kind,
                          &PyDict_Type, &known, &group_vars, &PyList_Type, &required, &PyList_Type, &clauses,
                          &PyList_Type, &tags))
        return NULL;
    long var = PyLong_AsLong(v);
    if (var == -1 && PyErr_Occurred()) return NULL;
    PyObject *minus_v = PyLong_FromLong(-var);
    if (minus_v == NULL) return NULL;
    PyObject *dep = PyUnicode_InternFromString("dep");
    if (dep == NULL) goto fail;
    Py_ssize_t n = PyTuple_GET_SIZE(groups);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *group = PyTuple_GET_ITEM(groups, i);
        PyObject *id = PyLong_FromVoidPtr(group); /* id(group) */
        if (id == NULL) goto fail;
        PyObject *key = PyTuple_Pack(2, id, arch);
        Py_DECREF(id);
        if (key == NULL) goto fail;
        PyObject *hit = PyDict_GetItemWithError(known, key); /* borrowed */
        Py_DECREF(key);
        PyObject *alts;
        if (hit != NULL && PyTuple_Check(hit) && PyTuple_GET_SIZE(hit) == 2 && PyTuple_GET_ITEM(hit, 0) == group) {
            alts = Py_NewRef(PyTuple_GET_ITEM(hit, 1));
        } else {
            if (hit == NULL && PyErr_Occurred()) goto fail;
            alts = PyObject_CallFunctionObjArgs(group_vars, group, arch, NULL);
            if (alts == NULL) goto fail;
        }
        if (!PyTuple_Check(alts)) {
            Py_DECREF(alts);
            PyErr_SetString(PyExc_TypeError, "requirements: a group's variables must be a tuple");
            goto fail;
        }
        if (PyList_Append(required, alts) < 0) {
            Py_DECREF(alts);
            goto fail;
        }
        Py_ssize_t m = PyTuple_GET_SIZE(alts);
        int itself = 0; /* depends on itself: always true (add_clause would drop the clause too) */
        for (Py_ssize_t j = 0; j < m && !itself; j++) {
            long a = PyLong_AsLong(PyTuple_GET_ITEM(alts, j));
            if (a == -1 && PyErr_Occurred()) {
                Py_DECREF(alts);
                goto fail;
            }
            itself = a == var;
        }
        if (!itself) {
            PyObject *clause = PyList_New(m + 1); /* the alternatives are distinct */
            if (clause == NULL) {
                Py_DECREF(alts);
                goto fail;
            }
            PyList_SET_ITEM(clause, 0, Py_NewRef(minus_v));
            for (Py_ssize_t j = 0; j < m; j++) PyList_SET_ITEM(clause, j + 1, Py_NewRef(PyTuple_GET_ITEM(alts, j)));
            int bad = PyList_Append(clauses, clause) < 0;
            Py_DECREF(clause);
            PyObject *tag = bad ? NULL : PyTuple_Pack(4, dep, v, kind, group);
            if (tag == NULL || PyList_Append(tags, tag) < 0) {
                Py_XDECREF(tag);
                Py_DECREF(alts);
                goto fail;
            }
            Py_DECREF(tag);
        }
        Py_DECREF(alts);
    }
    Py_DECREF(minus_v);
    Py_DECREF(dep);
    Py_RETURN_NONE;
fail:
    Py_DECREF(minus_v);
    Py_XDECREF(dep);
    return NULL;
}

static PyMethodDef methods[] = {
    {"requirements", requirements, METH_VARARGS,
     "requirements(v, groups, arch, kind, known, group_vars, required, clauses, tags) -> None: the "
     "requirements and clauses of one dependency field (see solver/deb/_encode.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_encode", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__encode(void) { return PyModule_Create(&module); }
