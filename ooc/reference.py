"""Pure-numpy (value, index) reductions and top-k selections of one chunk.

This is the slow path for dtypes the compiled kernels do not cover (complex, datetime64, timedelta64,
longdouble, byte-swapped data, ...) and the reference the kernels are tested against.  It follows
numpy's rules exactly, with one documented exception: the nan-variants pick the first non-NaN element
with the best value, so ``nanargmax([nan, -inf])`` is 1 (numpy says 0, a NaN position).

Each function returns ``(values, indices)`` with the reduced axis removed; ``indices`` is int64 and
holds -1 where a nan-variant found only NaN.
"""
import numpy as np

__all__ = ["argreduce", "nan_mask", "order_keys", "select_top_k", "line_top_k"]


def nan_mask(a):
    """Boolean mask of the elements a nan-variant skips, or None when the dtype has no NaN.

    numpy's nanargmax/nanargmin skip NaN of float and complex data only; NaT in datetime64 and
    timedelta64 data is not skipped by them (it wins like NaN does in argmax), and ooc does the same.
    """
    if a.dtype.kind in "fc":
        return np.isnan(a)
    return None


def argreduce(a, axis, op, skipna):
    """First index of the largest (op="max") or smallest (op="min") element along ``axis``.

    Parameters
    ----------
    a : numpy.ndarray
        One chunk, at least 1-d, with a non-empty ``axis``.
    axis : int
        Non-negative axis to reduce.
    op : {"max", "min"}
    skipna : bool
        Skip NaN (the nan-variants) instead of letting the first NaN win.

    Returns
    -------
    values, indices : numpy.ndarray
        ``a`` at the index, and the index (int64, -1 for an all-NaN line when ``skipna``).

    Examples
    --------
    >>> argreduce(np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]]), 1, "max", True)
    (array([ 3., nan]), array([ 2, -1]))
    >>> argreduce(np.array([[1.0, np.nan, 3.0]]), 1, "max", False)
    (array([nan]), array([1]))
    """
    argfunc = np.argmax if op == "max" else np.argmin
    mask = nan_mask(a) if skipna else None
    if mask is None or not mask.any():
        idx = argfunc(a, axis=axis, keepdims=True)
    else:
        # Replace NaN by a finite stand-in, then keep only non-NaN elements equal to the best value:
        # the first of them is the answer, whatever the stand-in ties with.
        filled = np.where(mask, a.dtype.type(0), a)
        allnan = mask.all(axis=axis, keepdims=True)
        best = np.where(mask, _worst(a.dtype, op), filled)
        idx = argfunc(best, axis=axis, keepdims=True)
        top = np.take_along_axis(best, idx, axis=axis)
        hit = (best == top) & ~mask
        idx = np.where(allnan, -1, np.argmax(hit, axis=axis, keepdims=True))
    idx = idx.astype(np.int64, copy=False)
    values = np.take_along_axis(a, np.maximum(idx, 0), axis=axis)
    if mask is not None and skipna:
        values = np.where(idx < 0, a.dtype.type(np.nan), values)
    return np.squeeze(values, axis=axis), np.squeeze(idx, axis=axis)


def _worst(dtype, op):
    sign = -1 if op == "max" else 1
    if dtype.kind == "c":
        return dtype.type(complex(sign * np.inf, sign * np.inf))
    return dtype.type(sign * np.inf)


# ---------------------------------------------------------------------------------------------
# top-k: the k best (value, index) pairs, NaN last

def order_keys(a, largest):
    """:func:`numpy.lexsort` keys (least significant first) that rank ``a`` best first, NaN last.

    The last key flags NaN (NaT for datetime64/timedelta64, a NaN in either part for complex);
    before it the value, descending when ``largest``: -0.0 and 0.0 tie, complex numbers order
    lexicographically (real part, then imaginary part), NaN positions tie with each other.

    Examples
    --------
    >>> a = np.array([2.0, np.nan, -1.0, 2.0])
    >>> np.lexsort([np.arange(4), *order_keys(a, True)])
    array([0, 3, 2, 1])
    """
    kind = a.dtype.kind
    if kind in "fc":
        nan = np.isnan(a)
    elif kind in "mM":
        nan = np.isnat(a)
    else:
        nan = None
    if kind == "c":
        parts = [np.where(nan, 0, a.imag), np.where(nan, 0, a.real)]
    elif kind == "f":
        parts = [np.where(nan, 0, a)]
    elif kind in "mM":
        parts = [np.where(nan, 0, a.astype(np.int64))]
    elif kind == "b":
        parts = [a.astype(np.uint8)]
    else:
        parts = [a]
    if largest:
        # floats negate exactly; ~x reverses the order of every integer type without overflow
        parts = [-p if p.dtype.kind == "f" else ~p for p in parts]
    return parts + ([nan] if nan is not None else [])


def select_top_k(values, indices, k, largest):
    """The ``min(k, n)`` best (value, index) pairs along the last axis, best first.

    Best is the largest value (smallest when not ``largest``), NaN last, then the smaller index.

    Examples
    --------
    >>> select_top_k(np.array([[1, 5, 5, 0]]), np.array([[7, 9, 2, 4]]), 2, True)
    (array([[5, 5]]), array([[2, 9]]))
    """
    if values.shape[-1] == 0:
        return values, indices
    order = np.lexsort([indices, *order_keys(values, largest)], axis=-1)[..., :k]
    return np.take_along_axis(values, order, -1), np.take_along_axis(indices, order, -1)


def line_top_k(a, axis, k, largest):
    """(values, indices) of the ``min(k, n)`` best elements along ``axis`` of a chunk.

    The axis is removed and the selected pairs lie on a new last axis, best first; indices are
    int64 positions along ``axis``.

    Examples
    --------
    >>> line_top_k(np.array([[3, 1, 3], [0, 2, 1]]), 1, 2, False)
    (array([[1, 3],
           [0, 1]]), array([[1, 0],
           [0, 2]]))
    """
    moved = np.moveaxis(a, axis, -1)
    index = np.broadcast_to(np.arange(moved.shape[-1], dtype=np.int64), moved.shape)
    return select_top_k(moved, index, k, largest)
