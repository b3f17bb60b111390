"""Store I/O: opening inputs read-only, reading their chunks, and the life of result arrays.

* :mod:`~ooc.store.locations`: where a store is (paths, URLs, zip files, store objects);
* :mod:`~ooc.store.codecs`: which codecs ooc decodes (the safe-codec policy);
* :mod:`~ooc.store.decode`: the fast chunk reader;
* :mod:`~ooc.store.inputs`: anything the user passes, as a lazy read-only Dask array;
* :mod:`~ooc.store.results`: result arrays, from creation to the complete mark;
* :mod:`~ooc.store.info`: what ``ooc info`` shows.

This package only opens and writes stores; it never computes a reduction.
"""
from ..errors import StoreError, StoreNotFoundError, UnsafeStoreError
from .codecs import SAFE_CODECS_V2, SAFE_CODECS_V3, unsafe_codecs
from .decode import ZarrChunkSource
from .info import info
from .inputs import as_dask_array, open, source_of  # noqa: A004 - ooc.open, like zarr.open
from .locations import same_store
from .results import create_result, is_incomplete, mark_complete, mark_incomplete, status

__all__ = ["open", "as_dask_array", "source_of", "create_result", "info", "same_store",
           "ZarrChunkSource", "StoreError", "StoreNotFoundError", "UnsafeStoreError",
           "SAFE_CODECS_V2", "SAFE_CODECS_V3", "unsafe_codecs", "is_incomplete",
           "mark_incomplete", "mark_complete", "status"]
