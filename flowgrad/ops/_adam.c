/* Adam's update of every variable of a training step in one call (training.ApplyAdamGroup).
 *
 * Why: one ApplyAdam step per variable costs ~8-15 us of Python and buffer handling on this
 * project's VM, more than the update itself for all but the biggest variable, and only the
 * big ones were worth splitting over the cores. Here all variables' elements form one range,
 * cut into equal parts that the caller and the helper threads (_pool.c) claim: small
 * variables ride along with big ones. Each element gets fg_adam_update's arithmetic
 * (_native.c), so any cut gives the same bits as one variable at a time.
 */
#include <Python.h>
#include <string.h>

int fg_parallel_adam_group(const float *const *arrays, const long *offsets, const int *flush,
                           int k, const float *scalars, int parts, int active); /* _pool.c */

/* adam_update_group(arrays, flush, omb1, omb2, alpha, eps, parts, helpers): `arrays` holds
 * g m v var m1 v1 var1 for each of k variables (7k arrays; the last three written), all
 * float32 and C-contiguous, the seven of a variable of one size; `flush` k flags. */
PyObject *fg_py_adam_update_group(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *seq = NULL, *fseq = NULL, *result = NULL;
    Py_buffer *b = NULL;
    const float **ptrs = NULL;
    long *offsets = NULL;
    int *flush = NULL;
    Py_ssize_t got = 0, n, k;
    double s[4];
    float scalars[4];
    int parts, helpers;
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "adam_update_group: expected 8 arguments");
        return NULL;
    }
    for (int i = 0; i < 4; i++)
        if ((s[i] = PyFloat_AsDouble(args[2 + i])) == -1.0 && PyErr_Occurred())
            return NULL;
    parts = (int)PyLong_AsLong(args[6]);
    helpers = (int)PyLong_AsLong(args[7]);
    if (PyErr_Occurred())
        return NULL;
    seq = PySequence_Fast(args[0], "adam_update_group: arrays must be a sequence");
    fseq = seq ? PySequence_Fast(args[1], "adam_update_group: flush must be a sequence") : NULL;
    if (!fseq)
        goto done;
    n = PySequence_Fast_GET_SIZE(seq);
    k = n / 7;
    if (n % 7 != 0 || PySequence_Fast_GET_SIZE(fseq) != k) {
        PyErr_SetString(PyExc_ValueError,
                        "adam_update_group: 7 arrays and one flush flag per variable");
        goto done;
    }
    b = PyMem_Calloc(n + 1, sizeof(Py_buffer));
    ptrs = PyMem_Calloc(n + 1, sizeof(float *));
    offsets = PyMem_Calloc(k + 1, sizeof(long));
    flush = PyMem_Calloc(k + 1, sizeof(int));
    if (!b || !ptrs || !offsets || !flush) {
        PyErr_NoMemory();
        goto done;
    }
    for (; got < n; got++) {
        int out = got % 7 >= 4;
        PyObject *a = PySequence_Fast_GET_ITEM(seq, got);
        if (PyObject_GetBuffer(a, &b[got], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT |
                               (out ? PyBUF_WRITABLE : 0)) < 0)
            goto done;
        if (b[got].itemsize != 4 || strcmp(b[got].format, "f") != 0 ||
            b[got].len != b[got - got % 7].len) {
            got++;
            PyErr_SetString(PyExc_TypeError, "adam_update_group: each variable's arrays must "
                                             "be float32 and of one size");
            goto done;
        }
        ptrs[got] = b[got].buf;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        int f = PyObject_IsTrue(PySequence_Fast_GET_ITEM(fseq, i));
        if (f < 0)
            goto done;
        flush[i] = f;
        offsets[i + 1] = offsets[i] + (long)(b[7 * i].len / 4);
    }
    for (int i = 0; i < 4; i++)
        scalars[i] = (float)s[i];
    {
        PyThreadState *ts = offsets[k] >= 65536 ? PyEval_SaveThread() : NULL;
        fg_parallel_adam_group(ptrs, offsets, flush, (int)k, scalars, parts < 1 ? 1 : parts,
                               helpers);
        if (ts)
            PyEval_RestoreThread(ts);
    }
    result = Py_None;
    Py_INCREF(result);
done:
    while (got-- > 0)
        PyBuffer_Release(&b[got]);
    PyMem_Free(b);
    PyMem_Free(ptrs);
    PyMem_Free(offsets);
    PyMem_Free(flush);
    Py_XDECREF(fseq);
    Py_XDECREF(seq);
    return result;
}
