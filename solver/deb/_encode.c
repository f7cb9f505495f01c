/* The Debian encoder's expansion (solver/deb/encoding.py `Encoding.expand`), its inner loop compiled.
 *
 * For one package variable and one of its dependency fields: each OR group's candidate variables (the
 * encoder's `_group_vars` memo, else worked out here as its `group_vars` method does), recorded as a
 * requirement of the package, and the clause `-v | alt1 | alt2 ...` with its tag unless the package
 * satisfies the group itself. Exactly what the Python loop beside it does (that loop runs when this
 * module is not built; tests/test_deb_installability_golden.py compares the variables, clauses, tags,
 * requirements and memos of both). Profiles behind it:
 *   - `bundler check` of bookworm main expands 63,440 packages and 400,000 groups; the loop's own
 *     Python was 13% of the command.
 *   - A solve of 2,000 random roots of bookworm main meets 15,700 groups for the first time. Working out
 *     their candidates in Python (`group_vars`, `_group_candidates`, `matches`) took 0.25-0.3 s of its
 *     1.1-1.2 s, 17 us a group; the universe, the apt policy and the variables are still asked in Python.
 *
 * requirements(v, groups, arch, kind, known, context, required, clauses, tags) -> None
 *   v:           the package's variable (int > 0)
 *   groups:      tuple of OR groups (the field, as parsed)
 *   arch:        the architecture the field is read for (str)
 *   kind:        "Pre-Depends" or "Depends", for the tags
 *   known:       dict, (id(group), arch) -> (group, variables): the encoding's memo
 *   context:     the encoding's state and methods for a group not in `known` (`Encoding._context`):
 *                (native architecture, the EncodingMemo's groups and matches dicts, the variables by
 *                candidate id, universe.candidates, universe.providers, satisfies, Encoding._order,
 *                Encoding.is_candidate, Encoding.var, Encoding._matches: the Python method, which
 *                handles an atom with an architecture qualifier)
 *   required:    list the variables of each group are appended to
 *   clauses:     list each clause is appended to (a new list of ints)
 *   tags:        list each clause's tag ("dep", v, kind, group) is appended to
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>


/* The encoding's context (see the top of this file); borrowed from the caller's tuple. */
struct context {
    PyObject *native, *group_cache, *match_cache, *by_id, *candidates, *providers, *satisfies, *order,
        *is_candidate, *var, *matches;
};
#define N_CONTEXT 11

static PyObject *s_name, *s_op, *s_version, *s_arch, *s_multi_arch, *s_key, *s_provides, *s_all, *s_foreign,
    *s_equal, *s_dep;

static int unpack_context(PyObject *t, struct context *x) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != N_CONTEXT) {
        PyErr_SetString(PyExc_TypeError, "requirements: the context must be a tuple of 11 items");
        return -1;
    }
    PyObject **items = &PyTuple_GET_ITEM(t, 0);
    *x = (struct context){items[0], items[1], items[2], items[3], items[4], items[5],
                          items[6], items[7], items[8], items[9], items[10]};
    if (!PyDict_Check(x->group_cache) || !PyDict_Check(x->match_cache) || !PyDict_Check(x->by_id)) {
        PyErr_SetString(PyExc_TypeError, "requirements: the context's memos must be dicts");
        return -1;
    }
    return 0;
}

/* (id(obj), arch): how the encoder keys its memos (a new reference) */
static PyObject *id_key(PyObject *obj, PyObject *arch) {
    PyObject *id = PyLong_FromVoidPtr(obj);
    if (id == NULL) return NULL;
    PyObject *key = PyTuple_Pack(2, id, arch);
    Py_DECREF(id);
    return key;
}

/* getattr(obj, name) == value: 1, 0, or -1 with an error set */
static int attr_eq(PyObject *obj, PyObject *name, PyObject *value) {
    PyObject *a = PyObject_GetAttr(obj, name);
    if (a == NULL) return -1;
    int r = PyObject_RichCompareBool(a, value, Py_EQ);
    Py_DECREF(a);
    return r;
}

/* An unqualified atom's architecture rule (`Encoding._arch_ok` with no qualifier): the candidate's
 * architecture ("all" counts as the native one) is the dependent's, or the candidate is Multi-Arch:
 * foreign. */
