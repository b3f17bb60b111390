"""The table of arg-reductions and their three steps: chunk, combine, finalize.

Every public reduction is one :class:`ArgReduction` entry; the graph builder (:mod:`ooc.graph`) only
looks up these steps.  Intermediate results are *pairs* ``(values, indices)`` of numpy arrays: the
best value of each line and its global index (int64; -1 where a nan-variant saw only NaN).  Pairs
combine by value and, on equal values, keep the smaller global index, so any combine order yields
numpy's first occurrence.
"""
import importlib
import os
from dataclasses import dataclass

import numpy as np

from . import reference

__all__ = ["ArgReduction", "REDUCTIONS", "chunk_argreduce", "combine_pairs", "finalize_indices",
           "finalize_values"]


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


def _line_argreduce(block, axis, red):
    """(values, local indices) along ``axis`` of a numpy block: compiled kernel or numpy path."""
    if _kernels.is_supported(block.dtype):
        return _kernels.argreduce(block, axis, red.is_min, red.skipna)
    if block.dtype.kind in "biuf" and not block.dtype.isnative:
        # byte-swapped data: the kernels read native words, so swap this chunk once
        native = block.astype(block.dtype.newbyteorder("="))
        if _kernels.is_supported(native.dtype):
            v, i = _kernels.argreduce(native, axis, red.is_min, red.skipna)
            return v.astype(block.dtype), i
    return reference.argreduce(block, axis, red.op, red.skipna)


def _flat_argreduce(block, red):
    """(value, local flat C-order index) of a whole N-d block, as 0-d arrays."""
    if block.ndim == 1 or block.flags.c_contiguous:
        v, i = _line_argreduce(block.reshape(-1), 0, red)
        return v, i
    # reduce the last axis in one pass over memory, then the (much smaller) rest
    v, i = _line_argreduce(block, block.ndim - 1, red)
    vflat, row = _flat_argreduce(np.ascontiguousarray(v), red)
    r = int(row)
    if r < 0:
        return vflat, row
    return vflat, np.int64(r * block.shape[-1] + int(i.reshape(-1)[r]))


def chunk_argreduce(block, red, axis, offset, shape):
    """Chunk step: the pair of one block, with global indices, keepdims-shaped.

    Parameters
    ----------
    block : numpy.ndarray
    red : ArgReduction
    axis : int or None
        Reduced axis; None reduces all axes to the flat C-order index.
    offset : tuple of int
        Position of the block's first element in the whole array.
    shape : tuple of int
        Shape of the whole array.
    """
    block = np.asarray(block)
    if axis is None:
        if block.ndim == 0:
            block = block.reshape(1)
            offset, shape = (0,), (1,)
        v, i = _flat_argreduce(block, red)
        local = int(i)
        if local >= 0:
            coords = np.unravel_index(local, block.shape)
            flat = 0
            for c, o, s in zip(coords, offset, shape):
                flat = flat * int(s) + int(c) + int(o)
            local = flat
        return np.asarray(v).reshape(()), np.array(local, dtype=np.int64)
    v, i = _line_argreduce(block, axis, red)
    if offset[axis]:
        i = np.where(i >= 0, i + offset[axis], i)
    return np.expand_dims(v, axis), np.expand_dims(i, axis)


def combine_pairs(pairs, red, axis):
    """Combine step: several pairs into one.

    For an int ``axis`` the pairs come in order along it and are concatenated there, then reduced
    with the same kernel as a chunk: the first best block wins, which holds the smallest index.
    For ``axis=None`` the scalar pairs are ordered by global index first.
    """
    if len(pairs) == 1:
        return pairs[0]
    if axis is None:
        order = sorted(range(len(pairs)), key=lambda k: int(pairs[k][1]))
        if red.skipna:
            order = [k for k in order if int(pairs[k][1]) >= 0] or order[:1]
        values = np.stack([pairs[k][0] for k in order])
        _, pos = _line_argreduce(values, 0, red)
        p = int(pos)
        return pairs[order[max(p, 0)]] if p >= 0 else (values[0], np.array(-1, dtype=np.int64))
    values = np.concatenate([p[0] for p in pairs], axis=axis)
    indices = np.concatenate([p[1] for p in pairs], axis=axis)
    v, pos = _line_argreduce(values, axis, red)
    pos = np.expand_dims(pos, axis)
    idx = np.take_along_axis(indices, np.maximum(pos, 0), axis=axis)
    if red.skipna:
        idx = np.where(pos < 0, -1, idx)
    return np.expand_dims(v, axis), idx


def finalize_indices(pair, red, axis, keepdims, ndim):
    """Final step for the indices: intp, numpy's all-NaN error, the requested dims."""
    _check_allnan(pair, red)
    return _shape_result(pair[1].astype(np.intp, copy=False), axis, keepdims, ndim)


def finalize_values(pair, red, axis, keepdims, ndim):
    """Final step for the values of max_argmax / min_argmin."""
    _check_allnan(pair, red)
    return _shape_result(pair[0], axis, keepdims, ndim)


def _check_allnan(pair, red):
    if red.skipna and pair[1].size and (pair[1] < 0).any():
        raise ValueError("All-NaN slice encountered")


def _shape_result(a, axis, keepdims, ndim):
    if axis is None:
        return a.reshape((1,) * ndim if keepdims else ())
    return a if keepdims else np.squeeze(a, axis)
