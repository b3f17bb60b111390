"""The table of reductions: one record per reduction, with its chunk, combine and finalize steps.

Every public function of :mod:`ooc.api` is a lookup in :data:`REDUCTIONS` followed by
:func:`ooc.graph.tree_reduction` of the record's steps (:func:`steps` binds them to one call).
A record names

* ``chunk(offset, *blocks, call=...)``: the partial result of one block, whose first element sits
  at ``offset`` in the whole array;
* ``combine(partials, call=...)``: one partial result from several;
* ``outputs``: the arrays the reduction returns, each a name, a dtype (from the input's) and a
  ``finalize(partial, call=...)`` step;
* ``accepts(dtype)``: raises TypeError for input it cannot reduce, before anything is read;
* ``options``: fixed choices of the record (``op``, ``skipna``, ``missing``).

Adding a reduction is adding a record; the graph builder knows none of them by name.

Examples
--------
>>> sorted(REDUCTIONS)[:4]
['argmax', 'argmin', 'logsumexp', 'nanargmax']
>>> REDUCTIONS["nanargmin"].options
{'op': 'min', 'skipna': True}
"""
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from . import arg_steps, lse_steps, topk_steps
from .graph import Part

__all__ = ["Call", "Output", "Reduction", "REDUCTIONS", "steps", "check_orderable"]


@dataclass(frozen=True)
class Call:
    """What one call of a reduction fixes; every step of the record receives it as ``call``."""

    axes: tuple               # reduced axes in significance order (all, in order, for axis=None)
    shape: tuple              # shape of the whole input
    dtype: np.dtype           # dtype of the input
    keepdims: bool = False
    op: str = "max"           # arg family: which extreme wins
    skipna: bool = False      # arg family: skip NaN (the nan-variants)
    missing: bool = False     # arg family: index -1 instead of an error where all was NaN
    beta: float = 1.0         # soft_argmax: inverse temperature
    stack: bool = False       # soft_argmax: one coordinate per reduced axis on a last axis
    k: int = 1                # top_k: pairs kept per output position
    fill_index: object = None  # top_k with skipna: index where a slice has fewer than k values

    @property
    def reduced(self):
        """The reduced axes in increasing order."""
        return tuple(sorted(self.axes))


@dataclass(frozen=True)
class Output:
    """One array a reduction returns."""

    name: str
    dtype: object             # dtype(input dtype) -> the output's dtype
    finalize: object          # finalize(partial, call=...) -> one block of the output
    extra: object = None      # extra(call) -> chunks of trailing dimensions (soft_argmax)


@dataclass(frozen=True)
class Reduction:
    """One entry of the table."""

    name: str
    chunk: object
    combine: object
    outputs: tuple
    accepts: object
    options: dict = field(default_factory=dict)
    payloads: bool = False    # more arrays may travel with the key (take_at_argmax)


def check_orderable(dtype):
    """Refuse dtypes ooc cannot order in compiled or numpy code without running Python objects."""
    if np.dtype(dtype).kind in "OSUVT":
        raise TypeError(f"ooc cannot arg-reduce arrays of dtype {dtype}: only bool, integer, "
                        "floating, complex, datetime64 and timedelta64 data are supported")


def _same(dtype):
    return np.dtype(dtype)


def _intp(dtype):
    return np.dtype(np.intp)


def _given(dtype, _input_dtype):
    return np.dtype(dtype)


def _float64(dtype):
    return np.dtype(np.float64)


def _arg(name, op, skipna, missing=False):
    options = {"op": op, "skipna": skipna}
    if missing:
        options["missing"] = True
    return Reduction(
        name, arg_steps.chunk_argreduce, arg_steps.combine_pairs,
        (Output("value", _same, partial(arg_steps.finalize, part=0)),
         Output("index", _intp, partial(arg_steps.finalize, part=1))),
        check_orderable, options, payloads=True)


def _stacked(call):
    return ((len(call.axes),),) if call.stack else ()


def _ranks(call):
    return ((call.k,),)


REDUCTIONS = {r.name: r for r in (
    _arg("argmax", "max", False),
    _arg("argmin", "min", False),
    _arg("nanargmax", "max", True),
    _arg("nanargmin", "min", True),
    # the idx variants: index -1 where a slice is all NaN (xarray's idxmax fills it)
    _arg("nanargmax-or-missing", "max", True, missing=True),
    _arg("nanargmin-or-missing", "min", True, missing=True),
    Reduction("logsumexp", lse_steps.lse_chunk, lse_steps.lse_combine,
              (Output("logsumexp", lse_steps.result_dtype, lse_steps.lse_finalize),),
              lse_steps.work_dtype),
    # softmax's first pass: the shift and the denominator of every position (kept dims)
    Reduction("softmax", lse_steps.lse_chunk, lse_steps.lse_combine,
              (Output("softmax-max", lse_steps.work_dtype, lse_steps.lse_max),
               Output("softmax-sum", lse_steps.work_dtype, lse_steps.lse_denominator)),
              lse_steps.work_dtype),
    Reduction("soft-argmax", lse_steps.soft_chunk, lse_steps.soft_combine,
              (Output("soft-argmax", _float64, lse_steps.soft_finalize, _stacked),),
              lse_steps.work_dtype),
    # the k best (value, index) pairs, on a last axis of length k (op and skipna from the call)
    Reduction("top-k", topk_steps.chunk_top_k, topk_steps.combine_top_k,
              (Output("top-k-values", _same, partial(topk_steps.finalize, part=0), _ranks),
               Output("top-k-indices", _intp, partial(topk_steps.finalize, part=1), _ranks)),
              check_orderable),
)}


def steps(red, call, payload_dtypes=()):
    """``(chunk, combine, parts)`` of record ``red`` bound to ``call``, for
    :func:`ooc.graph.tree_reduction`; ``call`` gets the record's options."""
    call = replace(call, **red.options)
    outputs = list(red.outputs)
    if payload_dtypes and not red.payloads:
        raise ValueError(f"{red.name} carries no other arrays")
    for j, dtype in enumerate(payload_dtypes):
        outputs.append(Output(f"take{j}", partial(_given, dtype),
                              partial(arg_steps.finalize, part=2 + j)))
    parts = [Part(o.name, o.dtype(call.dtype), partial(o.finalize, call=call),
                  o.extra(call) if o.extra is not None else ())
             for o in outputs]
    return partial(red.chunk, call=call), partial(red.combine, call=call), parts