static int arch_ok(PyObject *c, const struct context *x, PyObject *from_arch) {
    PyObject *a = PyObject_GetAttr(c, s_arch);
    if (a == NULL) return -1;
    int is_all = PyObject_RichCompareBool(a, s_all, Py_EQ);
    int r = is_all < 0 ? -1 : PyObject_RichCompareBool(is_all ? x->native : a, from_arch, Py_EQ);
    Py_DECREF(a);
    if (r != 0) return r;
    return attr_eq(c, s_multi_arch, s_foreign);
}

/* satisfies(version, op, wanted) as a truth value: 1, 0, or -1 with an error set */
static int satisfied(const struct context *x, PyObject *version, PyObject *op, PyObject *wanted) {
    PyObject *args[3] = {version, op, wanted};
    PyObject *r = PyObject_Vectorcall(x->satisfies, args, 3, NULL);
    if (r == NULL) return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* `cands` in policy order (`Encoding._order`), as a new list; a list of fewer than two is its own order */
static PyObject *ordered(const struct context *x, PyObject *cands, PyObject *from_arch, int virtual) {
    if (PyList_GET_SIZE(cands) < 2) return PyList_GetSlice(cands, 0, PyList_GET_SIZE(cands)); /* a copy */
    PyObject *args[3] = {cands, from_arch, virtual ? Py_True : Py_False};
    PyObject *r = PyObject_Vectorcall(x->order, args, 3, NULL);
    if (r == NULL || PyList_CheckExact(r)) return r;
    Py_SETREF(r, PySequence_List(r));
    return r;
}

/* `Encoding.matches(dep, from_arch)`: the candidates of one atom in policy order, memoised in the
 * EncodingMemo's matches (a new reference to a tuple). An atom with an architecture qualifier takes the
 * Python method (`Encoding._matches`), which handles every qualifier. Also exported as `matches`, which
 * `Encoding.matches` is when this module is built. */
static PyObject *matches(const struct context *x, PyObject *dep, PyObject *from_arch) {
    PyObject *key = id_key(dep, from_arch);
    if (key == NULL) return NULL;
    PyObject *hit = PyDict_GetItemWithError(x->match_cache, key); /* borrowed */
    if (hit != NULL && PyTuple_Check(hit) && PyTuple_GET_SIZE(hit) == 2 && PyTuple_GET_ITEM(hit, 0) == dep) {
        Py_DECREF(key);
        return Py_NewRef(PyTuple_GET_ITEM(hit, 1));
    }
    PyObject *name = NULL, *op = NULL, *wanted = NULL, *qualifier = NULL, *found = NULL, *real = NULL,
             *providers = NULL, *virtual = NULL, *first = NULL, *result = NULL;
    if (hit == NULL && PyErr_Occurred()) goto done;
    qualifier = PyObject_GetAttr(dep, s_arch);
    if (qualifier == NULL) goto done;
    if (qualifier != Py_None) {
        PyObject *args[2] = {dep, from_arch};
        result = PyObject_Vectorcall(x->matches, args, 2, NULL);
        goto done;
    }
    name = PyObject_GetAttr(dep, s_name);
    op = name ? PyObject_GetAttr(dep, s_op) : NULL;
    wanted = op ? PyObject_GetAttr(dep, s_version) : NULL;
    if (wanted == NULL) goto done;
    found = PyObject_CallOneArg(x->candidates, name);
    if (found == NULL) goto done;
    Py_SETREF(found, PySequence_Fast(found, "universe.candidates must return a sequence"));
    real = PyList_New(0);
    if (found == NULL || real == NULL) goto done;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(found); i++) {
        PyObject *c = PySequence_Fast_GET_ITEM(found, i);
        int ok = arch_ok(c, x, from_arch);
        if (ok > 0 && op != Py_None) {
            PyObject *version = PyObject_GetAttr(c, s_version);
            ok = version == NULL ? -1 : satisfied(x, version, op, wanted);
            Py_XDECREF(version);
        }
        if (ok < 0 || (ok > 0 && PyList_Append(real, c) < 0)) goto done;
    }
    providers = PyObject_CallOneArg(x->providers, name);
    if (providers == NULL) goto done;
    Py_SETREF(providers, PySequence_Fast(providers, "universe.providers must return a sequence"));
    virtual = PyList_New(0);
    if (providers == NULL || virtual == NULL) goto done;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(providers); i++) {
        PyObject *c = PySequence_Fast_GET_ITEM(providers, i);
        int ok = arch_ok(c, x, from_arch);
        if (ok < 0) goto done;
        if (!ok) continue;
        PyObject *provides = PyObject_GetAttr(c, s_provides);
        PyObject *ps = provides ? PySequence_Fast(provides, "Provides must be a sequence") : NULL;
        Py_XDECREF(provides);
        if (ps == NULL) goto done;
        int take = 0;
        for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(ps) && !take; j++) {
            PyObject *p = PySequence_Fast_GET_ITEM(ps, j);
            int same = attr_eq(p, s_name, name);
            if (same <= 0) {
                take = same;
                if (same < 0) break;
                continue;
            }
            if (op == Py_None) {
                take = 1;
                break;
            }
            /* a versioned dependency is met only by a versioned Provides, "=" (Policy 7.5) */
            take = attr_eq(p, s_op, s_equal);
            if (take <= 0) {
                if (take < 0) break;
                continue;
            }
            PyObject *pv = PyObject_GetAttr(p, s_version);
            take = pv == NULL ? -1 : PyObject_IsTrue(pv);
            if (take > 0) take = satisfied(x, pv, op, wanted);
            Py_XDECREF(pv);
            if (take < 0) break;
        }
        Py_DECREF(ps);
        if (take < 0 || (take > 0 && PyList_Append(virtual, c) < 0)) goto done;
    }
    first = ordered(x, real, from_arch, 0);
    if (first == NULL) goto done;
    if (PyList_GET_SIZE(virtual) > 0) {
        PyObject *more = ordered(x, virtual, from_arch, 1);
        if (more == NULL) goto done;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(more); i++) {
            PyObject *c = PyList_GET_ITEM(more, i);
            int in_real = PySequence_Contains(real, c);
            if (in_real < 0 || (!in_real && PyList_Append(first, c) < 0)) {
                Py_DECREF(more);
                goto done;
            }
        }
        Py_DECREF(more);
    }
    result = PyList_AsTuple(first);
    if (result != NULL) {
        PyObject *entry = PyTuple_Pack(2, dep, result);
        if (entry == NULL || PyDict_SetItem(x->match_cache, key, entry) < 0) Py_CLEAR(result);
        Py_XDECREF(entry);
    }
