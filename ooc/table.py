"""The table of arg-reductions and their three steps: chunk, combine, finalize.

Every public reduction is one :class:`ArgReduction` entry; the graph builder (:mod:`ooc.graph`) only
looks up these steps.  Intermediate results are tuples ``(values, indices, *payloads)`` of numpy
arrays shaped like the block with the reduced axes kept as size one:

* ``values``: the best key value of each output position;
* ``indices``: its global flat index over the reduced axes, in the order the axes were given
  (C order for ``axis=None``), as int64; -1 where a nan-variant saw only NaN;
* ``payloads``: elements of other arrays at the same position (``take_at_argmax``).

Two tuples merge elementwise by value and, on equal values, keep the smaller global index, so any
combine order yields numpy's first occurrence.
"""
import importlib
import os
from dataclasses import dataclass

import numpy as np

from . import reference

__all__ = ["ArgReduction", "REDUCTIONS", "chunk_argreduce", "combine_pairs", "finalize",
           "available_kernels", "load_kernels"]

# Kernel builds, widest first, with the CPU features (numpy's names) each one needs.
KERNEL_BUILDS = {
    "avx512": ("_kernels_avx512", ("AVX512F", "AVX512BW", "AVX512CD", "AVX512DQ", "AVX512VL",
                                   "AVX2", "FMA3", "F16C")),
    "avx2": ("_kernels_avx2", ("AVX2", "FMA3", "F16C")),
    "baseline": ("_kernels", ()),
}


