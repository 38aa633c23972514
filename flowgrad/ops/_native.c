/* Compiled float32 convolution kernels (NHWC), loaded by flowgrad/ops/native.py via ctypes.
 *
 * Why: im2col + BLAS spends most of its time moving a column matrix through memory, and
 * BLAS runs the talk's skinny products (6-24 output channels) at a fraction of the
 * machine's peak. These kernels never build a column matrix. Per image, the zero-padded
 * input is rewritten channel-planar and split into its stride phases ("phase grid": plane
 * (c, phase) holds padded pixel (pi + sh*a, pj + sw*b) at a*wq + b). On that grid every
 * kernel tap is a plain shift of one plane, so an output row block is a sum of shifted
 * contiguous vectors: the inner loops are fixed-size and vectorise, and the accumulators
 * (OB output channels x TB grid positions) stay in registers across all taps.
 * Grid positions with column >= OW are computed and dropped (wq - OW extra columns).
 *
 * Results differ from the NumPy path only by float32 rounding (FMA, summation order);
 * tests/ops/test_native.py compares the two. Summation order is fixed, so results do not
 * depend on threads: callers split batches themselves (flowgrad/ops/parallel.py).
 */
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

#define TV 2  /* forward: vectors of grid positions per register block */
#define OB 6  /* output channels per register block (6, 12 and 24 are the talk's counts) */

typedef struct {
    int H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, hq, wq, nb, plane;
} Geom;


/* The kernels (_conv.h) for each vector width, with GCC/Clang vector extensions (the
 * compiler keeps small arrays of them in registers; "aligned(4)" makes loads from any float
 * address legal): AVX-512 (x86-64-v4), AVX2 (x86-64-v3), and 4-wide vectors for every other
 * CPU. fg_conv_level picks one at the first call. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define FG_X86 1
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
#define VB 16
#define KB 4
#define FG(name) name##_v4
#include "_conv.h"
#undef VB
#undef KB
#undef FG
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
#define VB 8
#define KB 2
#define FG(name) name##_v3
#include "_conv.h"
#undef VB
#undef KB
#undef FG
#pragma GCC pop_options
#endif
#define VB 4
#define KB 2
#define FG(name) name##_base
#include "_conv.h"
#undef VB
#undef KB
#undef FG

static int conv_level = -1;

/* The kernels' target: 4 (AVX-512), 3 (AVX2) or 0 (4-wide), detected at the first call.
 * `level` >= 0 sets it (tests run every level this CPU has; a level it lacks is refused);
 * returns the level in force. */
int fg_conv_level(int level)
{
    int best = 0;
#ifdef FG_X86
    __builtin_cpu_init();
    best = __builtin_cpu_supports("x86-64-v4") ? 4 : __builtin_cpu_supports("x86-64-v3") ? 3 : 0;
#endif
    if (level >= 0 && level <= best && level != 1 && level != 2)
        __atomic_store_n(&conv_level, level, __ATOMIC_SEQ_CST);
    else if (__atomic_load_n(&conv_level, __ATOMIC_SEQ_CST) < 0)
        __atomic_store_n(&conv_level, best, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&conv_level, __ATOMIC_SEQ_CST);
}

#ifdef FG_X86
#define DISPATCH(name, ...)                                                                   \
    int lv = __atomic_load_n(&conv_level, __ATOMIC_RELAXED);                                  \
    if (lv < 0)                                                                               \
        lv = fg_conv_level(-1);                                                               \
    return lv == 4 ? name##_v4(__VA_ARGS__) : lv == 3 ? name##_v3(__VA_ARGS__)               \
                                                      : name##_base(__VA_ARGS__)
#else
#define DISPATCH(name, ...) return name##_base(__VA_ARGS__)
#endif

/* y[n] = conv(x[n], w) for n < N (see _conv.h); 0, or -1 without memory. */
int fg_conv2d_forward(const float *x, const float *w, float *y, int N, int H, int W, int C,
                      int KH, int KW, int O, int sh, int sw, int pt, int pl, int OH, int OW,
                      const float *bias, int relu)
{
    DISPATCH(fg_conv2d_forward, x, w, y, N, H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, bias,
             relu);
}

int fg_conv2d_backward_filter(const float *x, const float *dy, float *dw, int N, int H, int W,
                              int C, int KH, int KW, int O, int sh, int sw, int pt, int pl,
                              int OH, int OW)
{
    DISPATCH(fg_conv2d_backward_filter, x, dy, dw, N, H, W, C, KH, KW, O, sh, sw, pt, pl, OH,
             OW);
}

int fg_conv2d_backward_input(const float *dy, const float *w, float *dx, int N, int H, int W,
                             int C, int KH, int KW, int O, int sh, int sw, int pt, int pl,
                             int OH, int OW)
{
    DISPATCH(fg_conv2d_backward_input, dy, w, dx, N, H, W, C, KH, KW, O, sh, sw, pt, pl, OH,
             OW);
}

