/* The helper threads that run batch parts next to the caller (flowgrad/ops/parallel.py).
 *
 * Why in C: on a small VM, waking a sleeping core costs ~0.05-0.1 ms, and so does every
 * hand-over of Python's GIL between two threads (the waiting one sleeps in the kernel). A W3
 * training step makes 11 parallel runs of ~0.2-0.5 ms; with Python helpers about 1 ms of its
 * 6 ms went to wake-ups. Here a compiled convolution's parts are claimed and run entirely in
 * C, without the GIL, by the caller and by helpers that spin (pause) for a while after each
 * job before they sleep on a condition variable.
 *
 * Helpers are Python threads (parallel.py) that live inside fg_helper_serve; it returns to
 * Python only for a "Python job" (parts that call NumPy/BLAS, see parallel.run), so both
 * kinds of job share one set of threads and one spin.
 *
 * Jobs: one at a time (a second caller runs its parts alone). Parts are claimed through an
 * atomic counter, so which thread runs a part never changes its result. The caller returns
 * only when no helper can touch its job any more: helpers count themselves in `inside`
 * before they load the job pointer, and the caller clears the pointer, then waits for
 * `inside` to drain (sequentially consistent atomics throughout).
 */
#include <pthread.h>
#include <time.h>

int fg_conv2d_forward(const float *x, const float *w, float *y, int N, int H, int W, int C,
                      int KH, int KW, int O, int sh, int sw, int pt, int pl, int OH, int OW,
                      const float *bias, int relu);
int fg_conv2d_backward_filter(const float *x, const float *dy, float *dw, int N, int H, int W,
                              int C, int KH, int KW, int O, int sh, int sw, int pt, int pl,
                              int OH, int OW);
int fg_conv2d_backward_input(const float *dy, const float *w, float *dx, int N, int H, int W,
                             int C, int KH, int KW, int O, int sh, int sw, int pt, int pl,
                             int OH, int OW);
void fg_adam_update(const float *g, const float *m, const float *v, const float *var, float *m1,
                    float *v1, float *var1, long n, float omb1, float omb2, float alpha,
                    float eps, int flush);
void fg_gemm_rows(const float *a, const float *b, float *c, const int *dims, long m0, long m1,
                  const float *bias, int relu); /* _gemm.c */

enum { JOB_PYTHON = 0, JOB_FORWARD = 1, JOB_FILTER = 2, JOB_INPUT = 3, JOB_GEMM = 4,
       JOB_ADAM_GROUP = 5 };
#define SEQ __ATOMIC_SEQ_CST

typedef struct {
    int kind, parts, active; /* helpers 0..active-1 may take parts */
    int next, finished, status;
    const float *a, *b, *bias;
    float *out;
    float *const *outs; /* filter gradient: one output per part */
    int relu;
    const int *bounds; /* part p: images bounds[p] .. bounds[p+1] */
    int g[12];         /* H W C KH KW O sh sw pt pl OH OW; products: ta tb n k lda ldb ldc */
    const float *const *arrays; /* Adam: g m v var m1 v1 var1 per variable, 4 scalars */
    long n;                     /* products: rows */
    const long *offsets;        /* Adam: variable i's elements offsets[i]..[i+1] */
    const int *flags;           /* Adam: flush per variable */
    int k;                      /* Adam: variables */
    const float *scalars;
} fg_job;

static struct {
    pthread_mutex_t slot, mu;
    pthread_cond_t cv;
    fg_job *job;
    long long ticket; /* jobs posted so far */
    int sleepers, inside, helpers;
    long spin_usec;
} P = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
       NULL, 0, 0, 0, 0, 1000};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long usec_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000000L + (t.tv_nsec - t0->tv_nsec) / 1000;
}

/* Spin-waits until the sum of n int64 counters reaches target or usec microseconds pass;
 * returns the last sum (parallel.py waits for its Python parts with it). */
long long fg_spin_until(const long long *counters, int n, long long target, long usec)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0;; i++) {
        long long sum = 0;
        for (int k = 0; k < n; k++)
            sum += __atomic_load_n(&counters[k], SEQ);
        if (sum >= target || ((i & 63) == 63 && usec_since(&t0) >= usec))
            return sum;
        cpu_relax();
    }
}

