"""Store I/O: turn what the user passes (numpy, Dask, zarr.Array, a path or URL) into a Dask array.

This module only opens and writes stores; it never computes a reduction.

Input stores are always opened read-only: a local directory through ``zarr.storage.LocalStore(...,
read_only=True)``, a ``.zip`` file through ``zarr.storage.ZipStore(..., mode="r")`` and any other fsspec
URL (``http(s)://``, ``s3://``, ``memory://``...) through ``zarr.storage.FsspecStore(..., read_only=True)``.

Reading is done by :class:`ZarrChunkSource`, which the Dask graph calls once per task.  For the common
layouts (Zarr format 3 ``bytes`` + zstd/blosc/gzip, or Zarr format 2 with a numcodecs compressor and
filters, unsharded) it fetches the stored chunk bytes itself and decodes them with numcodecs in the
calling worker thread, straight into the task's output buffer.  That releases the GIL for the whole
decode and skips zarr's event-loop round trip, and on the development machine it reads a zstd
float32 store about 1.6x faster than ``dask.array.from_zarr`` (see ``benchmarks/bench_store.py``).
Anything else (sharding, transpose, checksums, variable-length types...) is read by zarr itself.
"""
from __future__ import annotations

import io
import math
import os
import pathlib
import warnings
import zipfile

import numpy as np

__all__ = ["as_dask_array", "open", "create_result", "info", "source_of", "same_store",
           "ZarrChunkSource", "StoreError"]


class StoreError(ValueError):
    """A store could not be opened or used; the message names the store and the problem."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """The path given as a store does not exist (also a FileNotFoundError)."""


# dask array name -> (store url, path inside the store); filled by open(), read by source_of().
_SOURCES: dict[str, tuple[str, str | None]] = {}


def _is_url(s: str) -> bool:
    return "://" in s or "::" in s


def _display(store) -> str:
    """A short human name for a store argument (path, URL or object)."""
    if isinstance(store, (str, os.PathLike)):
        return os.fspath(store)
    try:
        import zarr
        if isinstance(store, (zarr.Array, zarr.Group)):
            return _store_url(store.store_path.store) + (
                "/" + store.store_path.path if store.store_path.path else "")
    except Exception:  # pragma: no cover - best effort only
        pass
    return _store_url(store)


def _store_url(store) -> str:
    import zarr.storage as zs
    if isinstance(store, zs.LocalStore):
        return str(pathlib.Path(store.root).resolve())
    if isinstance(store, zs.ZipStore):
        return str(pathlib.Path(store.path).resolve())
    if isinstance(store, zs.FsspecStore):
        fs = store.fs
        protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
        inner = getattr(fs, "sync_fs", None)  # AsyncFileSystemWrapper around a sync fs
        if inner is not None:
            protocol = inner.protocol[0] if isinstance(inner.protocol, (tuple, list)) else inner.protocol
        path = store.path
        if protocol in ("http", "https") or "://" in path:
            return path
        return f"{protocol}://{path.lstrip('/')}" if protocol != "file" else str(path)
    return repr(store)


def _local_path(store) -> str | None:
    """Local filesystem path for a path / file:// URL argument, else None."""
    if isinstance(store, os.PathLike):
        return os.fspath(store)
    if isinstance(store, str):
        if store.startswith("file://"):
            return store[len("file://"):]
        if not _is_url(store):
            return store
    return None


def _open_store(store, storage_options=None):
    """Return (read-only zarr store object, url string) for a path, URL or store object."""
    import zarr.storage as zs

    local = _local_path(store)
    if local is not None:
        p = pathlib.Path(local).expanduser()
        if not p.exists():
            raise StoreNotFoundError(f"{local}: no such file or directory")
        if p.is_file():
            if not zipfile.is_zipfile(p):
                raise StoreError(f"{local}: not a Zarr store (a file that is not a .zip archive)")
            return zs.ZipStore(p, mode="r"), str(p.resolve())
        return zs.LocalStore(p, read_only=True), str(p.resolve())
    if isinstance(store, str):
        try:
            st = zs.FsspecStore.from_url(store, storage_options=storage_options, read_only=True)
        except ImportError as e:
            raise StoreError(f"{store}: cannot open this URL: {e}{_install_hint(store, e)}") from e
        except ValueError as e:
            raise StoreError(f"{store}: cannot open this URL: {e}") from e
        return st, store
    from zarr.abc.store import Store
    if isinstance(store, Store):
        if not store.read_only:
            store = store.with_read_only(True)
        return store, _store_url(store)
    raise StoreError(f"cannot open {type(store).__name__!r} as a Zarr store: pass a path, a URL or a "
                     "zarr store")