done:
    Py_DECREF(key);
    Py_XDECREF(qualifier);
    Py_XDECREF(name);
    Py_XDECREF(op);
    Py_XDECREF(wanted);
    Py_XDECREF(found);
    Py_XDECREF(real);
    Py_XDECREF(providers);
    Py_XDECREF(virtual);
    Py_XDECREF(first);
    return result;
}

/* `Encoding._group_candidates(group, arch, root=False)`: the candidates of an OR group once each in
 * the order met (`*met`, a new tuple) and the order they are offered in (`*order`: positions in the
 * former, or None for the same order). 0, or -1 with an error set. */
static int group_candidates(const struct context *x, PyObject *group, PyObject *arch, PyObject **met,
                            PyObject **order) {
    *met = *order = NULL;
    PyObject *atoms = PySequence_Fast(group, "an OR group must be a sequence");
    if (atoms == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(atoms);
    if (n == 1) {
        PyObject *found = matches(x, PySequence_Fast_GET_ITEM(atoms, 0), arch);
        if (found == NULL) {
            Py_DECREF(atoms);
            return -1;
        }
        Py_ssize_t m = PyTuple_GET_SIZE(found);
        int one_package = 1;
        if (m >= 2) {
            PyObject *head = PyTuple_GET_ITEM(found, 0);
            PyObject *name = PyObject_GetAttr(head, s_name), *a = name ? PyObject_GetAttr(head, s_arch) : NULL;
            for (Py_ssize_t i = 1; a != NULL && i < m && one_package > 0; i++) {
                PyObject *c = PyTuple_GET_ITEM(found, i);
                one_package = attr_eq(c, s_name, name);
                if (one_package > 0) one_package = attr_eq(c, s_arch, a);
            }
            Py_XDECREF(name);
            if (a == NULL) one_package = -1;
            Py_XDECREF(a);
            if (one_package < 0) {
                Py_DECREF(found);
                Py_DECREF(atoms);
                return -1;
            }
        }
        if (m < 2) {
            Py_DECREF(atoms);
            *met = found;
            *order = Py_NewRef(Py_None);
            return 0;
        }
        if (one_package) {
            /* One package: policy order already puts its candidate first; once each by key, as
             * `tuple({m.key: m for m in found}.values())` (the first position, the last of equals) */
            PyObject *by_key = PyDict_New();
            for (Py_ssize_t i = 0; by_key != NULL && i < m; i++) {
                PyObject *c = PyTuple_GET_ITEM(found, i);
                PyObject *k = PyObject_GetAttr(c, s_key);
                if (k == NULL || PyDict_SetItem(by_key, k, c) < 0) Py_CLEAR(by_key);
                Py_XDECREF(k);
            }
            Py_DECREF(found);
            Py_DECREF(atoms);
            if (by_key == NULL) return -1;
            PyObject *values = PyDict_Values(by_key);
            Py_DECREF(by_key);
            *met = values ? PyList_AsTuple(values) : NULL;
            Py_XDECREF(values);
            if (*met == NULL) return -1;
            *order = Py_NewRef(Py_None);
            return 0;
        }
        Py_DECREF(found);
    }
    /* Several atoms, or one with several packages: apt's candidates first, in the order met. */
    PyObject *seen = PyDict_New(), *cands = PyList_New(0), *alts = PyList_New(0), *later = PyList_New(0);
    int rc = -1;
    if (seen == NULL || cands == NULL || alts == NULL || later == NULL) goto done;
    for (Py_ssize_t d = 0; d < n; d++) {
        PyObject *found = matches(x, PySequence_Fast_GET_ITEM(atoms, d), arch);
        if (found == NULL) goto done;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(found); i++) {
            PyObject *c = PyTuple_GET_ITEM(found, i);
            PyObject *k = PyObject_GetAttr(c, s_key);
            int known = k == NULL ? -1 : PyDict_Contains(seen, k);
            PyObject *at = known == 0 ? PyLong_FromSsize_t(PyList_GET_SIZE(cands)) : NULL;
            int ok = known > 0;
            if (at != NULL) {
                PyObject *is = PyObject_CallOneArg(x->is_candidate, c);
                int candidate = is == NULL ? -1 : PyObject_IsTrue(is);
                Py_XDECREF(is);
                ok = candidate >= 0 && PyDict_SetItem(seen, k, at) == 0 &&
                     PyList_Append(candidate ? alts : later, at) == 0 && PyList_Append(cands, c) == 0;
            }
            Py_XDECREF(at);
            Py_XDECREF(k);
            if (!ok) {
                Py_DECREF(found);
                goto done;
            }
        }
        Py_DECREF(found);
    }
    if (PyList_SetSlice(alts, PyList_GET_SIZE(alts), PyList_GET_SIZE(alts), later) < 0) goto done;
    *met = PyList_AsTuple(cands);
    *order = *met ? PyList_AsTuple(alts) : NULL;
    if (*order == NULL) {
        Py_CLEAR(*met);
        goto done;
    }
    rc = 0;
done:
    Py_DECREF(atoms);
    Py_XDECREF(seen);
    Py_XDECREF(cands);
    Py_XDECREF(alts);
    Py_XDECREF(later);
    return rc;
}

