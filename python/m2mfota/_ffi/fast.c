/*
 * m2mfota._fast: a hand-written CPython entry point for the calls whose cost
 * is the call itself.  A cffi call of mfota_crc32() spends 190-230 ns in
 * argument conversion (tuple, three converters, errno bookkeeping) around a
 * kernel that hashes 4 KiB in ~50 ns; METH_FASTCALL with one buffer request
 * spends a fraction of that.  It calls the core's mfota_crc32(), the same
 * function an MCU image links; nothing here computes a checksum.
 *
 * The public argument checks stay in python/m2mfota/_checksums.py (a Python
 * function, so tools and tests see its signature); this module refuses what
 * it cannot take with errors that name the argument the same way.
 *
 * senml_loads() decodes a whole SenML pack per call with the core's public
 * decoder (mfota_senml_dec_next(), as the cffi path does record by record):
 * there the cost was a cffi call and a dozen attribute reads per record.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdint.h>

#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "m2mfota/senml.h"

/* Calls from this many bytes on release the GIL while the kernel runs.
 * Releasing and re-taking it costs ~100 ns uncontended (timed as ctypes
 * CDLL against PyDLL calls of mfota_crc32), 3 % of a 256 KiB CRC; and when
 * another thread waits for the GIL, the caller may get it back only after a
 * switch interval (5 ms by default), a thousand times the CRC.  From 1 MiB
 * on the kernel runs >= 10 us (in cache; ~40 us from L3), so the release
 * costs <= 1 %, while below it other threads wait at most that long, under
 * 1 % of a switch interval.  docs/checksums.md has the measurements. */
#ifndef MFOTA_PY_GIL_RELEASE_MIN
#define MFOTA_PY_GIL_RELEASE_MIN ((Py_ssize_t)1 << 20)
#endif

/* Whether the last call released the GIL: tests read it through
 * gil_released_last(), since whether a call blocked other threads is not
 * observable deterministically.  One store per call. */
static int gil_released_last;

/* Raises the TypeError for a `data` that is not a flat contiguous buffer. */
static PyObject *refuse_data(PyObject *data)
{
    if (PyObject_CheckBuffer(data)) {
        if (!PyErr_ExceptionMatches(PyExc_BufferError)) {
            /* The exporter's own refusal (a released memoryview's
             * ValueError, say) says more than a guess would. */
            return NULL;
        }
        /* It exports a buffer, but not as one contiguous run of bytes
         * (a strided view, say): hashing it would need a copy. */
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "data must be a C-contiguous buffer, not a strided %.100s",
                     Py_TYPE(data)->tp_name);
    } else {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "data must be bytes-like, not %.100s",
                     Py_TYPE(data)->tp_name);
    }
    return NULL;
}

PyDoc_STRVAR(crc32_doc, "crc32(data, value, /)\n--\n\n"
                        "CRC-32 (zlib) of the C-contiguous buffer `data` continuing from the int\n"
                        "`value` (taken modulo 2**32).  m2mfota.crc32() checks its arguments and\n"
                        "calls this.");

static PyObject *fast_crc32(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    uint32_t crc;
    unsigned long value;
    (void)module;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "crc32() takes 2 positional arguments, not %zd", nargs);
        return NULL;
    }
    if (!PyLong_CheckExact(args[1])) {
        PyErr_Format(PyExc_TypeError, "value must be int, not %.100s", Py_TYPE(args[1])->tp_name);
        return NULL;
    }
    /* The low bits of any int, negative or huge: zlib's masking. */
    value = PyLong_AsUnsignedLongMask(args[1]);
    if (value == (unsigned long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    /* PyBUF_SIMPLE: one contiguous run of bytes, any item format.  The
     * export also pins the memory (a bytearray cannot resize under us while
     * the GIL is released). */
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) != 0) {
        return refuse_data(args[0]);
    }
    if (view.len >= MFOTA_PY_GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        crc = mfota_crc32((uint32_t)value, view.buf, (size_t)view.len);
        Py_END_ALLOW_THREADS
        gil_released_last = 1;
    } else {
        crc = mfota_crc32((uint32_t)value, view.buf, (size_t)view.len);
        gil_released_last = 0;
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(crc);
}

PyDoc_STRVAR(gil_doc, "gil_released_last()\n--\n\n"
                      "Whether the last crc32() call released the GIL (for tests).");

static PyObject *fast_gil_released_last(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBool_FromLong(gil_released_last);
}


