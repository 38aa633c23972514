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

#define VB 16 /* floats per vector: one AVX-512 register (two AVX2 ones) */
#define TV 2  /* forward: vectors of grid positions per register block */
#define TB (TV * VB)
#define OB 6  /* output channels per register block (6, 12 and 24 are the talk's counts) */
#define KB 4  /* filter-gradient taps per register block */

/* GCC/Clang vector extensions: the compiler keeps small arrays of these in registers;
 * "aligned(4)" makes loads from any float address legal. */
typedef float vf __attribute__((vector_size(VB * sizeof(float))));
typedef float vfu __attribute__((vector_size(VB * sizeof(float)), aligned(4)));

typedef struct {
    int H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, hq, wq, nb, plane;
} Geom;

/* nb: images side by side in one grid, each hq*wq apart. */
static void geom(Geom *g, int H, int W, int C, int KH, int KW, int O, int sh, int sw,
                 int pt, int pl, int OH, int OW, int nb)
{
    g->H = H; g->W = W; g->C = C; g->KH = KH; g->KW = KW; g->O = O;
    g->sh = sh; g->sw = sw; g->pt = pt; g->pl = pl; g->OH = OH; g->OW = OW;
    /* the grid covers every tap of every output plus the input itself */
    int hp = (OH - 1) * sh + KH, wp = (OW - 1) * sw + KW;
    if (hp < H + pt) hp = H + pt;
    if (wp < W + pl) wp = W + pl;
    g->hq = (hp + sh - 1) / sh;
    g->wq = (wp + sw - 1) / sw;
    /* slack: reads for dropped positions (never used) run past the last image by up to a
       tap's shift plus a register block; the last plane must cover them too */
    g->nb = nb;
    g->plane = nb * g->hq * g->wq + ((KH - 1) / sh + 1) * g->wq + TB + VB;
}

/* Writes the m <= nb images of x ([m, H, W, C]) into the phase grid P ([C, sh*sw, plane]),
 * zeroing everything else. */
static void to_grid(const float *x, int m, float *P, const Geom *g)
{
    int nph = g->sh * g->sw;
    size_t G = (size_t)g->hq * g->wq;
    memset(P, 0, sizeof(float) * (size_t)g->C * nph * g->plane);
    for (int n = 0; n < m; n++)
        for (int h = 0; h < g->H; h++) {
            int py = h + g->pt;
            float *row = P + (size_t)(py % g->sh) * g->sw * g->plane + n * G
                         + (size_t)(py / g->sh) * g->wq;
            const float *src = x + ((size_t)n * g->H + h) * g->W * g->C;
            /* column phase and index advance without a division per pixel */
            int pj = g->pl % g->sw, bx = g->pl / g->sw;
            for (int w = 0; w < g->W; w++, src += g->C) {
                float *dst = row + (size_t)pj * g->plane + bx;
                for (int c = 0; c < g->C; c++) dst[(size_t)c * nph * g->plane] = src[c];
                if (++pj == g->sw) { pj = 0; bx++; }
            }
        }
}

static size_t tap_offset(const Geom *g, int i, int j, int c)
{
    int nph = g->sh * g->sw;
    return ((size_t)c * nph + (i % g->sh) * g->sw + j % g->sw) * g->plane
           + (size_t)(i / g->sh) * g->wq + j / g->sw;
}

/* y[n] = conv(x[n], w) for n < N; w is [KH, KW, C, O]. Returns 0, or -1 without memory.
 * Epilogue (the executor's fused Conv2D + bias + Relu): bias (NULL: none) is added to each
 * rounded float32 result, then relu clamps like np.maximum(v, 0) (NaN stays NaN), so the
 * fused kernel gives the same bits as the three separate ops. */
