/* ember's optional compiled kernels.
 *
 * NumPy runs every op of ember; this file only makes a few of them faster where NumPy needs many passes over
 * memory or many calls for one formula (GELU's erf fit: ~30 passes and an exp; an LSTM step's gates and
 * state: ~10 calls).  Each function computes, in one pass, what its NumPy twin in ember/ops computes pass by
 * pass; module.c checks the arrays ember passes (ember/ops/_ckernels.py) and calls these with the GIL
 * released, so ember's thread sections can split them over cores.  When this file is not compiled (no C
 * compiler at install time) or EMBER_KERNELS=numpy is set, ember uses the NumPy twins: every op exists and
 * is tested without it.
 *
 * Plain C99 over arrays of n elements or rows; no Python objects, no allocation, no global state (the LSTM
 * layer's loops call the GEMM of NumPy's BLAS through the addresses the caller passes).  Built
 * by setup.py with -O3 -fno-trapping-math -fno-math-errno (which let the compiler vectorize the loops
 * without changing any value) and -ffp-contract=off (a * b + c is never fused behind our back: where a fused
 * multiply-add is meant, fmaf says so).  On x86-64 with GCC each kernel is compiled for AVX-512, AVX2 and
 * baseline x86-64 and the loader picks the one the CPU runs (target_clones), so a build moves between
 * machines.
 *
 * Values: the kernels use their own exp (float32 within 1 ulp, float64 within 0.9: below), so their results
 * agree with the NumPy twins to a few ulp, not bit for bit (tests hold both to PyTorch); the float64 GELU
 * calls the C library's erf and exp, as its twin does through math.erf and np.exp (the forward is the
 * twin's bits); im2col and the pixel-major columns (copies), cumsum, the LSTM backward, the pixel-major
 * col2im, max pooling's backward, Winograd's transforms and SGD's momentum step (the same operations in the
 * same order) are their twins' bits (a NaN's payload aside).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define EMBER_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EMBER_CLONES
#endif

static inline float bits_to_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t float_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* exp(x) for float32, branch-free so that the loops around it vectorize: Cody and Waite's reduction
 * x = k ln2 + r (ln 2 in two parts), Cephes' degree-6 polynomial for exp(r) on |r| <= ln2 / 2, and 2^k
 * applied in two halves so that results in the subnormal range round once, correctly.  Inputs are clamped to
 * [-104, 89] first (exp(-104) rounds to 0, exp(89) overflows to inf); NaN passes (its comparisons are false
 * and every step keeps it).  Measured within 0.7 ulp of the float64 exp over normal results. */
