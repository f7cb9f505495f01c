/* One pass over a Packages text: where its stanzas are, their names, their Provides and base fields.
 *
 * The compiled twin of the C-level passes in repos/deb/cache.py (`_scan_python`), for the usual layout
 * only: LF line ends, single blank lines between stanzas, every stanza starting with its Package field,
 * every line a field ("Name: value"), a continuation (space or tab first) or the blank line between
 * stanzas. Anything else (comments, CR, NUL, runs of blank lines, a malformed line, a stanza not
 * starting with Package, an empty name) gives None, and the Python code decides, with its own errors
 * and line numbers. So this file never judges input: it only finds, fast, what Python would find.
 *
 * scan(data) -> None | (starts, ends, names, provides, base_at)
 *   starts, ends:  uint32 arrays (bytes, native order): stanza k is data[starts[k]:ends[k]], without
 *                  the newline that ends its last line
 *   names:         list of bytes, the Package value of each stanza (spaces and tabs around it dropped)
 *   provides:      dict: provided name -> list of the names of the packages providing it, in file
 *                  order, each once (what `_provides_map` makes of the Provides fields: whitespace
 *                  dropped, then versions "(= 1)", architecture lists "[amd64]" and qualifiers ":any";
 *                  an unclosed "(" or "[" is left to Python)
 *   base_at:       uint32 array: the stanza numbers of "Essential: yes" / "Priority: required" lines
 *                  (trailing spaces and tabs allowed, as `_BASE` allows)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Growable arrays (the GIL is released while they grow: PyMem_Raw*). */
typedef struct {
    uint32_t *v;
    size_t n, cap;
} Vec;

typedef struct {
    char *v;
    size_t n, cap;
} Chars;

/* Room for one more element in *v (n used of *cap, `size` bytes each): 0, or -1 without memory. */
static int make_room(void **v, size_t n, size_t *cap, size_t size) {
    if (n < *cap) return 0;
    size_t grown = *cap ? *cap * 2 : 4096;
    void *moved = PyMem_RawRealloc(*v, grown * size);
    if (moved == NULL) return -1;
    *v = moved;
    *cap = grown;
    return 0;
}

static int vec_push(Vec *a, uint32_t x) {
    if (make_room((void **)&a->v, a->n, &a->cap, sizeof x)) return -1;
    a->v[a->n++] = x;
    return 0;
}

static int chars_push(Chars *a, char c) {
    if (make_room((void **)&a->v, a->n, &a->cap, sizeof c)) return -1;
    a->v[a->n++] = c;
    return 0;
}

enum { OK = 0, UNUSUAL = 1, NO_MEMORY = 2 };

/* The provided names of one Provides value s[from:to] (continuation lines included), appended to
 * `text` with, for each, where it ends in `text` (`ends`) and the stanza providing it (`owner`). */
static int provided_names(const char *s, size_t from, size_t to, uint32_t stanza, Chars *text, Vec *ends,
                          Vec *owner) {
    size_t begin = text->n;
    for (size_t i = from; i <= to; i++) {
        char c = i < to ? s[i] : ',';
        if (c == ' ' || c == '\t' || c == '\n') continue;
        if (c == '(' || c == '[') {
            const char *close = memchr(s + i, c == '(' ? ')' : ']', to - i);
            if (close == NULL) return UNUSUAL;
            i = (size_t)(close - s);
        } else if (c == ':') {
            while (i + 1 < to && s[i + 1] != ',') i++;
        } else if (c == ',') {
            if (text->n > begin) {
                if (vec_push(ends, (uint32_t)text->n) || vec_push(owner, stanza)) return NO_MEMORY;
                begin = text->n;
            }
        } else if (chars_push(text, c)) {
            return NO_MEMORY;
        }
    }
    return OK;
}

static int starts_with(const char *s, size_t len, const char *prefix, size_t plen) {
    return len >= plen && memcmp(s, prefix, plen) == 0;
}

/* Whether s[from:to] holds only spaces and tabs. */
static int blank_from(const char *s, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        if (s[i] != ' ' && s[i] != '\t') return 0;
    return 1;
}

/* The pass itself: plain C on the buffer, run without the GIL. Names and Provides values are kept as
 * (offset, length) pairs and become bytes objects afterwards. */
