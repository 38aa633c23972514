/* float32 matrix products in row parts on flowgrad's helper threads (_pool.c), each part
 * through BLAS's own one-thread sgemm (flowgrad/ops/native.py finds it in NumPy's OpenBLAS).
 *
 * Why: OpenBLAS's own threads spin for ~0.1 s after every multi-threaded call, on the very
 * core that flowgrad's next parallel kernel (a convolution part, Adam's second half) needs,
 * and waking them once they sleep costs ~50 us. Measured on this project's 2-core VM, for the
 * dense network's products (100x784 @ 784x200 and its gradients), two row parts here take
 * 0.6-1.0x the time of OpenBLAS's two threads (the small 100x100x200 ones: 0.3-0.9x), and
 * the caller's core is free of a spinning BLAS worker afterwards.
 *
 * Parts are cut by rows of the output only (the count comes from the shape and the core
 * count, never from how many threads run them), and every part sums over the whole inner
 * dimension in BLAS's own order: the same bits for any number of workers.
 */
#include <Python.h>
#include <string.h>

typedef long long i64;
typedef void (*sgemm64_fn)(int, int, int, i64, i64, i64, float, const float *, i64,
                           const float *, i64, float, float *, i64);
typedef void (*sgemm32_fn)(int, int, int, int, int, int, float, const float *, int,
                           const float *, int, float, float *, int);

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 }; /* CBLAS's enum values */

static void *sgemm; /* cblas_sgemm of the BLAS NumPy uses, or NULL */
static int sgemm_ilp64;

int fg_parallel_gemm(const float *a, const float *b, float *c, const int *dims, long m,
                     const float *bias, int relu, int parts, int active); /* _pool.c */

/* native.py registers cblas_sgemm (ilp64: its integers are 64-bit); NULL switches off. */
void fg_set_sgemm(void *fn, int ilp64)
{
    sgemm = fn;
    sgemm_ilp64 = ilp64;
}

/* Rows m0..m1 of op(A) @ op(B) into C, then + bias and relu on those rows (same bits as
 * NumPy's add and maximum: NaN stays NaN, -0 becomes +0). dims: ta tb n k lda ldb ldc. */
void fg_gemm_rows(const float *a, const float *b, float *c, const int *dims, long m0, long m1,
                  const float *bias, int relu)
{
    int ta = dims[0], tb = dims[1], n = dims[2], k = dims[3];
    long lda = dims[4], ldb = dims[5], ldc = dims[6];
    const float *ap = ta ? a + m0 : a + m0 * lda;
    float *cp = c + m0 * ldc;
    int fa = ta ? TRANS : NO_TRANS, fb = tb ? TRANS : NO_TRANS;
    if (m1 <= m0)
        return;
    if (sgemm_ilp64)
        ((sgemm64_fn)sgemm)(ROW_MAJOR, fa, fb, m1 - m0, n, k, 1.f, ap, lda, b, ldb, 0.f, cp,
                            ldc);
    else
        ((sgemm32_fn)sgemm)(ROW_MAJOR, fa, fb, (int)(m1 - m0), n, k, 1.f, ap, (int)lda, b,
                            (int)ldb, 0.f, cp, (int)ldc);
    if (!bias && !relu)
        return;
    for (long i = 0; i < m1 - m0; i++) {
        float *row = cp + i * ldc;
        for (int j = 0; j < n; j++) {
            float t = bias ? row[j] + bias[j] : row[j];
            row[j] = relu && !(t > 0.f || t != t) ? 0.f : t;
        }
    }
}

/* An operand's layout: 0 = rows contiguous (ld = row stride), 1 = columns contiguous (the
 * transposed view of a C-contiguous matrix: ld = column stride), -1 = neither. */
static int layout(const Py_buffer *v, long *ld)
{
    Py_ssize_t r = v->shape[0], c = v->shape[1], s0 = v->strides[0], s1 = v->strides[1];
    if ((s1 == 4 || c == 1) && (r == 1 || (s0 >= 4 * c && s0 % 4 == 0))) {
        *ld = r == 1 ? (c > 0 ? c : 1) : s0 / 4;
        return 0;
    }
    if ((s0 == 4 || r == 1) && (c == 1 || (s1 >= 4 * r && s1 % 4 == 0))) {
        *ld = c == 1 ? (r > 0 ? r : 1) : s1 / 4;
        return 1;
    }
    return -1;
}

/* gemm(a, b, out, bias, relu, parts, helpers) -> bool: out = relu?(a @ b + bias) for 2-D
 * float32 a [m, k], b [k, n] (C-contiguous or transposed views), out C-contiguous [m, n],
 * bias None or contiguous [n]; `parts` row parts on the caller and up to `helpers` helper
 * threads. False (nothing written) when no BLAS is registered, a layout is not one of
 * those, or a size is 0 or too big for BLAS's integers: the caller then uses NumPy. */
PyObject *fg_py_gemm(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer v[4];
    int got = 0, ok = 0, ta, tb, relu, parts, helpers;
    long lda, ldb;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "gemm: expected 7 arguments");
        return NULL;
    }
    relu = PyObject_IsTrue(args[4]);
    parts = (int)PyLong_AsLong(args[5]);
    helpers = (int)PyLong_AsLong(args[6]);
    if (relu < 0 || PyErr_Occurred())
        return NULL;
    int nbuf = args[3] == Py_None ? 3 : 4;
    for (; got < nbuf; got++) {
        int flags = PyBUF_STRIDES | PyBUF_FORMAT | (got == 2 ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(args[got], &v[got], flags) < 0)
            goto done;
        if (v[got].itemsize != 4 || strcmp(v[got].format, "f") != 0 ||
            v[got].ndim != (got == 3 ? 1 : 2)) {
            got++;
            goto fallback;
        }
    }
    {
        Py_ssize_t m = v[0].shape[0], k = v[0].shape[1], n = v[1].shape[1];
        if (!sgemm || m == 0 || n == 0 || k == 0 || v[1].shape[0] != k ||
            v[2].shape[0] != m || v[2].shape[1] != n || !PyBuffer_IsContiguous(&v[2], 'C') ||
            (nbuf == 4 && (v[3].shape[0] != n || v[3].strides[0] != 4)) ||
            (ta = layout(&v[0], &lda)) < 0 || (tb = layout(&v[1], &ldb)) < 0 ||
            m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX ||
            (!sgemm_ilp64 && (double)m * (double)n > INT_MAX))
            goto fallback;
        int dims[7] = {ta, tb, (int)n, (int)k, (int)lda, (int)ldb, (int)n};
        const float *bias = nbuf == 4 ? v[3].buf : NULL;
        Py_BEGIN_ALLOW_THREADS
        fg_parallel_gemm(v[0].buf, v[1].buf, v[2].buf, dims, (long)m, bias, relu,
                         parts < 1 ? 1 : parts, helpers);
        Py_END_ALLOW_THREADS
        ok = 1;
    }
fallback:
    while (got-- > 0)
        PyBuffer_Release(&v[got]);
    return PyBool_FromLong(ok);
done:
    while (got-- > 0)
        PyBuffer_Release(&v[got]);
    return NULL;
}