_PIP_NAMES = {"smbclient": "smbprotocol", "fsspec_xrootd": "fsspec-xrootd",
              "lakefs_spec": "lakefs-spec"}


def _install_hint(url, e):
    """' (pip install PACKAGE)' for a URL whose fsspec backend is not installed: the module that
    failed to import (fsspec keeps it as the cause), else the backend's top-level package."""
    if url.startswith("s3"):
        return " (pip install 'ooc[s3]')"
    scheme = url.split("::")[-1].split("://")[0]
    pkg = getattr(e, "name", None) or getattr(e.__cause__, "name", None)
    if not pkg:
        try:
            from fsspec.registry import known_implementations
            cls = known_implementations.get(scheme, {}).get("class", "")
            if cls and not cls.startswith("fsspec."):
                pkg = cls
        except Exception:  # pragma: no cover
            pass
    if not pkg:
        return ""
    pkg = pkg.split(".")[0]
    return f" (pip install {_PIP_NAMES.get(pkg, pkg)} for {scheme}:// URLs)"


def _open_node(store, path, storage_options=None, allow_unsafe_codecs=False):
    """Open the Zarr array at ``path`` in ``store``, read-only. Returns (zarr.Array, url, path)."""
    import zarr

    st, url = _open_store(store, storage_options)
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
            from .safety import explain_unreadable
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
                from .safety import explain_unreadable
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
                                     f"{', '.join(_array_paths(node)) or 'none'}") from None
            except Exception as e:  # metadata zarr cannot parse
                from .safety import explain_unreadable
                unsafe = explain_unreadable(st, path, f"{url} [{path}]")
                if unsafe is not None and not allow_unsafe_codecs:
                    raise unsafe from e
                raise StoreError(f"{url} [{path}]: cannot read Zarr metadata: {type(e).__name__}: "
                                 f"{' '.join(str(e).split())}") from e
        if isinstance(node, zarr.Group):
            arrays = _array_paths(node)
            where = f"{url}" + (f" (group {path!r})" if path else "")
            if len(arrays) != 1:
                raise StoreError(f"{where}: is a group; choose one of its arrays with path= "
                                 f"(--path): {', '.join(arrays) or 'none'}")
            sub = arrays[0]
            node = node[sub]
            path = f"{path}/{sub}" if path else sub
    return node, url, path


def _array_paths(group) -> list[str]:
    import zarr
    out = []
    try:
        for name, member in group.members(max_depth=None):
            if isinstance(member, zarr.Array):
                out.append(name)
    except Exception:  # a store that cannot be listed (plain HTTP without consolidated metadata)
        return []
    return sorted(out)


def _native_chunks(z) -> tuple[int, ...]:
    """The chunk shape a reader should use: the shard shape for sharded arrays, else the chunks."""
    shards = getattr(z, "shards", None)
    return tuple(shards) if shards else tuple(z.chunks)


def _normalize_chunks(z, chunks) -> tuple[int, ...]:
    """Dask chunk sizes per axis: the store's chunks, or whole multiples of them."""
    native = _native_chunks(z)
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


