// blas_trace.c: which GEMMs a workload runs, at how many BLAS threads, and how long each takes.
//
// A preloaded shim over the CBLAS entry points NumPy's bundled OpenBLAS exports (scipy-openblas, 64-bit
// integers: scipy_cblas_sgemm64_ and friends).  It times each call, reads OpenBLAS's thread count at the call,
// and at exit writes one line per (kind, M, N, K, transposes, threads): the count and the mean microseconds.
// Development only (not part of ember).  Build and run:
//
//   gcc -O2 -shared -fPIC benchmarks/blas_trace.c -o /tmp/blas_trace.so -ldl -lpthread
//   export BLAS_TRACE_LIB=$(ls .venv/lib/python3*/site-packages/numpy.libs/libscipy_openblas64_*.so)
//   BLAS_TRACE_OUT=/tmp/gemms.txt LD_PRELOAD=/tmp/blas_trace.so python your_script.py
//
// Kinds: S/D sgemm/dgemm (M N K), v sgemv (M N), y ssyrk (N K).  A GEMM with M*N*K above 2^18 at "th=2" is one
// OpenBLAS splits between its threads (session 14 found LeNet-5's Linear GEMMs there this way).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef int64_t blasint;

#define MAX_ROWS 4096
typedef struct { char kind; long m, n, k; int ta, tb, threads; long count; double seconds; } row_t;
static row_t rows[MAX_ROWS];
static int n_rows = 0;
static pthread_mutex_t rows_lock = PTHREAD_MUTEX_INITIALIZER;

static void *openblas(void) {       /* NumPy loads it locally: look it up by path, not RTLD_NEXT */
    static void *h = NULL;
    const char *path = getenv("BLAS_TRACE_LIB");
    if (!h && path) {
        h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
        if (!h) h = dlopen(path, RTLD_LAZY);
    }
    return h;
}

static void *real(const char *name) {
    void *f = openblas() ? dlsym(openblas(), name) : NULL;
    if (!f) { fprintf(stderr, "blas_trace: %s not found (set BLAS_TRACE_LIB)\n", name); abort(); }
    return f;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void record(char kind, long m, long n, long k, int ta, int tb, double seconds) {
    static int (*get_threads)(void) = NULL;
    if (!get_threads) get_threads = (int (*)(void))real("scipy_openblas_get_num_threads64_");
    int th = get_threads();
    pthread_mutex_lock(&rows_lock);
    int i = 0;
    for (; i < n_rows; i++) {
        row_t *r = &rows[i];
        if (r->kind == kind && r->m == m && r->n == n && r->k == k && r->ta == ta && r->tb == tb && r->threads == th)
            break;
    }
    if (i == n_rows && n_rows < MAX_ROWS) rows[n_rows++] = (row_t){kind, m, n, k, ta, tb, th, 0, 0.0};
    if (i < MAX_ROWS) { rows[i].count++; rows[i].seconds += seconds; }
    pthread_mutex_unlock(&rows_lock);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("BLAS_TRACE_OUT");
    FILE *out = path ? fopen(path, "w") : NULL;
    if (!out) return;
    for (int i = 0; i < n_rows; i++) {
        row_t *r = &rows[i];
        fprintf(out, "%c m=%ld n=%ld k=%ld ta=%d tb=%d th=%d count=%ld us_each=%.1f\n", r->kind, r->m, r->n, r->k,
                r->ta, r->tb, r->threads, r->count, r->seconds / r->count * 1e6);
    }
    fclose(out);
}

typedef void (*sgemm_f)(int, int, int, blasint, blasint, blasint, float, const float *, blasint, const float *,
                        blasint, float, float *, blasint);
void scipy_cblas_sgemm64_(int order, int ta, int tb, blasint m, blasint n, blasint k, float alpha,
                          const float *a, blasint lda, const float *b, blasint ldb, float beta, float *c,
                          blasint ldc) {
    static sgemm_f f = NULL;
    if (!f) f = (sgemm_f)real("scipy_cblas_sgemm64_");
    double t = now();
    f(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    record('S', m, n, k, ta, tb, now() - t);
}

typedef void (*dgemm_f)(int, int, int, blasint, blasint, blasint, double, const double *, blasint,
                        const double *, blasint, double, double *, blasint);
void scipy_cblas_dgemm64_(int order, int ta, int tb, blasint m, blasint n, blasint k, double alpha,
                          const double *a, blasint lda, const double *b, blasint ldb, double beta, double *c,
                          blasint ldc) {
    static dgemm_f f = NULL;
    if (!f) f = (dgemm_f)real("scipy_cblas_dgemm64_");
    double t = now();
    f(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    record('D', m, n, k, ta, tb, now() - t);
}

typedef void (*sgemv_f)(int, int, blasint, blasint, float, const float *, blasint, const float *, blasint, float,
                        float *, blasint);
void scipy_cblas_sgemv64_(int order, int ta, blasint m, blasint n, float alpha, const float *a, blasint lda,
                          const float *x, blasint incx, float beta, float *y, blasint incy) {
    static sgemv_f f = NULL;
    if (!f) f = (sgemv_f)real("scipy_cblas_sgemv64_");
    double t = now();
    f(order, ta, m, n, alpha, a, lda, x, incx, beta, y, incy);
    record('v', m, n, 0, ta, 0, now() - t);
}

typedef void (*ssyrk_f)(int, int, int, blasint, blasint, float, const float *, blasint, float, float *, blasint);
void scipy_cblas_ssyrk64_(int order, int uplo, int trans, blasint n, blasint k, float alpha, const float *a,
                          blasint lda, float beta, float *c, blasint ldc) {
    static ssyrk_f f = NULL;
    if (!f) f = (ssyrk_f)real("scipy_cblas_ssyrk64_");
    double t = now();
    f(order, uplo, trans, n, k, alpha, a, lda, beta, c, ldc);
    record('y', n, n, k, trans, 0, now() - t);
}
