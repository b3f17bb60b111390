"""Coordinates from flat indices (placeholder, replaced by the exact divmod version)."""
import operator

import numpy as np
from dask.base import tokenize

__all__ = ["unravel_index"]


def _unravel_block(block, shape, dim, order):
    return np.unravel_index(block, shape, order=order)[dim]


def unravel_index(indices, shape, order="C"):
    """Like :func:`numpy.unravel_index`; lazy for a Dask array of indices."""
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
