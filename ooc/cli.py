"""The ``ooc`` command: argmax-family reductions over Zarr stores, ``ooc info`` and ``ooc demo``.

Reductions: ``argmax``, ``argmin``, ``nanargmax``, ``nanargmin``, ``max-argmax``, ``min-argmin``,
``take-at-argmax`` and ``take-at-argmin`` (the element of ``--values`` where STORE is largest or
smallest), ``logsumexp``, ``soft-argmax`` (the expected index under ``softmax(beta * x)``) and
``softmax`` (as large as its input: written to ``--out``).  ``--axis`` may name several axes
(``--axis 0 --axis 2`` or ``--axis 0,2``): the argmax family then gives the flat C-order index
over those axes in the order given (``ooc.unravel_index`` over their lengths gives coordinates).

Exit status: 0 on success, 2 on usage errors (bad options, an axis out of range, a result too
large to print without ``--out``, an output store that is the input store), 1 on runtime failures
(a store that cannot be read, a reduction that fails), with a one-line message naming the store;
``--debug`` shows the traceback instead.

Examples
--------
>>> import numpy as np, zarr
>>> z = zarr.create_array("memory://doc-cli", shape=(4, 5), chunks=(2, 2), dtype="i4",
...                       overwrite=True)
>>> z[:] = np.arange(20).reshape(4, 5) % 7
>>> main(["argmax", "memory://doc-cli", "--no-progress"])
argmax of memory://doc-cli: shape (4, 5) int32, axis None
  index   6
  coords  (1, 1)
  value   6
0
>>> main(["argmin", "memory://doc-cli", "--axis", "1", "--json", "--no-progress"])
{"function": "argmin", "store": "memory://doc-cli", "path": null, "shape": [4, 5], "dtype": "int32", "axis": 1, "keepdims": false, "index": [0, 2, 4, 0], "coords": [[0, 0], [1, 2], [2, 4], [3, 0]], "value": [0, 0, 0, 1]}
0
>>> main(["argmax", "memory://doc-cli", "--axis", "1,0", "--json", "--no-progress"])
{"function": "argmax", "store": "memory://doc-cli", "path": null, "shape": [4, 5], "dtype": "int32", "axis": [1, 0], "keepdims": false, "index": 5, "coords": [1, 1], "value": 6}
0
>>> main(["logsumexp", "memory://doc-cli", "--no-progress"])
logsumexp of memory://doc-cli: shape (4, 5) int32, axis None
  value   7.3195139668673335
0
>>> main(["soft-argmax", "memory://doc-cli", "--beta", "5", "--no-progress"])
soft-argmax of memory://doc-cli: shape (4, 5) int32, axis None, beta 5.0
  coords  (1.50501, 2.00004)
0
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time

import numpy as np

REDUCTIONS = ("argmax", "argmin", "nanargmax", "nanargmin", "max-argmax", "min-argmin")
MORE = ("take-at-argmax", "take-at-argmin", "logsumexp", "soft-argmax", "softmax")
MAX_PRINT = 10_000  # elements of a result printed at most; larger results need --out


class UsageError(Exception):
    """Bad command line: exit status 2."""


# ----------------------------------------------------------------------------------------------
# parser

def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of a failure")

    p = argparse.ArgumentParser(
        prog="ooc", parents=[common],
        description="numpy-exact argmax-family reductions (and logsumexp, softmax, soft-argmax, "
                    "take-at-argmax) over Zarr stores too large for memory.",
        epilog="STORE is a local directory store, a .zip store or an fsspec URL (file://, http(s)://, "
               "s3://, memory://).  Exit status: 0 ok, 1 runtime failure, 2 usage error.")
    p.add_argument("--version", action="version", version=f"ooc {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    for name in REDUCTIONS:
        pair = name in ("max-argmax", "min-argmin")
        what = {"argmax": "indices of the maximum (the first NaN wins)",
                "argmin": "indices of the minimum (the first NaN wins)",
                "nanargmax": "indices of the maximum, ignoring NaN",
                "nanargmin": "indices of the minimum, ignoring NaN",
                "max-argmax": "the maximum and its indices, in one pass",
                "min-argmin": "the minimum and its indices, in one pass"}[name]
        s = sub.add_parser(name, parents=[common], help=what, description=f"{name}: {what}.")
        s.add_argument("store", metavar="STORE", help="input Zarr store (path or URL); read only")
        s.add_argument("--path", help="array path inside the store (needed when it holds several)")
        s.add_argument("--axis", type=_axis_arg, default=None, action="append", help=AXIS_HELP)
        s.add_argument("--keepdims", action="store_true", help="keep the reduced axis with length 1")
        if pair:
            s.add_argument("--skipna", action="store_true", help="ignore NaN (as nanargmax does)")
        s.add_argument("--out", metavar="OUT_STORE",
                       help="write the result into this Zarr store (needed for large results)"
                            + ("; arrays 'values' and 'indices' are created" if pair else ""))
        s.add_argument("--out-path", metavar="P",
                       help="array path inside OUT_STORE" + (" (prefix of values/indices)" if pair else ""))
        s.add_argument("--overwrite", action="store_true", help="replace an existing output array "
                       "(an incomplete one left by an interrupted run of the same command is "
                       "completed without it)")
        s.add_argument("--allow-unsafe-codecs", action="store_true",
                       help="read a store whose codecs are not on ooc's safe list (e.g. pickle, "
                            "which runs code stored in the chunks): only for stores you trust")
        _add_run_options(s)
        s.add_argument("--json", action="store_true", help="print one JSON object")
        s.set_defaults(func=_cmd_reduce)

    for name in MORE:
        _add_more_parser(sub, common, name)

    s = sub.add_parser("info", parents=[common], help="describe a store's array",
                       description="Shape, dtype, chunks, codecs, number of chunks, stored and "
                                   "logical size of an array in a Zarr store.")
    s.add_argument("store", metavar="STORE")
    s.add_argument("--path", help="array path inside the store")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=_cmd_info)

    s = sub.add_parser("demo", parents=[common],
                       help="create a sample store with planted extrema, reduce it, check answers",
                       description="Create a compressed Zarr store with known planted maxima and "
                                   "minima (ties across chunk borders, NaN in a float variable), "
                                   "reduce it along every axis and check every answer against "
                                   "the planted truth.  Prints throughput and peak memory.")
    s.add_argument("--dir", help="where to create the store (default: a temporary directory, "
                                 "removed afterwards)")
    s.add_argument("--size", default=None, type=_size_arg,
                   help="logical size of the sample data, e.g. 512MiB, 2GiB "
                        "(default 1GiB: under a minute on 2 cores, store creation included)")
    s.add_argument("--keep", action="store_true", help="keep the store (default when --dir is given)")
    _add_run_options(s, scheduler=False)
    s.set_defaults(func=_cmd_demo)
    return p


AXIS_HELP = ("axis to reduce (default: the flattened array); several axes as --axis 0 --axis 2 "
             "or --axis 0,2 (the index is then the flat C-order index over them, in that order)")


def _add_more_parser(sub, common, name):
    """Parser of take-at-argmax/-argmin, logsumexp, soft-argmax and softmax."""
    take = name.startswith("take-at")
    what = {"take-at-argmax": "the element of --values where STORE is largest (first occurrence)",
            "take-at-argmin": "the element of --values where STORE is smallest (first occurrence)",
            "logsumexp": "log(sum(exp(x))) without overflow, as scipy.special.logsumexp",
            "soft-argmax": "the expected index under softmax(beta * x): a smooth argmax",
            "softmax": "exp(x) / sum(exp(x)) along --axis, as scipy.special.softmax; "
                       "as large as the input, so --out is required"}[name]
    s = sub.add_parser(name, parents=[common], help=what, description=f"{name}: {what}.")
    s.add_argument("store", metavar="STORE", help="input Zarr store (path or URL); read only"
                   + ("; the key array whose maximum/minimum decides the position" if take else ""))
    s.add_argument("--path", help="array path inside the store (needed when it holds several)")
    if take:
        s.add_argument("--values", metavar="VSTORE", required=True,
                       help="Zarr store of the array to take from (same shape as STORE's)")
        s.add_argument("--values-path", metavar="P", help="array path inside VSTORE")
    if name == "softmax":
        s.add_argument("--axis", type=_axis_arg, default=None, action="append",
                       help="axis (or axes: --axis 0 --axis 2 or --axis 0,2) the softmax is taken "
                            "over (default: all)")
    elif name == "soft-argmax":
        s.add_argument("--axis", type=_axis_arg, default=None, action="append",
                       help="axis to reduce, giving the expected index along it; for none (the "
                            "default) or several axes (--axis 0 --axis 2 or --axis 0,2), the "
                            "expected coordinate along each, on a last axis of the result")
        s.add_argument("--beta", type=float, default=1.0,
                       help="inverse temperature (default 1; large: close to argmax; negative: a "
                            "soft argmin)")
    else:
        s.add_argument("--axis", type=_axis_arg, default=None, action="append", help=AXIS_HELP
                       if take else "axis to reduce (default: all); several axes as --axis 0 "
                                    "--axis 2 or --axis 0,2")
    if name != "softmax" and name != "soft-argmax":
        s.add_argument("--keepdims", action="store_true",
                       help="keep the reduced axes with length 1")
    if take:
        s.add_argument("--skipna", action="store_true", help="ignore NaN in STORE (as nanargmax)")
    s.add_argument("--out", metavar="OUT_STORE", required=False,
                   help="write the result into this Zarr store, chunk by chunk"
                        + (" (required)" if name == "softmax" else " (needed for large results)"))
    s.add_argument("--out-path", metavar="P", help="array path inside OUT_STORE")
    s.add_argument("--overwrite", action="store_true", help="replace an existing output array "
                   "(an incomplete one left by an interrupted run of the same command is "
                   "completed without it)")
    s.add_argument("--allow-unsafe-codecs", action="store_true",
                   help="read stores whose codecs are not on ooc's safe list (e.g. pickle, "
                        "which runs code stored in the chunks): only for stores you trust")
    _add_run_options(s)
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=_cmd_more)


def _add_run_options(s, scheduler=True):
    if scheduler:
        s.add_argument("--scheduler", default=None,
                       metavar="threads|processes|synchronous|local-cluster|ADDRESS",
                       help="Dask scheduler, or the address of a dask.distributed scheduler, e.g. "
                            "tcp://HOST:8786 (default threads; a LocalCluster with --memory-limit)")
    s.add_argument("--workers", type=_positive_int, default=None,
                   help="threads or processes, or a LocalCluster's worker processes "
                        "(default: one per core)")
    if scheduler:
        s.add_argument("--memory-limit", metavar="SIZE", default=None,
                       help="start a dask.distributed LocalCluster whose workers have this memory "
                            "limit each, e.g. 2GiB")
        for opt, what in (("--tls-ca-file", "CA certificate"), ("--tls-cert", "client certificate"),
                          ("--tls-key", "client private key")):
            s.add_argument(opt, metavar="FILE", default=None,
                           help=f"TLS {what} for the scheduler (default: dask's distributed.comm.tls "
                                "configuration)")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on a terminal, for reductions that take "
                        "more than a moment)")


def _version():
    from ooc.store import _version as v
    return v()


def _axis_arg(s):
    """``--axis`` value: None, an int, or a tuple for a comma-separated list (``"1,"``: ``(1,)``)."""
    t = s.strip()
    if t.lower() in ("none", ""):
        return None
    try:
        if "," not in t:
            return int(t)
        parts = t.split(",")
        if parts[-1].strip() == "":
            parts = parts[:-1]
        return tuple(int(x) for x in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid axis {s!r}: give an integer, integers separated "
                                         "by commas, or 'none'") from None


def _axis_of(args):
    """The axis given by (possibly repeated) ``--axis`` options: None, an int or a tuple."""
    given = args.axis
    if not isinstance(given, list):
        return given
    if len(given) == 1:
        return given[0]
    if any(v is None for v in given):
        raise UsageError("--axis none cannot be combined with other axes")
    return tuple(x for v in given for x in (v if isinstance(v, tuple) else (v,)))


def _resolve_axis(axis, ndim, where):
    """``(axis, axes)``: the axis normalized to None, an int or a tuple of non-negative ints (in the
    order given), and the tuple of the axes it names (every axis for None)."""
    if axis is None:
        return None, tuple(range(ndim))
    many = isinstance(axis, tuple)
    given = axis if many else (axis,)
    n = max(ndim, 1)
    for ax in given:
        if not -n <= ax < n:
            raise UsageError(f"--axis {ax} is out of range for {where} with "
                             f"{ndim} dimension{'s' if ndim != 1 else ''}")
    axes = tuple(ax % n for ax in given)
    if len(set(axes)) != len(axes):
        raise UsageError(f"--axis {','.join(str(ax) for ax in given)}: an axis is repeated")
    if ndim == 0:
        return None, ()
    return (axes if many else axes[0]), axes


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def _positive_int(s):
    try:
        v = int(s)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"invalid count {s!r}: give a positive integer")
    return v


_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(s: str) -> int:
    """Parse a size like ``512MiB``, ``2GiB``, ``1.5GB`` or ``1000000`` into bytes.

    Examples
    --------
    >>> parse_size("2GiB"), parse_size("512MiB"), parse_size("1.5 GB"), parse_size("4096")
    (2147483648, 536870912, 1500000000, 4096)
    """
    t = s.strip().lower().replace(" ", "")
    num = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(num):]
    if unit not in _UNITS or not num:
        raise ValueError(f"invalid size {s!r}: use e.g. 512MiB, 2GiB, 1.5GB")
    return int(float(num) * _UNITS[unit])


def _size_arg(s):
    try:
        v = parse_size(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"invalid size {s!r}: must be positive")
    return v


def format_bytes(n) -> str:
    """Human size in binary units.

    Examples
    --------
    >>> format_bytes(3 * 2**30), format_bytes(1536), format_bytes(12)
    ('3.00 GiB', '1.50 KiB', '12 B')
    """
    if n is None:
        return "unknown"
    for unit, f in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= f:
            return f"{n / f:.2f} {unit}"
    return f"{int(n)} B"


# ----------------------------------------------------------------------------------------------
# running dask

@contextlib.contextmanager
def dask_context(scheduler=None, workers=None, memory_limit=None, tls=(None, None, None)):
    """Set up Dask for one command (see :func:`ooc.cluster.scheduler_context`); yields the
    distributed Client, or None on a local scheduler."""
    from ooc import cluster

    with contextlib.ExitStack() as stack:
        try:
            session = stack.enter_context(cluster.scheduler_context(
                scheduler, workers, memory_limit, tls_ca_file=tls[0], tls_cert=tls[1],
                tls_key=tls[2]))
        except ValueError as e:
            raise UsageError(str(e)) from None
        yield session.client


@contextlib.contextmanager
def progress(show: bool | None, minimum: float = 1.0):
    """A progress bar on stderr around a computation.

    ``show=None`` means: on a terminal only, and only for computations that take more than
    ``minimum`` seconds.  ``True`` always shows it (from the start), ``False`` never.
    """
    if show is None:
        show = sys.stderr.isatty()
        minimum_ = minimum
    else:
        minimum_ = 0.0
    if not show:
        yield
        return
    with _progress_bar_class()(minimum=minimum_, out=sys.stderr, dt=0.2):
        yield


def _progress_bar_class():
    """dask's ProgressBar, but its timer wakes up at once when the computation ends.

    (The stock one sleeps out its redraw interval before returning, adding up to ``dt`` to every
    computation.)
    """
    import threading

    from dask.diagnostics import ProgressBar
    from dask.diagnostics.progress import default_timer

    class Bar(ProgressBar):
        def _start(self, dsk):
            self._wake = threading.Event()
            super()._start(dsk)

        def _finish(self, dsk, state, errored):
            self._wake.set()
            super()._finish(dsk, state, errored)

        def _timer_func(self):
            while self._running:
                elapsed = default_timer() - self._start_time
                if elapsed > self._minimum:
                    self._update_bar(elapsed)
                self._wake.wait(self._dt)

    return Bar


def compute(*arrays, show_progress=None, client=None):
    """dask.compute with a progress bar (see :func:`progress`)."""
    import dask
    if client is not None:
        from ooc import cluster
        return cluster.compute(client, *arrays, progress=show_progress)
    with progress(show_progress):
        return dask.compute(*arrays)


def store_arrays(sources, targets, show_progress=None, client=None):
    """dask.array.store with a progress bar; writes chunk by chunk."""
    import dask.array as da
    if client is not None:
        from ooc import cluster
        cluster.check_reachable(client, targets=targets)
        fut = da.store(sources, targets, lock=False, compute=False)
        compute(fut, show_progress=show_progress, client=client)
        return
    with progress(show_progress):
        da.store(sources, targets, lock=False)


# ----------------------------------------------------------------------------------------------
# output helpers

def _jsonable(v):
    """numpy scalar/array -> JSON-able; non-finite floats become the strings 'nan', 'inf', '-inf'."""
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return _jsonable(v[()])
        return [_jsonable(x) for x in v]
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else str(f)
    if isinstance(v, (np.complexfloating, complex)):
        return str(complex(v))
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return str(v)
    return v


def _fmt_value(v):
    v = np.asarray(v)
    if v.ndim == 0:
        x = v[()]
        return repr(x.item()) if hasattr(x, "item") and v.dtype.kind in "biuf" else str(x)
    return np.array2string(v, threshold=200, max_line_width=100)


def _coords_for_axis(index, axis, keepdims):
    """Full input coordinates of the element chosen for every result position."""
    idx = np.asarray(index)
    if keepdims:
        idx = np.squeeze(idx, axis=axis)
    grids = np.indices(idx.shape)
    parts = [g for g in grids]
    parts.insert(axis, idx)
    return np.stack(parts, axis=-1)


def _coords_for_axes(index, axes, shape, keepdims):
    """:func:`_coords_for_axis` for indices that are flat over several ``axes`` (in that order)."""
    import ooc
    idx = np.asarray(index)
    if keepdims:
        idx = np.squeeze(idx, axis=tuple(axes))
    parts = [None] * len(shape)
    for d, g in zip((d for d in range(len(shape)) if d not in axes), np.indices(idx.shape)):
        parts[d] = g
    for d, c in zip(axes, ooc.unravel_index(idx, [shape[d] for d in axes])):
        parts[d] = np.asarray(c)
    return np.stack(parts, axis=-1)


def _axis_words(axis):
    return f"flat over axes {axis}" if isinstance(axis, tuple) else f"along axis {axis}"


def _label(url, path):
    return url + (f" [{path}]" if path else "")


# ----------------------------------------------------------------------------------------------
# commands

def _cmd_reduce(args):

    import ooc
    from ooc import store as S

    name = args.command
    pair = name in ("max-argmax", "min-argmin")
    fname = name.replace("-", "_")
    axis = _axis_of(args)
    _check_out_args(args)

    a = S.open(args.store, args.path, allow_unsafe_codecs=args.allow_unsafe_codecs)
    url, apath = S.source_of(a)
    ndim = a.ndim
    axis, axes = _resolve_axis(axis, ndim, _label(url, apath))
    rshape = _reduced_shape(a.shape, axes, args.keepdims)
    rsize = math.prod(rshape)
    if not args.out and rsize > MAX_PRINT:
        raise UsageError(f"the result of {name} over {_label(url, apath)} along axis {axis} has shape "
                         f"{rshape} ({rsize} elements), too large to print: pass --out OUT_STORE")
    skipna = getattr(args, "skipna", False) or name.startswith("nan")
    pairfn = ooc.max_argmax if ("max" in name) else ooc.min_argmin
    base = {"function": name if not pair else fname, "store": url, "path": apath,
            "shape": list(a.shape), "dtype": str(a.dtype), "axis": axis, "keepdims": args.keepdims}
    if pair:
        base["skipna"] = bool(skipna)

    t0 = time.perf_counter()
    with dask_context(args.scheduler, args.workers, args.memory_limit,
                      (args.tls_ca_file, args.tls_cert, args.tls_key)) as client:
        if args.out:
            result = _reduce_to_store(args, a, name, pair, fname, axis, skipna, pairfn, client)
            elapsed = time.perf_counter() - t0
            rec = dict(base, index=None, coords=None, value=None, **result,
                       seconds=round(elapsed, 3))
            if args.json:
                print(json.dumps(rec))
            else:
                print(f"{name} of {_label(url, apath)}: shape {tuple(a.shape)} {a.dtype}, axis {axis}")
                for k, label in (("out", "out"), ("out_path", "path"), ("indices_path", "indices"),
                                 ("values_path", "values")):
                    if rec.get(k):
                        print(f"  {label:8s}{rec[k]}")
                print(f"  result  shape {tuple(rshape)} written chunk by chunk")
                _print_time(a, elapsed)
            return 0
        values, indices = pairfn(a, axis=axis, keepdims=args.keepdims, skipna=skipna)
        values, indices = compute(values, indices, show_progress=args.progress, client=client)
    elapsed = time.perf_counter() - t0
    indices = np.asarray(indices)
    if axis is None:
        flat = int(indices.reshape(-1)[0])
        coords = tuple(int(c) for c in np.unravel_index(flat, a.shape)) if ndim else ()
        index_out = indices.tolist() if args.keepdims else flat
        value = np.asarray(values).reshape(-1)[0]
        rec = dict(base, index=index_out, coords=list(coords), value=_jsonable(value))
        if args.json:
            print(json.dumps(rec))
        else:
            print(f"{name} of {_label(url, apath)}: shape {tuple(a.shape)} {a.dtype}, axis None")
            print(f"  index   {flat}")
            print(f"  coords  {coords}")
            print(f"  value   {_fmt_value(value)}")
            _print_time(a, elapsed)
        return 0
    coords = (_coords_for_axes(indices, axes, a.shape, args.keepdims) if isinstance(axis, tuple)
              else _coords_for_axis(indices, axis, args.keepdims))
    rec = dict(base, index=_jsonable(indices), coords=_jsonable(coords), value=_jsonable(values))
    if args.json:
        print(json.dumps(rec))
    else:
        print(f"{name} of {_label(url, apath)}: shape {tuple(a.shape)} {a.dtype}, axis {axis}")
        print(f"  index ({_axis_words(axis)}), shape {indices.shape}:")
        print("    " + _fmt_value(indices).replace("\n", "\n    "))
        print("  value:")
        print("    " + _fmt_value(values).replace("\n", "\n    "))
        _print_time(a, elapsed)
    return 0


def _print_time(a, elapsed):
    if sys.stdout.isatty() or elapsed > 1:
        rate = a.nbytes / elapsed / 2**20 if elapsed > 0 else float("inf")
        print(f"  time    {elapsed:.2f} s ({rate:,.0f} MiB/s over {format_bytes(a.nbytes)})")


def _check_out_args(args):
    """Usage errors of --out/--out-path, before any input is opened."""
    from ooc import store as S
    if args.out_path and not args.out:
        raise UsageError("--out-path needs --out")
    if args.out and str(args.out).endswith(".zip") and (args.memory_limit or args.scheduler not in (
            None, "threads", "threading", "synchronous", "sync", "single-threaded")):
        raise UsageError("--out to a .zip store needs --scheduler threads or synchronous (one "
                         "process must write the zip); write a directory store instead")
    if not args.out:
        return
    for opt in ("store", "values"):  # every input: STORE, and --values of take-at-argmax/-argmin
        src = getattr(args, opt, None)
        if src is None:
            continue
        if S.same_store(args.out, src):
            raise UsageError(f"--out {args.out}: refusing to write into the input store {src}")
        _check_out_location(args if opt == "store" else argparse.Namespace(**{**vars(args),
                                                                              "store": src}))


def _check_out_location(args):
    """The arrays written must lie inside --out, and not in the input store, even through
    symbolic links already inside --out (zarr itself refuses '..' in --out-path)."""
    from ooc import store as S
    out = S._local_path(args.out) if not str(args.out).endswith(".zip") else None
    if out is None:
        return
    root = os.path.realpath(os.path.expanduser(out))
    if os.path.exists(root) and not os.path.isdir(root):
        raise UsageError(f"--out {out}: exists and is not a directory (a Zarr directory store, or "
                         "a path ending in .zip, is expected); refusing to touch it")
    prefix = (args.out_path or "").strip("/")
    if any(part in (".", "..") for part in prefix.split("/") if prefix):
        raise UsageError(f"--out-path {args.out_path!r}: '.' and '..' are not allowed")
    dest = os.path.realpath(os.path.join(root, prefix)) if prefix else root

    def inside(p):
        return os.path.commonpath([root, p]) == root

    if not inside(dest):
        raise UsageError(f"--out-path {args.out_path!r}: resolves to {dest}, outside --out {out} "
                         "(through a symbolic link); refusing to write there")
    if S.same_store(dest, args.store):
        raise UsageError(f"--out-path {args.out_path!r}: resolves to {dest}, inside the input "
                         f"store {args.store}; refusing to write there")
    # chunk directories or files that already exist under the destination and are symbolic links
    # out of --out would receive the result's chunks
    for dirpath, dirnames, filenames in os.walk(dest):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p) and not inside(os.path.realpath(p)):
                raise UsageError(f"--out {out}: {p} is a symbolic link to "
                                 f"{os.path.realpath(p)}, outside the output location; "
                                 "refusing to write through it")


def _reduce_to_store(args, a, name, pair, fname, axis, skipna, pairfn, client):
    return _to_store(args, lambda target, created: _write_results(
        args, a, name, pair, fname, axis, skipna, pairfn, client, target, created))


def _to_store(args, write):
    """Run ``write(target, created)`` into --out (a ZipStore opened once for a .zip), appending
    the arrays it creates to ``created``; on failure, leave them marked incomplete (see below)."""
    from ooc.store import StoreError
    target = args.out
    new_zip = False
    if str(args.out).endswith(".zip"):
        # one ZipStore for everything written, closed at the end (that writes the zip directory)
        import zarr
        new_zip = args.overwrite or not os.path.exists(args.out)
        target = zarr.storage.ZipStore(args.out, mode="w" if args.overwrite else "a")
    created = []
    error = None
    try:
        return write(target, created)
    except BaseException as e:
        error = e
        raise
    finally:
        # A failed or interrupted run leaves its output arrays marked incomplete in their
        # attributes (ooc.safety): nothing reads as a finished result, `ooc info` shows the mark
        # and rerunning the command completes them.  Only arrays this run created for an input it
        # cannot read (a StoreError: rerunning cannot succeed until the input is repaired) are
        # removed, and a new zip, which is unusable unless complete.
        if target is not args.out:
            target.close()
            if error is not None and new_zip:
                with contextlib.suppress(OSError):
                    os.remove(args.out)
        elif isinstance(error, StoreError):
            _remove_arrays(created)


def _remove_arrays(arrays):
    """Delete zarr arrays: their metadata first (then nothing looks like an array), then chunks."""
    from zarr.core.sync import sync
    for z in arrays:
        store, prefix = z.store_path.store, z.store_path.path.strip("/")
        with contextlib.suppress(Exception):
            for meta in ("zarr.json", ".zarray", ".zattrs"):
                sync(store.delete(f"{prefix}/{meta}" if prefix else meta))
            sync(store.delete_dir(prefix))


def _write_results(args, a, name, pair, fname, axis, skipna, pairfn, client, target, created):
    import ooc
    from ooc import store as S
    from ooc.safety import mark_complete

    layout = _layout(a, axis, args.keepdims) if isinstance(axis, tuple) else None

    def make(**kw):  # a new result array, or the incomplete one an interrupted run left
        z, new = _new_result(target, a, axis=axis, keepdims=args.keepdims,
                             overwrite=args.overwrite, layout=layout, **kw)
        if new:
            created.append(z)
        return z

    if not pair:
        out = make(function=name, path=args.out_path)
        fn = getattr(ooc, fname)
        if client is None:
            with progress(args.progress):
                fn(a, axis=axis, keepdims=args.keepdims, out=out)
        else:
            lazy = fn(a, axis=axis, keepdims=args.keepdims)
            if lazy.ndim == 0:
                out[...] = compute(lazy, show_progress=args.progress, client=client)[0]
            else:
                store_arrays(lazy, out, show_progress=args.progress, client=client)
        mark_complete(out)
        return {"out": S._display(args.out), "out_path": args.out_path}
    prefix = (args.out_path or "").strip("/")
    ipath = f"{prefix}/indices" if prefix else "indices"
    vpath = f"{prefix}/values" if prefix else "values"
    zi = make(function=fname, path=ipath, attrs={"role": "indices", "skipna": bool(skipna)})
    zv = make(function=fname, path=vpath, dtype=a.dtype,
              attrs={"role": "values", "skipna": bool(skipna)})
    values, indices = pairfn(a, axis=axis, keepdims=args.keepdims, skipna=skipna)
    if values.ndim == 0:
        v, i = compute(values, indices, show_progress=args.progress, client=client)
        zv[...] = v
        zi[...] = i
    else:
        store_arrays([_aligned(values, zv), _aligned(indices, zi)], [zv, zi],
                     show_progress=args.progress, client=client)
    mark_complete(zv)
    mark_complete(zi)
    return {"out": S._display(args.out), "out_path": args.out_path, "indices_path": ipath,
            "values_path": vpath}


def _layout(a, axes, keepdims):
    """(shape, chunks) of the result of reducing ``a`` over ``axes``: chunks follow ``a``'s grid."""
    from ooc import store as S
    shape, chunks = [], []
    for d, (n, c) in enumerate(zip(a.shape, S._chunk_sizes(a))):
        if d not in axes:
            shape.append(n)
            chunks.append(max(1, min(c, n)))
        elif keepdims:
            shape.append(1)
            chunks.append(1)
    return tuple(shape), tuple(chunks)


