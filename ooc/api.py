"""Public API: numpy's argmax family, lazily over Dask and Zarr arrays.

Every function here checks its arguments, looks its reduction up in :data:`ooc.table.REDUCTIONS`
and hands over to :func:`ooc.graph.arg_reduction`; nothing is read before ``compute()`` (or before
``out=`` is written).
"""
import math
import operator

import numpy as np
from dask.base import tokenize
from numpy.exceptions import AxisError

from . import graph
from .store import as_dask_array
from .table import REDUCTIONS

__all__ = ["argmax", "argmin", "nanargmax", "nanargmin", "max_argmax", "min_argmin",
           "take_at_argmax", "take_at_argmin", "unravel_index"]


def _normalize_axis(axis, ndim):
    """The reduced axes, in significance order, from numpy-style ``axis``.

    None means every axis (the flat C-order index); an int or a tuple of ints names axes, negative
    ones counted from the end.  A 0-d array accepts 0 and -1, as numpy's argmax does.
    """
    n = max(ndim, 1)
    if axis is None:
        return tuple(range(n))
    if isinstance(axis, (tuple, list)):
        if len(axis) == 0:
            raise ValueError("axis=() names no axis to reduce")
        axes = tuple(operator.index(a) for a in axis)
    else:
        axes = (operator.index(axis),)
    if any(isinstance(a, (bool, np.bool_)) for a in (axis if isinstance(axis, (tuple, list))
                                                      else (axis,))):
        raise TypeError("an integer is required for the axis")  # numpy's answer to axis=True
    for a in axes:
        if not -n <= a < n:
            raise AxisError(a, n)
    axes = tuple(a % n for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError("duplicate value in 'axis'")
    return axes


def _normalize_split_every(split_every, axes):
    if split_every is None:
        return graph.DEFAULT_SPLIT_EVERY
    if isinstance(split_every, dict):
        split_every = min((split_every.get(a, graph.DEFAULT_SPLIT_EVERY) for a in axes),
                          default=graph.DEFAULT_SPLIT_EVERY)
    if isinstance(split_every, bool):
        raise TypeError("split_every must be an integer of at least 2")
    split_every = operator.index(split_every)
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every}")
    return split_every


def _prepare(red, a, axis, split_every):
    """Check everything that can be checked before a chunk is read; returns the Dask array
    (1-d for a 0-d input), the reduced axes, split_every and whether the input was 0-d."""
    _refuse_masked(a)
    x = as_dask_array(a)
    axes = _normalize_axis(axis, x.ndim)
    zero_d = x.ndim == 0
    if zero_d:
        x = x.reshape(1)
    if any(math.isnan(c) for cs in x.chunks for c in cs):
        raise ValueError(
            "the array has unknown (NaN) chunk sizes; call "
            "x.compute_chunk_sizes() (or give the chunks) before reducing it")
    if math.prod(x.shape[d] for d in axes) == 0:
        raise ValueError(f"attempt to get arg{red.op} of an empty sequence")
    if x.dtype.kind in "OSUVT":
        _check_orderable(x.dtype)
    return x, axes, _normalize_split_every(split_every, axes), zero_d


def _refuse_masked(*arrays):
    for a in arrays:
        if isinstance(a, np.ma.MaskedArray) or isinstance(getattr(a, "_meta", None), np.ma.MaskedArray):
            raise TypeError("ooc does not support masked arrays (numpy skips masked elements, ooc "
                            "would not): pass a.filled(value) or a plain array")


def _check_orderable(dtype):
    """Refuse dtypes ooc cannot order in compiled or numpy code without running Python objects."""
    raise TypeError(f"ooc cannot arg-reduce arrays of dtype {dtype}: only bool, integer, "
                    "floating, complex, datetime64 and timedelta64 data are supported")


def _result_shape(x, axes, keepdims, zero_d):
    if zero_d:
        return ()
    if keepdims:
        return tuple(1 if d in axes else s for d, s in enumerate(x.shape))
    return tuple(s for d, s in enumerate(x.shape) if d not in axes)


