"""Public API: numpy's argmax family, top_k, logsumexp, softmax and soft_argmax, lazily over Dask
and Zarr.

Every function here checks its arguments, looks its reduction up in
:data:`ooc.reductions.REDUCTIONS` and hands the record's steps to
:func:`ooc.graph.tree_reduction`; with ``out=`` the lazy result is then written by
:mod:`ooc.store.results` and :mod:`ooc.runtime`.  Nothing is read before ``compute()`` (or before
``out=`` is written).
"""
import math
import operator
from collections import namedtuple
from functools import partial

import numpy as np
from dask.base import tokenize

from . import coords, graph, lse_steps, runtime
from .axes import normalize_axis, normalize_split_every, result_shape
from .reductions import REDUCTIONS, Call, steps
from .store import results
from .store.inputs import as_dask_array

__all__ = ["argmax", "argmin", "nanargmax", "nanargmin", "max_argmax", "min_argmin",
           "take_at_argmax", "take_at_argmin", "unravel_index", "logsumexp", "softmax",
           "soft_argmax", "top_k", "argtopk", "TopK", "prepare", "reduce"]


def refuse_masked(*arrays):
    """numpy skips masked elements, ooc would not: refuse masked arrays."""
    for a in arrays:
        if isinstance(a, np.ma.MaskedArray) or isinstance(getattr(a, "_meta", None), np.ma.MaskedArray):
            raise TypeError("ooc does not support masked arrays (numpy skips masked elements, ooc "
                            "would not): pass a.filled(value) or a plain array")


def prepare(name, a, axis, split_every):
    """Check everything that can be checked before a chunk is read.

    Returns the Dask array (1-d for a 0-d input), the reduced axes in significance order,
    split_every and whether the input was 0-d.
    """
    red = REDUCTIONS[name]
    refuse_masked(a)
    if isinstance(getattr(a, "dtype", None), np.dtype):
        red.accepts(a.dtype)   # before wrapping: Dask cannot even chunk object arrays
    x = as_dask_array(a)
    red.accepts(x.dtype)
    axes = normalize_axis(axis, x.ndim)
    zero_d = x.ndim == 0
    if zero_d:
        x = x.reshape(1)
    if red.payloads and any(math.isnan(c) for cs in x.chunks for c in cs):
        raise ValueError(
            "the array has unknown (NaN) chunk sizes; call "
            "x.compute_chunk_sizes() (or give the chunks) before reducing it")
    if any(math.isnan(c) for d in axes for c in x.chunks[d]):
        raise ValueError(
            "the array has unknown chunk sizes along the reduced axes; call "
            "x.compute_chunk_sizes() (or give the chunks) before reducing it")
    return x, axes, normalize_split_every(split_every, axes), zero_d


def reduce(name, a, axis=None, *, keepdims=False, split_every=None, payloads=(), **options):
    """The lazy outputs of reduction ``name`` of the table over ``axis`` of ``a``.

    ``payloads`` are arrays of ``a``'s shape whose elements at the chosen positions are returned
    after the record's own outputs (``take_at_argmax``); ``options`` go to the record's steps
    (``beta``, ``stack``).  Returns a tuple of Dask arrays.
    """
    red = REDUCTIONS[name]
    x, axes, split_every, zero_d = prepare(name, a, axis, split_every)
    if red.payloads and math.prod(x.shape[d] for d in axes) == 0:
        raise ValueError(f"attempt to get arg{red.options['op']} of an empty sequence")
    keepdims = keepdims and not zero_d
    call = Call(axes, tuple(int(s) for s in x.shape), x.dtype, keepdims, **options)
    chunk, combine, parts = steps(red, call, [p.dtype for p in payloads])
    outs = graph.tree_reduction([x, *payloads], red.name, chunk, combine, parts, call.reduced,
                                keepdims, split_every)
    if zero_d:
        outs = tuple(o.reshape(()) for o in outs)
    return outs


def _no_axes(axis):
    return isinstance(axis, (tuple, list)) and len(axis) == 0