def _layout_of(lazy):
    """(shape, chunks) of a Dask result for the Zarr array it is stored into."""
    return tuple(lazy.shape), tuple(max(1, c[0]) if c else 1 for c in lazy.chunks)


def _new_result(target, a, *, function, axis, keepdims, path, overwrite, dtype=None, attrs=None,
                layout=None):
    """``ooc.safety.create_or_resume``: ``(array, created)``.  ``layout``, ``(shape, chunks)``, is
    for results ``ooc.store.create_result`` cannot shape from an int or None axis (several axes,
    soft-argmax's coordinate axis, softmax): the array is made for a stand-in of that shape with
    one more axis, of length 1, reduced; the attributes still describe ``a`` and ``axis``."""
    from ooc import store as S
    from ooc.safety import create_or_resume
    if layout is None:
        return create_or_resume(target, a, function=function, axis=axis, keepdims=keepdims,
                                path=path, dtype=dtype, overwrite=overwrite, attrs=attrs)
    import dask.array as da
    shape, chunks = layout
    like = da.empty(tuple(shape) + (1,), chunks=tuple(chunks) + (1,), dtype=a.dtype)
    info = {"axis": list(axis) if isinstance(axis, tuple) else axis, "keepdims": bool(keepdims),
            "source_shape": list(a.shape), "source_dtype": str(np.dtype(a.dtype)),
            "source_chunks": list(S._chunk_sizes(a)), **(attrs or {})}
    return create_or_resume(target, like, function=function, axis=len(shape), keepdims=False,
                            path=path, dtype=dtype, overwrite=overwrite, source=S.source_of(a),
                            attrs=info)


