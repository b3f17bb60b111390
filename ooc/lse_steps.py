"""The steps of logsumexp, softmax and soft_argmax: one chunk to a small partial result, combined.

Each one is a tree reduction of small partial results, one per output position:

* :func:`logsumexp` and :func:`softmax` carry ``(max, count, rest)``: the largest element, how
  many elements equal it and the sum of ``exp(x - max)`` over the other elements.  This is the
  decomposition :func:`scipy.special.logsumexp` uses, ``max + log(count) + log1p(rest / count)``,
  so the answer stays accurate where it is close to zero (``logsumexp([0, -40])`` is ``4.2e-18``,
  not 0) on every chunking;
* :func:`soft_argmax` carries ``(max, total, weighted)``: the largest ``beta * x``, the sum of
  ``exp(beta * x - max)`` and, per reduced axis, the same sum weighted by the coordinate.

Two partial results combine by scaling the one with the smaller maximum by ``exp(difference)``,
a number in ``[0, 1]``: nothing overflows, even next to the largest float.

The chunk step reads each element from memory once.  float32 and float64 chunks go to the
compiled ``nogil`` kernel :mod:`ooc._smooth` (through :mod:`ooc.kernels`) (a tile of a few KiB is scanned for its maximum,
then again from L1 for the exponentials, with a vectorised ``exp``; AVX-512, AVX2 or SSE2 picked
at run time); other dtypes, and builds without the kernel, use numpy on cache-sized pieces of
the chunk (:func:`reduce_block`).  :func:`soft_argmax` always uses the numpy pieces.
"""
import math
from functools import partial

import numpy as np

from . import kernels
from .axes import keep_shape

__all__ = ["work_dtype", "result_dtype", "reduce_block", "lse_chunk", "lse_combine",
           "lse_finalize", "lse_max", "lse_denominator", "softmax_block", "soft_chunk",
           "soft_combine", "soft_finalize"]

# Bytes of input per piece: the piece, its float work buffer and a mask stay in a 1 MiB L2 cache.
PIECE_BYTES = 1 << 18


# ---------------------------------------------------------------------------------------------
# dtypes

def work_dtype(dtype):
    """The float dtype the exponentials are computed in (scipy's promotion for real input)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype.kind == "f":   # in native byte order: ufuncs compute in nothing else
        return np.dtype(np.float32) if dtype.itemsize < 4 else dtype.newbyteorder("=")
    raise TypeError(f"ooc.logsumexp, softmax and soft_argmax need real numbers (bool, integer or "
                    f"floating); got dtype {dtype}")


def result_dtype(dtype):
    """scipy's result dtype: float64 for bool and integers, the float dtype itself otherwise."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float64) if dtype.kind in "biu" else dtype.newbyteorder("=")


# ---------------------------------------------------------------------------------------------
# cache-sized pieces of a block

def _buffer(scratch, dtype, shape):
    """A work array of ``shape`` reusing one allocation per dtype for all pieces of a block."""
    dtype = np.dtype(dtype)
    n = math.prod(shape)
    buf = scratch.get(dtype)
    if buf is None or buf.size < n:
        buf = scratch[dtype] = np.empty(max(n, 1), dtype=dtype)
    return buf[:n].reshape(shape)