def _elementwise_input(name, a):
    """``a`` as a Dask array, checked as :func:`prepare` checks it, for ``axis=()``."""
    refuse_masked(a)
    accepts = REDUCTIONS[name].accepts
    if isinstance(getattr(a, "dtype", None), np.dtype):
        accepts(a.dtype)
    x = as_dask_array(a)
    accepts(x.dtype)
    return x


def _softmax_of_one(block):
    dtype = lse_steps.result_dtype(block.dtype)
    return np.where(np.isfinite(block), dtype.type(1), dtype.type(np.nan)).astype(dtype)


def _payloads(values, key):
    """``values`` as a Dask array of ``key``'s shape and chunks (1-d for 0-d)."""
    refuse_masked(values, key)
    k = as_dask_array(key)
    v = as_dask_array(values)
    if v.shape != k.shape:
        raise ValueError(f"values has shape {v.shape} but key has shape {k.shape}; they must match")
    if v.ndim == 0:
        return v.reshape(1)
    return v if v.chunks == k.chunks else v.rechunk(k.chunks)


def _in_this_process():
    """True if dask's current scheduler runs the tasks in this process (threads, synchronous)."""
    import dask.base
    import dask.local
    import dask.threaded
    get = dask.base.get_scheduler()
    return get is None or get in (dask.threaded.get, dask.local.get_sync)


def _write(lazy, out):
    """Compute ``lazy`` straight into ``out``.

    A zarr ``out``: one task per stored object (shard, or chunk if not sharded), every chunk
    stored even where it equals the fill value, and every one found in the store before ``out``
    is marked complete (see :mod:`ooc.store.results`).  A numpy ``out``: written block by block
    by the tasks of an in-process scheduler; tasks in other processes would write into copies,
    so there the result is computed, then copied.
    """
    with results.writing(out):  # a zarr.Array stays marked incomplete unless every chunk is written
        if lazy.ndim == 0 or (isinstance(out, np.ndarray) and not _in_this_process()):
            results.for_writing(out)[...] = lazy.compute()
        else:
            runtime.store(results.aligned(lazy, out), results.for_writing(out))
    return out


def _arg(name, a, axis, out, keepdims, split_every):
    if out is not None:
        x, axes, _, zero_d = prepare(name, a, axis, split_every)
        results.check_out(out, () if zero_d else result_shape(x.shape, axes, keepdims))
    _, indices = reduce(name, a, axis, keepdims=keepdims, split_every=split_every)
    return indices if out is None else _write(indices, out)


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
    return reduce("nanargmax" if skipna else "argmax", a, axis, keepdims=keepdims,
                  split_every=split_every)


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
    return reduce("nanargmin" if skipna else "argmin", a, axis, keepdims=keepdims,
                  split_every=split_every)


def _take(name, values, key, axis, keepdims, split_every):
    payload = _payloads(values, key)
    return reduce(name, key, axis, keepdims=keepdims, split_every=split_every,
                  payloads=(payload,))[2]


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


#: what :func:`top_k` returns
TopK = namedtuple("TopK", ["values", "indices"])

_MODES = {"largest": "max", "smallest": "min"}


def _top_k(a, k, axis, mode, skipna, fill_index, split_every, out):
    """Check everything, then the lazy (values, indices) with the k axis in place."""
    import dask.array as da

    if mode not in _MODES:
        raise ValueError(f"mode must be 'largest' or 'smallest', got {mode!r}")
    if isinstance(k, (bool, np.bool_)):
        raise TypeError("k must be an integer, not a bool")
    k = operator.index(k)
    if fill_index is not None:
        if isinstance(fill_index, (bool, np.bool_)):
            raise TypeError("fill_index must be an integer, not a bool")
        fill_index = operator.index(fill_index)
    x, axes, split_every, _ = prepare("top-k", a, axis, split_every)
    n = math.prod(x.shape[d] for d in axes)
    if not 0 <= k <= n:
        raise ValueError(f"k must be between 0 and the length of the reduced axes ({n}), got {k}")
    at = min(axes)
    kept = tuple(s for d, s in enumerate(x.shape) if d not in axes)
    shape = kept[:at] + (k,) + kept[at:]
    if out is not None:
        results.check_out(out, shape)
    if k == 0:   # nothing to read
        chunks = tuple(c for d, c in enumerate(x.chunks) if d not in axes)
        chunks = chunks[:at] + ((0,),) + chunks[at:]
        values = da.empty(shape, chunks=chunks, dtype=x.dtype)
        indices = da.empty(shape, chunks=chunks, dtype=np.intp)
    else:
        values, indices = reduce("top-k", x, axes, split_every=split_every, op=_MODES[mode],
                                 skipna=bool(skipna), k=k, fill_index=fill_index)
        if at != values.ndim - 1:
            values, indices = (da.moveaxis(v, -1, at) for v in (values, indices))
    if out is not None:
        indices = _write(indices, out)
    return TopK(values, indices)


