/* The file entries of a PEP 691 project page, grouped as json_page_releases groups them, unbuilt.
 *
 * A cold solve's biggest pages list thousands of files (pydantic-core's 15,000 in 6.9 MB) of which a
 * target uses a few dozen; `json.loads` built a dict of every entry, and that (with the Python loop
 * over them) was most of a cold solve's CPU after its imports. This pass checks the whole document
 * as JSON; for each entry of the top-level "files" array it reads only the filename and whether the
 * url is a string, notes where the entry's object lies in the bytes, and groups the wheels and
 * sdists as repos/pypi/simple.py's `json_page_releases` does, asking the target's file choice
 * (`may_install`) once per wheel tags part. Python then parses only the entries it reads.
 *
 * It never judges input: anything it does not take exactly as `json.loads` would gives None, and
 * the Python path reads the page, with its own errors. That is: a document that is not strict JSON
 * (json.loads's NaN and Infinity included), not UTF-8, nested deeper than MAX_DEPTH, whose top level
 * is not an object; a "files" that is absent or not an array; a "meta" that is present and not an
 * object, or whose "api-version" is present and not a string; a key among those this pass reads
 * ("files", "meta", "api-version", "filename", "url") given twice in one object (json.loads keeps
 * the last); a filename with an escape or a byte outside ASCII.
 *
 * scan(data, may_install) -> None | (api_version, listed, first_bad, groups, spans, ascii)
 *   api_version:  str, or None when "meta" or its "api-version" is absent
 *   listed:       whether an entry names a wheel or an sdist (json_page_releases's `listed`)
 *   first_bad:    the first entry json_page_releases raises for (its filename missing or not a
 *                 string, or a wheel's or sdist's url missing or not a string), or -1
 *   groups:       [(key, is_sdist, positions, serving)] in the order met: the wheels of one
 *                 name-version part (key: the filename up to its second dash; five or six dash-separated
 *                 parts only) or one sdist (key: its filename); positions and serving are int32 arrays
 *                 (bytes, native order) of the entry numbers, and of those `may_install` accepts
 *                 (asked once per wheel tags part, the filename from its second dash)
 *   spans:        bytes, int64 pairs (native order): entry k is data[spans[2k]:spans[2k+1]]
 *   ascii:        whether every byte of the page is ASCII (then a character index is a byte index)
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
    int non_ascii; /* a byte past 0x7F was met (only strings may hold one) */
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
            r->non_ascii = 1;
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

/* At a container's opening byte: 1 when items follow, 0 when it is empty (and read), -1 when it
 * nests too deep. */
static int open_container(Reader *r, unsigned char close) {
    if (++r->depth > MAX_DEPTH) return -1;
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 0;
    }
    return 1;
}

/* After an item: 1 when a comma follows (another item), 0 when `close` ends the container (read),
 * -1 otherwise. */
static int next_item(Reader *r, unsigned char close) {
    skip_ws(r);
    if (r->p >= r->end) return -1;
    if (*r->p == ',') {
        r->p++;
        skip_ws(r);
        return 1;
    }
    if (*r->p == close) {
        r->p++;
        r->depth--;
        return 0;
    }
    return -1;
}

static int read_object(Reader *r, KeyFn on_key, void *ctx) {
    int more = open_container(r, '}');
    while (more > 0) {
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
        more = next_item(r, '}');
    }
    return more;
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
    case '[': {
        int more = open_container(r, ']');
        while (more > 0) {
            if (skip_value(r) < 0) return -1;
            more = next_item(r, ']');
        }
        return more;
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

/* One entry of "files": where its filename lies (ASCII, no escape), and whether its url is a string. */
typedef struct {
    const unsigned char *name;
    size_t name_len;
    int has_name, url_is_text, seen_filename, seen_url;
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
            e->name = s;
            e->name_len = (size_t)(t - s);
            e->has_name = 1;
            return 0;
        }
        return skip_value(r); /* not a string: no filename, or an URL that is not text */
    }
    return skip_value(r);
}

/* Room for one more element in *v (n used of *cap, `size` bytes each, `first` the first capacity):
 * 0, or -1 without memory. (repos/deb/_scan.c grows its arrays the same way.) */
static int make_room(void **v, size_t n, size_t *cap, size_t size, size_t first) {
    if (n < *cap) return 0;
    size_t grown = *cap ? *cap * 2 : first;
    void *moved = PyMem_Realloc(*v, grown * size);
    if (!moved) return -1;
    *v = moved;
    *cap = grown;
    return 0;
}

/* A growable int32 array. */
typedef struct {
    int32_t *v;
    size_t n, cap;
} Ints;

static int ints_push(Ints *a, int32_t x) {
    if (make_room((void **)&a->v, a->n, &a->cap, sizeof x, 8) < 0) return -1;
    a->v[a->n++] = x;
    return 0;
}

