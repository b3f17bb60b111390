"""ooc: out-of-core argmax-family reductions over Zarr and Dask arrays.

Exactly numpy's answers, from Cython ``nogil`` kernels that make one pass over each chunk and a
tree of (value, global index) pairs across Dask chunks.
"""
from importlib.metadata import PackageNotFoundError, version as _version

from .api import (argmax, argmin, max_argmax, min_argmin, nanargmax, nanargmin,
                  take_at_argmax, take_at_argmin, unravel_index)
from .smooth import logsumexp, soft_argmax, softmax
from .store import StoreError, create_result, open  # noqa: A004 - ooc.open, like zarr.open
from . import accessor as _accessor  # noqa: F401  DataArray.ooc once xarray is imported

try:
    __version__ = _version("ooc")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["argmax", "argmin", "nanargmax", "nanargmin", "max_argmax", "min_argmin",
           "take_at_argmax", "take_at_argmin", "unravel_index", "logsumexp", "softmax",
           "soft_argmax", "open", "create_result", "StoreError", "__version__"]
