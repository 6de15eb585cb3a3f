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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>

#include "m2mfota/crc32.h"

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

static PyMethodDef fast_methods[] = {
    {"crc32", (PyCFunction)(void (*)(void))fast_crc32, METH_FASTCALL, crc32_doc},
    {"gil_released_last", fast_gil_released_last, METH_NOARGS, gil_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fast_module = {
    PyModuleDef_HEAD_INIT, "m2mfota._fast",
    "Hand-written CPython entry points for the hot checksum calls.", -1, fast_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fast(void)
{
    PyObject *m = PyModule_Create(&fast_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "GIL_RELEASE_MIN", (long)MFOTA_PY_GIL_RELEASE_MIN) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
