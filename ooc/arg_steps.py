"""The steps of the argmax family: one chunk to (value, global index) pairs, pairs combined.

Intermediate results are tuples ``(values, indices, *payloads)`` of numpy arrays shaped like the
block with the reduced axes kept as size one:

* ``values``: the best key value of each output position;
* ``indices``: its global flat index over the reduced axes, in the order the axes were given
  (C order for ``axis=None``), as int64; -1 where a nan-variant saw only NaN;
* ``payloads``: elements of other arrays at the same position (``take_at_argmax``).

Two tuples merge elementwise by value and, on equal values, keep the smaller global index, so any
combine order yields numpy's first occurrence.  Every step takes ``op`` ("max" or "min") and
``skipna`` (the nan-variants) as keywords.
"""
import numpy as np

from . import kernels, reference
from .axes import keep_shape

__all__ = ["line_argreduce", "local_argreduce", "chunk_argreduce", "combine_pairs", "finalize"]


# ---------------------------------------------------------------------------------------------
# chunk step

def line_argreduce(block, axis, op, skipna):
    """(values, local indices) along one ``axis`` of a block: compiled kernel or numpy path."""
    arg = kernels.arg
    if arg.is_supported(block.dtype):
        return arg.argreduce(block, axis, op == "min", skipna)
    if block.dtype.kind in "biuf" and not block.dtype.isnative:
        # byte-swapped data: the kernels read native words, so swap this chunk once
        native = block.astype(block.dtype.newbyteorder("="))
        if arg.is_supported(native.dtype):
            v, i = arg.argreduce(native, axis, op == "min", skipna)
            return v.astype(block.dtype), i
    return reference.argreduce(block, axis, op, skipna)


def _merged_view(block, axes):
    """``block`` with ``axes`` (consecutive, increasing) merged into one, without a copy; or None."""
    lo, hi = axes[0], axes[-1]
    if list(axes) != list(range(lo, hi + 1)):
        return None
    try:
        view = np.reshape(block, block.shape[:lo] + (-1,) + block.shape[hi + 1:], copy=False)
    except ValueError:  # merging would need a copy
        return None
    return view, lo


def local_argreduce(block, axes, op, skipna):
    """(values, local coordinates) of the first best element over ``axes`` of a block.

    ``axes`` is a tuple in significance order (the first axis varies slowest in the flat index).
    Returns the values and one int64 coordinate array per reduced axis, all keepdims-shaped; the
    coordinates are -1 where a nan-variant found only NaN.  One pass over the block's memory: the
    least significant axis is reduced first, the others then reduce that much smaller result.
    """
    if len(axes) > 1 and (merged := _merged_view(block, axes)) is not None:
        view, lo = merged
        v, i = line_argreduce(view, lo, op, skipna)
        keep = keep_shape(block.shape, axes)
        return v.reshape(keep), _unravel_keep(i.reshape(keep), [block.shape[a] for a in axes])
    stages = []
    cur = block
    for a in reversed(axes):
        v, i = line_argreduce(cur, a, op, skipna)
        cur = np.expand_dims(v, a)
        stages.append(np.expand_dims(i, a))
    stages.reverse()  # stages[j] holds the index along axes[j]
    coords = []
    for j, idx in enumerate(stages):
        for prev_axis, prev in zip(axes[:j], coords):
            idx = np.take_along_axis(idx, np.maximum(prev, 0), axis=prev_axis)
        coords.append(idx)
    if skipna:
        invalid = coords[0] < 0
        coords = [np.where(invalid, -1, c) for c in coords]
    return cur, coords


def _unravel_keep(flat, shape):
    """Coordinates of flat C-order indices into ``shape``, keeping -1 as -1."""
    coords = []
    rest = flat.copy()
    for s in reversed(shape):
        coords.append(np.where(flat < 0, -1, rest % s))
        rest //= s
    return coords[::-1]


def gather(block, axes, coords):
    """Elements of ``block`` at the local coordinates over ``axes``, keepdims-shaped."""
    index = []
    for d in range(block.ndim):
        if d in axes:
            index.append(np.maximum(coords[axes.index(d)], 0))
        else:
            shape = [1] * block.ndim
            shape[d] = block.shape[d]
            index.append(np.arange(block.shape[d]).reshape(shape))
    return block[tuple(index)]


