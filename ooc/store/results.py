"""The life of a result array: created, marked incomplete, written one task per stored object,
marked complete; resumed after an interruption, removed after a failure, zipped.

An output array is marked incomplete in its attributes (``attrs["ooc"]["complete"] = False``)
before its first chunk is written and marked complete only after the last one, once
:func:`check_written` found every stored object of it in its store.  A failure or Ctrl-C in
between leaves the mark; ``ooc info`` shows it, and running the same command again rewrites the
array and marks it complete.

One task per stored object: the lazy result is rechunked to the array's shards (sharded arrays)
or chunks (:func:`aligned`), since zarr writes part of a stored object by reading, changing and
rewriting the whole object, and two tasks doing so at once lose each other's writes.  Every chunk
is stored, also one equal to the fill value (:func:`for_writing`), so that a chunk missing
afterwards is a lost write, never one zarr left out on purpose.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import warnings

import numpy as np

from ..axes import normalize_axis
from ..errors import OutputLocationError, StoreError
from ..version import __version__
from .decode import native_chunks
from .inputs import source_of
from .locations import display, local_path, same_store

__all__ = ["create_result", "create_or_resume", "chunk_sizes", "result_layout", "check_out",
           "aligned", "for_writing", "writing", "is_incomplete", "mark_incomplete",
           "mark_complete", "status", "output_target", "remove_arrays", "check_output_location",
           "new_result", "shard_layout", "AUTO_SHARD_BYTES", "missing_chunks", "check_written"]

AUTO_SHARD_BYTES = 32 * 2**20   # shards="auto": whole chunks per shard up to this many bytes
WRITE_CONFIG = {"write_empty_chunks": True}   # every chunk stored: a missing one is a lost write


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


def _largest_divisor(n, at_most):
    """The largest divisor of ``n`` that is at most ``at_most``."""
    best = 1
    for d in range(1, math.isqrt(n) + 1):
        if n % d == 0:
            for e in (d, n // d):
                if best < e <= at_most:
                    best = e
    return best


def shard_layout(shape, chunks, shards, itemsize):
    """``(chunks, shards)`` of a result array of ``shape`` whose chunks would be ``chunks``.

    ``shards`` is None (not sharded: ``(chunks, None)``), a tuple of shard sizes, one per axis,
    or ``"auto"``: whole chunks per shard, as many as fit in :data:`AUTO_SHARD_BYTES`
    uncompressed, filled along the last axis first (C order) and never beyond the array; not
    sharded when one chunk is that large already or the array has a single chunk.  A chunk size
    that does not divide the shard size becomes the largest divisor of the shard size below it
    (zarr's rule: a shard holds whole chunks).  A 0-d result is never sharded.

    Examples
    --------
    >>> shard_layout((4096,), (16,), (1024,), 8)
    ((16,), (1024,))
    >>> shard_layout((4000, 300), (1000, 100), (1024, 300), 8)
    ((512, 100), (1024, 300))
    >>> shard_layout((4096, 100), (16, 100), "auto", 8)
    ((16, 100), (4096, 100))
    >>> shard_layout((100,), (100,), "auto", 8)
    ((100,), None)
    """
    chunks = tuple(int(c) for c in chunks)
    if shards is None:
        return chunks, None
    ndim = len(shape)
    if isinstance(shards, str):
        if shards != "auto":
            raise ValueError(f"shards must be None, 'auto' or a tuple of ints, not {shards!r}")
        if ndim == 0:
            return chunks, None
        per, nbytes = [1] * ndim, math.prod(chunks) * int(itemsize)
        for d in reversed(range(ndim)):
            k = max(1, min(-(-shape[d] // chunks[d]), AUTO_SHARD_BYTES // max(1, nbytes)))
            per[d], nbytes = k, nbytes * k
        if math.prod(per) == 1:
            return chunks, None
        return chunks, tuple(c * k for c, k in zip(chunks, per))
    if isinstance(shards, (int, np.integer)):
        shards = (shards,)
    try:
        shards = tuple(int(s) for s in shards)
    except (TypeError, ValueError):
        raise ValueError(f"shards must be None, 'auto' or a tuple of ints, not {shards!r}") from None
    if len(shards) != ndim:
        raise ValueError(f"shards {shards} gives {len(shards)} size{'s' * (len(shards) != 1)}, "
                         f"the result has {ndim} dimension{'s' * (ndim != 1)} (shape "
                         f"{tuple(shape)})")
    if ndim == 0:
        return chunks, None
    if any(s < 1 for s in shards):
        raise ValueError(f"shards {shards}: every shard size must be positive")
    return tuple(_largest_divisor(s, c) for s, c in zip(shards, chunks)), shards


def create_result(store, like, *, function="argmax", axis=None, keepdims=False, path=None,
                  dtype=None, overwrite=False, source=None, zarr_format=3, compressors="auto",
                  storage_options=None, attrs=None, shards=None):
    """Create the Zarr array that a reduction of ``like`` along ``axis`` is stored into.

    The array has the reduced shape, dtype ``intp`` (or ``dtype``), and chunks that follow ``like``'s
    chunk grid on the kept axes, so ``ooc.argmax(a, axis, out=result)`` writes it chunk by chunk
    (shard by shard when sharded) without two tasks ever touching the same stored object.  It is
    opened with ``write_empty_chunks=True``: every chunk is stored, also one equal to the fill
    value, so that the check before the complete mark (:func:`check_written`) finds a lost
    write.  Its attributes record what is computed:
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
    shards : None, tuple of ints or "auto"
        Shard shape (Zarr format 3 only): None (default) for an unsharded array; a tuple, one size
        per axis of the result; or ``"auto"`` (see :func:`shard_layout`, which also says how the
        chunks are fitted into the shards).  Each shard is then written by one task.

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
    >>> s = create_result("memory://doc-result-s", x, axis=0, shards=(100, 60), overwrite=True)
    >>> s.shards, s.chunks
    ((100, 60), (50, 30))
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
    dt = np.dtype(dtype) if dtype is not None else np.dtype(np.intp)
    chunks, shards = shard_layout(shape, chunks, shards, dt.itemsize)
    if shards is not None and zarr_format != 3:
        raise ValueError(f"shards need Zarr format 3, not {zarr_format}")
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
        return zarr.create_array(target, name=path, shape=shape, chunks=chunks, shards=shards,
                                 dtype=dt, fill_value=0, zarr_format=zarr_format,
                                 compressors=compressors, attributes=attrs, overwrite=overwrite,
                                 config=WRITE_CONFIG, storage_options=storage_options
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
    """Mark ``z`` complete, after :func:`check_written` found every stored object of it (raises
    :class:`~ooc.errors.StoreError` and leaves the mark otherwise)."""
    check_written(z)
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
    when it finishes without an exception and every stored object of the array is found in its
    store (:func:`mark_complete`); numpy arrays are left alone."""
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
                    and getattr(old, "shards", None) == want.shards
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
    """``lazy`` with every block border on a border of the stored objects of zarr array ``z``
    (its shards, or its chunks if not sharded): then each stored object is written by one task.

    zarr writes part of a stored object by reading it, changing the part and writing the whole
    object again; two tasks doing so at once lose each other's writes.  ``lazy`` is returned as
    it is when its borders are already object borders (a block may hold several whole objects,
    and the last one may be partial), rechunked to the object grid otherwise.  numpy outputs
    take ``lazy`` as it is.
    """
    import dask.array as da

    if isinstance(z, np.ndarray) or getattr(z, "chunks", None) is None or lazy.ndim == 0:
        return lazy
    grid = native_chunks(z)

    def on_grid(sizes, step, n):
        ends = itertools.accumulate(sizes)
        return all(e % step == 0 or e == n for e in ends)

    if all(on_grid(c, g, n) for c, g, n in zip(lazy.chunks, grid, lazy.shape)):
        return lazy
    return lazy.rechunk(da.core.normalize_chunks(grid, lazy.shape))


def for_writing(z):
    """Zarr array ``z`` configured to store every chunk, also one equal to the fill value
    (``write_empty_chunks=True``; ``z`` itself and its stored metadata are unchanged), so that a
    chunk missing after the write is a lost write; anything else as it is."""
    if not _is_zarr_array(z) or z.config.write_empty_chunks:
        return z
    return z.with_config(WRITE_CONFIG)


def _key(z, coords):
    """Store key of the stored object (chunk or shard) at grid ``coords`` of zarr array ``z``."""
    prefix = z.store_path.path.strip("/")
    key = z.metadata.encode_chunk_key(tuple(coords))
    return f"{prefix}/{key}" if prefix else key


async def _present(store, keys, prefix):
    """The keys among ``keys`` that ``store`` holds (one listing where the store lists)."""
    if store.supports_listing:
        listed = {k async for k in store.list_prefix(f"{prefix}/" if prefix else "")}
        return {k for k in keys if k in listed}
    limit = asyncio.Semaphore(32)

    async def exists(k):
        async with limit:
            return k if await store.exists(k) else None

    return set(await asyncio.gather(*(exists(k) for k in keys))) - {None}


async def _missing_inner(z, codec, coords, key):
    """Names of the inner chunks of the shard at ``coords`` (those within the array's bounds)
    that its shard index does not record."""
    from zarr.storage import StorePath

    shard, inner = native_chunks(z), tuple(z.chunks)
    per = tuple(s // c for s, c in zip(shard, inner))
    try:
        index = await codec._load_shard_index_maybe(StorePath(z.store_path.store, key), per)
    except Exception as e:
        return [f"{key} (unreadable shard index: {' '.join(str(e).split()) or type(e).__name__})"]
    if index is None:
        return [key]
    stored = index.get_full_chunk_map()
    wanted = [range(min(p, -(-(n - i * s) // c))) for p, n, i, s, c in
              zip(per, z.shape, coords, shard, inner)]
    return [f"{key} (inner chunk {','.join(map(str, local))})"
            for local in itertools.product(*wanted) if not stored[local]]


def missing_chunks(z) -> tuple[list, int]:
    """``(missing, total)``: the names of the stored objects of zarr array ``z`` that its store
    lacks, and ``total``, how many it should hold.

    The objects are the chunks, or for a sharded array the shards, within the array's bounds;
    of every shard present, each inner chunk within the bounds must be recorded in the shard's
    index (named ``"c/1 (inner chunk 3)"``).  Only valid after a write that stores chunks
    equal to the fill value too (:func:`for_writing`): zarr leaves those out otherwise.
    """
    from zarr.core.sync import sync

    grid = native_chunks(z)
    coords = list(itertools.product(*(range(-(-n // g)) for n, g in zip(z.shape, grid))))
    keys = {c: _key(z, c) for c in coords}
    store, prefix = z.store_path.store, z.store_path.path.strip("/")

    async def run():
        present = await _present(store, list(keys.values()), prefix)
        missing = [k for k in keys.values() if k not in present]
        if getattr(z, "shards", None):
            codec = z.metadata.codecs[0]
            limit = asyncio.Semaphore(32)

            async def inner(c, k):
                async with limit:
                    return await _missing_inner(z, codec, c, k)

            for names in await asyncio.gather(*(inner(c, k) for c, k in keys.items()
                                                if k in present)):
                missing += names
        return missing

    return sync(run()), len(keys)


def check_written(z, shown=10) -> None:
    """Raise :class:`~ooc.errors.StoreError` naming the missing chunks (also listed in its
    ``missing`` attribute) unless every stored object of zarr array ``z`` (and every inner chunk
    of its shards) is in its store (:func:`missing_chunks`); anything but a zarr array passes.

    What this proves: after a write through :func:`for_writing`, which stores every chunk, a
    chunk missing from the store is a write that was lost.  What it cannot prove: that an object
    which was in the store before the write was rewritten; an ``out=`` array that already held
    data keeps its old chunk where a write is lost (a result created by :func:`create_result`
    starts empty, and one resumed by :func:`create_or_resume` holds chunks of the same
    computation).
    """
    if not _is_zarr_array(z):
        return
    missing, total = missing_chunks(z)
    if not missing:
        return
    names = ", ".join(missing[:shown]) + (f" and {len(missing) - shown} more"
                                          if len(missing) > shown else "")
    if getattr(z, "shards", None):   # a missing shard, or inner chunks missing from shards
        lost = len({name.split(" ")[0] for name in missing})
        what = f"{lost} of the {total} shards of the result were not written completely"
    else:
        what = f"{len(missing)} of the {total} chunks of the result were not written"
    hint = ""
    if len(missing) >= total and (type(z.store_path.store).__name__ == "MemoryStore"
                                  or display(z).startswith("memory://")):   # nothing written
        hint = ("; a memory store lives in one process: worker processes wrote into their own "
                "copies (write a directory store the workers can reach)")
    error = StoreError(f"{display(z)}: {what}: {names}; the array stays marked incomplete (run "
                       f"again to complete it){hint}")
    error.missing = missing   # output_target keeps the array: rerunning completes it
    raise error


@contextlib.contextmanager
def output_target(out, overwrite=False):
    """The store object to create result arrays in, for a ``--out`` path or URL; yields
    ``(target, created)`` where the caller appends the arrays it creates to ``created``.

    A ``.zip`` path is opened once as a ZipStore for everything written and closed at the end
    (that writes the zip directory).  On failure the arrays are left marked incomplete, so that
    rerunning completes them, except that arrays created for an input that cannot be read (a
    StoreError other than :func:`check_written`'s: rerunning cannot succeed until the input is
    repaired) are removed, and a new zip, which is unusable unless complete, is deleted.
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
        elif isinstance(error, StoreError) and not getattr(error, "missing", None):
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
               layout=None, shards=None):
    """:func:`create_or_resume`: ``(array, created)``.

    ``layout``, ``(shape, chunks)``, is for results :func:`create_result` cannot shape from an
    int or None axis (several axes, soft-argmax's coordinate axis, softmax): the array is made
    for a stand-in of that shape with one more axis, of length 1, reduced; the attributes still
    describe ``like`` and ``axis``.  ``shards`` as in :func:`create_result`.
    """
    if layout is None:
        return create_or_resume(target, like, function=function, axis=axis, keepdims=keepdims,
                                path=path, dtype=dtype, overwrite=overwrite, attrs=attrs,
                                shards=shards)
    import dask.array as da
    shape, chunks = layout
    stand_in = da.empty(tuple(shape) + (1,), chunks=tuple(chunks) + (1,), dtype=like.dtype)
    described = {"axis": list(axis) if isinstance(axis, tuple) else axis,
                 "keepdims": bool(keepdims), "source_shape": list(like.shape),
                 "source_dtype": str(np.dtype(like.dtype)),
                 "source_chunks": list(chunk_sizes(like)), **(attrs or {})}
    return create_or_resume(target, stand_in, function=function, axis=len(shape), keepdims=False,
                            path=path, dtype=dtype, overwrite=overwrite, source=source_of(like),
                            attrs=described, shards=shards)
