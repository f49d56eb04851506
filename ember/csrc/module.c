/* The Python module ember._kernels: checks the NumPy arrays (any objects with the buffer protocol) that
 * ember/ops/_ckernels.py passes, and runs a kernel of kernels.c on them with the GIL released.
 *
 * Every function returns True when it ran, False when the arrays are not what its kernel takes (a dtype
 * other than float32/float64, shapes that differ, a layout the kernel does not read, an output overlapping
 * another array): the caller then computes the same thing in NumPy.  Nothing here raises for such inputs. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#define EMBER_KERNELS_VERSION 17      /* _ckernels.VERSION: a build from another checkout is not used */
#define MAX_ARRAYS 12

typedef struct {
    Py_buffer view[MAX_ARRAYS];
    int held;
} Buffers;

static void release(Buffers *B)
{
    for (int i = 0; i < B->held; i++) PyBuffer_Release(&B->view[i]);
    B->held = 0;
}

/* 'f' for float32, 'd' for float64 (native byte order), else 0 */
static char dtype_of(const Py_buffer *v)
{
    const char *f = v->format ? v->format : "B";
    const uint16_t probe = 1;
    const int little = *(const char *)&probe == 1;
    if (*f == '@' || *f == '=' || (*f == '<' && little) || (*f == '>' && !little)) f++;
    if (f[0] == 0 || f[1] != 0) return 0;
    if (f[0] == 'f' && v->itemsize == 4) return 'f';
    if (f[0] == 'd' && v->itemsize == 8) return 'd';
    return 0;
}

/* Take the buffers of args[0..n) (the last `outputs` writable); 0 (error cleared) where one has none */
static int take(Buffers *B, PyObject *const *args, int n, int outputs, int flags)
{
    B->held = 0;
    for (int i = 0; i < n; i++) {
        int f = flags | PyBUF_FORMAT | (i >= n - outputs ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(args[i], &B->view[i], f) != 0) {
            PyErr_Clear();
            release(B);
            return 0;
        }
        B->held++;
    }
    return 1;
}

/* the byte range [lo, hi) that a view touches (rows of `width` items, row stride s0, any n) */
static void span(const Py_buffer *v, Py_ssize_t rows, Py_ssize_t width, Py_ssize_t s0, char **lo, char **hi)
{
    *lo = (char *)v->buf;
    *hi = *lo + ((rows > 0 ? (rows - 1) * s0 : 0) + width) * v->itemsize;
}

/* outputs (the last `outputs` of n ranges) overlap no other range */
static int apart(char **lo, char **hi, int n, int outputs)
{
    for (int j = n - outputs; j < n; j++)
        for (int i = 0; i < n; i++)
            if (i != j && lo[i] < hi[j] && lo[j] < hi[i]) return 0;
    return 1;
}

/* args[0..n) as C longs into out; 0 with a Python error set where one is not an integer */
static int longs(PyObject *const *args, int n, long *out)
{
    for (int k = 0; k < n; k++) {
        out[k] = PyLong_AsLong(args[k]);
        if (out[k] == -1 && PyErr_Occurred()) return 0;
    }
    return 1;
}

static int check_nargs(Py_ssize_t nargs, Py_ssize_t want, const char *name)
{
    if (nargs == want) return 1;
    PyErr_Format(PyExc_TypeError, "ember._kernels.%s takes %zd arguments, got %zd", name, want, nargs);
    return 0;
}

/* ---- elementwise kernels over C-contiguous arrays of one size and dtype ---------------------------- */

/* the buffers of args[0..n) as C-contiguous arrays of one dtype and length, the last one written and apart
 * from the others; returns the dtype code and sets *len, or 0 */
static char flat(Buffers *B, PyObject *const *args, int n, Py_ssize_t *len)
{
    if (!take(B, args, n, 1, PyBUF_C_CONTIGUOUS)) return 0;
    char dt = dtype_of(&B->view[0]);
    Py_ssize_t items = B->view[0].len / (B->view[0].itemsize ? B->view[0].itemsize : 1);
    char *lo[MAX_ARRAYS], *hi[MAX_ARRAYS];
    for (int i = 0; i < n; i++) {
        if (dtype_of(&B->view[i]) != dt || B->view[i].len != B->view[0].len) dt = 0;
        lo[i] = (char *)B->view[i].buf;
        hi[i] = lo[i] + B->view[i].len;
    }
    if (dt && !apart(lo, hi, n, 1)) dt = 0;
    if (!dt) release(B);
    *len = items;
    return dt;
}

/* unary(name, x, out): out = name(x) for the names in UNARY; unary_grad(name, x, g, out): out = g * name'(x)
 * for those in UNARY_GRAD (a NULL kernel: that dtype is not taken) */
typedef void (*unary_f32)(const float *, float *, long);
typedef void (*unary_f64)(const double *, double *, long);
typedef void (*grad_f32)(const float *, const float *, float *, long);
typedef void (*grad_f64)(const double *, const double *, double *, long);

static void gelu_f32(const float *x, float *y, long n) { ember_gelu_f32(x, y, n, 0); }
static void gelu_tanh_f32(const float *x, float *y, long n) { ember_gelu_f32(x, y, n, 1); }
static void gelu_grad_f32(const float *x, const float *g, float *o, long n) { ember_gelu_grad_f32(x, g, o, n, 0); }
static void gelu_tanh_grad_f32(const float *x, const float *g, float *o, long n)
{
    ember_gelu_grad_f32(x, g, o, n, 1);
}

static const struct { const char *name; unary_f32 f32; unary_f64 f64; } UNARY[] = {
    {"exp", ember_exp_f32, ember_exp_f64}, {"tanh", ember_tanh_f32, NULL},
    {"sigmoid", ember_sigmoid_f32, ember_sigmoid_f64}, {"silu", ember_silu_f32, ember_silu_f64},
    {"gelu", gelu_f32, ember_gelu_f64}, {"gelu_tanh", gelu_tanh_f32, NULL}, {"relu", ember_relu_f32, ember_relu_f64}};
static const struct { const char *name; grad_f32 f32; grad_f64 f64; } UNARY_GRAD[] = {
    {"silu", ember_silu_grad_f32, ember_silu_grad_f64}, {"gelu", gelu_grad_f32, ember_gelu_grad_f64},
    {"gelu_tanh", gelu_tanh_grad_f32, NULL}, {"relu", ember_relu_grad_f32, ember_relu_grad_f64}};

