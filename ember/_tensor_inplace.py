"""The in-place half of ``Tensor``: the in-place machinery (PyTorch's rebase of a tensor onto the node of the
op written into it, CopySlices for views), the in-place view ops (``t_``, ``transpose_``...), the hand-written
in-place methods (``add_``, ``copy_``, ``fill_``, the random fills) and their helpers.

``Tensor`` inherits these from ``_InplaceMethods``. ``Tensor``, ``_to_array``, ``_Saved``, ``_ops`` and
``_NO_SNAPSHOT`` are bound by ``ember.tensor`` once they exist (the imports are circular).
"""
from __future__ import annotations

from .backend import dtypes as _dt
from .backend import xp
from .backend import device as _dev

_np_ndarray = xp.ndarray
from .autograd.grad_mode import state as _grad
from .autograd import function as _fn
from .autograd._torch_names import tag as _tname

Tensor = _to_array = _Saved = _ops = None      # set by ember.tensor
_NO_SNAPSHOT = frozenset()                     # set by ember.tensor: ops whose backward never reads self
# in-place ops PyTorch gives no autograd formula (x.logical_not_() on a float tensor in a graph leaves its history)
_NO_AUTOGRAD_INPLACE = frozenset({"logical_not", "logical_and", "logical_or", "logical_xor"})


