"""The safe-codec policy: which codecs ooc decodes in stores it did not write.

Decoding a Zarr chunk runs the codecs its metadata names.  Most are pure data transforms
(compressors, checksums, shuffles), but some run code chosen by whoever wrote the store: the
``pickle`` codec unpickles the chunk bytes (``pickle.loads`` calls any function the bytes name),
and a codec ooc does not know may come from any installed package.  ooc therefore decodes only the
codecs on :data:`SAFE_CODECS_V3` / :data:`SAFE_CODECS_V2` and refuses every other store with
:class:`~ooc.errors.UnsafeStoreError`, which says which codec and why, before any chunk is read.  A
caller who trusts the store passes ``allow_unsafe_codecs=True`` to :func:`ooc.open` (the command
line: ``--allow-unsafe-codecs``).

Examples
--------
>>> unsafe_codecs({"zarr_format": 2, "dtype": "<f8", "compressor": {"id": "zstd"},
...                "filters": [{"id": "pickle"}]})
['pickle']
>>> unsafe_codecs({"zarr_format": 3, "codecs": [{"name": "bytes"}, {"name": "zstd"}]})
[]
"""
from __future__ import annotations

import json

from ..errors import UnsafeStoreError

__all__ = ["SAFE_CODECS_V2", "SAFE_CODECS_V3", "unsafe_codecs", "check_array",
           "explain_unreadable"]


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
            "store, pass allow_unsafe_codecs=True to ooc.open (command line: "
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