CLONES int fg_conv2d_forward(const float *x, const float *w, float *y, int N, int H, int W,
                             int C, int KH, int KW, int O, int sh, int sw, int pt, int pl,
                             int OH, int OW, const float *bias, int relu)
{
    Geom g;
    geom(&g, H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, 1);
    int L = OH * g.wq, K = KH * KW * C, Op = (O + OB - 1) / OB * OB;
    float *P = malloc(sizeof(float) * (size_t)C * sh * sw * g.plane);
    float *wp = calloc((size_t)K * Op + Op, sizeof(float)); /* [K, Op] then the bias [Op] */
    size_t *off = malloc(sizeof(size_t) * (size_t)K);
    if (!P || !wp || !off) { free(P); free(wp); free(off); return -1; }
    /* per-call tables: tap offsets (integer division is slow in the inner loop), weights
     * and bias padded to whole register blocks */
    for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++)
            for (int c = 0; c < C; c++) off[(i * KW + j) * C + c] = tap_offset(&g, i, j, c);
    for (int k = 0; k < K; k++) memcpy(wp + (size_t)k * Op, w + (size_t)k * O, sizeof(float) * O);
    float *bp = wp + (size_t)K * Op;
    if (bias) memcpy(bp, bias, sizeof(float) * O);
    for (int n = 0; n < N; n++) {
        float *yn = y + (size_t)n * OH * OW * O;
        to_grid(x + (size_t)n * H * W * C, 1, P, &g);
        for (int o0 = 0; o0 < O; o0 += OB) {
            int nb = O - o0 < OB ? O - o0 : OB;
            for (int t0 = 0; t0 < L; t0 += TB) {
                vf acc[OB][TV];
                for (int b = 0; b < OB; b++)
                    for (int u = 0; u < TV; u++) acc[b][u] = (vf){0};
                for (int k = 0; k < K; k++) {
                    const float *s = P + off[k] + t0, *wk = wp + (size_t)k * Op + o0;
                    vf sv[TV];
                    for (int u = 0; u < TV; u++) sv[u] = *(const vfu *)(s + u * VB);
                    for (int b = 0; b < OB; b++)
                        for (int u = 0; u < TV; u++) acc[b][u] += wk[b] * sv[u];
                }
                float out[OB][TB];
                memcpy(out, acc, sizeof(out));
                int tend = t0 + TB < L ? t0 + TB : L, oy = t0 / g.wq, ox = t0 % g.wq;
                /* row runs: positions ox < OW of one output row are consecutive in y */
                for (int t = 0; t < tend - t0;) {
                    int run = g.wq - ox < tend - t0 - t ? g.wq - ox : tend - t0 - t;
                    int keep = ox < OW ? (OW - ox < run ? OW - ox : run) : 0;
                    float *dst = yn + ((size_t)oy * OW + ox) * O + o0;
                    for (int b = 0; b < nb; b++) {
                        float bb = bp[o0 + b], *d = dst + b;
                        const float *src = out[b] + t;
                        /* no bias: no add, which would turn -0.0 into +0.0 */
                        for (int r = 0; r < keep; r++) {
                            float v = bias ? src[r] + bb : src[r];
                            d[(size_t)r * O] = relu && v < 0.f ? 0.f : v;
                        }
                    }
                    t += run;
                    ox += run;
                    if (ox == g.wq) { ox = 0; oy++; }
                }
            }
        }
    }
    free(P); free(wp); free(off);
    return 0;
}

/* dw = sum over n < N of the filter gradient (dw is [KH, KW, C, O], overwritten).
 * Vector partial sums live in V ([K, Op, VB]) across all images and are reduced once at the
 * end: a horizontal sum per register block would cost as much as the block itself. */
