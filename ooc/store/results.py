"""The life of a result array: created, marked incomplete, written one task per stored object,
marked complete; resumed after an interruption, removed after a failure, zipped.

An output array is marked incomplete in its attributes (``attrs["ooc"]["complete"] = False``)
before its first chunk is written and marked complete only after the last one.  A failure or
Ctrl-C in between leaves the mark; ``ooc info`` shows it, and running the same command again
rewrites the array and marks it complete.
"""
from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np

from ..axes import normalize_axis
from ..errors import OutputLocationError, StoreError
from ..version import __version__
from .inputs import source_of
from .locations import display, local_path, same_store

__all__ = ["create_result", "create_or_resume", "chunk_sizes", "result_layout", "check_out",
           "aligned", "writing", "is_incomplete", "mark_incomplete", "mark_complete", "status",
           "output_target", "remove_arrays", "check_output_location", "new_result"]


def _norm_axis(axis, ndim):
    """None, or the tuple of reduced axes (an int or a tuple of ints, numpy's rules)."""
    if axis is None:
        return None
    return normalize_axis(axis, ndim)


def chunk_sizes(like):
    chunks = getattr(like, "chunks", None)
    if chunks is None:
        return tuple(like.shape)
    if chunks and isinstance(chunks[0], tuple):   # dask: tuple of tuples
        return tuple(max(c[0], 1) if c else 1 for c in chunks)
    return tuple(chunks)


def create_result(store, like, *, function="argmax", axis=None, keepdims=False, path=None,
                  dtype=None, overwrite=False, source=None, zarr_format=3, compressors="auto",
                  storage_options=None, attrs=None):
    """Create the Zarr array that a reduction of ``like`` along ``axis`` is stored into.

    The array has the reduced shape, dtype ``intp`` (or ``dtype``), and chunks that follow ``like``'s
    chunk grid on the kept axes, so ``ooc.argmax(a, axis, out=result)`` writes it chunk by chunk
    without two tasks ever touching the same stored chunk.  Its attributes record what is computed:
    ``attrs["ooc"]`` holds function, axis, keepdims, source store and path, source shape, dtype
    and chunks, and the ooc version.  ``attrs["ooc"]["complete"]`` is False until an ooc function
    has written the whole result through ``out=`` (see :func:`writing`), so an interrupted write
    never looks finished.

    Parameters
    ----------
    store : str, pathlib.Path or zarr store
        Where to write: a local directory, a ``.zip`` path or an fsspec URL.  Must not be, contain or
        lie inside the input store.  A ``.zip`` is only complete once ``result.store.close()``
        has been called; to put several arrays into one zip, open one
        ``zarr.storage.ZipStore(path, mode="w")`` and pass it for each.
    like : dask.array.Array or zarr.Array
        The input of the reduction (its shape and chunks are used).
    function : str
        Name of the reduction, recorded in the attributes.
    axis : int, tuple of ints or None
        Reduced axis or axes (``None`` gives a 0-d result).
    keepdims : bool
        Keep the reduced axis with length 1.
    path : str, optional
        Array path inside ``store`` (default: the store root).
    dtype : numpy dtype, optional
        Default ``numpy.intp``; pass the input dtype for the values of ``max_argmax``.
    overwrite : bool
        Replace an existing array at ``store``/``path``.
    source : tuple (url, path), optional
        Override the recorded source (default: found from ``like``).
    zarr_format : {2, 3}
    compressors : optional
        zarr compressors (default: zarr's default, zstd).
    storage_options : dict, optional
        fsspec options for URL stores.
    attrs : dict, optional
        More entries for ``attrs["ooc"]`` (e.g. ``{"role": "values"}``).

    Returns
    -------
    zarr.Array
        Opened for writing.

    Raises
    ------
    StoreError
        If ``store`` is the input store (or inside it), or exists and ``overwrite`` is false.

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.zeros((4, 100, 60), chunks=(2, 50, 30))
    >>> r = create_result("memory://doc-result", x, axis=0, overwrite=True)
    >>> r.shape, r.chunks, r.dtype == np.intp
    ((100, 60), (50, 30), True)
    >>> r.attrs["ooc"]["function"], r.attrs["ooc"]["axis"]
    ('argmax', 0)
    >>> create_result("memory://doc-result0", x, overwrite=True).shape
    ()
    """
    import zarr

    ndim = len(like.shape)
    axis = _norm_axis(axis, ndim)
    src_url, src_path = source if source is not None else source_of(like)
    if src_url is not None and not src_url.startswith("<") and same_store(store, src_url):
        raise StoreError(f"{display(store)}: refusing to write the result into the input store "
                         f"{src_url}")
    sizes = chunk_sizes(like)
    if axis is None:
        shape = (1,) * ndim if keepdims else ()
        chunks = shape
    else:
        shape = tuple(1 if i in axis else n for i, n in enumerate(like.shape))
        chunks = tuple(1 if i in axis else max(1, min(c, n)) for i, (c, n) in
                       enumerate(zip(sizes, like.shape)))
        if not keepdims:
            shape = tuple(n for i, n in enumerate(shape) if i not in axis)
            chunks = tuple(c for i, c in enumerate(chunks) if i not in axis)
    chunks = tuple(max(1, c) for c in chunks)
    attrs = {"ooc": {
        "function": function,
        "axis": None if axis is None else axis[0] if len(axis) == 1 else list(axis),
        "keepdims": bool(keepdims),
        "source_store": src_url,
        "source_path": src_path,
        "source_shape": list(like.shape),
        "source_dtype": str(np.dtype(like.dtype)),
        "source_chunks": list(sizes),
        "version": __version__,
        "complete": False,  # until the whole result is written (see writing())
        **(attrs or {}),
    }}
    local = local_path(store) if isinstance(store, (str, os.PathLike)) else None
    if local is not None:
        local = os.path.expanduser(local)   # as the location checks above read it
        if local.endswith(".zip"):
            target = zarr.storage.ZipStore(local, mode="w" if overwrite else "a")
        else:
            target = local
    else:
        target = store
    try:
        return zarr.create_array(target, name=path, shape=shape, chunks=chunks,
                                 dtype=np.dtype(dtype) if dtype is not None else np.intp,
                                 fill_value=0, zarr_format=zarr_format, compressors=compressors,
                                 attributes=attrs, overwrite=overwrite, storage_options=storage_options
                                 if local is None and isinstance(store, str) else None)
    except zarr.errors.ContainsArrayError:
        raise StoreError(f"{display(store)}: an array already exists at "
                         f"{path or 'the store root'} (pass overwrite=True / --overwrite)") from None
    except zarr.errors.ContainsGroupError:
        raise StoreError(f"{display(store)}: a group already exists at "
                         f"{path or 'the store root'}; pass another path") from None


