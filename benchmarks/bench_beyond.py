"""take_at_argmax and logsumexp beside dask.array's usual formulas, on one in-memory array.

float32, 8192 x 16384 (512 MiB), Dask chunks (1024, 4096), threaded scheduler with 2 threads
(the same array as ``bench_core.py``; a second array of the same shape holds the values for
take_at_argmax).  Each timing is the median of ``--repeat`` runs taken round-robin.

* take_at_argmax(values, key, axis) against dask's two steps: ``da.argmax(key, axis)`` computed,
  then the values gathered at those indices (``vindex``, dask has no ``take_along_axis``);
* logsumexp(x, axis) against dask's formula ``m = x.max(axis); log(sum(exp(x - m))) + m``.

Target: ooc 2x faster (or better) for both.  Answers are checked against numpy / scipy's formula.

Usage: ``python benchmarks/bench_beyond.py [--repeat 5] [--axes None 1 0] [--rows R --cols C]``
"""
import argparse
import json

import dask
import dask.array as da
import numpy as np

import ooc
from ooc import logsumexp
from timing import measure


def _axis(text):
    return None if text == "None" else int(text)


def dask_take_at_argmax(values, key, axis):
    """dask's two steps: the argmax, computed, then a gather of ``values`` at it."""
    idx = da.argmax(key, axis=axis).compute()
    if axis is None:
        return values[np.unravel_index(int(idx), key.shape)].compute()
    other = np.arange(key.shape[1 - axis])
    points = (idx, other) if axis == 0 else (other, idx)
    return values.vindex[points].compute()


def dask_logsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    out = da.log(da.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return (out.reshape(()) if axis is None else out.squeeze(axis=axis)).compute()


def contenders(values, key, axis):
    return {
        "ooc.take_at_argmax": lambda: ooc.take_at_argmax(values, key, axis=axis).compute(),
        "dask argmax+vindex": lambda: dask_take_at_argmax(values, key, axis),
        "ooc.logsumexp": lambda: logsumexp(key, axis=axis).compute(),
        "dask max,log(sum(exp))": lambda: dask_logsumexp(key, axis),
    }


def check(v, k, values, key, axis):
    """ooc's answers against numpy's take_along_axis and the float64 logsumexp formula."""
    got = ooc.take_at_argmax(values, key, axis=axis).compute()
    if axis is None:
        want = v.reshape(-1)[np.argmax(k)]
    else:
        want = np.take_along_axis(v, np.expand_dims(np.argmax(k, axis=axis), axis), axis)
        want = want.squeeze(axis)
    assert np.array_equal(got, want), f"take_at_argmax axis={axis} differs from numpy"
    got = logsumexp(key, axis=axis).compute()
    m = np.max(k, axis=axis, keepdims=True).astype(np.float64)
    want = np.log(np.sum(np.exp(k - m), axis=axis, keepdims=True, dtype=np.float64)) + m
    want = want.reshape(()) if axis is None else want.squeeze(axis)
    np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"logsumexp axis={axis}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=8192)
    p.add_argument("--cols", type=int, default=16384)
    p.add_argument("--chunks", type=int, nargs=2, default=(1024, 4096))
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--axes", type=_axis, nargs="+", default=[None, 1])
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)

    rng = np.random.default_rng(0)
    k = rng.standard_normal((args.rows, args.cols), dtype=np.float32)
    v = rng.standard_normal((args.rows, args.cols), dtype=np.float32)
    key = da.from_array(k, chunks=tuple(args.chunks))
    values = da.from_array(v, chunks=tuple(args.chunks))
    print(f"float32 {k.shape} ({k.nbytes / 2**20:.0f} MiB per array), chunks {tuple(args.chunks)}, "
          f"{args.threads} threads, median of {args.repeat}")
    results = {}
    with dask.config.set(scheduler="threads", num_workers=args.threads):
        for axis in args.axes:
            check(v, k, values, key, axis)
            t = measure(contenders(values, key, axis), args.repeat)
            print(f"\naxis={axis}")
            for name, s in t.items():
                print(f"  {name:24s} {s * 1e3:9.1f} ms")
            ratios = {
                "take_at_argmax speed-up (target >= 2)":
                    t["dask argmax+vindex"] / t["ooc.take_at_argmax"],
                "logsumexp speed-up (target >= 2)":
                    t["dask max,log(sum(exp))"] / t["ooc.logsumexp"],
            }
            for name, r in ratios.items():
                print(f"  {name:40s} {r:6.2f}")
            results[str(axis)] = {"seconds": t, "ratios": ratios}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
