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

static PyMethodDef methods[] = {
    {"values", values, METH_VARARGS,
     "values(stanza, wanted) -> None | tuple: the wanted fields' values of one Packages stanza of the "
     "usual shape (see repos/deb/_fields.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_fields", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__fields(void) { return PyModule_Create(&module); }
