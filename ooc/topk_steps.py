"""The steps of top_k: one chunk to its k best (value, global index) pairs, pairs merged.

Partial results are tuples ``(values, indices)`` shaped like the block with the reduced axes kept
as size one and a last axis of up to ``k`` pairs, best first: the largest values (``op="max"``) or
the smallest (``op="min"``), NaN (NaT, complex with a NaN part) after every other value, and on
equal values the smaller global flat index over the reduced axes (in the order given).  Two
partials merge by keeping the k best of their pairs, so any combine order gives the same answer.
"""
import numpy as np

from . import kernels, reference

__all__ = ["line_top_k", "select", "chunk_top_k", "combine_top_k", "finalize", "fill_value"]


def line_top_k(block, axis, k, largest):
    """(values, local indices) of the ``min(k, n)`` best elements along one axis of a block.

    The compiled kernel where it reads the dtype (byte-swapped and float16 data are converted
    once), numpy otherwise.
    """
    topk = kernels.topk
    if topk is not None:
        if topk.is_supported(block.dtype):
            return topk.line_topk(block, axis, k, largest)
        if block.dtype.kind in "biuf" and block.dtype.itemsize <= 8:
            # byte-swapped data and float16 (widened exactly to float32, order kept)
            work = block.dtype.newbyteorder("=")
            if work == np.float16:
                work = np.dtype(np.float32)
            if topk.is_supported(work):
                v, i = topk.line_topk(block.astype(work), axis, k, largest)
                return v.astype(block.dtype), i
    return reference.line_top_k(block, axis, k, largest)


def select(values, indices, k, largest):
    """The ``min(k, c)`` best pairs along the last axis of candidates ``values``/``indices``."""
    topk = kernels.topk
    shape = values.shape[:-1]
    if topk is not None and values.ndim >= 1 and values.shape[-1]:
        work = values.dtype.newbyteorder("=") if values.dtype.kind in "biuf" else values.dtype
        if work == np.float16:
            work = np.dtype(np.float32)
        if topk.is_supported(work):
            c = values.shape[-1]
            v, i = topk.select(values.reshape(-1, c).astype(work, copy=False),
                               indices.reshape(-1, c), k, largest)
            kk = v.shape[-1]
            return v.astype(values.dtype, copy=False).reshape(shape + (kk,)), i.reshape(shape + (kk,))
    return reference.select_top_k(values, indices, k, largest)


def _line_axis(block, axes):
    """The reduced axis the kernel runs along: the one with the smallest stride among the long
    ones (the data is then read in memory order)."""
    long = [a for a in axes if block.shape[a] > 1]
    if not long:
        return axes[-1]
    return min(long, key=lambda a: abs(block.strides[a]))


def chunk_top_k(offset, block, *, call):
    """Chunk step: the k best pairs of one block, with global flat indices over ``call.axes``.

    The kernel selects along one reduced axis for every other position; with several reduced
    axes the candidates of the others are then merged by :func:`select` (a line's best k contain
    the block's best k among that line's elements, whatever the order of the axes).

    Parameters
    ----------
    offset : tuple of int
        Position of the block's first element in the whole array.
    block : numpy.ndarray
    call : ooc.reductions.Call
        ``k``, ``op`` ("max" for the largest), ``axes`` (significance order) and ``shape``.
    """
    axes, shape, k = call.axes, call.shape, call.k
    largest = call.op == "max"
    block = np.asarray(block)
    if block.ndim == 0:
        block, offset, shape, axes = block.reshape(1), (0,), (1,), (0,)
    if any(block.shape[a] == 0 for a in axes):
        return None   # an empty block (a filtered Dask array can have them) has no candidate
    a_line = _line_axis(block, axes)
    v, local = line_top_k(block, a_line, k, largest)
    v = np.expand_dims(v, a_line)             # the block's shape with a_line as 1, then k
    local = np.expand_dims(local, a_line)
    if len(axes) == 1:
        return v, local + offset[a_line]
    flat = np.zeros((1,) * (block.ndim + 1), dtype=np.int64)
    for a in axes:
        if a == a_line:
            coord = local + offset[a]
        else:
            coord = np.arange(offset[a], offset[a] + block.shape[a], dtype=np.int64)
            coord = coord.reshape([-1 if d == a else 1 for d in range(block.ndim + 1)])
        flat = flat * shape[a] + coord
    flat = np.broadcast_to(flat, v.shape)
    rest = tuple(a for a in sorted(axes) if a != a_line)
    last = block.ndim                          # the k axis
    dest = tuple(range(last - len(rest), last))
    v = np.moveaxis(v, rest, dest)
    flat = np.moveaxis(flat, rest, dest)
    merged = v.shape[:last - len(rest)] + (-1,)
    v, flat = select(v.reshape(merged), flat.reshape(merged), k, largest)
    return np.expand_dims(v, rest), np.expand_dims(flat, rest)


def combine_top_k(parts, *, call):
    """Combine step: the k best pairs of several partial results (None: an empty block)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    values = np.concatenate([p[0] for p in parts], axis=-1)
    indices = np.concatenate([p[1] for p in parts], axis=-1)
    return select(values, indices, call.k, call.op == "max")


def fill_value(dtype):
    """What ``skipna`` with ``fill_index`` puts in the values where a slice ran out of non-NaN
    values: NaN, NaT for datetime64/timedelta64 (integer and bool data hold no NaN, so they
    never run out)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "mM":
        return np.array("NaT", dtype=dtype)[()]
    return dtype.type(np.nan)


def _missing(values):
    if values.dtype.kind in "fc":
        return np.isnan(values)
    if values.dtype.kind in "mM":
        return np.isnat(values)
    return None


def finalize(pair, *, call, part):
    """Final step: part 0 (values) or 1 (indices, intp), the reduced axes removed, k last.

    With ``call.skipna`` NaN never comes out: where a slice has fewer than k non-NaN values,
    ``ValueError``, or with ``call.fill_index`` that index (and NaN, or NaT, as the value).
    """
    values, indices = pair
    if call.skipna:
        missing = _missing(values)
        if missing is not None and missing.any():
            if call.fill_index is None:
                raise ValueError(f"top_k with skipna=True: a slice has fewer than k={call.k} "
                                 "non-NaN values; pass fill_index to fill the missing places")
            values = np.where(missing, fill_value(values.dtype), values)
            indices = np.where(missing, call.fill_index, indices)
    out = values if part == 0 else indices.astype(np.intp, copy=False)
    return np.squeeze(out, axis=call.reduced)