static inline float exp_f32(float x)
{
    x = x < -104.0f ? -104.0f : x;
    x = x > 89.0f ? 89.0f : x;
    /* k = rint(x log2 e): adding 1.5 * 2^23 rounds to an integer, which is then the float's low bits */
    const float kf = fmaf(x, 1.44269504088896341f, 12582912.0f);
    const float k = kf - 12582912.0f;
    const int32_t ki = (int32_t)(float_to_bits(kf) - 0x4B400000u);
    float r = fmaf(-k, 0.693359375f, x);
    r = fmaf(-k, -2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    p = fmaf(p * r, r, r) + 1.0f;
    const int32_t k1 = ki >> 1, k2 = ki - k1;      /* each in [-75, 65]: 2^k1 and 2^k2 are normal floats */
    return (p * bits_to_float((uint32_t)(k1 + 127) << 23)) * bits_to_float((uint32_t)(k2 + 127) << 23);
}

/* tanh(x) for float32 (Cephes' tanhf): x + x^3 P(x^2) for |x| < 0.625, else 1 - 2 / (exp(2|x|) + 1) with x's
 * sign; both computed and one taken, branch-free.  Within 2 ulp; tanh(+-inf) = +-1, NaN passes. */
static inline float tanh_f32(float x)
{
    const float ax = fabsf(x);
    const float z = x * x;
    float s = -5.70498872745e-3f;
    s = fmaf(s, z, 2.06390887954e-2f);
    s = fmaf(s, z, -5.37397155531e-2f);
    s = fmaf(s, z, 1.33314422036e-1f);
    s = fmaf(s, z, -3.33332819422e-1f);
    const float small = copysignf(fmaf(s * z, x, x), x);      /* (keeps tanh(-0.0) = -0.0) */
    const float big = copysignf(1.0f - 2.0f / (exp_f32(ax + ax) + 1.0f), x);
    return ax < 0.625f ? small : big;
}

/* erfc(|z|) for float32: the Chebyshev fit of Numerical Recipes (relative error about 1.2e-7 everywhere),
 * ember.ops.elementwise._erfc_abs's formula in one pass. */
static inline float erfc_abs_f32(float z)
{
    const float az = fabsf(z);
    const float t = 1.0f / fmaf(az, 0.5f, 1.0f);
    float p = 0.17087277f;
    p = fmaf(p, t, -0.82215223f);
    p = fmaf(p, t, 1.48851587f);
    p = fmaf(p, t, -1.13520398f);
    p = fmaf(p, t, 0.27886807f);
    p = fmaf(p, t, -0.18628806f);
    p = fmaf(p, t, 0.09678418f);
    p = fmaf(p, t, 0.37409196f);
    p = fmaf(p, t, 1.00002368f);
    p = fmaf(p, t, -1.26551223f);
    return t * exp_f32(fmaf(-az, az, p));
}

/* 1 + erf(x / sqrt 2), twice the normal CDF, from erfc alone (accurate where 1 + erf would cancel) */
static inline float cdf2_f32(float x)
{
    const float z = x * 0.70710678118654752f;
    const float e = erfc_abs_f32(z);
    return z > 0.0f ? 2.0f - e : e;
}

#define GELU_K 0.79788456080286536f          /* sqrt(2 / pi) */
#define GELU_C 0.044715f
#define INV_SQRT_2PI_F 0.39894228040143268f

/* GELU forward, float32: 0.5 x (1 + erf(x / sqrt 2)), or with tanh_approx 0.5 x (1 + tanh(sqrt(2/pi)
 * (x + 0.044715 x^3))), as ember.ops.activation._gelu_fwd */
EMBER_CLONES
void ember_gelu_f32(const float *restrict x, float *restrict y, long n, int tanh_approx)
{
    if (tanh_approx) {
        for (long i = 0; i < n; i++) {
            const float a = x[i];
            y[i] = 0.5f * a * (1.0f + tanh_f32(GELU_K * (a + GELU_C * a * a * a)));
        }
    } else {
        for (long i = 0; i < n; i++) {
            const float a = x[i];
            y[i] = 0.5f * a * cdf2_f32(a);
        }
    }
}

/* GELU backward, float32: out = g * gelu'(x), the derivative as ember.ops.activation._gelu_d writes it */
EMBER_CLONES
void ember_gelu_grad_f32(const float *restrict x, const float *restrict g, float *restrict out, long n,
                         int tanh_approx)
{
    if (tanh_approx) {
        for (long i = 0; i < n; i++) {
            const float a = x[i];
            const float t = tanh_f32((a + a * a * a * GELU_C) * GELU_K);
            const float d = (t + 1.0f) * 0.5f + a * (1.0f - t * t) * (a * a * 0.134145f + 1.0f) *
                            (0.5f * GELU_K);
            out[i] = g[i] * d;
        }
    } else {
        for (long i = 0; i < n; i++) {
            const float a = x[i];
            const float d = cdf2_f32(a) * 0.5f + a * exp_f32(a * a * -0.5f) * INV_SQRT_2PI_F;
            out[i] = g[i] * d;
        }
    }
}

#define SQRT2_D 1.4142135623730951
#define INV_SQRT_2PI_D 0.3989422804014327

/* GELU forward, float64, exact form: 0.5 x (1 + erf(x / sqrt 2)) with the C library's erf (CPython's
 * math.erf is the same function): the NumPy twin's bits. */
void ember_gelu_f64(const double *restrict x, double *restrict y, long n)
{
    for (long i = 0; i < n; i++) {
        const double a = x[i];
        y[i] = 0.5 * a * (1.0 + erf(a / SQRT2_D));
    }
}

/* GELU backward, float64, exact form: out = g * ((1 + erf(x / sqrt 2)) * 0.5 + x exp(-x^2 / 2) / sqrt(2 pi)) */
void ember_gelu_grad_f64(const double *restrict x, const double *restrict g, double *restrict out, long n)
{
    for (long i = 0; i < n; i++) {
        const double a = x[i];
        const double d = (1.0 + erf(a / SQRT2_D)) * 0.5 + a * exp(a * a * -0.5) * INV_SQRT_2PI_D;
        out[i] = g[i] * d;
    }
}

static inline double bits_to_double(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline uint64_t double_to_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/* exp(x) for float64, branch-free (the C library's exp is a scalar call): x = k ln2 + r as above (ln 2 in
 * fdlibm's two parts), exp(r) from its Taylor polynomial to degree 13 (truncation below 4e-18 relative on
 * |r| <= ln2 / 2), 2^k in two halves (subnormal results rounded once).  Inputs clamped to [-746, 710]; NaN
 * passes.  Within about 1 ulp of the exact value. */
static inline double exp_f64(double x)
{
    x = x < -746.0 ? -746.0 : x;
    x = x > 710.0 ? 710.0 : x;
    const double magic = 6755399441055744.0;      /* 1.5 * 2^52: adding it rounds to an integer */
    const double k = fma(x, 1.4426950408889634, magic) - magic;
    double r = fma(-k, 6.93147180369123816490e-01, x);
    r = fma(-k, 1.90821492927058770002e-10, r);
    double p = 1.0 / 6227020800.0;                                  /* 1 / 13! */
    p = fma(p, r, 1.0 / 479001600.0);
    p = fma(p, r, 1.0 / 39916800.0);
    p = fma(p, r, 1.0 / 3628800.0);
    p = fma(p, r, 1.0 / 362880.0);
    p = fma(p, r, 1.0 / 40320.0);
    p = fma(p, r, 1.0 / 5040.0);
    p = fma(p, r, 1.0 / 720.0);
    p = fma(p, r, 1.0 / 120.0);
    p = fma(p, r, 1.0 / 24.0);
    p = fma(p, r, 1.0 / 6.0);
    p = fma(p, r, 0.5);
    p = fma(p, r, 1.0);
    p = fma(p, r, 1.0);
    /* 2^k1 2^k2 with k1 = floor(k / 2), k2 = k - k1, each in [-539, 513]: their exponent fields from the
     * integers' bits after the same rounding trick (no 64-bit arithmetic shift, which AVX2 lacks) */
    const double k1 = floor(k * 0.5), k2 = k - k1;
    const uint64_t e1 = double_to_bits(k1 + 1023.0 + magic) - double_to_bits(magic);
    const uint64_t e2 = double_to_bits(k2 + 1023.0 + magic) - double_to_bits(magic);
    return (p * bits_to_double(e1 << 52)) * bits_to_double(e2 << 52);
}

/* One LSTM step's pointwise work, for the cell (ember.ops.rnn_cell.LSTMCellFn) and the layer's loop
 * (ember.ops.rnn._lstm_forward_rows), as their NumPy twin computes it: ``z`` (n rows of 4H, row stride zs)
 * holds the gates' pre-activations scaled by -1 (i, f, o) and -2 (g) and is overwritten by the activated
 * gates, sigmoid = 1 / (1 + exp(-z)) and tanh(z) = 2 sigmoid(2z) - 1 (``_lstm_gates_``); then
 * c = f c_prev + i g, tc = tanh(c) and h = o tc, each (n, H) with its own row stride. */
#define LSTM_POINTWISE(T, EXP, TANH)                                                                          \
    for (long row = 0; row < n; row++) {                                                                      \
        T *zr = z + row * zs;                                                                                 \
        for (long j = 0; j < 4 * H; j++)                                                                      \
            zr[j] = (T)1 / (EXP(zr[j]) + (T)1);                                                               \
        T *ig = zr, *fg = zr + H, *gg = zr + 2 * H, *og = zr + 3 * H;                                         \
        const T *cp = c_prev + row * cps;                                                                     \
        T *cr = c + row * cs, *tcr = tc + row * tcs, *hr = h + row * hs;                                      \
        for (long j = 0; j < H; j++) {                                                                        \
            const T g = gg[j] * (T)2 - (T)1;                                                                  \
            gg[j] = g;                                                                                        \
            const T cn = fg[j] * cp[j] + ig[j] * g;                                                           \
            const T t = TANH(cn);                                                                             \
            cr[j] = cn;                                                                                       \
            tcr[j] = t;                                                                                       \
            hr[j] = og[j] * t;                                                                                \
        }                                                                                                     \
    }

/* tanh(x) = 2 / (1 + exp(-2x)) - 1 for float64, as ember.ops.rnn_cell._tanh computes it where NumPy's float64
 * tanh is a scalar loop (exact to about one epsilon absolute near 0, the limits +-1 far out) */
static inline double tanh_f64(double x) { return 2.0 / (1.0 + exp_f64(-2.0 * x)) - 1.0; }

EMBER_CLONES
void ember_lstm_pointwise_f32(float *restrict z, long zs, const float *restrict c_prev, long cps,
                              float *restrict c, long cs, float *restrict tc, long tcs, float *restrict h,
                              long hs, long n, long H)
{
    LSTM_POINTWISE(float, exp_f32, tanh_f32)
}

EMBER_CLONES
void ember_lstm_pointwise_f64(double *restrict z, long zs, const double *restrict c_prev, long cps,
                              double *restrict c, long cs, double *restrict tc, long tcs, double *restrict h,
                              long hs, long n, long H)
{
    LSTM_POINTWISE(double, exp_f64, tanh_f64)
}

/* One LSTM step's pointwise backward, as the layer's loop (ember.ops.rnn._lstm_backward_rows) computes it:
 * from the activated gates g (n, 4H), the step's c_prev, tanh(c) and output gradient, and the gradients
 * dh_next, dc_next flowing in from the step after, write the pre-activation gradient dz (n, 4H) and
 * dc_out = dc f (the state gradient for the step before).  dh = dout + dh_next; dc = dh o (1 - tanh(c)^2)
 * + dc_next; dz = (dc g, dc c_prev, dc i, dh tanh(c)) times each gate's derivative, 0.25 - (a - 0.5)^2 for
 * the sigmoid gates and 1 - g^2 for g.  No output overlaps an input. */
#define LSTM_BACKWARD_POINTWISE(T)                                                                            \
    for (long row = 0; row < n; row++) {                                                                      \
        const T *ig = g + row * gs, *fg = ig + H, *gg = ig + 2 * H, *og = ig + 3 * H;                         \
        const T *cp = c_prev + row * cps, *tcr = tc + row * tcs, *dor = dout + row * dos;                     \
        const T *dhn = dh_next + row * dhs, *dcn = dc_next + row * dcs;                                       \
        T *dzi = dz + row * dzs, *dzf = dzi + H, *dzg = dzi + 2 * H, *dzo = dzi + 3 * H;                      \
        T *dco = dc_out + row * dcos;                                                                         \
        for (long j = 0; j < H; j++) {                                                                        \
            const T dh = dor[j] + dhn[j];                                                                     \
            const T t = tcr[j];                                                                               \
            const T dc = dh * og[j] * ((T)1 - t * t) + dcn[j];                                                \
            const T ai = ig[j] - (T)0.5, af = fg[j] - (T)0.5, ao = og[j] - (T)0.5, gv = gg[j];                \
            dzo[j] = dh * t * ((T)0.25 - ao * ao);                                                            \
            dzi[j] = dc * gv * ((T)0.25 - ai * ai);                                                           \
            dzf[j] = dc * cp[j] * ((T)0.25 - af * af);                                                        \
            dzg[j] = dc * ig[j] * ((T)1 - gv * gv);                                                           \
            dco[j] = dc * fg[j];                                                                              \
        }                                                                                                     \
    }

EMBER_CLONES
void ember_lstm_backward_pointwise_f32(const float *restrict g, long gs, const float *restrict c_prev, long cps,
                                       const float *restrict tc, long tcs, const float *restrict dout, long dos,
                                       const float *restrict dh_next, long dhs, const float *restrict dc_next,
                                       long dcs, float *restrict dz, long dzs, float *restrict dc_out, long dcos,
                                       long n, long H)
{
    LSTM_BACKWARD_POINTWISE(float)
}

EMBER_CLONES
void ember_lstm_backward_pointwise_f64(const double *restrict g, long gs, const double *restrict c_prev,
                                       long cps, const double *restrict tc, long tcs,
                                       const double *restrict dout, long dos, const double *restrict dh_next,
                                       long dhs, const double *restrict dc_next, long dcs, double *restrict dz,
                                       long dzs, double *restrict dc_out, long dcos, long n, long H)
{
    LSTM_BACKWARD_POINTWISE(double)
}

/* A GEMM through the BLAS that NumPy uses (its cblas_sgemm / cblas_dgemm, found by ember/ops/_blas_gemm.py):
 * C (m, n) = A (m, k) @ B (k, n), row-major, leading dimensions in items, beta 0 (NumPy's matmul calls it so:
 * the same bits).  An ILP64 build (OpenBLAS's USE64BITINT) takes 64-bit integers, others 32-bit. */
#define CBLAS_ROW_MAJOR 101
#define CBLAS_NO_TRANS 111
typedef void (*sgemm32_fn)(int, int, int, int32_t, int32_t, int32_t, float, const float *, int32_t, const float *,
                           int32_t, float, float *, int32_t);
typedef void (*sgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                           int64_t, float, float *, int64_t);
typedef void (*dgemm32_fn)(int, int, int, int32_t, int32_t, int32_t, double, const double *, int32_t,
                           const double *, int32_t, double, double *, int32_t);
typedef void (*dgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                           const double *, int64_t, double, double *, int64_t);

/* gemm_f32 / gemm_f64: the call above through the address and integer width in *b */
#define GEMM_THROUGH(SUFFIX, T, FIELD, FN32, FN64)                                                            \
    static void gemm_##SUFFIX(const ember_blas *b, long m, long n, long k, const T *A, long lda, const T *B,  \
                              long ldb, T *C, long ldc)                                                       \
    {                                                                                                         \
        if (b->ilp64)                                                                                         \
            ((FN64)b->FIELD)(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, m, n, k, (T)1, A, lda, B, ldb,  \
                             (T)0, C, ldc);                                                                   \
        else                                                                                                  \
            ((FN32)b->FIELD)(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, (int32_t)m, (int32_t)n,         \
                             (int32_t)k, (T)1, A, (int32_t)lda, B, (int32_t)ldb, (T)0, C, (int32_t)ldc);      \
    }
GEMM_THROUGH(f32, float, sgemm, sgemm32_fn, sgemm64_fn)
GEMM_THROUGH(f64, double, dgemm, dgemm32_fn, dgemm64_fn)

/* The LSTM layer's forward loop (ember.ops.rnn._lstm_forward_rows for the exp gates, unmasked), every step in
 * one call: step t's GEMM rows[t] (n, K) @ W (K, 4H) into G[t], then ember_lstm_pointwise with the state
 * before (c0 at the first step, C[t -+ 1] after) into C[t], TC[t] and Hv[t].  Steps run t = 0..L-1, or
 * L-1..0 with ``reverse``.  Hv[t] is where the next step's row keeps h_{t}: the caller's arrays make it so.
 * Strides in items: ``*_t`` between steps, ``*_r`` between rows. */
#define LSTM_FORWARD_LOOP(T, GEMM, POINTWISE)                                                                 \
    for (long k = 0; k < L; k++) {                                                                            \
        const long t = reverse ? L - 1 - k : k;                                                               \
        T *g = G + t * g_t;                                                                                   \
        GEMM(blas, n, 4 * H, K, rows + t * rows_t, rows_r, W, 4 * H, g, g_r);                                 \
        const T *cp = k == 0 ? c0 : C + (reverse ? t + 1 : t - 1) * c_t;                                      \
        POINTWISE(g, g_r, cp, k == 0 ? c0_r : c_r, C + t * c_t, c_r, TC + t * tc_t, tc_r, Hv + t * h_t, h_r,  \
                  n, H);                                                                                      \
    }

void ember_lstm_forward_loop_f32(const ember_blas *blas, float *rows, long rows_t, long rows_r, long K,
                                 const float *W, float *G, long g_t, long g_r, const float *c0, long c0_r,
                                 float *C, long c_t, long c_r, float *TC, long tc_t, long tc_r, float *Hv,
                                 long h_t, long h_r, long L, long n, long H, int reverse)
{
    LSTM_FORWARD_LOOP(float, gemm_f32, ember_lstm_pointwise_f32)
}

void ember_lstm_forward_loop_f64(const ember_blas *blas, double *rows, long rows_t, long rows_r, long K,
                                 const double *W, double *G, long g_t, long g_r, const double *c0, long c0_r,
                                 double *C, long c_t, long c_r, double *TC, long tc_t, long tc_r, double *Hv,
                                 long h_t, long h_r, long L, long n, long H, int reverse)
{
    LSTM_FORWARD_LOOP(double, gemm_f64, ember_lstm_pointwise_f64)
}

/* The LSTM layer's backward loop (ember.ops.rnn._lstm_backward_rows, unmasked), every step in one call: in the
 * forward's order backwards, ember_lstm_backward_pointwise of step t into dZ[t] and the next state gradient
 * dc, then dh = dZ[t] (n, 4H) @ W_hh (4H, H).  ``dh`` (n, H, contiguous) holds dh_n on entry and dh_0 on
 * return, ``dc`` likewise (``dc2``, of its shape, is the other buffer of each step's dc). */
#define LSTM_BACKWARD_LOOP(T, GEMM, POINTWISE)                                                                \
    T *dcs[2] = {dc, dc2};                                                                                    \
    int cur = 0;                                                                                              \
    for (long k = 0; k < L; k++) {                                                                            \
        const long t = reverse ? k : L - 1 - k;                                                               \
        const int last = reverse ? t == L - 1 : t == 0;                                                       \
        const T *cp = last ? c0 : C + (reverse ? t + 1 : t - 1) * c_t;                                       \
        T *dz = dZ + t * dz_t;                                                                                \
        POINTWISE(G + t * g_t, g_r, cp, last ? c0_r : c_r, TC + t * tc_t, tc_r, dout + t * do_t, do_r, dh, H,  \
                  dcs[cur], H, dz, dz_r, dcs[1 - cur], H, n, H);                                              \
        cur = 1 - cur;                                                                                        \
        GEMM(blas, n, H, 4 * H, dz, dz_r, w_hh, H, dh, H);                                                    \
    }                                                                                                         \
    if (cur) memcpy(dc, dc2, sizeof(T) * (size_t)(n * H));

void ember_lstm_backward_loop_f32(const ember_blas *blas, const float *G, long g_t, long g_r, const float *C,
                                  long c_t, long c_r, const float *TC, long tc_t, long tc_r, const float *dout,
                                  long do_t, long do_r, const float *c0, long c0_r, const float *w_hh, float *dZ,
                                  long dz_t, long dz_r, float *dh, float *dc, float *dc2, long L, long n, long H,
                                  int reverse)
{
    LSTM_BACKWARD_LOOP(float, gemm_f32, ember_lstm_backward_pointwise_f32)
}

void ember_lstm_backward_loop_f64(const ember_blas *blas, const double *G, long g_t, long g_r, const double *C,
                                  long c_t, long c_r, const double *TC, long tc_t, long tc_r, const double *dout,
                                  long do_t, long do_r, const double *c0, long c0_r, const double *w_hh,
                                  double *dZ, long dz_t, long dz_r, double *dh, double *dc, double *dc2, long L,
                                  long n, long H, int reverse)
{
    LSTM_BACKWARD_LOOP(double, gemm_f64, ember_lstm_backward_pointwise_f64)
}

/* exp over an array with the kernels' own exp (tests hold it to the exact value) */
EMBER_CLONES
void ember_exp_f32(const float *restrict x, float *restrict y, long n)
{
    for (long i = 0; i < n; i++) y[i] = exp_f32(x[i]);
}

EMBER_CLONES
void ember_exp_f64(const double *restrict x, double *restrict y, long n)
{
    for (long i = 0; i < n; i++) y[i] = exp_f64(x[i]);
}

EMBER_CLONES
void ember_tanh_f32(const float *restrict x, float *restrict y, long n)
{
    for (long i = 0; i < n; i++) y[i] = tanh_f32(x[i]);
}

/* ReLU, x < 0 ? 0 : x: NumPy's maximum(0, x) bit for bit (-0.0 and NaN, payload and sign, pass), as PyTorch's
 * relu; its backward from the output o, o <= 0 ? 0 : g (+0.0 there; a NaN output passes its gradient), as
 * PyTorch's threshold_backward and ember's where(o <= 0, 0, g).  One pass where NumPy made two or three. */
#define RELU_KERNELS(T, SUFFIX)                                                                               \
    EMBER_CLONES void ember_relu_##SUFFIX(const T *restrict x, T *restrict y, long n)                         \
    {                                                                                                         \
        for (long i = 0; i < n; i++) y[i] = x[i] < (T)0 ? (T)0 : x[i];                                        \
    }                                                                                                         \
    EMBER_CLONES void ember_relu_grad_##SUFFIX(const T *restrict o, const T *restrict g, T *restrict out,     \
                                               long n)                                                        \
    {                                                                                                         \
        for (long i = 0; i < n; i++) out[i] = o[i] <= (T)0 ? (T)0 : g[i];                                     \
    }