/* Adam's elementwise update for float32 in one pass (training.py's ApplyAdam):
 * m1 = (g - m) * omb1 + m; v1 = (g * g - v) * omb2 + v; flushed to zero where subnormal
 * when flush is set; var1 = var - m1 * alpha / (sqrt(v1) + eps). Every operation rounds to
 * float32 in NumPy's order and nothing is contracted into an FMA, so the results are the
 * NumPy kernel's bits (tests/test_optimizers.py compares them). setup.py compiles with
 * -fno-math-errno, without which sqrtf (errno on negative input) blocks vectorisation. */
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
static inline __attribute__((always_inline)) void adam_loop(
    const float *restrict g, const float *restrict m, const float *restrict v,
    const float *restrict var, float *restrict m1, float *restrict v1,
    float *restrict var1, long n, float omb1, float omb2, float alpha, float eps,
    const int flush)
{
    for (long i = 0; i < n; i++) {
        float a = g[i] - m[i], b = g[i] * g[i];
        a = a * omb1;
        b = b - v[i];
        a = a + m[i];
        b = b * omb2;
        b = b + v[i];
        if (flush) {
            a = fabsf(a) < FLT_MIN ? 0.f : a;
            b = fabsf(b) < FLT_MIN ? 0.f : b;
        }
        float d = sqrtf(b);
        d = d + eps;
        float s = a * alpha;
        s = s / d;
        m1[i] = a;
        v1[i] = b;
        var1[i] = var[i] - s;
    }
}

CLONES void fg_adam_update(const float *g, const float *m, const float *v, const float *var,
                           float *m1, float *v1, float *var1, long n, float omb1, float omb2,
                           float alpha, float eps, int flush)
{
    if (flush)
        adam_loop(g, m, v, var, m1, v1, var1, n, omb1, omb2, alpha, eps, 1);
    else
        adam_loop(g, m, v, var, m1, v1, var1, n, omb1, omb2, alpha, eps, 0);
}
#pragma GCC pop_options

int fg_parallel_adam_group(const float *const *arrays, const long *offsets, const int *flush,
                           int k, const float *scalars, int parts, int active); /* _pool.c */ /* _pool.c */

/* adam_update(g, m, v, var, m1, v1, var1, omb1, omb2, alpha, eps, flush[, helpers]): the
 * same update called straight from Python, with up to `helpers` helper threads taking
 * element ranges. Through ctypes each array's pointer costs ~1.4 us
 * (ndarray.ctypes), 10 us per variable, more than the update of most variables; the
 * buffer protocol costs ~0.1 us. All seven arrays: C-contiguous float32 of one size. */
static PyObject *py_adam_update(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer b[7];
    int got = 0;
    double s[4];
    int flush;
    int helpers = 0;
    if (nargs != 12 && nargs != 13) {
        PyErr_SetString(PyExc_TypeError, "adam_update: expected 12 or 13 arguments");
        return NULL;
    }
    if (nargs == 13 && (helpers = (int)PyLong_AsLong(args[12])) == -1 && PyErr_Occurred())
        return NULL;
    for (; got < 7; got++) {
        int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (got >= 4 ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(args[got], &b[got], flags) < 0)
            goto fail;
        if (b[got].itemsize != 4 || strcmp(b[got].format, "f") != 0 || b[got].len != b[0].len) {
            got++;
            PyErr_SetString(PyExc_TypeError,
                            "adam_update: arrays must be float32 and of one size");
            goto fail;
        }
    }
    for (int i = 0; i < 4; i++) {
        s[i] = PyFloat_AsDouble(args[7 + i]);
        if (s[i] == -1.0 && PyErr_Occurred())
            goto fail;
    }
    flush = PyObject_IsTrue(args[11]);
    if (flush < 0)
        goto fail;
    {
        long n = (long)(b[0].len / 4);
        PyThreadState *ts = n >= 65536 ? PyEval_SaveThread() : NULL;
        if (helpers > 0) { /* element ranges on the helpers too (_pool.c): same bits */
            const float *arrays[7];
            float scalars[4] = {(float)s[0], (float)s[1], (float)s[2], (float)s[3]};
            for (int i = 0; i < 7; i++)
                arrays[i] = b[i].buf;
            long offsets[2] = {0, n};
            fg_parallel_adam_group(arrays, offsets, &flush, 1, scalars, helpers + 1, helpers);
        } else {
            fg_adam_update(b[0].buf, b[1].buf, b[2].buf, b[3].buf, b[4].buf, b[5].buf,
                           b[6].buf, n, (float)s[0], (float)s[1], (float)s[2], (float)s[3],
                           flush);
        }
        if (ts)
            PyEval_RestoreThread(ts);
    }
    for (int i = 0; i < 7; i++)
        PyBuffer_Release(&b[i]);
    Py_RETURN_NONE;
fail:
    while (got-- > 0)
        PyBuffer_Release(&b[got]);
    return NULL;
}

PyObject *fg_py_gemm(PyObject *self, PyObject *const *args, Py_ssize_t nargs); /* _gemm.c */
PyObject *fg_py_adam_update_group(PyObject *self, PyObject *const *args,
                                  Py_ssize_t nargs); /* _adam.c */

static PyMethodDef native_methods[] = {
    {"gemm", (PyCFunction)(void (*)(void))fg_py_gemm, METH_FASTCALL,
     "relu?(a @ b + bias) into out in row parts (see _gemm.c)."},
    {"adam_update", (PyCFunction)(void (*)(void))py_adam_update, METH_FASTCALL,
     "Adam's float32 update into m1, v1, var1 (see fg_adam_update)."},
    {"adam_update_group", (PyCFunction)(void (*)(void))fg_py_adam_update_group, METH_FASTCALL,
     "Adam's float32 update of many variables in one call (see _adam.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "_native",
    "float32 convolution kernels; called through ctypes by flowgrad.ops.native", -1,
    native_methods,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&native_module); }
