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
#include <stdint.h>
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

/* Is s[0:n] (starting with a byte >= 0x80) nothing but whitespace to Python (str.isspace: U+00A0,
 * U+2028 ...)? The reader strips such a line to nothing, a blank line; so does this file for the ASCII
 * spaces only, and leaves the others to it. Not UTF-8 counts as yes: the reader decides that too. */
static int only_python_space(const char *s, Py_ssize_t n) {
    PyObject *text = PyUnicode_DecodeUTF8(s, n, "strict");
    if (text == NULL) {
        PyErr_Clear();
        return 1;
    }
    int all = 1;
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(text) && all; i++)
        all = Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(text, i));
    Py_DECREF(text);
    return all;
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

/* Field names are found by a case-insensitive hash (FNV-1a of the lower-cased bytes) in two small
 * open-addressing tables: the wanted names (built once per `wanted` tuple, which is held while the
 * table is), and the names met so far in the stanza (the "twice" check). A linear scan of both, a name
 * against every earlier name and every wanted one, was most of values()' own time (perf annotate,
 * bookworm main). */
#define WANT_SLOTS 128  /* > MAX_WANTED: a probe always ends at an empty slot */
#define FIELD_SLOTS 256 /* > MAX_FIELDS */

static uint32_t fnv_step(uint32_t h, unsigned char c) { return (h ^ lower(c)) * 16777619u; }

static PyObject *hashed_wanted = NULL; /* the tuple the table below is for (a strong reference) */
static unsigned char want_slot[WANT_SLOTS]; /* index + 1 of a wanted name, at its hash; 0: empty */
static uint32_t want_hash[MAX_WANTED];

static void hash_wanted(PyObject *wanted, const char **want, const Py_ssize_t *want_len, Py_ssize_t n) {
    if (wanted == hashed_wanted) return;
    memset(want_slot, 0, sizeof want_slot);
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t h = 2166136261u;
        for (Py_ssize_t k = 0; k < want_len[i]; k++) h = fnv_step(h, (unsigned char)want[i][k]);
        want_hash[i] = h;
        size_t slot = h & (WANT_SLOTS - 1);
        while (want_slot[slot]) slot = (slot + 1) & (WANT_SLOTS - 1);
        want_slot[slot] = (unsigned char)(i + 1); /* in order: a probe meets an earlier duplicate first */
    }
    Py_INCREF(wanted);
    Py_XSETREF(hashed_wanted, wanted);
}