class _InplaceMethods:
    """In-place methods of ``Tensor`` (see ``ember.tensor``)."""

    __slots__ = ()

    def _inplace(self, op, *args, **kwargs) -> "Tensor":
        """Run out-of-place ``op(self, *args)`` and write the result into this tensor's memory.

        Without a graph this is a plain in-place write.  With one, the result's node becomes this tensor's
        ``grad_fn`` (PyTorch's rebase), and the version bump makes any node that saved the old value refuse
        to run backward."""
        vw = self._vw
        if vw is not None:
            _refresh_view(self)
        tracked = _grad.enabled and (self._rg or any(isinstance(a, Tensor) and a._rg for a in args)
                                     or (vw is not None and vw[0]._rg))
        if tracked and vw is not None:
            # one of several views (chunk, split, unbind): PyTorch refuses the write, except copy_ into a bool or
            # integer view (its hand-written copy_ checks only differentiable dtypes; masked_fill_, index_fill_,
            # fill_, index_put_ do not: see _check_several_views)
            if len(vw) > 4 and (self._data.dtype.kind in "fc" or op is not _ops.copy_into):
                _several_views_error(self, getattr(op, '__name__', 'op'))
            base = self._base
            if _view_fns_known(self):
                return self._inplace_on_view(vw, op, *args, **kwargs)
            if base._rg:
                raise RuntimeError(f"in-place {getattr(op, '__name__', 'op')}_: a view was created in no_grad mode "
                                   f"and is being modified in place with grad mode enabled; this is ambiguous and "
                                   f"forbidden (as in PyTorch): create the view and modify it both inside or both "
                                   f"outside the no_grad block")
        if tracked and self.grad_fn is None and self._rg:
            raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place operation "
                               f"({getattr(op, '__name__', 'op')}_ on shape {tuple(self.shape)}); wrap it in "
                               f"ember.no_grad() or use the out-of-place form")
        if tracked:
            # the op sees a snapshot of the old value (PyTorch saves the original self the same way), so a
            # backward that needs it still works after the write below; ops whose backward never reads
            # their input (x += y in a residual block) skip the copy
            if op in _NO_SNAPSHOT or op is _fill:
                old = Tensor._make(self._data)
                old._version = self._version
            else:
                old = Tensor._make(self._data.copy())
            old._rg = self._rg
            old.grad_fn = self.grad_fn
            old._oi = self._oi
            res = op(old, *args, **kwargs)
        else:
            with _NoGradCtx():
                res = op(self, *args, **kwargs)
        if res._data.shape != self._data.shape:
            raise RuntimeError(f"in-place {getattr(op, '__name__', 'op')}_: the result of shape "
                               f"{tuple(res.shape)} doesn't match the destination of shape {tuple(self.shape)}")
        _check_inplace_cast(res._data.dtype, self._data.dtype, op)
        if res._data is not self._data:
            _check_overlap(self, getattr(op, "__name__", "op"))
            if not getattr(self._data.flags, "writeable", True):     # (CuPy < 14 has no such flag: writable)
                raise RuntimeError("in-place operation on a read-only tensor (an expand()/broadcast_to() view); "
                                   "clone() it first")
            layers = _overlap_layers(_byte_offsets(self._data), self._data, args)
            if layers is None:
                xp.copyto(self._data, res._data, casting="unsafe")
            else:
                # a view whose elements share memory (unfold with step < size, as_strided): PyTorch applies the
                # op element by element, so a shared location is updated once per element that maps to it
                layers = _dev.like(layers.reshape(self._data.shape), self._data)     # (host-made: to the data)
                # computed in another dtype, PyTorch's kernel writes a temporary result that is then copied back
                # element by element (a shared location keeps the last copy); in the same dtype it updates the
                # memory element by element (a shared location is updated once per element)
                once = res._data.dtype != self._data.dtype
                for k in range(int(layers.max()) + 1):
                    if k and not once:
                        with _NoGradCtx():
                            res = op(self, *args, **kwargs)
                    sel = layers == k
                    self._data[sel] = res._data[sel].astype(self._data.dtype, copy=False)
        self._version[0] += 1
        if _fn._tracer is not None:      # ember.jit.trace: this tensor now holds the op's result
            _fn._tracer.rebind(self, res)
        if tracked and not res._rg and getattr(op, "__name__", "") in _NO_AUTOGRAD_INPLACE:
            tracked = False     # PyTorch has no autograd formula for these: the tensor keeps its old history
        if tracked:
            old_fn, old_oi = self.grad_fn, self._oi
            self.grad_fn = res.grad_fn
            self._oi = res._oi
            self._rg = res._rg
            if self._retains:
                _move_retain(self, old_fn, old_oi)
            if res.grad_fn is not None:
                # the node's saved output (if any) is now this tensor's memory at the new version: a later
                # in-place write to this tensor (or a view of it) must make that backward refuse, as in PyTorch
                box = res._version
                res._version = self._version
                for sv in res.grad_fn._saved:
                    if type(sv) is _Saved and sv.version_box is box:
                        sv.version_box, sv.version = self._version, self._version[0]
                        if sv.array.dtype != self._data.dtype:
                            # computed in a wider dtype than this tensor's: PyTorch's node reads its result
                            # after the write, in this dtype (a float16 **= float32 power that overflows
                            # float16 is inf there, finite before the cast), so its backward sees those values
                            sv.array = self._data.astype(sv.array.dtype)
        return self

    def _inplace_on_view(self, view, op, *args, **kwargs) -> "Tensor":
        """In-place op on a view in a graph (PyTorch's CopySlices): rewrite the root base as "base with the
        view's region replaced by op(view)", then re-derive this view from the new base, so both histories are
        right.  The region is located through the whole chain of views from the root (an intermediate view may
        overlap itself, e.g. an expand, while this one does not)."""
        root = view[0]              # views link to their root base; the replay goes straight from it
        chain = _ops.shape._replay_fn(self)
        name = getattr(op, "__name__", "op")

        def whole(b, *a, **kw):
            with _NoGradCtx():     # the flat positions of the view inside the base
                ids = chain(Tensor._make(xp.arange(b._data.size).reshape(b._data.shape)))._data.reshape(-1)
            # elements of the view that share memory (unfold with step < size) are updated one after the
            # other, as PyTorch's element-by-element in-place kernels do: one pass per repeat
            layers = _overlap_layers(ids, self._data, a) if _byte_offsets(self._data) is not None else None
            from .ops.index import IndexPut
            once = None
            for k in range(1 if layers is None else int(layers.max()) + 1):
                if once is not None:    # computed in another dtype: one result, copied back element by element
                    r = once
                    vals, pos = r.reshape(-1), ids
                    sel = xp.nonzero(layers == k)[0]
                    b = IndexPut.apply(b.reshape(-1), vals[Tensor._make(sel)], (pos[sel],), False).reshape(
                        b._data.shape)
                    continue
                r = op(chain(b), *a, **kw)
                if r.grad_fn is not None:       # a saved output of op is the view's memory once written back
                    box = r._version
                    for sv in r.grad_fn._saved:
                        if type(sv) is _Saved and sv.version_box is box:
                            sv.version_box, sv.version = root._version, root._version[0] + 1   # after the write
                if tuple(r.shape) != tuple(self.shape):
                    raise RuntimeError(f"in-place {name}_: the result of shape {tuple(r.shape)} doesn't match the "
                                       f"destination of shape {tuple(self.shape)}")
                _check_inplace_cast(r._data.dtype, b._data.dtype, op)
                if r._data.dtype != b._data.dtype:
                    # the result as the base's dtype but with op's node, as the plain in-place path does: the
                    # gradient reaches op's backward in the base's dtype and is reduced there, then cast (as
                    # PyTorch)
                    rr = Tensor._make(r._data.astype(b._data.dtype))
                    rr.grad_fn, rr._oi, rr._rg = r.grad_fn, r._oi, r._rg
                    r = once = rr
                vals, pos = r.reshape(-1), ids
                if layers is not None:
                    sel = xp.nonzero(layers == k)[0]
                    vals, pos = vals[Tensor._make(sel)], ids[sel]
                b = IndexPut.apply(b.reshape(-1), vals, (pos,), False).reshape(b._data.shape)
            return b

        whole.__name__ = name
        _check_overlap(self, name)
        if _internal_overlap(self._data):
            # fill_/masked_fill_ write through a view whose elements share memory (an expand) without complaint,
            # but PyTorch's CopySlices then can't write the gradient back through that view: its backward raises
            inner = whole

            def whole(b, *a, **kw):
                return _OverlapWriteBackward.apply(inner(b, *a, **kw), name, tuple(self.shape), self.stride(),
                                                   b._rg)
            whole.__name__ = name
        root._inplace(whole, *args, **kwargs)
        nv = chain(root)
        old_fn, old_oi = self.grad_fn, self._oi
        self.grad_fn, self._oi, self._rg = nv.grad_fn, nv._oi, nv._rg
        view[2] = self._version[0]
        if self._retains:
            _move_retain(self, old_fn, old_oi)
        return self

    def _view_inplace(self, name, fn) -> "Tensor":
        """``t_()``, ``transpose_``, ``squeeze_``, ``unsqueeze_``, ``as_strided_``: this tensor becomes the view
        ``fn(self)`` (same memory, new shape and strides), an in-place op as in PyTorch (version bumped)."""
        if _grad.enabled and self._rg and self.grad_fn is None:
            raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place operation "
                               f"({name}_ on shape {tuple(self.shape)}); wrap it in ember.no_grad()")
        vw = self._vw
        f = _ops.shape._replay_fn(self) if vw is not None else None     # (from the old geometry)
        r = fn(self)
        self._data = r._data
        self._version[0] += 1
        if vw is not None:
            self._vw = [vw[0], (lambda b: fn(f(b))) if f is not None else None, self._version[0],
                        vw[0]._data] + vw[4:]
        if r.grad_fn is not None:
            old_fn, old_oi = self.grad_fn, self._oi
            self.grad_fn, self._oi, self._rg = r.grad_fn, r._oi, r._rg
            if self._retains:
                _move_retain(self, old_fn, old_oi)
        return self

    def t_(self) -> "Tensor":
        return self._view_inplace("t", _ops.t)

    def transpose_(self, dim0: int, dim1: int) -> "Tensor":
        return self._view_inplace("transpose", lambda x: _ops.transpose(x, dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    def squeeze_(self, dim=None) -> "Tensor":
        return self._view_inplace("squeeze", lambda x: _ops.squeeze(x, dim))

    def unsqueeze_(self, dim: int) -> "Tensor":
        return self._view_inplace("unsqueeze", lambda x: _ops.unsqueeze(x, dim))

    def as_strided_(self, size, stride, storage_offset=None) -> "Tensor":
        return self._view_inplace("as_strided", lambda x: _ops.shape.as_strided(x, size, stride, storage_offset))

    # in-place methods, named as in PyTorch
    def add_(self, other, alpha=1):
        return self._inplace(_ops.add, other, alpha=alpha)

    def sub_(self, other, alpha=1):
        return self._inplace(_ops.sub, other, alpha=alpha)

    def mul_(self, other):
        return self._inplace(_ops.mul, other)

    def div_(self, other, rounding_mode=None):
        return self._inplace(_ops.div, other, rounding_mode=rounding_mode)

    def pow_(self, exponent):
        return self._inplace(_ops.pow, exponent)

    def neg_(self):
        return self._inplace(_ops.neg)

    def exp_(self):
        return self._inplace(_ops.exp)

    def log_(self):
        return self._inplace(_ops.log)

    def sqrt_(self):
        return self._inplace(_ops.sqrt)

    def abs_(self):
        return self._inplace(_ops.abs)

    def relu_(self):
        return self._inplace(_ops.relu)

    def sigmoid_(self):
        return self._inplace(_ops.sigmoid)

    def tanh_(self):
        return self._inplace(_ops.tanh)

    def clamp_(self, min=None, max=None):
        return self._inplace(_ops.clamp, min, max)

    clip_ = clamp_

    def addcmul_(self, tensor1, tensor2, value=1):
        return self._inplace(_ops.addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1, tensor2, value=1):
        return self._inplace(_ops.addcdiv, tensor1, tensor2, value=value)

    def lerp_(self, end, weight):
        return self._inplace(_ops.lerp, end, weight)

    def masked_fill_(self, mask, value):
        return self._inplace(_ops.masked_fill, mask, value)

    def floor_(self):
        return self._inplace(_ops.floor)

    def round_(self, decimals=0):
        return self._inplace(_ops.round, decimals=decimals)

    def zero_(self):
        out = self.fill_(0)
        if _grad.enabled:           # a new node (under no_grad the old one stays, keeping its name)
            _tname(out, "ZeroBackward0")
        return out

    def fill_(self, value):
        if isinstance(value, Tensor) and value._data.ndim:
            raise RuntimeError(f"fill_ only supports a 0-dimension value tensor, got shape {tuple(value.shape)}")
        if isinstance(value, Tensor):       # PyTorch's fill_(Tensor) checks for overlap; fill_(number) does not
            _check_overlap(self, "fill", always=True)
            if value._rg and _grad.enabled:
                _check_several_views(self, "fill")
                return self._inplace(_ops.copy_into, value)
        if _grad.enabled and self._rg and self.grad_fn is None:
            self._inplace(_ops.mul, 0)   # raises the leaf error
        v = value.item() if isinstance(value, Tensor) else value
        if self.grad_fn is not None and _grad.enabled:
            return self._inplace(_fill, v)
        self._data[...] = v
        self._version[0] += 1
        return self

    def copy_(self, src, non_blocking: bool = False):
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor."""
        if _grad.enabled and (self.grad_fn is not None or (isinstance(src, Tensor) and src._rg)):
            return self._inplace(_ops.copy_into, src)
        if _grad.enabled and self._rg and self.grad_fn is None:
            self._inplace(_ops.mul, 0)   # raises the leaf error
        arr = src._data if isinstance(src, Tensor) else _to_array(src, None)
        dst = self._data
        if type(arr) is not type(dst):      # a copy across devices (or Python data into a device tensor)
            arr = _dev.like(arr, dst) if type(arr) is _np_ndarray else _dev.to_device(arr, "cpu") \
                if type(dst) is _np_ndarray else arr
        _check_overlap(self, "copy")
        try:
            if not _write_overlapping(self._data, xp.broadcast_to(arr, self._data.shape)):
                xp.copyto(self._data, xp.broadcast_to(arr, self._data.shape), casting="unsafe")
        except ValueError:
            raise RuntimeError(f"copy_: source of shape {tuple(arr.shape)} cannot be broadcast to the "
                               f"destination shape {tuple(self.shape)}") from None
        self._version[0] += 1
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        from .backend.random import rng_of
        return self._fill_random(rng_of(generator).uniform(a, b, self._data.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        from .backend.random import rng_of
        return self._fill_random(rng_of(generator).normal(mean, std, self._data.shape))

    def bernoulli_(self, p=0.5, generator=None):
        from .backend.random import rng_of
        return self._fill_random(rng_of(generator).random(self._data.shape) < p)

    def exponential_(self, lambd=1.0, generator=None):
        from .backend.random import rng_of
        return self._fill_random(rng_of(generator).exponential(1.0 / lambd, self._data.shape))

    def random_(self, low=0, high=None, generator=None):
        from .backend.random import rng_of
        if high is None:
            low, high = 0, low if low else 2**24
        return self._fill_random(rng_of(generator).integers(low, high, self._data.shape))

    def _fill_random(self, arr):
        # drawn on the host from ember's generator (the same numbers on every device), moved to this tensor's
        _check_overlap(self, "random fill")
        self._data[...] = _dev.like(arr, self._data)
        self._version[0] += 1
        return self


def _view_fns_known(t: Tensor) -> bool:
    """Whether view ``t`` can be replayed from its root base (it was made in grad mode)."""
    return _ops.shape._replay_fn(t) is not None


def _fill(s, v):
    """Out-of-place form of ``fill_`` in a graph (``copy_into`` of a scalar; unlike ``copy_``, no overlap check)."""
    return _ops.copy_into(s, v)


_fill.__name__ = "fill"
# PyTorch's kernels skip the check (fill_, masked_fill_, index_put_ (x[idx] = v with an advanced index) and
# index_fill_ write element by element; index_put_ and masked_fill_ only warn that this is deprecated)
_NO_OVERLAP_CHECK = frozenset({"masked_fill", "fill", "index_put", "index_fill"})


def _internal_overlap(a) -> bool:
    """Whether array ``a`` has a stride-0 dim of size > 1 (PyTorch's has_internal_overlap == Yes)."""
    return bool(0 in a.strides and a.size and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)))


class _OverlapWriteBackward(_fn.Function):
    """The node of a base written through a view whose elements share memory (fill_ of an expand() in a
    graph): the values pass through unchanged; backward raises when the base's old history needs a gradient,
    as PyTorch's CopySlices does when it copies that gradient into the overlapping view."""

    @staticmethod
    def forward(ctx, a, name, shape, stride, base_needs_grad):
        ctx.what = name, shape, stride, base_needs_grad
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        name, shape, stride, base_needs_grad = ctx.what
        if not base_needs_grad:         # (only the written value needs a gradient: CopySlices writes none back)
            return g, None, None, None, None
        raise RuntimeError(f"backward of in-place {name}_ through a view of shape {shape}, strides {stride}: "
                           f"unsupported operation: more than one element of the written-to tensor refers to a "
                           f"single memory location (an expand()ed view; its gradient can't be written back, as "
                           f"in PyTorch); clone() the view before writing to it")


def _check_overlap(t: Tensor, name: str, always: bool = False) -> None:
    """PyTorch refuses to write in place to a tensor whose elements share memory (an expand)."""
    if name in _NO_OVERLAP_CHECK and not always:
        return
    a = t._data
    if _internal_overlap(a):
        raise RuntimeError(f"in-place {name}_: unsupported operation: more than one element of the written-to "
                           f"tensor (shape {tuple(a.shape)}, strides {t.stride()}) refers to a single memory "
                           f"location (an expand()ed tensor); clone() it before writing")


def _write_overlapping(dst, src) -> bool:
    """Copy ``src`` (broadcast) into array ``dst`` element by element in PyTorch's order when elements of
    ``dst`` share memory (a later write to a shared location wins); False (nothing written) when they don't."""
    layers = _overlap_layers(_byte_offsets(dst), dst, (src,) if hasattr(src, "strides") else ())
    if layers is None:
        return False
    layers = _dev.like(layers.reshape(dst.shape), dst)      # (host-made from the strides: to dst's device)
    src = src if _dev.is_device_array(src) else _dev.like(xp.asarray(src), dst)
    full = xp.broadcast_to(src, dst.shape).astype(dst.dtype, copy=False)
    for k in range(int(layers.max()) + 1):
        sel = layers == k
        dst[sel] = full[sel]
    return True


def _byte_offsets(a):
    """The memory offset of each element of array ``a`` (C order), or None when its elements cannot overlap."""
    dims = sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n > 1)
    if a.size == 0 or (dims[:1] == [] or dims[0][0] > 0) and all(
            s1 >= s0 * n0 for (s0, n0), (s1, _) in zip(dims, dims[1:])):
        return None
    off = xp.zeros(a.shape, dtype=xp.int64)
    for d, (st, n) in enumerate(zip(a.strides, a.shape)):
        off += (xp.arange(n, dtype=xp.int64) * st).reshape((n,) + (1,) * (a.ndim - d - 1))
    return off.reshape(-1)


