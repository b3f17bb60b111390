"""Dask graph building for the arg-reductions.

Graph code only builds graphs; the work happens in :mod:`ooc.table`'s steps when Dask runs them.
Three steps, with task names ``ooc-<step>-<token>`` from :func:`dask.base.tokenize`:

* ``ooc-chunk``: one task per block, the block's (value, global index) pair (blockwise);
* ``ooc-combine<level>``: a tree over the blocks along the reduced axes, at most ``split_every``
  pairs per task;
* ``ooc-value`` / ``ooc-index`` / ``ooc-take<k>``: the final arrays, one block per output block.

Tasks carry only small pairs between them; every function and argument is picklable, so the graph
runs under the synchronous, threaded, process and distributed schedulers.
"""
import math
from itertools import product

import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .table import chunk_argreduce, combine_pairs, finalize

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


def arg_reduction(x, red, axes, keepdims, split_every, payloads=()):
    """Lazy ``(values, indices, *taken)`` Dask arrays of one arg-reduction of ``x``.

    Parameters
    ----------
    x : dask.array.Array
        Known chunk sizes along ``axes``, none of them empty (checked by the caller).
    red : ooc.table.ArgReduction
    axes : tuple of int
        Non-negative reduced axes in significance order; all axes in order for ``axis=None``.
    keepdims : bool
    split_every : int
        Pairs combined per task, at least 2.
    payloads : sequence of dask.array.Array
        Arrays with ``x``'s shape and chunks; their elements at the best positions are returned
        as the third and later results.
    """
    import dask.array as da

    token = tokenize(x, red, axes, keepdims, split_every, *payloads)
    chunk_name = f"ooc-chunk-{red.name}-{token}"
    offsets = _block_offsets(x.chunks)
    shape = tuple(int(s) for s in x.shape)
    reduced = tuple(sorted(axes))
    pairs = {}
    for k in product(*(range(n) for n in x.numblocks)):
        off = tuple(offsets[d][k[d]] for d in range(x.ndim))
        pairs[(chunk_name,) + k] = (chunk_argreduce, (x.name,) + k, red, axes, off, shape,
                                    *((p.name,) + k for p in payloads))

    # blocks sharing their position on the kept axes form a group, combined by a tree
    groups = {}
    for k in product(*(range(n) for n in x.numblocks)):
        gk = tuple(0 if d in reduced else i for d, i in enumerate(k))
        groups.setdefault(gk, []).append((chunk_name,) + k)
    final = {}
    for gk, keys in groups.items():
        level = 0
        while len(keys) > 1:
            name = f"ooc-combine{level}-{red.name}-{token}"
            new = []
            for j in range(math.ceil(len(keys) / split_every)):
                key = (name,) + gk + (j,)
                pairs[key] = (combine_pairs, keys[j * split_every:(j + 1) * split_every], red)
                new.append(key)
            keys = new
            level += 1
        final[gk] = keys[0]

    if keepdims:
        out_chunks = tuple(((1,) if d in reduced else c) for d, c in enumerate(x.chunks))
        out_keys = dict(final)
    else:
        out_chunks = tuple(c for d, c in enumerate(x.chunks) if d not in reduced)
        out_keys = {tuple(i for d, i in enumerate(gk) if d not in reduced): pk
                    for gk, pk in final.items()}

    pairs_name = f"ooc-combine-{red.name}-{token}"
    graph = HighLevelGraph.from_collections(pairs_name, pairs, dependencies=[x, *payloads])
    parts = [("value", x.dtype), ("index", np.dtype(np.intp))]
    parts += [(f"take{j}", p.dtype) for j, p in enumerate(payloads)]
    names = []
    for part, (kind, dtype) in enumerate(parts):
        name = f"ooc-{kind}-{red.name}-{token}"
        layer = {(name,) + ok: (finalize, pk, red, part, reduced, keepdims)
                 for ok, pk in out_keys.items()}
        graph = HighLevelGraph({**graph.layers, name: layer},
                               {**graph.dependencies, name: {pairs_name}})
        names.append((name, np.empty((0,) * len(out_chunks), dtype=dtype)))
    return tuple(da.Array(graph, name, out_chunks, meta=meta) for name, meta in names)