/* values() of the stanza s[0:len]; `wanted` is a tuple (checked by the callers). */
static PyObject *values_of(const char *stanza, Py_ssize_t len, PyObject *wanted) {
    Py_ssize_t n_wanted = PyTuple_GET_SIZE(wanted);
    const char *want[MAX_WANTED];
    Py_ssize_t want_len[MAX_WANTED];
    const char *at[MAX_WANTED];  /* value start (after the colon) of each wanted field found */
    const char *end[MAX_WANTED]; /* and the end of its last line */
    const char *name_at[MAX_FIELDS];
    size_t name_len[MAX_FIELDS];
    uint32_t name_hash[MAX_FIELDS];
    unsigned char field_slot[FIELD_SLOTS]; /* index + 1 of a name met, at its hash; 0: empty */
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
    hash_wanted(wanted, want, want_len, n_wanted);
    memset(field_slot, 0, sizeof field_slot);
    const char *s = stanza, *stop = s + len;
    if (memchr(s, '\r', (size_t)len) || memchr(s, '\0', (size_t)len)) goto unusual;
    int high = 0; /* a byte >= 0x80 somewhere: the whole stanza must be UTF-8 (eight bytes at a time) */
    Py_ssize_t i8 = 0;
    for (; i8 + 8 <= len && !high; i8 += 8) {
        uint64_t w;
        memcpy(&w, s + i8, 8);
        high = (w & 0x8080808080808080ULL) != 0;
    }
    for (; i8 < len && !high; i8++) high = (unsigned char)s[i8] >= 0x80;
    int started = 0, ended = 0;
    Py_ssize_t current = -1; /* the wanted field the last field line opened, or -1 */
    for (const char *line = s; line < stop;) {
        const char *nl = memchr(line, '\n', (size_t)(stop - line));
        const char *eol = nl ? nl : stop;
        const char *p = line;
        while (p < eol && is_space((unsigned char)*p)) p++;
        if (p < eol && (unsigned char)*p >= 0x80 && only_python_space(p, eol - p)) goto unusual;
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
            uint32_t h = 2166136261u;
            for (const char *k = line; k < colon; k++) {
                if ((unsigned char)*k <= ' ' || (unsigned char)*k >= 0x7f) goto unusual;
                h = fnv_step(h, (unsigned char)*k);
            }
            size_t klen = (size_t)(colon - line);
            if (names == MAX_FIELDS) goto unusual;
            size_t slot = h & (FIELD_SLOTS - 1);
            for (; field_slot[slot]; slot = (slot + 1) & (FIELD_SLOTS - 1)) {
                size_t j = field_slot[slot] - 1u;
                if (name_hash[j] == h && same_name(name_at[j], name_len[j], line, klen)) goto unusual;
            }
            field_slot[slot] = (unsigned char)(names + 1);
            name_at[names] = line;
            name_hash[names] = h;
            name_len[names++] = klen;
            started = 1;
            current = -1;
            for (slot = h & (WANT_SLOTS - 1); want_slot[slot]; slot = (slot + 1) & (WANT_SLOTS - 1)) {
                Py_ssize_t i = want_slot[slot] - 1;
                if (i < n_wanted && want_hash[i] == h && same_name(want[i], (size_t)want_len[i], line, klen)) {
                    current = i;
                    at[i] = colon + 1;
                    end[i] = eol;
                    break;
                }
            }
        }
        line = nl ? nl + 1 : stop;
    }
    if (high && !valid_utf8(s, len)) goto unusual;
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
    return result;
}

static PyObject *values(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer view;
    PyObject *wanted;
    if (!PyArg_ParseTuple(args, "y*O!", &view, &PyTuple_Type, &wanted)) return NULL;
    PyObject *result = values_of(view.buf, view.len, wanted);
    PyBuffer_Release(&view);
    return result;
}

