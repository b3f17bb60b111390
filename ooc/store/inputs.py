"""Opening inputs: what the user passes (numpy, Dask, zarr objects, a path or URL) as a Dask array.

Nothing here computes; a store is opened read-only and read chunk by chunk by
:class:`~ooc.store.decode.ZarrChunkSource` when the graph runs.
"""
from __future__ import annotations

import os
import pathlib
import warnings

import numpy as np

from ..errors import StoreError
from .codecs import check_array, explain_unreadable
from .decode import ZarrChunkSource, native_chunks
from .locations import display, open_store, store_url

__all__ = ["open", "open_node", "array_paths", "as_dask_array", "source_of", "source_of_layer"]


# dask array name -> (store url, path inside the store); filled by open(), read by source_of().
_SOURCES: dict[str, tuple[str, str | None]] = {}


def source_of_layer(name):
    """``(store url, path)`` of the array :func:`open` made with graph layer ``name``, or None."""
    return _SOURCES.get(name)


def open_node(store, path, storage_options=None, allow_unsafe_codecs=False):
    """Open the Zarr array at ``path`` in ``store``, read-only. Returns (zarr.Array, url, path)."""
    import zarr

    st, url = open_store(store, storage_options)
    path = (path or "").strip("/") or None
    with warnings.catch_warnings():
        # zarr warns that consolidated metadata is not part of the format 3 spec; reading it is fine.
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        try:
            node = zarr.open(store=st, mode="r")
        except (FileNotFoundError, KeyError) as e:
            node = None
            root_error = e
        except Exception as e:
            unsafe = explain_unreadable(st, path, url + (f" [{path}]" if path else ""))
            if unsafe is not None and not allow_unsafe_codecs:
                raise unsafe from e
            raise StoreError(f"{url}: cannot read Zarr metadata: {type(e).__name__}: {e}") from e
        if node is None:
            if path is None:
                raise StoreError(f"{url}: no Zarr array or group found ({root_error or 'no metadata'})")
            try:
                node = zarr.open_array(store=st, mode="r", path=path)
            except Exception as e:
                unsafe = explain_unreadable(st, path, f"{url} [{path}]")
                if unsafe is not None and not allow_unsafe_codecs:
                    raise unsafe from e
                raise StoreError(f"{url}: no Zarr array at path {path!r}") from e
            return node, url, path
        if path is not None:
            if isinstance(node, zarr.Array):
                raise StoreError(f"{url}: the store holds a single array; there is no path {path!r} in it")
            try:
                node = node[path]
            except KeyError:
                try:  # not in (possibly stale) consolidated metadata: look at the path itself
                    node = zarr.open(store=st, mode="r", path=path)
                except Exception:
                    raise StoreError(f"{url}: no array {path!r} in the group; arrays: "
                                     f"{', '.join(array_paths(node)) or 'none'}") from None
            except Exception as e:  # metadata zarr cannot parse
                unsafe = explain_unreadable(st, path, f"{url} [{path}]")
                if unsafe is not None and not allow_unsafe_codecs:
                    raise unsafe from e
                raise StoreError(f"{url} [{path}]: cannot read Zarr metadata: {type(e).__name__}: "
                                 f"{' '.join(str(e).split())}") from e
        if isinstance(node, zarr.Group):
            arrays = array_paths(node)
            where = f"{url}" + (f" (group {path!r})" if path else "")
            if len(arrays) != 1:
                raise StoreError(f"{where}: is a group; choose one of its arrays with path= "
                                 f"(--path): {', '.join(arrays) or 'none'}")
            sub = arrays[0]
            node = node[sub]
            path = f"{path}/{sub}" if path else sub
    return node, url, path


def array_paths(group) -> list[str]:
    import zarr
    out = []
    try:
        for name, member in group.members(max_depth=None):
            if isinstance(member, zarr.Array):
                out.append(name)
    except Exception:  # a store that cannot be listed (plain HTTP without consolidated metadata)
        return []
    return sorted(out)