RELU_KERNELS(float, f32)
RELU_KERNELS(double, f64)

/* sigmoid(x) = 1 / (1 + exp(-x)), as ember.ops._elementwise_unary._sigmoid_fwd computes it (exp(-x) = inf
 * far below 0 gives the limit 0) */
EMBER_CLONES
void ember_sigmoid_f32(const float *restrict x, float *restrict y, long n)
{
    for (long i = 0; i < n; i++) y[i] = 1.0f / (exp_f32(-x[i]) + 1.0f);
}

EMBER_CLONES
void ember_sigmoid_f64(const double *restrict x, double *restrict y, long n)
{
    for (long i = 0; i < n; i++) y[i] = 1.0 / (exp_f64(-x[i]) + 1.0);
}

/* SiLU, x sigmoid(x), and its backward g (s + x s (1 - s)), as ember.ops.activation's swish (beta = 1) */
EMBER_CLONES
void ember_silu_f32(const float *restrict x, float *restrict y, long n)
{
    for (long i = 0; i < n; i++) y[i] = x[i] * (1.0f / (exp_f32(-x[i]) + 1.0f));
}

EMBER_CLONES
void ember_silu_f64(const double *restrict x, double *restrict y, long n)
{
    for (long i = 0; i < n; i++) y[i] = x[i] * (1.0 / (exp_f64(-x[i]) + 1.0));
}

