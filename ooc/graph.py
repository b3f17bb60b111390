"""Dask graph building for the arg-reductions.

Graph code only builds graphs; the work happens in :mod:`ooc.table`'s steps when Dask runs them.
Three steps, with task names ``ooc-<step>-<token>`` from :func:`dask.base.tokenize`:

* ``ooc-chunk``: one task per block, the block's (value, global index) pair (blockwise);
* ``ooc-combine``: a tree over the reduced axis (or, for ``axis=None``, over all blocks), at most
  ``split_every`` pairs per task;
* ``ooc-index`` / ``ooc-value``: the final arrays, one block per output block.

Tasks carry only small pairs between them; every function and argument is picklable, so the graph
runs under the synchronous, threaded, process and distributed schedulers.
"""
import math
from itertools import product

import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .table import chunk_argreduce, combine_pairs, finalize_indices, finalize_values

__all__ = ["arg_reduction", "DEFAULT_SPLIT_EVERY"]

DEFAULT_SPLIT_EVERY = 8


def _block_offsets(chunks):
    offsets = []
    for c in chunks:
        o = [0]
        for size in c[:-1]:
            o.append(o[-1] + size)
        offsets.append(o)
    return offsets


def arg_reduction(x, red, axis, keepdims, split_every):
    """Lazy ``(values, indices)`` Dask arrays of one arg-reduction of ``x``.

    Parameters
    ----------
    x : dask.array.Array
        Known chunk sizes, non-empty along the reduced axis (checked by the caller).
    red : ooc.table.ArgReduction
    axis : int or None
        Normalized (non-negative) axis, or None for the flat index over all axes.
    keepdims : bool
    split_every : int
        Pairs combined per task, at least 2.
    """
    import dask.array as da

    token = tokenize(x, red, axis, keepdims, split_every)
    chunk_name = f"ooc-chunk-{red.name}-{token}"
    offsets = _block_offsets(x.chunks)
    shape = tuple(int(s) for s in x.shape)
    pairs = {}
    for k in product(*(range(n) for n in x.numblocks)):
        off = tuple(offsets[d][k[d]] for d in range(x.ndim))
        pairs[(chunk_name,) + k] = (chunk_argreduce, (x.name,) + k, red, axis, off, shape)

    # groups of pair keys to tree-combine, each in order along the reduced axis
    if axis is None:
        groups = {(): [(chunk_name,) + k for k in product(*(range(n) for n in x.numblocks))]}
    else:
        groups = {}
        others = [range(n) if d != axis else range(1) for d, n in enumerate(x.numblocks)]
        for k in product(*others):
            groups[k] = [(chunk_name,) + k[:axis] + (j,) + k[axis + 1:]
                         for j in range(x.numblocks[axis])]
    final = {}
    for gk, keys in groups.items():
        level = 0
        while len(keys) > 1:
            name = f"ooc-combine{level}-{red.name}-{token}"
            new = []
            for j in range(math.ceil(len(keys) / split_every)):
                key = (name,) + gk + (j,)
                pairs[key] = (combine_pairs, keys[j * split_every:(j + 1) * split_every], red, axis)
                new.append(key)
            keys = new
            level += 1
        final[gk] = keys[0]

    if axis is None:
        out_chunks = ((1,),) * x.ndim if keepdims else ()
        out_keys = {(0,) * x.ndim if keepdims else (): final[()]}
    else:
        if keepdims:
            out_chunks = x.chunks[:axis] + ((1,),) + x.chunks[axis + 1:]
            out_keys = {gk: pk for gk, pk in final.items()}
        else:
            out_chunks = x.chunks[:axis] + x.chunks[axis + 1:]
            out_keys = {gk[:axis] + gk[axis + 1:]: pk for gk, pk in final.items()}

    pairs_name = f"ooc-combine-{red.name}-{token}"
    graph = HighLevelGraph.from_collections(pairs_name, pairs, dependencies=[x])
    results = []
    for kind, step, dtype in (("value", finalize_values, x.dtype),
                              ("index", finalize_indices, np.dtype(np.intp))):
        name = f"ooc-{kind}-{red.name}-{token}"
        layer = {(name,) + ok: (step, pk, red, axis, keepdims, x.ndim) for ok, pk in out_keys.items()}
        graph = HighLevelGraph({**graph.layers, name: layer},
                               {**graph.dependencies, name: {pairs_name}})
        meta = np.empty((0,) * len(out_chunks), dtype=dtype)
        results.append((name, out_chunks, meta))
    return tuple(da.Array(graph, name, chunks, meta=meta) for name, chunks, meta in results)