/* the kernel pair named args[0] in a table, run on the `arrays` buffers that follow (the last written) */
#define RUN_NAMED(TABLE, ARRAYS, CALL32, CALL64)                                                          \
    do {                                                                                                  \
        if (!check_nargs(nargs, (ARRAYS) + 1, #TABLE)) return NULL;                                       \
        const char *name = PyUnicode_AsUTF8(args[0]);                                                     \
        if (name == NULL) return NULL;                                                                    \
        size_t k = 0, count = sizeof TABLE / sizeof TABLE[0];                                             \
        while (k < count && strcmp(name, TABLE[k].name) != 0) k++;                                        \
        Buffers B;                                                                                        \
        Py_ssize_t n;                                                                                     \
        char dt = k < count ? flat(&B, args + 1, (ARRAYS), &n) : 0;                                       \
        if (!dt || (dt == 'f' ? TABLE[k].f32 == NULL : TABLE[k].f64 == NULL)) {                           \
            if (dt) release(&B);                                                                          \
            Py_RETURN_FALSE;                                                                              \
        }                                                                                                 \
        Py_BEGIN_ALLOW_THREADS                                                                            \
        if (dt == 'f') CALL32;                                                                            \
        else CALL64;                                                                                      \
        Py_END_ALLOW_THREADS                                                                              \
        release(&B);                                                                                      \
        Py_RETURN_TRUE;                                                                                   \
    } while (0)

static PyObject *py_unary(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    RUN_NAMED(UNARY, 2, UNARY[k].f32(B.view[0].buf, B.view[1].buf, (long)n),
              UNARY[k].f64(B.view[0].buf, B.view[1].buf, (long)n));
}

static PyObject *py_unary_grad(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    RUN_NAMED(UNARY_GRAD, 3, UNARY_GRAD[k].f32(B.view[0].buf, B.view[1].buf, B.view[2].buf, (long)n),
              UNARY_GRAD[k].f64(B.view[0].buf, B.view[1].buf, B.view[2].buf, (long)n));
}

/* ---- row kernels: (n, 4H) and (n, H) arrays with contiguous rows and any row stride ------------------- */

/* the buffers of args[0..count) as 2-D arrays of one dtype with n rows each, those flagged in `wide` of 4H
 * columns, the others of H, columns contiguous; the last `outputs` writable and apart from every other.
 * Sets the row strides (in items) and n, H; returns the dtype code or 0 (buffers released). */
static char rows(Buffers *B, PyObject *const *args, int count, const int *wide, int outputs, long *stride,
                 long *n_out, long *H_out)
{
    if (!take(B, args, count, outputs, PyBUF_STRIDES)) return 0;
    const Py_buffer *v0 = &B->view[0];
    char dt = v0->ndim == 2 ? dtype_of(v0) : 0;
    Py_ssize_t n = dt ? v0->shape[0] : 0, H = dt ? v0->shape[1] / 4 : 0;
    if (dt && (!wide[0] || v0->shape[1] != 4 * H || H == 0)) dt = 0;
    char *lo[MAX_ARRAYS], *hi[MAX_ARRAYS];
    for (int i = 0; dt && i < count; i++) {
        const Py_buffer *v = &B->view[i];
        Py_ssize_t w = wide[i] ? 4 * H : H;
        if (v->ndim != 2 || dtype_of(v) != dt || v->shape[0] != n || v->shape[1] != w ||
            (w > 1 && v->strides[1] != v->itemsize) || v->strides[0] % v->itemsize != 0 ||
            (n > 1 && v->strides[0] < 0)) {
            dt = 0;
            break;
        }
        stride[i] = (long)(v->strides[0] / v->itemsize);
        if (i >= count - outputs && n > 1 && stride[i] < w) {     /* an output's rows must not overlap */
            dt = 0;
            break;
        }
        span(v, n, w, stride[i], &lo[i], &hi[i]);
    }
    if (dt && !apart(lo, hi, count, outputs)) dt = 0;
    if (!dt) release(B);
    *n_out = (long)n;
    *H_out = (long)H;
    return dt;
}

/* lstm_pointwise(z, c_prev, c, tc, h) */
static PyObject *py_lstm_pointwise(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 5, "lstm_pointwise")) return NULL;
    static const int wide[5] = {1, 0, 0, 0, 0};
    Buffers B;
    long s[5], n, H;
    char dt = rows(&B, args, 5, wide, 3, s, &n, &H);
    if (!dt) Py_RETURN_FALSE;
    void *p[5];
    for (int i = 0; i < 5; i++) p[i] = B.view[i].buf;
    Py_BEGIN_ALLOW_THREADS
    if (dt == 'f') ember_lstm_pointwise_f32(p[0], s[0], p[1], s[1], p[2], s[2], p[3], s[3], p[4], s[4], n, H);
    else ember_lstm_pointwise_f64(p[0], s[0], p[1], s[1], p[2], s[2], p[3], s[3], p[4], s[4], n, H);
    Py_END_ALLOW_THREADS
    release(&B);
    Py_RETURN_TRUE;
}

/* lstm_backward_pointwise(g, c_prev, tc, dout, dh_next, dc_next, dz, dc_out) */
static PyObject *py_lstm_backward_pointwise(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 8, "lstm_backward_pointwise")) return NULL;
    static const int wide[8] = {1, 0, 0, 0, 0, 0, 1, 0};
    Buffers B;
    long s[8], n, H;
    char dt = rows(&B, args, 8, wide, 2, s, &n, &H);
    if (!dt) Py_RETURN_FALSE;
    void *p[8];
    for (int i = 0; i < 8; i++) p[i] = B.view[i].buf;
    Py_BEGIN_ALLOW_THREADS
    if (dt == 'f')
        ember_lstm_backward_pointwise_f32(p[0], s[0], p[1], s[1], p[2], s[2], p[3], s[3], p[4], s[4], p[5], s[5],
                                          p[6], s[6], p[7], s[7], n, H);
    else
        ember_lstm_backward_pointwise_f64(p[0], s[0], p[1], s[1], p[2], s[2], p[3], s[3], p[4], s[4], p[5], s[5],
                                          p[6], s[6], p[7], s[7], n, H);
    Py_END_ALLOW_THREADS
    release(&B);
    Py_RETURN_TRUE;
}

/* ---- the LSTM layer's loops: GEMMs through NumPy's BLAS ------------------------------------------------ */

/* args[0..3) as the BLAS's (sgemm address, dgemm address, ilp64) into *b; 0 with a Python error set where one
 * is not an integer */