EMBER_CLONES
void ember_silu_grad_f32(const float *restrict x, const float *restrict g, float *restrict out, long n)
{
    for (long i = 0; i < n; i++) {
        const float s = 1.0f / (exp_f32(-x[i]) + 1.0f);
        out[i] = g[i] * (s + x[i] * s * (1.0f - s));
    }
}

EMBER_CLONES
void ember_silu_grad_f64(const double *restrict x, const double *restrict g, double *restrict out, long n)
{
    for (long i = 0; i < n; i++) {
        const double s = 1.0 / (exp_f64(-x[i]) + 1.0);
        out[i] = g[i] * (s + x[i] * s * (1.0 - s));
    }
}

/* im2col: the columns (C, KH, KW, N, OH, OW), contiguous, of a padded input x (N, C, Hp, Wp) with any element
 * strides (xs), for a kernel (kh, kw) at strides (sh, sw) and dilations (dh, dw); a copy, so NumPy's bits.
 * NumPy copies that six-dimensional view one output row of OW elements at a time (8-12 for small images). */
#define IM2COL(T)                                                                                             \
    long m = n * oh * ow;                                                                                     \
    for (long ci = 0; ci < c; ci++)                                                                           \
        for (long i = 0; i < kh; i++)                                                                         \
            for (long j = 0; j < kw; j++) {                                                                   \
                T *dst = cols + ((ci * kh + i) * kw + j) * m;                                                 \
                const T *src_c = x + ci * xs[1] + i * dh * xs[2] + j * dw * xs[3];                           \
                for (long b = 0; b < n; b++)                                                                  \
                    for (long y = 0; y < oh; y++) {                                                           \
                        const T *src = src_c + b * xs[0] + y * sh * xs[2];                                    \
                        T *d = dst + (b * oh + y) * ow;                                                       \
                        const long step = sw * xs[3];                                                         \
                        if (step == 1)                                                                        \
                            for (long q = 0; q < ow; q++) d[q] = src[q];                                      \
                        else                                                                                  \
                            for (long q = 0; q < ow; q++) d[q] = src[q * step];                               \
                    }                                                                                         \
            }

void ember_im2col_f32(const float *restrict x, const long *xs, long n, long c, long kh, long kw, long oh,
                      long ow, long sh, long sw, long dh, long dw, float *restrict cols)
{
    IM2COL(float)
}

void ember_im2col_f64(const double *restrict x, const long *xs, long n, long c, long kh, long kw, long oh,
                      long ow, long sh, long sw, long dh, long dw, double *restrict cols)
{
    IM2COL(double)
}

/* Pixel-major (channels-last) columns and their col2im, for ember/ops/_conv_nhwc.py.  The geometry: an
 * image (C, H, W) zero-padded to (Hp, Wp) with p0 rows above and q0 columns left of it; OH x OW windows of
 * KH x KW taps at strides (sh, sw) and dilations (dh, dw).  `pad` is the caller's scratch of Hp*Wp*C
 * elements: one image, padded and channels-last. */

/* one image x (C, H, W) with element strides xs[1..3] into pad (Hp, Wp, C): zero borders, the interior a
 * transposing copy */
#define PAD_NHWC(T)                                                                                           \
    static void pad_nhwc_##T(const T *restrict x, const long *xs, long c, long h, long w, long p0, long q0,   \
                             long hp, long wp, T *restrict pad)                                               \
    {                                                                                                         \
        memset(pad, 0, (size_t)(p0 * wp * c) * sizeof(T));                                                   \
        for (long y = 0; y < h; y++) {                                                                        \
            T *row = pad + (p0 + y) * wp * c;                                                                 \
            memset(row, 0, (size_t)(q0 * c) * sizeof(T));                                                     \
            for (long q = 0; q < w; q++) {                                                                    \
                T *d = row + (q0 + q) * c;                                                                    \
                const T *s = x + y * xs[2] + q * xs[3];                                                       \
                for (long ci = 0; ci < c; ci++) d[ci] = s[ci * xs[1]];                                        \
            }                                                                                                 \
            memset(row + (q0 + w) * c, 0, (size_t)((wp - q0 - w) * c) * sizeof(T));                          \
        }                                                                                                     \
        memset(pad + (p0 + h) * wp * c, 0, (size_t)((hp - p0 - h) * wp * c) * sizeof(T));                     \
    }
PAD_NHWC(float)
PAD_NHWC(double)

/* columns (N*OH*OW, KH*KW*C) of x (N, C, H, W; any element strides xs): each row a window, taps (i, j) in
 * order, channels innermost; a copy, so NumPy's bits */
#define COLUMNS_NHWC(T)                                                                                       \
    const long kc = kw * c;                                                                                   \
    for (long b = 0; b < n; b++) {                                                                            \
        pad_nhwc_##T(x + b * xs[0], xs, c, h, w, p0, q0, hp, wp, pad);                                        \
        T *dst = cols + b * oh * ow * kh * kc;                                                                \
        for (long y = 0; y < oh; y++)                                                                         \
            for (long q = 0; q < ow; q++)                                                                     \
                for (long i = 0; i < kh; i++, dst += kc) {                                                    \
                    const T *src = pad + ((y * sh + i * dh) * wp + q * sw) * c;                               \
                    if (dw == 1)                                                                              \
                        memcpy(dst, src, (size_t)kc * sizeof(T));                                             \
                    else                                                                                      \
                        for (long j = 0; j < kw; j++) memcpy(dst + j * c, src + j * dw * c, (size_t)c * sizeof(T)); \
                }                                                                                             \
    }

void ember_columns_nhwc_f32(const float *restrict x, const long *xs, long n, long c, long h, long w, long kh,
                            long kw, long sh, long sw, long dh, long dw, long oh, long ow, long p0, long q0,
                            long hp, long wp, float *restrict pad, float *restrict cols)
{
    COLUMNS_NHWC(float)
}

void ember_columns_nhwc_f64(const double *restrict x, const long *xs, long n, long c, long h, long w, long kh,
                            long kw, long sh, long sw, long dh, long dw, long oh, long ow, long p0, long q0,
                            long hp, long wp, double *restrict pad, double *restrict cols)
{
    COLUMNS_NHWC(double)
}

/* col2im of pixel-major column gradients dcols (N, OH, OW, KH, KW, C), contiguous, into the input gradient
 * gx (N, C, H, W), contiguous: per image the taps (i, j) in order, each added over every window into the
 * zeroed padded image (the NumPy twin's strided additions, in its order: its bits), then the interior copied
 * out channel-major */
#define COL2IM_NHWC(T)                                                                                        \
    const long taps = kh * kw;                                                                                \
    for (long b = 0; b < n; b++) {                                                                            \
        memset(pad, 0, (size_t)(hp * wp * c) * sizeof(T));                                                    \
        const T *db = dcols + b * oh * ow * taps * c;                                                         \
        for (long i = 0; i < kh; i++)                                                                         \
            for (long j = 0; j < kw; j++)                                                                     \
                for (long y = 0; y < oh; y++) {                                                               \
                    T *row = pad + ((y * sh + i * dh) * wp + j * dw) * c;                                     \
                    const T *src = db + (y * ow * taps + i * kw + j) * c;                                     \
                    for (long q = 0; q < ow; q++) {                                                           \
                        T *restrict d = row + q * sw * c;                                                     \
                        const T *restrict s = src + q * taps * c;                                             \
                        for (long ci = 0; ci < c; ci++) d[ci] += s[ci];                                       \
                    }                                                                                         \
                }                                                                                             \
        T *g = gx + b * c * h * w;                                                                            \
        for (long y = 0; y < h; y++)                                                                          \
            for (long q = 0; q < w; q++) {                                                                    \
                const T *s = pad + ((p0 + y) * wp + q0 + q) * c;                                              \
                T *d = g + y * w + q;                                                                         \
                for (long ci = 0; ci < c; ci++) d[ci * h * w] = s[ci];                                        \
            }                                                                                                 \
    }