def chunk_argreduce(offset, block, *payload_blocks, call):
    """Chunk step: the tuple of one block, with global flat indices over ``axes``.

    Parameters
    ----------
    offset : tuple of int
        Position of the block's first element in the whole array.
    block : numpy.ndarray
        The block of the key array.
    payload_blocks : numpy.ndarray
        Blocks of other arrays (same shape) whose elements at the best position travel along.
    call : ooc.reductions.Call
        ``op`` ("max" or "min"), ``skipna`` (the nan-variants: -1 marks a position that saw only
        NaN), ``axes`` (reduced axes in significance order; all axes in order for ``axis=None``)
        and ``shape`` (of the whole array).
    """
    op, skipna, axes, shape = call.op, call.skipna, call.axes, call.shape
    block = np.asarray(block)
    if block.ndim == 0:
        block, offset, shape, axes = block.reshape(1), (0,), (1,), (0,)
        payload_blocks = tuple(np.asarray(p).reshape(1) for p in payload_blocks)
    if any(block.shape[a] == 0 for a in axes):
        return None  # an empty block (a filtered Dask array can have them) has no candidate
    v, coords = local_argreduce(block, axes, op, skipna)
    if len(axes) == 1:
        flat = coords[0]
        if offset[axes[0]]:
            flat = np.where(flat < 0, -1, flat + offset[axes[0]]) if skipna else flat + offset[axes[0]]
    else:
        flat = np.zeros(v.shape, dtype=np.int64)
        for a, c in zip(axes, coords):
            flat = flat * shape[a] + (c + offset[a])
        flat = np.where(coords[0] < 0, -1, flat)
    payloads = tuple(gather(np.asarray(p), axes, coords) for p in payload_blocks)
    return (v, flat) + payloads


# ---------------------------------------------------------------------------------------------
# combine step

def _isnan(a):
    if a.dtype.kind in "fc":
        return np.isnan(a)
    if a.dtype.kind in "mM":
        return np.isnat(a)
    return np.zeros(a.shape, dtype=bool)


def _b_wins(a, b, op, skipna):
    """Where the tuple ``b`` replaces ``a``: better value, or equal value and smaller index."""
    va, ia = a[0], a[1]
    vb, ib = b[0], b[1]
    with np.errstate(invalid="ignore"):
        better = (vb < va) if op == "min" else (vb > va)
        equal = va == vb
    na, nb = _isnan(va), _isnan(vb)
    skips = skipna and va.dtype.kind in "fc"
    if skips:
        valid_a, valid_b = ia >= 0, ib >= 0
        return valid_b & (~valid_a | better | (equal & (ib < ia)))
    # NaN (and NaT) beats everything; among NaN the smaller index wins
    return (nb & ~na) | (~nb & ~na & better) | ((equal | (na & nb)) & (ib < ia))


def combine_pairs(pairs, *, call):
    """Combine step: several tuples into one, elementwise (None stands for an empty block)."""
    pairs = [p for p in pairs if p is not None]
    if not pairs:
        return None
    acc = tuple(pairs[0])
    for nxt in pairs[1:]:
        take = _b_wins(acc, nxt, call.op, call.skipna)
        acc = tuple(np.where(take, b, a) for a, b in zip(acc, nxt))
    return acc


# ---------------------------------------------------------------------------------------------
# finalize step

def finalize(pair, *, call, part):
    """Final step: part 0 (values), 1 (indices, as intp) or 2+ (payloads), dims as requested.

    Where a nan-variant saw only NaN: numpy's ``ValueError("All-NaN slice encountered")``, or,
    when ``call.missing``, index -1 left in place (xarray's idxmax puts its missing value there).
    """
    if call.skipna and not call.missing and pair[1].size and (pair[1] < 0).any():
        raise ValueError("All-NaN slice encountered")
    out = pair[part]
    if part == 1:
        out = out.astype(np.intp, copy=False)
    return out if call.keepdims else np.squeeze(out, axis=call.reduced)
