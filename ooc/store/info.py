"""Describing an array of a store without reading its chunks (``ooc info``)."""
from __future__ import annotations

import math

import numpy as np

from .codecs import unsafe_codecs
from .inputs import array_paths, open_node
from .locations import open_store
from .results import status

__all__ = ["info"]


def _codec_names(z) -> list[str]:
    from zarr.core.metadata.v2 import ArrayV2Metadata
    meta = z.metadata
    if isinstance(meta, ArrayV2Metadata):
        out = [repr(f) for f in (meta.filters or ())]
        out.append(repr(meta.compressor) if meta.compressor is not None else "no compressor")
        return out
    return [_codec_str(c) for c in meta.codecs]


def _codec_str(codec) -> str:
    """``zstd(level=3, checksum=False)`` for a v3 codec object."""
    try:
        d = codec.to_dict()
        conf = d.get("configuration") or {}
        inner = ", ".join(f"{k}={v}" for k, v in conf.items()
                          if k not in ("codecs", "index_codecs"))
        if "codecs" in conf:
            inner += (", " if inner else "") + "codecs=[" + ", ".join(
                f"{c['name']}" for c in conf["codecs"]) + "]"
        return f"{d['name']}({inner})"
    except Exception:  # pragma: no cover
        return repr(codec)


def _plain_fill(fill):
    """The fill value as a JSON-able Python value: numbers as they are (non-finite floats as
    'nan', 'inf'), datetimes and timedeltas in numpy's words, bytes as latin-1 text."""
    if isinstance(fill, (np.datetime64, np.timedelta64)):
        return str(fill)
    if isinstance(fill, (bytes, np.bytes_)):
        return bytes(fill).decode("latin-1")
    try:
        fill = fill.item()
    except AttributeError:
        return fill
    if isinstance(fill, float) and not math.isfinite(fill):
        return str(fill)
    if isinstance(fill, complex):
        return str(fill)
    if isinstance(fill, bytes):
        return fill.decode("latin-1")
    return fill


def info(store, path=None, *, storage_options=None) -> dict:
    """Describe one array of a store without reading its chunks' contents.

    Returns a dict with ``store``, ``path``, ``zarr_format``, ``shape``, ``dtype``, ``chunks``,
    ``shards``, ``codecs``, ``fill_value`` (JSON-able: datetimes and bytes as text),
    ``nchunks``, ``nchunks_stored``, ``logical_bytes``,
    ``stored_bytes`` (``None`` where the store cannot list its keys, e.g. plain HTTP),
    ``arrays`` (all arrays of the store when it is a group), ``status`` (``"complete"`` or
    ``"incomplete"`` for an ooc result, see :mod:`ooc.store.results`, else None) and ``unsafe_codecs``
    (codecs ooc refuses to decode without ``allow_unsafe_codecs``).

    Examples
    --------
    >>> import zarr
    >>> z = zarr.create_array("memory://doc-info", shape=(10, 10), chunks=(5, 5), dtype="u1",
    ...                   overwrite=True)
    >>> z[:5] = 1
    >>> d = info("memory://doc-info")
    >>> d["shape"], d["chunks"], d["nchunks"], d["nchunks_stored"], d["logical_bytes"]
    ([10, 10], [5, 5], 4, 2, 100)
    """
    import zarr

    z, url, apath = open_node(store, path, storage_options)
    try:
        stored_n = int(z.nchunks_initialized)
    except Exception:
        stored_n = None
    try:
        stored = int(z.nbytes_stored())
    except Exception:
        stored = None
    arrays = []
    try:
        root = zarr.open(store=open_store(store, storage_options)[0], mode="r")
        if isinstance(root, zarr.Group):
            arrays = array_paths(root)
    except Exception:
        pass
    try:
        unsafe = unsafe_codecs(z.metadata.to_dict())
    except Exception:  # pragma: no cover
        unsafe = []
    fill = _plain_fill(z.fill_value)
    return {
        "store": url,
        "path": apath,
        "zarr_format": z.metadata.zarr_format,
        "shape": list(z.shape),
        "dtype": str(np.dtype(z.dtype)),
        "chunks": list(z.chunks),
        "shards": list(z.shards) if getattr(z, "shards", None) else None,
        "codecs": _codec_names(z),
        "fill_value": fill,
        "nchunks": int(z.nchunks),
        "nchunks_stored": stored_n,
        "logical_bytes": int(z.nbytes),
        "stored_bytes": stored,
        "arrays": arrays,
        "status": status(z.attrs),
        "unsafe_codecs": unsafe,
    }