EMBER_CLONES
void ember_col2im_nhwc_f32(const float *restrict dcols, long n, long c, long h, long w, long kh, long kw,
                           long sh, long sw, long dh, long dw, long oh, long ow, long p0, long q0, long hp,
                           long wp, float *restrict pad, float *restrict gx)
{
    COL2IM_NHWC(float)
}

EMBER_CLONES
void ember_col2im_nhwc_f64(const double *restrict dcols, long n, long c, long h, long w, long kh, long kw,
                           long sh, long sw, long dh, long dw, long oh, long ow, long p0, long q0, long hp,
                           long wp, double *restrict pad, double *restrict gx)
{
    COL2IM_NHWC(double)
}

/* The gradient of max pooling over KH x KW windows at strides (sh, sw) and dilations (dh, dw) of an input
 * (N, C, H, W) padded by p0 rows above and q0 columns left: gx (N, C, H, W), contiguous, zeroed and then each
 * output's gradient g (N, C, OH, OW, contiguous) added at its window's winner (k: its offset in window order,
 * uint8, as ember/ops/pool.py's _max_windows finds it), in output order (PyTorch's loop's order and sums);
 * winners in the padding (a window that lies wholly in it) are left to the caller. */
#define MAXPOOL_BACKWARD(T)                                                                                   \
    long dr[256], dc[256];                          /* each offset's row and column in its window */          \
    for (long j = 0; j < kh * kw; j++) {                                                                      \
        dr[j] = (j / kw) * dh;                                                                                \
        dc[j] = (j % kw) * dw;                                                                                \
    }                                                                                                         \
    memset(gx, 0, (size_t)(n * c * h * w) * sizeof(T));                                                       \
    for (long p = 0; p < n * c; p++) {                                                                        \
        T *plane = gx + p * h * w;                                                                            \
        const T *gp = g + p * oh * ow;                                                                        \
        const uint8_t *kp = k + p * oh * ow;                                                                  \
        for (long y = 0; y < oh; y++)                                                                         \
            for (long q = 0; q < ow; q++) {                                                                   \
                const long j = kp[y * ow + q];                                                                \
                const long r = y * sh - p0 + dr[j], cc = q * sw - q0 + dc[j];                                 \
                if (r >= 0 && r < h && cc >= 0 && cc < w) plane[r * w + cc] += gp[y * ow + q];                \
            }                                                                                                 \
    }

void ember_maxpool_backward_f32(const float *restrict g, const uint8_t *restrict k, long n, long c, long h,
                                long w, long kh, long kw, long sh, long sw, long dh, long dw, long p0, long q0,
                                long oh, long ow, float *restrict gx)
{
    MAXPOOL_BACKWARD(float)
}

void ember_maxpool_backward_f64(const double *restrict g, const uint8_t *restrict k, long n, long c, long h,
                                long w, long kh, long kw, long sh, long sw, long dh, long dw, long p0, long q0,
                                long oh, long ow, double *restrict gx)
{
    MAXPOOL_BACKWARD(double)
}

/* Winograd F(m x m, r x r)'s kernel transform, for ember/ops/_conv_winograd.py (its NumPy twins' bits):
 * U = G g G^T of each r x r kernel g = w[o][c] (w: (O, C, r, r), contiguous; its taps reversed with flip) into
 * u (alpha^2, O, C; with transpose (alpha^2, C, O); planes pl apart); and the weight gradient dW = G^T dU G
 * (O, C, r, r) from du (alpha^2, O, C; planes pl apart).  F(2x2, 3x3): halves as a product by 0.5 after the sum
 * (exact), the sums left to right; alpha = 6 (F(4x4, 3x3), F(2x2, 5x5)): in double, below. */
#define WINO_G(T, y0, y1, y2, y3, a, b, c)                                                                   \
    const T y0 = a, y1 = (a + b + c) * (T)0.5, y2 = (a - b + c) * (T)0.5, y3 = c;
#define WINO_WEIGHT(T)                                                                                        \
    /* (in the order of the writes: 16 scattered store streams cost more than scattered 9-tap reads) */     \
    const long n1 = transpose ? c : o, n2 = transpose ? o : c;                                                \
    for (long i1 = 0; i1 < n1; i1++)                                                                          \
        for (long i2 = 0; i2 < n2; i2++) {                                                                    \
            const long oi = transpose ? i2 : i1, ci = transpose ? i1 : i2;                                    \
            const T *restrict w9 = w + 9 * (oi * c + ci);                                                     \
            T g[9];                                                                                           \
            for (int t = 0; t < 9; t++) g[t] = w9[flip ? 8 - t : t];                                          \
            WINO_G(T, r00, r10, r20, r30, g[0], g[3], g[6])       /* G g, column 0 */                         \
            WINO_G(T, r01, r11, r21, r31, g[1], g[4], g[7])                                                   \
            WINO_G(T, r02, r12, r22, r32, g[2], g[5], g[8])                                                   \
            WINO_G(T, u00, u01, u02, u03, r00, r01, r02)          /* (G g) G^T, row a */                      \
            WINO_G(T, u10, u11, u12, u13, r10, r11, r12)                                                      \
            WINO_G(T, u20, u21, u22, u23, r20, r21, r22)                                                      \
            WINO_G(T, u30, u31, u32, u33, r30, r31, r32)                                                      \
            T *restrict d = u + (i1 * n2 + i2);                                                               \
            d[0] = u00; d[pl] = u01; d[2 * pl] = u02; d[3 * pl] = u03;                                        \
            d[4 * pl] = u10; d[5 * pl] = u11; d[6 * pl] = u12; d[7 * pl] = u13;                               \
            d[8 * pl] = u20; d[9 * pl] = u21; d[10 * pl] = u22; d[11 * pl] = u23;                             \
            d[12 * pl] = u30; d[13 * pl] = u31; d[14 * pl] = u32; d[15 * pl] = u33;                           \
        }

/* F(4x4, 3x3)'s, in double (its G's sixths are not exact in binary: one rounding, at the end): G on three
 * taps into y[0..5], G^T on six positions d[k * ds] into z[0..2] */
static const double WINO_SIXTH = 1.0 / 6;       /* (a product, not a division: 4x faster, one rounding more) */

/* alpha = 6 (F(4, 3), F(2, 5)): G on r = 3 or 5 taps g[k * gs] into y[0..5], G^T on six positions d[0..5] into
 * z[0..r-1] */
static inline void wino6_g(const double *g, long gs, long r, double *y)
{
    if (r == 3) {
        const double g0 = g[0], g1 = g[gs], g2 = g[2 * gs], a = g0 + g2, b = g0 * 0.25 + g2;
        y[1] = -(a + g1) * WINO_SIXTH;
        y[2] = -(a - g1) * WINO_SIXTH;
        y[3] = (b + g1 * 0.5) * WINO_SIXTH;
        y[4] = (b - g1 * 0.5) * WINO_SIXTH;
    } else {
        const double g0 = g[0], g1 = g[gs], g2 = g[2 * gs], g3 = g[3 * gs], g4 = g[4 * gs];
        const double se = (g0 + g2) + g4, so = g1 + g3, e2 = (g0 + g2 * 4) + g4 * 16, o2 = g1 * 2 + g3 * 8;
        y[1] = -(se + so) * WINO_SIXTH;
        y[2] = -(se - so) * WINO_SIXTH;
        y[3] = ((e2 + o2) * 0.25) * WINO_SIXTH;
        y[4] = ((e2 - o2) * 0.25) * WINO_SIXTH;
    }
    y[0] = g[0] * 0.25;
    y[5] = g[(r - 1) * gs];
}

static inline void wino6_gt(const double *d, long r, double *z)
{
    const double s12 = d[1] + d[2], d12 = d[1] - d[2], s34 = d[3] + d[4], d34 = d[3] - d[4];
    z[0] = d[0] * 0.25 + (s34 * 0.25 - s12) * WINO_SIXTH;
    z[1] = (d34 * 0.5 - d12) * WINO_SIXTH;
    if (r == 3) {
        z[2] = (s34 - s12) * WINO_SIXTH + d[5];
    } else {
        z[2] = (s34 - s12) * WINO_SIXTH;
        z[3] = (d34 * 2 - d12) * WINO_SIXTH;
        z[4] = (s34 * 4 - s12) * WINO_SIXTH + d[5];
    }
}

