"""Peak memory of ooc reductions does not grow with the store: 1 GiB vs 16 GiB.

Two float32 Zarr stores with the same chunks, (4, 1024, 1024) = 16 MiB each:

* 1 GiB:  shape (16, 4096, 4096)
* 16 GiB: shape (16, 16384, 16384)

Each is reduced twice, every measurement in a fresh subprocess with 2 threads:

* ``ooc.argmax(a)`` (axis=None, a scalar result),
* ``ooc.argmax(a, axis=0, out=z)`` with ``z`` a Zarr store made by ``ooc.create_result``; the
  result is 128 MiB for the 1 GiB store and 2 GiB for the 16 GiB one, written chunk by chunk.

The subprocess reports its peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and
the parent prints both sizes side by side; the issue asks for at most 20% difference.

The stores are made cheaply: a few distinct chunks are encoded by zarr (zstd, from compressible
content) and every other chunk file is a hard link to (or copy of) one of them, so the 16 GiB store
takes seconds to create and little disk, while every chunk is still read and decoded.

Run: ``python benchmarks/bench_memory.py [--dir D] [--keep] [--threads 2]``.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

CHUNKS = (4, 1024, 1024)
SIZES = {"1GiB": (16, 4096, 4096), "16GiB": (16, 16384, 16384)}
VARIANTS = 8
PLANT = (1, 100, 200)      # position of the maximum inside chunk variant 0 (and its copies)


def make_store(path, shape):
    """Create the store at ``path`` unless it already exists with this shape."""
    import zarr
    if os.path.exists(os.path.join(path, "zarr.json")):
        z = zarr.open_array(path, mode="r")
        if z.shape == shape:
            return
        shutil.rmtree(path)
    z = zarr.create_array(path, shape=shape, chunks=CHUNKS, dtype="f4",
                          compressors=zarr.codecs.ZstdCodec(level=1), fill_value=0)
    rng = np.random.default_rng(0)
    grid = [-(-n // c) for n, c in zip(shape, CHUNKS)]
    nvar = min(VARIANTS, grid[2])
    for v in range(nvar):         # write nvar distinct chunks along axis 2 of row (0, 0)
        tile = rng.random((CHUNKS[0], 16, CHUNKS[2]), dtype=np.float32)
        block = np.tile(tile, (1, CHUNKS[1] // 16, 1))       # compressible: period 16 rows
        if v == 0:
            block[PLANT] = 2.0
        z[0:CHUNKS[0], 0:CHUNKS[1], v * CHUNKS[2]:(v + 1) * CHUNKS[2]] = block
    src = [os.path.join(path, "c", "0", "0", str(v)) for v in range(nvar)]
    n = 0
    for i in range(grid[0]):
        for j in range(grid[1]):
            d = os.path.join(path, "c", str(i), str(j))
            os.makedirs(d, exist_ok=True)
            for k in range(grid[2]):
                dst = os.path.join(d, str(k))
                if os.path.exists(dst):
                    continue
                s = src[(i * 7 + j * 3 + k) % nvar]
                try:
                    os.link(s, dst)
                except OSError:
                    shutil.copyfile(s, dst)
                n += 1


def child(store, mode, out, threads):
    """Run one measurement in this (fresh) process; print a JSON line."""
    import dask
    import psutil

    import ooc
    base = psutil.Process().memory_info().rss
    a = ooc.open(store)
    t = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=threads):
        if mode == "none":
            res = int(ooc.argmax(a).compute())
            expect = int(np.ravel_multi_index(PLANT, a.shape))
            ok = res == expect
        else:
            z = ooc.create_result(out, a, function="argmax", axis=0, overwrite=True)
            ooc.argmax(a, axis=0, out=z)
            ok = int(z[PLANT[1], PLANT[2]]) == PLANT[0]
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # KiB on Linux
    print(json.dumps({"peak": peak, "baseline": base, "seconds": dt, "ok": bool(ok),
                      "nbytes": int(a.nbytes)}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", help="where the stores live (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the stores (default with --dir)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--child", nargs=3, metavar=("STORE", "MODE", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(*args.child, threads=args.threads)
        return 0
    d = args.dir or tempfile.mkdtemp(prefix="ooc-bench-mem-")
    os.makedirs(d, exist_ok=True)
    try:
        rows = {}
        for name, shape in SIZES.items():
            t = time.perf_counter()
            path = os.path.join(d, f"mem_{name}.zarr")
            make_store(path, shape)
            stored = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)
            print(f"{name}: {shape} float32 chunks {CHUNKS}, ready in {time.perf_counter() - t:.1f} s "
                  f"({stored / 2**20:.0f} MiB of chunk files, counting links)", flush=True)
            for mode in ("none", "axis0-out"):
                out = os.path.join(d, f"out_{name}.zarr")
                r = subprocess.run([sys.executable, __file__, "--threads", str(args.threads),
                                    "--child", path, mode, out], capture_output=True, text=True)
                if r.returncode:
                    print(r.stderr, file=sys.stderr)
                    return 1
                rows[name, mode] = json.loads(r.stdout.strip().splitlines()[-1])
                shutil.rmtree(out, ignore_errors=True)
                m = rows[name, mode]
                print(f"  {mode:10s} peak RSS {m['peak'] / 2**20:7.0f} MiB (after imports "
                      f"{m['baseline'] / 2**20:.0f} MiB)  {m['seconds']:6.1f} s "
                      f"{m['nbytes'] / m['seconds'] / 2**30:.2f} GiB/s  answer "
                      f"{'ok' if m['ok'] else 'WRONG'}", flush=True)
        print(f"\n{'':12s}{'1 GiB':>10s}{'16 GiB':>10s}{'ratio':>8s}")
        worst = 0.0
        for mode in ("none", "axis0-out"):
            a, b = rows["1GiB", mode]["peak"], rows["16GiB", mode]["peak"]
            ratio = b / a
            worst = max(worst, abs(ratio - 1))
            label = "axis=None" if mode == "none" else "axis=0 out="
            print(f"{label:12s}{a / 2**20:8.0f}Mi{b / 2**20:8.0f}Mi{ratio:8.2f}")
        ok = worst <= 0.2 and all(r["ok"] for r in rows.values())
        print(f"peak RSS differs by at most {worst:.0%} between 1 GiB and 16 GiB "
              f"({'within' if worst <= 0.2 else 'OVER'} the 20% bound)")
        return 0 if ok else 1
    finally:
        if not (args.keep or args.dir):
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