static int run_part(const fg_job *j, int p)
{
    const int *g = j->g;
    if (j->kind == JOB_ADAM_GROUP) { /* one range over all variables, cut in equal parts */
        const long *off = j->offsets;
        long lo = off[j->k] * p / j->parts, hi = off[j->k] * (p + 1) / j->parts;
        const float *s = j->scalars;
        for (int i = 0; i < j->k; i++) {
            long a = lo > off[i] ? lo : off[i], b = hi < off[i + 1] ? hi : off[i + 1];
            const float *const *x = j->arrays + 7 * i;
            long d = a - off[i];
            if (a < b)
                fg_adam_update(x[0] + d, x[1] + d, x[2] + d, x[3] + d, (float *)x[4] + d,
                               (float *)x[5] + d, (float *)x[6] + d, b - a, s[0], s[1], s[2],
                               s[3], j->flags[i]);
        }
        return 0;
    }
    if (j->kind == JOB_GEMM) { /* rows as parallel.split cuts them */
        fg_gemm_rows(j->a, j->b, j->out, g, j->n * p / j->parts, j->n * (p + 1) / j->parts,
                     j->bias, j->relu);
        return 0;
    }
    int n0 = j->bounds[p], n = j->bounds[p + 1] - n0;
    long in_img = (long)g[0] * g[1] * g[2], out_img = (long)g[10] * g[11] * g[5];
    switch (j->kind) {
    case JOB_FORWARD:
        return fg_conv2d_forward(j->a + n0 * in_img, j->b, j->out + n0 * out_img, n, g[0],
                                 g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10],
                                 g[11], j->bias, j->relu);
    case JOB_FILTER:
        return fg_conv2d_backward_filter(j->a + n0 * in_img, j->b + n0 * out_img, j->outs[p],
                                         n, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
                                         g[8], g[9], g[10], g[11]);
    case JOB_INPUT:
        return fg_conv2d_backward_input(j->a + n0 * out_img, j->b, j->out + n0 * in_img, n,
                                        g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8],
                                        g[9], g[10], g[11]);
    }
    return -1;
}

static void claim_parts(fg_job *j)
{
    for (;;) {
        int p = __atomic_fetch_add(&j->next, 1, SEQ);
        if (p >= j->parts)
            return;
        int r = run_part(j, p);
        if (r)
            __atomic_store_n(&j->status, r, SEQ);
        __atomic_add_fetch(&j->finished, 1, SEQ);
    }
}

static void post(fg_job *j)
{
    __atomic_store_n(&P.job, j, SEQ);
    __atomic_add_fetch(&P.ticket, 1, SEQ);
    if (__atomic_load_n(&P.sleepers, SEQ)) {
        pthread_mutex_lock(&P.mu);
        pthread_cond_broadcast(&P.cv);
        pthread_mutex_unlock(&P.mu);
    }
}

static void retire(void)
{
    __atomic_store_n(&P.job, NULL, SEQ);
    while (__atomic_load_n(&P.inside, SEQ) > 0)
        cpu_relax();
    pthread_mutex_unlock(&P.slot);
}

static int run_job(fg_job *j)
{
    int shared = j->active > 0 && __atomic_load_n(&P.helpers, SEQ) > 0 &&
                 pthread_mutex_trylock(&P.slot) == 0;
    if (shared)
        post(j);
    claim_parts(j);
    if (shared) {
        while (__atomic_load_n(&j->finished, SEQ) < j->parts) /* parts helpers are running */
            cpu_relax();
        retire();
    }
    return j->status;
}

/* Runs a compiled convolution's parts on the caller and up to `active` helpers; returns
 * nonzero if a part failed (out of memory for its scratch grid). */
int fg_parallel_conv(int kind, const float *a, const float *b, float *out, float *const *outs,
                     const float *bias, int relu, const int *g, int parts, const int *bounds,
                     int active)
{
    fg_job j = {.kind = kind, .parts = parts, .active = active, .a = a, .b = b, .bias = bias,
                .out = out, .outs = outs, .relu = relu, .bounds = bounds};
    for (int i = 0; i < 12; i++)
        j.g[i] = g[i];
    return run_job(&j);
}

