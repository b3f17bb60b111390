"""logsumexp, softmax and soft_argmax over Dask and Zarr arrays, in one streaming pass.

Each one is a tree reduction (:func:`ooc.graph.tree_reduction`) of small partial results, one
per output position:

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
compiled ``nogil`` kernel :mod:`ooc._smooth` (a tile of a few KiB is scanned for its maximum,
then again from L1 for the exponentials, with a vectorised ``exp``; AVX-512, AVX2 or SSE2 picked
at run time); other dtypes, and builds without the kernel, use numpy on cache-sized pieces of
the chunk (:func:`reduce_block`).  :func:`soft_argmax` always uses the numpy pieces.
"""
import math
from functools import partial

import numpy as np
from dask.base import tokenize

from . import graph
from .api import _normalize_axis, _normalize_split_every
from .store import as_dask_array

try:
    from . import _smooth
except ImportError:  # pragma: no cover - built without the kernel: numpy on pieces
    _smooth = None

__all__ = ["logsumexp", "softmax", "soft_argmax"]

# Bytes of input per piece: the piece, its float work buffer and a mask stay in a 1 MiB L2 cache.
PIECE_BYTES = 1 << 18


# ---------------------------------------------------------------------------------------------
# checks shared by the public functions

def _work_dtype(dtype):
    """The float dtype the exponentials are computed in (scipy's promotion for real input)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype.kind == "f":
        return np.dtype(np.float32) if dtype.itemsize < 4 else dtype
    raise TypeError(f"ooc.logsumexp, softmax and soft_argmax need real numbers (bool, integer or "
                    f"floating); got dtype {dtype}")


def _result_dtype(dtype):
    """scipy's result dtype: float64 for bool and integers, the float dtype itself otherwise."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float64) if dtype.kind in "biu" else dtype


def _prepare(a, axis, split_every):
    """The Dask array (1-d for 0-d input), reduced axes, split_every and whether ``a`` was 0-d."""
    if isinstance(a, (list, tuple, int, float, complex, np.generic)):
        a = np.asarray(a)
    if isinstance(getattr(a, "dtype", None), np.dtype):
        _work_dtype(a.dtype)   # before wrapping: Dask cannot even chunk object arrays
    x = as_dask_array(a)
    _work_dtype(x.dtype)
    axes = _normalize_axis(axis, x.ndim)
    zero_d = x.ndim == 0
    if zero_d:
        x = x.reshape(1)
    if any(math.isnan(c) for d in axes for c in x.chunks[d]):
        raise ValueError(
            "the array has unknown chunk sizes along the reduced axes; call "
            "x.compute_chunk_sizes() (or give the chunks) before reducing it")
    return x, axes, _normalize_split_every(split_every, axes), zero_d


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


def _keep_shape(shape, axes):
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


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
    keep = _keep_shape(block.shape, axes)
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
    keep = _keep_shape(piece.shape, axes)
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


def lse_combine(parts):
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
    if _smooth is None or block.size == 0 or not _smooth.is_supported(block.dtype):
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
        _smooth.lse3(view, m, c, r)
        r[~np.isfinite(m)] = 0.0
        keep = tuple(1 if start <= d <= hi else s for d, s in enumerate(shape))
        part = (m.reshape(keep), c.reshape(keep), r.reshape(keep))
        for a in axes:
            if a < start:
                part = lse_combine_axis(part, a)
        return part
    return None


def lse_chunk(offset, block, *, axes, wdtype):
    """Chunk step of :func:`logsumexp` and :func:`softmax`: the compiled kernel when it reads
    the block, else numpy on cache-sized pieces."""
    block = np.asarray(block)
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


def lse_finalize(part, *, reduced, keepdims, dtype):
    out = lse_value(part).astype(dtype, copy=False)
    return out if keepdims else np.squeeze(out, axis=reduced)


def lse_max(part, *, dtype):
    """softmax's shift: the maximum, in the work dtype."""
    return part[0].astype(dtype, copy=False)


def lse_denominator(part, *, dtype):
    """softmax's denominator ``sum(exp(x - max))``; NaN where the maximum is not finite (scipy's
    softmax is NaN there)."""
    m, count, rest = part
    return np.where(np.isfinite(m), count + rest, np.nan).astype(dtype, copy=False)