#define WINO6_WEIGHT(T)                                                                                       \
    const long n1 = transpose ? c : o, n2 = transpose ? o : c, rr = r * r;                                    \
    for (long i1 = 0; i1 < n1; i1++)                                                                          \
        for (long i2 = 0; i2 < n2; i2++) {                                                                    \
            const long oi = transpose ? i2 : i1, ci = transpose ? i1 : i2;                                    \
            const T *restrict wk = w + rr * (oi * c + ci);                                                    \
            double g[25], col[5][6], row[6], v[5];                                                            \
            for (long t = 0; t < rr; t++) g[t] = wk[flip ? rr - 1 - t : t];                                   \
            for (long j = 0; j < r; j++) wino6_g(g + j, r, r, col[j]);                 /* G g, by column */  \
            T *restrict d = u + (i1 * n2 + i2);                                                               \
            for (int a = 0; a < 6; a++) {                                              /* (G g) G^T, row a */ \
                for (long j = 0; j < r; j++) v[j] = col[j][a];                                                \
                wino6_g(v, 1, r, row);                                                                        \
                for (int b = 0; b < 6; b++) d[(6 * a + b) * pl] = (T)row[b];                                 \
            }                                                                                                 \
        }

#define WINO6_WEIGHT_GRAD(T)                                                                                  \
    const long rr = r * r;                                                                                    \
    for (long k = 0; k < o * c; k++) {                                                                        \
        const T *restrict d = du + k;                                                                         \
        double q[6][5], v[6], z[5];                                                                           \
        for (int b = 0; b < 6; b++) {                                                  /* G^T dU, column b */ \
            for (int a = 0; a < 6; a++) v[a] = d[(6 * a + b) * pl];                                           \
            wino6_gt(v, r, q[b]);                                                                             \
        }                                                                                                     \
        for (long i = 0; i < r; i++) {                                                 /* (G^T dU) G, row i */\
            for (int b = 0; b < 6; b++) v[b] = q[b][i];                                                       \
            wino6_gt(v, r, z);                                                                                \
            for (long j = 0; j < r; j++) dw[rr * k + r * i + j] = (T)z[j];                                    \
        }                                                                                                     \
    }

EMBER_CLONES
void ember_wino_weight_f32(const float *restrict w, long o, long c, long m, long r, int transpose, int flip, long pl,
                           float *restrict u)
{
    if (m + r == 5) { WINO_WEIGHT(float) } else { WINO6_WEIGHT(float) }
}

EMBER_CLONES
void ember_wino_weight_f64(const double *restrict w, long o, long c, long m, long r, int transpose, int flip, long pl,
                           double *restrict u)
{
    if (m + r == 5) { WINO_WEIGHT(double) } else { WINO6_WEIGHT(double) }
}

#define WINO_GT(T, y0, y1, y2, a0, a1, a2, a3)                                                                \
    const T y0 = a0 + (a1 + a2) * (T)0.5, y1 = (a1 - a2) * (T)0.5, y2 = (a1 + a2) * (T)0.5 + a3;
#define WINO_WEIGHT_GRAD(T)                                                                                   \
    for (long k = 0; k < o * c; k++) {                                                                        \
        const T *restrict d = du + k;                                                                         \
        WINO_GT(T, q00, q10, q20, d[0], d[4 * pl], d[8 * pl], d[12 * pl])            /* G^T dU, column 0 */   \
        WINO_GT(T, q01, q11, q21, d[pl], d[5 * pl], d[9 * pl], d[13 * pl])                                    \
        WINO_GT(T, q02, q12, q22, d[2 * pl], d[6 * pl], d[10 * pl], d[14 * pl])                               \
        WINO_GT(T, q03, q13, q23, d[3 * pl], d[7 * pl], d[11 * pl], d[15 * pl])                               \
        T *restrict g = dw + 9 * k;                                                                           \
        WINO_GT(T, g00, g01, g02, q00, q01, q02, q03)                                 /* (G^T dU) G, row i */ \
        WINO_GT(T, g10, g11, g12, q10, q11, q12, q13)                                                         \
        WINO_GT(T, g20, g21, g22, q20, q21, q22, q23)                                                         \
        g[0] = g00; g[1] = g01; g[2] = g02; g[3] = g10; g[4] = g11; g[5] = g12; g[6] = g20; g[7] = g21;       \
        g[8] = g22;                                                                                           \
    }

EMBER_CLONES
void ember_wino_weight_grad_f32(const float *restrict du, long o, long c, long m, long r, long pl,
                                float *restrict dw)
{
    if (m + r == 5) { WINO_WEIGHT_GRAD(float) } else { WINO6_WEIGHT_GRAD(float) }
}

EMBER_CLONES
void ember_wino_weight_grad_f64(const double *restrict du, long o, long c, long m, long r, long pl,
                                double *restrict dw)
{
    if (m + r == 5) { WINO_WEIGHT_GRAD(double) } else { WINO6_WEIGHT_GRAD(double) }
}

/* Winograd F(m x m, r x r)'s transforms for F(2, 3), F(4, 3) and F(2, 5) (alpha = m + r - 1 points), for
 * ember/ops/_conv_winograd.py.
 * T = N*TH*TW tiles, image-major; the transformed arrays are (alpha^2, T, K) with K channels innermost,
 * position a * alpha + b, the planes `pl` >= T*K elements apart (a caller's padding keeps the streams off one
 * cache set: planes a power of two apart made the input transform 4x slower).  Each transform is two passes of
 * 1-D transforms over runs of channels, a tile's rows first (along its columns), then its columns, through a
 * scratch of alpha x alpha x K (in L1): each pass a straight loop over the channels.  The NumPy twins (_bt,
 * _at, _a there) make the same operations in the same order: these are their bits (a NaN's payload aside).
 * In the 1-D transforms x[k * xs + i] are the inputs, y[k * ys + i] the outputs, i < n. */
