"""The compiled kernels release the GIL for their whole run.

A thread counts in pure Python (it needs the GIL for every step) while the main thread makes one
long kernel call (about 250 ms of CPU, on inputs that are large in elements but small in memory:
broadcast views that reread a cached block).  If the kernel holds the GIL, the counter stops for
the whole call: its longest pause between two counts is the call's duration (it can run only in
the switch intervals, set to 1 ms here, before and after).  If the kernel releases the GIL, the
counter runs on the other core, or shares one with the kernel: its longest pause is a few ms of
OS scheduling.  The test asks for a longest pause under half the call.  A call that certainly
holds the GIL as long (the builtin ``sum`` over a ``range``) first shows that the measure reads a
held GIL as held here.  The counter's progress, as a fraction of its speed alone, is reported too
(about 1 on an idle two-core machine when released, about 0.01 when held).
"""
import importlib
import sys
import threading
import time

import numpy as np
import pytest

try:
    from numpy._core._multiarray_umath import __cpu_features__ as CPU
except ImportError:  # numpy < 2
    from numpy.core._multiarray_umath import __cpu_features__ as CPU

if not getattr(sys, "_is_gil_enabled", lambda: True)():
    pytest.skip("no GIL in this interpreter", allow_module_level=True)

TARGET = 0.25          # seconds of this thread's CPU for one measured call
RELEASED_PAUSE = 0.5   # the counter's longest pause during a releasing kernel, as a fraction of
                       # the call (expected: a few ms of OS scheduling, a few hundredths)
HELD_PAUSE = 0.8       # ... during a GIL-holding call (expected: about 1)
HELD_COUNT = 0.15      # the counter's progress during a GIL-holding call, as a fraction of its
                       # speed alone (expected: about 0.01)
NEEDS = {
    "ooc._kernels": [],
    "ooc._kernels_avx2": ["AVX2", "FMA3", "F16C"],
    "ooc._kernels_avx512": ["AVX2", "FMA3", "F16C", "AVX512F", "AVX512BW", "AVX512CD",
                            "AVX512DQ", "AVX512VL"],
}


def _import(name):
    if not all(CPU.get(f, False) for f in NEEDS.get(name, [])):
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


BUILDS = [name for name in NEEDS if _import(name) is not None]


class Ticker:
    """A daemon thread counting in pure Python, noting the longest pause between two counts."""

    def __init__(self):
        self.count = 0
        self.pause = 0.0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        clock = time.perf_counter
        last = clock()
        while not self._stop:
            now = clock()
            if now - last > self.pause:
                self.pause = now - last
            last = now
            self.count += 1

    def stop(self):
        self._stop = True
        self._thread.join()

    def measure(self, call):
        """call() once: (longest pause of the counter / call's duration, count fraction, duration).

        The count fraction is the counter's progress during the call over its progress in as
        long while this thread sleeps (the counter alone).
        """
        time.sleep(0.02)
        c0, t0 = self.count, time.perf_counter()
        time.sleep(0.05)
        free = (self.count - c0) / (time.perf_counter() - t0)
        self.pause = 0.0
        c0, t0 = self.count, time.perf_counter()
        call()
        t1, c1 = time.perf_counter(), self.count
        time.sleep(0.02)   # the counter notes a pause that lasted until the call returned
        return self.pause / (t1 - t0), (c1 - c0) / (t1 - t0) / free, t1 - t0


@pytest.fixture(scope="module")
def ticker():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)   # short turns: around a GIL-holding call the counter gets ~2 ms
    t = Ticker()
    try:
        yield t
    finally:
        t.stop()
        sys.setswitchinterval(interval)


def calibrated(make, target=TARGET):
    """make(size) for the size whose call takes about ``target`` seconds of this thread's CPU."""
    size = 1
    while True:
        call = make(size)
        t0 = time.thread_time()   # the work, not the time spent waiting for the GIL or a CPU
        call()
        took = time.thread_time() - t0
        if took > target / 8:
            break
        size *= 4
    return make(max(1, int(size * target / took)))


def held_call(size):
    return lambda: sum(range(size * 100_000))


def argreduce_rows(module):
    """Row kernel: axis 1 of (reps, 2048, 128) float32, every rep the same cached 1 MiB block."""
    block = np.random.default_rng(0).standard_normal((2048, 128)).astype(np.float32)

    def make(reps):
        x = np.broadcast_to(block, (reps,) + block.shape)
        return lambda: module.argreduce(x, 1, False, False)
    return make


def argreduce_lines(module):
    """Line kernels: axis 1 of (reps, 65536) float64 with NaN, nanargmin (lane kernel)."""
    line = np.random.default_rng(1).standard_normal(65536)
    line[::7] = np.nan

    def make(reps):
        x = np.broadcast_to(line, (reps, line.size))
        return lambda: module.argreduce(x, 1, True, True)
    return make


def lse3_rows(smooth):
    """lse3 over contiguous rows of 4096 float32 (reps of the same row)."""
    row = np.random.default_rng(2).standard_normal(4096).astype(np.float32)

    def make(reps):
        x = np.broadcast_to(row[None, :, None], (reps, row.size, 1))
        out = [np.empty((reps, 1)) for _ in range(3)]
        return lambda: smooth.lse3(x, *out)
    return make


def lse3_cols(smooth):
    """lse3 over axis 1 of (reps, 512, 256) float64 (column strips; reps of the same block)."""
    block = np.random.default_rng(3).standard_normal((512, 256))

    def make(reps):
        x = np.broadcast_to(block, (reps,) + block.shape)
        out = [np.empty((reps, block.shape[1])) for _ in range(3)]
        return lambda: smooth.lse3(x, *out)
    return make


def _cases():
    cases = [pytest.param(name, argreduce_rows, id=f"{name}-rows") for name in BUILDS]
    cases.append(pytest.param("ooc._kernels", argreduce_lines, id="ooc._kernels-lines"))
    if _import("ooc._smooth") is not None:
        cases += [pytest.param("ooc._smooth", lse3_rows, id="ooc._smooth-lse3-rows"),
                  pytest.param("ooc._smooth", lse3_cols, id="ooc._smooth-lse3-cols")]
    return cases


@pytest.fixture(scope="module")
def harness(ticker):
    """The measure on a call that holds the GIL (builtin sum over a range): reads as held."""
    pause, count, took = ticker.measure(calibrated(held_call))
    assert took > TARGET / 2, took
    assert pause > HELD_PAUSE and count < HELD_COUNT, (
        f"a GIL-holding call of {took:.2f} s: longest pause {pause:.2f} of it, counter at "
        f"{count:.2f} of its free speed")
    return pause, count


@pytest.mark.parametrize("name, case", _cases())
def test_kernel_releases_gil(ticker, harness, name, case):
    call = calibrated(case(importlib.import_module(name)))
    seen = []
    for _ in range(3):   # the best of three: other load only pauses the counter more
        pause, count, took = ticker.measure(call)
        seen.append(f"pause {pause:.3f}, count {count:.3f} over {took:.3f} s")
        if pause < RELEASED_PAUSE:
            break
    assert pause < RELEASED_PAUSE, (
        f"{name}: the counting thread stopped during the kernel call: {seen} (longest pause as a "
        f"fraction of the call, progress as a fraction of its free speed); a GIL-holding call "
        f"gives pause {harness[0]:.3f}, count {harness[1]:.3f}")