static int blas_of(PyObject *const *args, ember_blas *b)
{
    void *s = PyLong_AsVoidPtr(args[0]);
    if (s == NULL && PyErr_Occurred()) return 0;
    void *d = PyLong_AsVoidPtr(args[1]);
    if (d == NULL && PyErr_Occurred()) return 0;
    long wide;
    if (!longs(args + 2, 1, &wide)) return 0;
    b->sgemm = s;
    b->dgemm = d;
    b->ilp64 = wide != 0;
    return 1;
}

/* v as an (L, n, w) array of dtype dt (L = 0: a 2-D (n, w) one) with contiguous rows and non-negative strides:
 * its step and row strides in items (a row stride below w only where there is one row: w then, which BLAS
 * takes as the leading dimension) and the byte range it touches; 0 where it is not */
static int steps_view(const Py_buffer *v, char dt, Py_ssize_t L, Py_ssize_t n, Py_ssize_t w, long *st, long *sr,
                      char **lo, char **hi)
{
    const int nd = L ? 3 : 2;
    if (v->ndim != nd || dtype_of(v) != dt || (L && v->shape[0] != L) || v->shape[nd - 2] != n ||
        v->shape[nd - 1] != w || w < 1 || n < 1 || v->strides[nd - 1] != v->itemsize)
        return 0;
    for (int k = 0; k < nd - 1; k++)
        if (v->strides[k] < 0 || v->strides[k] % v->itemsize != 0) return 0;
    *st = L ? (long)(v->strides[0] / v->itemsize) : 0;
    *sr = (long)(v->strides[nd - 2] / v->itemsize);
    if (n == 1) *sr = (long)w;
    else if (*sr < w) return 0;
    *lo = (char *)v->buf;
    *hi = *lo + ((L ? (L - 1) * *st : 0) + (n - 1) * *sr + w) * v->itemsize;
    return 1;
}

/* lstm_forward_loop(sgemm, dgemm, ilp64, rows, W, G, C, TC, Hv, c0, reverse): ember_lstm_forward_loop over
 * rows (L, n, K), W (K, 4H) C-contiguous, G (L, n, 4H), C, TC, Hv (L, n, H), c0 (n, H).  G, C and TC are apart
 * from every other array; Hv only from all but rows (it is where the next step's row reads h). */
static PyObject *py_lstm_forward_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 11, "lstm_forward_loop")) return NULL;
    ember_blas blas;
    long reverse;
    if (!blas_of(args, &blas) || !longs(args + 10, 1, &reverse)) return NULL;
    Buffers B;
    if (!take(&B, args + 3, 7, 7, PyBUF_STRIDES)) Py_RETURN_FALSE;
    const Py_buffer *v = B.view;        /* rows, W, G, C, TC, Hv, c0 */
    char dt = v[0].ndim == 3 ? dtype_of(&v[0]) : 0;
    const Py_ssize_t L = dt ? v[0].shape[0] : 0, n = dt ? v[0].shape[1] : 0, K = dt ? v[0].shape[2] : 0;
    const Py_ssize_t H = dt && v[1].ndim == 2 ? v[1].shape[1] / 4 : 0;
    long st[7], sr[7];
    char *lo[7], *hi[7];
    const Py_ssize_t steps[7] = {L, 0, L, L, L, L, 0}, width[7] = {K, 4 * H, 4 * H, H, H, H, H};
    const Py_ssize_t height[7] = {n, K, n, n, n, n, n};
    if (L < 1 || H < 1 || (dt == 'f' ? blas.sgemm == NULL : blas.dgemm == NULL)) dt = 0;
    for (int i = 0; dt && i < 7; i++)
        if (!steps_view(&v[i], dt, steps[i], height[i], width[i], &st[i], &sr[i], &lo[i], &hi[i])) dt = 0;
    if (dt && sr[1] != 4 * H) dt = 0;                              /* W: C-contiguous */
    if (dt && !apart(lo, hi, 5, 3)) dt = 0;                        /* G, C, TC against rows, W and each other */
    char *lo2[6] = {lo[1], lo[2], lo[3], lo[4], lo[6], lo[5]}, *hi2[6] = {hi[1], hi[2], hi[3], hi[4], hi[6], hi[5]};
    char *lo3[4] = {lo[6], lo[2], lo[3], lo[4]}, *hi3[4] = {hi[6], hi[2], hi[3], hi[4]};
    if (dt && (!apart(lo2, hi2, 6, 1) || !apart(lo3, hi3, 4, 3))) dt = 0;     /* Hv; G, C, TC against c0 */
    if (!dt) {
        release(&B);
        Py_RETURN_FALSE;
    }
    void *p[7];
    for (int i = 0; i < 7; i++) p[i] = v[i].buf;
    Py_BEGIN_ALLOW_THREADS
    if (dt == 'f')
        ember_lstm_forward_loop_f32(&blas, p[0], st[0], sr[0], K, p[1], p[2], st[2], sr[2], p[6], sr[6], p[3], st[3],
                                    sr[3], p[4], st[4], sr[4], p[5], st[5], sr[5], L, n, H, reverse != 0);
    else
        ember_lstm_forward_loop_f64(&blas, p[0], st[0], sr[0], K, p[1], p[2], st[2], sr[2], p[6], sr[6], p[3], st[3],
                                    sr[3], p[4], st[4], sr[4], p[5], st[5], sr[5], L, n, H, reverse != 0);
    Py_END_ALLOW_THREADS
    release(&B);
    Py_RETURN_TRUE;
}

/* lstm_backward_loop(sgemm, dgemm, ilp64, G, C, TC, dout, c0, w_hh, dZ, dh, dc, dc2, reverse):
 * ember_lstm_backward_loop over G (L, n, 4H), C, TC, dout (L, n, H), c0 (n, H), w_hh (4H, H) C-contiguous,
 * dZ (L, n, 4H) and dh, dc, dc2 (n, H) C-contiguous, these four apart from every other array. */