# --------------------------------------------------------------------------------------------------
# incomplete marks

def is_incomplete(z) -> bool:
    """True if zarr array ``z`` carries ooc's incomplete mark."""
    meta = z.attrs.get("ooc") if hasattr(z, "attrs") else None
    return isinstance(meta, dict) and meta.get("complete") is False


def status(attrs) -> str | None:
    """``"complete"``, ``"incomplete"`` or None (not an ooc result) from an attributes mapping."""
    meta = attrs.get("ooc") if attrs is not None else None
    if not isinstance(meta, dict) or "complete" not in meta:
        return None
    return "complete" if meta["complete"] else "incomplete"


def _set_complete(z, value: bool) -> None:
    meta = dict(z.attrs.get("ooc") or {})
    if meta.get("complete") is value:
        return
    meta["complete"] = value
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Duplicate name")  # zip: the last entry wins
        z.attrs.update({"ooc": meta})


def mark_incomplete(z) -> None:
    """Mark ``z`` incomplete (before writing its first chunk)."""
    _set_complete(z, False)


def mark_complete(z) -> None:
    """Mark ``z`` complete (after its last chunk was written)."""
    _set_complete(z, True)


def _is_zarr_array(z) -> bool:
    try:
        import zarr
    except ImportError:  # pragma: no cover
        return False
    return isinstance(z, zarr.Array)


@contextlib.contextmanager
def writing(*arrays):
    """Mark the zarr arrays among ``arrays`` incomplete for the duration of the block and complete
    when it finishes without an exception; numpy arrays are left alone."""
    targets = [z for z in arrays if _is_zarr_array(z)]
    for z in targets:
        mark_incomplete(z)
    yield
    for z in targets:
        mark_complete(z)

_LAYOUT_IGNORED = ("version", "complete")


