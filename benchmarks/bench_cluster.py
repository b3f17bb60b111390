"""ooc on a dask.distributed LocalCluster vs the threaded scheduler, on the same store.

* threaded: dask's threaded scheduler with 2 threads, in this process;
* cluster:  a LocalCluster of 2 worker processes (with nannies) x 1 thread, each with a memory
  limit (default 1 GiB) far below the store's size (default 8 GiB).

Both run ``ooc.argmax(a)`` (axis=None) and ``ooc.argmax(a, axis=0)`` over a float32 Zarr store
(zstd); the best of ``--repeat`` runs is kept.  Printed: the times, the cluster/threaded ratio per
reduction (target: within 1.3x), the workers' peak resident memory against their limit, and whether
any worker spilled, paused, restarted or was lost (from the workers' spill counters and logs and the
scheduler's events, see :func:`ooc.runtime.cluster_report`).  The answers of both runs must agree
with each other and with the planted maximum.

The store is cheap to make: a few distinct chunks are encoded by zarr (zstd, compressible content)
and every other chunk file is a hard link to (or a copy of) one of them, so every chunk is still
read and decoded, but the 8 GiB store takes seconds and little disk.

Run: ``python benchmarks/bench_cluster.py [--size 8GiB] [--chunk-mib 32] [--memory-limit 1GiB]
[--repeat 3] [--dir D] [--keep]``; ``--quick`` for a 1 GiB store, 512 MiB workers and one run.
Exit status 0 when the answers agree, no worker spilled, paused or was lost, and the ratio is
within the target; else 1.

What the ratio depends on (2-core VM, 1 GiB store, ``--quick --chunk-mib N --repeat 3``): the
cluster pays a few milliseconds of CPU per task (scheduler, worker event loop, messages), so it is
~1.7x the threaded time with 8 MiB chunks, ~1.45x with 16 MiB and ~1.25x with 24-32 MiB; with the
default 32 MiB chunks over 8 GiB it was 1.09-1.25x.  Worker memory: peak resident memory was about
130 MiB plus 4 chunks per worker thread.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

TARGET = 1.3
COLUMNS = 8            # chunks along axis 1
VARIANTS = 4
PLANT = (7, 11)        # position of the maximum inside the planted chunk


def _chunk_shape(chunk_mib):
    """A 2-d float32 chunk of ``chunk_mib`` MiB: (rows, 4096)."""
    cols = 4096
    rows = max(1, int(chunk_mib * 2**20 // (4 * cols)))
    return rows, cols


def _background(v, shape, content):
    """One chunk of background in [-1.1, 1.1]: ``measured`` is a smooth field plus noise rounded to
    3 decimals (zstd: ratio ~1.4, ~1 GiB/s to decode per core, like real measurements); ``pattern``
    is a periodic ramp zstd packs ~100x and decodes at memory speed (the cheapest chunk to read)."""
    r = np.arange(shape[0])[:, None]
    c = np.arange(shape[1])[None, :]
    if content == "pattern":
        return ((((r // 4) * (31 + 2 * v) + c // 4) % 997) / 997).astype(np.float32)
    rng = np.random.default_rng(v)
    field = np.sin(r / (50.0 + v)) * np.cos(c / (70.0 + 3 * v))
    return np.round(field + rng.normal(0, 0.01, shape), 3).astype(np.float32)


def make_store(path, size, chunk_mib, content="measured"):
    """Create (or reuse) the store; returns (shape, chunks, planted chunk coords, flat argmax)."""
    import zarr
    chunks = _chunk_shape(chunk_mib)
    chunk_bytes = chunks[0] * chunks[1] * 4
    nrows = max(1, round(size / chunk_bytes / COLUMNS))
    shape = (nrows * chunks[0], COLUMNS * chunks[1])
    planted = (nrows // 2, COLUMNS // 2 + 1)
    flat = (planted[0] * chunks[0] + PLANT[0]) * shape[1] + planted[1] * chunks[1] + PLANT[1]
    if os.path.exists(os.path.join(path, "zarr.json")):
        z = zarr.open_array(path, mode="r")
        if z.shape == shape and tuple(z.chunks) == chunks and z.attrs.get("content") == content:
            return shape, chunks, planted, flat
        shutil.rmtree(path)
    z = zarr.create_array(path, shape=shape, chunks=chunks, dtype="f4", fill_value=0,
                          compressors=zarr.codecs.ZstdCodec(level=1),
                          config={"write_empty_chunks": True}, attributes={"content": content})
    sources = {}
    for v in range(VARIANTS):                    # distinct chunks along row 0
        z[0:chunks[0], v * chunks[1]:(v + 1) * chunks[1]] = _background(v, chunks, content)
        sources[v] = os.path.join(path, "c", "0", str(v))
    block = _background(VARIANTS, chunks, content)
    block[PLANT] = 2.0
    i, j = planted
    z[i * chunks[0]:(i + 1) * chunks[0], j * chunks[1]:(j + 1) * chunks[1]] = block
    for i in range(nrows):
        os.makedirs(os.path.join(path, "c", str(i)), exist_ok=True)
        for j in range(COLUMNS):
            dst = os.path.join(path, "c", str(i), str(j))
            if os.path.exists(dst):
                continue
            src = sources[(i * 3 + j) % VARIANTS]
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
    return shape, chunks, planted, flat


def _fmt(n):
    for unit, f in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= f:
            return f"{n / f:.2f} {unit}"
    return f"{int(n)} B"


def _cpu():
    import psutil
    t = psutil.Process().cpu_times()
    return t.user + t.system


REDUCTIONS = ("axis=None", "axis=0")


def _lazy(label, a):
    import ooc
    return ooc.argmax(a) if label == "axis=None" else ooc.argmax(a, axis=0)


def _compare(session, a, threads, repeat):
    """Interleaved runs (threaded, cluster, threaded, ...) so both meet the same machine load.

    Returns {scheduler: {reduction: (best seconds, mean CPU seconds, result)}}.  CPU seconds are
    this process's (threaded; with the cluster: scheduler, nannies and client) plus, for the
    cluster, the workers' processes.
    """
    import dask
    import ooc
    client = session.client
    warm = ooc.argmax(a[:a.chunks[0][0]])             # imports ooc, zarr, numcodecs in the workers
    session.compute(warm)
    dask.compute(warm, scheduler="threads", num_workers=threads)
    out = {"threaded": {}, "cluster": {}}
    for label in REDUCTIONS:
        times = {"threaded": [], "cluster": []}
        cpus = {"threaded": [], "cluster": []}
        results = {}
        for _ in range(repeat):
            for which in ("threaded", "cluster"):
                lazy = _lazy(label, a)
                c0, w0 = _cpu(), (client.run(_cpu) if which == "cluster" else {})
                t = time.perf_counter()
                if which == "threaded":
                    (res,) = dask.compute(lazy, scheduler="threads", num_workers=threads)
                else:
                    (res,) = session.compute(lazy)
                times[which].append(time.perf_counter() - t)
                w1 = client.run(_cpu) if which == "cluster" else {}
                cpus[which].append(_cpu() - c0 + sum(w1[k] - w0[k] for k in w0))
                results[which] = np.asarray(res)
        for which in times:
            out[which][label] = (min(times[which]), sum(cpus[which]) / repeat, results[which])
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default=None, help="logical size of the store (default 8GiB)")
    p.add_argument("--chunk-mib", type=float, default=None, help="chunk size in MiB (default 32; distributed costs a few ms of CPU per "
                        "task, so small chunks widen the gap: see the module docstring)")
    p.add_argument("--memory-limit", default=None, help="memory limit per worker (default 1GiB)")
    p.add_argument("--workers", type=int, default=2, help="cluster workers (default 2)")
    p.add_argument("--threads", type=int, default=2, help="threads of the threaded run (default 2)")
    p.add_argument("--repeat", type=int, default=None, help="runs per reduction, best kept (default 3)")
    p.add_argument("--content", choices=("measured", "pattern"), default="measured",
                   help="chunk content: realistic measurements (default) or a ramp zstd packs 100x")
    p.add_argument("--quick", action="store_true",
                   help="1GiB store, 512MiB workers, two runs (unless given)")
    p.add_argument("--dir", help="where the store lives (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the store (default with --dir)")
    args = p.parse_args(argv)
    defaults = (dict(size="1GiB", chunk_mib=32, memory_limit="512MiB", repeat=2) if args.quick else
                dict(size="8GiB", chunk_mib=32, memory_limit="1GiB", repeat=3))
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)

    from dask.utils import parse_bytes

    from ooc.runtime import cluster_report, scheduler_context
    from ooc.store import open as open_store

    size, limit = parse_bytes(args.size), parse_bytes(args.memory_limit)
    d = args.dir or tempfile.mkdtemp(prefix="ooc-bench-cluster-")
    os.makedirs(d, exist_ok=True)
    try:
        path = os.path.join(d, f"cluster_{args.size}_{args.chunk_mib:g}MiB_{args.content}.zarr")
        t = time.perf_counter()
        shape, chunks, planted, flat = make_store(path, size, args.chunk_mib, args.content)
        a = open_store(path)
        print(f"store    {path}\n         {_fmt(a.nbytes)} float32 {shape}, chunks {chunks} = "
              f"{_fmt(chunks[0] * chunks[1] * 4)}, {a.npartitions} chunks, {args.content} content "
              f"(zstd); ready in {time.perf_counter() - t:.1f} s", flush=True)

        with scheduler_context(workers=args.workers, threads_per_worker=1, memory_limit=limit,
                               progress=False) as s:
            runs = _compare(s, a, args.threads, args.repeat)
            report = cluster_report(s.client)
        threaded, cluster = runs["threaded"], runs["cluster"]
        print(f"best of {args.repeat}, interleaved; CPU = CPU-seconds of all processes involved")
        for which, title in (("threaded", f"threaded scheduler, {args.threads} threads:"),
                             ("cluster", f"LocalCluster, {args.workers} worker processes x 1 "
                                         f"thread, {_fmt(limit)} each ({_fmt(args.workers * limit)} "
                                         f"in all for a {_fmt(a.nbytes)} store):")):
            print(title)
            for label, (sec, cpu, _) in runs[which].items():
                print(f"  argmax {label:9s} {sec:7.2f} s  {a.nbytes / sec / 2**30:5.2f} GiB/s  "
                      f"CPU {cpu:6.2f} s")

        ok = True
        print("ratio cluster / threaded:")
        for label in threaded:
            r = cluster[label][0] / threaded[label][0]
            rc = cluster[label][1] / threaded[label][1]
            within = r <= TARGET
            ok &= within
            print(f"  argmax {label:9s} {r:5.2f}x  ({'within' if within else 'OVER'} the "
                  f"{TARGET}x target; CPU-seconds {rc:.2f}x)")

        print("workers (peak resident memory since start vs limit):")
        for addr, w in sorted(report["workers"].items()):
            print(f"  {addr}  peak {_fmt(w['peak_rss'])} of {_fmt(w['memory_limit'])} "
                  f"({w['peak_rss'] / w['memory_limit']:.0%})  spilled {_fmt(w['spilled_bytes'])}"
                  f"  sent to other workers {_fmt(w['transfer_outgoing_bytes'])}")
        trouble = (report["removed"] or report["paused"] or report["memory_log"]
                   or any(w["spilled_bytes"] or w["spill_count"] for w in report["workers"].values()))
        print(f"  paused {len(report['paused'])}, lost/restarted {len(report['removed'])}, memory "
              f"warnings in logs {len(report['memory_log'])}")
        for line in report["memory_log"][:5]:
            print("   ", line)

        same = all(np.array_equal(threaded[k][2], cluster[k][2]) for k in threaded)
        found = int(threaded["axis=None"][2]) == flat
        col = planted[1] * chunks[1] + PLANT[1]
        found &= int(cluster["axis=0"][2][col]) == planted[0] * chunks[0] + PLANT[0]
        print(f"answers  {'identical' if same else 'DIFFERENT'} on both schedulers; planted maximum "
              f"{'found' if found else 'NOT FOUND'}")
        return 0 if (ok and same and found and not trouble) else 1
    finally:
        if not (args.keep or args.dir):
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
