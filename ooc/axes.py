"""Which axes a call reduces, how wide its combine tree is, and the shape of its result (a leaf).

numpy's rules for ``axis`` (None, an int or a tuple of ints, negative counted from the end, a
0-d array accepting 0 and -1 as numpy's argmax does) and dask's ``split_every``.
"""
import operator

import numpy as np
from numpy.exceptions import AxisError

__all__ = ["DEFAULT_SPLIT_EVERY", "normalize_axis", "normalize_split_every", "result_shape",
           "keep_shape"]

#: partial results combined per task when neither the caller nor dask's configuration says
DEFAULT_SPLIT_EVERY = 8


def normalize_axis(axis, ndim):
    """The reduced axes, in significance order, from numpy-style ``axis``.

    None means every axis (the flat C-order index); an int or a tuple of ints names axes, negative
    ones counted from the end.  A 0-d array accepts 0 and -1, as numpy's argmax does.

    Examples
    --------
    >>> normalize_axis(None, 3), normalize_axis(-1, 3), normalize_axis((2, 0), 3)
    ((0, 1, 2), (2,), (2, 0))
    """
    n = max(ndim, 1)
    if axis is None:
        return tuple(range(n))
    given = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if isinstance(axis, (tuple, list)) and not given:
        raise ValueError("axis=() names no axis to reduce")
    axes = tuple(operator.index(a) for a in given)
    if any(isinstance(a, (bool, np.bool_)) for a in given):
        raise TypeError("an integer is required for the axis")  # numpy's answer to axis=True
    for a in axes:
        if not -n <= a < n:
            raise AxisError(a, n)
    axes = tuple(a % n for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError("duplicate value in 'axis'")
    return axes


def normalize_split_every(split_every, axes):
    """Partial results combined per task: ``split_every``, else dask's ``split_every``
    configuration when the user set one, else :data:`DEFAULT_SPLIT_EVERY`.

    A dict (dask's per-axis form) gives the smallest value among the reduced axes.

    Examples
    --------
    >>> normalize_split_every(None, (0,)), normalize_split_every({0: 4, 1: 16}, (0, 1))
    (8, 4)
    >>> import dask
    >>> with dask.config.set(split_every=3):
    ...     normalize_split_every(None, (0,))
    3
    """
    if split_every is None:
        import dask

        split_every = dask.config.get("split_every", None)
        if split_every is None:
            return DEFAULT_SPLIT_EVERY
    if isinstance(split_every, dict):
        split_every = min((split_every.get(a, DEFAULT_SPLIT_EVERY) for a in axes),
                          default=DEFAULT_SPLIT_EVERY)
    if isinstance(split_every, bool):
        raise TypeError("split_every must be an integer of at least 2")
    split_every = operator.index(split_every)
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every}")
    return split_every


def keep_shape(shape, axes):
    """``shape`` with the ``axes`` kept as length one."""
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


def result_shape(shape, axes, keepdims):
    """Shape of the reduction of an array of ``shape`` over ``axes``.

    Examples
    --------
    >>> result_shape((4, 5, 6), (0, 2), False), result_shape((4, 5, 6), (1,), True)
    ((5,), (4, 1, 6))
    """
    if keepdims:
        return keep_shape(shape, axes)
    return tuple(n for d, n in enumerate(shape) if d not in axes)
