"""logsumexp whose answer is tiny or subnormal, against scipy.special.logsumexp.

Where the maximum is 0 the answer log1p(rest) is rest itself, the sum of exp(x - max) over the
other elements, which can be subnormal: scipy's logsumexp([0, -720]) is 2.03e-313 (float64) and
logsumexp of float32 [0] + [-90] * 63 is 5.2e-38.  The compiled kernel (``ooc._smooth.lse3``,
every instruction set level the CPU runs) and the public ``ooc.logsumexp`` must give those, not
0: float64 to about 1e-15 relative (plus one subnormal unit per term, the rounding of each
exp(x - max) that scipy does too), float32 at least as accurately as scipy on float32 input.
"""
import math
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from scipy import special

import ooc

S = pytest.importorskip("ooc._smooth")
LEVELS = ("baseline", "x86-64-v3", "x86-64-v4")
TINY64 = 2.0 ** -1074


@pytest.fixture(autouse=True)
def _sync():
    with dask.config.set(scheduler="sync"):
        yield


@pytest.fixture(params=LEVELS)
def level(request):
    got = S.set_isa(request.param)
    try:
        if got != request.param:
            pytest.skip(f"{request.param} not available here (set_isa gave {got})")
        assert S.isa() == request.param
        yield request.param
    finally:
        S.set_isa(None)


def scipy_lse(x, axis=None):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return special.logsumexp(x, axis=axis)


def lse3(x3):
    """(max, count, rest, value) of the kernel over axis 1 of x3 (outer, n, inner)."""
    o, _, i = x3.shape
    m, c, r = (np.empty((o, i)) for _ in range(3))
    S.lse3(x3, m, c, r)
    with np.errstate(all="ignore"):
        value = np.log1p(np.where(r == 0, 0.0, r / c)) + np.log(c) + m
    return m, c, r, value


def kernel_lines(lines):
    """Kernel value of every line of ``lines`` (k, n): as rows (inner 1) and as columns."""
    lines = np.asarray(lines)
    rows = lse3(lines[:, :, None])[3][:, 0]
    cols = lse3(np.ascontiguousarray(lines.T)[None])[3][0]
    return {"rows": rows, "cols": cols}


def check64(got, x, where):
    """float64: scipy's answer to (2 + n) * 2^-53 relative, plus one subnormal unit per term."""
    ref = scipy_lse(x, axis=-1)
    n = x.shape[-1]
    tol = (2 + n) * 2.0 ** -53 * np.abs(ref) + n * TINY64
    bad = ~(np.abs(got - ref) <= tol)
    assert not bad.any(), (where, x[bad][:2], got[bad][:3], ref[bad][:3])


def errors32(got, x):
    """Errors of ooc and of scipy (float32 in, float32 out), in float32 ulps of the exact value."""
    exact = scipy_lse(x.astype(np.float64), axis=-1)
    ref = scipy_lse(x, axis=-1).astype(np.float64)
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    got = np.asarray(got, np.float32).astype(np.float64)
    return np.abs(got - exact) / ulp, np.abs(ref - exact) / ulp


def check32(got, x, where, totals=None):
    """float32: per answer no worse than scipy by more than 4 ulps (or 1 % of scipy's error)."""
    eo, es = errors32(got, x)
    bad = ~(eo <= es * 1.01 + 4)
    assert not bad.any(), (where, x[bad][:2], eo[bad][:3], es[bad][:3])
    if totals is not None:
        totals[0] += eo.sum()
        totals[1] += es.sum()


# ---------------------------------------------------------------------------------------------
# the reported cases


def test_issue_float64(level):
    x = np.array([0.0, -720.0])
    m, c, r, v = lse3(x.reshape(1, 2, 1))
    assert (m[0, 0], c[0, 0]) == (0.0, 1.0)
    assert r[0, 0] == math.exp(-720) and r[0, 0] > 0
    got = ooc.logsumexp(x).compute()
    assert got == scipy_lse(x) == math.exp(-720)
    # a normal answer with a subnormal part: flushing that part is a 2e-9 relative error
    x = np.array([0.0, -700.0, -720.0, -730.0])
    exact = math.fsum(math.exp(t) for t in x[1:])
    for value in (lse3(x.reshape(1, -1, 1))[3][0, 0], ooc.logsumexp(x).compute()):
        assert abs(value - exact) <= 1e-15 * exact


def test_issue_float32(level):
    x = np.array([0] + [-90] * 63, np.float32)
    r = lse3(x.reshape(1, -1, 1))[2][0, 0]
    exact_rest = 63 * math.exp(-90)
    assert abs(r - exact_rest) <= 1e-5 * exact_rest   # each exp(-90) a float32 subnormal
    got = ooc.logsumexp(x).compute()
    assert got.dtype == np.float32 and got > 0
    check32(np.array([got]), x[None], "issue float32")
    assert abs(float(got) - exact_rest) <= 2e-6 * exact_rest