#if defined(__GNUC__)
#define EMBER_INLINE static inline __attribute__((always_inline))
#else
#define EMBER_INLINE static inline
#endif
/* (the outputs' runs never overlap: without this GCC gives up on the alias checks of six output streams) */
#if defined(__GNUC__) && !defined(__clang__)
#define EMBER_IVDEP _Pragma("GCC ivdep")
#else
#define EMBER_IVDEP
#endif
#define WINO_1D(T)                                                                                            \
    /* B^T: alpha inputs -> alpha outputs (alpha 4: points 0, 1, -1, infinity; 6: 0, 1, -1, 2, -2, infinity) */                                                                  \
    EMBER_INLINE void wbt4_##T(const T *restrict x, long xs, T *restrict y, long ys, long n)                  \
    {                                                                                                         \
        EMBER_IVDEP for (long i = 0; i < n; i++) {                                                                        \
            const T d0 = x[i], d1 = x[xs + i], d2 = x[2 * xs + i], d3 = x[3 * xs + i];                       \
            y[i] = d0 - d2;                                                                                   \
            y[ys + i] = d1 + d2;                                                                              \
            y[2 * ys + i] = d2 - d1;                                                                          \
            y[3 * ys + i] = d1 - d3;                                                                          \
        }                                                                                                     \
    }                                                                                                         \
    EMBER_INLINE void wbt6_##T(const T *restrict x, long xs, T *restrict y, long ys, long n)                  \
    {                                                                                                         \
        EMBER_IVDEP for (long i = 0; i < n; i++) {                                                                        \
            const T d0 = x[i], d1 = x[xs + i], d2 = x[2 * xs + i], d3 = x[3 * xs + i], d4 = x[4 * xs + i];   \
            const T d5 = x[5 * xs + i];                                                                       \
            const T a = d4 - d2 * (T)4, b = d3 - d1 * (T)4, c = d4 - d2, e = (d3 - d1) * (T)2;               \
            y[i] = (d0 * (T)4 - d2 * (T)5) + d4;                                                              \
            y[ys + i] = a + b;                                                                                \
            y[2 * ys + i] = a - b;                                                                            \
            y[3 * ys + i] = c + e;                                                                            \
            y[4 * ys + i] = c - e;                                                                            \
            y[5 * ys + i] = (d1 * (T)4 - d3 * (T)5) + d5;                                                     \
        }                                                                                                     \
    }                                                                                                         \
    /* A^T: alpha inputs -> m outputs (F(2, 3), F(4, 3), F(2, 5)) */                                                                      \
    EMBER_INLINE void wat42_##T(const T *restrict x, long xs, T *restrict y, long ys, long n)                  \
    {                                                                                                         \
        EMBER_IVDEP for (long i = 0; i < n; i++) {                                                                        \
            const T m0 = x[i], m1 = x[xs + i], m2 = x[2 * xs + i], m3 = x[3 * xs + i];                       \
            y[i] = (m0 + m1) + m2;                                                                            \
            y[ys + i] = (m1 - m2) - m3;                                                                       \
        }                                                                                                     \
    }                                                                                                         \
    EMBER_INLINE void wat64_##T(const T *restrict x, long xs, T *restrict y, long ys, long n)                  \
    {                                                                                                         \
        EMBER_IVDEP for (long i = 0; i < n; i++) {                                                                        \
            const T m0 = x[i], m1 = x[xs + i], m2 = x[2 * xs + i], m3 = x[3 * xs + i], m4 = x[4 * xs + i];   \
            const T m5 = x[5 * xs + i];                                                                       \
            const T s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;                               \
            y[i] = (m0 + s12) + s34;                                                                          \
            y[ys + i] = d12 + d34 * (T)2;                                                                     \
            y[2 * ys + i] = s12 + s34 * (T)4;                                                                 \
            y[3 * ys + i] = (d12 + d34 * (T)8) + m5;                                                          \
        }                                                                                                     \
    }                                                                                                         \
    EMBER_INLINE void wat62_##T(const T *restrict x, long xs, T *restrict y, long ys, long n)                 \
    {                                                                                                         \
        EMBER_IVDEP for (long i = 0; i < n; i++) {                                                            \
            const T m0 = x[i], m1 = x[xs + i], m2 = x[2 * xs + i], m3 = x[3 * xs + i], m4 = x[4 * xs + i];   \
            const T m5 = x[5 * xs + i];                                                                       \
            y[i] = ((m0 + m1) + m2) + (m3 + m4);                                                              \
            y[ys + i] = ((m1 - m2) + (m3 - m4) * (T)2) + m5;                                                  \
        }                                                                                                     \
    }                                                                                                         \
    /* A: m inputs -> alpha outputs */                                                                        \
    EMBER_INLINE void wa42_##T(const T *restrict x, long xs, T *restrict y, long ys, long n)                   \
    {                                                                                                         \
        EMBER_IVDEP for (long i = 0; i < n; i++) {                                                                        \
            const T e0 = x[i], e1 = x[xs + i];                                                                \
            y[i] = e0;                                                                                        \
            y[ys + i] = e0 + e1;                                                                              \
            y[2 * ys + i] = e0 - e1;                                                                          \
            y[3 * ys + i] = -e1;                                                                              \
        }                                                                                                     \
    }                                                                                                         \
    EMBER_INLINE void wa64_##T(const T *restrict x, long xs, T *restrict y, long ys, long n)                   \
    {                                                                                                         \
        EMBER_IVDEP for (long i = 0; i < n; i++) {                                                                        \
            const T e0 = x[i], e1 = x[xs + i], e2 = x[2 * xs + i], e3 = x[3 * xs + i];                       \
            const T a = e0 + e2, b = e1 + e3, c = e0 + e2 * (T)4, d = e1 * (T)2 + e3 * (T)8;                 \
            y[i] = e0;                                                                                        \
            y[ys + i] = a + b;                                                                                \
            y[2 * ys + i] = a - b;                                                                            \
            y[3 * ys + i] = c + d;                                                                            \
            y[4 * ys + i] = c - d;                                                                            \
            y[5 * ys + i] = e3;                                                                               \
        }                                                                                                     \
    }                                                                                                         \
    EMBER_INLINE void wa62_##T(const T *restrict x, long xs, T *restrict y, long ys, long n)                  \
    {                                                                                                         \
        EMBER_IVDEP for (long i = 0; i < n; i++) {                                                            \
            const T e0 = x[i], e1 = x[xs + i], d = e1 * (T)2;                                                 \
            y[i] = e0;                                                                                        \
            y[ys + i] = e0 + e1;                                                                              \
            y[2 * ys + i] = e0 - e1;                                                                          \
            y[3 * ys + i] = e0 + d;                                                                           \
            y[4 * ys + i] = e0 - d;                                                                           \
            y[5 * ys + i] = e1;                                                                               \
        }                                                                                                     \
    }
WINO_1D(float)
WINO_1D(double)

/* The transforms that read an image: each of the N images of X (K, H, W; element strides XS) is copied
 * channels-last into pad (HP, WP, K; zero-padded by P0 rows above and Q0 columns left, and below/right to HP x
 * WP), then each tile's NIN rows at (m ty, m tx) go through F (alpha outputs each, into the scratch after the
 * image: alpha NIN K), then the scratch's alpha columns through F again, into DST (alpha^2, N*TH*TW, K;
 * planes pl apart). */
#define WT_TILES(T, F, X, XS, K, H, W, P0, Q0, HP, WP, NIN, DST)                                              \
    const long al = m + r - 1;                                                                                \
    T *restrict s = pad + (HP) * (WP) * (K);                                                                  \
    for (long b = 0; b < n; b++) {                                                                            \
        pad_nhwc_##T(X + b * XS[0], XS, K, H, W, P0, Q0, HP, WP, pad);                                        \
        for (long ty = 0; ty < th; ty++)                                                                      \
            for (long tx = 0; tx < tw; tx++) {                                                                \
                const T *tile_in = pad + (m * ty * (WP) + m * tx) * (K);                                      \
                T *tile_out = DST + ((b * th + ty) * tw + tx) * (K);                                          \
                for (long i = 0; i < (NIN); i++) F(tile_in + i * (WP) * (K), K, s + i * al * (K), K, K);      \
                for (long j = 0; j < al; j++) F(s + j * (K), al * (K), tile_out + j * pl, al * pl, K);       \
            }                                                                                                 \
    }

/* V = B^T d B of each alpha x alpha patch of x (N, C, H, W; contiguous), zero-padded by p0 rows above and q0
 * columns left (and below/right as far as the tile grid reaches: (m TH + r - 1) x (m TW + r - 1)), into v (alpha^2,
 * N*TH*TW, C; planes pl apart); pad: one image channels-last, then alpha^2 C of scratch */
#define WT_INPUT(T, BT)                                                                                       \
    const long xs[4] = {c * h * w, h * w, w, 1};                                                              \
    WT_TILES(T, BT, x, xs, c, h, w, p0, q0, m * th + r - 1, m * tw + r - 1, m + r - 1, v)

/* Y = A^T M A of each tile of mm (alpha^2, T, O; planes pl apart) into y (N, O, OH, OW; contiguous), plus bias
 * (O) unless NULL: an image's tiles into pad (m TH, m TW, O), then its OH x OW interior copied out
 * channel-major; pad: that, then alpha m O of scratch */
#define WT_OUTPUT(T, AT)                                                                                      \
    const long al = m + r - 1, zw = m * tw, hw = oh * ow;                                                     \
    T *restrict s = pad + m * th * zw * o;                                                                    \
    for (long b = 0; b < n; b++) {                                                                            \
        for (long ty = 0; ty < th; ty++)                                                                      \
            for (long tx = 0; tx < tw; tx++) {                                                                \
                const T *mt = mm + ((b * th + ty) * tw + tx) * o;                                             \
                T *z = pad + (m * ty * zw + m * tx) * o;                                                      \
                for (long a = 0; a < al; a++) AT(mt + a * al * pl, pl, s + a * m * o, o, o);                  \
                for (long j = 0; j < m; j++) AT(s + j * o, m * o, z + j * o, zw * o, o);                     \
            }                                                                                                 \
        T *yb = y + b * o * hw;                                                                               \
        for (long r = 0; r < oh; r++)                                                                         \
            for (long q = 0; q < ow; q++) {                                                                   \
                const T *restrict src = pad + (r * zw + q) * o;                                               \
                T *restrict dst = yb + r * ow + q;                                                            \
                if (bias)                                                                                     \
                    for (long co = 0; co < o; co++) dst[co * hw] = src[co] + bias[co];                        \
                else                                                                                          \
                    for (long co = 0; co < o; co++) dst[co * hw] = src[co];                                   \
            }                                                                                                 \
    }

/* dM = A dY A^T of each m x m tile of g (N, O, OH, OW; contiguous; a partial tile's missing rows and columns
 * are zero) into dm (alpha^2, T, O; planes pl apart); pad: one image (m TH, m TW, O), then alpha m O */
#define WT_GRAD_OUTPUT(T, A)                                                                                  \
    const long gs[4] = {o * oh * ow, oh * ow, ow, 1};                                                         \
    WT_TILES(T, A, g, gs, o, oh, ow, 0, 0, m * th, m * tw, m, dm)

