"""What the ``ooc`` command prints: JSON values, human-readable results and ``ooc info``."""
from __future__ import annotations

import json
import math
import sys

import numpy as np
from dask.utils import format_bytes

__all__ = ["jsonable", "fmt_value", "label", "axis_words", "coords_for_axis", "print_time",
           "print_json", "print_info"]


def jsonable(v):
    """numpy scalar/array -> JSON-able; non-finite floats become the strings 'nan', 'inf', '-inf'.

    Examples
    --------
    >>> jsonable(np.array([1.5, np.nan])), jsonable(np.int16(3))
    ([1.5, 'nan'], 3)
    """
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return jsonable(v[()])
        return [jsonable(x) for x in v]
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (np.datetime64, np.timedelta64)):   # (np.timedelta64 is an np.integer)
        return str(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else str(f)
    if isinstance(v, (np.complexfloating, complex)):
        return str(complex(v))
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("latin-1")
    if hasattr(v, "isoformat"):    # datetime.datetime / date / timedelta from .item()
        return str(v)
    return v


def print_json(record):
    """One JSON object on stdout."""
    print(json.dumps(record))


def fmt_value(v):
    """A value or an array as printed by the human-readable output."""
    v = np.asarray(v)
    if v.ndim == 0:
        x = v[()]
        return repr(x.item()) if hasattr(x, "item") and v.dtype.kind in "biuf" else str(x)
    return np.array2string(v, threshold=200, max_line_width=100)


def coords_for_axis(index, axes, shape, keepdims, unravel):
    """Full input coordinates of the element chosen for every result position, for indices along
    one axis or flat over several ``axes`` (in that order; ``unravel`` converts those)."""
    idx = np.asarray(index)
    if keepdims:
        idx = np.squeeze(idx, axis=tuple(axes))
    parts = [None] * len(shape)
    for d, g in zip((d for d in range(len(shape)) if d not in axes), np.indices(idx.shape)):
        parts[d] = g
    if len(axes) == 1:
        parts[axes[0]] = idx
    else:
        for d, c in zip(axes, unravel(idx, [shape[d] for d in axes])):
            parts[d] = np.asarray(c)
    return np.stack(parts, axis=-1)


def axis_words(axis):
    return f"flat over axes {axis}" if isinstance(axis, tuple) else f"along axis {axis}"


def label(url, path):
    """``url [path]``: how a store's array is named in messages."""
    return url + (f" [{path}]" if path else "")


def print_time(nbytes, elapsed):
    """The time line, on a terminal or for runs longer than a second."""
    if sys.stdout.isatty() or elapsed > 1:
        rate = nbytes / elapsed / 2**20 if elapsed > 0 else float("inf")
        print(f"  time    {elapsed:.2f} s ({rate:,.0f} MiB/s over {format_bytes(nbytes)})")


def print_info(d, as_json):
    """``ooc info``: the dict of :func:`ooc.store.info`, as JSON or as aligned lines."""
    if as_json:
        print_json({k: jsonable(v) if not isinstance(v, (str, type(None), list)) else v
                    for k, v in d.items()})
        return
    nstored = d["nchunks_stored"]
    ratio = (f" (ratio {d['logical_bytes'] / d['stored_bytes']:.2f}x)"
             if d["stored_bytes"] else "")
    lines = [
        ("store", d["store"]),
        ("path", d["path"] or "(root)"),
        ("format", f"Zarr v{d['zarr_format']}"),
        ("shape", tuple(d["shape"])),
        ("dtype", d["dtype"]),
        ("chunks", tuple(d["chunks"])),
    ]
    if d["shards"]:
        lines.append(("shards", tuple(d["shards"])))
    lines += [
        ("codecs", ", ".join(d["codecs"])),
        ("fill value", d["fill_value"]),
        ("nchunks", f"{d['nchunks']} in the grid, "
                   + (f"{nstored} stored" if nstored is not None else "stored count unknown")),
        ("logical", f"{format_bytes(d['logical_bytes'])} ({d['logical_bytes']} bytes)"),
        ("stored", (f"{format_bytes(d['stored_bytes'])} ({d['stored_bytes']} bytes){ratio}"
                    if d["stored_bytes"] is not None else "unknown (the store cannot be listed)")),
    ]
    if len(d["arrays"]) > 1:
        lines.append(("arrays", ", ".join(d["arrays"])))
    if d.get("status"):
        lines.append(("status", "complete" if d["status"] == "complete" else
                      "INCOMPLETE: an ooc run did not finish writing this result; run the same "
                      "command again to complete it"))
    if d.get("unsafe_codecs"):
        lines.append(("unsafe", ", ".join(d["unsafe_codecs"]) + ": not decoded without "
                      "--allow-unsafe-codecs"))
    for k, v in lines:
        print(f"{k:11s}{v}")
