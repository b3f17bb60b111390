"""Flat indices to coordinates: :func:`unravel_index`, computed by ooc itself.

numpy 2.4's ``np.unravel_index`` is wrong for index arrays whose last axis has length 1 and that
are native intp (in any layout: C, F, strided, reversed, broadcast), byte-swapped, or lists: from
element 8193 on it repeats stale coordinates and lets out-of-range indices through (1807 of
10,000 rows wrong for ``np.arange(10000).reshape(10000, 1)`` into ``(100, 100)``). So ooc
divides by the shape itself, with numpy's signature, results and errors; this module imports only
numpy (and dask when given a Dask array).
"""
import math
import operator

import numpy as np

__all__ = ["unravel_index"]

_INTP_MAX = int(np.iinfo(np.intp).max)


def _order(order):
    """'C' or 'F' from numpy's spellings of an order, with numpy's errors for the others."""
    if order is None:
        return "C"
    if isinstance(order, bytes):
        order = order.decode("latin-1")
    if not isinstance(order, str):
        raise TypeError(f"order must be str, not {type(order).__name__}")
    if order.upper() in ("C", "F"):
        return order.upper()
    if order.upper() in ("A", "K"):
        raise ValueError("only 'C' or 'F' order is permitted")
    raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")


def _dim(d):
    if isinstance(d, (bool, np.bool_)):
        raise TypeError("an integer is required")
    d = operator.index(d)
    if d < 0:
        raise ValueError("negative dimensions are not allowed")
    if d > _INTP_MAX:
        raise ValueError("Maximum allowed dimension exceeded")
    return d


def _shape(shape):
    """The target shape as a tuple of Python ints and its size, with numpy's errors."""
    if shape is None:
        raise TypeError("Use () not None as shape arguments")
    if np.iterable(shape):
        dims = tuple(_dim(d) for d in shape)
    else:
        try:
            dims = (_dim(shape),)
        except TypeError:
            raise TypeError("expected a sequence of integers or a single integer, "
                            f"got '{shape!r}'") from None
    size = math.prod(dims)
    if size > _INTP_MAX:
        raise ValueError("dimensions are too large; arrays and shapes with a total size greater "
                         "than 'intp' are not supported.")
    return dims, size


def _check_dtype(dtype):
    if dtype.kind not in "biu":
        raise TypeError("only int indices permitted")


def _as_intp(indices):
    """``indices`` as an intp array of its own shape (any layout), numpy's error if not ints."""
    a = np.asarray(indices)
    if a.size == 0 and a.dtype.kind == "f" and not isinstance(indices, np.ndarray):
        raise TypeError("indices must be integral: the provided empty sequence was inferred as "
                        "float. Wrap it with 'np.array(indices, dtype=np.intp)'")
    _check_dtype(a.dtype)
    return a.astype(np.intp, casting="same_kind", copy=False)


def _check_bounds(a, size):
    if a.size and (a.min() < 0 or a.max() >= size):
        bad = a[(a < 0) | (a >= size)].flat[0]
        raise ValueError(f"index {bad} is out of bounds for array with size {size}")
    return a


def _divide(a, dims, order):
    """Coordinates of the in-bounds intp indices ``a``: divmod by each dim, last first for C."""
    if not a.size:  # nothing to divide, and a zero-length dim must not be a divisor
        return tuple(np.empty(a.shape, np.intp) for _ in dims)
    coords = [None] * len(dims)
    rest = a
    for d in (reversed(range(len(dims))) if order == "C" else range(len(dims))):
        rest, coords[d] = np.divmod(rest, dims[d])
    if a.ndim == 0:
        return tuple(np.intp(c) for c in coords)
    return tuple(coords)


def _coordinate_block(block, dims, size, order, d):
    return np.asarray(_divide(_check_bounds(_as_intp(block), size), dims, order)[d])


def _unravel_dask(indices, dims, size, order):
    import dask.array as da
    from dask.base import tokenize

    meta = np.empty((0,) * indices.ndim, np.intp)
    return tuple(
        da.map_blocks(_coordinate_block, indices, dims, size, order, d, dtype=np.intp, meta=meta,
                      name=f"ooc-unravel{d}-" + tokenize(indices, dims, d, order))
        for d in range(len(dims)))


def _is_dask_array(x):
    if type(x).__module__.partition(".")[0] != "dask":
        return False
    import dask.array as da

    return isinstance(x, da.Array)


def unravel_index(indices, shape, order="C"):
    """Convert flat indices into a tuple of coordinate arrays, like :func:`numpy.unravel_index`.

    The coordinates come from floor division and remainder by the dimensions (the last first
    for C order, the first first for F order), never from ``np.unravel_index``, whose numpy 2.4
    answers are wrong for some index arrays (see the module docstring).

    Parameters
    ----------
    indices : int, array_like of int, or dask.array.Array
        Flat indices into an array of ``shape``, of any integer (or bool) dtype, shape and
        memory layout.
    shape : int or sequence of int
        The shape of the array the indices are into.
    order : {"C", "F"}, optional
        Row-major (C) or column-major (Fortran) numbering of the flat indices.

    Returns
    -------
    tuple
        One entry per dimension of ``shape``: ``numpy.intp`` scalars for scalar or 0-d
        ``indices``, ``intp`` arrays of ``indices``' shape for arrays, and lazy Dask arrays of
        ``indices``' chunks for a Dask array (deterministically named
        ``"ooc-unravel<d>-<token>"``).

    Raises
    ------
    TypeError
        ``indices`` not of an integer dtype ("only int indices permitted"), or a bad ``shape``.
    ValueError
        An index outside ``[0, prod(shape))`` ("index N is out of bounds for array with size
        M"; for a Dask array when it is computed), a negative or too large dimension, an order
        other than C or F, or more than one index into ``shape=()``.

    See Also
    --------
    numpy.unravel_index

    Notes
    -----
    With ``shape=()`` a Dask array of indices gives ``()`` without checking that its value is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from ooc.coords import unravel_index
    >>> unravel_index(22, (7, 6))
    (np.int64(3), np.int64(4))
    >>> unravel_index([22, 41], (7, 6), order="F")
    (array([1, 6]), array([3, 5]))

    Index arrays numpy 2.4 gets wrong come out right:

    >>> i = np.arange(10_000).reshape(10_000, 1)
    >>> rows, cols = unravel_index(i, (100, 100))
    >>> rows.shape, bool((rows * 100 + cols == i).all())
    ((10000, 1), True)

    A Dask array gives lazy coordinates:

    >>> import dask.array as da
    >>> rows, cols = unravel_index(da.arange(12, chunks=5), (3, 4))
    >>> rows.name.startswith("ooc-unravel0-")
    True
    >>> cols.compute()
    array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    >>> unravel_index(7, (2, 3))
    Traceback (most recent call last):
        ...
    ValueError: index 7 is out of bounds for array with size 6
    """
    dims, size = _shape(shape)
    lazy = _is_dask_array(indices)
    if lazy:
        _check_dtype(indices.dtype)
    else:
        indices = _as_intp(indices)
    order = _order(order)
    if not lazy:
        _check_bounds(indices, size)
    if not dims and indices.ndim:
        raise ValueError("multiple indices are not supported for 0d arrays")
    if lazy:
        return _unravel_dask(indices, dims, size, order)
    return _divide(indices, dims, order)