def _normalize_chunks(z, chunks) -> tuple[int, ...]:
    """Dask chunk sizes per axis: the store's chunks, or whole multiples of them."""
    native = native_chunks(z)
    if chunks is None:
        return native
    import dask.array as da
    if isinstance(chunks, str):
        if chunks != "auto":
            raise ValueError(f"chunks must be None, 'auto', an int or a tuple, not {chunks!r}")
        norm = da.core.normalize_chunks("auto", z.shape, dtype=z.dtype, previous_chunks=native)
        sizes = tuple(c[0] if c else 0 for c in norm)
        # round down to whole multiples of the stored chunks (at least one stored chunk)
        return tuple(max(n, (s // n) * n) if s < dim else dim
                     for s, n, dim in zip(sizes, native, z.shape))
    if isinstance(chunks, (int, np.integer)):
        chunks = (int(chunks),) * len(z.shape)
    chunks = tuple(chunks)
    if len(chunks) != len(z.shape):
        raise ValueError(f"chunks {chunks} has {len(chunks)} entries for a {len(z.shape)}-d array")
    out = []
    for axis, (c, n, dim) in enumerate(zip(chunks, native, z.shape)):
        c = dim if c in (-1, None) else int(c)
        if c >= dim:
            c = max(dim, 1)
        elif c <= 0 or c % n:
            raise ValueError(f"chunks[{axis}]={c} is not a whole multiple of the stored chunk size {n}: "
                             "each stored chunk would be decoded more than once")
        out.append(c)
    return tuple(out)


def open(store, path=None, *, chunks=None, storage_options=None, fast=True,  # noqa: A001
         allow_unsafe_codecs=False):
    """Open one Zarr array as a lazy, read-only Dask array.

    Parameters
    ----------
    store : str, pathlib.Path, zarr store, zarr.Array or zarr.Group
        A local directory store, a ``.zip`` store, or an fsspec URL (``file://``, ``http(s)://``,
        ``s3://`` with the ``s3`` extra, ``memory://``...).  Zarr formats 2 and 3 are read, and
        consolidated metadata is used where the store has it.  The store is opened read-only.
    path : str, optional
        Path of the array inside a group.  May be omitted when the store holds exactly one array.
    chunks : None, "auto", int or tuple of int, optional
        Dask chunk shape.  ``None`` (default) uses the store's own chunks (the shards of a sharded
        array); a tuple gives per-axis sizes that must be whole multiples of them (``-1`` for a whole
        axis); ``"auto"`` picks such multiples near Dask's ``array.chunk-size``.
    storage_options : dict, optional
        Passed to fsspec for URLs (credentials, headers...).
    fast : bool, optional
        Decode whole stored chunks directly with numcodecs where the layout allows (default True);
        ``False`` reads everything through zarr.
    allow_unsafe_codecs : bool, optional
        Read arrays whose codecs are not on ooc's safe list (see :mod:`ooc.store.codecs`), e.g. pickle,
        which runs code stored in the chunks.  Default False: such stores raise
        :class:`ooc.errors.UnsafeStoreError` before any chunk is read.

    Returns
    -------
    dask.array.Array
        Lazy array; computing it reads the store chunk by chunk.

    Raises
    ------
    StoreError
        If the store does not exist, is not Zarr, or ``path`` names no array; the message names the
        store.

    Examples
    --------
    >>> import numpy as np, zarr, ooc
    >>> g = zarr.open_group("memory://doc-open", mode="w")
    >>> z = g.create_array("t", shape=(6, 8), chunks=(3, 4), dtype="f4")
    >>> z[:] = np.arange(48, dtype="f4").reshape(6, 8)
    >>> a = ooc.open("memory://doc-open", path="t")
    >>> a
    dask.array<ooc-zarr-t, shape=(6, 8), dtype=float32, chunksize=(3, 4), chunktype=numpy.ndarray>
    >>> int(a.argmax().compute())
    47
    >>> ooc.open("memory://doc-open", path="t", chunks=(6, 8)).chunks
    ((6,), (8,))
    """
    import dask.array as da
    import zarr
    from dask.base import tokenize

    if isinstance(store, zarr.Array):
        if path is not None:
            raise StoreError(f"{display(store)}: path= is only valid for a group or store")
        z, url, apath = store, display(store), None
    elif isinstance(store, zarr.Group):
        z, url, apath = open_node(store.store_path.store, "/".join(
            p for p in (store.store_path.path, path) if p), storage_options, allow_unsafe_codecs)
    else:
        z, url, apath = open_node(store, path, storage_options, allow_unsafe_codecs)
    check_array(z, url + (f" [{apath}]" if apath else ""), allow_unsafe_codecs)
    if any(c < 1 and n > 0 for c, n in zip(native_chunks(z), z.shape)):
        raise StoreError(f"{url}{f' [{apath}]' if apath else ''}: invalid chunk shape "
                         f"{native_chunks(z)} for shape {tuple(z.shape)} in the metadata")
    dchunks = _normalize_chunks(z, chunks)
    src = ZarrChunkSource(z, fast=fast)
    meta_json = _metadata_token(z)
    label = (apath or pathlib.PurePosixPath(url.rstrip("/")).name or "array").replace("/", "-")
    name = f"ooc-zarr-{label}-" + tokenize(url, apath, dchunks, meta_json, fast)
    a = da.from_array(src, chunks=dchunks, name=name, lock=False, asarray=False, fancy=False,
                      meta=np.empty((0,) * len(z.shape), dtype=src.dtype), inline_array=True)
    _SOURCES[a.name] = (url, apath)
    return a


def _metadata_token(z):
    try:
        return repr(z.metadata.to_dict())
    except Exception:  # pragma: no cover
        return repr((z.shape, z.dtype, z.chunks))


def source_of(a):
    """Return ``(store url, path)`` of an array made by :func:`open`, else ``(None, None)``.

    Examples
    --------
    >>> import zarr, ooc
    >>> _ = zarr.create_array("memory://doc-src", shape=(4,), chunks=(2,), dtype="i1", overwrite=True)
    >>> ooc.store.source_of(ooc.open("memory://doc-src"))
    ('memory://doc-src', None)
    """
    name = getattr(a, "name", None)
    if isinstance(name, str) and name in _SOURCES:
        return _SOURCES[name]
    try:
        import zarr
        if isinstance(a, zarr.Array):
            return store_url(a.store_path.store), (a.store_path.path or None)
    except Exception:  # pragma: no cover
        pass
    return None, None


def _array_like(a) -> bool:
    """numpy's other array_likes: ``range``, objects with ``__array__`` or the array interface
    (pandas Series...), and buffers (``array.array``, ``memoryview``)."""
    if isinstance(a, range) or any(hasattr(a, n) for n in (
            "__array__", "__array_interface__", "__array_struct__")):
        return True
    try:
        memoryview(a)
    except TypeError:
        return False
    return True


#: numpy arrays up to this size are named by hashing their contents, larger ones by identity
HASHED_BYTES = 1 << 20


def _from_numpy(a, chunks):
    """A Dask array whose blocks are views of ``a``.

    Unlike ``dask.array.from_array`` this does not copy ``a``, and names an array of more than
    :data:`HASHED_BYTES` from its identity (memory, shape, strides and dtype) instead of hashing
    its bytes (each a pass over the data as long as the reduction itself); smaller ones are named
    by their contents, so the same data gets the same name in every process.  The graph reads
    ``a`` when it is computed, as a numpy view would.
    """
    import itertools

    import dask.array as da
    from dask.base import tokenize

    chunks = da.core.normalize_chunks(chunks, a.shape, dtype=a.dtype)
    if a.nbytes <= HASHED_BYTES:
        name = f"ooc-numpy-{tokenize(a, chunks)}"
    else:
        identity = (a.__array_interface__["data"][0], id(a.base if a.base is not None else a),
                    a.shape, a.strides, a.dtype.str, chunks)
        name = f"ooc-numpy-{tokenize(*identity)}"
    keys = itertools.product([name], *(range(len(c)) for c in chunks))
    dsk = {k: a[s] for k, s in zip(keys, da.core.slices_from_chunks(chunks))}
    return da.Array(dsk, name, chunks, meta=np.empty((0,) * a.ndim, dtype=a.dtype))


def slab_chunks(a, target=None):
    """Dask chunks that cut a numpy array into contiguous slabs of about ``target`` bytes.

    A C-contiguous array is cut along its first axes (whole rows of the last ones), an
    F-contiguous one along its last; the target is dask's ``array.chunk-size`` but small enough to
    give every core about four blocks.  Other layouts get dask's ``"auto"`` chunks.

    Examples
    --------
    >>> slab_chunks(np.zeros((1024, 1024), np.float32), target=2**20)
    ((256, 256, 256, 256), (1024,))
    >>> slab_chunks(np.zeros((4, 2**20), np.float64), target=2**20)
    ((1, 1, 1, 1), (131072, 131072, 131072, 131072, 131072, 131072, 131072, 131072))
    """
    import dask
    import dask.array as da
    from dask.utils import parse_bytes

    if a.ndim == 0 or a.size == 0:
        return "auto"
    if target is None:
        target = parse_bytes(dask.config.get("array.chunk-size", "128MiB"))
        target = max(2**20, min(target, a.nbytes // (4 * (os.cpu_count() or 1))))
    if a.flags.c_contiguous:
        shape = a.shape
    elif a.flags.f_contiguous:
        shape = a.shape[::-1]
    else:
        return "auto"
    sizes = []
    inner = a.itemsize
    cut = None
    for d in range(len(shape) - 1, -1, -1):     # the innermost axes that fit stay whole
        if inner * shape[d] > target:
            cut = d
            break
        inner *= shape[d]
    for d, n in enumerate(shape):
        if cut is None or d > cut:
            sizes.append(n)
        elif d < cut:
            sizes.append(1)
        else:
            sizes.append(max(1, target // inner))
    chunks = da.core.normalize_chunks(tuple(sizes), shape)
    return chunks if a.flags.c_contiguous else chunks[::-1]


def as_dask_array(a, *, chunks=None):
    """Return ``a`` as a dask.array.Array without reading its data.

    Parameters
    ----------
    a : array_like, dask.array.Array, zarr.Array, str or pathlib.Path
        numpy arrays (and numpy's other array_likes: lists, scalars, ``range``, buffers, objects
        with ``__array__`` such as pandas Series) are wrapped with ``chunks`` (default ``"auto"``); Dask
        arrays pass through (rechunked only when ``chunks`` is given); a zarr.Array is read one Dask
        chunk per stored chunk (see :func:`open`); a path or URL string, or a ``pathlib.Path``, is
        opened with :func:`open` (it must then hold exactly one array, else use :func:`open` with
        ``path=``).
    chunks : optional
        See above.

    Returns
    -------
    dask.array.Array

    Examples
    --------
    >>> import numpy as np
    >>> as_dask_array(np.arange(6).reshape(2, 3), chunks=(1, 3)).chunks
    ((1, 1), (3,))
    """
    import dask.array as da

    if isinstance(a, da.Array):
        return a if chunks is None else a.rechunk(chunks)
    try:
        import zarr
    except ImportError:  # pragma: no cover - zarr is a dependency
        zarr = None
    if zarr is not None and isinstance(a, (zarr.Array, zarr.Group)):
        return open(a, chunks=chunks)
    if isinstance(a, (str, os.PathLike)):
        return open(a, chunks=chunks)
    if zarr is not None:
        from zarr.abc.store import Store
        if isinstance(a, Store):
            return open(a, chunks=chunks)
    if isinstance(a, np.ndarray) or np.isscalar(a) or isinstance(a, (list, tuple)) \
            or _array_like(a):
        a = np.asarray(a)
        if chunks is None:  # dask cannot size "auto" chunks of objects: one chunk (refused later)
            chunks = -1 if a.dtype.hasobject or a.dtype.kind == "T" else slab_chunks(a)
        return _from_numpy(a, chunks)
    raise TypeError(f"ooc cannot reduce an object of type {type(a).__name__}: "
                    "pass a numpy array, a Dask array, a zarr.Array or a store path")