CLONES int fg_conv2d_backward_filter(const float *x, const float *dy, float *dw, int N,
                                     int H, int W, int C, int KH, int KW, int O, int sh,
                                     int sw, int pt, int pl, int OH, int OW)
{
    Geom g;
    /* Several images side by side make the t loop long enough to amortise loading and
     * storing the accumulators; ~16k floats of grid keep one block's streams near L1
     * (measured: 64k is 1.4x slower). Grid positions outside the outputs have dy = 0, so
     * reads that spill into the next image add nothing (unless that image holds an inf or
     * NaN, which then reaches dw as NaN). */
    size_t G = (size_t)((OH - 1) * sh + KH + sh) / sh * (size_t)((OW - 1) * sw + KW + sw) / sw;
    int nb = (int)(16384 / ((size_t)C * sh * sw * G + 1));
    nb = nb < 1 ? 1 : nb > N ? N : nb;
    geom(&g, H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, nb);
    G = (size_t)g.hq * g.wq;
    size_t LV = (nb * G + VB - 1) / VB * VB;
    int K = KH * KW * C, Kp = (K + KB - 1) / KB * KB, Op = (O + OB - 1) / OB * OB;
    float *P = malloc(sizeof(float) * (size_t)C * sh * sw * g.plane);
    /* dy on the grid, [Op, LV]; 64-byte rows keep its vector loads within cache lines */
    float *D = aligned_alloc(64, sizeof(float) * (size_t)Op * LV + 64); /* never size 0 */
    float *V = calloc((size_t)Kp * Op * VB, sizeof(float));
    size_t *off = malloc(sizeof(size_t) * (size_t)Kp);
    if (!P || !D || !V || !off) { free(P); free(D); free(V); free(off); return -1; }
    for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++)
            for (int c = 0; c < C; c++) off[(i * KW + j) * C + c] = tap_offset(&g, i, j, c);
    for (int k = K; k < Kp; k++) off[k] = off[0]; /* padding taps, results dropped */
    for (int n0 = 0; n0 < N; n0 += nb) {
        int m = N - n0 < nb ? N - n0 : nb;
        to_grid(x + (size_t)n0 * H * W * C, m, P, &g);
        memset(D, 0, sizeof(float) * (size_t)Op * LV);
        for (int n = 0; n < m; n++) {
            const float *dyn = dy + (size_t)(n0 + n) * OH * OW * O;
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    for (int o = 0; o < O; o++)
                        D[(size_t)o * LV + n * G + (size_t)oy * g.wq + ox] =
                            dyn[((size_t)oy * OW + ox) * O + o];
        }
        size_t LVm = (m * G + VB - 1) / VB * VB;
        for (int k0 = 0; k0 < K; k0 += KB) {
            for (int o0 = 0; o0 < O; o0 += OB) {
                vf acc[KB][OB];
                vfu *vk = (vfu *)V + (size_t)k0 * Op + o0;
                for (int a = 0; a < KB; a++)
                    for (int b = 0; b < OB; b++) acc[a][b] = vk[(size_t)a * Op + b];
                for (size_t t0 = 0; t0 < LVm; t0 += VB) {
                    vf sv[KB], dv[OB];
                    for (int a = 0; a < KB; a++) sv[a] = *(const vfu *)(P + off[k0 + a] + t0);
                    for (int b = 0; b < OB; b++)
                        dv[b] = *(const vfu *)(D + (size_t)(o0 + b) * LV + t0);
                    for (int a = 0; a < KB; a++)
                        for (int b = 0; b < OB; b++) acc[a][b] += sv[a] * dv[b];
                }
                for (int a = 0; a < KB; a++)
                    for (int b = 0; b < OB; b++) vk[(size_t)a * Op + b] = acc[a][b];
            }
        }
    }
    for (int k = 0; k < K; k++)
        for (int o = 0; o < O; o++) {
            float sum = 0.f;
            for (int v = 0; v < VB; v++) sum += V[((size_t)k * Op + o) * VB + v];
            dw[(size_t)k * O + o] = sum;
        }
    free(P); free(D); free(V); free(off);
    return 0;
}

/* dx[n] for n < N (dx is [N, H, W, C], overwritten): the transposed convolution.
 * Padded input pixel (pi + sh*a, pj + sw*b) of stride phase (pi, pj) receives
 * sum over (qi, qj, o) of dy[a - qi, b - qj, o] * w[pi + sh*qi, pj + sw*qj, :, o]: per phase,
 * a stride-1 convolution of dy. dy is put on one grid per image, padded by the most taps
 * any phase has (A-1 rows above, B-1 columns left), and every phase reads that grid. */