/* `Encoding.group_vars(group, arch)` for a group not in the encoding's memo (`known`): the candidates
 * from the EncodingMemo or worked out (and kept there), given variables in the order met, offered in
 * the group's order; recorded in `known`. A new reference to a tuple of ints. */
static PyObject *group_vars(const struct context *x, PyObject *known, PyObject *group, PyObject *arch) {
    PyObject *key = id_key(group, arch);
    if (key == NULL) return NULL;
    PyObject *met = NULL, *order = NULL, *vars = NULL, *result = NULL;
    PyObject *hit = PyDict_GetItemWithError(x->group_cache, key); /* borrowed */
    if (hit != NULL && PyTuple_Check(hit) && PyTuple_GET_SIZE(hit) == 3 && PyTuple_GET_ITEM(hit, 0) == group) {
        met = Py_NewRef(PyTuple_GET_ITEM(hit, 1));
        order = Py_NewRef(PyTuple_GET_ITEM(hit, 2));
    } else {
        if (hit == NULL && PyErr_Occurred()) goto done;
        if (group_candidates(x, group, arch, &met, &order) < 0) goto done;
        PyObject *entry = PyTuple_Pack(3, group, met, order);
        int bad = entry == NULL || PyDict_SetItem(x->group_cache, key, entry) < 0;
        Py_XDECREF(entry);
        if (bad) goto done;
    }
    if (!PyTuple_Check(met) || (order != Py_None && !PyTuple_Check(order))) {
        PyErr_SetString(PyExc_TypeError, "requirements: a group's candidates and order must be tuples");
        goto done;
    }
    Py_ssize_t m = PyTuple_GET_SIZE(met);
    vars = PyTuple_New(m);
    if (vars == NULL) goto done;
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *c = PyTuple_GET_ITEM(met, i);
        PyObject *id = PyLong_FromVoidPtr(c);
        if (id == NULL) goto done;
        PyObject *v = PyDict_GetItemWithError(x->by_id, id); /* borrowed */
        if (v != NULL) {
            Py_INCREF(v);
        } else if (!PyErr_Occurred()) {
            v = PyObject_CallOneArg(x->var, c);
            if (v != NULL && PyDict_SetItem(x->by_id, id, v) < 0) Py_CLEAR(v);
        }
        Py_DECREF(id);
        if (v == NULL) goto done;
        PyTuple_SET_ITEM(vars, i, v);
    }
    if (order == Py_None) {
        result = Py_NewRef(vars);
    } else {
        Py_ssize_t k = PyTuple_GET_SIZE(order);
        result = PyTuple_New(k);
        for (Py_ssize_t i = 0; result != NULL && i < k; i++) {
            Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(order, i));
            if (at < 0 || at >= m) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "requirements: a group's order is out of range");
                Py_CLEAR(result);
                break;
            }
            PyTuple_SET_ITEM(result, i, Py_NewRef(PyTuple_GET_ITEM(vars, at)));
        }
    }
    if (result != NULL) {
        PyObject *entry = PyTuple_Pack(2, group, result);
        if (entry == NULL || PyDict_SetItem(known, key, entry) < 0) Py_CLEAR(result);
        Py_XDECREF(entry);
    }