/* A map from byte strings (in the document) to int64 values: open addressing, FNV-1a. */
typedef struct {
    const unsigned char *key;
    size_t len;
    int64_t value;
} Slot;

typedef struct {
    Slot *slots;
    size_t cap, n;
} Map;

static uint64_t fnv1a(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* The slot of `key`, added (value -1) when absent; NULL without memory. */
static Slot *map_slot(Map *m, const unsigned char *key, size_t len) {
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        Slot *slots = PyMem_Calloc(cap, sizeof(Slot));
        if (!slots) return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key) continue;
            size_t j = fnv1a(m->slots[i].key, m->slots[i].len) & (cap - 1);
            while (slots[j].key) j = (j + 1) & (cap - 1);
            slots[j] = m->slots[i];
        }
        PyMem_Free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    size_t j = fnv1a(key, len) & (m->cap - 1);
    while (m->slots[j].key) {
        if (m->slots[j].len == len && memcmp(m->slots[j].key, key, len) == 0) return &m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j].key = key;
    m->slots[j].len = len;
    m->slots[j].value = -1;
    m->n++;
    return &m->slots[j];
}

/* A group of entries: a wheel's name-version part, or one sdist's filename. */
typedef struct {
    const unsigned char *key;
    size_t len;
    int sdist;
    Ints all, serving;
} Group;

typedef struct {
    PyObject *may_install; /* FileChoice.may_install */
    int64_t *spans;
    size_t n, cap;
    Group *groups;
    size_t n_groups, cap_groups;
    Map wheel_heads, sdists, tags; /* -> group number; tags -> may_install's answer */
    Py_ssize_t first_bad;
    int listed;
} Scan;

static int ends_with(const unsigned char *s, size_t n, const char *suffix) {
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* json_page_releases's `_KEEP` */
static int is_sdist_name(const unsigned char *s, size_t n) {
    return ends_with(s, n, ".tar.gz") || ends_with(s, n, ".zip") || ends_with(s, n, ".tar.bz2") ||
           ends_with(s, n, ".tgz");
}

static int may_install(Scan *sc, const unsigned char *name, size_t len) {
    PyObject *text = PyUnicode_DecodeASCII((const char *)name, (Py_ssize_t)len, NULL);
    if (!text) return -1;
    PyObject *got = PyObject_CallOneArg(sc->may_install, text);
    Py_DECREF(text);
    if (!got) return -1;
    int ok = PyObject_IsTrue(got);
    Py_DECREF(got);
    return ok;
}

/* The group of `key`, made when new: its number, or -1 without memory. */
static Py_ssize_t group_of(Scan *sc, Map *m, const unsigned char *key, size_t len, int sdist) {
    Slot *slot = map_slot(m, key, len);
    if (!slot) return -1;
    if (slot->value >= 0) return (Py_ssize_t)slot->value;
    if (make_room((void **)&sc->groups, sc->n_groups, &sc->cap_groups, sizeof(Group), 64) < 0) return -1;
    Group *g = &sc->groups[sc->n_groups];
    memset(g, 0, sizeof(Group));
    g->key = key;
    g->len = len;
    g->sdist = sdist;
    slot->value = (int64_t)sc->n_groups;
    return (Py_ssize_t)sc->n_groups++;
}

/* What json_page_releases's loop does with entry k: skipped (not a wheel or sdist), or its
 * filename or url missing (the first such is where Python raises), or grouped. 0, or -1. */
static int place(Scan *sc, Py_ssize_t k, const Entry *e) {
    if (sc->first_bad >= 0) return 0; /* Python raises there: the rest is only checked as JSON */
    if (e->has_name && !ends_with(e->name, e->name_len, ".whl") && !is_sdist_name(e->name, e->name_len))
        return 0; /* eggs, installers: never candidates */
    if (!e->has_name || !e->url_is_text) {
        sc->first_bad = k;
        return 0;
    }
    sc->listed = 1;
    const unsigned char *name = e->name;
    size_t len = e->name_len;
    Py_ssize_t g;
    int ok;
    if (ends_with(name, len, ".whl")) {
        size_t dashes = 0, first = 0, second = 0;
        for (size_t i = 0; i < len; i++) {
            if (name[i] != '-') continue;
            dashes++;
            if (dashes == 1) first = i;
            if (dashes == 2) second = i;
        }
        (void)first;
        if (dashes < 4 || dashes > 5) return 0; /* as split_filename: five or six parts */
        g = group_of(sc, &sc->wheel_heads, name, second, 0);
        if (g < 0) return -1;
        Slot *t = map_slot(&sc->tags, name + second, len - second);
        if (!t) return -1;
        if (t->value < 0) {
            int answer = may_install(sc, name, len);
            if (answer < 0) return -1;
            t->value = answer;
        }
        ok = (int)t->value;
    } else {
        g = group_of(sc, &sc->sdists, name, len, 1);
        if (g < 0) return -1;
        ok = may_install(sc, name, len);
        if (ok < 0) return -1;
    }
    Group *grp = &sc->groups[g];
    if (ints_push(&grp->all, (int32_t)k) < 0) return -1;
    if (ok && ints_push(&grp->serving, (int32_t)k) < 0) return -1;
    return 0;
}

static int read_files(Reader *r, Scan *sc) {
    if (r->p >= r->end || *r->p != '[') return -1;
    int more = open_container(r, ']');
    while (more > 0) {
        if (make_room((void **)&sc->spans, sc->n, &sc->cap, 2 * sizeof(int64_t), 1024) < 0) return -1;
        if (sc->n > INT32_MAX) return -1;
        const unsigned char *start = r->p;
        Entry e = {NULL, 0, 0, 0, 0, 0};
        if ((r->p < r->end && *r->p == '{') ? read_object(r, entry_key, &e) < 0 : skip_value(r) < 0) return -1;
        sc->spans[2 * sc->n] = (int64_t)(start - r->base);
        sc->spans[2 * sc->n + 1] = (int64_t)(r->p - r->base);
        if (place(sc, (Py_ssize_t)sc->n, &e) < 0) return -1;
        sc->n++;
        more = next_item(r, ']');
    }
    return more;
}

typedef struct {
    Scan *scan;
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
        return read_files(r, t->scan);
    }
    if (key_is(key, len, plain, "meta")) {
        if (t->seen_meta++) return -1;
        if (r->p >= r->end || *r->p != '{') return -1;
        Meta m = {&t->api, 0};
        return read_object(r, meta_key, &m);
    }
    return skip_value(r);
}