/* ---- relation fields (Debian Policy §7.1) ----------------------------------------------------------
 *
 * relations(text, alternatives, dep_type, cache, groups[, dep_fields]) -> None | tuple
 *   text:          a relation field's value (str)
 *   alternatives:  True for Depends-like fields (a tuple of OR groups, each a tuple of atoms), False for
 *                  Conflicts-like ones (a tuple of atoms; a "|" gives None)
 *   dep_type:      called as dep_type(name, op, version, arch) to make an atom (solver.model.Dep); or,
 *                  given dep_fields (a 6th argument: the names of its four fields, in that order), made
 *                  as object.__new__ and object.__setattr__ make it (the dataclass's __init__ is Python)
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
static PyObject *new_frozen(PyObject *type, PyObject *fields, PyObject **values, Py_ssize_t n);

static PyObject *atom(const char *s, Py_ssize_t n, PyObject *dep_type, PyObject *dep_fields, PyObject *cache) {
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
    if (args[0] && args[1] && args[2] && args[3])
        dep = dep_fields ? new_frozen(dep_type, dep_fields, args, 4) : PyObject_Vectorcall(dep_type, args, 4, NULL);
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

/* relations() of `text` (a str); dep_fields may be NULL. */
static PyObject *relations_of(PyObject *text, int alternatives, PyObject *dep_type, PyObject *dep_fields,
                              PyObject *cache, PyObject *groups) {
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
                PyObject *dep = atom(a, b - a, dep_type, dep_fields, cache);
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
                    PyObject *dep = x < y ? atom(x, y - x, dep_type, dep_fields, cache) : NULL;
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

static PyObject *relations(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *text, *dep_type, *cache, *groups, *dep_fields = NULL;
    int alternatives;
    if (!PyArg_ParseTuple(args, "UpOO!O!|O!", &text, &alternatives, &dep_type, &PyDict_Type, &cache, &PyDict_Type,
                          &groups, &PyTuple_Type, &dep_fields))
        return NULL;
    return relations_of(text, alternatives, dep_type, dep_fields, cache, groups);
}

/* ---- a whole candidate ---------------------------------------------------------------------------
 *
 * candidate(stanza, context, repository, rank) -> None | DebCandidate
 *   context:  (wanted, candidate_type, candidate_fields, origin_type, origin_fields, dep_type, dep_fields,
 *             atoms, groups),
 *             made once by repos/deb/packages.py: `wanted` as for values(); the two types are frozen
 *             dataclasses with slots (solver.model.DebCandidate and Origin) and their field names in
 *             the order filled here (packages.py checks they are all the fields); the rest as for
 *             relations()
 * What `packages._candidate` makes of values() and relations() for a stanza of the usual shape, built
 * here: a valid version (and Source version), Size digits, a 64-character SHA256, a Filename, ASCII
 * Source/Multi-Arch/Essential values. Anything else gives None and the Python path decides, with its
 * errors. The objects are made as `object.__new__` and `object.__setattr__` make them (a frozen
 * dataclass's own __init__ is Python code). Profile behind it (2,000 random roots of bookworm main,
 * 10,696 stanzas): `_candidate` and the dataclass __init__s were 0.08 s of the 0.17 s spent turning
 * stanzas into candidates, past values() and relations(). */

enum { F_PACKAGE, F_VERSION, F_ARCH, F_DEPENDS, F_PRE_DEPENDS, F_RECOMMENDS, F_CONFLICTS, F_BREAKS, F_PROVIDES,
       F_SOURCE, F_SIZE, F_FILENAME, F_SHA256, F_MULTI_ARCH, F_ESSENTIAL, F_PRIORITY, N_FIELDS };
enum { C_NAME, C_VERSION, C_ARCH, C_DEPENDS, C_PRE_DEPENDS, C_RECOMMENDS, C_CONFLICTS, C_BREAKS, C_PROVIDES,
       C_MULTI_ARCH, C_ESSENTIAL, C_PRIORITY, C_SOURCE, C_SOURCE_VERSION, C_ORIGIN, C_KEY, N_CANDIDATE };
enum { O_REPOSITORY, O_FILENAME, O_SIZE, O_SHA256, O_RANK, N_ORIGIN };

/* solver.debversion.check: `(?:\d+:)?[0-9][A-Za-z0-9.+~:\-]*`, which (":" and digits being allowed
 * after the first digit) is the same language as `[0-9][A-Za-z0-9.+~:\-]*`. */
static int valid_version(const char *s, Py_ssize_t n) {
    if (n == 0 || !(*s >= '0' && *s <= '9')) return 0;
    for (Py_ssize_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '+' ||
              c == '~' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static PyObject *new_frozen(PyObject *type, PyObject *fields, PyObject **values, Py_ssize_t n) {
    if (!PyType_Check(type) || !PyTuple_Check(fields) || PyTuple_GET_SIZE(fields) != n) {
        PyErr_SetString(PyExc_TypeError, "candidate: bad context");
        return NULL;
    }
    PyObject *empty = PyTuple_New(0);
    if (empty == NULL) return NULL;
    PyObject *obj = ((PyTypeObject *)type)->tp_new((PyTypeObject *)type, empty, NULL);
    Py_DECREF(empty);
    if (obj == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyObject_GenericSetAttr(obj, PyTuple_GET_ITEM(fields, i), values[i]) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
    return obj;
}

/* relations() of one value (NULL: the field is absent, the empty tuple); Py_None when unusual. */
static PyObject *field_relations(PyObject *text, int alternatives, PyObject *dep_type, PyObject *dep_fields,
                                 PyObject *atoms, PyObject *groups) {
    if (text == Py_None || PyUnicode_GET_LENGTH(text) == 0) return PyTuple_New(0);
    return relations_of(text, alternatives, dep_type, dep_fields, atoms, groups);
}

/* An ASCII value made lower case (a new reference); NULL with no error set when it is not ASCII. */
static PyObject *ascii_lower(PyObject *text) {
    if (!PyUnicode_IS_ASCII(text)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const char *s = (const char *)PyUnicode_DATA(text);
    PyObject *out = PyUnicode_New(n, 127);
    if (out == NULL) return NULL;
    char *d = (char *)PyUnicode_DATA(out);
    for (Py_ssize_t i = 0; i < n; i++) d[i] = (char)lower((unsigned char)s[i]);
    return out;
}

/* The context tuple, unpacked once per call. */
struct context {
    PyObject *wanted, *cand_type, *cand_fields, *origin_type, *origin_fields, *dep_type, *dep_fields, *atoms, *groups;
};

static int unpack_context(PyObject *context, struct context *x) {
    if (!PyArg_ParseTuple(context, "O!OO!OO!OO!O!O!", &PyTuple_Type, &x->wanted, &x->cand_type, &PyTuple_Type,
                          &x->cand_fields, &x->origin_type, &PyTuple_Type, &x->origin_fields, &x->dep_type,
                          &PyTuple_Type, &x->dep_fields, &PyDict_Type, &x->atoms, &PyDict_Type, &x->groups))
        return -1;
    if (PyTuple_GET_SIZE(x->wanted) != N_FIELDS) {
        PyErr_SetString(PyExc_TypeError, "candidate: bad context");
        return -1;
    }
    return 0;
}

/* candidate() of the stanza s[0:len]. */
static PyObject *candidate_of(const char *stanza, Py_ssize_t len, const struct context *x, PyObject *repository,
                              PyObject *rank) {
    PyObject *wanted = x->wanted, *cand_type = x->cand_type, *cand_fields = x->cand_fields,
             *origin_type = x->origin_type, *origin_fields = x->origin_fields, *dep_type = x->dep_type,
             *dep_fields = x->dep_fields, *atoms = x->atoms, *groups = x->groups;
    PyObject *v = values_of(stanza, len, wanted);
    if (v == NULL || v == Py_None) return v;
    PyObject *c[N_CANDIDATE] = {NULL}, *o[N_ORIGIN] = {NULL};
    PyObject *result = NULL;
#define VAL(i) PyTuple_GET_ITEM(v, (i))
    PyObject *name = VAL(F_PACKAGE), *version = VAL(F_VERSION), *arch = VAL(F_ARCH);
    if (name == Py_None || version == Py_None || arch == Py_None || PyUnicode_GET_LENGTH(name) == 0 ||
        PyUnicode_GET_LENGTH(arch) == 0 || !PyUnicode_IS_ASCII(version) ||
        !valid_version((const char *)PyUnicode_DATA(version), PyUnicode_GET_LENGTH(version)))
        goto unusual;
    c[C_NAME] = Py_NewRef(name);
    c[C_VERSION] = Py_NewRef(version);
    c[C_ARCH] = Py_NewRef(arch);
    static const int rel_field[6] = {F_DEPENDS, F_PRE_DEPENDS, F_RECOMMENDS, F_CONFLICTS, F_BREAKS, F_PROVIDES};
    for (int k = 0; k < 6; k++) {
        PyObject *r = field_relations(VAL(rel_field[k]), k < 3, dep_type, dep_fields, atoms, groups);
        if (r == NULL) goto done;
        c[C_DEPENDS + k] = r;
        if (r == Py_None) goto unusual;
    }
    /* Source: "name" or "name (version)" */
    PyObject *src = VAL(F_SOURCE);
    if (src == Py_None || PyUnicode_GET_LENGTH(src) == 0) {
        c[C_SOURCE] = Py_NewRef(name);
        c[C_SOURCE_VERSION] = Py_NewRef(version);
    } else {
        if (!PyUnicode_IS_ASCII(src)) goto unusual;
        const char *s = (const char *)PyUnicode_DATA(src);
        Py_ssize_t n = PyUnicode_GET_LENGTH(src), i = 0;
        while (i < n && name_char((unsigned char)s[i])) i++;
        if (i == 0) goto unusual;
        if (i == n) {
            c[C_SOURCE] = Py_NewRef(src);
            c[C_SOURCE_VERSION] = Py_NewRef(version);
        } else {
            if (s[i] != ' ') goto unusual;
            const char *a = s + i, *b = s + n;
            strip(&a, &b);
            if (b - a < 2 || *a != '(' || b[-1] != ')') goto unusual;
            a++, b--;
            strip(&a, &b);
            if (!valid_version(a, b - a)) goto unusual;
            c[C_SOURCE] = PyUnicode_FromStringAndSize(s, i);
            c[C_SOURCE_VERSION] = PyUnicode_FromStringAndSize(a, b - a);
            if (c[C_SOURCE] == NULL || c[C_SOURCE_VERSION] == NULL) goto done;
        }
    }
    PyObject *size = VAL(F_SIZE), *filename = VAL(F_FILENAME), *sha = VAL(F_SHA256);
    if (size == Py_None || filename == Py_None || sha == Py_None || PyUnicode_GET_LENGTH(filename) == 0 ||
        !PyUnicode_IS_ASCII(size) || PyUnicode_GET_LENGTH(size) == 0 || PyUnicode_GET_LENGTH(sha) != 64)
        goto unusual;
    const char *digits = (const char *)PyUnicode_DATA(size);
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(size); i++)
        if (!(digits[i] >= '0' && digits[i] <= '9')) goto unusual;
    o[O_SIZE] = PyLong_FromUnicodeObject(size, 10);
    if (o[O_SIZE] == NULL) goto done;
    o[O_SHA256] = ascii_lower(sha);
    if (o[O_SHA256] == NULL) goto maybe_unusual;
    o[O_REPOSITORY] = Py_NewRef(repository);
    o[O_FILENAME] = Py_NewRef(filename);
    o[O_RANK] = Py_NewRef(rank);
    /* Multi-Arch: lower case, "no" when absent or empty; Essential: "yes" in any case; Priority as written */
    PyObject *ma = VAL(F_MULTI_ARCH), *ess = VAL(F_ESSENTIAL), *prio = VAL(F_PRIORITY);
    if (ma == Py_None || PyUnicode_GET_LENGTH(ma) == 0) {
        c[C_MULTI_ARCH] = PyUnicode_InternFromString("no");
    } else {
        c[C_MULTI_ARCH] = ascii_lower(ma);
    }
    if (c[C_MULTI_ARCH] == NULL) goto maybe_unusual;
    int essential = 0;
    if (ess != Py_None && PyUnicode_GET_LENGTH(ess) > 0) {
        PyObject *e = ascii_lower(ess);
        if (e == NULL) goto maybe_unusual;
        essential = PyUnicode_CompareWithASCIIString(e, "yes") == 0;
        Py_DECREF(e);
    }
    c[C_ESSENTIAL] = PyBool_FromLong(essential);
    c[C_PRIORITY] = (prio == Py_None || PyUnicode_GET_LENGTH(prio) == 0) ? PyUnicode_InternFromString("optional")
                                                                          : Py_NewRef(prio);
    c[C_KEY] = PyTuple_Pack(3, name, version, arch);
    if (c[C_PRIORITY] == NULL || c[C_KEY] == NULL) goto done;
    c[C_ORIGIN] = new_frozen(origin_type, origin_fields, o, N_ORIGIN);
    if (c[C_ORIGIN] == NULL) goto done;
    result = new_frozen(cand_type, cand_fields, c, N_CANDIDATE);
    goto done;
#undef VAL
maybe_unusual:
    if (PyErr_Occurred()) goto done;
unusual:
    result = Py_NewRef(Py_None);
done:
    for (int i = 0; i < N_CANDIDATE; i++) Py_XDECREF(c[i]);
    for (int i = 0; i < N_ORIGIN; i++) Py_XDECREF(o[i]);
    Py_DECREF(v);
    return result;
}

static PyObject *candidate(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *context, *repository, *rank;
    Py_buffer view;
    struct context x;
    if (!PyArg_ParseTuple(args, "y*O!UO!", &view, &PyTuple_Type, &context, &repository, &PyLong_Type, &rank))
        return NULL;
    PyObject *result = unpack_context(context, &x) < 0 ? NULL : candidate_of(view.buf, view.len, &x, repository, rank);
    PyBuffer_Release(&view);
    return result;
}

/* ---- every stanza of a name in a compact index ----------------------------------------------------
 *
 * candidates(text, offset, starts, ends, first, last, context, repository, rank) -> list
 *   text:           the compact index's text (bytes, or the cache file mapped into memory)
 *   offset:         where the Packages text starts in it
 *   starts, ends:   the stanzas' spans in that text (array('I'))
 *   first, last:    the stanzas wanted: starts[first:last] (one name's, in file order)
 * For each stanza, candidate() of it, or the stanza's bytes when it is unusual (the caller's Python
 * path decides, with its errors). What `[candidate(text[offset + starts[j]:offset + ends[j]], ...) for j
 * in range(first, last)]` gives, without copying each stanza out of the text or crossing into Python
 * between them. Profile behind it (2,000 random roots of bookworm main, py-spy): slicing the stanzas
 * and the Python call around each candidate() were 8% of the solve. */
static PyObject *candidates(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer text, starts, ends;
    Py_ssize_t offset, first, last;
    PyObject *context, *repository, *rank;
    struct context x;
    if (!PyArg_ParseTuple(args, "y*ny*y*nnO!UO!", &text, &offset, &starts, &ends, &first, &last, &PyTuple_Type,
                          &context, &repository, &PyLong_Type, &rank))
        return NULL;
    PyObject *out = NULL;
    if (unpack_context(context, &x) < 0) goto done;
    if (starts.itemsize != 4 || ends.itemsize != 4 || starts.len != ends.len || first < 0 || last < first ||
        last > starts.len / 4 || offset < 0) {
        PyErr_SetString(PyExc_ValueError, "candidates: bad spans");
        goto done;
    }
    const uint32_t *start = starts.buf, *end = ends.buf;
    out = PyList_New(last - first);
    if (out == NULL) goto done;
    for (Py_ssize_t j = first; j < last; j++) {
        Py_ssize_t a = offset + (Py_ssize_t)start[j], b = offset + (Py_ssize_t)end[j];
        if (b < a || b > text.len) {
            PyErr_SetString(PyExc_ValueError, "candidates: a span outside the text");
            Py_CLEAR(out);
            goto done;
        }
        const char *stanza = (const char *)text.buf + a;
        PyObject *c = candidate_of(stanza, b - a, &x, repository, rank);
        if (c == Py_None) {
            Py_DECREF(c);
            c = PyBytes_FromStringAndSize(stanza, b - a);
        }
        if (c == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, j - first, c);
    }
done:
    PyBuffer_Release(&text);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&ends);
    return out;
}

static PyMethodDef methods[] = {
    {"values", values, METH_VARARGS,
     "values(stanza, wanted) -> None | tuple: the wanted fields' values of one Packages stanza of the "
     "usual shape (see repos/deb/_fields.c)."},
    {"relations", relations, METH_VARARGS,
     "relations(text, alternatives, dep_type, cache, groups[, dep_fields]) -> None | tuple: a relation field of the usual "
     "shape, parsed (see repos/deb/_fields.c)."},
    {"candidate", candidate, METH_VARARGS,
     "candidate(stanza, context, repository, rank) -> None | DebCandidate: the candidate of one Packages "
     "stanza of the usual shape (see repos/deb/_fields.c)."},
    {"candidates", candidates, METH_VARARGS,
     "candidates(text, offset, starts, ends, first, last, context, repository, rank) -> list: candidate() of "
     "each of those stanzas of a compact index, or its bytes when unusual (see repos/deb/_fields.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_fields", .m_doc = NULL, .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__fields(void) { return PyModule_Create(&module); }
