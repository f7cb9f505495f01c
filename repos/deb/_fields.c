/* The values of the fields a solve reads from one Packages stanza, without building the stanza.
 *
 * The compiled twin of `repos.deb822.read_stanza` followed by looking the wanted fields up, for a
 * stanza of the usual shape: LF line ends, one stanza, every line a field ("Name: value") or a
 * continuation (space or tab first), blank lines only around it, each field name once in any case.
 * Anything else (CR, NUL, a comment line, a malformed line, a name twice, a second stanza, text that
 * is not UTF-8, a value whose edges are non-ASCII) gives None, and the Python reader decides, with its
 * own errors. So, like `_scan.c`, this file never judges input: it only finds, fast, what Python would
 * find. Profile behind it (bookworm main, 63,440 stanzas): reading every stanza into a `Stanza` took
 * 1.6 s and looking 16 fields up in each, most of them absent (a case-insensitive miss), 4.7 s.
 *
 * values(data, wanted) -> None | tuple
 *   data:    one stanza (bytes-like)
 *   wanted:  tuple of lower-case field names (bytes)
 *   result:  for each wanted name, the field's value as str (the text after the colon and its
 *            continuation lines joined by "\n", indentation kept, surrounding whitespace stripped,
 *            as the reader gives it) or None when the stanza has no such field
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_FIELDS 128 /* names remembered for the "twice" check; a stanza with more goes to Python */
#define MAX_WANTED 64

/* What str.strip() removes among ASCII characters (str.isspace). */
static int is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
           (c >= 0x1c && c <= 0x1f);
}

static unsigned char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c; }

static int same_name(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn) return 0;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

/* Is s[0:n] valid UTF-8? (Only called for stanzas with a byte >= 0x80.) */
static int valid_utf8(const char *s, Py_ssize_t n) {
    PyObject *text = PyUnicode_DecodeUTF8(s, n, "strict");
    if (text == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(text);
    return 1;
}

static PyObject *values(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer view;
    PyObject *wanted;
    if (!PyArg_ParseTuple(args, "y*O!", &view, &PyTuple_Type, &wanted)) return NULL;
    Py_ssize_t n_wanted = PyTuple_GET_SIZE(wanted);
    const char *want[MAX_WANTED];
    Py_ssize_t want_len[MAX_WANTED];
    const char *at[MAX_WANTED];  /* value start (after the colon) of each wanted field found */
    const char *end[MAX_WANTED]; /* and the end of its last line */
    const char *name_at[MAX_FIELDS];
    size_t name_len[MAX_FIELDS];
    size_t names = 0;
    PyObject *result = NULL;
    if (n_wanted > MAX_WANTED) {
        PyErr_SetString(PyExc_ValueError, "too many wanted fields");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_wanted; i++) {
        PyObject *w = PyTuple_GET_ITEM(wanted, i);
        if (!PyBytes_Check(w)) {
            PyErr_SetString(PyExc_TypeError, "wanted names must be bytes");
            goto done;
        }
        want[i] = PyBytes_AS_STRING(w);
        want_len[i] = PyBytes_GET_SIZE(w);
        at[i] = end[i] = NULL;
    }
    const char *s = view.buf, *stop = s + view.len;
    if (memchr(s, '\r', (size_t)view.len) || memchr(s, '\0', (size_t)view.len)) goto unusual;
    int high = 0; /* a byte >= 0x80 somewhere: the whole stanza must be UTF-8 */
    int started = 0, ended = 0;
    Py_ssize_t current = -1; /* the wanted field the last field line opened, or -1 */
    for (const char *line = s; line < stop;) {
        const char *nl = memchr(line, '\n', (size_t)(stop - line));
        const char *eol = nl ? nl : stop;
        const char *p = line;
        while (p < eol && is_space((unsigned char)*p)) p++;
        if (p == eol) { /* blank (empty or whitespace only): ends the stanza */
            if (started) ended = 1;
            current = -1;
        } else if (ended) {
            goto unusual; /* a second stanza */
        } else if (*line == ' ' || *line == '\t') { /* continuation */
            if (!started) goto unusual;
            if (current >= 0) end[current] = eol;
        } else {
            const char *colon = memchr(line, ':', (size_t)(eol - line));
            if (colon == NULL || colon == line || *line == '#' || *line == '-') goto unusual;
            for (const char *k = line; k < colon; k++)
                if ((unsigned char)*k <= ' ' || (unsigned char)*k >= 0x7f) goto unusual;
            size_t klen = (size_t)(colon - line);
            if (names == MAX_FIELDS) goto unusual;
            for (size_t j = 0; j < names; j++)
                if (same_name(name_at[j], name_len[j], line, klen)) goto unusual;
            name_at[names] = line;
            name_len[names++] = klen;
            started = 1;
            current = -1;
            for (Py_ssize_t i = 0; i < n_wanted; i++)
                if (same_name(want[i], (size_t)want_len[i], line, klen)) {
                    current = i;
                    at[i] = colon + 1;
                    end[i] = eol;
                    break;
                }
        }
        for (const char *q = line; q < eol && !high; q++) high = (unsigned char)*q >= 0x80;
        line = nl ? nl + 1 : stop;
    }
    if (high && !valid_utf8(s, view.len)) goto unusual;
    result = PyTuple_New(n_wanted);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < n_wanted; i++) {
        PyObject *v;
        if (at[i] == NULL) {
            v = Py_NewRef(Py_None);
        } else {
            const char *a = at[i], *b = end[i];
            while (a < b && is_space((unsigned char)*a)) a++;
            while (b > a && is_space((unsigned char)b[-1])) b--;
            /* str.strip() also removes non-ASCII spaces (U+00A0, U+2028 ...): let Python judge those */
            if (a < b && ((unsigned char)*a >= 0x80 || (unsigned char)b[-1] >= 0x80)) {
                Py_CLEAR(result);
                goto unusual;
            }
            v = PyUnicode_DecodeUTF8(a, b - a, "strict");
            if (v == NULL) {
                Py_CLEAR(result);
                goto done;
            }
        }
        PyTuple_SET_ITEM(result, i, v);
    }
    goto done;
unusual:
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}

