"""``ooc demo``: a sample store with planted extrema, reduced along every axis and checked.

The store is a Zarr v3 group with two zstd-compressed 3-d variables of the same shape
``(32, n, n)``:

``temperature`` (float32)
    background noise in ``[0, 1)``; one planted maximum (``>= 2``) and one planted minimum
    (``<= -1``) on every line along axis 0, at rows given by a formula; a few NaN.
``counts`` (int16)
    background in ``[0, 100)``; planted maxima ``>= 1000`` and minima ``<= -1000`` the same way
    (another formula).

Planted heights take only four levels, so every line along axes 1 and 2 (and the whole array)
holds its extreme value many times, in many chunks: the answer is the first occurrence, as in
numpy.  Where a planted row ends a chunk along axis 0, a copy of the same height is planted just
across the chunk border.  NaN are planted away from the peaks, two of them next to each other
across a chunk border on every axis.

The expected answers are derived from the planting formulas alone (:func:`planted_truth`), never
by reading the store back: a line's answer is its highest planted level, first occurrence, or its
first NaN for argmax/argmin of the float variable.  The background never reaches a planted value.

Examples
--------
>>> import tempfile, ooc
>>> tmp = tempfile.TemporaryDirectory()
>>> d = tmp.name
>>> spec = make_store(d + "/demo.zarr", size=2 * 2**20, show_progress=False)
>>> spec.shape, spec.chunks
((32, 104, 104), (6, 30, 30))
>>> truth = planted_truth(spec, "counts", "argmax", 1)
>>> a = ooc.open(d + "/demo.zarr", path="counts")
>>> bool((ooc.argmax(a, axis=1).compute() == truth).all())
True
>>> tmp.cleanup()
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
from dask.utils import format_bytes

from . import api
from .runtime import progress_bar
from .store.inputs import open as open_store

DEFAULT_SIZE = 1 << 30  # 1 GiB logical (2/3 float32, 1/3 int16): under a minute on 2 cores
N0 = 32          # length of axis 0 (a power of two: the planting formulas need odd multipliers)
C0 = 6           # chunk length along axis 0 (32 = 5*6 + 2: an edge chunk)
LEVELS = 4       # number of distinct planted heights

VARIABLES = {
    # name: (dtype, A, B, C, level seed, background high, max base, max step, min base, min step)
    "temperature": (np.float32, 5, 3, 7, 0x5EED, 1.0, 2.0, 0.125, -1.0, -0.125),
    "counts": (np.int16, 3, 7, 11, 0xC0DE, 100, 1000, 1, -1000, -1),
}
FUNCTIONS = {   # grouped by max/min so the planted peaks are listed once per group
    "temperature": ("argmax", "nanargmax", "argmin", "nanargmin"),
    "counts": ("argmax", "argmin"),
}


@dataclasses.dataclass(frozen=True)
class DemoSpec:
    """Shape and layout of a demo store (everything the truth is derived from)."""

    path: str
    shape: tuple
    chunks: tuple
    nan_positions: tuple  # ((i, j, k), ...) in the temperature variable

    @property
    def nbytes(self):
        n = math.prod(self.shape)
        return sum(n * np.dtype(v[0]).itemsize for v in VARIABLES.values())


def _shape_for(size):
    """(shape, chunks) whose two variables together hold about ``size`` bytes."""
    per = sum(np.dtype(v[0]).itemsize for v in VARIABLES.values())
    n = int(math.sqrt(max(size, 1) / per / N0))
    n = max(N0, n - n % 8)
    c = max(8, math.ceil(n / 3.5))   # ~4 chunks per axis, the last one partial
    return (N0, n, n), (C0, c, c)


# --------------------------------------------------------------------------------------------------
# planting formulas

def _level(var, j, k):
    seed = VARIABLES[var][4]
    h = (j.astype(np.int64) * 73856093) ^ (k.astype(np.int64) * 19349663) ^ seed
    return (h >> 3) % LEVELS


def _rows(var, j, k, kind):
    """Row (axis-0 index) of the planted maximum (kind='max') or minimum on line (j, k)."""
    _, a, b, c = VARIABLES[var][:4]
    p = (a * j.astype(np.int64) + b * k.astype(np.int64) + c) % N0
    return p if kind == "max" else (p + N0 // 2) % N0


def _heights(var, j, k, kind):
    dt, *_, bg, mx, mxs, mn, mns = VARIABLES[var]
    lev = _level(var, j, k) if kind == "max" else _level(var, k, j)
    if kind == "max":
        return lev, (mx + mxs * lev)
    return lev, (mn + mns * lev)


def _peaks(var, jr, kr, kind):
    """All planted peaks with j in range jr and k in range kr: (i, j, k, level, value) arrays.

    One peak per line along axis 0, plus its twin one row further when the peak ends a chunk
    along axis 0 (a tie across the chunk border; the first one is the answer).
    """
    j, k = np.meshgrid(np.arange(*jr), np.arange(*kr), indexing="ij")
    j, k = j.ravel(), k.ravel()
    i = _rows(var, j, k, kind)
    lev, val = _heights(var, j, k, kind)
    twin = (i % C0 == C0 - 1) & (i + 1 < N0)
    ii = np.concatenate([i, i[twin] + 1])
    jj = np.concatenate([j, j[twin]])
    kk = np.concatenate([k, k[twin]])
    ll = np.concatenate([lev, lev[twin]])
    vv = np.concatenate([np.broadcast_to(val, lev.shape), np.broadcast_to(val, lev.shape)[twin]])
    return ii, jj, kk, ll, vv


def _nan_positions(shape, chunks):
    """A few NaN away from every planted peak; two adjacent across a chunk border on each axis."""
    rng = np.random.default_rng(1234)
    n = shape[1]
    cand = [(int(rng.integers(0, N0)), int(rng.integers(0, n)), int(rng.integers(0, n)))
            for _ in range(40)]
    c1 = chunks[1]
    j0, k0 = n // 3, n // 5
    cand += [(C0 - 1, j0, k0), (C0, j0, k0),                     # across the axis-0 border
             (N0 // 2 + 1, c1 - 1, k0), (N0 // 2 + 1, c1, k0),   # across the axis-1 border
             (3, j0 + 1, c1 - 1), (3, j0 + 1, c1)]               # across the axis-2 border
    taken = set()
    out = []
    for i, j, k in cand:
        jj, kk = np.array([j]), np.array([k])
        bad = False
        for kind in ("max", "min"):
            r = int(_rows("temperature", jj, kk, kind)[0])
            if i == r or (i == r + 1 and r % C0 == C0 - 1):
                bad = True
        if not bad and (i, j, k) not in taken:
            taken.add((i, j, k))
            out.append((i, j, k))
    return tuple(out)


def _block(var, spec, loc):
    """Generate the block at ``loc`` ((i0, i1), (j0, j1), (k0, k1)) of variable ``var``."""
    dt, *_, bg = VARIABLES[var][:6]
    (i0, i1), (j0, j1), (k0, k1) = loc
    shape = (i1 - i0, j1 - j0, k1 - k0)
    seed = [VARIABLES[var][4], i0, j0, k0]
    rng = np.random.default_rng(seed)
    if np.dtype(dt).kind == "f":
        x = rng.integers(0, 256, size=shape, dtype=np.uint8).astype(dt)
        x *= dt(bg / 256)
    else:
        x = rng.integers(0, bg, size=shape, dtype=dt)
    jj = np.arange(j0, j1)[:, None]
    kk = np.arange(k0, k1)[None, :]
    for kind in ("max", "min"):
        rows = _rows(var, jj, kk, kind)                 # (j, k) -> row of the peak
        for twin in (False, True):                      # the peak, then its twin one row down
            r = rows + 1 if twin else rows
            m = (r >= i0) & (r < i1)
            if twin:
                m &= rows % C0 == C0 - 1
            jm, km = np.nonzero(m)
            _, v = _heights(var, jm + j0, km + k0, kind)
            x[r[jm, km] - i0, jm, km] = v
    if var == "temperature":
        for i, j, k in spec.nan_positions:
            if i0 <= i < i1 and j0 <= j < j1 and k0 <= k < k1:
                x[i - i0, j - j0, k - k0] = np.nan
    return x


# --------------------------------------------------------------------------------------------------
# the truth, from the formulas

_PEAKS_CACHE = {}


def _all_peaks(var, shape, kind):
    """Every planted peak of one kind, compactly typed; the last answer is cached."""
    key = (var, shape, kind)
    if key not in _PEAKS_CACHE:
        _PEAKS_CACHE.clear()
        i, j, k, lev, _ = _peaks(var, (0, shape[1]), (0, shape[2]), kind)
        _PEAKS_CACHE[key] = (i.astype(np.int32), j.astype(np.int32), k.astype(np.int32),
                             lev.astype(np.int8))
    return _PEAKS_CACHE[key]


def planted_truth(spec, var, func, axis):
    """Expected answer of ``func`` (argmax, argmin, nanargmax, nanargmin) over ``var`` along ``axis``.

    Derived from the planting formulas only: among the planted peaks of each line, the highest
    level wins and ties go to the first position; for argmax/argmin of the float variable a line
    holding NaN answers its first NaN.  Returns an int for ``axis=None``, else an intp array.
    """
    kind = "max" if func.endswith("max") else "min"
    shape = spec.shape
    nans = np.array(spec.nan_positions, dtype=np.int64).reshape(-1, 3) if (
        var == "temperature" and not func.startswith("nan")) else np.zeros((0, 3), np.int64)
    if axis is None and len(nans):
        return int(np.ravel_multi_index(tuple(nans.T), shape).min())
    i, j, k, lev = _all_peaks(var, shape, kind)
    coords = (i, j, k)
    if axis is None:
        top = lev == lev.max()
        return int(np.ravel_multi_index((i[top], j[top], k[top]), shape).min())
    others = [d for d in range(3) if d != axis]
    rshape = tuple(shape[d] for d in others)
    n = shape[axis]
    key = np.ravel_multi_index(tuple(coords[d] for d in others), rshape)
    score = (LEVELS - 1 - lev.astype(np.int64)) * n + coords[axis]
    big = np.iinfo(np.int64).max
    best = np.full(math.prod(rshape), big, dtype=np.int64)
    np.minimum.at(best, key, score)
    if (best == big).any():  # pragma: no cover - the formulas cover every line
        raise AssertionError(f"planted peaks do not cover every line along axis {axis}")
    answer = best % n
    if len(nans):
        nkey = np.ravel_multi_index(tuple(nans[:, d] for d in others), rshape)
        first = np.full(math.prod(rshape), big, dtype=np.int64)
        np.minimum.at(first, nkey, nans[:, axis])
        answer = np.where(first != big, first, answer)
    return answer.reshape(rshape).astype(np.intp)


def planted_value(spec, var, func, axis_none_index):
    """Value at a global answer, from the formulas (NaN when the answer is a planted NaN)."""
    c = np.unravel_index(axis_none_index, spec.shape)
    if var == "temperature" and tuple(int(x) for x in c) in set(spec.nan_positions):
        return float("nan")
    kind = "max" if func.endswith("max") else "min"
    _, val = _heights(var, np.array([c[1]]), np.array([c[2]]), kind)
    return float(np.asarray(val).reshape(-1)[0])


# --------------------------------------------------------------------------------------------------
# creating the store

def make_store(path, size=DEFAULT_SIZE, *, show_progress=None, compression_level=1):
    """Create the demo store at ``path`` (replacing it) and return its :class:`DemoSpec`."""
    import dask.array as da
    import zarr

    shape, chunks = _shape_for(size)
    spec = DemoSpec(str(path), shape, chunks, _nan_positions(shape, chunks))
    if os.path.exists(path):
        shutil.rmtree(path)
    g = zarr.open_group(path, mode="w", attributes={
        "description": "ooc demo: planted maxima/minima, ties across chunk borders, NaN",
        "nan_positions": [list(p) for p in spec.nan_positions]})
    sources, targets = [], []
    for var, params in VARIABLES.items():
        z = g.create_array(var, shape=shape, chunks=chunks, dtype=params[0], fill_value=0,
                           compressors=zarr.codecs.ZstdCodec(level=compression_level))
        x = da.map_blocks(_gen_block, var, spec, dtype=params[0], chunks=da.core.normalize_chunks(
            chunks, shape), meta=np.empty((0, 0, 0), params[0]))
        sources.append(x)
        targets.append(z)
    with progress_bar(show_progress):
        da.store(sources, targets, lock=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        zarr.consolidate_metadata(path)
    return spec


def _gen_block(var, spec, block_info=None):
    loc = tuple(tuple(r) for r in block_info[None]["array-location"])
    return _block(var, spec, loc)


# --------------------------------------------------------------------------------------------------
# running it

class PeakRSS:
    """Sample this process's resident memory in a thread; ``.peak`` is the highest seen (bytes).

    Used as a context manager it samples throughout; with :meth:`measure` it samples only inside
    the ``with`` blocks (so work between them, like computing expected answers, is not counted).
    """

    def __init__(self, interval=0.02, always=True):
        import psutil
        self._proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._active = always
        self._stop = threading.Event()

    def _sample(self):
        self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self):
        if self._active:
            self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            if self._active:
                self._sample()

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self._active:
            self._sample()

    @contextlib.contextmanager
    def measure(self):
        self._sample()
        self._active = True
        try:
            yield
        finally:
            self._active = False
            self._sample()


def _tree_state(path):
    out = []
    for root, _, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(root, f))
            out.append((os.path.join(root, f), st.st_size, st.st_mtime_ns))
    return sorted(out)


def run(directory=None, size=None, keep=False, workers=None, show_progress=None, out=None,
        plot=None) -> int:
    """Create the demo store, reduce it along every axis, check against the planted truth.

    With ``plot`` (a file name), also draw the argmax map of the store (:func:`plot_argmax`).
    Returns 0 when every answer matches, 1 otherwise.
    """
    import dask

    out = out or sys.stdout
    size = size or DEFAULT_SIZE
    workers = workers or os.cpu_count() or 1

    def say(*a):
        print(*a, file=out, flush=True)

    tmp = None
    if directory is None:
        tmp = tempfile.mkdtemp(prefix="ooc-demo-")
        directory = tmp
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "ooc-demo.zarr")
    failures = 0
    try:
        with dask.config.set(scheduler="threads", num_workers=workers):
            shape, chunks = _shape_for(size)
            say(f"ooc demo: creating {path}")
            say(f"  2 variables of shape {shape}, chunks {chunks}, zstd; "
                f"planted extrema, ties across chunk borders, NaN in 'temperature'")
            t0 = time.perf_counter()
            with PeakRSS() as mem_create:
                spec = make_store(path, size, show_progress=show_progress)
            dt = time.perf_counter() - t0
            stored = sum(s for _, s, _ in _tree_state(path))
            say(f"  wrote {_fmt(spec.nbytes)} logical, {_fmt(stored)} stored, in {dt:.1f} s "
                f"({spec.nbytes / dt / 2**20:,.0f} MiB/s)")
            before = _tree_state(path)
            say(f"reducing with {workers} thread{'s' if workers != 1 else ''} "
                "(every function along every axis; expected answers come from the planting "
                "formulas):")
            total_bytes, total_time = 0, 0.0
            import psutil
            baseline = psutil.Process().memory_info().rss
            with PeakRSS(always=False) as mem_reduce:
                for var in VARIABLES:
                    a = open_store(path, path=var)
                    for func in FUNCTIONS[var]:
                        for axis in (None, 0, 1, 2):
                            t0 = time.perf_counter()
                            with mem_reduce.measure(), progress_bar(show_progress):
                                got = getattr(api, func)(a, axis=axis).compute()
                            dt = time.perf_counter() - t0
                            total_bytes += a.nbytes
                            total_time += dt
                            want = planted_truth(spec, var, func, axis)
                            ok = np.array_equal(np.asarray(got), want)
                            extra = ""
                            if axis is None:
                                coords = tuple(int(c) for c in api.unravel_index(int(got), a.shape))
                                extra = f"  index {int(got)} at {coords}"
                            else:
                                bad = int((np.asarray(got) != want).sum()) if not ok else 0
                                extra = f"  {np.asarray(got).size} answers" + (
                                    f", {bad} wrong" if bad else "")
                            failures += not ok
                            say(f"  {'ok  ' if ok else 'FAIL'} {var:11s} {func:9s} axis={str(axis):4s} "
                                f"{dt:6.2f} s {a.nbytes / dt / 2**20:8,.0f} MiB/s{extra}")
                    # the value at the global answer, from the same pass as the index
                    fn = api.max_argmax
                    v, i = fn(a, skipna=True)
                    with mem_reduce.measure():
                        v, i = dask.compute(v, i)
                    want_i = planted_truth(spec, var, "nanargmax", None)
                    want_v = planted_value(spec, var, "nanargmax", want_i)
                    ok = int(i) == want_i and float(v) == want_v
                    failures += not ok
                    say(f"  {'ok  ' if ok else 'FAIL'} {var:11s} max_argmax(skipna) value {float(v)!r} "
                        f"(planted {want_v!r}) at index {int(i)}")
            unchanged = _tree_state(path) == before
            failures += not unchanged
            say(f"input store unchanged: {'yes' if unchanged else 'NO'}")
            chunk_bytes = max(math.prod(chunks) * np.dtype(v[0]).itemsize for v in VARIABLES.values())
            say(f"throughput: {total_bytes / total_time / 2**20:,.0f} MiB/s over "
                f"{_fmt(total_bytes)} reduced in {total_time:.1f} s")
            say(f"peak memory (RSS): {_fmt(mem_reduce.peak)} while reducing "
                f"{_fmt(spec.nbytes)} of data (process baseline {_fmt(baseline)}; "
                f"{_fmt(mem_create.peak)} while creating the store); largest chunk "
                f"{_fmt(chunk_bytes)}, {workers} threads")
        if plot:
            plot_argmax(path, plot)
            say(f"argmax map drawn in {plot}")
        if failures:
            say(f"FAILED: {failures} check{'s' if failures != 1 else ''} did not match the planted truth")
            return 1
        say("all answers match the planted truth")
        return 0
    finally:
        if tmp is not None and not keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif keep or directory:
            say(f"store kept at {path}")


def plot_argmax(path, filename):
    """Draw the demo store's argmax map: for every (row, column) of ``temperature``, the index
    along axis 0 of the maximum (the planting formula's pattern), and the maximum itself (the
    four planted levels).  Needs matplotlib (``pip install 'ooc[plot]'``)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = open_store(path, path="temperature")
    values, index = api.max_argmax(a, axis=0, skipna=True)
    import dask
    values, index = dask.compute(values, index)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8), constrained_layout=True)
    im = left.imshow(index, cmap="viridis", interpolation="nearest")
    left.set_title("ooc.nanargmax(temperature, axis=0)")
    fig.colorbar(im, ax=left, label="index along axis 0 of the maximum")
    im = right.imshow(values, cmap="magma", interpolation="nearest")
    right.set_title("the maximum: the planted levels")
    fig.colorbar(im, ax=right, label="temperature")
    for ax in (left, right):
        ax.set_xlabel("axis 2")
        ax.set_ylabel("axis 1")
    fig.savefig(filename, dpi=90)
    plt.close(fig)


def _fmt(n):
    return format_bytes(n)