def _open_existing(store, path):
    """The zarr array at ``store``/``path`` opened for writing, or None if there is none."""
    import os

    import zarr
    if isinstance(store, zarr.storage.ZipStore):
        return None  # a zip entry cannot be rewritten in place: only --overwrite replaces it
    if isinstance(store, (str, os.PathLike)) and "://" not in os.fspath(store) \
            and not os.path.exists(os.fspath(store)):
        return None
    try:
        return zarr.open_array(store, path=path, mode="r+")
    except Exception:
        return None


def create_or_resume(store, like, *, path=None, overwrite=False, **kwargs):
    """:func:`create_result`, or the incomplete result an interrupted run of the same
    computation left at ``store``/``path`` (reopened for writing, still marked incomplete).

    Returns ``(array, created)``.  An incomplete array of a different computation (other function,
    axis, input...) is refused unless ``overwrite``; a complete one is refused by create_result.
    """
    import zarr

    if not overwrite:
        old = _open_existing(store, path)
        if old is not None and is_incomplete(old):
            want = create_result(zarr.storage.MemoryStore(), like, overwrite=True, **kwargs)
            same = (tuple(old.shape) == tuple(want.shape) and old.dtype == want.dtype
                    and tuple(old.chunks) == tuple(want.chunks)
                    and {k: v for k, v in old.attrs["ooc"].items() if k not in _LAYOUT_IGNORED}
                    == {k: v for k, v in want.attrs["ooc"].items() if k not in _LAYOUT_IGNORED})
            where = display(store) + (f" [{path}]" if path else "")
            if not same:
                raise StoreError(f"{where}: holds an incomplete ooc result of a different "
                                 "computation; pass --overwrite (overwrite=True) to replace it")
            return old, False
    return create_result(store, like, path=path, overwrite=overwrite, **kwargs), True


# --------------------------------------------------------------------------------------------------
# writing a lazy result into an output array

def result_layout(like, axes, keepdims):
    """``(shape, chunks)`` of the result of reducing ``like`` over ``axes``: the chunks follow
    ``like``'s grid on the kept axes."""
    shape, chunks = [], []
    for d, (n, c) in enumerate(zip(like.shape, chunk_sizes(like))):
        if d not in axes:
            shape.append(n)
            chunks.append(max(1, min(c, n)))
        elif keepdims:
            shape.append(1)
            chunks.append(1)
    return tuple(shape), tuple(chunks)