def _aligned(lazy, z):
    """``lazy`` rechunked to the chunks of zarr array ``z`` where they differ: then no two tasks
    write into the same stored chunk."""
    import dask.array as da
    if lazy.ndim and lazy.chunks != da.core.normalize_chunks(z.chunks, lazy.shape):
        return lazy.rechunk(z.chunks)
    return lazy


def _cmd_more(args):
    """take-at-argmax, take-at-argmin, logsumexp, soft-argmax and softmax."""
    import ooc
    from ooc import store as S

    name = args.command
    fname = name.replace("-", "_")
    take = name.startswith("take-at")
    keepdims = bool(getattr(args, "keepdims", False))
    axis = _axis_of(args)
    if name == "softmax" and not args.out:
        raise UsageError("the softmax is as large as its input: pass --out OUT_STORE")
    _check_out_args(args)

    a = S.open(args.store, args.path, allow_unsafe_codecs=args.allow_unsafe_codecs)
    url, apath = S.source_of(a)
    axis, axes = _resolve_axis(axis, a.ndim, _label(url, apath))
    base = {"function": fname, "store": url, "path": apath, "shape": list(a.shape),
            "dtype": str(a.dtype), "axis": axis}
    if hasattr(args, "keepdims"):
        base["keepdims"] = keepdims
    attrs = {}
    head = f"{name} of {_label(url, apath)}: shape {tuple(a.shape)} {a.dtype}, axis {axis}"
    if take:
        v = S.open(args.values, args.values_path, allow_unsafe_codecs=args.allow_unsafe_codecs)
        vurl, vpath = S.source_of(v)
        if tuple(v.shape) != tuple(a.shape):
            raise UsageError(f"--values {_label(vurl, vpath)} has shape {tuple(v.shape)}, "
                             f"{_label(url, apath)} has shape {tuple(a.shape)}: they must match")
        base.update(values_store=vurl, values_path=vpath, values_dtype=str(v.dtype),
                    skipna=bool(args.skipna))
        attrs = {"values_store": vurl, "values_path": vpath, "skipna": bool(args.skipna)}
        head += f", values {_label(vurl, vpath)} {v.dtype}"
        lazy = getattr(ooc, fname)(v, a, axis, keepdims=keepdims, skipna=args.skipna)
    elif name == "logsumexp":
        lazy = ooc.logsumexp(a, axis, keepdims=keepdims)
    elif name == "soft-argmax":
        base["beta"] = attrs["beta"] = args.beta
        head += f", beta {args.beta}"
        lazy = ooc.soft_argmax(a, axis, beta=args.beta)
    else:
        lazy = ooc.softmax(a, axis)
    if not args.out and lazy.size > MAX_PRINT:
        raise UsageError(f"the result of {name} over {_label(url, apath)} along axis {axis} has "
                         f"shape {tuple(lazy.shape)} ({lazy.size} elements), too large to print: "
                         "pass --out OUT_STORE")
    # create_result shapes results of an int or None axis; the others get their layout from lazy
    own = (isinstance(axis, tuple) or name == "softmax"
           or (name == "soft-argmax" and axis is None))
    layout = _layout_of(lazy) if own else None

    t0 = time.perf_counter()
    with dask_context(args.scheduler, args.workers, args.memory_limit,
                      (args.tls_ca_file, args.tls_cert, args.tls_key)) as client:
        if args.out:
            def write(target, created):
                from ooc.safety import mark_complete
                z, new = _new_result(target, a, function=fname, axis=axis, keepdims=keepdims,
                                     path=args.out_path, overwrite=args.overwrite,
                                     dtype=lazy.dtype, attrs=attrs, layout=layout)
                if new:
                    created.append(z)
                if lazy.ndim == 0:
                    z[...] = compute(lazy, show_progress=args.progress, client=client)[0]
                else:
                    store_arrays(_aligned(lazy, z), z, show_progress=args.progress, client=client)
                mark_complete(z)
                return {"out": S._display(args.out), "out_path": args.out_path}

            result = _to_store(args, write)
            elapsed = time.perf_counter() - t0
            rec = dict(base, value=None, **result, seconds=round(elapsed, 3))
            if args.json:
                print(json.dumps(rec))
            else:
                print(head)
                print(f"  out     {rec['out']}")
                if rec["out_path"]:
                    print(f"  path    {rec['out_path']}")
                print(f"  result  shape {tuple(lazy.shape)} {lazy.dtype} written chunk by chunk")
                _print_time(a, elapsed)
            return 0
        (value,) = compute(lazy, show_progress=args.progress, client=client)
    elapsed = time.perf_counter() - t0
    value = np.asarray(value)
    if args.json:
        print(json.dumps(dict(base, value=_jsonable(value))))
        return 0
    print(head)
    if name == "soft-argmax" and axis is None:
        print(f"  coords  {tuple(_jsonable(value))}")
    elif value.ndim == 0:
        print(f"  value   {_fmt_value(value)}")
    else:
        what = ("expected coordinates" if name == "soft-argmax" and isinstance(axis, tuple)
                else "value")
        print(f"  {what}, shape {value.shape}:")
        print("    " + _fmt_value(value).replace("\n", "\n    "))
    _print_time(a, elapsed)
    return 0