CLONES int fg_conv2d_backward_input(const float *dy, const float *w, float *dx, int N, int H,
                                    int W, int C, int KH, int KW, int O, int sh, int sw,
                                    int pt, int pl, int OH, int OW)
{
    Geom g; /* only for the phase grid size hq x wq of the padded input */
    geom(&g, H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, 1);
    int A = (KH + sh - 1) / sh, B = (KW + sw - 1) / sw;
    int Wg = g.wq + B - 1, L = g.hq * Wg, Cp = (C + OB - 1) / OB * OB;
    size_t plane = (size_t)(g.hq + A - 1) * Wg + Wg + TB;
    float *D = malloc(sizeof(float) * (size_t)O * plane);
    float *wt = calloc((size_t)KH * KW * O * Cp, sizeof(float)); /* [KH, KW, O, Cp] */
    if (!D || !wt) { free(D); free(wt); return -1; }
    for (int k = 0; k < KH * KW; k++)
        for (int c = 0; c < C; c++)
            for (int o = 0; o < O; o++)
                wt[((size_t)k * O + o) * Cp + c] = w[((size_t)k * C + c) * O + o];
    for (int n = 0; n < N; n++) {
        const float *dyn = dy + (size_t)n * OH * OW * O;
        float *dxn = dx + (size_t)n * H * W * C;
        memset(D, 0, sizeof(float) * (size_t)O * plane);
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int o = 0; o < O; o++)
                    D[o * plane + (size_t)(oy + A - 1) * Wg + ox + B - 1] =
                        dyn[((size_t)oy * OW + ox) * O + o];
        for (int pi = 0; pi < sh; pi++)
            for (int pj = 0; pj < sw; pj++) {
                /* taps of this phase; none (stride > kernel) leaves its pixels at zero */
                int a = pi < KH ? (KH - pi + sh - 1) / sh : 0;
                int b = pj < KW ? (KW - pj + sw - 1) / sw : 0;
                for (int c0 = 0; c0 < C; c0 += OB) {
                    int nc = C - c0 < OB ? C - c0 : OB;
                    for (int t0 = 0; t0 < L; t0 += TB) {
                        vf acc[OB][TV];
                        for (int u = 0; u < OB; u++)
                            for (int v = 0; v < TV; v++) acc[u][v] = (vf){0};
                        for (int qi = 0; qi < a; qi++)
                            for (int qj = 0; qj < b; qj++) {
                                const float *wk = wt + ((size_t)(pi + sh * qi) * KW + pj
                                                        + sw * qj) * O * Cp + c0;
                                const float *s0 = D + (size_t)(A - 1 - qi) * Wg + B - 1 - qj
                                                  + t0;
                                for (int o = 0; o < O; o++, wk += Cp) {
                                    vf sv[TV];
                                    for (int v = 0; v < TV; v++)
                                        sv[v] = *(const vfu *)(s0 + o * plane + v * VB);
                                    for (int u = 0; u < OB; u++)
                                        for (int v = 0; v < TV; v++) acc[u][v] += wk[u] * sv[v];
                                }
                            }
                        float out[OB][TB];
                        memcpy(out, acc, sizeof(out));
                        int tend = t0 + TB < L ? t0 + TB : L, ay = t0 / Wg, bx = t0 % Wg;
                        for (int t = 0; t < tend - t0; t++) {
                            int py = pi + sh * ay - pt, px = pj + sw * bx - pl;
                            if (bx < g.wq && py >= 0 && py < H && px >= 0 && px < W) {
                                float *dst = dxn + ((size_t)py * W + px) * C + c0;
                                for (int u = 0; u < nc; u++) dst[u] = out[u][t];
                            }
                            if (++bx == Wg) { bx = 0; ay++; }
                        }
                    }
                }
            }
    }
    free(D); free(wt);
    return 0;
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

void fg_parallel_adam(const float *const *arrays, long n, const float *scalars, int flush,
                      int active); /* _pool.c */

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
            fg_parallel_adam(arrays, n, scalars, flush, helpers);
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

static PyMethodDef native_methods[] = {
    {"adam_update", (PyCFunction)(void (*)(void))py_adam_update, METH_FASTCALL,
     "Adam's float32 update into m1, v1, var1 (see fg_adam_update)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "_native",
    "float32 convolution kernels; called through ctypes by flowgrad.ops.native", -1,
    native_methods,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&native_module); }