def _overlap_layers(ids, dst=None, args=()):
    """For flat memory positions ``ids`` (C order) of the elements of ``dst``, each element's rank among the
    elements at the same position that PyTorch's kernel visits before it (0 for the first), or None when all
    positions are distinct."""
    if ids is None or ids.size < 2:
        return None
    order = xp.argsort(ids, kind="stable")
    srt = ids[order]
    first = xp.concatenate(([True], srt[1:] != srt[:-1]))
    if first.all():
        return None
    if dst is not None:             # equal positions in PyTorch's visiting order
        order = xp.lexsort((_iteration_order(dst, args), ids))
    pos = xp.arange(ids.size)
    rank = pos - xp.maximum.accumulate(xp.where(first, pos, 0))
    out = xp.empty_like(rank)
    out[order] = rank
    return out


def _iteration_order(dst, args):
    """The position (C order of ``dst``'s elements) of each element in PyTorch's TensorIterator loop over the
    written tensor ``dst`` and the tensor operands: dims sorted innermost-first by stride (the output first,
    then the inputs broadcast to its shape; equal strides put the smaller dim inside), as its
    reorder_dimensions does.  A location written twice keeps the later write."""
    shape = dst.shape
    ops = [dst.strides] + [xp.broadcast_to(a._data if isinstance(a, Tensor) else a, shape).strides
                           for a in args if isinstance(a, Tensor) or (hasattr(a, "shape") and hasattr(a, "strides"))
                           if _broadcastable(getattr(a, "shape", ()), shape)]

    def should_swap(d0, d1):
        for k, st in enumerate(ops):
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0
    perm = list(range(len(shape)))[::-1]          # innermost first
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    outer = perm[::-1]
    seq = xp.arange(dst.size).reshape([shape[d] for d in outer])
    return xp.transpose(seq, xp.argsort(outer)).reshape(-1)


