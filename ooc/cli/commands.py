"""What each ``ooc`` command does: one driver for every reduction (open -> lazy result -> print
or write), and ``info`` and ``demo``."""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import api, runtime
from .. import demo as demo_module
from ..axes import result_shape
from ..errors import OutputLocationError
from ..store import results
from ..store.dims import coordinate, dimension_names
from ..store.info import info as store_info
from ..store.inputs import open as open_store
from ..store.inputs import open_node, source_of
from ..store.locations import display
from .output import (axis_words, coords_for_axis, fmt_value, jsonable, label, print_info,
                     print_json, print_time)
from .parser import PAIRS

__all__ = ["UsageError", "MAX_PRINT", "reduce", "info", "demo"]

MAX_PRINT = 10_000  # elements of a result printed at most; larger results need --out


class UsageError(Exception):
    """Bad command line: exit status 2."""


# ----------------------------------------------------------------------------------------------
# arguments

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


def _resolve_axis(axis, ndim, where, names=None):
    """``(axis, axes)``: the axis normalized to None, an int or a tuple of non-negative ints (in the
    order given), and the tuple of the axes it names (every axis for None).  Dimension names are
    looked up in ``names`` (the array's dimension names, or None)."""
    if axis is None:
        return None, tuple(range(ndim))
    many = isinstance(axis, tuple)
    given = axis if many else (axis,)
    if any(isinstance(ax, str) for ax in given):
        if not names:
            raise UsageError(f"invalid axis {','.join(str(ax) for ax in given)!r}: {where} has no "
                             "dimension names; give axis numbers")
        unknown = [ax for ax in given if isinstance(ax, str) and ax not in names]
        if unknown:
            raise UsageError(f"invalid axis {unknown[0]!r}: no such dimension in {where}; its "
                             f"dimensions are {', '.join(names)}")
        given = tuple(names.index(ax) if isinstance(ax, str) else ax for ax in given)
        axis = given if many else given[0]
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


def _check_out_args(args):
    """Usage errors of --out/--out-path, before any input is opened."""
    if args.out_path and not args.out:
        raise UsageError("--out-path needs --out")
    if getattr(args, "shards", None) is not None and not args.out:
        raise UsageError("--shards needs --out")
    if args.out and str(args.out).endswith(".zip") and (args.memory_limit or args.scheduler not in (
            None, "threads", "threading", "synchronous", "sync", "single-threaded")):
        raise UsageError("--out to a .zip store needs --scheduler threads or synchronous (one "
                         "process must write the zip); write a directory store instead")
    if not args.out:
        return
    for opt in ("store", "values"):  # every input: STORE, and --values of take-at-argmax/-argmin
        src = getattr(args, opt, None)
        if src is not None:
            try:
                results.check_output_location(args.out, args.out_path, src)
            except OutputLocationError as e:
                raise UsageError(str(e)) from None


def _names(args, axis):
    """The input's dimension names when ``axis`` names dimensions (metadata only), else None."""
    given = axis if isinstance(axis, tuple) else (axis,)
    if not any(isinstance(ax, str) for ax in given):
        return None
    z, _, _ = open_node(args.store, args.path, allow_unsafe_codecs=args.allow_unsafe_codecs)
    return dimension_names(z)


@contextlib.contextmanager
def _session(args):
    """The scheduler of one command; yields the distributed Client, or None."""
    with contextlib.ExitStack() as stack:
        try:
            session = stack.enter_context(runtime.scheduler_context(
                args.scheduler, args.workers, args.memory_limit, tls_ca_file=args.tls_ca_file,
                tls_cert=args.tls_cert, tls_key=args.tls_key))
        except ValueError as e:
            raise UsageError(str(e)) from None
        yield session.client


# ----------------------------------------------------------------------------------------------
# what each reduction computes, prints and writes

@dataclass
class Output:
    """One array a command writes under --out."""

    lazy: object
    function: str
    path: str | None
    dtype: object = None
    attrs: dict | None = None
    layout: tuple | None = None


