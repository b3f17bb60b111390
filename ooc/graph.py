"""Dask graph building for ooc's tree reductions (imports nothing else from ooc).

Graph code only builds graphs; the work happens in the steps it is given (the records of
:mod:`ooc.reductions`) when Dask runs them.  Every reduction is three steps, with task names
``ooc-<step>-<token>`` from :func:`dask.base.tokenize`:

* ``ooc-chunk``: one task per block, a small partial result of the block (blockwise);
* ``ooc-combine<level>``: a tree over the blocks along the reduced axes, at most ``split_every``
  partial results per task;
* ``ooc-<part>``: the final arrays, one block per output block.

Tasks carry only small partial results between them; every function and argument is picklable, so
the graph runs under the synchronous, threaded, process and distributed schedulers.
"""
import math
from dataclasses import dataclass
from itertools import product

import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

__all__ = ["Part", "tree_reduction"]


@dataclass(frozen=True)
class Part:
    """One output array of a tree reduction.

    ``func(partial_result)`` makes its block (with the reduced axes kept as size one when
    ``keepdims``, removed otherwise); ``extra`` chunks are appended as trailing dimensions.
    """

    name: str
    dtype: np.dtype
    func: object
    extra: tuple = ()


def _block_offsets(chunks):
    offsets = []
    for c in chunks:
        o = [0]
        for size in c[:-1]:
            o.append(o[-1] + size)
        offsets.append(o)
    return offsets


def tree_reduction(arrays, label, chunk, combine, parts, axes, keepdims, split_every):
    """Lazy Dask arrays of one tree reduction over ``axes`` of ``arrays`` (same chunks).

    Parameters
    ----------
    arrays : sequence of dask.array.Array
        Read block by block together; the first one sets the shape and chunks.
    label : str
        Reduction name used in task names.
    chunk : callable
        ``chunk(offset, *blocks)``: the partial result of one block; ``offset`` is the position of
        the block's first element in the whole array.
    combine : callable
        ``combine(list_of_partials)``: one partial result from several.
    parts : sequence of Part
        The output arrays.
    axes : tuple of int
        Non-negative reduced axes.
    keepdims : bool
    split_every : int
        Partial results combined per task, at least 2.
    """
    import dask.array as da

    x = arrays[0]
    token = tokenize(*arrays, label, chunk, combine, parts, axes, keepdims, split_every)
    chunk_name = f"ooc-chunk-{label}-{token}"
    offsets = _block_offsets(x.chunks)
    reduced = set(axes)
    dsk = {}
    groups = {}
    for k in product(*(range(n) for n in x.numblocks)):
        off = tuple(offsets[d][k[d]] for d in range(x.ndim))
        dsk[(chunk_name,) + k] = (chunk, off, *((a.name,) + k for a in arrays))
        # blocks sharing their position on the kept axes form a group, combined by a tree
        gk = tuple(0 if d in reduced else i for d, i in enumerate(k))
        groups.setdefault(gk, []).append((chunk_name,) + k)
    final = {}
    for gk, keys in groups.items():
        level = 0
        while len(keys) > 1:
            name = f"ooc-combine{level}-{label}-{token}"
            new = []
            for j in range(math.ceil(len(keys) / split_every)):
                key = (name,) + gk + (j,)
                dsk[key] = (combine, keys[j * split_every:(j + 1) * split_every])
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

    partials_name = f"ooc-combine-{label}-{token}"
    graph = HighLevelGraph.from_collections(partials_name, dsk, dependencies=list(arrays))
    names = []
    for part in parts:
        name = f"ooc-{part.name}-{label}-{token}"
        zeros = (0,) * len(part.extra)
        layer = {(name,) + ok + zeros: (part.func, pk) for ok, pk in out_keys.items()}
        graph = HighLevelGraph({**graph.layers, name: layer},
                               {**graph.dependencies, name: {partials_name}})
        chunks = out_chunks + tuple(part.extra)
        names.append((name, chunks, np.empty((0,) * len(chunks), dtype=part.dtype)))
    return tuple(da.Array(graph, name, chunks, meta=meta) for name, chunks, meta in names)