class ZarrChunkSource:
    """Array-like over one Zarr array that Dask reads chunk-aligned blocks from.

    ``source[slices]`` returns a numpy array.  Blocks made of whole stored chunks are fetched as raw
    bytes from the store and decoded with numcodecs in the calling thread (GIL released); other
    requests, and layouts the fast path does not cover, are served by zarr itself.  The object only
    ever reads, pickles cheaply (for the processes scheduler and distributed) and holds no open files.

    Parameters
    ----------
    z : zarr.Array
        The array to read.
    fast : bool, optional
        Use the direct decoding path where the layout allows (default True).

    Examples
    --------
    >>> import numpy as np, zarr
    >>> z = zarr.create_array(zarr.storage.MemoryStore(), shape=(4, 6), chunks=(2, 3), dtype="i4")
    >>> z[:] = np.arange(24).reshape(4, 6)
    >>> src = ZarrChunkSource(z)
    >>> src[2:4, 3:6]
    array([[15, 16, 17],
           [21, 22, 23]], dtype=int32)
    >>> src.fast_path
    True
    """

    def __init__(self, z, fast: bool = True):
        self.z = z
        self.shape = tuple(z.shape)
        self.dtype = np.dtype(z.dtype)
        self.ndim = len(self.shape)
        self.chunks = tuple(z.chunks)
        self._fast_requested = fast
        self._plan = None
        self._planned = False

    def __getstate__(self):
        return {"z": self.z, "fast": self._fast_requested}

    def __setstate__(self, state):
        self.__init__(state["z"], state["fast"])

    def __repr__(self):
        return f"ZarrChunkSource({_display(self.z)}, shape={self.shape}, dtype={self.dtype})"

    # -- planning ---------------------------------------------------------------------------------
    @property
    def fast_path(self) -> bool:
        """Whether whole-chunk reads bypass zarr's codec pipeline."""
        return self._get_plan() is not None

    def _get_plan(self):
        if not self._planned:
            try:
                self._plan = _make_plan(self.z) if self._fast_requested else None
            except Exception:  # pragma: no cover - any surprise: let zarr read it
                self._plan = None
            self._planned = True
        return self._plan

    # -- reading ----------------------------------------------------------------------------------
    def __getitem__(self, key):
        plan = self._get_plan()
        slices = _as_slices(key, self.shape)
        if plan is None or slices is None:
            try:
                return np.asarray(self.z[key])
            except (IndexError, MemoryError):
                raise
            except Exception as e:  # name the store and the chunks: zarr's errors do not
                raise _chunk_error(_display(self.z), _chunk_keys(self.z, slices), e) from e
        return plan.read(slices)

    def __array__(self, dtype=None, copy=None):  # pragma: no cover - not used by dask
        a = self[tuple(slice(None) for _ in self.shape)]
        return a if dtype is None else a.astype(dtype)