static PyObject *py_lstm_backward_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 14, "lstm_backward_loop")) return NULL;
    ember_blas blas;
    long reverse;
    if (!blas_of(args, &blas) || !longs(args + 13, 1, &reverse)) return NULL;
    Buffers B;
    if (!take(&B, args + 3, 10, 4, PyBUF_STRIDES)) Py_RETURN_FALSE;
    const Py_buffer *v = B.view;        /* G, C, TC, dout, c0, w_hh, dZ, dh, dc, dc2 */
    char dt = v[0].ndim == 3 ? dtype_of(&v[0]) : 0;
    const Py_ssize_t L = dt ? v[0].shape[0] : 0, n = dt ? v[0].shape[1] : 0, H = dt ? v[0].shape[2] / 4 : 0;
    long st[10], sr[10];
    char *lo[10], *hi[10];
    const Py_ssize_t steps[10] = {L, L, L, L, 0, 0, L, 0, 0, 0};
    const Py_ssize_t width[10] = {4 * H, H, H, H, H, H, 4 * H, H, H, H}, height[10] = {n, n, n, n, n, 4 * H, n, n, n, n};
    if (L < 1 || H < 1 || (dt == 'f' ? blas.sgemm == NULL : blas.dgemm == NULL)) dt = 0;
    for (int i = 0; dt && i < 10; i++)
        if (!steps_view(&v[i], dt, steps[i], height[i], width[i], &st[i], &sr[i], &lo[i], &hi[i])) dt = 0;
    if (dt && (sr[5] != H || sr[7] != H || sr[8] != H || sr[9] != H)) dt = 0;    /* w_hh, dh, dc, dc2: C order */
    if (dt && !apart(lo, hi, 10, 4)) dt = 0;
    if (!dt) {
        release(&B);
        Py_RETURN_FALSE;
    }
    void *p[10];
    for (int i = 0; i < 10; i++) p[i] = v[i].buf;
    Py_BEGIN_ALLOW_THREADS
    if (dt == 'f')
        ember_lstm_backward_loop_f32(&blas, p[0], st[0], sr[0], p[1], st[1], sr[1], p[2], st[2], sr[2], p[3], st[3],
                                     sr[3], p[4], sr[4], p[5], p[6], st[6], sr[6], p[7], p[8], p[9], L, n, H,
                                     reverse != 0);
    else
        ember_lstm_backward_loop_f64(&blas, p[0], st[0], sr[0], p[1], st[1], sr[1], p[2], st[2], sr[2], p[3], st[3],
                                     sr[3], p[4], sr[4], p[5], p[6], st[6], sr[6], p[7], p[8], p[9], L, n, H,
                                     reverse != 0);
    Py_END_ALLOW_THREADS
    release(&B);
    Py_RETURN_TRUE;
}

/* im2col(x, cols, kh, kw, sh, sw, dh, dw, oh, ow): the columns (C, KH, KW, N, OH, OW) of the padded input x
 * (N, C, Hp, Wp; any non-negative strides) into cols, C-contiguous with that many elements; every window
 * must lie inside x (the caller's OH, OW, possibly capped below what x allows) */
static PyObject *py_im2col(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 10, "im2col")) return NULL;
    long p[8];
    if (!longs(args + 2, 8, p)) return NULL;
    long kh = p[0], kw = p[1], sh = p[2], sw = p[3], dh = p[4], dw = p[5], oh = p[6], ow = p[7];
    Buffers B;
    if (!take(&B, args, 1, 0, PyBUF_STRIDES)) Py_RETURN_FALSE;
    PyObject *const out_arg[1] = {args[1]};
    Buffers O;
    if (!take(&O, out_arg, 1, 1, PyBUF_C_CONTIGUOUS)) {
        release(&B);
        Py_RETURN_FALSE;
    }
    const Py_buffer *x = &B.view[0], *cv = &O.view[0];
    char dt = x->ndim == 4 ? dtype_of(x) : 0;
    long xs[4];
    for (int k = 0; dt && k < 4; k++) {
        if (x->strides[k] < 0 || x->strides[k] % x->itemsize != 0) dt = 0;
        else xs[k] = (long)(x->strides[k] / x->itemsize);
    }
    long n = dt ? (long)x->shape[0] : 0, c = dt ? (long)x->shape[1] : 0;
    if (dt && (dtype_of(cv) != dt || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || oh < 1 ||
               ow < 1 || (oh - 1) * sh + (kh - 1) * dh >= x->shape[2] ||
               (ow - 1) * sw + (kw - 1) * dw >= x->shape[3] ||
               cv->len / cv->itemsize != (Py_ssize_t)c * kh * kw * n * oh * ow)) dt = 0;
    char *lo[2] = {(char *)x->buf, (char *)cv->buf}, *hi[2] = {(char *)cv->buf, (char *)cv->buf + cv->len};
    if (dt) {       /* x's span: its first element to one past its last */
        Py_ssize_t last = 0;
        for (int k = 0; k < 4; k++) last += (x->shape[k] - 1) * x->strides[k];
        hi[0] = lo[0] + last + x->itemsize;
        if (!apart(lo, hi, 2, 1)) dt = 0;
    }
    if (dt) {
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f') ember_im2col_f32(x->buf, xs, n, c, kh, kw, oh, ow, sh, sw, dh, dw, cv->buf);
        else ember_im2col_f64(x->buf, xs, n, c, kh, kw, oh, ow, sh, sw, dh, dw, cv->buf);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    release(&O);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* The pixel-major convolution's geometry, args[3..15): kh, kw, sh, sw, dh, dw, oh, ow, p0, q0, hp, wp (see
 * kernels.c); g[12] gets them.  0 with a Python error set where one is not an integer; -1 where they do not
 * describe windows inside an (h, w) image padded to (hp, wp) */
static int nhwc_geometry(PyObject *const *args, long h, long w, long *g)
{
    if (!longs(args + 3, 12, g)) return 0;
    long kh = g[0], kw = g[1], sh = g[2], sw = g[3], dh = g[4], dw = g[5], oh = g[6], ow = g[7], p0 = g[8],
         q0 = g[9], hp = g[10], wp = g[11];
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || oh < 1 || ow < 1 || p0 < 0 || q0 < 0 ||
        h < 1 || w < 1 || p0 + h > hp || q0 + w > wp || (oh - 1) * sh + (kh - 1) * dh >= hp ||
        (ow - 1) * sw + (kw - 1) * dw >= wp) return -1;
    return 1;
}

/* columns_nhwc(x, cols, pad, <geometry>): the pixel-major columns (N*OH*OW, KH*KW*C) of x (N, C, H, W; any
 * non-negative strides) into cols (C-contiguous, that many elements); pad: scratch of at least Hp*Wp*C */
