/* Where the file entries of a PEP 691 project page are, and their filenames, without building them.
 *
 * A cold solve's biggest pages list thousands of files (pydantic-core's 15,000 in 6.9 MB) of which a
 * target uses a few dozen; `json.loads` built a dict of every entry, and that (with the choice's walk
 * over them) was most of a cold solve's CPU after its imports. This pass checks the whole document
 * as JSON and records, per entry of the top-level "files" array, its filename, whether its "url" is
 * a string, and where its object lies in the bytes; repos/pypi/simple.py then parses (json.loads)
 * only the entries it keeps.
 *
 * It never judges input: anything it does not take exactly as `json.loads` would gives None, and
 * the Python path reads the page, with its own errors. That is: a document that is not strict JSON
 * (json.loads's NaN and Infinity included), not UTF-8, nested deeper than MAX_DEPTH, whose top level
 * is not an object; a "files" that is absent or not an array; a "meta" that is present and not an
 * object, or whose "api-version" is present and not a string; a key among those this pass reads
 * ("files", "meta", "api-version", "filename", "url") given twice in one object (json.loads keeps
 * the last); a filename with an escape or a byte outside ASCII.
 *
 * entries(data) -> None | (api_version, filenames, url_is_text, spans)
 *   api_version:  str, or None when "meta" or its "api-version" is absent
 *   filenames:    list: per entry its "filename" (str), or None when the entry is not an object or its
 *                 filename is absent or not a string
 *   url_is_text:  bytes: per entry 1 when it is an object whose "url" is a string, else 0
 *   spans:        bytes, int64 pairs (native order): entry k is data[spans[2k]:spans[2k+1]]
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 256

typedef struct {
    const unsigned char *p, *end;
    const unsigned char *base; /* the document's first byte: spans are offsets from it */
    int depth;
} Reader;

static void skip_ws(Reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The length of the UTF-8 sequence at p (strict, as Python's decoder: no overlongs, no surrogates,
 * nothing past U+10FFFF), or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    if (c < 0xC2) return 0;
    if (c < 0xE0) return (end - p >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && p[1] >= 0xA0) return 0; /* a surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90) return 0; /* past U+10FFFF */
        return 4;
    }
    return 0;
}

/* A string at r->p (its opening quote). Its contents are [*start, *stop) and *plain says they hold
 * no escape and only ASCII. 0, or -1 when it is not a JSON string. */
static int read_string(Reader *r, const unsigned char **start, const unsigned char **stop, int *plain) {
    const unsigned char *p = r->p + 1;
    *start = p;
    *plain = 1;
    while (p < r->end) {
        unsigned char c = *p;
        if (c == '"') {
            *stop = p;
            r->p = p + 1;
            return 0;
        }
        if (c < 0x20) return -1; /* json.loads is strict: no raw control characters */
        if (c == '\\') {
            *plain = 0;
            if (p + 1 >= r->end) return -1;
            unsigned char e = p[1];
            if (e == 'u') {
                if (r->end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5])) return -1;
                p += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                p += 2;
            } else {
                return -1;
            }
            continue;
        }
        if (c >= 0x80) {
            int n = utf8_len(p, r->end);
            if (!n) return -1;
            *plain = 0;
            p += n;
            continue;
        }
        p++;
    }
    return -1;
}

static int skip_value(Reader *r);

static int skip_number(Reader *r) {
    const unsigned char *p = r->p, *end = r->end;
    if (p < end && *p == '-') p++;
    if (p >= end) return -1;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') p++;
    } else {
        return -1;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    r->p = p;
    return 0;
}

static int skip_literal(Reader *r, const char *word, size_t n) {
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return -1;
    r->p += n;
    return 0;
}

/* Calls `on_key` for each key of the object at r->p (its "{"), with r->p at the key's value; the
 * callback reads or skips the value. 0, or -1. */
typedef int (*KeyFn)(Reader *r, const unsigned char *key, size_t len, int plain, void *ctx);