#define WT_FUNCS(T, S)                                                                                        \
    EMBER_CLONES                                                                                              \
    void ember_wino_input_##S(const T *restrict x, long n, long c, long h, long w, long p0, long q0, long th, \
                              long tw, long m, long r, long pl, T *restrict pad, T *restrict v)               \
    {                                                                                                         \
        if (m + r == 5) { WT_INPUT(T, wbt4_##T) } else { WT_INPUT(T, wbt6_##T) }                              \
    }                                                                                                         \
    EMBER_CLONES                                                                                              \
    void ember_wino_output_##S(const T *restrict mm, const T *restrict bias, long n, long o, long oh, long ow, \
                               long th, long tw, long m, long r, long pl, T *restrict pad, T *restrict y)     \
    {                                                                                                         \
        if (m + r == 5) { WT_OUTPUT(T, wat42_##T) }                                                           \
        else if (m == 4) { WT_OUTPUT(T, wat64_##T) }                                                          \
        else { WT_OUTPUT(T, wat62_##T) }                                                                      \
    }                                                                                                         \
    EMBER_CLONES                                                                                              \
    void ember_wino_grad_output_##S(const T *restrict g, long n, long o, long oh, long ow, long th, long tw,   \
                                    long m, long r, long pl, T *restrict pad, T *restrict dm)                 \
    {                                                                                                         \
        if (m + r == 5) { WT_GRAD_OUTPUT(T, wa42_##T) }                                                       \
        else if (m == 4) { WT_GRAD_OUTPUT(T, wa64_##T) }                                                      \
        else { WT_GRAD_OUTPUT(T, wa62_##T) }                                                                  \
    }
WT_FUNCS(float, f32)
WT_FUNCS(double, f64)

/* SGD's step with momentum (no dampening, weight decay or Nesterov), in place and in one pass:
 * buf = buf * momentum + g, then p = p - lr * buf, each product and sum rounded as the NumPy steps round them
 * (their bits: -ffp-contract=off keeps the products unfused) */
#define SGD_MOMENTUM(T)                                                                                       \
    for (long i = 0; i < n; i++) {                                                                            \
        const T b = buf[i] * momentum + g[i];                                                                 \
        buf[i] = b;                                                                                           \
        p[i] = p[i] - lr * b;                                                                                 \
    }

EMBER_CLONES
void ember_sgd_momentum_f32(float *restrict p, float *restrict buf, const float *restrict g, long n, float lr,
                            float momentum)
{
    SGD_MOMENTUM(float)
}

EMBER_CLONES
void ember_sgd_momentum_f64(double *restrict p, double *restrict buf, const double *restrict g, long n, double lr,
                            double momentum)
{
    SGD_MOMENTUM(double)
}

/* Running sums along the middle axis of x seen as (outer, len, inner), C-contiguous, as PyTorch's CPU cumsum:
 * each running value accumulated in float64 (`acc`, inner of them, the caller's scratch) and rounded once to
 * the output; the additions in the axis's order, so NumPy's cumsum(dtype=float64) bits. */
#define CUMSUM(T)                                                                                             \
    long o = 0;                                                                                               \
    if (inner == 1) /* the last axis: eight rows' chains of additions side by side, each in its own order */ \
        for (; o + 8 <= outer; o += 8) {                                                                      \
            double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                           \
            const T *xo = x + o * len;                                                                        \
            T *yo = y + o * len;                                                                              \
            for (long l = 0; l < len; l++)                                                                    \
                for (int r = 0; r < 8; r++) {                                                                 \
                    a[r] += (double)xo[r * len + l];                                                          \
                    yo[r * len + l] = (T)a[r];                                                                \
                }                                                                                             \
        }                                                                                                     \
    for (; o < outer; o++) {                                                                                  \
        for (long i = 0; i < inner; i++) acc[i] = 0.0;                                                        \
        const T *xo = x + o * len * inner;                                                                    \
        T *yo = y + o * len * inner;                                                                          \
        for (long l = 0; l < len; l++)                                                                        \
            for (long i = 0; i < inner; i++) {                                                                \
                acc[i] += (double)xo[l * inner + i];                                                          \
                yo[l * inner + i] = (T)acc[i];                                                                \
            }                                                                                                 \
    }

EMBER_CLONES
void ember_cumsum_f32(const float *restrict x, float *restrict y, double *restrict acc, long outer, long len,
                      long inner)
{
    CUMSUM(float)
}

EMBER_CLONES
void ember_cumsum_f64(const double *restrict x, double *restrict y, double *restrict acc, long outer, long len,
                      long inner)
{
    CUMSUM(double)
}

/* Floats as integers in the same order (negative ones with their magnitude bits flipped), so that a row's
 * maximum is an integer maximum, which the compiler vectorizes (a float `v > m ? v : m` stays scalar).  NaNs
 * land above +inf's key or below -inf's. */
static inline int32_t key_f32(float v) { int32_t b; memcpy(&b, &v, 4); return b ^ ((b >> 31) & 0x7FFFFFFF); }
static inline float unkey_f32(int32_t k)
{
    int32_t b = k ^ ((k >> 31) & 0x7FFFFFFF);
    float f;
    memcpy(&f, &b, 4);
    return f;
}
static inline int64_t key_f64(double v)
{
    int64_t b;
    memcpy(&b, &v, 8);
    return b ^ ((b >> 63) & 0x7FFFFFFFFFFFFFFFLL);
}
static inline double unkey_f64(int64_t k)
{
    int64_t b = k ^ ((k >> 63) & 0x7FFFFFFFFFFFFFFFLL);
    double d;
    memcpy(&d, &b, 8);
    return d;
}

/* softmax (log_softmax with `log_out`) along rows of `len` contiguous elements, as ember.ops.reduce's Softmax
 * / LogSoftmax compute it: z = x - max(row) (a NaN anywhere in the row makes the maximum NaN, as NumPy's),
 * exp(z), their sum, then z / sum (or z - log(sum)).  The sum is taken in 16 interleaved parts (so that it
 * vectorizes without reassociation behind our back): its last bits differ from the NumPy twin's pairwise sum. */
#define SOFTMAX_PARTS 16
#define SOFTMAX_ROWS(T, K, KEY, UNKEY, KMIN, KMAX, EXP, LOG, XROW)                                           \
    const K inf_key = KEY((T)INFINITY), ninf_key = KEY(-(T)INFINITY);                                       \
    for (long r = 0; r < rows; r++) {                                                                        \
        T *yr = y + r * len;                                                                                 \
        const T *xr = XROW;                                                                                  \
        K hi = KMIN, lo = KMAX;                                                                              \
        for (long j = 0; j < len; j++) {                                                                     \
            const K k = KEY(xr[j]);                                                                          \
            hi = k > hi ? k : hi;                                                                            \
            lo = k < lo ? k : lo;                                                                            \
        }                                                                                                    \
        if (safe && hi == ninf_key && lo == ninf_key) {   /* every score masked: zeros, not NaN (PyTorch) */ \
            for (long j = 0; j < len; j++) yr[j] = 0;                                                        \
            continue;                                                                                        \
        }                                                                                                    \
        const T m = (hi > inf_key || lo < ninf_key) ? (T)NAN : UNKEY(hi);                                    \
        for (long j = 0; j < len; j++) yr[j] = EXP(xr[j] - m);                                               \
        T sp[SOFTMAX_PARTS];                                                                                 \
        for (int q = 0; q < SOFTMAX_PARTS; q++) sp[q] = 0;                                                   \
        long j = 0;                                                                                          \
        for (; j + SOFTMAX_PARTS <= len; j += SOFTMAX_PARTS)                                                 \
            for (int q = 0; q < SOFTMAX_PARTS; q++) sp[q] += yr[j + q];                                      \
        for (; j < len; j++) sp[0] += yr[j];                                                                 \
        T sum = 0;                                                                                           \
        for (int q = 0; q < SOFTMAX_PARTS; q++) sum += sp[q];                                                \
        if (log_out) {                                                                                       \
            const T ls = LOG(sum);                                                                           \
            for (j = 0; j < len; j++) yr[j] = (xr[j] - m) - ls;                                              \
        } else {                                                                                             \
            for (j = 0; j < len; j++) yr[j] /= sum;                                                          \
        }                                                                                                    \
    }

EMBER_CLONES
void ember_softmax_f32(const float *restrict x, float *restrict y, long rows, long len, int log_out)
{
    const int safe = 0;
    SOFTMAX_ROWS(float, int32_t, key_f32, unkey_f32, INT32_MIN, INT32_MAX, exp_f32, logf, x + r * len)
}

EMBER_CLONES
void ember_softmax_f64(const double *restrict x, double *restrict y, long rows, long len, int log_out)
{
    const int safe = 0;
    SOFTMAX_ROWS(double, int64_t, key_f64, unkey_f64, INT64_MIN, INT64_MAX, exp_f64, log, x + r * len)
}

/* softmax in place (the row is read through the pointer it is written through, so every access is the same
 * element's), for attention's scores; `safe`: a row of -inf only becomes zeros instead of NaN */
EMBER_CLONES
void ember_softmax_inplace_f32(float *y, long rows, long len, int safe)
{
    const int log_out = 0;
    SOFTMAX_ROWS(float, int32_t, key_f32, unkey_f32, INT32_MIN, INT32_MAX, exp_f32, logf, yr)
}

EMBER_CLONES
void ember_softmax_inplace_f64(double *y, long rows, long len, int safe)
{
    const int log_out = 0;
    SOFTMAX_ROWS(double, int64_t, key_f64, unkey_f64, INT64_MIN, INT64_MAX, exp_f64, log, yr)
}