static PyObject *ints_bytes(const Ints *a) {
    return PyBytes_FromStringAndSize(a->v ? (const char *)a->v : "", (Py_ssize_t)(a->n * sizeof(int32_t)));
}

static PyObject *result_of(Scan *sc, PyObject *api, int ascii) {
    PyObject *groups = PyList_New((Py_ssize_t)sc->n_groups);
    if (!groups) return NULL;
    for (size_t i = 0; i < sc->n_groups; i++) {
        Group *g = &sc->groups[i];
        PyObject *key = PyUnicode_DecodeASCII((const char *)g->key, (Py_ssize_t)g->len, NULL);
        PyObject *all = key ? ints_bytes(&g->all) : NULL;
        PyObject *serving = all ? ints_bytes(&g->serving) : NULL;
        PyObject *item = serving ? PyTuple_Pack(4, key, g->sdist ? Py_True : Py_False, all, serving) : NULL;
        Py_XDECREF(key);
        Py_XDECREF(all);
        Py_XDECREF(serving);
        if (!item) {
            Py_DECREF(groups);
            return NULL;
        }
        PyList_SET_ITEM(groups, (Py_ssize_t)i, item);
    }
    PyObject *spans = PyBytes_FromStringAndSize(sc->spans ? (const char *)sc->spans : "",
                                                (Py_ssize_t)(2 * sc->n * sizeof(int64_t)));
    PyObject *out = NULL;
    if (spans) {
        out = Py_BuildValue("(OOnOOO)", api ? api : Py_None, sc->listed ? Py_True : Py_False, sc->first_bad, groups,
                            spans, ascii ? Py_True : Py_False);
    }
    Py_XDECREF(spans);
    Py_DECREF(groups);
    return out;
}

static PyObject *scan(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    PyObject *may;
    if (!PyArg_ParseTuple(args, "y*O:scan", &view, &may)) return NULL;
    const unsigned char *data = view.buf;
    Reader r = {data, data + view.len, data, 0, 0};
    Scan sc;
    memset(&sc, 0, sizeof sc);
    sc.may_install = may;
    sc.first_bad = -1;
    Top top = {&sc, 0, 0, NULL};
    PyObject *result = NULL;
    skip_ws(&r);
    if (r.p >= r.end || *r.p != '{' || read_object(&r, top_key, &top) < 0) goto fallback;
    skip_ws(&r);
    if (r.p != r.end || !top.seen_files) goto fallback;
    result = result_of(&sc, top.api, !r.non_ascii);
    goto done;
fallback:
    if (PyErr_Occurred()) goto done; /* out of memory, or may_install raised: raised as such */
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(top.api);
    for (size_t i = 0; i < sc.n_groups; i++) {
        PyMem_Free(sc.groups[i].all.v);
        PyMem_Free(sc.groups[i].serving.v);
    }
    PyMem_Free(sc.groups);
    PyMem_Free(sc.spans);
    PyMem_Free(sc.wheel_heads.slots);
    PyMem_Free(sc.sdists.slots);
    PyMem_Free(sc.tags.slots);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, "A PEP 691 page's entries, grouped: see the file's comment; None to leave it to Python."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_page", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__page(void) { return PyModule_Create(&module); }
