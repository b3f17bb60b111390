"""ooc: out-of-core argmax-family reductions over Zarr and Dask arrays.

Exactly numpy's answers, from Cython ``nogil`` kernels that make one pass over each chunk and a
tree of (value, global index) pairs across Dask chunks.
"""
from . import accessor  # noqa: F401 - registers DataArray.ooc once xarray is imported
from .api import (argmax, argmin, argtopk, logsumexp, max_argmax, min_argmin, nanargmax,
                  nanargmin, soft_argmax, softmax, take_at_argmax, take_at_argmin, top_k,
                  unravel_index)
from .errors import StoreError
from .runtime import scheduler_context
from .store import create_result, info, open  # noqa: A004 - ooc.open, like zarr.open
from .version import __version__

__all__ = ["argmax", "argmin", "nanargmax", "nanargmin", "max_argmax", "min_argmin",
           "take_at_argmax", "take_at_argmin", "unravel_index", "logsumexp", "softmax",
           "soft_argmax", "top_k", "argtopk", "open", "create_result", "info", "StoreError",
           "scheduler_context", "__version__"]
