/* The convolution kernels of _native.c for one vector width, included once per target.
 *
 * The includer defines VB (floats per vector register), KB (filter-gradient taps per
 * register block), FG(name) (a per-target suffix) and the target itself. Register blocks:
 * forward and input gradient keep OB x TV vectors of accumulators, the filter gradient
 * KB x OB: 12 of AVX2's or SSE's 16 registers, 24 of AVX-512's 32 (measured on AVX2: the
 * AVX-512 blocking spilled every accumulator to the stack and ran 10x slower than NumPy).
 * Rounding depends on the target (FMA contraction where it has FMA; the filter gradient sums
 * its VB lanes at the end), never on the number of threads.
 */
#define TB (TV * VB)
typedef float FG(vf) __attribute__((vector_size(VB * sizeof(float))));
typedef float FG(vfu) __attribute__((vector_size(VB * sizeof(float)), aligned(4)));
#define vf FG(vf)
#define vfu FG(vfu)

/* nb: images side by side in one grid, each hq*wq apart. */
static void FG(geom)(Geom *g, int H, int W, int C, int KH, int KW, int O, int sh, int sw,
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
static void FG(to_grid)(const float *x, int m, float *P, const Geom *g)
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

static size_t FG(tap_offset)(const Geom *g, int i, int j, int c)
{
    int nph = g->sh * g->sw;
    return ((size_t)c * nph + (i % g->sh) * g->sw + j % g->sw) * g->plane
           + (size_t)(i / g->sh) * g->wq + j / g->sw;
}

/* y[n] = conv(x[n], w) for n < N; w is [KH, KW, C, O]. Returns 0, or -1 without memory.
 * Epilogue (the executor's fused Conv2D + bias + Relu): bias (NULL: none) is added to each
 * rounded float32 result, then relu clamps like np.maximum(v, 0) (NaN stays NaN), so the
 * fused kernel gives the same bits as the three separate ops. */
static int FG(fg_conv2d_forward)(const float *x, const float *w, float *y, int N, int H,
                                 int W, int C, int KH, int KW, int O, int sh, int sw, int pt,
                                 int pl, int OH, int OW, const float *bias, int relu)
{
    Geom g;
    FG(geom)(&g, H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, 1);
    int L = OH * g.wq, K = KH * KW * C, Op = (O + OB - 1) / OB * OB;
    float *P = malloc(sizeof(float) * (size_t)C * sh * sw * g.plane);
    float *wp = calloc((size_t)K * Op + Op, sizeof(float)); /* [K, Op] then the bias [Op] */
    size_t *off = malloc(sizeof(size_t) * (size_t)K);
    if (!P || !wp || !off) { free(P); free(wp); free(off); return -1; }
    /* per-call tables: tap offsets (integer division is slow in the inner loop), weights
     * and bias padded to whole register blocks */
    for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++)
            for (int c = 0; c < C; c++)
                off[(i * KW + j) * C + c] = FG(tap_offset)(&g, i, j, c);
    for (int k = 0; k < K; k++) memcpy(wp + (size_t)k * Op, w + (size_t)k * O, sizeof(float) * O);
    float *bp = wp + (size_t)K * Op;
    if (bias) memcpy(bp, bias, sizeof(float) * O);
    for (int n = 0; n < N; n++) {
        float *yn = y + (size_t)n * OH * OW * O;
        FG(to_grid)(x + (size_t)n * H * W * C, 1, P, &g);
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
static int FG(fg_conv2d_backward_filter)(const float *x, const float *dy, float *dw, int N,
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
    FG(geom)(&g, H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, nb);
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
            for (int c = 0; c < C; c++)
                off[(i * KW + j) * C + c] = FG(tap_offset)(&g, i, j, c);
    for (int k = K; k < Kp; k++) off[k] = off[0]; /* padding taps, results dropped */
    for (int n0 = 0; n0 < N; n0 += nb) {
        int m = N - n0 < nb ? N - n0 : nb;
        FG(to_grid)(x + (size_t)n0 * H * W * C, m, P, &g);
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
static int FG(fg_conv2d_backward_input)(const float *dy, const float *w, float *dx, int N,
                                        int H, int W, int C, int KH, int KW, int O, int sh,
                                        int sw, int pt, int pl, int OH, int OW)
{
    Geom g; /* only for the phase grid size hq x wq of the padded input */
    FG(geom)(&g, H, W, C, KH, KW, O, sh, sw, pt, pl, OH, OW, 1);
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

#undef vf
#undef vfu
#undef TB
