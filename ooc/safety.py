"""Reading stores ooc did not write, and writing results nobody can mistake for finished ones.

Safe codecs
-----------
Decoding a Zarr chunk runs the codecs its metadata names.  Most are pure data transforms
(compressors, checksums, shuffles), but some run code chosen by whoever wrote the store: the
``pickle`` codec unpickles the chunk bytes (``pickle.loads`` calls any function the bytes name),
and a codec ooc does not know may come from any installed package.  ooc therefore decodes only the
codecs on :data:`SAFE_CODECS_V3` / :data:`SAFE_CODECS_V2` and refuses every other store with
:class:`UnsafeStoreError`, which says which codec and why, before any chunk is read.  A caller who
trusts the store passes ``allow_unsafe_codecs=True`` to :func:`ooc.store.open` (the command line:
``--allow-unsafe-codecs``).

Incomplete results
------------------
An output array is marked incomplete in its attributes (``attrs["ooc"]["complete"] = False``)
before its first chunk is written and marked complete only after the last one.  A failure or
Ctrl-C in between leaves the mark; ``ooc info`` shows it, and running the same command again
rewrites the array and marks it complete.

Examples
--------
>>> unsafe_codecs({"zarr_format": 2, "dtype": "<f8", "compressor": {"id": "zstd"},
...                "filters": [{"id": "pickle"}]})
['pickle']
>>> unsafe_codecs({"zarr_format": 3, "codecs": [{"name": "bytes"}, {"name": "zstd"}]})
[]
"""
from __future__ import annotations

import contextlib
import json
import warnings

from .store import StoreError

__all__ = ["SAFE_CODECS_V2", "SAFE_CODECS_V3", "UnsafeStoreError", "unsafe_codecs", "check_array",
           "explain_unreadable", "is_incomplete", "mark_incomplete", "mark_complete", "writing",
           "status"]

#: numcodecs ids (Zarr format 2 ``compressor``/``filters``) that only transform bytes or numbers.
SAFE_CODECS_V2 = frozenset({
    # compressors
    "zstd", "blosc", "gzip", "zlib", "bz2", "lzma", "lz4", "zfpy", "pcodec",
    # checksums
    "crc32", "crc32c", "adler32", "fletcher32", "jenkins_lookup3",
    # numeric filters
    "shuffle", "delta", "fixedscaleoffset", "quantize", "bitround", "packbits", "astype",
    # variable-length strings and bytes (decoded without running stored code)
    "vlen-utf8", "vlen-bytes",
})

#: Zarr format 3 codec names: zarr's own, and numcodecs' wrappers of the safe numcodecs ids.
SAFE_CODECS_V3 = frozenset({
    "bytes", "endian", "zstd", "blosc", "gzip", "crc32c", "transpose", "sharding_indexed",
    "vlen-utf8", "vlen-bytes",
} | {f"numcodecs.{c}" for c in SAFE_CODECS_V2})

_WHY = {
    "pickle": "it unpickles the stored bytes, and unpickling calls whatever functions the bytes "
              "name, so a crafted chunk runs arbitrary code",
    "json2": "it decodes chunks into Python objects (object dtype)",
    "msgpack2": "it decodes chunks into Python objects (object dtype)",
    "vlen-array": "it decodes chunks into Python objects (object dtype)",
    "categorize": "it decodes chunks into Python objects (object dtype)",
}


class UnsafeStoreError(StoreError):
    """A store names a codec ooc does not decode without the caller's explicit opt-in."""


def _codec_ids_v2(meta: dict) -> list[str]:
    out = []
    for c in list(meta.get("filters") or ()) + [meta.get("compressor")]:
        if c is None:
            continue
        out.append(str(c.get("id")) if isinstance(c, dict) else repr(c))
    return out


def _codec_names_v3(codecs) -> list[str]:
    out = []
    for c in codecs or ():
        if isinstance(c, str):
            out.append(c)
            continue
        if not isinstance(c, dict):
            out.append(repr(c))
            continue
        out.append(str(c.get("name")))
        conf = c.get("configuration") or {}
        if isinstance(conf, dict):
            out += _codec_names_v3(conf.get("codecs"))
            out += _codec_names_v3(conf.get("index_codecs"))
    return out