def top_k(a, k, /, *, axis=-1, mode="largest", sorted=True, skipna=False, fill_index=None,
          split_every=None, out=None):
    """The ``k`` largest (or smallest) elements and their indices along an axis, lazily.

    Like ``numpy.top_k`` (in numpy's development documentation; numpy 2.4 has none), with one
    answer for every chunking: the values in order, best first, and on equal values the smaller
    index first (numpy leaves that order open).  Every chunk is reduced to its k best (value,
    index) pairs per output position by a compiled kernel (one pass over the chunk's memory along
    its innermost axis, two along an outer one), and the pairs are merged in a tree, as for
    :func:`argmax`.

    Parameters
    ----------
    a : array_like, dask.array.Array or zarr.Array
        Input array (bool, integer, floating, complex, datetime64 or timedelta64).
    k : int
        How many elements, from 0 to the length of the reduced axes.
    axis : None, int or tuple of ints, optional
        Axis to select along (default the last).  None selects over the flattened array (flat
        C-order indices); a tuple over several axes, with the flat C-order index over them in
        the order given, as in :func:`argmax`.
    mode : {"largest", "smallest"}, optional
    sorted : bool, optional
        Accepted for numpy's signature: the result is sorted either way (sorting k pairs costs
        nothing next to the pass over the data).
    skipna : bool, optional
        Never return NaN: where a slice has fewer than ``k`` non-NaN values, ``ValueError`` when
        computed, unless ``fill_index`` is given.
    fill_index : int, optional
        With ``skipna``, the index put in the missing places; their value is NaN (NaT for
        datetime64 and timedelta64).  Integer and bool data have no NaN and are never short.
    split_every : int, optional
        Partial results combined per task in the tree reduction (default 8).
    out : numpy.ndarray or zarr.Array, optional
        Array of the indices' shape and dtype ``intp`` to compute the indices into, block by
        block; it is returned as ``indices``.  Checked before anything is computed.

    Returns
    -------
    TopK
        A named tuple ``(values, indices)`` of Dask arrays (``indices`` of dtype ``intp``): the
        input's shape with the reduced axis replaced by ``k``; for several axes (and None) they
        are replaced by one axis of length ``k`` where the first of them (in the array) was.

    Raises
    ------
    ValueError
        If ``k`` is negative or larger than the reduced length, or ``mode`` is unknown, before
        anything is read; with ``skipna`` and no ``fill_index``, when computed, if a slice has
        fewer than ``k`` non-NaN values.
    numpy.exceptions.AxisError
        If an axis is out of range.

    Notes
    -----
    NaN is ordered as :func:`numpy.sort` orders it: after every other value in both modes, so it
    appears only where a slice has fewer than ``k`` non-NaN values, NaN positions then in
    increasing index order.  NaT (datetime64, timedelta64) and complex numbers with a NaN part
    count as NaN; complex numbers order lexicographically (real part, then imaginary part);
    ``-0.0`` and ``0.0`` are equal.  ``k=1`` gives :func:`argmax` (:func:`argmin`) where the data
    has no NaN, and :func:`nanargmax` (:func:`nanargmin`) on floating data with NaN.

    See Also
    --------
    argtopk, argmax, numpy.argpartition, numpy.sort

    Examples
    --------
    >>> import numpy as np, ooc
    >>> a = np.array([[3, 9, 1, 9, 4], [5, 0, 5, 2, 5]])
    >>> values, indices = ooc.top_k(a, 3)
    >>> values.compute()
    array([[9, 9, 4],
           [5, 5, 5]])
    >>> indices.compute()
    array([[1, 3, 4],
           [0, 2, 4]])
    >>> ooc.top_k(a, 2, axis=0, mode="smallest").indices.compute()
    array([[0, 1, 0, 1, 0],
           [1, 0, 1, 0, 1]])
    >>> ooc.top_k(a, 4, axis=None).indices.compute()   # flat C-order indices
    array([1, 3, 5, 7])

    NaN comes last whatever the mode; ``skipna`` refuses it or fills its places:

    >>> x = np.array([2.0, np.nan, -1.0])
    >>> ooc.top_k(x, 3).values.compute()
    array([ 2., -1., nan])
    >>> ooc.top_k(x, 3, mode="smallest").indices.compute()
    array([2, 0, 1])
    >>> ooc.top_k(x, 3, skipna=True, fill_index=-1).indices.compute()
    array([ 0,  2, -1])
    """
    return _top_k(a, k, axis, mode, skipna, fill_index, split_every, out)