def _chunk_keys(z, slices):
    """Store keys of the chunks that ``slices`` ((start, stop) per axis, or None) touch."""
    import itertools
    if slices is None:
        return ["(chunks of a fancy selection)"]
    prefix = z.store_path.path.strip("/")
    ranges = [range(a // c, -(-b // c)) for (a, b), c in zip(slices, _native_chunks(z))]
    keys = [z.metadata.encode_chunk_key(c) for c in itertools.islice(itertools.product(*ranges), 4)]
    return [f"{prefix}/{k}" if prefix else k for k in keys]


def _chunk_error(where, keys, e):
    """StoreError for a chunk that could not be read: '<store>: cannot read chunk <key>: ...'."""
    what = f"chunk {keys[0]}" if len(keys) == 1 else f"one of the chunks {', '.join(keys)}"
    return StoreError(f"{where}: cannot read {what}: {type(e).__name__}: {' '.join(str(e).split())}")


def _as_slices(key, shape):
    """Key -> tuple of (start, stop) with unit steps, or None if it is anything fancier."""
    if not isinstance(key, tuple):
        key = (key,)
    if len(key) != len(shape) or not all(isinstance(k, slice) for k in key):
        return None
    out = []
    for k, n in zip(key, shape):
        start, stop, step = k.indices(n)
        if step != 1 or stop < start:
            return None
        out.append((start, stop))
    return tuple(out)


class _Plan:
    """How to fetch and decode one stored chunk without zarr's codec pipeline."""

    def __init__(self, z, decoders, filters, order, byteorder):
        self.store = z.store_path.store
        self.prefix = z.store_path.path.strip("/")
        self.metadata = z.metadata
        self.chunks = tuple(z.chunks)
        self.shape = tuple(z.shape)
        self.dtype = np.dtype(z.dtype)
        # a Zarr v2 null fill value reads as the data type's default, as zarr reads it
        self.fill_value = z.fill_value if z.fill_value is not None else z.metadata.dtype.default_scalar()
        self.decoders = decoders      # bytes -> bytes codecs, applied in order (already reversed)
        self.filters = filters        # array -> array numcodecs filters (v2), applied in order
        self.order = order            # "C" or "F" (v2)
        self.byteorder = byteorder    # "<", ">" or "|" as stored
        import zarr.storage as zs
        self.local_root = (pathlib.Path(self.store.root) if isinstance(self.store, zs.LocalStore)
                           else None)

    def _key(self, coords):
        k = self.metadata.encode_chunk_key(coords)
        return f"{self.prefix}/{k}" if self.prefix else k

    def _fetch(self, coords):
        key = self._key(coords)
        if self.local_root is not None:
            try:
                with io.open(self.local_root / key, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return None
        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync
        buf = sync(self.store.get(key, prototype=default_buffer_prototype()))
        return None if buf is None else buf.as_numpy_array()

    def decode_into(self, coords, out):
        """Decode stored chunk ``coords`` into ``out`` (C-contiguous, full chunk shape).

        A chunk that cannot be read or decoded raises StoreError naming the store and the key."""
        try:
            self._decode_into(coords, out)
        except MemoryError:
            raise
        except Exception as e:
            raise _chunk_error(_store_url(self.store), [self._key(coords)], e) from e

    def _decode_into(self, coords, out):
        raw = self._fetch(coords)
        if raw is None:
            out[...] = self.fill_value
            return
        if len(raw) == 0:  # gzip decodes b"" into nothing, leaving ``out`` unwritten
            raise ValueError("the stored chunk is empty (0 bytes)")
        if self.decoders and isinstance(self.decoders[0], _Blosc()):
            _check_blosc_length(raw)
        if not self.decoders and not self.filters and self.order == "C":
            np.copyto(out.reshape(-1).view(np.uint8), np.frombuffer(raw, np.uint8))
        elif self.filters or self.order == "F" or len(self.decoders) != 1:
            data = raw
            for d in self.decoders:
                data = d.decode(data)
            for f in self.filters:
                data = f.decode(data)
            arr = np.frombuffer(data, dtype=self.dtype.newbyteorder(self.byteorder)
                                if self.byteorder != "|" else self.dtype)
            arr = arr.reshape(self.chunks, order=self.order)
            out[...] = arr
            return
        else:
            self.decoders[0].decode(raw, out=out)
        # the raw bytes are in the stored byte order; ``out`` may be declared in another one
        want = _order_of(out.dtype)
        if "|" not in (self.byteorder, want) and self.byteorder != want:
            out.byteswap(inplace=True)

    def read(self, slices):
        shape = tuple(b - a for a, b in slices)
        ranges = [range(a // c, -(-b // c)) if b > a else range(0) for (a, b), c in zip(slices, self.chunks)]
        single = all(len(r) == 1 for r in ranges)
        if single:
            coords = tuple(r[0] for r in ranges)
            whole = all(a == i * c and b == min((i + 1) * c, n) and b - a == c
                        for (a, b), i, c, n in zip(slices, coords, self.chunks, self.shape))
            if whole:
                out = np.empty(self.chunks, dtype=self.dtype)
                self.decode_into(coords, out)
                return out
        out = np.empty(shape, dtype=self.dtype)
        if 0 in shape:
            return out
        tmp = np.empty(self.chunks, dtype=self.dtype)
        import itertools
        for coords in itertools.product(*ranges):
            self.decode_into(coords, tmp)
            src, dst = [], []
            for (a, b), i, c in zip(slices, coords, self.chunks):
                lo, hi = max(a, i * c), min(b, (i + 1) * c)
                src.append(slice(lo - i * c, hi - i * c))
                dst.append(slice(lo - a, hi - a))
            out[tuple(dst)] = tmp[tuple(src)]
        return out


_NATIVE = "<" if np.little_endian else ">"


def _Blosc():
    import numcodecs
    return numcodecs.Blosc


def _check_blosc_length(raw):
    """c-blosc trusts the compressed size in a chunk's header: a truncated chunk is read past its
    end (wrong values, no error).  Refuse chunks shorter than their header says."""
    head = bytes(raw[:16])
    if len(head) < 16:
        raise ValueError(f"truncated blosc chunk: {len(raw)} bytes, shorter than a blosc header")
    cbytes = int.from_bytes(head[12:16], "little")
    if cbytes > len(raw):
        raise ValueError(f"truncated blosc chunk: its header says {cbytes} bytes, {len(raw)} stored")


def _order_of(dtype) -> str:
    """'<', '>' or '|' (no byte order) for a numpy dtype, with '=' resolved to the machine's."""
    bo = np.dtype(dtype).byteorder
    return _NATIVE if bo == "=" else bo


def _make_plan(z):
    """A _Plan for the layouts the direct path covers, else None (zarr reads it)."""
    import numcodecs
    from zarr.core.metadata.v2 import ArrayV2Metadata
    from zarr.core.metadata.v3 import ArrayV3Metadata

    dtype = np.dtype(z.dtype)
    if dtype.kind not in "biufcmM" or dtype.hasobject or len(z.shape) == 0:
        return None
    if any(c == 0 for c in z.chunks):
        return None
    meta = z.metadata
    if isinstance(meta, ArrayV3Metadata):
        import zarr.codecs as zc
        codecs = list(meta.codecs)
        if not codecs or not isinstance(codecs[0], zc.BytesCodec):
            return None  # array->array codecs (transpose...) or sharding
        endian = codecs[0].endian
        byteorder = "|" if endian is None or dtype.itemsize == 1 else (
            "<" if endian.value == "little" else ">")
        decoders = []
        for c in reversed(codecs[1:]):
            if isinstance(c, zc.ZstdCodec):
                decoders.append(numcodecs.Zstd(level=c.level))
            elif isinstance(c, zc.BloscCodec):
                decoders.append(numcodecs.Blosc())
            elif isinstance(c, zc.GzipCodec):
                decoders.append(numcodecs.GZip(level=c.level))
            else:
                return None
        return _Plan(z, decoders, [], "C", byteorder)
    if isinstance(meta, ArrayV2Metadata):
        byteorder = dtype.byteorder if dtype.byteorder in "<>|" else _NATIVE
        if meta.dtype is not None:
            stored = getattr(meta.dtype, "to_native_dtype", None)
            if stored is not None:
                sd = np.dtype(stored())
                byteorder = sd.byteorder if sd.byteorder in "<>|" else _NATIVE
        decoders = [meta.compressor] if meta.compressor is not None else []
        filters = list(reversed(meta.filters or ()))
        return _Plan(z, decoders, filters, meta.order, byteorder)
    return None  # pragma: no cover - unknown metadata


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
        Read arrays whose codecs are not on ooc's safe list (see :mod:`ooc.safety`), e.g. pickle,
        which runs code stored in the chunks.  Default False: such stores raise
        :class:`ooc.safety.UnsafeStoreError` before any chunk is read.

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
    >>> import numpy as np, zarr, ooc.store
    >>> g = zarr.open_group("memory://doc-open", mode="w")
    >>> z = g.create_array("t", shape=(6, 8), chunks=(3, 4), dtype="f4")
    >>> z[:] = np.arange(48, dtype="f4").reshape(6, 8)
    >>> a = ooc.store.open("memory://doc-open", path="t")
    >>> a
    dask.array<ooc-zarr-t, shape=(6, 8), dtype=float32, chunksize=(3, 4), chunktype=numpy.ndarray>
    >>> int(a.argmax().compute())
    47
    >>> ooc.store.open("memory://doc-open", path="t", chunks=(6, 8)).chunks
    ((6,), (8,))
    """
    import dask.array as da
    import zarr
    from dask.base import tokenize

    if isinstance(store, zarr.Array):
        if path is not None:
            raise StoreError(f"{_display(store)}: path= is only valid for a group or store")
        z, url, apath = store, _display(store), None
    elif isinstance(store, zarr.Group):
        z, url, apath = _open_node(store.store_path.store, "/".join(
            p for p in (store.store_path.path, path) if p), storage_options, allow_unsafe_codecs)
    else:
        z, url, apath = _open_node(store, path, storage_options, allow_unsafe_codecs)
    from .safety import check_array
    check_array(z, url + (f" [{apath}]" if apath else ""), allow_unsafe_codecs)
    if any(c < 1 and n > 0 for c, n in zip(_native_chunks(z), z.shape)):
        raise StoreError(f"{url}{f' [{apath}]' if apath else ''}: invalid chunk shape "
                         f"{_native_chunks(z)} for shape {tuple(z.shape)} in the metadata")
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
    >>> import zarr, ooc.store
    >>> _ = zarr.create_array("memory://doc-src", shape=(4,), chunks=(2,), dtype="i1", overwrite=True)
    >>> ooc.store.source_of(ooc.store.open("memory://doc-src"))
    ('memory://doc-src', None)
    """
    name = getattr(a, "name", None)
    if isinstance(name, str) and name in _SOURCES:
        return _SOURCES[name]
    try:
        import zarr
        if isinstance(a, zarr.Array):
            return _store_url(a.store_path.store), (a.store_path.path or None)
    except Exception:  # pragma: no cover
        pass
    return None, None


def as_dask_array(a, *, chunks=None):
    """Return ``a`` as a dask.array.Array without reading its data.

    Parameters
    ----------
    a : array_like, dask.array.Array, zarr.Array, str or pathlib.Path
        numpy arrays (and lists, scalars) are wrapped with ``chunks`` (default ``"auto"``); Dask
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
    if isinstance(a, np.ndarray) or np.isscalar(a) or isinstance(a, (list, tuple)):
        a = np.asarray(a)
        if chunks is None:  # dask cannot size "auto" chunks of objects: one chunk (refused later)
            chunks = -1 if a.dtype.hasobject or a.dtype.kind == "T" else "auto"
        return da.from_array(a, chunks=chunks)
    raise TypeError(f"ooc cannot reduce an object of type {type(a).__name__}: "
                    "pass a numpy array, a Dask array, a zarr.Array or a store path")


# --------------------------------------------------------------------------------------------------
# results

def _norm_axis(axis, ndim):
    """None, or the tuple of reduced axes (an int or a tuple of ints, numpy's rules)."""
    if axis is None:
        return None
    from .api import _normalize_axis
    return _normalize_axis(axis, ndim)


def _location(store):
    """Comparable location of a store argument: ('local', realpath) or ('url', normalized)."""
    import zarr
    if isinstance(store, (zarr.Array, zarr.Group)):
        store = store.store_path.store
    local = _local_path(store) if isinstance(store, (str, os.PathLike)) else None
    if local is not None:
        return ("local", os.path.realpath(os.path.expanduser(local)))
    if isinstance(store, str):
        return ("url", store.rstrip("/"))
    import zarr.storage as zs
    if isinstance(store, zs.LocalStore):
        return ("local", os.path.realpath(store.root))
    if isinstance(store, zs.ZipStore):
        return ("local", os.path.realpath(store.path))
    return ("url", _store_url(store).rstrip("/"))


def same_store(a, b) -> bool:
    """True if stores ``a`` and ``b`` are the same, or one lies inside the other.

    Examples
    --------
    >>> same_store("/data/in.zarr", "/data/in.zarr/")
    True
    >>> same_store("/data/in.zarr", "/data/in.zarr/result")
    True
    >>> same_store("/data/in.zarr", "/data/out.zarr")
    False
    """
    ka, kb = _location(a), _location(b)
    if ka[0] != kb[0]:
        return False
    pa, pb = ka[1].rstrip("/") + "/", kb[1].rstrip("/") + "/"
    return pa.startswith(pb) or pb.startswith(pa)


def _version():
    try:
        import ooc
        v = getattr(ooc, "__version__", None)
        if v:
            return str(v)
    except Exception:  # pragma: no cover
        pass
    try:
        from importlib.metadata import version
        return version("ooc")
    except Exception:  # pragma: no cover
        return "unknown"


def _chunk_sizes(like):
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
    has written the whole result through ``out=`` (see :mod:`ooc.safety`), so an interrupted write
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
        raise StoreError(f"{_display(store)}: refusing to write the result into the input store "
                         f"{src_url}")
    sizes = _chunk_sizes(like)
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
        "version": _version(),
        "complete": False,  # until the whole result is written (see ooc.safety)
        **(attrs or {}),
    }}
    local = _local_path(store) if isinstance(store, (str, os.PathLike)) else None
    if local is not None:
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
        raise StoreError(f"{_display(store)}: an array already exists at "
                         f"{path or 'the store root'} (pass overwrite=True / --overwrite)") from None
    except zarr.errors.ContainsGroupError:
        raise StoreError(f"{_display(store)}: a group already exists at "
                         f"{path or 'the store root'}; pass another path") from None


# --------------------------------------------------------------------------------------------------
# info

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


def info(store, path=None, *, storage_options=None) -> dict:
    """Describe one array of a store without reading its chunks' contents.

    Returns a dict with ``store``, ``path``, ``zarr_format``, ``shape``, ``dtype``, ``chunks``,
    ``shards``, ``codecs``, ``fill_value``, ``nchunks``, ``nchunks_stored``, ``logical_bytes``,
    ``stored_bytes`` (``None`` where the store cannot list its keys, e.g. plain HTTP),
    ``arrays`` (all arrays of the store when it is a group), ``status`` (``"complete"`` or
    ``"incomplete"`` for an ooc result, see :mod:`ooc.safety`, else None) and ``unsafe_codecs``
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

    z, url, apath = _open_node(store, path, storage_options)
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
        root = zarr.open(store=_open_store(store, storage_options)[0], mode="r")
        if isinstance(root, zarr.Group):
            arrays = _array_paths(root)
    except Exception:
        pass
    from .safety import status, unsafe_codecs
    try:
        unsafe = unsafe_codecs(z.metadata.to_dict())
    except Exception:  # pragma: no cover
        unsafe = []
    fill = z.fill_value
    try:
        fill = fill.item()
        if isinstance(fill, float) and not math.isfinite(fill):
            fill = str(fill)
    except AttributeError:
        pass
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