# ---------------------------------------------------------------------------------------------
# the kernel, near and below the subnormal threshold


def sweep_lines(dtype, ds, rng):
    """Lines holding one 0 (the maximum) and copies of d, or of values near d, in any order."""
    lines = []
    for d in ds:
        for k in (1, 3, 17, 100):
            line = np.full(k + 1, d)
            line[0] = 0.0
            lines.append(rng.permutation(line))
            line = d + rng.uniform(-2, 2, k + 1)
            line[rng.integers(k + 1)] = 0.0
            lines.append(line)
    return [np.asarray(line, dtype) for line in lines]


def by_length(lines):
    out = {}
    for line in lines:
        out.setdefault(line.size, []).append(line)
    return {n: np.stack(v) for n, v in out.items()}


def test_kernel_float64_sweep(level):
    rng = np.random.default_rng(1)
    ds = list(np.linspace(-700, -750, 101)) + [-708.3964, -708.4, -744.44, -745.13, -745.14,
                                              -746.0, -np.inf]
    for n, x in by_length(sweep_lines(np.float64, ds, rng)).items():
        for layout, got in kernel_lines(x).items():
            check64(got, x, (level, layout, n))
    # every answer below the normal range came out nonzero where scipy's is
    x = np.array([[0.0, d] for d in np.linspace(-709, -745, 50)])
    for layout, got in kernel_lines(x).items():
        assert (got > 0).all() and (got == scipy_lse(x, axis=-1)).all(), layout


def test_kernel_float32_sweep(level):
    rng = np.random.default_rng(2)
    ds = list(np.linspace(-80, -106, 105)) + [-87.33, -87.34, -103.28, -103.97, -104.0, -np.inf]
    totals = [0.0, 0.0]
    for n, x in by_length(sweep_lines(np.float32, ds, rng)).items():
        for layout, got in kernel_lines(x).items():
            check32(got, x, (level, layout, n), totals)
    assert totals[0] <= 1.05 * totals[1], totals
    x = np.array([[0.0, d] for d in np.linspace(-88, -103, 50)], np.float32)
    for layout, got in kernel_lines(x).items():
        assert (got.astype(np.float32) > 0).all(), layout


def random_tiny(rng, dtype, shape):
    """One 0 per line of the last axis; the rest around and below the subnormal threshold."""
    lo, hi = (-110.0, -80.0) if dtype == np.float32 else (-760.0, -690.0)
    x = rng.uniform(lo, hi, shape)
    if rng.random() < 0.3:
        x[...] = rng.uniform(lo, hi)
    if rng.random() < 0.3:
        x[rng.random(shape) < 0.5] = (lo + hi) / 2
    idx = rng.integers(0, shape[-1], shape[:-1] + (1,))
    np.put_along_axis(x, idx, 0.0, axis=-1)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_random_long_lines(level, dtype):
    """Lines up to several row tiles long (the 0 anywhere: the maximum may grow tile by tile)."""
    rng = np.random.default_rng(3)
    totals = [0.0, 0.0]
    for n in (2, 5, 31, 64, 129, 300, 2047, 2049, 5000):
        for _ in range(3):
            x = random_tiny(rng, dtype, (4, n))
            for layout, got in kernel_lines(x).items():
                if dtype == np.float64:
                    check64(got, x, (level, layout, n))
                else:
                    check32(got, x, (level, layout, n), totals)
    assert totals[0] <= 1.05 * totals[1], totals


# ---------------------------------------------------------------------------------------------
# the public function


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_public_logsumexp(level, dtype):
    rng = np.random.default_rng(4)
    for shape, chunks in [((7, 40), (7, 40)), ((6, 300), (3, 128)), ((300, 5), (128, 5)),
                          ((3, 5000), (3, 2500))]:
        x = random_tiny(rng, dtype, shape)
        for axis in (-1, None):
            got = ooc.logsumexp(da.from_array(x, chunks=chunks), axis=axis).compute()
            assert got.dtype == dtype
            lines = x.reshape(1, -1) if axis is None else x
            got = np.atleast_1d(got)
            if dtype == np.float64:
                check64(got, lines, (level, shape, chunks, axis))
            else:
                check32(got, lines, (level, shape, chunks, axis))
        xt = np.ascontiguousarray(x.T)   # the same lines along axis 0 (the column kernel)
        got = ooc.logsumexp(da.from_array(xt, chunks=chunks[::-1]), axis=0).compute()
        if dtype == np.float64:
            check64(got, x, (level, shape, chunks, 0))
        else:
            check32(got, x, (level, shape, chunks, 0))