def argtopk(a, k, /, *, axis=-1, mode="largest", skipna=False, fill_index=None,
            split_every=None, out=None):
    """The indices of :func:`top_k`: the ``k`` largest (or smallest) elements' positions.

    Parameters and errors as for :func:`top_k`; returns the lazy indices (``out`` when given).

    Examples
    --------
    >>> import numpy as np, ooc
    >>> ooc.argtopk(np.array([0.5, 3.0, 3.0, -1.0]), 2).compute()
    array([1, 2])
    >>> out = np.empty(2, dtype=np.intp)
    >>> ooc.argtopk(np.array([0.5, 3.0, 3.0, -1.0]), 2, mode="smallest", out=out)
    array([3, 0])
    """
    return _top_k(a, k, axis, mode, skipna, fill_index, split_every, out).indices


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
        Axes to sum over; by default all; ``()`` gives the input itself, as scipy.
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
    >>> from ooc import logsumexp
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
    if _no_axes(axis):   # scipy: nothing to sum, the input itself
        x = _elementwise_input("logsumexp", a)
        return x.astype(lse_steps.result_dtype(x.dtype))
    (out,) = reduce("logsumexp", a, axis, keepdims=keepdims, split_every=split_every)
    return out


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
        Axes the softmax is taken over; by default all; ``()`` gives 1 where ``a`` is finite
        and NaN elsewhere, as scipy.
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
    >>> from ooc import softmax
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
    import dask.array as da

    if _no_axes(axis):   # scipy: exp(a - a) / 1, so 1 where a is finite and NaN elsewhere
        x = _elementwise_input("softmax", a)
        dtype = lse_steps.result_dtype(x.dtype)
        return x.map_blocks(_softmax_of_one, dtype=dtype, meta=np.empty((0,) * x.ndim, dtype))
    x, axes, split_every, zero_d = prepare("softmax", a, axis, split_every)
    shift, denominator = reduce("softmax", x, axes, keepdims=True, split_every=split_every)
    call = Call(axes, tuple(x.shape), x.dtype, keepdims=True)
    dtype = REDUCTIONS["logsumexp"].outputs[0].dtype(x.dtype)
    ind = tuple(range(x.ndim))
    out = da.blockwise(partial(lse_steps.softmax_block, call=call), ind, x, ind, shift, ind,
                       denominator, ind, dtype=dtype,
                       name="ooc-softmax-" + tokenize(x, call.reduced, split_every))
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
    >>> from ooc import soft_argmax
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
    if not math.isfinite(beta):
        raise ValueError(f"beta must be a finite number, got {beta}")
    stack = axis is None or isinstance(axis, (tuple, list))
    (out,) = reduce("soft-argmax", a, axis, split_every=split_every, beta=beta, stack=stack)
    return out


def unravel_index(indices, shape, order="C"):
    """Convert flat indices into a tuple of coordinate arrays, like :func:`numpy.unravel_index`.

    See :func:`ooc.coords.unravel_index`; lazy for a Dask array of indices.

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
    return coords.unravel_index(indices, shape, order)
