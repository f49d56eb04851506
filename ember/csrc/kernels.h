/* ember's compiled kernels (kernels.c), called by the Python module (module.c). */
#ifndef EMBER_KERNELS_H
#define EMBER_KERNELS_H

#include <stdint.h>

void ember_gelu_f32(const float *x, float *y, long n, int tanh_approx);
void ember_gelu_grad_f32(const float *x, const float *g, float *out, long n, int tanh_approx);
void ember_gelu_f64(const double *x, double *y, long n);
void ember_gelu_grad_f64(const double *x, const double *g, double *out, long n);

void ember_exp_f32(const float *x, float *y, long n);
void ember_exp_f64(const double *x, double *y, long n);
void ember_tanh_f32(const float *x, float *y, long n);
void ember_relu_f32(const float *x, float *y, long n);
void ember_relu_f64(const double *x, double *y, long n);
void ember_relu_grad_f32(const float *o, const float *g, float *out, long n);
void ember_relu_grad_f64(const double *o, const double *g, double *out, long n);
void ember_sigmoid_f32(const float *x, float *y, long n);
void ember_sigmoid_f64(const double *x, double *y, long n);
void ember_silu_f32(const float *x, float *y, long n);
void ember_silu_f64(const double *x, double *y, long n);
void ember_silu_grad_f32(const float *x, const float *g, float *out, long n);
void ember_silu_grad_f64(const double *x, const double *g, double *out, long n);

void ember_lstm_pointwise_f32(float *z, long zs, const float *c_prev, long cps, float *c, long cs, float *tc,
                              long tcs, float *h, long hs, long n, long H);
void ember_lstm_pointwise_f64(double *z, long zs, const double *c_prev, long cps, double *c, long cs, double *tc,
                              long tcs, double *h, long hs, long n, long H);
void ember_lstm_backward_pointwise_f32(const float *g, long gs, const float *c_prev, long cps, const float *tc,
                                       long tcs, const float *dout, long dos, const float *dh_next, long dhs,
                                       const float *dc_next, long dcs, float *dz, long dzs, float *dc_out,
                                       long dcos, long n, long H);
void ember_lstm_backward_pointwise_f64(const double *g, long gs, const double *c_prev, long cps,
                                       const double *tc, long tcs, const double *dout, long dos,
                                       const double *dh_next, long dhs, const double *dc_next, long dcs,
                                       double *dz, long dzs, double *dc_out, long dcos, long n, long H);

/* the BLAS GEMMs that NumPy calls (addresses found at run time) */
typedef struct {
    void *sgemm, *dgemm;
    int ilp64;
} ember_blas;

void ember_lstm_forward_loop_f32(const ember_blas *blas, float *rows, long rows_t, long rows_r, long K,
                                 const float *W, float *G, long g_t, long g_r, const float *c0, long c0_r,
                                 float *C, long c_t, long c_r, float *TC, long tc_t, long tc_r, float *Hv,
                                 long h_t, long h_r, long L, long n, long H, int reverse);
void ember_lstm_forward_loop_f64(const ember_blas *blas, double *rows, long rows_t, long rows_r, long K,
                                 const double *W, double *G, long g_t, long g_r, const double *c0, long c0_r,
                                 double *C, long c_t, long c_r, double *TC, long tc_t, long tc_r, double *Hv,
                                 long h_t, long h_r, long L, long n, long H, int reverse);
void ember_lstm_backward_loop_f32(const ember_blas *blas, const float *G, long g_t, long g_r, const float *C,
                                  long c_t, long c_r, const float *TC, long tc_t, long tc_r, const float *dout,
                                  long do_t, long do_r, const float *c0, long c0_r, const float *w_hh, float *dZ,
                                  long dz_t, long dz_r, float *dh, float *dc, float *dc2, long L, long n, long H,
                                  int reverse);
void ember_lstm_backward_loop_f64(const ember_blas *blas, const double *G, long g_t, long g_r, const double *C,
                                  long c_t, long c_r, const double *TC, long tc_t, long tc_r, const double *dout,
                                  long do_t, long do_r, const double *c0, long c0_r, const double *w_hh,
                                  double *dZ, long dz_t, long dz_r, double *dh, double *dc, double *dc2, long L,
                                  long n, long H, int reverse);

