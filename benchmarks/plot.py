"""Draw the README's plot from the benchmark scripts' JSON files.

Usage: ``python benchmarks/plot.py [--core core.json] [--store store.json] [--out FILE.png]``
(defaults: ``benchmarks/results/core.json``, ``benchmarks/results/store.json``,
``benchmarks/results/throughput.png``).  Write the JSON files with ``bench_core.py --json`` and
``bench_store.py --json``.  Throughput (GB/s of input) of ooc, numpy, dask and the machine's
ceilings, by axis and input kind.
"""
import argparse
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent / "results"


def core_bars(core):
    """(group label, {contender: GB/s}) per axis of bench_core's normal data."""
    gb = core["nbytes"] / 1e9
    shown = {"ooc.argmax": "ooc (Dask chunks)", "ooc.argmax(numpy)": "ooc (numpy input)",
             "dask.argmax": "dask.array.argmax", "numpy.argmax": "numpy.argmax",
             "ceiling: 2-thread max": "ceiling: 2-thread max"}
    out = []
    for axis, res in core["data"]["normal"].items():
        t = res["seconds"]
        out.append((f"in memory\naxis={axis}", {label: gb / t[k] for k, label in shown.items()}))
    return out


def store_bars(store):
    gb = store["nbytes"] / 1e9
    t = store["seconds"]
    out = []
    for axis in ("None", "0", "1"):
        bars = {"ooc (Zarr store)": gb / t[f"ooc.argmax axis={axis}"],
                "dask.array.argmax": gb / t[f"dask.array.argmax axis={axis}"],
                "ceiling: read + decode": gb / t["read: da.from_zarr (baseline)"]}
        out.append((f"zstd Zarr store\naxis={axis}", bars))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--core", default=HERE / "core.json")
    p.add_argument("--store", default=HERE / "store.json")
    p.add_argument("--out", default=HERE / "throughput.png")
    args = p.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = []
    sizes = []
    for path, make in ((args.core, core_bars), (args.store, store_bars)):
        if pathlib.Path(path).exists():
            data = json.loads(pathlib.Path(path).read_text())
            groups += make(data)
            sizes.append(data["nbytes"])
    names = list(dict.fromkeys(n for _, bars in groups for n in bars))
    colors = dict(zip(names, plt.get_cmap("tab10").colors))
    fig, ax = plt.subplots(figsize=(12, 4.5), constrained_layout=True)
    width = 0.8 / max(len(b) for _, b in groups)
    for g, (_label, bars) in enumerate(groups):
        for j, (name, v) in enumerate(bars.items()):
            ax.bar(g + (j - (len(bars) - 1) / 2) * width, v, width, color=colors[name],
                   label=name if name not in ax.get_legend_handles_labels()[1] else None)
    ax.set_xticks(np.arange(len(groups)), [label for label, _ in groups])
    ax.set_ylabel("GB/s of input (higher is better)")
    ax.set_title(f"argmax of {max(sizes) / 2**20:.0f} MiB of float32: ooc beside numpy, dask and "
                 "the machine's ceilings")
    ax.legend(ncols=3, fontsize=8)
    fig.savefig(args.out, dpi=90)
    print(f"plot written to {args.out}")


if __name__ == "__main__":
    main()