static PyObject *py_columns_nhwc(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 15, "columns_nhwc")) return NULL;
    Buffers B, O;
    if (!take(&B, args, 1, 0, PyBUF_STRIDES)) Py_RETURN_FALSE;
    if (!take(&O, args + 1, 2, 2, PyBUF_C_CONTIGUOUS)) {
        release(&B);
        Py_RETURN_FALSE;
    }
    const Py_buffer *x = &B.view[0], *cv = &O.view[0], *pv = &O.view[1];
    char dt = x->ndim == 4 ? dtype_of(x) : 0;
    long xs[4], g[12];
    for (int k = 0; dt && k < 4; k++) {
        if (x->strides[k] < 0 || x->strides[k] % x->itemsize != 0) dt = 0;
        else xs[k] = (long)(x->strides[k] / x->itemsize);
    }
    long n = dt ? (long)x->shape[0] : 0, c = dt ? (long)x->shape[1] : 0;
    long h = dt ? (long)x->shape[2] : 0, w = dt ? (long)x->shape[3] : 0;
    int geo = nhwc_geometry(args, h, w, g);
    if (geo == 0) {
        release(&B);
        release(&O);
        return NULL;
    }
    if (dt && (geo < 0 || n < 1 || c < 1 || dtype_of(cv) != dt || dtype_of(pv) != dt ||
               cv->len / cv->itemsize != (Py_ssize_t)n * g[6] * g[7] * g[0] * g[1] * c ||
               pv->len / pv->itemsize < (Py_ssize_t)g[10] * g[11] * c)) dt = 0;
    char *lo[3] = {(char *)x->buf, (char *)cv->buf, (char *)pv->buf};
    char *hi[3] = {lo[0], lo[1] + cv->len, lo[2] + pv->len};
    if (dt) {       /* x's span: its first element to one past its last */
        Py_ssize_t last = 0;
        for (int k = 0; k < 4; k++) last += (x->shape[k] - 1) * x->strides[k];
        hi[0] = lo[0] + last + x->itemsize;
        if (!apart(lo, hi, 3, 2)) dt = 0;
    }
    if (dt) {
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f')
            ember_columns_nhwc_f32(x->buf, xs, n, c, h, w, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8],
                                   g[9], g[10], g[11], pv->buf, cv->buf);
        else
            ember_columns_nhwc_f64(x->buf, xs, n, c, h, w, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8],
                                   g[9], g[10], g[11], pv->buf, cv->buf);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    release(&O);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* col2im_nhwc(dcols, gx, pad, <geometry>): the input gradient gx (N, C, H, W), C-contiguous, from the
 * pixel-major column gradients dcols (N, OH, OW, KH, KW, C), C-contiguous; pad: scratch of at least Hp*Wp*C */
static PyObject *py_col2im_nhwc(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 15, "col2im_nhwc")) return NULL;
    Buffers B;
    if (!take(&B, args, 3, 2, PyBUF_C_CONTIGUOUS)) Py_RETURN_FALSE;
    const Py_buffer *dv = &B.view[0], *gv = &B.view[1], *pv = &B.view[2];
    char dt = gv->ndim == 4 ? dtype_of(gv) : 0;
    long n = dt ? (long)gv->shape[0] : 0, c = dt ? (long)gv->shape[1] : 0;
    long h = dt ? (long)gv->shape[2] : 0, w = dt ? (long)gv->shape[3] : 0, g[12];
    int geo = nhwc_geometry(args, h, w, g);
    if (geo == 0) {
        release(&B);
        return NULL;
    }
    if (dt && (geo < 0 || n < 1 || c < 1 || dtype_of(dv) != dt || dtype_of(pv) != dt ||
               dv->len / dv->itemsize != (Py_ssize_t)n * g[6] * g[7] * g[0] * g[1] * c ||
               pv->len / pv->itemsize < (Py_ssize_t)g[10] * g[11] * c)) dt = 0;
    char *lo[3], *hi[3];
    for (int k = 0; k < 3; k++) {
        lo[k] = (char *)B.view[k].buf;
        hi[k] = lo[k] + B.view[k].len;
    }
    if (dt && !apart(lo, hi, 3, 2)) dt = 0;
    if (dt) {
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f')
            ember_col2im_nhwc_f32(dv->buf, n, c, h, w, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9],
                                  g[10], g[11], pv->buf, gv->buf);
        else
            ember_col2im_nhwc_f64(dv->buf, n, c, h, w, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9],
                                  g[10], g[11], pv->buf, gv->buf);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* the buffer holds uint8 */
static int is_u8(const Py_buffer *v)
{
    const char *f = v->format ? v->format : "B";
    if (*f == '@' || *f == '=' || *f == '<' || *f == '>' || *f == '|') f++;
    return v->itemsize == 1 && f[0] == 'B' && f[1] == 0;
}

/* max pooling's geometry, args[0..10): kh, kw, sh, sw, dh, dw, p0, q0, oh, ow into g[10]; 0 with a Python
 * error set where one is not an integer, -1 where they are out of range (offsets must fit a uint8) */
static int pool_geometry(PyObject *const *args, long *g)
{
    if (!longs(args, 10, g)) return 0;
    for (int i = 0; i < 6; i++)
        if (g[i] < 1) return -1;
    if (g[0] * g[1] > 255 || g[6] < 0 || g[7] < 0 || g[8] < 1 || g[9] < 1) return -1;
    return 1;
}

/* maxpool_backward(g, k, gx, kh, kw, sh, sw, dh, dw, p0, q0, oh, ow): the input gradient gx (N, C, H, W),
 * C-contiguous, from the output gradient g (N, C, OH, OW) and the offsets k (uint8), both C-contiguous */
static PyObject *py_maxpool_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 13, "maxpool_backward")) return NULL;
    long g[10];
    int geo = pool_geometry(args + 3, g);
    if (geo == 0) return NULL;
    Buffers B;
    if (!take(&B, args, 3, 1, PyBUF_C_CONTIGUOUS)) Py_RETURN_FALSE;
    const Py_buffer *gv = &B.view[0], *kv = &B.view[1], *xv = &B.view[2];
    char dt = geo > 0 && xv->ndim == 4 ? dtype_of(xv) : 0;
    Py_ssize_t outs = dt ? xv->shape[0] * xv->shape[1] * g[8] * g[9] : 0;
    if (dt && (dtype_of(gv) != dt || !is_u8(kv) || gv->len / gv->itemsize != outs || kv->len != outs ||
               xv->len == 0)) dt = 0;
    char *lo[3], *hi[3];
    for (int i = 0; i < 3; i++) {
        lo[i] = (char *)B.view[i].buf;
        hi[i] = lo[i] + B.view[i].len;
    }
    if (dt && !apart(lo, hi, 3, 1)) dt = 0;
    if (dt) {
        long n = (long)xv->shape[0], c = (long)xv->shape[1], h = (long)xv->shape[2], w = (long)xv->shape[3];
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f')
            ember_maxpool_backward_f32(gv->buf, kv->buf, n, c, h, w, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
                                       g[8], g[9], xv->buf);
        else
            ember_maxpool_backward_f64(gv->buf, kv->buf, n, c, h, w, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
                                       g[8], g[9], xv->buf);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* sgd_momentum(p, buf, g, lr, momentum): SGD's momentum step in place on p and buf (C-contiguous, one dtype
 * and length with g, apart from each other and from g) */