static int read_object(Reader *r, KeyFn on_key, void *ctx) {
    if (++r->depth > MAX_DEPTH) return -1;
    r->p++; /* { */
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        const unsigned char *ks, *ke;
        int plain;
        if (r->p >= r->end || *r->p != '"' || read_string(r, &ks, &ke, &plain) < 0) return -1;
        /* a key with an escape may spell one this pass reads ("file\u006eame"): Python reads the page */
        if (on_key && !plain) return -1;
        skip_ws(r);
        if (r->p >= r->end || *r->p != ':') return -1;
        r->p++;
        skip_ws(r);
        if (on_key ? on_key(r, ks, (size_t)(ke - ks), plain, ctx) < 0 : skip_value(r) < 0) return -1;
        skip_ws(r);
        if (r->p >= r->end) return -1;
        if (*r->p == ',') {
            r->p++;
            skip_ws(r);
            continue;
        }
        if (*r->p == '}') {
            r->p++;
            r->depth--;
            return 0;
        }
        return -1;
    }
}

static int skip_value(Reader *r) {
    if (r->p >= r->end) return -1;
    switch (*r->p) {
    case '"': {
        const unsigned char *s, *e;
        int plain;
        return read_string(r, &s, &e, &plain);
    }
    case '{':
        return read_object(r, NULL, NULL);
    case '[':
        if (++r->depth > MAX_DEPTH) return -1;
        r->p++;
        skip_ws(r);
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            r->depth--;
            return 0;
        }
        for (;;) {
            if (skip_value(r) < 0) return -1;
            skip_ws(r);
            if (r->p >= r->end) return -1;
            if (*r->p == ',') {
                r->p++;
                skip_ws(r);
                continue;
            }
            if (*r->p == ']') {
                r->p++;
                r->depth--;
                return 0;
            }
            return -1;
        }
    case 't':
        return skip_literal(r, "true", 4);
    case 'f':
        return skip_literal(r, "false", 5);
    case 'n':
        return skip_literal(r, "null", 4);
    default:
        return skip_number(r);
    }
}

static int key_is(const unsigned char *key, size_t len, int plain, const char *word) {
    size_t n = strlen(word);
    return plain && len == n && memcmp(key, word, n) == 0;
}

/* One entry of "files". */
typedef struct {
    PyObject *filename; /* new reference, or NULL */
    int url_is_text;
    int seen_filename, seen_url;
} Entry;

static int entry_key(Reader *r, const unsigned char *key, size_t len, int plain, void *ctx) {
    Entry *e = ctx;
    if (key_is(key, len, plain, "filename") || key_is(key, len, plain, "url")) {
        int is_filename = key[0] == 'f';
        if (is_filename ? e->seen_filename++ : e->seen_url++) return -1; /* given twice */
        if (r->p < r->end && *r->p == '"') {
            const unsigned char *s, *t;
            int text_plain;
            if (read_string(r, &s, &t, &text_plain) < 0) return -1;
            if (!is_filename) {
                e->url_is_text = 1;
                return 0;
            }
            if (!text_plain) return -1; /* an escape or non-ASCII: Python reads the page */
            e->filename = PyUnicode_DecodeASCII((const char *)s, t - s, NULL);
            return e->filename ? 0 : -1;
        }
        return skip_value(r); /* not a string: no filename, or an URL that is not text */
    }
    return skip_value(r);
}

typedef struct {
    PyObject *filenames;
    char *url_ok;
    int64_t *spans;
    size_t n, cap;
} Files;