static int walk(const char *s, size_t n, Vec *starts, Vec *ends, Vec *name_at, Vec *name_len,
                Vec *prov_stanza, Vec *prov_from, Vec *prov_to, Vec *base_at, Chars *provided,
                Vec *provided_end, Vec *provided_by) {
    if (n == 0 || memchr(s, '\0', n) != NULL || memchr(s, '\r', n) != NULL) return UNUSUAL;
    int expecting = 1;        /* the next line starts a stanza */
    int in_provides = 0;      /* the field being read is Provides (its continuation lines count) */
    uint32_t stanza = 0;      /* number of the current stanza */
    size_t ls = 0;
    while (ls < n) {
        const char *nl = memchr(s + ls, '\n', n - ls);
        size_t le = nl ? (size_t)(nl - s) : n;
        size_t len = le - ls;
        const char *line = s + ls;
        if (len == 0) {
            if (expecting) return UNUSUAL; /* a blank line first, or a run of blank lines */
            if (vec_push(ends, (uint32_t)(ls - 1))) return NO_MEMORY;
            expecting = 1;
            in_provides = 0;
        } else if (expecting) {
            if (!starts_with(line, len, "Package:", 8)) return UNUSUAL;
            size_t a = ls + 8, b = le;
            while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
            if (a == b) return UNUSUAL;
            stanza = (uint32_t)starts->n;
            if (vec_push(starts, (uint32_t)ls) || vec_push(name_at, (uint32_t)a) ||
                vec_push(name_len, (uint32_t)(b - a)))
                return NO_MEMORY;
            expecting = 0;
            in_provides = 0;
        } else if (line[0] == ' ' || line[0] == '\t') {
            if (in_provides) prov_to->v[prov_to->n - 1] = (uint32_t)le;
        } else if (line[0] == '#' || memchr(line, ':', len) == NULL) {
            return UNUSUAL; /* a comment or a malformed line: Python's path reports it */
        } else {
            in_provides = starts_with(line, len, "Provides:", 9);
            if (in_provides) {
                if (vec_push(prov_stanza, stanza) || vec_push(prov_from, (uint32_t)(ls + 9)) ||
                    vec_push(prov_to, (uint32_t)le))
                    return NO_MEMORY;
            } else if ((starts_with(line, len, "Essential: yes", 14) && blank_from(s, ls + 14, le)) ||
                       (starts_with(line, len, "Priority: required", 18) && blank_from(s, ls + 18, le))) {
                if (vec_push(base_at, stanza)) return NO_MEMORY;
            }
        }
        ls = le + 1;
    }
    if (!expecting) {
        /* the last stanza ends at the end of the text, or before its final newline */
        if (vec_push(ends, (uint32_t)(s[n - 1] == '\n' ? n - 1 : n))) return NO_MEMORY;
    }
    if (starts->n == 0) return UNUSUAL;
    for (size_t k = 0; k < prov_stanza->n; k++) {
        int status = provided_names(s, prov_from->v[k], prov_to->v[k], prov_stanza->v[k], provided,
                                    provided_end, provided_by);
        if (status != OK) return status;
    }
    return OK;
}

static PyObject *name_list(const char *s, const Vec *at, const Vec *len) {
    PyObject *out = PyList_New((Py_ssize_t)at->n);
    if (out == NULL) return NULL;
    for (size_t i = 0; i < at->n; i++) {
        PyObject *b = PyBytes_FromStringAndSize(s + at->v[i], (Py_ssize_t)len->v[i]);
        if (b == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, b);
    }
    return out;
}

/* provided name -> [owner names], first-seen order, each owner once (as `_provides_map`). */
static PyObject *provides_map(PyObject *names, const Chars *text, const Vec *end, const Vec *by) {
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
    size_t begin = 0;
    for (size_t k = 0; k < end->n; k++) {
        PyObject *key = PyBytes_FromStringAndSize(text->v + begin, (Py_ssize_t)(end->v[k] - begin));
        begin = end->v[k];
        if (key == NULL) goto fail;
        PyObject *owner = PyList_GET_ITEM(names, (Py_ssize_t)by->v[k]);
        PyObject *owners = PyDict_GetItemWithError(out, key); /* borrowed */
        int status;
        if (owners == NULL) {
            if (PyErr_Occurred()) status = -1;
            else {
                PyObject *fresh = PyList_New(1);
                if (fresh == NULL) status = -1;
                else {
                    Py_INCREF(owner);
                    PyList_SET_ITEM(fresh, 0, owner);
                    status = PyDict_SetItem(out, key, fresh);
                    Py_DECREF(fresh);
                }
            }
        } else {
            status = PySequence_Contains(owners, owner);
            if (status == 0) status = PyList_Append(owners, owner);
            else if (status == 1) status = 0;
        }
        Py_DECREF(key);
        if (status < 0) goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyObject *as_bytes(const Vec *a) {
    return PyBytes_FromStringAndSize((const char *)a->v, (Py_ssize_t)(a->n * sizeof(uint32_t)));
}

static PyObject *scan(PyObject *module, PyObject *arg) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if ((size_t)view.len >= UINT32_MAX) { /* offsets are 32-bit, as in the cache's span tables */
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    Vec starts = {0}, ends = {0}, name_at = {0}, name_len = {0}, base_at = {0};
    Vec prov_stanza = {0}, prov_from = {0}, prov_to = {0}, provided_end = {0}, provided_by = {0};
    Chars provided = {0};
    Vec *vecs[] = {&starts,   &ends,    &name_at,      &name_len,    &base_at,
                   &prov_stanza, &prov_from, &prov_to, &provided_end, &provided_by};
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = walk(view.buf, (size_t)view.len, &starts, &ends, &name_at, &name_len, &prov_stanza,
                  &prov_from, &prov_to, &base_at, &provided, &provided_end, &provided_by);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (status == NO_MEMORY) {
        PyErr_NoMemory();
    } else if (status == UNUSUAL) {
        result = Py_NewRef(Py_None);
    } else {
        PyObject *names = name_list(view.buf, &name_at, &name_len);
        PyObject *provides = names ? provides_map(names, &provided, &provided_end, &provided_by) : NULL;
        if (provides != NULL)
            result = Py_BuildValue("(NNNNN)", as_bytes(&starts), as_bytes(&ends), names, provides,
                                   as_bytes(&base_at));
        else
            Py_XDECREF(names);
    }
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) PyMem_RawFree(vecs[i]->v);
    PyMem_RawFree(provided.v);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_O,
     "scan(data) -> None | (starts, ends, names, provides, base_at): one pass over a "
     "Packages text of the usual layout (see repos/deb/_scan.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_scan", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
