"""ooc.top_k beside ooc.argmax and dask.array.argtopk on one in-memory array, in one run.

float32, 8192 x 16384 (512 MiB), Dask chunks (1024, 4096), threaded scheduler with 2 threads;
k=8 along axis None, 0 and 1.  Answers are checked against numpy first (a stable argsort of the
negated values, cut to k); dask.array.argtopk's answers are compared as sets where no ties matter.
Each timing is the median of ``--repeat`` runs taken round-robin.  Targets:

* axis=0: ooc.top_k <= 2x ooc.argmax's time; axis=1 and None: <= 3x;
* ooc.top_k >= 10x faster than dask.array.argtopk on every axis.

Usage: ``python benchmarks/bench_topk.py [--repeat 7] [--rows 8192 --cols 16384] [--k 8]
[--json FILE]``
"""
import argparse
import json

import dask
import dask.array as da
import numpy as np

import ooc
from timing import measure


def numpy_top_k(x, k, axis):
    """(values, indices) of the k largest, ties to the smaller index, by a stable argsort."""
    flat = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
    order = np.argsort(-flat, axis=-1, kind="stable")[..., :k]
    values = np.take_along_axis(flat, order, axis=-1)
    if axis is None:
        return values, order
    return np.moveaxis(values, -1, axis), np.moveaxis(order, -1, axis)


def dask_argtopk(d, k, axis):
    if axis is None:
        return da.argtopk(d.reshape(-1), k)
    return da.argtopk(d, k, axis=axis)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=8192)
    p.add_argument("--cols", type=int, default=16384)
    p.add_argument("--chunks", type=int, nargs=2, default=(1024, 4096))
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)

    x = np.random.default_rng(0).standard_normal((args.rows, args.cols), dtype=np.float32)
    d = da.from_array(x, chunks=tuple(args.chunks))
    k = args.k
    print(f"float32 {x.shape} ({x.nbytes / 2**20:.0f} MiB), chunks {tuple(args.chunks)}, k={k}, "
          f"{args.threads} threads, median of {args.repeat}")
    gb = x.nbytes / 1e9
    results = {}
    with dask.config.set(scheduler="threads", num_workers=args.threads):
        for axis in (None, 0, 1):
            want_v, want_i = numpy_top_k(x, k, axis)
            got_v, got_i = dask.compute(*ooc.top_k(d, k, axis=axis))
            assert np.array_equal(got_i, want_i) and np.array_equal(got_v, want_v), \
                f"ooc.top_k axis={axis} differs from numpy"
            theirs = dask_argtopk(d, k, axis).compute()
            same = np.sort(theirs, axis=-1 if axis is None else axis)
            assert np.array_equal(same, np.sort(want_i, axis=-1 if axis is None else axis)), \
                f"dask.array.argtopk axis={axis} differs from numpy (as sets)"
            t = measure({
                "ooc.top_k": lambda: dask.compute(*ooc.top_k(d, k, axis=axis)),
                "ooc.argmax": lambda: ooc.argmax(d, axis=axis).compute(),
                "dask.argtopk": lambda: dask_argtopk(d, k, axis).compute(),
            }, args.repeat)
            print(f"\naxis={axis}")
            for name, s in t.items():
                print(f"  {name:14s} {s * 1e3:9.1f} ms  {gb / s:7.2f} GB/s")
            ratios = {
                "ooc.top_k / ooc.argmax (time)": t["ooc.top_k"] / t["ooc.argmax"],
                "dask.argtopk / ooc.top_k (speed-up)": t["dask.argtopk"] / t["ooc.top_k"],
            }
            for name, r in ratios.items():
                print(f"  {name:38s} {r:6.2f}")
            results[str(axis)] = {"seconds": t, "ratios": ratios}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