@dataclass
class Plan:
    """A reduction command, resolved: the record printed, the lazy results, the arrays written."""

    head: str
    base: dict
    lazy: tuple                          # computed and printed without --out
    outputs: list = field(default_factory=list)
    show: object = None                  # show(values) prints the computed ``lazy``
    empty: dict = field(default_factory=dict)   # record entries when written to --out
    out_paths: dict = field(default_factory=dict)
    shape: tuple = ()


def _layout_of(lazy):
    """(shape, chunks) of a Dask result for the Zarr array it is stored into."""
    return tuple(lazy.shape), tuple(max(1, c[0]) if c else 1 for c in lazy.chunks)


def _plan_arg(args, a, axis, axes, where):
    """argmax, argmin, nanargmax, nanargmin, max-argmax and min-argmin."""
    name = args.command
    pair = name in PAIRS
    fname = name.replace("-", "_")
    keepdims = args.keepdims
    skipna = getattr(args, "skipna", False) or name.startswith("nan")
    rshape = result_shape(a.shape, axes, keepdims)
    if not args.out and math.prod(rshape) > MAX_PRINT:
        raise UsageError(f"the result of {name} over {where} along axis {axis} has shape "
                         f"{rshape} ({math.prod(rshape)} elements), too large to print: pass "
                         "--out OUT_STORE")
    pairfn = api.max_argmax if "max" in name else api.min_argmin
    values, indices = pairfn(a, axis=axis, keepdims=keepdims, skipna=skipna)
    base = {"function": fname, "store": None, "path": None, "shape": list(a.shape),
            "dtype": str(a.dtype), "axis": axis, "keepdims": keepdims}
    if pair:
        base["skipna"] = bool(skipna)
    layout = _layout_of(indices) if isinstance(axis, tuple) else None
    plan = Plan(f"{name} of {where}: shape {tuple(a.shape)} {a.dtype}, axis {axis}", base,
                (values, indices), empty={"index": None, "coords": None, "value": None},
                shape=rshape)
    if not pair:
        plan.outputs = [Output(indices, name, args.out_path, layout=layout)]
    else:
        prefix = (args.out_path or "").strip("/")
        ipath = f"{prefix}/indices" if prefix else "indices"
        vpath = f"{prefix}/values" if prefix else "values"
        plan.outputs = [
            Output(values, fname, vpath, a.dtype, {"role": "values", "skipna": bool(skipna)},
                   layout),
            Output(indices, fname, ipath, None, {"role": "indices", "skipna": bool(skipna)},
                   layout)]
        plan.out_paths = {"indices_path": ipath, "values_path": vpath}

    def show(computed):
        vals, idx = (np.asarray(c) for c in computed)
        if axis is None:
            flat = int(idx.reshape(-1)[0])
            coords = tuple(int(c) for c in api.unravel_index(flat, a.shape)) if a.ndim else ()
            value = vals.reshape(-1)[0]
            rec = dict(base, index=idx.tolist() if keepdims else flat, coords=list(coords),
                       value=jsonable(value))
            lines = [f"  index   {flat}", f"  coords  {coords}", f"  value   {fmt_value(value)}"]
        else:
            coords = coords_for_axis(idx, axes, a.shape, keepdims, api.unravel_index)
            rec = dict(base, index=jsonable(idx), coords=jsonable(coords), value=jsonable(vals))
            lines = [f"  index ({axis_words(axis)}), shape {idx.shape}:",
                     "    " + fmt_value(idx).replace("\n", "\n    "), "  value:",
                     "    " + fmt_value(vals).replace("\n", "\n    ")]
        return rec, lines

    plan.show = show
    return plan