def check_out(out, shape, dtype=np.intp):
    """Refuse an ``out=`` argument that is not a writable numpy or zarr array of ``shape`` and
    ``dtype``, before anything is computed."""
    if not hasattr(out, "shape") or not hasattr(out, "dtype") or hasattr(out, "dask"):
        raise TypeError(f"out must be a numpy array or a zarr.Array, not {type(out).__name__}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"out has shape {tuple(out.shape)}, the result has shape {tuple(shape)}")
    if np.dtype(out.dtype) != np.dtype(dtype):
        raise ValueError(f"out has dtype {np.dtype(out.dtype)}, the result needs {np.dtype(dtype)}")
    if isinstance(out, np.ndarray):
        if not out.flags.writeable:
            raise ValueError("out is read-only")
    elif getattr(out, "read_only", False):
        raise ValueError("out is a read-only zarr array; open its store in write mode")


def aligned(lazy, z):
    """``lazy`` rechunked to the chunks of zarr array ``z`` where they differ: then no two tasks
    write into the same stored chunk.  numpy outputs take ``lazy`` as it is."""
    import dask.array as da

    chunks = getattr(z, "chunks", None)
    if isinstance(z, np.ndarray) or chunks is None or lazy.ndim == 0:
        return lazy
    if lazy.chunks != da.core.normalize_chunks(chunks, lazy.shape):
        return lazy.rechunk(chunks)
    return lazy


@contextlib.contextmanager
def output_target(out, overwrite=False):
    """The store object to create result arrays in, for a ``--out`` path or URL; yields
    ``(target, created)`` where the caller appends the arrays it creates to ``created``.

    A ``.zip`` path is opened once as a ZipStore for everything written and closed at the end
    (that writes the zip directory).  On failure the arrays are left marked incomplete, so that
    rerunning completes them, except that arrays created for an input that cannot be read (a
    StoreError: rerunning cannot succeed until the input is repaired) are removed, and a new zip,
    which is unusable unless complete, is deleted.
    """
    target = out
    new_zip = False
    if str(out).endswith(".zip"):
        import zarr
        new_zip = overwrite or not os.path.exists(out)
        target = zarr.storage.ZipStore(out, mode="w" if overwrite else "a")
    created = []
    error = None
    try:
        yield target, created
    except BaseException as e:
        error = e
        raise
    finally:
        if target is not out:
            target.close()
            if error is not None and new_zip:
                with contextlib.suppress(OSError):
                    os.remove(out)
        elif isinstance(error, StoreError):
            remove_arrays(created)


def remove_arrays(arrays):
    """Delete zarr arrays: their metadata first (then nothing looks like an array), then chunks."""
    from zarr.core.sync import sync
    for z in arrays:
        store, prefix = z.store_path.store, z.store_path.path.strip("/")
        with contextlib.suppress(Exception):
            for meta in ("zarr.json", ".zarray", ".zattrs"):
                sync(store.delete(f"{prefix}/{meta}" if prefix else meta))
            sync(store.delete_dir(prefix))


def check_output_location(out, out_path, source):
    """Raise :class:`~ooc.errors.OutputLocationError` unless the arrays written under ``out`` /
    ``out_path`` stay inside ``out`` and outside the input store ``source``, even through
    symbolic links already inside ``out`` (zarr itself refuses '..' in paths)."""
    if same_store(out, source):
        raise OutputLocationError(f"--out {out}: refusing to write into the input store {source}")
    local = local_path(out) if not str(out).endswith(".zip") else None
    if local is None:
        return
    root = os.path.realpath(os.path.expanduser(local))
    if os.path.exists(root) and not os.path.isdir(root):
        raise OutputLocationError(
            f"--out {local}: exists and is not a directory (a Zarr directory store, or a path "
            "ending in .zip, is expected); refusing to touch it")
    prefix = (out_path or "").strip("/")
    if any(part in (".", "..") for part in prefix.split("/") if prefix):
        raise OutputLocationError(f"--out-path {out_path!r}: '.' and '..' are not allowed")
    dest = os.path.realpath(os.path.join(root, prefix)) if prefix else root

    def inside(p):
        return os.path.commonpath([root, p]) == root

    if not inside(dest):
        raise OutputLocationError(f"--out-path {out_path!r}: resolves to {dest}, outside --out "
                                  f"{local} (through a symbolic link); refusing to write there")
    if same_store(dest, source):
        raise OutputLocationError(f"--out-path {out_path!r}: resolves to {dest}, inside the input "
                                  f"store {source}; refusing to write there")
    # chunk directories or files that already exist under the destination and are symbolic links
    # out of --out would receive the result's chunks
    for dirpath, dirnames, filenames in os.walk(dest):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p) and not inside(os.path.realpath(p)):
                raise OutputLocationError(
                    f"--out {local}: {p} is a symbolic link to {os.path.realpath(p)}, outside the "
                    "output location; refusing to write through it")


def new_result(target, like, *, function, axis, keepdims, path, overwrite, dtype=None, attrs=None,
               layout=None):
    """:func:`create_or_resume`: ``(array, created)``.

    ``layout``, ``(shape, chunks)``, is for results :func:`create_result` cannot shape from an
    int or None axis (several axes, soft-argmax's coordinate axis, softmax): the array is made
    for a stand-in of that shape with one more axis, of length 1, reduced; the attributes still
    describe ``like`` and ``axis``.
    """
    if layout is None:
        return create_or_resume(target, like, function=function, axis=axis, keepdims=keepdims,
                                path=path, dtype=dtype, overwrite=overwrite, attrs=attrs)
    import dask.array as da
    shape, chunks = layout
    stand_in = da.empty(tuple(shape) + (1,), chunks=tuple(chunks) + (1,), dtype=like.dtype)
    described = {"axis": list(axis) if isinstance(axis, tuple) else axis,
                 "keepdims": bool(keepdims), "source_shape": list(like.shape),
                 "source_dtype": str(np.dtype(like.dtype)),
                 "source_chunks": list(chunk_sizes(like)), **(attrs or {})}
    return create_or_resume(target, stand_in, function=function, axis=len(shape), keepdims=False,
                            path=path, dtype=dtype, overwrite=overwrite, source=source_of(like),
                            attrs=described)