static PyObject *py_sgd_momentum(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 5, "sgd_momentum")) return NULL;
    const double lr = PyFloat_AsDouble(args[3]), momentum = PyFloat_AsDouble(args[4]);
    if (PyErr_Occurred()) return NULL;
    PyObject *const order[3] = {args[2], args[0], args[1]};     /* (g; then the two written) */
    Buffers B;
    if (!take(&B, order, 3, 2, PyBUF_C_CONTIGUOUS)) Py_RETURN_FALSE;
    char dt = dtype_of(&B.view[0]);
    char *lo[3], *hi[3];
    for (int i = 0; i < 3; i++) {
        if (dtype_of(&B.view[i]) != dt || B.view[i].len != B.view[0].len) dt = 0;
        lo[i] = (char *)B.view[i].buf;
        hi[i] = lo[i] + B.view[i].len;
    }
    if (dt && !apart(lo, hi, 3, 2)) dt = 0;
    if (dt) {
        const long n = (long)(B.view[0].len / B.view[0].itemsize);
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f')
            ember_sgd_momentum_f32(B.view[1].buf, B.view[2].buf, B.view[0].buf, n, (float)lr, (float)momentum);
        else
            ember_sgd_momentum_f64(B.view[1].buf, B.view[2].buf, B.view[0].buf, n, lr, momentum);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* ---- Winograd F(2x2, 3x3)'s transforms (see kernels.c); every array C-contiguous, one dtype ---------- */

/* the 4-D shape of a view into d[4], or 0 */
static int dims4(const Py_buffer *v, long *d)
{
    if (v->ndim != 4) return 0;
    for (int k = 0; k < 4; k++) d[k] = (long)v->shape[k];
    return 1;
}

/* the buffers of args[0..n) (the last `outputs` written), one dtype, pairwise apart; the dtype code or 0
 * (buffers released).  args[skip] may be None (not taken; `skip` < 0: none) */
static char same_dtype_apart(Buffers *B, PyObject *const *args, int n, int outputs, int skip)
{
    PyObject *taken[MAX_ARRAYS];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (i != skip || args[i] != Py_None) taken[m++] = args[i];
    if (!take(B, taken, m, outputs, PyBUF_C_CONTIGUOUS)) return 0;
    char dt = dtype_of(&B->view[0]);
    char *lo[MAX_ARRAYS], *hi[MAX_ARRAYS];
    for (int i = 0; i < m; i++) {
        if (dtype_of(&B->view[i]) != dt) dt = 0;
        lo[i] = (char *)B->view[i].buf;
        hi[i] = lo[i] + B->view[i].len;
    }
    if (dt && !apart(lo, hi, m, outputs)) dt = 0;
    if (!dt) release(B);
    return dt;
}

static Py_ssize_t items(const Py_buffer *v) { return v->len / v->itemsize; }

/* v holds `count` planes of `size` elements, `pl` >= size apart */
static int planes_of(const Py_buffer *v, long count, long size, long pl)
{
    return pl >= size && items(v) >= (count - 1) * pl + size;
}

/* Winograd F(m x m, r x r) (m, r: 2, 3 or 4, 3 or 2, 5; alpha = m + r - 1) */
static int wino_variant(long m, long r) { return (m == 2 && (r == 3 || r == 5)) || (m == 4 && r == 3); }

/* wino_input(x, v, pad, p0, q0, th, tw, m, r, pl): V (alpha^2, N*TH*TW, C) of x (N, C, H, W) into v, its planes
 * pl elements apart; pad: >= (m TH + r - 1)(m TW + r - 1) C + alpha^2 C */
static PyObject *py_wino_input(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 10, "wino_input")) return NULL;
    long g[7], d[4];
    if (!longs(args + 3, 7, g)) return NULL;
    Buffers B;
    char dt = same_dtype_apart(&B, args, 3, 2, -1);
    if (!dt) Py_RETURN_FALSE;
    const long p0 = g[0], q0 = g[1], th = g[2], tw = g[3], m = g[4], r = g[5], pl = g[6], al = m + r - 1;
    if (!dims4(&B.view[0], d) || !wino_variant(m, r) || p0 < 0 || q0 < 0 || th < 1 || tw < 1 || d[0] < 1 ||
        d[1] < 1 || m * th + r - 1 < p0 + d[2] || m * tw + r - 1 < q0 + d[3] ||
        !planes_of(&B.view[1], al * al, d[0] * th * tw * d[1], pl) ||
        items(&B.view[2]) < ((m * th + r - 1) * (m * tw + r - 1) + al * al) * d[1])
        dt = 0;
    if (dt) {
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f')
            ember_wino_input_f32(B.view[0].buf, d[0], d[1], d[2], d[3], p0, q0, th, tw, m, r, pl, B.view[2].buf,
                               B.view[1].buf);
        else
            ember_wino_input_f64(B.view[0].buf, d[0], d[1], d[2], d[3], p0, q0, th, tw, m, r, pl, B.view[2].buf,
                               B.view[1].buf);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* wino_output(mm, bias or None, pad, y, th, tw, m, r, pl): y (N, O, OH, OW) from mm (alpha^2, N*TH*TW, O; planes
 * pl elements apart) plus bias (O); pad: >= m^2 TH TW O + alpha m O */
static PyObject *py_wino_output(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 9, "wino_output")) return NULL;
    long g[5], d[4];
    if (!longs(args + 4, 5, g)) return NULL;
    const int has_b = args[1] != Py_None;
    Buffers B;
    char dt = same_dtype_apart(&B, args, 4, 2, 1);     /* (pad and y written) */
    if (!dt) Py_RETURN_FALSE;
    const Py_buffer *mv = &B.view[0], *bv = has_b ? &B.view[1] : NULL;
    const Py_buffer *pv = &B.view[1 + has_b], *yv = &B.view[2 + has_b];
    const long th = g[0], tw = g[1], m = g[2], r = g[3], pl = g[4], al = m + r - 1;
    if (!dims4(yv, d) || !wino_variant(m, r) || th < 1 || tw < 1 || d[0] < 1 || d[1] < 1 || d[2] > m * th ||
        d[3] > m * tw || !planes_of(mv, al * al, d[0] * th * tw * d[1], pl) ||
        items(pv) < (m * m * th * tw + al * m) * d[1] || (bv && items(bv) != d[1]))
        dt = 0;
    if (dt) {
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f')
            ember_wino_output_f32(mv->buf, bv ? bv->buf : NULL, d[0], d[1], d[2], d[3], th, tw, m, r, pl, pv->buf,
                                yv->buf);
        else
            ember_wino_output_f64(mv->buf, bv ? bv->buf : NULL, d[0], d[1], d[2], d[3], th, tw, m, r, pl, pv->buf,
                                yv->buf);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* wino_grad_output(g, dm, pad, th, tw, m, r, pl): dM (alpha^2, N*TH*TW, O; planes pl elements apart) of g
 * (N, O, OH, OW); pad: >= m^2 TH TW O + alpha m O */
static PyObject *py_wino_grad_output(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 8, "wino_grad_output")) return NULL;
    long g[5], d[4];
    if (!longs(args + 3, 5, g)) return NULL;
    Buffers B;
    char dt = same_dtype_apart(&B, args, 3, 2, -1);
    if (!dt) Py_RETURN_FALSE;
    const long th = g[0], tw = g[1], m = g[2], r = g[3], pl = g[4], al = m + r - 1;
    if (!dims4(&B.view[0], d) || !wino_variant(m, r) || th < 1 || tw < 1 || d[0] < 1 || d[1] < 1 ||
        d[2] > m * th || d[3] > m * tw || !planes_of(&B.view[1], al * al, d[0] * th * tw * d[1], pl) ||
        items(&B.view[2]) < (m * m * th * tw + al * m) * d[1])
        dt = 0;
    if (dt) {
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f')
            ember_wino_grad_output_f32(B.view[0].buf, d[0], d[1], d[2], d[3], th, tw, m, r, pl, B.view[2].buf,
                                     B.view[1].buf);
        else
            ember_wino_grad_output_f64(B.view[0].buf, d[0], d[1], d[2], d[3], th, tw, m, r, pl, B.view[2].buf,
                                     B.view[1].buf);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* wino_weight(w, u, pl, m, transpose, flip): U (alpha^2, O, C; with transpose (alpha^2, C, O); planes pl apart)
 * of w (O, C, r, r), its taps reversed with flip; wino_weight_grad(du, dw, pl, m): dW (O, C, r, r) from dU
 * (alpha^2, O, C; planes pl apart) */
static PyObject *wino_weights(PyObject *const *args, Py_ssize_t nargs, int grad)
{
    if (!check_nargs(nargs, grad ? 4 : 6, grad ? "wino_weight_grad" : "wino_weight")) return NULL;
    long g[2];
    if (!longs(args + 2, 2, g)) return NULL;
    const long pl = g[0], m = g[1];
    int transpose = 0, flip = 0;
    if (!grad && ((transpose = PyObject_IsTrue(args[4])) < 0 || (flip = PyObject_IsTrue(args[5])) < 0)) return NULL;
    Buffers B;
    char dt = same_dtype_apart(&B, args, 2, 1, -1);
    if (!dt) Py_RETURN_FALSE;
    const Py_buffer *wv = &B.view[grad ? 1 : 0], *uv = &B.view[grad ? 0 : 1];
    long d[4];
    if (!dims4(wv, d) || !wino_variant(m, d[2]) || d[0] < 1 || d[1] < 1 || d[3] != d[2] ||
        !planes_of(uv, (m + d[2] - 1) * (m + d[2] - 1), d[0] * d[1], pl))
        dt = 0;
    if (dt) {
        Py_BEGIN_ALLOW_THREADS
        if (grad && dt == 'f') ember_wino_weight_grad_f32(uv->buf, d[0], d[1], m, d[2], pl, wv->buf);
        else if (grad) ember_wino_weight_grad_f64(uv->buf, d[0], d[1], m, d[2], pl, wv->buf);
        else if (dt == 'f') ember_wino_weight_f32(wv->buf, d[0], d[1], m, d[2], transpose, flip, pl, uv->buf);
        else ember_wino_weight_f64(wv->buf, d[0], d[1], m, d[2], transpose, flip, pl, uv->buf);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    if (dt) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

static PyObject *py_wino_weight(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return wino_weights(args, nargs, 0);
}

static PyObject *py_wino_weight_grad(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return wino_weights(args, nargs, 1);
}

/* cumsum(x, out, acc, outer, len, inner): running sums along the middle axis of x (outer, len, inner),
 * C-contiguous float32/float64, into out (the same); acc: float64 scratch of `inner` elements */
static PyObject *py_cumsum(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 6, "cumsum")) return NULL;
    long dims[3];
    if (!longs(args + 3, 3, dims)) return NULL;
    Buffers B;
    Py_ssize_t n;
    char dt = flat(&B, args, 2, &n);       /* x and out: one dtype and size, apart */
    if (!dt) Py_RETURN_FALSE;
    PyObject *const acc_arg[1] = {args[2]};
    Buffers A;
    if (!take(&A, acc_arg, 1, 1, PyBUF_C_CONTIGUOUS)) {
        release(&B);
        Py_RETURN_FALSE;
    }
    const Py_buffer *acc = &A.view[0];
    int ok = dims[0] >= 0 && dims[1] >= 0 && dims[2] >= 1 && (Py_ssize_t)dims[0] * dims[1] * dims[2] == n &&
             dtype_of(acc) == 'd' && acc->len / 8 >= dims[2];
    char *lo[3] = {B.view[0].buf, B.view[1].buf, acc->buf};
    char *hi[3] = {lo[0] + B.view[0].len, lo[1] + B.view[1].len, lo[2] + acc->len};
    if (ok && !apart(lo, hi, 3, 2)) ok = 0;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        if (dt == 'f') ember_cumsum_f32(B.view[0].buf, B.view[1].buf, acc->buf, dims[0], dims[1], dims[2]);
        else ember_cumsum_f64(B.view[0].buf, B.view[1].buf, acc->buf, dims[0], dims[1], dims[2]);
        Py_END_ALLOW_THREADS
    }
    release(&B);
    release(&A);
    if (ok) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* softmax(x, out, len, log): softmax (log_softmax when log is true) along rows of `len` elements of x,
 * C-contiguous float32/float64, into out (the same, apart) */
static PyObject *py_softmax(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 4, "softmax")) return NULL;
    long len;
    if (!longs(args + 2, 1, &len)) return NULL;
    int log_out = PyObject_IsTrue(args[3]);
    if (log_out < 0) return NULL;
    Buffers B;
    Py_ssize_t n;
    char dt = flat(&B, args, 2, &n);
    if (!dt) Py_RETURN_FALSE;
    if (len < 1 || n % len != 0) {
        release(&B);
        Py_RETURN_FALSE;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dt == 'f') ember_softmax_f32(B.view[0].buf, B.view[1].buf, (long)(n / len), len, log_out);
    else ember_softmax_f64(B.view[0].buf, B.view[1].buf, (long)(n / len), len, log_out);
    Py_END_ALLOW_THREADS
    release(&B);
    Py_RETURN_TRUE;
}

