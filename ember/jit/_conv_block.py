"""A fused convolution block for compiled training steps: ``conv2d`` [-> ``relu`` [-> ``max_pool2d(2)``]].

Eager convolution hands out NCHW results, so its GEMM's channel-major result ``(O, N*OH*OW)`` is transposed into
NCHW, and its backward transposes the output gradient back to channel-major (``_o_major``).  Inside a block the
activations stay channel-major (CNHW): the ReLU and the 2x2 pooling run on the GEMM's result as it is, the
block's output is an NCHW-shaped *view* of CNHW memory (what the next convolution's im2col reads with strides,
and what a flatten copies into NCHW order), and the backward needs no transposes; the input gradient is
written into CNHW memory, so the block upstream reads it without a copy.  The im2col columns go into a buffer
kept by the step (allocated once per input shape).  Every value is computed by the same NumPy operations as the
eager ops (``ember.ops.conv``, ``Relu``, ``_MaxPool2d``), in other memory layouts, so the results are equal.

At 2+ BLAS threads a block runs as parts of its batch at once, on the rule and thresholds of eager
convolution's split (``conv._split_threads``): each part the one-thread algorithm above on its images (BLAS at
one thread), writing its images of the block's output and input gradient; the parts' weight and bias
gradients are summed in image order, as eager's are.  (Unsplit at 2 BLAS threads the block's many small GEMMs
each paid a thread hand-off: LeNet-5's compiled step took 4.0 ms there against 3.6 at one thread.)
"""
from __future__ import annotations

import numpy as _np

from ..ops import _bound, _parallel as _par
from ..ops.conv import _as_strided, _grad_weight, _span, _split_threads
from ..ops.pool import _max_of_four as _pool4     # (max and first-max position of a 2x2 window)
from ._graph import Value


_L2 = 640 << 10        # bytes of im2col columns per block of a forward made in blocks of output rows


def _conv_ok(node):
    a = node.args
    return (node.op.__name__ == "_Conv2d" and not node.kwargs and len(a) == 7 and type(a[0]) is Value
            and type(a[1]) is Value and (a[2] is None or type(a[2]) is Value) and a[6] == 1
            and len(a[0].shape) == 4 and a[0].dtype.kind == "f" and a[0].dtype == a[1].dtype)


def _pool_ok(node, src):
    a = node.args
    if node.op.__name__ != "_MaxPool2d" or node.kwargs or len(a) != 7 or a[0] is not src:
        return False
    ks, st, pad, dil, ceil, idx = a[1:]
    return (tuple(ks) == (2, 2) and tuple(st) == (2, 2) and tuple(pad) == (0, 0) and tuple(dil) == (1, 1)
            and not idx and src.shape[2] % 2 == 0 and src.shape[3] % 2 == 0)


def find_blocks(nodes, uses, outs) -> dict:
    """``{index of a conv node: [conv, relu?, pool?]}`` for the blocks the plan can fuse: each intermediate used
    only by the next node of the block and not a graph output."""
    blocks = {}
    i = 0
    while i < len(nodes):
        n = nodes[i]
        if not _conv_ok(n):
            i += 1
            continue
        chain = [n]
        j = i + 1

        def single(v):
            return uses.get(id(v), 0) == 1 and id(v) not in outs
        if (j < len(nodes) and nodes[j].op.__name__ == "Relu" and len(nodes[j].args) == 1 and not nodes[j].kwargs
                and nodes[j].args[0] is n.outputs[0] and single(n.outputs[0])):
            chain.append(nodes[j])
            j += 1
            if j < len(nodes) and _pool_ok(nodes[j], chain[-1].outputs[0]) and single(chain[-1].outputs[0]):
                chain.append(nodes[j])
                j += 1
        blocks[i] = chain
        i = j
    return blocks