def _broadcastable(a, b):
    try:
        xp.broadcast_shapes(tuple(a), tuple(b))
        return len(a) <= len(b)
    except ValueError:
        return False


def _move_retain(t: Tensor, old, old_oi) -> None:
    """``retain_grad()`` follows the tensor to its new node after an in-place op or a view rebase, as in
    PyTorch (``.grad`` is the gradient w.r.t. the tensor's current value)."""
    if old is not None and old._pre_hooks:
        lst = old._pre_hooks.get(old_oi)
        if lst:
            lst[:] = [h for h in lst if getattr(h, "_ember_owner", lambda: None)() is not t]
    t._retains = False
    if t.grad_fn is not None:
        t.retain_grad()


def _several_views_error(t: Tensor, op: str):
    vw = t._vw
    raise RuntimeError(f"in-place {op}_: output {vw[4]} of {vw[5]} is a view and is being modified in place; it "
                       f"is one of several views returned by one function, which (as in PyTorch) does not allow "
                       f"its outputs to be modified in place in a graph: use an out-of-place op, or .clone() the "
                       f"piece first")


def _check_several_views(t: Tensor, op: str) -> None:
    """A write of a value that requires grad into a bool or integer ``t`` that is one of several views returned
    by one function (chunk, split, unbind): PyTorch's fill_, index_put_ and masked_fill_ (unlike its copy_)
    check in-place rules before the dtype, so they refuse it as they would for a float view."""
    vw = t._vw
    if vw is not None and len(vw) > 4 and _grad.enabled and t._data.dtype.kind not in "fc":
        _several_views_error(t, op)