/* ---- senml_loads ----------------------------------------------------------
 * m2mfota.senml.loads() through the core's public decoder, a whole pack per
 * call.  Through cffi each record cost a call and some fifteen attribute
 * reads (27 us for a 4-record uplink, a tenth of the emulator's ingestion
 * CPU); here the same records are built as dicts in C.  The records are
 * exactly those of senml.py's _iter_records, key for key and in the same
 * order: tests/test_senml.py holds the two paths to one another. */

/* Record keys, interned once. */
static PyObject *rkey_n, *rkey_u, *rkey_v, *rkey_vs, *rkey_vb, *rkey_vd, *rkey_s, *rkey_t, *rkey_ut;

/* The decoded text of `s` (escapes resolved); NULL with an exception set. */
static PyObject *senml_text(const struct mfota_senml_str *s)
{
    char *buf;
    size_t n = 0;
    PyObject *out;
    if (s->ptr == NULL) {
        return PyUnicode_FromStringAndSize("", 0);
    }
    if (!s->escaped) {
        return PyUnicode_DecodeUTF8(s->ptr, (Py_ssize_t)s->len, "strict");
    }
    buf = PyMem_Malloc(s->dlen ? s->dlen : 1);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    if (mfota_senml_str_decode(s, buf, s->dlen, &n) != MFOTA_OK) {
        PyMem_Free(buf);
        PyErr_SetString(PyExc_RuntimeError, "mfota_senml_str_decode refused its own string");
        return NULL;
    }
    out = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)n, "strict");
    PyMem_Free(buf);
    return out;
}

/* The record's resolved name (bn + n); `bn_text` is the decoded base name
 * when it is unescaped (shared by every record under it). */
static PyObject *senml_name(const struct mfota_senml_record *rec, PyObject *bn_text)
{
    char *buf;
    size_t size = rec->bn.dlen + rec->n.dlen, n = 0;
    PyObject *own, *out;
    if (!rec->bn.escaped && !rec->n.escaped) {
        if (rec->n.ptr == NULL) {
            Py_INCREF(bn_text);
            return bn_text;
        }
        own = PyUnicode_DecodeUTF8(rec->n.ptr, (Py_ssize_t)rec->n.len, "strict");
        if (own == NULL) {
            return NULL;
        }
        out = PyUnicode_Concat(bn_text, own);
        Py_DECREF(own);
        return out;
    }
    buf = PyMem_Malloc(size ? size : 1);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    if (mfota_senml_record_name(rec, buf, size, &n) != MFOTA_OK) {
        PyMem_Free(buf);
        PyErr_SetString(PyExc_RuntimeError, "mfota_senml_record_name refused its own record");
        return NULL;
    }
    out = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)n, "strict");
    PyMem_Free(buf);
    return out;
}

static PyObject *senml_num(mfota_senml_num v)
{
#if MFOTA_SENML_FLOAT
    return PyFloat_FromDouble(v);
#else
    return PyLong_FromLongLong((long long)v);
#endif
}

/* d[key] = value, stealing `value`; -1 on error (value NULL included). */
static int put(PyObject *d, PyObject *key, PyObject *value)
{
    int rc;
    if (value == NULL) {
        return -1;
    }
    rc = PyDict_SetItem(d, key, value);
    Py_DECREF(value);
    return rc;
}