def _plan_other(args, a, axis, axes, where):
    """take-at-argmax, take-at-argmin, logsumexp, soft-argmax and softmax."""
    name = args.command
    fname = name.replace("-", "_")
    keepdims = bool(getattr(args, "keepdims", False))
    base = {"function": fname, "store": None, "path": None, "shape": list(a.shape),
            "dtype": str(a.dtype), "axis": axis}
    if hasattr(args, "keepdims"):
        base["keepdims"] = keepdims
    attrs = {}
    head = f"{name} of {where}: shape {tuple(a.shape)} {a.dtype}, axis {axis}"
    if name.startswith("take-at"):
        v = open_store(args.values, args.values_path,
                       allow_unsafe_codecs=args.allow_unsafe_codecs)
        vurl, vpath = source_of(v)
        if tuple(v.shape) != tuple(a.shape):
            raise UsageError(f"--values {label(vurl, vpath)} has shape {tuple(v.shape)}, "
                             f"{where} has shape {tuple(a.shape)}: they must match")
        base.update(values_store=vurl, values_path=vpath, values_dtype=str(v.dtype),
                    skipna=bool(args.skipna))
        attrs = {"values_store": vurl, "values_path": vpath, "skipna": bool(args.skipna)}
        head += f", values {label(vurl, vpath)} {v.dtype}"
        lazy = getattr(api, fname)(v, a, axis, keepdims=keepdims, skipna=args.skipna)
    elif name == "logsumexp":
        lazy = api.logsumexp(a, axis, keepdims=keepdims)
    elif name == "soft-argmax":
        base["beta"] = attrs["beta"] = args.beta
        head += f", beta {args.beta}"
        lazy = api.soft_argmax(a, axis, beta=args.beta)
    else:
        lazy = api.softmax(a, axis)
    if not args.out and lazy.size > MAX_PRINT:
        raise UsageError(f"the result of {name} over {where} along axis {axis} has "
                         f"shape {tuple(lazy.shape)} ({lazy.size} elements), too large to print: "
                         "pass --out OUT_STORE")
    # create_result shapes results of an int or None axis; the others get their layout from lazy
    own = (isinstance(axis, tuple) or name == "softmax"
           or (name == "soft-argmax" and axis is None))
    plan = Plan(head, base, (lazy,), empty={"value": None}, shape=tuple(lazy.shape))
    plan.outputs = [Output(lazy, fname, args.out_path, lazy.dtype, attrs,
                           _layout_of(lazy) if own else None)]

    def show(computed):
        value = np.asarray(computed[0])
        rec = dict(base, value=jsonable(value))
        if name == "soft-argmax" and axis is None:
            lines = [f"  coords  {tuple(jsonable(value))}"]
        elif value.ndim == 0:
            lines = [f"  value   {fmt_value(value)}"]
        else:
            what = ("expected coordinates" if name == "soft-argmax" and isinstance(axis, tuple)
                    else "value")
            lines = [f"  {what}, shape {value.shape}:",
                     "    " + fmt_value(value).replace("\n", "\n    ")]
        return rec, lines

    plan.show = show
    return plan


def _plan_idx(args, a, axis, axes, where):
    """idxmax and idxmin: the coordinate labels of the best element along one dimension."""
    name = args.command
    if axis is None or isinstance(axis, tuple):
        raise UsageError(f"{name} reduces one axis: give --axis with one number or dimension name")
    z, _, _ = open_node(args.store, args.path, allow_unsafe_codecs=args.allow_unsafe_codecs)
    names = dimension_names(z)
    dim = names[axis] if names else None
    labels = coordinate(z, dim) if dim is not None else None
    if labels is None:
        raise UsageError(f"{where}: no coordinate array for axis {axis}"
                         + (f" ({dim!r})" if dim else " (the array has no dimension names)")
                         + f" beside it; use arg{name[3:]} for indices")
    skipna = args.skipna if args.skipna is not None else a.dtype.kind in "fc"
    op = name[3:]
    record = f"nanarg{op}-or-missing" if skipna else f"arg{op}"
    _, index = api.reduce(record, a, axis)
    missing = _missing_label(labels.dtype)
    dtype = labels.dtype if missing is None or labels.dtype.kind in "fcmM" else np.dtype(float)
    lazy = index.map_blocks(_take_labels, labels, missing, dtype=dtype)
    rshape = tuple(lazy.shape)
    if not args.out and math.prod(rshape) > MAX_PRINT:
        raise UsageError(f"the result of {name} over {where} along axis {axis} has shape "
                         f"{rshape} ({math.prod(rshape)} elements), too large to print: pass "
                         "--out OUT_STORE")
    base = {"function": name, "store": None, "path": None, "shape": list(a.shape),
            "dtype": str(a.dtype), "axis": axis, "dim": dim, "skipna": bool(skipna)}
    plan = Plan(f"{name} of {where}: shape {tuple(a.shape)} {a.dtype}, dim {dim!r}", base, (lazy,),
                empty={"label": None}, shape=rshape)
    plan.outputs = [Output(lazy, name, args.out_path, dtype, {"dim": dim, "skipna": bool(skipna)})]

    def show(computed):
        value = np.asarray(computed[0])
        rec = dict(base, label=jsonable(value))
        if value.ndim == 0:
            return rec, [f"  label   {fmt_value(value)}"]
        return rec, [f"  label ({dim}), shape {value.shape}:",
                     "    " + fmt_value(value).replace("\n", "\n    ")]

    plan.show = show
    return plan