static int read_files(Reader *r, Files *f) {
    if (r->p >= r->end || *r->p != '[') return -1;
    if (++r->depth > MAX_DEPTH) return -1;
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        if (f->n == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 1024;
            char *u = PyMem_Realloc(f->url_ok, cap);
            if (!u) return -1;
            f->url_ok = u;
            int64_t *s = PyMem_Realloc(f->spans, cap * 2 * sizeof(int64_t));
            if (!s) return -1;
            f->spans = s;
            f->cap = cap;
        }
        const unsigned char *start = r->p;
        Entry e = {NULL, 0, 0, 0};
        int got;
        if (r->p < r->end && *r->p == '{') {
            got = read_object(r, entry_key, &e);
        } else {
            got = skip_value(r);
        }
        if (got < 0) {
            Py_XDECREF(e.filename);
            return -1;
        }
        PyObject *name = e.filename ? e.filename : Py_NewRef(Py_None);
        if (PyList_Append(f->filenames, name) < 0) {
            Py_DECREF(name);
            return -1;
        }
        Py_DECREF(name);
        f->url_ok[f->n] = (char)e.url_is_text;
        f->spans[2 * f->n] = (int64_t)(start - r->base);
        f->spans[2 * f->n + 1] = (int64_t)(r->p - r->base);
        f->n++;
        skip_ws(r);
        if (r->p >= r->end) return -1;
        if (*r->p == ',') {
            r->p++;
            skip_ws(r);
            continue;
        }
        if (*r->p == ']') {
            r->p++;
            r->depth--;
            return 0;
        }
        return -1;
    }
}

typedef struct {
    Files *files;
    int seen_files, seen_meta;
    PyObject *api; /* new reference, or NULL */
} Top;

typedef struct {
    PyObject **api;
    int seen;
} Meta;

static int meta_key(Reader *r, const unsigned char *key, size_t len, int plain, void *ctx) {
    Meta *m = ctx;
    if (!key_is(key, len, plain, "api-version")) return skip_value(r);
    if (m->seen++) return -1;
    if (r->p >= r->end || *r->p != '"') return -1; /* not a string: Python reads the page */
    const unsigned char *s, *t;
    int text_plain;
    if (read_string(r, &s, &t, &text_plain) < 0 || !text_plain) return -1;
    *m->api = PyUnicode_DecodeASCII((const char *)s, t - s, NULL);
    return *m->api ? 0 : -1;
}

static int top_key(Reader *r, const unsigned char *key, size_t len, int plain, void *ctx) {
    Top *t = ctx;
    if (key_is(key, len, plain, "files")) {
        if (t->seen_files++) return -1;
        return read_files(r, t->files);
    }
    if (key_is(key, len, plain, "meta")) {
        if (t->seen_meta++) return -1;
        if (r->p >= r->end || *r->p != '{') return -1;
        Meta m = {&t->api, 0};
        return read_object(r, meta_key, &m);
    }
    return skip_value(r);
}

static PyObject *entries(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *data = view.buf;
    Reader r = {data, data + view.len, data, 0};
    Files files = {PyList_New(0), NULL, NULL, 0, 0};
    Top top = {&files, 0, 0, NULL};
    PyObject *result = NULL;
    if (!files.filenames) goto done;
    skip_ws(&r);
    if (r.p >= r.end || *r.p != '{' || read_object(&r, top_key, &top) < 0) goto fallback;
    skip_ws(&r);
    if (r.p != r.end || !top.seen_files) goto fallback;
    PyObject *url_ok = PyBytes_FromStringAndSize(files.url_ok ? files.url_ok : "", (Py_ssize_t)files.n);
    PyObject *spans = PyBytes_FromStringAndSize(files.spans ? (const char *)files.spans : "",
                                                (Py_ssize_t)(2 * files.n * sizeof(int64_t)));
    if (url_ok && spans) {
        result = PyTuple_Pack(4, top.api ? top.api : Py_None, files.filenames, url_ok, spans);
    }
    Py_XDECREF(url_ok);
    Py_XDECREF(spans);
    goto done;
fallback:
    if (PyErr_Occurred()) goto done; /* out of memory: raised as such */
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(top.api);
    Py_XDECREF(files.filenames);
    PyMem_Free(files.url_ok);
    PyMem_Free(files.spans);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"entries", entries, METH_O, "The file entries of a PEP 691 page: (api_version, filenames, url_is_text, spans), or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_page", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__page(void) { return PyModule_Create(&module); }