class ConvBlock:
    """Forward and backward of one fused block (see the module docstring)."""

    def __init__(self, chain, nchw_out=False, nchw_gx=False):
        conv = chain[0]
        self.nchw_out, self.nchw_gx = nchw_out, nchw_gx      # hand out contiguous NCHW (not a CHWN view)
        x, w, b, self.stride, self.pads, self.dil, _ = conv.args
        self.relu = len(chain) > 1
        self.pool = len(chain) > 2
        self.xshape, self.wshape = x.shape, w.shape
        self.oh, self.ow = conv.outputs[0].shape[2:]
        self.has_b = b is not None
        self.dtype = x.dtype
        self.cols = {}                  # (part, images) -> the part's im2col buffer, kept between steps

    def _chwn(self, x):
        """The input as CHWN memory, zero-padded: free for the output of a block upstream."""
        (p0, p1), (q0, q1) = self.pads
        xc = x.transpose(1, 2, 3, 0)
        if not (p0 or p1 or q0 or q1):
            return _np.ascontiguousarray(xc)
        c, h, w, n = xc.shape
        out = _np.zeros((c, h + p0 + p1, w + q0 + q1, n), x.dtype)
        out[:, p0:p0 + h, q0:q0 + w] = xc
        return out

    def forward(self, x, w, b):
        """(the block's output, NCHW-shaped, and what its backward needs)."""
        t = _split_threads(x, w, self.stride, self.pads, self.dil, 1)
        if t <= 1:
            res, saved = self._forward(x, w, b, 0)
            return (_np.ascontiguousarray(res) if self.nchw_out else res), saved
        n = x.shape[0]
        oh, ow = (self.oh // 2, self.ow // 2) if self.pool else (self.oh, self.ow)
        full = _np.empty((w.shape[0], oh, ow, n), self.dtype)           # CHWN, as one part writes its own
        parts = _par.slices(n, t)
        saved = _par.in_parallel([lambda i=i, s=s: self._forward(x[s], w, b, i, full[..., s])[1]
                                  for i, s in enumerate(parts)], t)
        res = full.transpose(3, 0, 1, 2)
        return (_np.ascontiguousarray(res) if self.nchw_out else res), (parts, saved)

    def _forward(self, x, w, b, part, dst=None):
        """One part's forward (or the whole batch's): its output as an NCHW-shaped view of CHWN memory, or
        written into ``dst`` (CHWN) when given."""
        n, c = x.shape[:2]
        o, _, kh, kw = w.shape
        oh, ow, stride, dil = self.oh, self.ow, self.stride, self.dil
        xp_ = self._chwn(x)
        sc, sh, sw, sn = xp_.strides
        view = _as_strided(xp_, (c, kh, kw, oh, ow, n),
                           (sc, sh * dil[0], sw * dil[1], sh * stride[0], sw * stride[1], sn), writeable=False)
        cols = self.cols.get((part, n))
        if cols is None:
            cols = self.cols[(part, n)] = _np.empty((c * kh * kw, oh * ow * n), self.dtype)
        w2 = w.reshape(o, -1)
        kk = c * kh * kw
        per_row = kk * ow * n * cols.itemsize          # bytes of columns per output row
        if per_row * oh <= _L2:
            _np.copyto(cols.reshape(view.shape), view)
            y = w2 @ cols                                # (O, OH*OW*N): CHWN
        else:
            # the columns would not stay in L2: made and multiplied a few output rows at a time, each block of
            # columns still in cache for its GEMM (1 thread, LeNet-5 batch 64: the first conv 1.24 -> 0.39 ms,
            # the second 0.53 -> 0.47 ms); the same products column by column, so the same values
            y = _np.empty((o, oh * ow * n), self.dtype)
            rows = max(1, _L2 // per_row)
            c6 = cols.reshape(view.shape)
            for r0 in range(0, oh, rows):
                r1 = min(oh, r0 + rows)
                _np.copyto(c6[:, :, :, r0:r1], view[:, :, :, r0:r1])
                a, b_ = r0 * ow * n, r1 * ow * n
                _np.matmul(w2, cols[:, a:b_], out=y[:, a:b_])
        if b is not None:
            y += b[:, None]
        y4 = y.reshape(o, oh, ow, n)
        k = r = None
        if self.pool:
            # max(relu(v)) == relu(max(v)): pool first, then the ReLU on the 4x smaller result.  Where every
            # value of a window is <= 0 the arg-max may differ from eager's (ties at 0), but the ReLU's mask is 0
            # there, so the gradients are the same
            v = [y4[:, i::2, j::2] for i in (0, 1) for j in (0, 1)]     # window order (0,0) (0,1) (1,0) (1,1)
            out, k = _pool4(v)
            nan_out = _np.isnan(out)
            if nan_out.any():               # eager's rule: the last NaN in window order is the arg-max
                for j, vj in enumerate(v):
                    _np.putmask(k, nan_out & _np.isnan(vj), j)
            if self.relu:
                _bound.maximum(0, out, out=out)
                r = out
        else:
            out = y4
            if self.relu:
                _bound.maximum(0, y4, out=y4)       # (-0.0 kept, as relu)
                r = y4
        if dst is not None:
            _np.copyto(dst, out)                         # (the ReLU mask r stays the part's own array)
        return out.transpose(3, 0, 1, 2), (w, cols, r, k)

    def backward(self, g, saved, need):
        """(grad_input, grad_weight, grad_bias), None where not needed."""
        if type(saved[0]) is not list:
            gx, gw, gb = self._backward(g, saved, need)
        else:
            parts, saved = saved
            n, c, h, wd = self.xshape
            buf = _np.zeros((c, h, wd, n), g.dtype) if need[0] else None     # CHWN, each part its images
            res = _par.in_parallel([lambda i=i, s=s: self._backward(g[s], saved[i], need,
                                                                   None if buf is None else buf[..., s])
                                    for i, s in enumerate(parts)], len(parts))
            gx = None if buf is None else buf.transpose(3, 0, 1, 2)
            gw = gb = None
            for _, pw, pb in res:                        # summed in image order, as eager's parts
                if pw is not None:
                    gw = pw if gw is None else gw.__iadd__(pw)
                if pb is not None:
                    gb = pb if gb is None else gb.__iadd__(pb)
        if gx is not None and self.nchw_gx:
            gx = _np.ascontiguousarray(gx)
        return gx, gw, gb

    def _backward(self, g, saved, need, buf=None):
        """One part's backward (or the whole batch's); its input gradient added into ``buf`` (CHWN zeros)
        when given, else returned as an NCHW-shaped view of CHWN memory."""
        w, cols, r, k = saved
        o = w.shape[0]
        _, c, h, wd = self.xshape
        n = g.shape[0]                                   # (this part's images)
        gt = _np.ascontiguousarray(g.transpose(1, 2, 3, 0))          # (O, h, w, N): free for a block's output
        if self.relu:
            gt = gt * (~(r <= 0)).astype(gt.dtype)
        if self.pool:
            gr = _np.empty((o, self.oh, self.ow, n), gt.dtype)
            sl = [(slice(None), slice(i, None, 2), slice(j, None, 2)) for i in (0, 1) for j in (0, 1)]
            if _np.isfinite(gt).all():
                for j, s in enumerate(sl):
                    _np.multiply(gt, k == j, out=gr[s])
            else:
                zero = gt.dtype.type(0)
                for j, s in enumerate(sl):
                    gr[s] = _np.where(k == j, gt, zero)
        else:
            gr = gt
        g2 = gr.reshape(o, -1)
        gx = gw = gb = None
        if need[0]:
            kh, kw = self.wshape[2:]
            dcols = (w.reshape(o, -1).T @ g2).reshape(c, kh, kw, self.oh, self.ow, n)
            if buf is None:
                buf = _np.zeros((c, h, wd, n), g2.dtype)
            (p0, _), (q0, _) = self.pads
            sh, sw = self.stride
            for i in range(kh):
                rr = i * self.dil[0] - p0
                t0, t1 = _span(rr, sh, self.oh, h)
                if t1 <= t0:
                    continue
                rows = slice(rr + t0 * sh, rr + (t1 - 1) * sh + 1, sh)
                for j in range(kw):
                    q = j * self.dil[1] - q0
                    u0, u1 = _span(q, sw, self.ow, wd)
                    if u1 > u0:
                        buf[:, rows, q + u0 * sw:q + (u1 - 1) * sw + 1:sw] += dcols[:, i, j, t0:t1, u0:u1]
            gx = buf.transpose(3, 0, 1, 2)
        if need[1]:
            gw = _grad_weight(g2, cols, self.wshape, 1)
        if self.has_b and need[2]:
            gb = g2.sum(1)
        return gx, gw, gb