def _refresh_view(t: Tensor) -> None:
    """Re-derive a view's history from its parent when the shared version counter moved since it was last
    derived (the base, or another view of it, was modified in place): PyTorch's view rebase, done lazily,
    when the view is next used in a graph.  A leaf view (requires_grad_ set on it by hand) is left alone."""
    vw = t._vw
    ver = t._version[0]
    if vw[2] == ver or vw[1] is None or not _grad.enabled:
        return
    if t.grad_fn is None and t._rg:
        vw[2] = ver
        return
    if len(vw) > 4 and (t._rg or t._base._rg):      # (raises on every use, as PyTorch)
        raise RuntimeError(f"output {vw[4]} of {vw[5]} is a view and its base or another view of its base has been "
                           f"modified in place; it is one of several views returned by one function, and such views "
                           f"can't be used after that (as in PyTorch): take the views after the in-place op, or "
                           f"use an out-of-place op")
    vw[2] = ver
    fn = _ops.shape._replay_fn(t)
    if fn is None:
        return
    nv = fn(vw[0])
    old_fn, old_oi = t.grad_fn, t._oi
    t.grad_fn, t._oi, t._rg = nv.grad_fn, nv._oi, nv._rg
    if t._retains:
        _move_retain(t, old_fn, old_oi)


def _check_inplace_cast(src, dst, op) -> None:
    # as PyTorch: an in-place op may narrow within a kind (float64 -> float32) but never silently truncate
    # float -> int or int -> bool
    if src != dst and not _dt.can_cast(src, dst):      # int64 -> uint8 is fine, as in PyTorch
        raise RuntimeError(f"in-place {getattr(op, '__name__', 'op')}_: result type {src} can't be cast to the "
                           f"desired output type {dst}")


class _NoGradCtx:
    def __enter__(self):
        self.prev = _grad.enabled
        _grad.enabled = False

    def __exit__(self, *exc):
        _grad.enabled = self.prev