def unsafe_codecs(meta: dict) -> list[str]:
    """Names of the codecs in array metadata ``meta`` (a ``.zarray`` or ``zarr.json`` document)
    that are not on ooc's safe list, in the order they appear."""
    if meta.get("zarr_format") == 2 or "dtype" in meta and "codecs" not in meta:
        names, safe = _codec_ids_v2(meta), SAFE_CODECS_V2
    else:
        names, safe = _codec_names_v3(meta.get("codecs")), SAFE_CODECS_V3
        names += [f"storage transformer {t.get('name') if isinstance(t, dict) else t}"
                  for t in meta.get("storage_transformers") or ()]
    return [n for n in names if n not in safe]


def _message(where: str, bad: list[str]) -> str:
    parts = []
    for n in dict.fromkeys(bad):
        why = _WHY.get(n.removeprefix("numcodecs."))
        parts.append(f"codec {n!r}: " + (why if why else "not on ooc's list of safe codecs, so "
                                          "decoding it would run code ooc has not vetted"))
    return (f"{where}: refusing to read this array: " + "; ".join(parts) + ". ooc decodes only "
            "compressors, checksums and numeric filters it knows. If you trust whoever wrote the "
            "store, pass allow_unsafe_codecs=True to ooc.store.open (command line: "
            "--allow-unsafe-codecs).")


def check_array(z, where: str, allow_unsafe_codecs: bool = False) -> None:
    """Raise :class:`UnsafeStoreError` if zarr array ``z`` names a codec off the safe list."""
    if allow_unsafe_codecs:
        return
    try:
        meta = z.metadata.to_dict()
    except Exception as e:  # pragma: no cover - zarr always serializes what it parsed
        raise UnsafeStoreError(f"{where}: cannot inspect the array's codecs ({e})") from e
    bad = unsafe_codecs(meta)
    if bad:
        raise UnsafeStoreError(_message(where, bad))


def explain_unreadable(store, path, where: str) -> UnsafeStoreError | None:
    """When zarr cannot parse an array's metadata, look at the raw documents: an error explaining
    the unsafe codec if that is why (zarr 3 refuses pickle with an unrelated dtype message)."""
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    prefix = (path or "").strip("/")
    for name in ("zarr.json", ".zarray"):
        key = f"{prefix}/{name}" if prefix else name
        try:
            buf = sync(store.get(key, prototype=default_buffer_prototype()))
            if buf is None:
                continue
            meta = json.loads(buf.to_bytes())
        except Exception:
            continue
        if not isinstance(meta, dict):
            continue
        if name == ".zarray":
            meta.setdefault("zarr_format", 2)
        bad = unsafe_codecs(meta)
        if bad:
            return UnsafeStoreError(_message(where, bad))
    return None


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


# --------------------------------------------------------------------------------------------------
# rerunning an interrupted write

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
    """:func:`ooc.store.create_result`, or the incomplete result an interrupted run of the same
    computation left at ``store``/``path`` (reopened for writing, still marked incomplete).

    Returns ``(array, created)``.  An incomplete array of a different computation (other function,
    axis, input...) is refused unless ``overwrite``; a complete one is refused by create_result.
    """
    import zarr

    from . import store as S

    if not overwrite:
        old = _open_existing(store, path)
        if old is not None and is_incomplete(old):
            want = S.create_result(zarr.storage.MemoryStore(), like, overwrite=True, **kwargs)
            same = (tuple(old.shape) == tuple(want.shape) and old.dtype == want.dtype
                    and tuple(old.chunks) == tuple(want.chunks)
                    and {k: v for k, v in old.attrs["ooc"].items() if k not in _LAYOUT_IGNORED}
                    == {k: v for k, v in want.attrs["ooc"].items() if k not in _LAYOUT_IGNORED})
            where = S._display(store) + (f" [{path}]" if path else "")
            if not same:
                raise StoreError(f"{where}: holds an incomplete ooc result of a different "
                                 "computation; pass --overwrite (overwrite=True) to replace it")
            return old, False
    return S.create_result(store, like, path=path, overwrite=overwrite, **kwargs), True