def _check_out(out, shape):
    if not hasattr(out, "shape") or not hasattr(out, "dtype") or hasattr(out, "dask"):
        raise TypeError(f"out must be a numpy array or a zarr.Array, not {type(out).__name__}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"out has shape {tuple(out.shape)}, the result has shape {tuple(shape)}")
    if np.dtype(out.dtype) != np.dtype(np.intp):
        raise ValueError(f"out has dtype {np.dtype(out.dtype)}, the result needs {np.dtype(np.intp)}")
    if isinstance(out, np.ndarray):
        if not out.flags.writeable:
            raise ValueError("out is read-only")
    elif getattr(out, "read_only", False):
        raise ValueError("out is a read-only zarr array; open its store in write mode")


def _store(result, out):
    """Compute ``result`` straight into ``out``, block by block."""
    import dask.array as da

    from .safety import writing

    with writing(out):  # a zarr.Array stays marked incomplete unless every chunk is written
        if result.ndim == 0:
            out[...] = result.compute()
            return out
        if not isinstance(out, np.ndarray):
            chunks = getattr(out, "chunks", None)
            if chunks is not None and result.chunks != da.core.normalize_chunks(chunks, result.shape):
                # one task per output chunk: no two tasks write into the same stored chunk
                result = result.rechunk(chunks)
        da.store(result, out, lock=False)
    return out


def _reduce(name, a, axis, keepdims, split_every, payloads=(), out=None):
    red = REDUCTIONS[name]
    x, axes, split_every, zero_d = _prepare(red, a, axis, split_every)
    keepdims = keepdims and not zero_d
    if out is not None:
        _check_out(out, _result_shape(x, axes, keepdims, zero_d))
    results = graph.arg_reduction(x, red, axes, keepdims, split_every, payloads)
    if zero_d:
        results = tuple(r.reshape(()) for r in results)
    return results


def _arg(name, a, axis, out, keepdims, split_every):
    _, indices = _reduce(name, a, axis, keepdims, split_every, out=out)
    return indices if out is None else _store(indices, out)


def argmax(a, axis=None, out=None, *, keepdims=False, split_every=None):
    """Indices of the maximum values along an axis, lazily and in one pass per chunk.

    Exactly :func:`numpy.argmax`'s answer for every chunking: the first occurrence wins ties (in
    flat C order for ``axis=None``), and a NaN is the maximum (the first NaN wins).

    Parameters
    ----------
    a : array_like, dask.array.Array or zarr.Array
        Input array.  A zarr.Array is read one Zarr chunk per Dask chunk, never as a whole.
    axis : int or tuple of ints, optional
        Axis to reduce; by default the index is into the flattened array.  With a tuple the index
        is the flat C-order index over those axes, taken in the order given (numpy's answer on
        the array with those axes moved to the end and flattened); see :func:`unravel_index`.
    out : numpy.ndarray or zarr.Array, optional
        Array of the result's shape and dtype ``intp`` to compute the result into, block by block;
        it is returned.  Checked before anything is computed.
    keepdims : bool, optional
        Keep the reduced axis (or all axes, for ``axis=None``) with size one.
    split_every : int, optional
        Number of partial results combined per task in the tree reduction (default 8).

    Returns
    -------
    index_array : dask.array.Array of intp
        Lazy indices (a 0-d array for ``axis=None``), or ``out`` when given.

    Raises
    ------
    ValueError
        If the reduced axis has length zero, or ``out`` does not fit.
    numpy.exceptions.AxisError
        If ``axis`` is out of range.

    See Also
    --------
    numpy.argmax, nanargmax, max_argmax, unravel_index

    Examples
    --------
    >>> import numpy as np, ooc
    >>> a = np.arange(6).reshape(2, 3) + 10
    >>> a
    array([[10, 11, 12],
           [13, 14, 15]])
    >>> int(ooc.argmax(a).compute())
    5
    >>> ooc.argmax(a, axis=0).compute()
    array([1, 1, 1])
    >>> ooc.argmax(a, axis=1).compute()
    array([2, 2])

    Indexes of the maximal elements of an N-dimensional array:

    >>> ind = ooc.unravel_index(ooc.argmax(a, axis=None).compute(), a.shape)
    >>> tuple(int(i) for i in ind)
    (1, 2)
    >>> int(a[ind])
    15

    Only the first occurrence is returned, across chunk borders too:

    >>> import dask.array as da
    >>> b = da.from_array(np.array([0, 5, 2, 3, 4, 5]), chunks=2)
    >>> int(ooc.argmax(b).compute())
    1
    >>> x = np.zeros((4, 4)); x[0, 2] = x[1, 0] = 1
    >>> int(ooc.argmax(da.from_array(x, chunks=2)).compute())
    2

    >>> x = np.arange(24).reshape((2, 3, 4))
    >>> ooc.argmax(x, axis=1, keepdims=True).shape
    (2, 1, 4)
    """
    return _arg("argmax", a, axis, out, keepdims, split_every)


def argmin(a, axis=None, out=None, *, keepdims=False, split_every=None):
    """Indices of the minimum values along an axis, lazily and in one pass per chunk.

    Exactly :func:`numpy.argmin`'s answer: the first occurrence wins ties and the first NaN wins.
    Parameters, returns and errors as for :func:`argmax`.

    Examples
    --------
    >>> import numpy as np, ooc
    >>> a = np.array([[4, 2, 3], [1, 5, 1]])
    >>> int(ooc.argmin(a).compute())
    3
    >>> ooc.argmin(a, axis=1).compute()
    array([1, 0])
    >>> int(ooc.argmin(np.array([3.0, np.nan, 1.0])).compute())
    1
    """
    return _arg("argmin", a, axis, out, keepdims, split_every)


def nanargmax(a, axis=None, out=None, *, keepdims=False, split_every=None):
    """Indices of the maximum values along an axis, ignoring NaN.

    Like :func:`numpy.nanargmax`: an all-NaN slice raises ``ValueError("All-NaN slice
    encountered")`` when the result is computed.  One documented difference: where the only
    non-NaN values of a slice are ``-inf``, ooc returns the position of the first ``-inf``
    (numpy returns the position of the first NaN, which is not a maximum of the non-NaN values).
    NaT in datetime64/timedelta64 data is not skipped, as in numpy.
    Parameters and returns as for :func:`argmax`.

    Examples
    --------
    >>> import numpy as np, ooc
    >>> a = np.array([[np.nan, 4], [2, 3]])
    >>> int(ooc.nanargmax(a).compute())
    1
    >>> ooc.nanargmax(a, axis=0).compute()
    array([1, 0])
    >>> int(ooc.nanargmax(np.array([np.nan, np.nan, -np.inf, np.nan])).compute())
    2
    """
    return _arg("nanargmax", a, axis, out, keepdims, split_every)


def nanargmin(a, axis=None, out=None, *, keepdims=False, split_every=None):
    """Indices of the minimum values along an axis, ignoring NaN.

    Like :func:`numpy.nanargmin`, with the choice documented in :func:`nanargmax` (a slice whose
    only non-NaN values are ``+inf`` gives the first ``+inf``).

    Examples
    --------
    >>> import numpy as np, ooc
    >>> a = np.array([[np.nan, 4], [2, 3]])
    >>> int(ooc.nanargmin(a).compute())
    2
    >>> ooc.nanargmin(a, axis=1).compute()
    array([1, 0])
    """
    return _arg("nanargmin", a, axis, out, keepdims, split_every)


def _pair(name, a, axis, keepdims, split_every):
    return _reduce(name, a, axis, keepdims, split_every)


def max_argmax(a, axis=None, *, keepdims=False, skipna=False, split_every=None):
    """The maximum and its index together, from one pass over the data (like ``torch.max(x, dim)``).

    Parameters
    ----------
    a : array_like, dask.array.Array or zarr.Array
    axis : int or tuple of ints, optional
        Axis (or axes, as in :func:`argmax`) to reduce; by default over the flattened array.
    keepdims : bool, optional
    skipna : bool, optional
        Ignore NaN, as :func:`nanargmax` does; by default NaN wins, as in :func:`argmax`.
    split_every : int, optional

    Returns
    -------
    values : dask.array.Array
        ``a`` at the index: :func:`numpy.max` (or :func:`numpy.nanmax` with ``skipna``).
    indices : dask.array.Array of intp
        :func:`argmax` (or :func:`nanargmax`).

    Examples
    --------
    >>> import numpy as np, dask, ooc
    >>> a = np.array([[1, 7, 3], [9, 2, 9]])
    >>> values, indices = ooc.max_argmax(a, axis=1)
    >>> dask.compute(values, indices)
    (array([7, 9]), array([1, 0]))
    >>> v, i = ooc.max_argmax(np.array([1.0, np.nan, 3.0]), skipna=True)
    >>> float(v.compute()), int(i.compute())
    (3.0, 2)
    """
    return _pair("nanargmax" if skipna else "argmax", a, axis, keepdims, split_every)


def min_argmin(a, axis=None, *, keepdims=False, skipna=False, split_every=None):
    """The minimum and its index together, from one pass over the data.

    Parameters and returns as for :func:`max_argmax`, with minimum for maximum.

    Examples
    --------
    >>> import numpy as np, dask, ooc
    >>> values, indices = ooc.min_argmin(np.array([[1, 7, 3], [9, 2, 9]]), axis=0)
    >>> dask.compute(values, indices)
    (array([1, 2, 3]), array([0, 1, 0]))
    """
    return _pair("nanargmin" if skipna else "argmin", a, axis, keepdims, split_every)


def _take(name, values, key, axis, keepdims, split_every):
    _refuse_masked(values, key)
    k = as_dask_array(key)
    v = as_dask_array(values)
    if v.shape != k.shape:
        raise ValueError(f"values has shape {v.shape} but key has shape {k.shape}; they must match")
    if v.ndim == 0:
        v = v.reshape(1)
    elif v.chunks != k.chunks:
        v = v.rechunk(k.chunks)
    return _reduce(name, k, axis, keepdims, split_every, payloads=(v,))[2]


def take_at_argmax(values, key, axis=None, *, keepdims=False, skipna=False, split_every=None):
    """The element of ``values`` where ``key`` is largest along ``axis`` (first occurrence).

    ClickHouse's ``argMax(arg, val)``: one pass reads each chunk of ``key`` and ``values`` once and
    carries (key, value) pairs up the tree, with no second gather pass over ``values``.

    Parameters
    ----------
    values : array_like, dask.array.Array or zarr.Array
        The array to take from; same shape as ``key`` (rechunked to ``key``'s chunks if needed).
    key : array_like, dask.array.Array or zarr.Array
        The array whose maximum decides the position.
    axis : None, int or tuple of ints, optional
    keepdims : bool, optional
    skipna : bool, optional
        Ignore NaN in ``key`` (as :func:`nanargmax`).
    split_every : int, optional

    Returns
    -------
    dask.array.Array
        Equal to ``np.take_along_axis(values, np.expand_dims(np.argmax(key, axis), axis), axis)``
        (squeezed unless ``keepdims``) for an int ``axis``.

    Examples
    --------
    >>> import numpy as np, ooc
    >>> temperature = np.array([[12.0, 31.5, 20.1], [25.2, 18.0, 33.3]])
    >>> day = np.array([[1, 2, 3], [1, 2, 3]])
    >>> ooc.take_at_argmax(day, temperature, axis=1).compute()
    array([2, 3])
    >>> int(ooc.take_at_argmax(day, temperature).compute())
    3
    """
    return _take("nanargmax" if skipna else "argmax", values, key, axis, keepdims, split_every)


def take_at_argmin(values, key, axis=None, *, keepdims=False, skipna=False, split_every=None):
    """The element of ``values`` where ``key`` is smallest along ``axis`` (first occurrence).

    Parameters and returns as for :func:`take_at_argmax`, with minimum for maximum.

    Examples
    --------
    >>> import numpy as np, ooc
    >>> ooc.take_at_argmin(np.array([10, 20, 30]), np.array([5.0, 1.0, 1.0])).compute()
    array(20)
    """
    return _take("nanargmin" if skipna else "argmin", values, key, axis, keepdims, split_every)


def _unravel_block(block, shape, dim, order):
    return np.unravel_index(block, shape, order=order)[dim]


def unravel_index(indices, shape, order="C"):
    """Convert flat indices into a tuple of coordinate arrays, like :func:`numpy.unravel_index`.

    Parameters
    ----------
    indices : int, array_like or dask.array.Array
        Flat indices into an array of ``shape``.
    shape : tuple of int
    order : {"C", "F"}, optional

    Returns
    -------
    tuple of numpy.ndarray or of dask.array.Array
        One array per dimension, lazy when ``indices`` is a Dask array.

    Examples
    --------
    >>> import numpy as np, ooc
    >>> [int(c) for c in ooc.unravel_index(22, (7, 6))]
    [3, 4]
    >>> i = ooc.argmax(np.arange(6).reshape(2, 3) + 10)
    >>> rows, cols = ooc.unravel_index(i, (2, 3))
    >>> int(rows.compute()), int(cols.compute())
    (1, 2)
    """
    import dask.array as da

    if not isinstance(indices, da.Array):
        return np.unravel_index(indices, shape, order=order)
    shape = tuple(operator.index(s) for s in (shape if np.iterable(shape) else (shape,)))
    if order not in ("C", "F"):
        raise ValueError("only 'C' or 'F' order is permitted")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"only int indices permitted, got {indices.dtype}")
    return tuple(
        indices.map_blocks(_unravel_block, shape, d, order, dtype=np.intp,
                           name=f"ooc-unravel{d}-" + tokenize(indices, shape, d, order))
        for d in range(len(shape)))