def _cmd_info(args):
    from ooc import store as S
    d = S.info(args.store, args.path)
    if args.json:
        print(json.dumps(_jsonable_dict(d)))
        return 0
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
    return 0


def _jsonable_dict(d):
    return {k: _jsonable(v) if not isinstance(v, (str, type(None), list)) else v for k, v in d.items()}


def _cmd_demo(args):
    from ooc import demo
    return demo.run(directory=args.dir, size=args.size, keep=args.keep or bool(args.dir),
                    workers=args.workers, show_progress=args.progress)


# ----------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    """Run the ``ooc`` command line; returns the exit status (see the module docstring)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: 2 for usage errors, 0 for --help
        return int(e.code) if isinstance(e.code, int) else 2
    debug = getattr(args, "debug", False)
    try:
        return int(args.func(args) or 0)
    except UsageError as e:
        if debug:
            raise
        print(f"ooc {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ooc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `ooc info ... | head`
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 1
    except Exception as e:
        if debug:
            raise
        print(f"ooc {args.command}: error: {_one_line(e, args)}", file=sys.stderr)
        return 1


def _one_line(e, args):
    from ooc.store import StoreError
    msg = " ".join(str(e).split()) or type(e).__name__
    store = getattr(args, "store", None)
    if isinstance(e, StoreError) or store is None or store in msg:
        return msg
    where = _label(store, getattr(args, "path", None))
    return f"{where}: {type(e).__name__}: {msg}" if not isinstance(e, (ValueError, OSError)) \
        else f"{where}: {msg}"


def console_main():  # pragma: no cover - thin wrapper
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