/* One resolved record as senml.py builds it; NULL with an exception set. */
static PyObject *senml_record(const struct mfota_senml_record *rec, PyObject *bn_text)
{
    PyObject *d = PyDict_New(), *name;
    if (d == NULL) {
        return NULL;
    }
    name = senml_name(rec, bn_text);
    if (name == NULL) {
        goto fail;
    }
    if (PyUnicode_GET_LENGTH(name) > 0) {
        if (put(d, rkey_n, name) != 0) {
            goto fail;
        }
    } else {
        Py_DECREF(name);
    }
    if (rec->u.ptr != NULL && put(d, rkey_u, senml_text(&rec->u)) != 0) {
        goto fail;
    }
    switch (rec->kind) {
    case MFOTA_SENML_KIND_NUM:
        if (put(d, rkey_v, senml_num(rec->v)) != 0) {
            goto fail;
        }
        break;
    case MFOTA_SENML_KIND_STR:
        if (put(d, rkey_vs, senml_text(&rec->vs)) != 0) {
            goto fail;
        }
        break;
    case MFOTA_SENML_KIND_BOOL:
        if (put(d, rkey_vb, PyBool_FromLong(rec->vb)) != 0) {
            goto fail;
        }
        break;
    case MFOTA_SENML_KIND_DATA:
        if (put(d, rkey_vd, senml_text(&rec->vs)) != 0) {
            goto fail;
        }
        break;
    default:
        break;
    }
    if ((rec->has_s && put(d, rkey_s, senml_num(rec->s)) != 0) ||
        (rec->has_t && put(d, rkey_t, senml_num(rec->t)) != 0) ||
        (rec->has_ut && put(d, rkey_ut, senml_num(rec->ut)) != 0)) {
        goto fail;
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

PyDoc_STRVAR(senml_loads_doc,
             "senml_loads(data, mode, base_only, /)\n--\n\n"
             "The resolved records of the SenML JSON pack in the buffer `data`, decoded\n"
             "with the int `mode` (MFOTA_SENML_* flags): a list of dicts, or, when the\n"
             "decoder refuses the pack, a tuple (error code, byte offset).  Records that\n"
             "only set base fields are left out unless `base_only`.  m2mfota.senml.loads()\n"
             "checks its arguments and calls this.");

static PyObject *fast_senml_loads(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    struct mfota_senml_dec dec;
    struct mfota_senml_record rec;
    PyObject *list = NULL, *bn_text = NULL, *item;
    const char *bn_ptr = NULL;
    long mode;
    int base_only, rc;
    (void)module;
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "senml_loads() takes 3 positional arguments, not %zd",
                     nargs);
        return NULL;
    }
    mode = PyLong_AsLong(args[1]);
    if (mode == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (mode < 0 || (unsigned long)mode > UINT_MAX) {
        PyErr_SetString(PyExc_ValueError, "mode out of range");
        return NULL;
    }
    base_only = PyObject_IsTrue(args[2]);
    if (base_only < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) != 0) {
        return refuse_data(args[0]);
    }
    list = PyList_New(0);
    bn_text = PyUnicode_FromStringAndSize("", 0);
    if (list == NULL || bn_text == NULL) {
        goto fail;
    }
    mfota_senml_dec_init(&dec, view.buf, (size_t)view.len, (unsigned)mode);
    for (;;) {
        rc = mfota_senml_dec_next(&dec, &rec);
        if (rc == MFOTA_DONE) {
            break;
        }
        if (rc < 0) {
            Py_DECREF(list);
            list = Py_BuildValue("(in)", rc, (Py_ssize_t)mfota_senml_dec_offset(&dec));
            break;
        }
        if (rec.kind == MFOTA_SENML_KIND_NONE && !rec.has_s && !base_only) {
            continue;
        }
        /* The base name is the same slice of the input for every record
         * after the one that set it: decoded once. */
        if (!rec.bn.escaped && rec.bn.ptr != bn_ptr) {
            PyObject *text = rec.bn.ptr == NULL
                                 ? PyUnicode_FromStringAndSize("", 0)
                                 : PyUnicode_DecodeUTF8(rec.bn.ptr, (Py_ssize_t)rec.bn.len,
                                                        "strict");
            if (text == NULL) {
                goto fail;
            }
            Py_SETREF(bn_text, text);
            bn_ptr = rec.bn.ptr;
        }
        item = senml_record(&rec, bn_text);
        if (item == NULL) {
            goto fail;
        }
        rc = PyList_Append(list, item);
        Py_DECREF(item);
        if (rc != 0) {
            goto fail;
        }
    }
    Py_DECREF(bn_text);
    PyBuffer_Release(&view);
    return list;
fail:
    Py_XDECREF(list);
    Py_XDECREF(bn_text);
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef fast_methods[] = {
    {"crc32", (PyCFunction)(void (*)(void))fast_crc32, METH_FASTCALL, crc32_doc},
    {"gil_released_last", fast_gil_released_last, METH_NOARGS, gil_doc},
    {"senml_loads", (PyCFunction)(void (*)(void))fast_senml_loads, METH_FASTCALL,
     senml_loads_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fast_module = {
    PyModuleDef_HEAD_INIT, "m2mfota._fast",
    "Hand-written CPython entry points for the hot checksum and SenML calls.", -1,
    fast_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fast(void)
{
    PyObject *m;
    PyObject **const keys[] = {&rkey_n, &rkey_u, &rkey_v, &rkey_vs, &rkey_vb,
                               &rkey_vd, &rkey_s, &rkey_t, &rkey_ut};
    static const char *const names[] = {"n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (*keys[i] == NULL && (*keys[i] = PyUnicode_InternFromString(names[i])) == NULL) {
            return NULL;
        }
    }
    m = PyModule_Create(&fast_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "GIL_RELEASE_MIN", (long)MFOTA_PY_GIL_RELEASE_MIN) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