def _plan_topk(args, a, axis, axes, where):
    """top-k: the k best values and their indices, written as two arrays under --out."""
    k = args.k
    n = math.prod(a.shape[d] for d in axes) if a.ndim else 1
    if k > n:
        raise UsageError(f"--k {k} is larger than the {n} elements {where} has along axis {axis}")
    if args.fill_index is not None and not args.skipna:
        raise UsageError("--fill-index needs --skipna")
    values, indices = api.top_k(a, k, axis=axis, mode=args.mode, skipna=args.skipna,
                                fill_index=args.fill_index)
    rshape = tuple(indices.shape)
    if not args.out and math.prod(rshape) > MAX_PRINT:
        raise UsageError(f"the result of top-k over {where} along axis {axis} has shape {rshape} "
                         f"({math.prod(rshape)} elements), too large to print: pass --out OUT_STORE")
    base = {"function": "top_k", "store": None, "path": None, "shape": list(a.shape),
            "dtype": str(a.dtype), "axis": axis, "k": k, "mode": args.mode,
            "skipna": bool(args.skipna)}
    attrs = {"k": k, "mode": args.mode, "skipna": bool(args.skipna)}
    head = f"top-k of {where}: shape {tuple(a.shape)} {a.dtype}, axis {axis}, k {k} ({args.mode})"
    plan = Plan(head, base, (values, indices), empty={"values": None, "indices": None},
                shape=rshape)
    prefix = (args.out_path or "").strip("/")
    ipath = f"{prefix}/indices" if prefix else "indices"
    vpath = f"{prefix}/values" if prefix else "values"
    layout = _layout_of(indices)
    plan.outputs = [Output(values, "top_k", vpath, a.dtype, {"role": "values", **attrs}, layout),
                    Output(indices, "top_k", ipath, None, {"role": "indices", **attrs}, layout)]
    plan.out_paths = {"indices_path": ipath, "values_path": vpath}

    def show(computed):
        vals, idx = (np.asarray(c) for c in computed)
        rec = dict(base, values=jsonable(vals), indices=jsonable(idx))
        lines = [f"  indices ({axis_words(axis) if axis is not None else 'flat'}), shape "
                 f"{idx.shape}:", "    " + fmt_value(idx).replace("\n", "\n    "), "  values:",
                 "    " + fmt_value(vals).replace("\n", "\n    ")]
        if axis is None and a.ndim:
            coords = [list(map(int, c)) for c in zip(*api.unravel_index(idx, a.shape))]
            rec["coords"] = coords
            lines.insert(2, f"  coords  {[tuple(c) for c in coords]}")
        return rec, lines

    plan.show = show
    return plan


def _missing_label(dtype):
    """xarray's missing value for labels of ``dtype``: NaT, NaN (integers promote to float)."""
    if dtype.kind in "mM":
        return dtype.type("NaT")
    if dtype.kind in "iufcb":
        return np.nan
    return None


def _take_labels(index, labels, missing):
    out = labels[np.maximum(index, 0)]
    if missing is None or not (index < 0).any():
        return out if missing is None or labels.dtype.kind in "fcmM" else out.astype(float)
    out = out.astype(float) if labels.dtype.kind in "iub" else out.copy()
    out[index < 0] = missing
    return out


