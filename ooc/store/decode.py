"""The fast chunk reader: stored chunk bytes fetched and decoded in the calling thread.

For the common layouts (Zarr format 3 ``bytes`` + zstd/blosc/gzip, or Zarr format 2 with a
numcodecs compressor and filters, unsharded) :class:`ZarrChunkSource` fetches the stored chunk
bytes itself and decodes them with numcodecs in the calling worker thread, straight into the
task's output buffer; anything else is read by zarr itself.
"""
from __future__ import annotations

import io
import itertools
import os
import pathlib

import numpy as np

from ..errors import StoreError
from .locations import display, store_url

__all__ = ["ZarrChunkSource", "ChunkPlan", "make_plan", "native_chunks"]


def native_chunks(z) -> tuple[int, ...]:
    """The chunk shape a reader should use: the shard shape for sharded arrays, else the chunks."""
    shards = getattr(z, "shards", None)
    return tuple(shards) if shards else tuple(z.chunks)


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

    def __init__(self, z, fast: bool = True, home=None):
        self.z = z
        # a memory:// store lives in the process that wrote it: remember which one
        self._home = home if home is not None else (os.getpid() if _in_process_memory(z) else None)
        self.shape = tuple(z.shape)
        self.dtype = np.dtype(z.dtype)
        self.ndim = len(self.shape)
        self.chunks = tuple(z.chunks)
        self._fast_requested = fast
        self._plan = None
        self._planned = False

    def __getstate__(self):
        return {"z": self.z, "fast": self._fast_requested, "home": self._home}

    def __setstate__(self, state):
        self.__init__(state["z"], state["fast"], state.get("home"))

    def __repr__(self):
        return f"ZarrChunkSource({display(self.z)}, shape={self.shape}, dtype={self.dtype})"

    # -- planning ---------------------------------------------------------------------------------
    @property
    def fast_path(self) -> bool:
        """Whether whole-chunk reads bypass zarr's codec pipeline."""
        return self._get_plan() is not None

    def _get_plan(self):
        if not self._planned:
            try:
                self._plan = make_plan(self.z) if self._fast_requested else None
            except Exception:  # pragma: no cover - any surprise: let zarr read it
                self._plan = None
            self._planned = True
        return self._plan

    # -- reading ----------------------------------------------------------------------------------
    def __getitem__(self, key):
        if self._home is not None and self._home != os.getpid():
            # another process sees an empty memory:// file system: every chunk would read as
            # the fill value
            raise StoreError(f"{display(self.z)}: a memory:// store lives in the process that "
                             f"wrote it (pid {self._home}) and cannot be read from another "
                             f"process (pid {os.getpid()}): use the threads or synchronous "
                             "scheduler, or a store on disk")
        plan = self._get_plan()
        slices = _as_slices(key, self.shape)
        if plan is None or slices is None:
            try:
                return np.asarray(self.z[key])
            except (IndexError, MemoryError):
                raise
            except Exception as e:  # name the store and the chunks: zarr's errors do not
                raise _chunk_error(display(self.z), _chunk_keys(self.z, slices), e) from e
        return plan.read(slices)

    def __array__(self, dtype=None, copy=None):  # pragma: no cover - not used by dask
        a = self[tuple(slice(None) for _ in self.shape)]
        return a if dtype is None else a.astype(dtype)


def _in_process_memory(z) -> bool:
    """True if ``z`` lives in an fsspec ``memory://`` file system (process-local, not pickled)."""
    import zarr.storage as zs
    store = z.store_path.store
    if not isinstance(store, zs.FsspecStore):
        return False
    protocol = store.fs.protocol
    inner = getattr(store.fs, "sync_fs", None)  # AsyncFileSystemWrapper around a sync fs
    if inner is not None:
        protocol = inner.protocol
    return "memory" in (protocol if isinstance(protocol, (tuple, list)) else (protocol,))


def _chunk_keys(z, slices):
    """Store keys of the chunks that ``slices`` ((start, stop) per axis, or None) touch."""
    if slices is None:
        return ["(chunks of a fancy selection)"]
    prefix = z.store_path.path.strip("/")
    ranges = [range(a // c, -(-b // c)) for (a, b), c in zip(slices, native_chunks(z))]
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


class ChunkPlan:
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
            raise _chunk_error(store_url(self.store), [self._key(coords)], e) from e

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


def make_plan(z):
    """A ChunkPlan for the layouts the direct path covers, else None (zarr reads it)."""
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
        return ChunkPlan(z, decoders, [], "C", byteorder)
    if isinstance(meta, ArrayV2Metadata):
        byteorder = dtype.byteorder if dtype.byteorder in "<>|" else _NATIVE
        if meta.dtype is not None:
            stored = getattr(meta.dtype, "to_native_dtype", None)
            if stored is not None:
                sd = np.dtype(stored())
                byteorder = sd.byteorder if sd.byteorder in "<>|" else _NATIVE
        decoders = [meta.compressor] if meta.compressor is not None else []
        filters = list(reversed(meta.filters or ()))
        return ChunkPlan(z, decoders, filters, meta.order, byteorder)
    return None  # pragma: no cover - unknown metadata