void ember_im2col_f32(const float *x, const long *xs, long n, long c, long kh, long kw, long oh, long ow, long sh,
                      long sw, long dh, long dw, float *cols);
void ember_im2col_f64(const double *x, const long *xs, long n, long c, long kh, long kw, long oh, long ow,
                      long sh, long sw, long dh, long dw, double *cols);
void ember_columns_nhwc_f32(const float *x, const long *xs, long n, long c, long h, long w, long kh, long kw,
                            long sh, long sw, long dh, long dw, long oh, long ow, long p0, long q0, long hp,
                            long wp, float *pad, float *cols);
void ember_columns_nhwc_f64(const double *x, const long *xs, long n, long c, long h, long w, long kh, long kw,
                            long sh, long sw, long dh, long dw, long oh, long ow, long p0, long q0, long hp,
                            long wp, double *pad, double *cols);
void ember_col2im_nhwc_f32(const float *dcols, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                           long dh, long dw, long oh, long ow, long p0, long q0, long hp, long wp, float *pad,
                           float *gx);
void ember_col2im_nhwc_f64(const double *dcols, long n, long c, long h, long w, long kh, long kw, long sh,
                           long sw, long dh, long dw, long oh, long ow, long p0, long q0, long hp, long wp,
                           double *pad, double *gx);
void ember_maxpool_backward_f32(const float *g, const uint8_t *k, long n, long c, long h, long w, long kh, long kw,
                                long sh, long sw, long dh, long dw, long p0, long q0, long oh, long ow, float *gx);
void ember_maxpool_backward_f64(const double *g, const uint8_t *k, long n, long c, long h, long w, long kh,
                                long kw, long sh, long sw, long dh, long dw, long p0, long q0, long oh, long ow,
                                double *gx);
void ember_wino_input_f32(const float *x, long n, long c, long h, long w, long p0, long q0, long th, long tw, long m,
                          long r, long pl, float *pad, float *v);
void ember_wino_input_f64(const double *x, long n, long c, long h, long w, long p0, long q0, long th, long tw, long m,
                          long r, long pl, double *pad, double *v);
void ember_wino_output_f32(const float *mm, const float *bias, long n, long o, long oh, long ow, long th, long tw,
                           long m, long r, long pl, float *pad, float *y);
void ember_wino_output_f64(const double *mm, const double *bias, long n, long o, long oh, long ow, long th, long tw,
                           long m, long r, long pl, double *pad, double *y);
void ember_wino_grad_output_f32(const float *g, long n, long o, long oh, long ow, long th, long tw, long m, long r,
                                long pl, float *pad, float *dm);
void ember_wino_grad_output_f64(const double *g, long n, long o, long oh, long ow, long th, long tw, long m, long r,
                                long pl, double *pad, double *dm);
void ember_wino_weight_f32(const float *w, long o, long c, long m, long r, int transpose, int flip, long pl, float *u);
void ember_wino_weight_f64(const double *w, long o, long c, long m, long r, int transpose, int flip, long pl, double *u);
void ember_wino_weight_grad_f32(const float *du, long o, long c, long m, long r, long pl, float *dw);
void ember_wino_weight_grad_f64(const double *du, long o, long c, long m, long r, long pl, double *dw);
void ember_sgd_momentum_f32(float *p, float *buf, const float *g, long n, float lr, float momentum);
void ember_sgd_momentum_f64(double *p, double *buf, const double *g, long n, double lr, double momentum);
void ember_cumsum_f32(const float *x, float *y, double *acc, long outer, long len, long inner);
void ember_cumsum_f64(const double *x, double *y, double *acc, long outer, long len, long inner);
void ember_softmax_f32(const float *x, float *y, long rows, long len, int log_out);
void ember_softmax_f64(const double *x, double *y, long rows, long len, int log_out);
void ember_softmax_inplace_f32(float *y, long rows, long len, int safe);
void ember_softmax_inplace_f64(double *y, long rows, long len, int safe);

#endif