/* softmax_inplace(s, len, safe): softmax along rows of `len` elements of s (C-contiguous float32/float64,
 * written in place); with `safe` a row of -inf only becomes zeros */
static PyObject *py_softmax_inplace(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!check_nargs(nargs, 3, "softmax_inplace")) return NULL;
    long len;
    if (!longs(args + 1, 1, &len)) return NULL;
    int safe = PyObject_IsTrue(args[2]);
    if (safe < 0) return NULL;
    Buffers B;
    if (!take(&B, args, 1, 1, PyBUF_C_CONTIGUOUS)) Py_RETURN_FALSE;
    const Py_buffer *v = &B.view[0];
    char dt = dtype_of(v);
    Py_ssize_t n = v->itemsize ? v->len / v->itemsize : 0;
    if (!dt || len < 1 || n % len != 0) {
        release(&B);
        Py_RETURN_FALSE;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dt == 'f') ember_softmax_inplace_f32(v->buf, (long)(n / len), len, safe);
    else ember_softmax_inplace_f64(v->buf, (long)(n / len), len, safe);
    Py_END_ALLOW_THREADS
    release(&B);
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"unary", (PyCFunction)(void (*)(void))py_unary, METH_FASTCALL,
     "unary(name, x, out) -> bool: out = name(x), name one of exp, tanh, sigmoid, silu, gelu, gelu_tanh, relu"},
    {"unary_grad", (PyCFunction)(void (*)(void))py_unary_grad, METH_FASTCALL,
     "unary_grad(name, x, g, out) -> bool: out = g * name'(x), name one of silu, gelu, gelu_tanh; relu: from the output x"},
    {"lstm_pointwise", (PyCFunction)(void (*)(void))py_lstm_pointwise, METH_FASTCALL,
     "lstm_pointwise(z, c_prev, c, tc, h) -> bool"},
    {"lstm_backward_pointwise", (PyCFunction)(void (*)(void))py_lstm_backward_pointwise, METH_FASTCALL,
     "lstm_backward_pointwise(g, c_prev, tc, dout, dh_next, dc_next, dz, dc_out) -> bool"},
    {"lstm_forward_loop", (PyCFunction)(void (*)(void))py_lstm_forward_loop, METH_FASTCALL,
     "lstm_forward_loop(sgemm, dgemm, ilp64, rows, W, G, C, TC, Hv, c0, reverse) -> bool"},
    {"lstm_backward_loop", (PyCFunction)(void (*)(void))py_lstm_backward_loop, METH_FASTCALL,
     "lstm_backward_loop(sgemm, dgemm, ilp64, G, C, TC, dout, c0, w_hh, dZ, dh, dc, dc2, reverse) -> bool"},
    {"im2col", (PyCFunction)(void (*)(void))py_im2col, METH_FASTCALL,
     "im2col(x, cols, kh, kw, sh, sw, dh, dw, oh, ow) -> bool"},
    {"columns_nhwc", (PyCFunction)(void (*)(void))py_columns_nhwc, METH_FASTCALL,
     "columns_nhwc(x, cols, pad, kh, kw, sh, sw, dh, dw, oh, ow, p0, q0, hp, wp) -> bool"},
    {"col2im_nhwc", (PyCFunction)(void (*)(void))py_col2im_nhwc, METH_FASTCALL,
     "col2im_nhwc(dcols, gx, pad, kh, kw, sh, sw, dh, dw, oh, ow, p0, q0, hp, wp) -> bool"},
    {"maxpool_backward", (PyCFunction)(void (*)(void))py_maxpool_backward, METH_FASTCALL,
     "maxpool_backward(g, k, gx, kh, kw, sh, sw, dh, dw, p0, q0, oh, ow) -> bool"},
    {"sgd_momentum", (PyCFunction)(void (*)(void))py_sgd_momentum, METH_FASTCALL,
     "sgd_momentum(p, buf, g, lr, momentum) -> bool"},
    {"wino_input", (PyCFunction)(void (*)(void))py_wino_input, METH_FASTCALL,
     "wino_input(x, v, pad, p0, q0, th, tw, m, r, pl) -> bool"},
    {"wino_output", (PyCFunction)(void (*)(void))py_wino_output, METH_FASTCALL,
     "wino_output(mm, bias, pad, y, th, tw, m, r, pl) -> bool"},
    {"wino_grad_output", (PyCFunction)(void (*)(void))py_wino_grad_output, METH_FASTCALL,
     "wino_grad_output(g, dm, pad, th, tw, m, r, pl) -> bool"},
    {"wino_weight", (PyCFunction)(void (*)(void))py_wino_weight, METH_FASTCALL, "wino_weight(w, u, pl, m, transpose, flip) -> bool"},
    {"wino_weight_grad", (PyCFunction)(void (*)(void))py_wino_weight_grad, METH_FASTCALL,
     "wino_weight_grad(du, dw, pl, m) -> bool"},
    {"cumsum", (PyCFunction)(void (*)(void))py_cumsum, METH_FASTCALL,
     "cumsum(x, out, acc, outer, len, inner) -> bool"},
    {"softmax", (PyCFunction)(void (*)(void))py_softmax, METH_FASTCALL,
     "softmax(x, out, len, log) -> bool"},
    {"softmax_inplace", (PyCFunction)(void (*)(void))py_softmax_inplace, METH_FASTCALL,
     "softmax_inplace(s, len, safe) -> bool"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef kernels_module = {
    PyModuleDef_HEAD_INIT, "_kernels", "ember's compiled kernels (see ember/ops/_ckernels.py)", -1, methods};

PyMODINIT_FUNC PyInit__kernels(void)
{
    PyObject *m = PyModule_Create(&kernels_module);
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", EMBER_KERNELS_VERSION) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