done:
    Py_DECREF(key);
    Py_XDECREF(met);
    Py_XDECREF(order);
    Py_XDECREF(vars);
    return result;
}

static PyObject *requirements(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *v, *groups, *arch, *kind, *known, *context, *required, *clauses, *tags;
    if (!PyArg_ParseTuple(args, "O!O!UUO!OO!O!O!", &PyLong_Type, &v, &PyTuple_Type, &groups, &arch, &kind,
                          &PyDict_Type, &known, &context, &PyList_Type, &required, &PyList_Type, &clauses,
                          &PyList_Type, &tags))
        return NULL;
    struct context x;
    if (unpack_context(context, &x) < 0) return NULL;
    long var = PyLong_AsLong(v);
    if (var == -1 && PyErr_Occurred()) return NULL;
    PyObject *minus_v = PyLong_FromLong(-var);
    if (minus_v == NULL) return NULL;
    PyObject *dep = Py_NewRef(s_dep);
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
            alts = group_vars(&x, known, group, arch);
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

static PyObject *py_matches(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *context, *dep, *from_arch;
    if (!PyArg_ParseTuple(args, "OOU", &context, &dep, &from_arch)) return NULL;
    struct context x;
    if (unpack_context(context, &x) < 0) return NULL;
    return matches(&x, dep, from_arch);
}

static PyMethodDef methods[] = {
    {"matches", py_matches, METH_VARARGS,
     "matches(context, dep, from_arch) -> tuple: Encoding.matches, compiled (see solver/deb/_encode.c)."},
    {"requirements", requirements, METH_VARARGS,
     "requirements(v, groups, arch, kind, known, context, required, clauses, tags) -> None: the "
     "requirements and clauses of one dependency field (see solver/deb/_encode.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_encode", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__encode(void) {
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {{&s_name, "name"}, {&s_op, "op"}, {&s_version, "version"}, {&s_arch, "arch"},
                 {&s_multi_arch, "multi_arch"}, {&s_key, "key"}, {&s_provides, "provides"}, {&s_all, "all"},
                 {&s_foreign, "foreign"}, {&s_equal, "="}, {&s_dep, "dep"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL) return NULL;
    return PyModule_Create(&module);
}