/* Adam's update of k variables (arrays: g m v var m1 v1 var1 of each) as `parts` equal
 * ranges of all their elements, on the caller and up to `active` helpers. */
int fg_parallel_adam_group(const float *const *arrays, const long *offsets, const int *flush,
                           int k, const float *scalars, int parts, int active)
{
    fg_job j = {.kind = JOB_ADAM_GROUP, .parts = parts, .active = active, .arrays = arrays,
                .offsets = offsets, .flags = flush, .k = k, .scalars = scalars};
    return run_job(&j);
}

/* out = relu?(op(a) @ op(b) + bias), its m rows in `parts` parts on the caller and up to
 * `active` helpers (dims: see fg_gemm_rows). */
int fg_parallel_gemm(const float *a, const float *b, float *c, const int *dims, long m,
                     const float *bias, int relu, int parts, int active)
{
    fg_job j = {.kind = JOB_GEMM, .parts = parts, .active = active, .a = a, .b = b,
                .out = c, .bias = bias, .relu = relu, .n = m};
    for (int i = 0; i < 7; i++)
        j.g[i] = dims[i];
    return run_job(&j);
}

/* A Python job: parallel.run's parts, drained by Python code on every thread. Returns 0 if
 * another job holds the helpers (the caller then runs its parts alone). */
int fg_python_job_begin(int active)
{
    static fg_job pyjob;
    if (__atomic_load_n(&P.helpers, SEQ) == 0 || pthread_mutex_trylock(&P.slot) != 0)
        return 0;
    pyjob.kind = JOB_PYTHON;
    pyjob.active = active;
    post(&pyjob);
    return 1;
}

void fg_python_job_end(void) { retire(); }

/* Helper h's life: waits for jobs (spinning spin_usec, then sleeping), runs compiled jobs
 * here, and returns 1 to its Python loop for a Python job. `seen`: the last ticket seen.
 * A helper that had no place in the last job (h >= active: small jobs on a many-core
 * machine) goes back to sleep without spinning; one that found the job gone spins on. */
int fg_helper_serve(int h, long long *seen)
{
    int spin = 1;
    for (;;) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; __atomic_load_n(&P.ticket, SEQ) <= *seen; i++) {
            if (!spin ||
                ((i & 63) == 63 && usec_since(&t0) >= __atomic_load_n(&P.spin_usec, SEQ))) {
                pthread_mutex_lock(&P.mu);
                __atomic_add_fetch(&P.sleepers, 1, SEQ);
                while (__atomic_load_n(&P.ticket, SEQ) <= *seen)
                    pthread_cond_wait(&P.cv, &P.mu);
                __atomic_sub_fetch(&P.sleepers, 1, SEQ);
                pthread_mutex_unlock(&P.mu);
                break;
            }
            cpu_relax();
        }
        *seen = __atomic_load_n(&P.ticket, SEQ);
        __atomic_add_fetch(&P.inside, 1, SEQ);
        fg_job *j = __atomic_load_n(&P.job, SEQ);
        int mine = j != NULL && h < j->active;
        int python = mine && j->kind == JOB_PYTHON;
        if (mine && !python)
            claim_parts(j);
        /* A job already retired (its caller ran every part before this helper looked) means
         * jobs come fast: keep spinning. Sleeping here made the helper miss every small job
         * after the first (each wake-up ~50 us, longer than such a job). */
        spin = j == NULL || mine;
        __atomic_sub_fetch(&P.inside, 1, SEQ);
        if (python)
            return 1;
    }
}

/* parallel.py registers its helper threads (they call fg_helper_serve) and the spin. */
void fg_pool_config(int helpers, long spin_usec)
{
    __atomic_store_n(&P.helpers, helpers, SEQ);
    __atomic_store_n(&P.spin_usec, spin_usec, SEQ);
}

/* A forked child has none of the parent's threads; a lock one of them held never opens. */
static void after_fork_in_child(void)
{
    pthread_mutex_init(&P.slot, NULL);
    pthread_mutex_init(&P.mu, NULL);
    pthread_cond_init(&P.cv, NULL);
    P.job = NULL;
    P.sleepers = P.inside = P.helpers = 0;
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, after_fork_in_child);
}