def softmax_block(block, shift, denominator, *, wdtype, dtype):
    """One block of :func:`softmax`: ``exp(x - max) / sum(exp(x - max))``."""
    x = np.asarray(block)
    with np.errstate(all="ignore"):
        e = np.subtract(x, shift, dtype=wdtype)
        np.exp(e, out=e)
        e /= denominator
    return e.astype(dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# soft_argmax: (max, total, weighted sum per reduced axis)

def soft_step(piece, axes, offset, scratch, *, beta):
    """``(max, total, *weighted)`` of one piece for ``z = beta * x``, float64 keepdims arrays."""
    keep = _keep_shape(piece.shape, axes)
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


def soft_combine(parts):
    """One ``(max, total, *weighted)`` from several, elementwise."""
    if len(parts) == 1:
        return parts[0]
    stacked = [np.stack(p) for p in zip(*parts)]
    m = stacked[0]
    with np.errstate(all="ignore"):
        top = m.max(axis=0)
        scale = np.where(m == top, 1.0, np.exp(m - top))
        return (top,) + tuple((s * scale).sum(axis=0) for s in stacked[1:])


def soft_chunk(offset, block, *, axes, beta):
    """Chunk step of :func:`soft_argmax`."""
    return reduce_block(block, axes, offset, partial(soft_step, beta=beta), soft_combine,
                        target=PIECE_BYTES // 2)


def soft_finalize(part, *, reduced, stack):
    """Expected coordinates ``weighted / total``: the last axis holds one per reduced axis when
    ``stack``; NaN where ``beta * x`` has NaN or +inf, or is all -inf."""
    m, total = part[0], part[1]
    ok = np.isfinite(m)
    with np.errstate(all="ignore"):
        coords = [np.squeeze(np.where(ok, w / total, np.nan), axis=reduced) for w in part[2:]]
    return np.stack(coords, axis=-1) if stack else coords[0]


# ---------------------------------------------------------------------------------------------
# public functions

def logsumexp(a, axis=None, *, keepdims=False, split_every=None):
    """The log of the sum of exponentials, ``log(sum(exp(a)))``, without overflow, lazily.

    One pass over the data: every chunk is reduced to (maximum, number of maxima, sum of the
    other ``exp(a - maximum)``) and these triples are combined in a tree.  The answer is
    :func:`scipy.special.logsumexp`'s for real input, to about 1e-15 relative in float64, on
    every chunking: NaN in a slice gives NaN, ``+inf`` gives ``inf``, a slice of only ``-inf``
    (or an empty slice) gives ``-inf``, and values next to the largest float do not overflow.

    Parameters
    ----------
    a : array_like, dask.array.Array or zarr.Array
        Real input (bool, integer or floating).
    axis : None, int or tuple of ints, optional
        Axes to sum over; by default all.
    keepdims : bool, optional
        Keep the reduced axes with size one.
    split_every : int, optional
        Partial results combined per task in the tree reduction (default 8).

    Returns
    -------
    dask.array.Array
        float64 for bool and integer input, the input's float dtype otherwise (as scipy).

    Raises
    ------
    TypeError
        For complex, datetime, string or object input.
    numpy.exceptions.AxisError
        If an axis is out of range.
    ValueError
        For a repeated axis.

    See Also
    --------
    scipy.special.logsumexp, softmax, numpy.logaddexp

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from ooc.smooth import logsumexp
    >>> float(logsumexp(np.arange(10)).compute())
    9.45862974442671
    >>> float(np.log(np.sum(np.exp(np.arange(10)))))
    9.45862974442671

    No overflow where ``exp`` alone would overflow:

    >>> x = da.from_array(np.array([[1000.0, 1000.0, 999.0], [-1.0, -np.inf, 0.0]]), chunks=1)
    >>> [round(float(v), 6) for v in logsumexp(x, axis=1).compute()]
    [1000.861995, 0.313262]
    >>> logsumexp(x, axis=0, keepdims=True).shape
    (1, 3)
    >>> float(logsumexp(np.array([0.0, -40.0])).compute())
    4.248354255291589e-18
    """
    x, axes, split_every, zero_d = _prepare(a, axis, split_every)
    keepdims = keepdims and not zero_d
    wdtype = _work_dtype(x.dtype)
    reduced = tuple(sorted(axes))
    chunk = partial(lse_chunk, axes=reduced, wdtype=wdtype)
    part = graph.Part("logsumexp", _result_dtype(x.dtype),
                      partial(lse_finalize, reduced=reduced, keepdims=keepdims,
                              dtype=_result_dtype(x.dtype)))
    (out,) = graph.tree_reduction([x], "logsumexp", chunk, lse_combine, [part], reduced, keepdims,
                                  split_every)
    return out.reshape(()) if zero_d else out


def softmax(a, axis=None, *, split_every=None):
    """``exp(a) / sum(exp(a))`` along ``axis``, lazily and without overflow.

    The maxima and sums come from one tree reduction (as in :func:`logsumexp`); each output
    block is then ``exp(a - max) / sum`` of its input block, so the data is read twice in all
    and nothing is held in memory.  Equal to :func:`scipy.special.softmax` (NaN in a slice with
    NaN, +inf or only -inf, as there); the result sums to 1 along ``axis``.

    Parameters
    ----------
    a : array_like, dask.array.Array or zarr.Array
        Real input.
    axis : None, int or tuple of ints, optional
        Axes the softmax is taken over; by default all.
    split_every : int, optional

    Returns
    -------
    dask.array.Array
        Same shape and chunks as ``a``; float64 for bool and integer input, the input's float
        dtype otherwise.

    See Also
    --------
    scipy.special.softmax, logsumexp, soft_argmax

    Examples
    --------
    >>> import numpy as np
    >>> from ooc.smooth import softmax
    >>> x = np.array([[1.0, 0.5, 0.2, 3.0], [1.0, -1.0, 7.0, 3.0]])
    >>> p = softmax(x, axis=1)
    >>> p.compute().round(5)
    array([[0.10588, 0.06422, 0.04757, 0.78233],
           [0.00243, 0.00033, 0.97931, 0.01794]])
    >>> p.sum(axis=1).compute()
    array([1., 1.])
    >>> float(softmax(np.array([1000.0, 1000.0]))[0].compute())
    0.5
    """
    x, axes, split_every, zero_d = _prepare(a, axis, split_every)
    wdtype = _work_dtype(x.dtype)
    dtype = _result_dtype(x.dtype)
    reduced = tuple(sorted(axes))
    chunk = partial(lse_chunk, axes=reduced, wdtype=wdtype)
    parts = [graph.Part("softmax-max", wdtype, partial(lse_max, dtype=wdtype)),
             graph.Part("softmax-sum", wdtype, partial(lse_denominator, dtype=wdtype))]
    shift, denominator = graph.tree_reduction([x], "softmax", chunk, lse_combine, parts, reduced,
                                              True, split_every)
    import dask.array as da

    ind = tuple(range(x.ndim))
    out = da.blockwise(partial(softmax_block, wdtype=wdtype, dtype=dtype), ind,
                       x, ind, shift, ind, denominator, ind, dtype=dtype,
                       name="ooc-softmax-" + tokenize(x, reduced, split_every))
    return out.reshape(()) if zero_d else out


def soft_argmax(a, axis=None, *, beta=1.0, split_every=None):
    """The expected index under ``softmax(beta * a)``: a smooth, differentiable argmax.

    ``sum(i * exp(beta * a[i])) / sum(exp(beta * a[i]))`` along an int ``axis``; for
    ``axis=None`` or a tuple, the expected coordinate along each reduced axis, in the order the
    axes are given (all axes in order for None), stacked on a new last axis.  One pass over the
    data: every chunk gives (maximum of ``beta * a``, sum of ``exp(beta * a - maximum)``, the
    same sums weighted by each coordinate), combined in a tree.  As ``beta`` grows the answer
    tends to the argmax (for a unique maximum); ``beta=0`` gives the mean index; a negative
    ``beta`` gives a soft argmin.

    Parameters
    ----------
    a : array_like, dask.array.Array or zarr.Array
        Real input.
    axis : None, int or tuple of ints, optional
    beta : float, optional
        Inverse temperature (default 1).
    split_every : int, optional

    Returns
    -------
    dask.array.Array of float64
        The reduced shape for an int ``axis``; the reduced shape plus a last axis of length
        ``len(axis)`` (``a.ndim`` for None).  NaN where ``beta * a`` holds NaN or ``+inf`` in a
        slice, or only ``-inf`` (the softmax is NaN there too).

    See Also
    --------
    softmax, argmax

    Examples
    --------
    >>> import numpy as np
    >>> from ooc.smooth import soft_argmax
    >>> x = np.array([0.1, 0.3, 0.6, 2.1, 0.55])
    >>> round(float(soft_argmax(x, axis=0).compute()), 3)
    2.569
    >>> round(float(soft_argmax(x, axis=0, beta=100.0).compute()), 3)
    3.0
    >>> soft_argmax(x).compute().round(3)   # axis=None: one coordinate per axis
    array([2.569])

    The centre of a blob in a heat map, in (row, column) coordinates:

    >>> heat = np.zeros((5, 7)); heat[1:4, 3:6] = 10.0
    >>> soft_argmax(heat, axis=(0, 1)).compute().round(3)
    array([2., 4.])
    >>> soft_argmax(heat, axis=1).compute().round(3)
    array([3., 4., 4., 4., 3.])
    """
    beta = float(beta)
    stack = axis is None or isinstance(axis, (tuple, list))
    x, axes, split_every, zero_d = _prepare(a, axis, split_every)
    reduced = tuple(sorted(axes))
    chunk = partial(soft_chunk, axes=axes, beta=beta)
    part = graph.Part("soft-argmax", np.dtype(np.float64),
                      partial(soft_finalize, reduced=reduced, stack=stack),
                      extra=((len(axes),),) if stack else ())
    (out,) = graph.tree_reduction([x], "soft-argmax", chunk, soft_combine, [part], reduced, False,
                                  split_every)
    return out
