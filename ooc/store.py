"""Store I/O: turn what the user passes (numpy, Dask, zarr.Array, a path or URL) into a Dask array.

This module only opens and writes stores; it never computes a reduction.
"""
import numpy as np


def as_dask_array(a, *, chunks=None):
    """Return ``a`` as a dask.array.Array without reading its data.

    numpy arrays are wrapped with ``chunks`` (default ``"auto"``); zarr arrays become one Dask chunk per
    Zarr chunk (or ``chunks``); Dask arrays pass through (rechunked only when ``chunks`` is given).
    """
    import dask.array as da

    if isinstance(a, da.Array):
        return a if chunks is None else a.rechunk(chunks)
    try:
        import zarr
    except ImportError:  # pragma: no cover - zarr is a dependency
        zarr = None
    if zarr is not None and isinstance(a, zarr.Array):
        return da.from_array(a, chunks=a.chunks if chunks is None else chunks, lock=False, asarray=True)
    if isinstance(a, np.ndarray) or np.isscalar(a) or isinstance(a, (list, tuple)):
        a = np.asarray(a)
        return da.from_array(a, chunks="auto" if chunks is None else chunks)
    raise TypeError(f"ooc cannot reduce an object of type {type(a).__name__}: "
                    "pass a numpy array, a Dask array, a zarr.Array or a store path")
