"""The ``ooc`` command line, declared: one table of commands and the option groups they share.

:data:`COMMANDS` lists every command with its help and option groups; :func:`build_parser` turns
the table into an :class:`argparse.ArgumentParser`.  Nothing here opens a store.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from dask.utils import parse_bytes

from ..version import __version__

__all__ = ["Command", "COMMANDS", "ARG_FAMILY", "PAIRS", "build_parser", "parse_size",
           "parse_axis", "join_negative_axes", "parse_shards"]


def parse_size(s: str) -> int:
    """Bytes from a size like ``512MiB``, ``2GiB``, ``1.5GB`` or ``1000000`` (dask's rules).

    Examples
    --------
    >>> parse_size("2GiB"), parse_size("512MiB"), parse_size("1.5 GB"), parse_size("4096")
    (2147483648, 536870912, 1500000000, 4096)
    """
    try:
        return int(parse_bytes(s))
    except (ValueError, TypeError):
        raise ValueError(f"invalid size {s!r}: use e.g. 512MiB, 2GiB, 1.5GB") from None


def _size_arg(s):
    try:
        v = parse_size(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"invalid size {s!r}: must be positive")
    return v


def _positive_int(s):
    try:
        v = int(s)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"invalid count {s!r}: give a positive integer")
    return v


def parse_axis(s):
    """``--axis`` value: None, an axis (a number or a dimension name), or a tuple of them for a
    comma-separated list (``"1,"``: ``(1,)``).

    Examples
    --------
    >>> parse_axis("2"), parse_axis("-1,0"), parse_axis("none"), parse_axis("time,lat")
    (2, (-1, 0), None, ('time', 'lat'))
    """
    t = s.strip()
    if t.lower() in ("none", ""):
        return None

    def one(x):
        x = x.strip()
        try:
            return int(x)
        except ValueError:
            if not x or x[0] in "+-" or x[0].isdigit():
                raise argparse.ArgumentTypeError(
                    f"invalid axis {s!r}: give an integer, a dimension name, several separated "
                    "by commas, or 'none'") from None
            return x

    if "," not in t:
        return one(t)
    parts = t.split(",")
    if parts[-1].strip() == "":
        parts = parts[:-1]
    return tuple(one(x) for x in parts)


def parse_shards(s):
    """``--shards`` value: ``"auto"``, None for ``"none"``, or a tuple of positive ints.

    Examples
    --------
    >>> parse_shards("1024"), parse_shards("1024,512"), parse_shards("auto"), parse_shards("none")
    ((1024,), (1024, 512), 'auto', None)
    """
    t = s.strip().lower()
    if t in ("auto", "none"):
        return None if t == "none" else "auto"
    try:
        sizes = tuple(int(x) for x in t.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"invalid shards {s!r}: give positive integers separated "
                                         "by commas (one per axis of the result), or 'auto'")
    return sizes


AXIS_HELP = ("axis to reduce (default: the flattened array); several axes as --axis 0 --axis 2 "
             "or --axis 0,2 (the index is then the flat C-order index over them, in that order)")
UNSAFE_HELP = ("read a store whose codecs are not on ooc's safe list (e.g. pickle, which runs "
               "code stored in the chunks): only for stores you trust")
OVERWRITE_HELP = ("replace an existing output array (an incomplete one left by an interrupted run "
                  "of the same command is completed without it)")


# ----------------------------------------------------------------------------------------------
# option groups: each adds its options to a subparser

def _input(s, cmd):
    s.add_argument("store", metavar="STORE", help="input Zarr store (path or URL); read only"
                   + ("; the key array whose maximum/minimum decides the position"
                      if cmd.name.startswith("take-at") else ""))
    s.add_argument("--path", help="array path inside the store (needed when it holds several)")


def _values(s, cmd):
    s.add_argument("--values", metavar="VSTORE", required=True,
                   help="Zarr store of the array to take from (same shape as STORE's)")
    s.add_argument("--values-path", metavar="P", help="array path inside VSTORE")


def _axis(s, cmd):
    s.add_argument("--axis", "--dim", dest="axis", type=parse_axis, default=None, action="append",
                   help=cmd.axis_help + "; a dimension name (e.g. time) works wherever a number "
                                        "does (--dim is a synonym)")


def _keepdims(s, cmd):
    s.add_argument("--keepdims", action="store_true", help="keep the reduced axes with length 1")


def _skipna(s, cmd):
    s.add_argument("--skipna", action="store_true",
                   help="ignore NaN (as nanargmax does)" if cmd.name in PAIRS
                   else "ignore NaN in STORE (as nanargmax)")


def _finite_float(s):
    try:
        v = float(s)
    except ValueError:
        v = float("nan")
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"invalid value {s!r}: give a finite number")
    return v


def _skipna_idx(s, cmd):
    s.add_argument("--skipna", action=argparse.BooleanOptionalAction, default=None,
                   help="ignore NaN (default: for float data, as xarray); an all-NaN slice gets "
                        "the labels' missing value (NaN, NaT)")


def _beta(s, cmd):
    s.add_argument("--beta", type=_finite_float, default=1.0,
                   help="inverse temperature (default 1; large: close to argmax; negative: a "
                        "soft argmin)")


def _nonnegative_int(s):
    try:
        v = int(s)
    except ValueError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError(f"invalid count {s!r}: give a non-negative integer")
    return v


def _top_k(s, cmd):
    g = s.add_argument_group("top k", "the values and their indices are written as arrays "
                             "'values' and 'indices' under --out")
    g.add_argument("--k", type=_nonnegative_int, required=True,
                   help="how many elements (0 to the length of the reduced axes)")
    g.add_argument("--mode", choices=("largest", "smallest"), default="largest",
                   help="the largest (default) or the smallest; NaN comes last either way")
    g.add_argument("--skipna", action="store_true",
                   help="never return NaN: fail where a slice has fewer than K non-NaN values, "
                        "or fill those places with --fill-index")
    g.add_argument("--fill-index", type=int, default=None, metavar="I",
                   help="with --skipna, the index (and NaN as the value) of missing places")


def _output(s, cmd):
    s.add_argument("--out", metavar="OUT_STORE", required=False,
                   help="write the result into this Zarr store, chunk by chunk"
                        + (" (required)" if cmd.name == "softmax" else
                           " (needed for large results)")
                        + ("; arrays 'values' and 'indices' are created" if cmd.name in PAIRS
                           else ""))
    s.add_argument("--out-path", metavar="P", help="array path inside OUT_STORE"
                   + (" (prefix of values/indices)" if cmd.name in PAIRS else ""))
    s.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    s.add_argument("--shards", type=parse_shards, default=None, metavar="N[,N...]|auto",
                   help="with --out: write sharded Zarr arrays, with this shard shape (one size "
                        "per axis of the result, e.g. 1024 or 1024,512) or 'auto' (whole chunks "
                        "up to 32 MiB per shard); each shard is written by one task")
    s.add_argument("--allow-unsafe-codecs", action="store_true", help=UNSAFE_HELP)


def _scheduler(s, cmd):
    s.add_argument("--scheduler", default=None,
                   metavar="threads|processes|synchronous|local-cluster|ADDRESS",
                   help="Dask scheduler, or the address of a dask.distributed scheduler, e.g. "
                        "tcp://HOST:8786 (default threads; a LocalCluster with --memory-limit)")
    _workers(s, cmd)
    s.add_argument("--memory-limit", metavar="SIZE", default=None,
                   help="start a dask.distributed LocalCluster whose workers have this memory "
                        "limit each, e.g. 2GiB")
    for opt, what in (("--tls-ca-file", "CA certificate"), ("--tls-cert", "client certificate"),
                      ("--tls-key", "client private key")):
        s.add_argument(opt, metavar="FILE", default=None,
                       help=f"TLS {what} for the scheduler (default: dask's distributed.comm.tls "
                            "configuration)")
    _progress(s, cmd)


def _workers(s, cmd):
    s.add_argument("--workers", type=_positive_int, default=None,
                   help="threads or processes, or a LocalCluster's worker processes "
                        "(default: one per core)")


def _progress(s, cmd):
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on a terminal, for reductions that take "
                        "more than a moment)")


def _json(s, cmd):
    s.add_argument("--json", action="store_true", help="print one JSON object")


def _info_input(s, cmd):
    s.add_argument("store", metavar="STORE")
    s.add_argument("--path", help="array path inside the store")


def _demo(s, cmd):
    s.add_argument("--dir", help="where to create the store (default: a temporary directory, "
                                 "removed afterwards)")
    s.add_argument("--size", default=None, type=_size_arg,
                   help="logical size of the sample data, e.g. 512MiB, 2GiB "
                        "(default 1GiB: under a minute on 2 cores, store creation included)")
    s.add_argument("--keep", action="store_true",
                   help="keep the store (default when --dir is given)")
    s.add_argument("--plot", metavar="FILE.png",
                   help="draw the argmax map of the store into this image (needs matplotlib: "
                        "pip install 'ooc[plot]')")
    _workers(s, cmd)
    _progress(s, cmd)


# ----------------------------------------------------------------------------------------------
# the table

@dataclass(frozen=True)
class Command:
    """One ``ooc`` command: its name, help, option groups and the driver that runs it."""

    name: str
    help: str
    groups: tuple
    run: str                      # name of the function in ooc.cli.commands
    description: str = ""
    axis_help: str = AXIS_HELP


ARG_FAMILY = ("argmax", "argmin", "nanargmax", "nanargmin")
PAIRS = ("max-argmax", "min-argmin")
_REDUCE = (_input, _axis, _keepdims, _output, _scheduler, _json)

COMMANDS = (
    Command("argmax", "indices of the maximum (the first NaN wins)", _REDUCE, "reduce"),
    Command("argmin", "indices of the minimum (the first NaN wins)", _REDUCE, "reduce"),
    Command("nanargmax", "indices of the maximum, ignoring NaN", _REDUCE, "reduce"),
    Command("nanargmin", "indices of the minimum, ignoring NaN", _REDUCE, "reduce"),
    Command("max-argmax", "the maximum and its indices, in one pass",
            (_input, _axis, _keepdims, _skipna, _output, _scheduler, _json), "reduce"),
    Command("min-argmin", "the minimum and its indices, in one pass",
            (_input, _axis, _keepdims, _skipna, _output, _scheduler, _json), "reduce"),
    Command("take-at-argmax", "the element of --values where STORE is largest (first occurrence)",
            (_input, _values, _axis, _keepdims, _skipna, _output, _scheduler, _json), "reduce"),
    Command("take-at-argmin", "the element of --values where STORE is smallest (first "
            "occurrence)", (_input, _values, _axis, _keepdims, _skipna, _output, _scheduler, _json),
            "reduce"),
    Command("logsumexp", "log(sum(exp(x))) without overflow, as scipy.special.logsumexp",
            _REDUCE, "reduce", axis_help="axis to reduce (default: all); several axes as --axis 0 "
                                         "--axis 2 or --axis 0,2"),
    Command("soft-argmax", "the expected index under softmax(beta * x): a smooth argmax",
            (_input, _axis, _beta, _output, _scheduler, _json), "reduce",
            axis_help="axis to reduce, giving the expected index along it; for none (the "
                      "default) or several axes (--axis 0 --axis 2 or --axis 0,2), the "
                      "expected coordinate along each, on a last axis of the result"),
    Command("softmax", "exp(x) / sum(exp(x)) along --axis, as scipy.special.softmax; as large as "
            "the input, so --out is required", (_input, _axis, _output, _scheduler, _json),
            "reduce", axis_help="axis (or axes: --axis 0 --axis 2 or --axis 0,2) the softmax is "
                                "taken over (default: all)"),
    Command("idxmax", "coordinate labels of the maximum along --axis (e.g. the date of the "
            "maximum), as xarray's idxmax", (_input, _axis, _skipna_idx, _output, _scheduler, _json),
            "reduce", axis_help="the one axis (a number or a dimension name) to reduce; its "
                                "coordinate array, beside the variable in the group, gives the "
                                "labels"),
    Command("idxmin", "coordinate labels of the minimum along --axis, as xarray's idxmin",
            (_input, _axis, _skipna_idx, _output, _scheduler, _json), "reduce",
            axis_help="the one axis (a number or a dimension name) to reduce; its coordinate "
                      "array, beside the variable in the group, gives the labels"),
    Command("top-k", "the k largest (or smallest) values and their indices, in one pass",
            (_input, _axis, _top_k, _output, _scheduler, _json), "reduce",
            axis_help="axis to select along (default: the flattened array); several axes as "
                      "--axis 0,2 give flat C-order indices over them, in that order"),
    Command("info", "describe a store's array", (_info_input, _json), "info",
            description="Shape, dtype, chunks, codecs, number of chunks, stored and logical size "
                        "of an array in a Zarr store."),
    Command("demo", "create a sample store with planted extrema, reduce it, check answers",
            (_demo,), "demo",
            description="Create a compressed Zarr store with known planted maxima and minima "
                        "(ties across chunk borders, NaN in a float variable), reduce it along "
                        "every axis and check every answer against the planted truth.  Prints "
                        "throughput and peak memory."),
)


#: options whose values may start with '-' (negative axes, a negative beta)
SIGNED_OPTIONS = ("--axis", "--dim", "--beta")


def join_negative_axes(argv):
    """``--axis -1,0`` as ``--axis=-1,0`` (and ``--beta -inf`` as ``--beta=-inf``): argparse
    takes a value that starts with '-' and is not a plain negative number for an option.

    Examples
    --------
    >>> join_negative_axes(["argmax", "s.zarr", "--axis", "-1,0", "--beta", "-inf", "--json"])
    ['argmax', 's.zarr', '--axis=-1,0', '--beta=-inf', '--json']
    """
    out = []
    it = iter(argv)
    for token in it:
        if token in SIGNED_OPTIONS:
            value = next(it, None)
            if value is None:
                out.append(token)
            elif value.startswith("-") and not value.startswith("--") and len(value) > 1:
                out.append(f"{token}={value}")
            else:
                out += [token, value]
        else:
            out.append(token)
    return out


def build_parser() -> argparse.ArgumentParser:
    """The ``ooc`` parser, from :data:`COMMANDS`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of a failure")
    p = argparse.ArgumentParser(
        prog="ooc", parents=[common],
        description="numpy-exact argmax-family reductions (and logsumexp, softmax, soft-argmax, "
                    "take-at-argmax) over Zarr stores too large for memory.",
        epilog="STORE is a local directory store, a .zip store or an fsspec URL (file://, "
               "http(s)://, s3://, memory://).  Exit status: 0 ok, 1 runtime failure, 2 usage "
               "error.")
    p.add_argument("--version", action="version", version=f"ooc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS:
        s = sub.add_parser(cmd.name, parents=[common], help=cmd.help,
                           description=cmd.description or f"{cmd.name}: {cmd.help}.")
        for group in cmd.groups:
            group(s, cmd)
        s.set_defaults(command_spec=cmd)
    return p