def _piece_plan(shape, itemsize, target):
    """``(s, length)``: pieces are one index of each axis before ``s`` and ``length`` of axis
    ``s``; ``(None, None)`` when the whole block fits in ``target`` bytes."""
    size = itemsize
    for d in range(len(shape) - 1, -1, -1):
        if size * shape[d] > target:
            return d, max(1, target // size)
        size *= shape[d]
    return None, None


def reduce_block(block, axes, offset, step, combine, target=None):
    """The partial result of one block (a tuple of keepdims-shaped arrays), piece by piece.

    ``step(piece, axes, offset, scratch)`` reduces one piece; ``combine(list)`` merges partial
    results of pieces that share their output positions.  An F-ordered block is walked through
    its transpose so pieces are contiguous in memory.
    """
    block = np.asarray(block)
    if target is None:
        target = PIECE_BYTES
    if block.ndim > 1 and block.flags.f_contiguous and not block.flags.c_contiguous:
        n = block.ndim
        part = reduce_block(block.T, tuple(n - 1 - a for a in axes), tuple(offset[::-1]), step,
                            combine, target)
        return tuple(p.T for p in part)
    scratch = {}
    s, length = _piece_plan(block.shape, block.dtype.itemsize, target)
    if s is None:
        return step(block, axes, tuple(offset), scratch)
    regions = {}
    for idx in np.ndindex(*block.shape[:s]):
        for a in range(0, block.shape[s], length):
            b = min(a + length, block.shape[s])
            index = tuple(slice(i, i + 1) for i in idx) + (slice(a, b),)
            start = tuple(o + i for o, i in zip(offset, idx + (a,))) + tuple(offset[s + 1:])
            key = tuple(0 if t in axes else i for t, i in enumerate(idx + (a,)))
            regions.setdefault(key, []).append(step(block[index], axes, start, scratch))
    keep = keep_shape(block.shape, axes)
    out = None
    for key, parts in regions.items():
        part = parts[0] if len(parts) == 1 else combine(parts)
        if out is None:
            out = tuple(np.empty(keep, dtype=p.dtype) for p in part)
        index = tuple(slice(k, k + n) for k, n in zip(key, part[0].shape))
        for o, p in zip(out, part):
            o[index] = p
    return out


# ---------------------------------------------------------------------------------------------
# logsumexp / softmax: (max, count, rest)

def _as_work(piece, wdtype, scratch):
    """``piece`` in the work dtype: itself for float input, else a converted copy in cache."""
    if piece.dtype == wdtype:
        return piece
    w = _buffer(scratch, wdtype, piece.shape)
    np.copyto(w, piece, casting="unsafe")
    return w


def lse_step(piece, axes, offset, scratch, *, wdtype):
    """``(max, count, rest)`` of one piece, as float64 keepdims arrays."""
    keep = keep_shape(piece.shape, axes)
    if piece.size == 0:
        return np.full(keep, -np.inf), np.zeros(keep), np.zeros(keep)
    x = _as_work(piece, wdtype, scratch)
    with np.errstate(all="ignore"):
        m = x.max(axis=axes, keepdims=True)
        eq = _buffer(scratch, np.bool_, x.shape)
        np.equal(x, m, out=eq)
        d = _buffer(scratch, wdtype, x.shape) if x is piece else x
        np.subtract(x, m, out=d)
        np.exp(d, out=d)
        np.copyto(d, 0, where=eq)
        rest = d.sum(axis=axes, keepdims=True).astype(np.float64)
    nan = np.isnan(m)
    if np.count_nonzero(eq) == m.size and not nan.any():
        count = np.ones(keep)  # one maximum per position, the usual case with floats
    else:
        count = eq.sum(axis=axes, keepdims=True, dtype=np.float64)
    rest[~np.isfinite(m)] = 0.0
    return m.astype(np.float64), count, rest


def lse_combine_axis(part, axis):
    """``(max, count, rest)`` reduced along ``axis`` of its arrays (kept with size one)."""
    m, c, r = part
    with np.errstate(all="ignore"):
        top = m.max(axis=axis, keepdims=True)
        at_top = m == top
        scale = np.where(at_top, 1.0, np.exp(m - top))
        count = np.where(at_top, c, 0.0).sum(axis=axis, keepdims=True)
        rest = ((r * scale).sum(axis=axis, keepdims=True)
                + np.where(at_top, 0.0, c * scale).sum(axis=axis, keepdims=True))
    return top, count, rest


def lse_combine(parts, *, call=None):
    """One ``(max, count, rest)`` from several, elementwise."""
    if len(parts) == 1:
        return parts[0]
    stacked = tuple(np.stack(p) for p in zip(*parts))
    return tuple(p[0] for p in lse_combine_axis(stacked, 0))


def _strided_view(block, shape):
    """``block`` reshaped to ``shape`` without a copy, or None."""
    try:
        return np.reshape(block, shape, copy=False)
    except ValueError:
        return None


def kernel_lse(block, axes):
    """``(max, count, rest)`` of a block from the compiled kernel, or None when it cannot read
    the block (no kernel, another dtype, empty, or no contiguous axis to stream along).

    The kernel reduces the last reduced axis, merged with the reduced axes just before it when
    their memory layout allows; the other reduced axes, now short, are combined in numpy.
    """
    smooth = kernels.smooth
    if smooth is None or block.size == 0 or not smooth.is_supported(block.dtype):
        return None
    if block.ndim > 1 and block.flags.f_contiguous and not block.flags.c_contiguous:
        n = block.ndim
        part = kernel_lse(block.T, tuple(n - 1 - a for a in axes))
        return None if part is None else tuple(p.T for p in part)
    axes = sorted(axes)
    shape = block.shape
    hi = axes[-1]
    lo = hi
    while lo - 1 in axes:
        lo -= 1
    item = block.dtype.itemsize
    for start in range(lo, hi + 1):
        outer = math.prod(shape[:start])
        n = math.prod(shape[start:hi + 1])
        inner = math.prod(shape[hi + 1:])
        view = _strided_view(block, (outer, n, inner))
        if view is None:
            continue
        if inner == 1 and n > 1 and view.strides[1] != item:
            continue
        if inner > 1 and view.strides[2] != item:
            continue
        m = np.empty((outer, inner))
        c = np.empty((outer, inner))
        r = np.empty((outer, inner))
        smooth.lse3(view, m, c, r)
        r[~np.isfinite(m)] = 0.0
        keep = tuple(1 if start <= d <= hi else s for d, s in enumerate(shape))
        part = (m.reshape(keep), c.reshape(keep), r.reshape(keep))
        for a in axes:
            if a < start:
                part = lse_combine_axis(part, a)
        return part
    return None


def lse_chunk(offset, block, *, call):
    """Chunk step of logsumexp and softmax: the compiled kernel when it reads the block, else
    numpy on cache-sized pieces."""
    block = np.asarray(block)
    axes, wdtype = call.reduced, work_dtype(call.dtype)
    part = kernel_lse(block, axes)
    if part is None:
        part = reduce_block(block, axes, offset, partial(lse_step, wdtype=wdtype), lse_combine)
    return part


def lse_value(part):
    """``max + log(count) + log1p(rest / count)``, with scipy's answers for inf, -inf and NaN."""
    m, count, rest = part
    with np.errstate(all="ignore"):
        out = np.log1p(np.where(rest == 0, 0.0, rest / count)) + np.log(count) + m
    # NaN anywhere gives NaN, +inf gives inf, all -inf (or nothing) gives -inf
    return np.where(np.isfinite(m), out, m)


def lse_finalize(part, *, call):
    """logsumexp's answer, in scipy's result dtype."""
    out = lse_value(part).astype(result_dtype(call.dtype), copy=False)
    return out if call.keepdims else np.squeeze(out, axis=call.reduced)


def lse_max(part, *, call):
    """softmax's shift: the maximum, in the work dtype."""
    return part[0].astype(work_dtype(call.dtype), copy=False)


def lse_denominator(part, *, call):
    """softmax's denominator ``sum(exp(x - max))``; NaN where the maximum is not finite (scipy's
    softmax is NaN there)."""
    m, count, rest = part
    return np.where(np.isfinite(m), count + rest, np.nan).astype(work_dtype(call.dtype),
                                                                  copy=False)


def softmax_block(block, shift, denominator, *, call):
    """One block of softmax: ``exp(x - max) / sum(exp(x - max))``, from the shift and the
    denominator of its positions."""
    x = np.asarray(block)
    with np.errstate(all="ignore"):
        e = np.subtract(x, shift, dtype=work_dtype(call.dtype))
        np.exp(e, out=e)
        e /= denominator
    return e.astype(result_dtype(call.dtype), copy=False)


# ---------------------------------------------------------------------------------------------
# soft_argmax: (max, total, weighted sum per reduced axis)

def soft_step(piece, axes, offset, scratch, *, beta):
    """``(max, total, *weighted)`` of one piece for ``z = beta * x``, float64 keepdims arrays."""
    keep = keep_shape(piece.shape, axes)
    if piece.size == 0:
        return (np.full(keep, -np.inf), np.zeros(keep)) + tuple(np.zeros(keep) for _ in axes)
    z = _buffer(scratch, np.float64, piece.shape)
    with np.errstate(all="ignore"):
        np.multiply(piece, beta, out=z, dtype=np.float64, casting="unsafe")
        m = z.max(axis=axes, keepdims=True)
        np.subtract(z, m, out=z)
        np.exp(z, out=z)
        total = z.sum(axis=axes, keepdims=True)
        weighted = []
        for a in axes:
            others = tuple(b for b in axes if b != a)
            marginal = z.sum(axis=others, keepdims=True) if others else z
            shape = [1] * piece.ndim
            shape[a] = piece.shape[a]
            coord = np.arange(offset[a], offset[a] + piece.shape[a], dtype=np.float64)
            weighted.append((marginal * coord.reshape(shape)).sum(axis=a, keepdims=True))
    bad = ~np.isfinite(m)
    for w in (total, *weighted):
        w[bad] = 0.0
    return (m, total, *weighted)


def soft_combine(parts, *, call=None):
    """One ``(max, total, *weighted)`` from several, elementwise."""
    if len(parts) == 1:
        return parts[0]
    stacked = [np.stack(p) for p in zip(*parts)]
    m = stacked[0]
    with np.errstate(all="ignore"):
        top = m.max(axis=0)
        scale = np.where(m == top, 1.0, np.exp(m - top))
        return (top,) + tuple((s * scale).sum(axis=0) for s in stacked[1:])


def soft_chunk(offset, block, *, call):
    """Chunk step of soft_argmax."""
    return reduce_block(block, call.axes, offset, partial(soft_step, beta=call.beta), soft_combine,
                        target=PIECE_BYTES // 2)


def soft_finalize(part, *, call):
    """Expected coordinates ``weighted / total``: the last axis holds one per reduced axis when
    ``stack``; NaN where ``beta * x`` has NaN or +inf, or is all -inf."""
    m, total = part[0], part[1]
    ok = np.isfinite(m)
    with np.errstate(all="ignore"):
        coords = [np.squeeze(np.where(ok, w / total, np.nan), axis=call.reduced)
                  for w in part[2:]]
    return np.stack(coords, axis=-1) if call.stack else coords[0]