/* ---- relation fields (Debian Policy §7.1) ----------------------------------------------------------
 *
 * relations(text, alternatives, dep_type, cache, groups) -> None | tuple
 *   text:          a relation field's value (str)
 *   alternatives:  True for Depends-like fields (a tuple of OR groups, each a tuple of atoms), False for
 *                  Conflicts-like ones (a tuple of atoms; a "|" gives None)
 *   dep_type:      called as dep_type(name, op, version, arch) to make an atom (solver.model.Dep)
 *   cache:         dict, atom text -> atom, shared between calls (an archive has 110,000 distinct atoms
 *                  in 400,000 relations)
 *   groups:        dict, OR group text -> group (tuple of atoms), shared likewise: one object per
 *                  distinct group, which the encoder's memo keys by identity
 * What `solver.relations.parse_relations` / `parse_dep_list` give, for fields of the usual shape:
 * ASCII, every atom `name[:qualifier] [(op version)]`. Anything else (an architecture restriction
 * "[...]" or a build profile "<...>", which depend on the target or are rare in binary indexes, an empty
 * alternative, a malformed atom, a version not starting with an alphanumeric) gives None, and the Python
 * parser decides, with its errors. Profile behind it: parsing the relation fields of bookworm main took
 * 1.0-1.2 s of the 2.7 s that turning its 63,440 stanzas into candidates took. */

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int name_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}
static int qualifier_char(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
static int version_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* One atom s[0:n] (already stripped, non-empty): a new reference, or NULL with no error set when it
 * is unusual (the caller then gives up), or NULL with an error set. */
static PyObject *atom(const char *s, Py_ssize_t n, PyObject *dep_type, PyObject *cache) {
    PyObject *key = PyUnicode_FromStringAndSize(s, n);
    if (key == NULL) return NULL;
    PyObject *found = PyDict_GetItemWithError(cache, key);
    if (found != NULL) {
        Py_DECREF(key);
        return Py_NewRef(found);
    }
    if (PyErr_Occurred()) goto fail;
    const char *p = s, *end = s + n;
    const char *name = p;
    if (p == end || !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) goto unusual;
    while (p < end && name_char((unsigned char)*p)) p++;
    Py_ssize_t name_len = p - name;
    const char *qual = NULL;
    Py_ssize_t qual_len = 0;
    if (p < end && *p == ':') {
        qual = ++p;
        while (p < end && qualifier_char((unsigned char)*p)) p++;
        qual_len = p - qual;
        if (qual_len == 0) goto unusual;
    }
    while (p < end && is_ws((unsigned char)*p)) p++;
    const char *op = NULL, *version = NULL;
    Py_ssize_t op_len = 0, version_len = 0;
    if (p < end && *p == '(') {
        p++;
        while (p < end && is_ws((unsigned char)*p)) p++;
        if (p < end && (*p == '<' || *p == '>')) {
            char c = *p;
            op = p++;
            if (p < end && (*p == c || *p == '=')) p++;
            op_len = p - op;
        } else if (p < end && *p == '=') {
            op = p++;
            op_len = 1;
        } else {
            goto unusual;
        }
        while (p < end && is_ws((unsigned char)*p)) p++;
        if (p == end || !version_start((unsigned char)*p)) goto unusual;
        version = p;
        while (p < end && !is_ws((unsigned char)*p) && *p != ')') p++;
        version_len = p - version;
        while (p < end && is_ws((unsigned char)*p)) p++;
        if (p == end || *p != ')') goto unusual;
        p++;
        while (p < end && is_ws((unsigned char)*p)) p++;
    }
    if (p != end) goto unusual; /* "[...]", "<...>" or anything malformed */
    PyObject *args[4] = {NULL, Py_None, Py_None, Py_None};
    args[0] = PyUnicode_FromStringAndSize(name, name_len);
    if (op != NULL) {
        /* The obsolete "<" and ">" mean "<=" and ">=" (Policy §7.1), as parse_dep normalises them. */
        const char *text = op_len == 2 ? NULL : (*op == '<' ? "<=" : *op == '>' ? ">=" : "=");
        args[1] = text ? PyUnicode_FromString(text) : PyUnicode_FromStringAndSize(op, op_len);
        args[2] = PyUnicode_FromStringAndSize(version, version_len);
    }
    if (qual != NULL) args[3] = PyUnicode_FromStringAndSize(qual, qual_len);
    PyObject *dep = NULL;
    if (args[0] && args[1] && args[2] && args[3]) dep = PyObject_Vectorcall(dep_type, args, 4, NULL);
    for (int i = 0; i < 4; i++)
        if (args[i] != Py_None) Py_XDECREF(args[i]);
    if (dep == NULL) goto fail;
    if (PyDict_SetItem(cache, key, dep) < 0) {
        Py_DECREF(dep);
        goto fail;
    }
    Py_DECREF(key);
    return dep;
unusual:
    Py_DECREF(key);
    return NULL;
fail:
    Py_DECREF(key);
    return NULL;
}

static void strip(const char **a, const char **b) {
    while (*a < *b && is_ws((unsigned char)**a)) (*a)++;
    while (*b > *a && is_ws((unsigned char)(*b)[-1])) (*b)--;
}

static PyObject *relations(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *text, *dep_type, *cache, *groups;
    int alternatives;
    if (!PyArg_ParseTuple(args, "UpOO!O!", &text, &alternatives, &dep_type, &PyDict_Type, &cache, &PyDict_Type,
                          &groups))
        return NULL;
    if (PyUnicode_READY(text) < 0) return NULL;
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (s == NULL) return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    const char *stop = s + n;
    for (const char *part = s;;) {
        const char *comma = memchr(part, ',', (size_t)(stop - part));
        const char *part_end = comma ? comma : stop;
        const char *a = part, *b = part_end;
        strip(&a, &b);
        if (a < b) {
            const char *bar = memchr(a, '|', (size_t)(b - a));
            PyObject *item, *group_key = NULL;
            if (alternatives) {
                group_key = PyUnicode_FromStringAndSize(a, b - a);
                if (group_key == NULL) goto fail;
                PyObject *known = PyDict_GetItemWithError(groups, group_key);
                if (known != NULL) {
                    Py_DECREF(group_key);
                    if (PyList_Append(out, known) < 0) goto fail;
                    if (comma == NULL) break;
                    part = comma + 1;
                    continue;
                }
                if (PyErr_Occurred()) {
                    Py_DECREF(group_key);
                    goto fail;
                }
            }
            if (bar == NULL) {
                PyObject *dep = atom(a, b - a, dep_type, cache);
                if (dep == NULL) {
                    Py_XDECREF(group_key);
                    goto give_up;
                }
                item = alternatives ? PyTuple_Pack(1, dep) : Py_NewRef(dep);
                Py_DECREF(dep);
            } else {
                if (!alternatives) goto unusual;
                PyObject *alts = PyList_New(0);
                if (alts == NULL) {
                    Py_DECREF(group_key);
                    goto fail;
                }
                for (const char *alt = a;;) {
                    const char *next = memchr(alt, '|', (size_t)(b - alt));
                    const char *alt_end = next ? next : b;
                    const char *x = alt, *y = alt_end;
                    strip(&x, &y);
                    PyObject *dep = x < y ? atom(x, y - x, dep_type, cache) : NULL;
                    if (dep == NULL || PyList_Append(alts, dep) < 0) {
                        Py_XDECREF(dep);
                        Py_DECREF(alts);
                        Py_DECREF(group_key);
                        goto give_up;
                    }
                    Py_DECREF(dep);
                    if (next == NULL) break;
                    alt = next + 1;
                }
                item = PyList_AsTuple(alts);
                Py_DECREF(alts);
            }
            if (item != NULL && group_key != NULL && PyDict_SetItem(groups, group_key, item) < 0) Py_CLEAR(item);
            Py_XDECREF(group_key);
            if (item == NULL || PyList_Append(out, item) < 0) {
                Py_XDECREF(item);
                goto fail;
            }
            Py_DECREF(item);
        }
        if (comma == NULL) break;
        part = comma + 1;
    }
    PyObject *result = PyList_AsTuple(out);
    Py_DECREF(out);
    return result;
give_up:
    if (PyErr_Occurred()) goto fail;
unusual:
    Py_DECREF(out);
    Py_RETURN_NONE;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"values", values, METH_VARARGS,
     "values(stanza, wanted) -> None | tuple: the wanted fields' values of one Packages stanza of the "
     "usual shape (see repos/deb/_fields.c)."},
    {"relations", relations, METH_VARARGS,
     "relations(text, alternatives, dep_type, cache, groups) -> None | tuple: a relation field of the usual "
     "shape, parsed (see repos/deb/_fields.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_fields", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__fields(void) { return PyModule_Create(&module); }