def available_kernels():
    """Names of the kernel builds this package has and this CPU can run, widest first."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - numpy moved it
        features = {}
    names = []
    for name, (module, needs) in KERNEL_BUILDS.items():
        if all(features.get(f, False) for f in needs):
            try:
                importlib.import_module(f".{module}", __package__)
            except ImportError:
                continue
            names.append(name)
    return names


def load_kernels(name=None):
    """The kernel module to use: ``name``, ``$OOC_KERNELS``, or the widest this CPU runs."""
    name = name or os.environ.get("OOC_KERNELS") or available_kernels()[0]
    if name not in KERNEL_BUILDS:
        raise ValueError(f"unknown kernel build {name!r}; choose from {sorted(KERNEL_BUILDS)}")
    return importlib.import_module(f".{KERNEL_BUILDS[name][0]}", __package__)


_kernels = load_kernels()


@dataclass(frozen=True)
class ArgReduction:
    """One entry of the table: which extreme wins and whether NaN is skipped."""

    name: str
    op: str          # "max" or "min"
    skipna: bool

    @property
    def is_min(self):
        return self.op == "min"


REDUCTIONS = {
    r.name: r
    for r in (
        ArgReduction("argmax", "max", False),
        ArgReduction("argmin", "min", False),
        ArgReduction("nanargmax", "max", True),
        ArgReduction("nanargmin", "min", True),
    )
}


# ---------------------------------------------------------------------------------------------
# chunk step

def line_argreduce(block, axis, red):
    """(values, local indices) along one ``axis`` of a block: compiled kernel or numpy path."""
    if _kernels.is_supported(block.dtype):
        return _kernels.argreduce(block, axis, red.is_min, red.skipna)
    if block.dtype.kind in "biuf" and not block.dtype.isnative:
        # byte-swapped data: the kernels read native words, so swap this chunk once
        native = block.astype(block.dtype.newbyteorder("="))
        if _kernels.is_supported(native.dtype):
            v, i = _kernels.argreduce(native, axis, red.is_min, red.skipna)
            return v.astype(block.dtype), i
    return reference.argreduce(block, axis, red.op, red.skipna)


def _merged_view(block, axes):
    """``block`` with ``axes`` (consecutive, increasing) merged into one, without a copy; or None."""
    lo, hi = axes[0], axes[-1]
    if list(axes) != list(range(lo, hi + 1)):
        return None
    try:
        view = np.reshape(block, block.shape[:lo] + (-1,) + block.shape[hi + 1:], copy=False)
    except ValueError:  # merging would need a copy
        return None
    return view, lo


def local_argreduce(block, axes, red):
    """(values, local coordinates) of the first best element over ``axes`` of a block.

    ``axes`` is a tuple in significance order (the first axis varies slowest in the flat index).
    Returns the values and one int64 coordinate array per reduced axis, all keepdims-shaped; the
    coordinates are -1 where a nan-variant found only NaN.  One pass over the block's memory: the
    least significant axis is reduced first, the others then reduce that much smaller result.
    """
    if len(axes) > 1 and (merged := _merged_view(block, axes)) is not None:
        view, lo = merged
        v, i = line_argreduce(view, lo, red)
        keep = _keep_shape(block.shape, axes)
        return v.reshape(keep), _unravel_keep(i.reshape(keep), [block.shape[a] for a in axes])
    stages = []
    cur = block
    for a in reversed(axes):
        v, i = line_argreduce(cur, a, red)
        cur = np.expand_dims(v, a)
        stages.append(np.expand_dims(i, a))
    stages.reverse()  # stages[j] holds the index along axes[j]
    coords = []
    for j, idx in enumerate(stages):
        for prev_axis, prev in zip(axes[:j], coords):
            idx = np.take_along_axis(idx, np.maximum(prev, 0), axis=prev_axis)
        coords.append(idx)
    if red.skipna:
        invalid = coords[0] < 0
        coords = [np.where(invalid, -1, c) for c in coords]
    return cur, coords


def _keep_shape(shape, axes):
    return tuple(1 if d in axes else s for d, s in enumerate(shape))


def _unravel_keep(flat, shape):
    """Coordinates of flat C-order indices into ``shape``, keeping -1 as -1."""
    coords = []
    rest = flat.copy()
    for s in reversed(shape):
        coords.append(np.where(flat < 0, -1, rest % s))
        rest //= s
    return coords[::-1]


def gather(block, axes, coords):
    """Elements of ``block`` at the local coordinates over ``axes``, keepdims-shaped."""
    index = []
    for d in range(block.ndim):
        if d in axes:
            index.append(np.maximum(coords[axes.index(d)], 0))
        else:
            shape = [1] * block.ndim
            shape[d] = block.shape[d]
            index.append(np.arange(block.shape[d]).reshape(shape))
    return block[tuple(index)]


def chunk_argreduce(offset, block, *payload_blocks, red, axes, shape):
    """Chunk step: the tuple of one block, with global flat indices over ``axes``.

    Parameters
    ----------
    offset : tuple of int
        Position of the block's first element in the whole array.
    block : numpy.ndarray
        The block of the key array.
    payload_blocks : numpy.ndarray
        Blocks of other arrays (same shape) whose elements at the best position travel along.
    red : ArgReduction
    axes : tuple of int
        Reduced axes in significance order; all axes in order for ``axis=None``.
    shape : tuple of int
        Shape of the whole array.
    """
    block = np.asarray(block)
    if block.ndim == 0:
        block, offset, shape, axes = block.reshape(1), (0,), (1,), (0,)
        payload_blocks = tuple(np.asarray(p).reshape(1) for p in payload_blocks)
    if any(block.shape[a] == 0 for a in axes):
        return None  # an empty block (a filtered Dask array can have them) has no candidate
    v, coords = local_argreduce(block, axes, red)
    if len(axes) == 1:
        flat = coords[0]
        if offset[axes[0]]:
            flat = np.where(flat < 0, -1, flat + offset[axes[0]]) if red.skipna else flat + offset[axes[0]]
    else:
        flat = np.zeros(v.shape, dtype=np.int64)
        for a, c in zip(axes, coords):
            flat = flat * shape[a] + (c + offset[a])
        flat = np.where(coords[0] < 0, -1, flat)
    payloads = tuple(gather(np.asarray(p), axes, coords) for p in payload_blocks)
    return (v, flat) + payloads


# ---------------------------------------------------------------------------------------------
# combine step

def _isnan(a):
    if a.dtype.kind in "fc":
        return np.isnan(a)
    if a.dtype.kind in "mM":
        return np.isnat(a)
    return np.zeros(a.shape, dtype=bool)


def _b_wins(a, b, red):
    """Where the tuple ``b`` replaces ``a``: better value, or equal value and smaller index."""
    va, ia = a[0], a[1]
    vb, ib = b[0], b[1]
    with np.errstate(invalid="ignore"):
        better = (vb < va) if red.is_min else (vb > va)
        equal = va == vb
    na, nb = _isnan(va), _isnan(vb)
    skips = red.skipna and va.dtype.kind in "fc"
    if skips:
        valid_a, valid_b = ia >= 0, ib >= 0
        return valid_b & (~valid_a | better | (equal & (ib < ia)))
    # NaN (and NaT) beats everything; among NaN the smaller index wins
    return (nb & ~na) | (~nb & ~na & better) | ((equal | (na & nb)) & (ib < ia))


def combine_pairs(pairs, *, red):
    """Combine step: several tuples into one, elementwise (None stands for an empty block)."""
    pairs = [p for p in pairs if p is not None]
    if not pairs:
        return None
    acc = tuple(pairs[0])
    for nxt in pairs[1:]:
        take = _b_wins(acc, nxt, red)
        acc = tuple(np.where(take, b, a) for a, b in zip(acc, nxt))
    return acc


# ---------------------------------------------------------------------------------------------
# finalize step

def finalize(pair, *, red, part, reduced, keepdims):
    """Final step: part 0 (values), 1 (indices, as intp) or 2+ (payloads), dims as requested.

    Raises numpy's ``ValueError("All-NaN slice encountered")`` where a nan-variant saw only NaN.
    """
    if red.skipna and pair[1].size and (pair[1] < 0).any():
        raise ValueError("All-NaN slice encountered")
    out = pair[part]
    if part == 1:
        out = out.astype(np.intp, copy=False)
    return out if keepdims else np.squeeze(out, axis=reduced)
