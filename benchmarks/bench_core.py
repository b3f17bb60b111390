"""ooc beside dask.array and numpy on one in-memory array, in one run.

float32, 8192 x 16384 (512 MiB), Dask chunks (1024, 4096), threaded scheduler with 2 threads;
axis None, 0 and 1; argmax and nanargmax; on random normal data, and on the same data with one
NaN in every 10,000 elements (``--nan-every``; 0 leaves it out).  Each timing is the median of ``--repeat`` runs, taken
round-robin so that a noisy neighbour slows every contender alike.  Prints times, GB/s and the
ratios the project's targets are stated in:

* axis=0: ooc.argmax >= 10x faster than dask.array.argmax, <= 1.1x dask.array.max's time;
* axis=None and axis=1: >= 3x faster than dask.array.argmax;
* nanargmax <= 1.2x argmax.

Also ``ooc.argmax`` of the numpy array itself (``ooc.argmax(x)``), and the machine's ceiling: two
threads each taking ``np.max`` of one contiguous half of the array (memory bandwidth).

Usage: ``python benchmarks/bench_core.py [--repeat 7] [--rows 8192 --cols 16384] [--json FILE]``;
``python benchmarks/plot.py`` draws the JSON files into the README's plot.
"""
import argparse
import json
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.array as da
import numpy as np

import ooc
from timing import measure


def two_thread_max(x):
    """The memory-bandwidth ceiling: two threads each take np.max of one contiguous half."""
    halves = (x[: len(x) // 2], x[len(x) // 2:])
    with ThreadPoolExecutor(2) as pool:
        return max(pool.map(np.max, halves))


def contenders(d, x, axis):
    return {
        "ooc.argmax": lambda: ooc.argmax(d, axis=axis).compute(),
        "ooc.argmax(numpy)": lambda: ooc.argmax(x, axis=axis).compute(),
        "ceiling: 2-thread max": lambda: two_thread_max(x),
        "ooc.nanargmax": lambda: ooc.nanargmax(d, axis=axis).compute(),
        "dask.argmax": lambda: da.argmax(d, axis=axis).compute(),
        "dask.nanargmax": lambda: da.nanargmax(d, axis=axis).compute(),
        "dask.max": lambda: da.max(d, axis=axis).compute(),
        "numpy.argmax": lambda: np.argmax(x, axis=axis),
        "numpy.max": lambda: np.max(x, axis=axis),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=8192)
    p.add_argument("--cols", type=int, default=16384)
    p.add_argument("--chunks", type=int, nargs=2, default=(1024, 4096))
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--nan-every", type=int, default=10_000,
                   help="also time data with one NaN in every N elements (0: not)")
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.rows, args.cols), dtype=np.float32)
    datasets = {"normal": x}
    if args.nan_every:
        y = x.copy()
        y.reshape(-1)[rng.integers(0, y.size, y.size // args.nan_every)] = np.nan
        datasets["with NaN"] = y
    print(f"float32 {x.shape} ({x.nbytes / 2**20:.0f} MiB), chunks {tuple(args.chunks)}, "
          f"{args.threads} threads, median of {args.repeat}; kernels: {ooc.kernels.arg.__name__}")
    results = {}
    for label, x in datasets.items():
        print(f"\n== {label} data ==")
        results[label] = run(x, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "core", "nbytes": x.nbytes, "chunks": list(args.chunks),
                       "threads": args.threads, "data": results}, f, indent=2)


def run(x, args):
    d = da.from_array(x, chunks=tuple(args.chunks))
    gb = x.nbytes / 1e9
    results = {}
    with dask.config.set(scheduler="threads", num_workers=args.threads):
        for axis in (None, 0, 1):
            t = measure(contenders(d, x, axis), args.repeat, alone=("numpy.argmax", "numpy.max"))
            for name in ("ooc.argmax", "ooc.nanargmax"):
                want = (np.argmax if name == "ooc.argmax" else np.nanargmax)(x, axis=axis)
                func = ooc.argmax if name == "ooc.argmax" else ooc.nanargmax
                for given in (d, x):
                    got = func(given, axis=axis).compute()
                    assert np.array_equal(got, want), f"{name} axis={axis} differs from numpy"
            print(f"\naxis={axis}")
            for name, s in t.items():
                print(f"  {name:16s} {s * 1e3:9.1f} ms  {gb / s:7.2f} GB/s")
            ratios = {
                "dask.argmax / ooc.argmax (speed-up)": t["dask.argmax"] / t["ooc.argmax"],
                "dask.nanargmax / ooc.nanargmax (speed-up)": t["dask.nanargmax"] / t["ooc.nanargmax"],
                "ooc.argmax / dask.max (time)": t["ooc.argmax"] / t["dask.max"],
                "ooc.nanargmax / ooc.argmax (time)": t["ooc.nanargmax"] / t["ooc.argmax"],
                "numpy.argmax / ooc.argmax (speed-up)": t["numpy.argmax"] / t["ooc.argmax"],
                "numpy.argmax / ooc.argmax(numpy) (speed-up)":
                    t["numpy.argmax"] / t["ooc.argmax(numpy)"],
                "ooc.argmax / 2-thread max ceiling (time)":
                    t["ooc.argmax"] / t["ceiling: 2-thread max"],
            }
            for name, r in ratios.items():
                print(f"  {name:44s} {r:6.2f}")
            results[str(axis)] = {"seconds": t, "ratios": ratios}
    return results


if __name__ == "__main__":
    main()