def _write(args, a, axis, plan, client):
    """Create (or resume) the output arrays, write them chunk by chunk, mark them complete."""
    keepdims = bool(getattr(args, "keepdims", False))
    shards = getattr(args, "shards", None)
    for o in plan.outputs:
        if isinstance(shards, tuple) and len(shards) != o.lazy.ndim:
            raise UsageError(f"--shards {','.join(map(str, shards))}: give one size per axis of "
                             f"the result, which has shape {tuple(o.lazy.shape)}")
    with results.output_target(args.out, args.overwrite) as (target, created):
        arrays = []
        for o in plan.outputs:
            z, new = results.new_result(target, a, function=o.function, axis=axis,
                                        keepdims=keepdims, path=o.path, overwrite=args.overwrite,
                                        dtype=o.dtype, attrs=o.attrs, layout=o.layout,
                                        shards=shards)
            if new:
                created.append(z)
            arrays.append(z)
        lazies = [o.lazy for o in plan.outputs]
        targets = [results.for_writing(z) for z in arrays]   # every chunk stored, see mark_complete
        if lazies[0].ndim == 0:
            computed = runtime.compute(*lazies, progress=args.progress, client=client)
            for z, v in zip(targets, computed):
                z[...] = v
        else:   # one task per stored object: shard, or chunk
            runtime.store([results.aligned(lazy, z) for lazy, z in zip(lazies, arrays)], targets,
                          progress=args.progress, client=client)
        for z in arrays:
            results.mark_complete(z)   # after checking that every chunk is in the store
    return {"out": display(args.out), "out_path": args.out_path, **plan.out_paths}


def reduce(args):
    """Every reduction command: open -> lazy result -> print, or write to --out."""
    name = args.command
    axis = _axis_of(args)
    if name == "softmax" and not args.out:
        raise UsageError("the softmax is as large as its input: pass --out OUT_STORE")
    _check_out_args(args)
    a = open_store(args.store, args.path, allow_unsafe_codecs=args.allow_unsafe_codecs)
    url, apath = source_of(a)
    where = label(url, apath)
    axis, axes = _resolve_axis(axis, a.ndim, where, _names(args, axis))
    planner = (_plan_idx if name in ("idxmax", "idxmin") else
               _plan_topk if name == "top-k" else
               _plan_other if name.startswith("take-at") or name in (
                   "logsumexp", "soft-argmax", "softmax") else _plan_arg)
    plan = planner(args, a, axis, axes, where)
    plan.base.update(store=url, path=apath)

    t0 = time.perf_counter()
    with _session(args) as client:
        if args.out:
            written = _write(args, a, axis, plan, client)
            elapsed = time.perf_counter() - t0
            rec = dict(plan.base, **plan.empty, **written, seconds=round(elapsed, 3))
            if args.json:
                print_json(rec)
                return 0
            print(plan.head)
            for k, what in (("out", "out"), ("out_path", "path"), ("indices_path", "indices"),
                            ("values_path", "values")):
                if rec.get(k):
                    print(f"  {what:8s}{rec[k]}")
            dtype = f" {plan.lazy[-1].dtype}" if len(plan.lazy) == 1 else ""
            print(f"  result  shape {tuple(plan.shape)}{dtype} written chunk by chunk")
            print_time(a.nbytes, elapsed)
            return 0
        computed = runtime.compute(*plan.lazy, progress=args.progress, client=client)
    elapsed = time.perf_counter() - t0
    rec, lines = plan.show(computed)
    if args.json:
        print_json(rec)
        return 0
    print(plan.head)
    for line in lines:
        print(line)
    print_time(a.nbytes, elapsed)
    return 0


def info(args):
    """``ooc info``."""
    print_info(store_info(args.store, args.path), args.json)
    return 0


def demo(args):
    """``ooc demo``."""
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'ooc[plot]'") from None
    return demo_module.run(directory=args.dir, size=args.size, keep=args.keep or bool(args.dir),
                           workers=args.workers, show_progress=args.progress, plot=args.plot)
