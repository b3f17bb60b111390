"""Core tests of ooc's public reductions: numpy is the oracle, bit for bit.

Public API under test::

    ooc.argmax / argmin / nanargmax / nanargmin(a, axis=None, out=None, *, keepdims=False, split_every=None)
    ooc.max_argmax / min_argmin(a, axis=None, *, keepdims=False, skipna=False, split_every=None)
    ooc.unravel_index(indices, shape)

The one documented difference from numpy: when the only non-NaN values of a slice are -inf (+inf),
``nanargmax`` (``nanargmin``) returns the position of that -inf (+inf) where numpy returns the first
NaN position.  ``ref_nanarg`` below is the oracle for the nan-variants; it is itself checked against
``np.nanargmax``/``np.nanargmin`` wherever that difference cannot arise.
"""
import inspect
import math
import time
import zlib

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
from dask import delayed
from hypothesis import given, note
from hypothesis import strategies as st
from numpy.exceptions import AxisError

import ooc

INTP = np.dtype(np.intp)

ARG_FUNCS = ["argmax", "argmin", "nanargmax", "nanargmin"]
PAIR_FUNCS = ["max_argmax", "min_argmin"]

DTYPES = [
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
    "datetime64[ns]", "datetime64[D]", "timedelta64[s]", ">f8", ">i4",
]
FLOAT_DTYPES = ["float16", "float32", "float64", ">f8"]
COMPLEX_DTYPES = ["complex64", "complex128"]


@pytest.fixture(autouse=True)
def _synchronous_scheduler():
    """Small graphs: the synchronous scheduler is the fastest; tests of other schedulers override it."""
    with dask.config.set(scheduler="synchronous"):
        yield


def _seed(*parts):
    return zlib.crc32(repr(parts).encode())


# ---------------------------------------------------------------------------------------------------
# Oracles
# ---------------------------------------------------------------------------------------------------

def _best_fill(dtype, kind):
    """The value that loses against everything non-NaN (it may tie with a genuine element)."""
    sign = -1 if kind == "max" else 1
    if dtype.kind == "c":
        return np.array(complex(sign * np.inf, sign * np.inf), dtype=dtype)
    return np.array(sign * np.inf, dtype=dtype)


def ref_nanarg(a, axis=None, keepdims=False, kind="max"):
    """Oracle for nanargmax (kind="max") / nanargmin (kind="min").

    First index, among the non-NaN elements, of the largest (smallest) value.  Raises
    ValueError("All-NaN slice encountered") like numpy.  For dtypes without NaN (ints, bool,
    datetime64/timedelta64 -- numpy does not skip NaT in nanarg*) it is numpy itself.
    """
    a = np.asarray(a)
    npfunc = np.nanargmax if kind == "max" else np.nanargmin
    argf = np.argmax if kind == "max" else np.argmin
    if a.dtype.kind not in "fc":
        return npfunc(a, axis=axis, keepdims=keepdims)
    if a.ndim == 0:
        argf(a, axis=axis)  # numpy's axis validation for 0-d input (AxisError)
        if np.isnan(a):
            raise ValueError("All-NaN slice encountered")
        return np.intp(0)
    if axis is None:
        res = ref_nanarg(a.reshape(-1), 0, False, kind)
        return np.asarray(res).reshape((1,) * a.ndim) if keepdims else res
    if a.shape[axis] == 0:
        return npfunc(a, axis=axis, keepdims=keepdims)  # numpy's ValueError
    nan = np.isnan(a)
    if np.any(np.all(nan, axis=axis)):
        raise ValueError("All-NaN slice encountered")
    fill = _best_fill(a.dtype, kind)
    b = np.where(nan, fill, a)
    idx = argf(b, axis=axis, keepdims=True)
    on_nan = np.take_along_axis(nan, idx, axis=axis)
    # idx landed on a NaN: every non-NaN value of the slice equals the fill (-inf / +inf);
    # the first genuine such element is the answer.
    alt = np.argmax(~nan & (b == fill), axis=axis, keepdims=True)
    idx = np.where(on_nan, alt, idx).astype(np.intp)
    return idx if keepdims else np.squeeze(idx, axis=axis)


def ref(func, a, axis=None, keepdims=False):
    a = np.asarray(a)
    if func == "argmax":
        return np.argmax(a, axis=axis, keepdims=keepdims)
    if func == "argmin":
        return np.argmin(a, axis=axis, keepdims=keepdims)
    return ref_nanarg(a, axis=axis, keepdims=keepdims, kind="max" if func == "nanargmax" else "min")


def ref_pair(func, a, axis=None, keepdims=False, skipna=False):
    """(values, indices) oracle of max_argmax / min_argmin: values are ``a`` at the index."""
    a = np.asarray(a)
    kind = "max" if func == "max_argmax" else "min"
    name = ("nanarg" if skipna else "arg") + kind
    idx = np.asarray(ref(name, a, axis=axis, keepdims=keepdims))
    if axis is None:
        vals = a.reshape(-1)[idx.reshape(-1)].reshape(idx.shape)
    else:
        ax = axis % a.ndim if a.ndim else 0
        if a.ndim == 0:
            vals = a[()]
        else:
            kidx = idx if keepdims else np.expand_dims(idx, ax)
            vals = np.take_along_axis(a, kidx, axis=ax)
            if not keepdims:
                vals = np.squeeze(vals, axis=ax)
    return vals, idx


def _call(func, a, axis=None, keepdims=False, split_every=None):
    return getattr(ooc, func)(a, axis=axis, keepdims=keepdims, split_every=split_every)


def _expect_raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - we return the exception for comparison
        return e
    return None


def check_index(got, expected, msg=""):
    """Bit-for-bit comparison of an index result with numpy's."""
    got = np.asarray(got)
    exp = np.asarray(expected)
    assert got.dtype == INTP, f"{msg}: dtype {got.dtype} != intp"
    assert got.shape == exp.shape, f"{msg}: shape {got.shape} != {exp.shape}"
    np.testing.assert_array_equal(got, exp, err_msg=msg, strict=False)


def _same_dtype(d1, d2):
    return np.dtype(d1).newbyteorder("=") == np.dtype(d2).newbyteorder("=")


def check_values(got, expected, msg=""):
    got = np.asarray(got)
    exp = np.asarray(expected)
    assert _same_dtype(got.dtype, exp.dtype), f"{msg}: dtype {got.dtype} != {exp.dtype}"
    assert got.shape == exp.shape, f"{msg}: shape {got.shape} != {exp.shape}"
    np.testing.assert_array_equal(got, exp, err_msg=msg)


def check_lazy(res, expected, msg=""):
    """A lazy result: dask array with numpy's shape and intp dtype before computing."""
    assert isinstance(res, da.Array), f"{msg}: {type(res)} is not a dask array"
    assert res.dtype == INTP, f"{msg}: lazy dtype {res.dtype}"
    assert res.shape == np.shape(expected), f"{msg}: lazy shape {res.shape} != {np.shape(expected)}"


# ---------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------

def alphabet(dtype):
    """Tie-rich value set of ``dtype`` with its edge cases (extremes, NaN, +-inf, -0.0, NaT)."""
    dt = np.dtype(dtype)
    k = dt.kind
    if k == "b":
        return np.array([False, True], dtype=dt)
    if k == "i":
        ii = np.iinfo(dt)
        return np.array([0, 1, -1, 2, ii.min, ii.max, ii.min + 1, ii.max - 1], dtype=dt)
    if k == "u":
        ii = np.iinfo(dt)
        return np.array([0, 1, 2, ii.max, ii.max - 1], dtype=dt)
    if k == "f":
        fi = np.finfo(dt)
        return np.array([0.0, -0.0, 1.0, -1.0, 2.0, np.inf, -np.inf, np.nan,
                         fi.max, -fi.max, fi.smallest_subnormal], dtype=dt)
    if k == "c":
        nan, inf = np.nan, np.inf
        return np.array([0, 1, 1 + 1j, 1 - 1j, -1j, 2, complex(-0.0, 0.0), complex(nan, 0),
                         complex(0, nan), complex(inf, 0), complex(-inf, 0), complex(-inf, -inf),
                         complex(inf, inf), complex(inf, nan)], dtype=dt)
    if k in "mM":
        i64 = np.iinfo(np.int64)
        # i64.min is NaT
        return np.array([0, 1, -1, 2, i64.min, i64.max, i64.min + 1], dtype=np.int64).view(dt)
    raise AssertionError(dt)


def small_ints(dtype, shape, rng):
    """Values in {0, 1, 2}: many ties."""
    dt = np.dtype(dtype)
    v = rng.integers(0, 3, size=shape)
    if dt.kind in "mM":
        return v.astype(np.int64).view(dt.newbyteorder("=")).astype(dt)
    if dt.kind == "b":
        return (v > 0).astype(dt)
    return v.astype(dt)


def from_alphabet(dtype, shape, rng, nan_prob=None):
    alpha = alphabet(dtype)
    a = alpha[rng.integers(0, len(alpha), size=shape)]
    if nan_prob is not None and a.dtype.kind in "fc":
        notnan = alpha[~np.isnan(alpha)]
        a = notnan[rng.integers(0, len(notnan), size=shape)]
        a[rng.random(shape) < nan_prob] = np.nan
    return np.asarray(a, dtype=dtype)


def make_data(mode, dtype, shape, rng):
    if mode == "small":
        return small_ints(dtype, shape, rng)
    if mode == "alphabet":
        return from_alphabet(dtype, shape, rng, nan_prob=0.1)
    raise AssertionError(mode)


CHUNKINGS_2D = {
    "one": (8, 7),
    "ones": (1, 1),
    "ragged": ((3, 1, 4), (2, 5)),
    "many": ((2, 2, 2, 2), (3, 3, 1)),
}
SPLIT_EVERY = [None, 2, 3, 1000]


def _combos(ndim):
    """(axis, keepdims, split_every) combinations: every axis (and negative ones), keepdims both
    ways, every split_every; axis=None (global first occurrence) with several split_every."""
    out = [(None, False, 2), (None, True, 3), (None, False, None)]
    axes = list(range(ndim)) + [-1, -ndim]
    for i, axis in enumerate(axes):
        out.append((axis, bool(i % 2), SPLIT_EVERY[i % len(SPLIT_EVERY)]))
    return out


# ---------------------------------------------------------------------------------------------------
# API surface
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("func", ARG_FUNCS)
def test_signature_arg_functions(func):
    sig = inspect.signature(getattr(ooc, func))
    params = list(sig.parameters.values())
    assert [p.name for p in params] == ["a", "axis", "out", "keepdims", "split_every"]
    P = inspect.Parameter
    assert [p.kind for p in params] == [P.POSITIONAL_OR_KEYWORD] * 3 + [P.KEYWORD_ONLY] * 2
    assert sig.parameters["axis"].default is None
    assert sig.parameters["out"].default is None
    assert sig.parameters["keepdims"].default is False
    assert sig.parameters["split_every"].default is None


@pytest.mark.parametrize("func", PAIR_FUNCS)
def test_signature_pair_functions(func):
    sig = inspect.signature(getattr(ooc, func))
    params = list(sig.parameters.values())
    assert [p.name for p in params] == ["a", "axis", "keepdims", "skipna", "split_every"]
    P = inspect.Parameter
    assert [p.kind for p in params] == [P.POSITIONAL_OR_KEYWORD] * 2 + [P.KEYWORD_ONLY] * 3
    assert sig.parameters["skipna"].default is False
    assert sig.parameters["keepdims"].default is False


def test_positional_axis_and_out():
    a = np.array([[1, 5, 5], [7, 0, 7]])
    out = np.empty(2, dtype=np.intp)
    assert ooc.argmax(a, 1, out) is out
    check_index(out, [1, 0])
    check_index(ooc.argmin(a, 0).compute(), [0, 1, 0])
    with pytest.raises(TypeError):
        ooc.argmax(a, 0, None, True)  # keepdims is keyword-only


# ---------------------------------------------------------------------------------------------------
# Main matrix: function x dtype x chunking, each over every axis / keepdims / split_every
# ---------------------------------------------------------------------------------------------------

def _run_batch(cases):
    """cases: list of (msg, build, expected_or_exception, checker).  Error cases compute one by one,
    the rest in a single dask.compute (which also exercises graph-name uniqueness)."""
    ok, lazy = [], []
    for msg, build, exp in cases:
        if isinstance(exp, Exception):
            res = build()  # building must not compute, hence not raise
            with pytest.raises(type(exp), match="All-NaN slice encountered"
                               if "All-NaN" in str(exp) else None):
                dask.compute(res)
        else:
            res = build()
            ok.append((msg, exp, res))
            lazy.append(res)
    computed = dask.compute(*lazy)
    return [(msg, exp, res, got) for (msg, exp, res), got in zip(ok, computed)]


@pytest.mark.parametrize("chunking", list(CHUNKINGS_2D))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("func", ARG_FUNCS)
def test_matrix_arg(func, dtype, chunking):
    shape = (8, 7)
    chunks = CHUNKINGS_2D[chunking]
    cases = []
    for mode in ["small", "alphabet"]:
        rng = np.random.default_rng(_seed(func, dtype, chunking, mode))
        a = make_data(mode, dtype, shape, rng)
        x = da.from_array(a, chunks=chunks)
        for axis, keepdims, se in _combos(a.ndim):
            msg = f"{func} {dtype} {chunking} {mode} axis={axis} keepdims={keepdims} split_every={se}"
            try:
                exp = ref(func, a, axis=axis, keepdims=keepdims)
            except ValueError as e:
                exp = e
            cases.append((msg, (lambda x=x, axis=axis, keepdims=keepdims, se=se:
                                _call(func, x, axis, keepdims, se)), exp))
    for msg, exp, res, got in _run_batch(cases):
        check_lazy(res, exp, msg)
        check_index(got, exp, msg)


@pytest.mark.parametrize("chunking", ["ones", "ragged"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("skipna", [False, True])
@pytest.mark.parametrize("func", PAIR_FUNCS)
def test_matrix_pair(func, skipna, dtype, chunking):
    shape = (8, 7)
    chunks = CHUNKINGS_2D[chunking]
    cases = []
    for mode in ["small", "alphabet"]:
        rng = np.random.default_rng(_seed(func, skipna, dtype, chunking, mode))
        a = make_data(mode, dtype, shape, rng)
        x = da.from_array(a, chunks=chunks)
        for axis, keepdims, se in _combos(a.ndim):
            msg = (f"{func} skipna={skipna} {dtype} {chunking} {mode} axis={axis} "
                   f"keepdims={keepdims} split_every={se}")
            try:
                exp = ref_pair(func, a, axis=axis, keepdims=keepdims, skipna=skipna)
            except ValueError as e:
                exp = e
            cases.append((msg, (lambda x=x, axis=axis, keepdims=keepdims, se=se:
                                getattr(ooc, func)(x, axis=axis, keepdims=keepdims, skipna=skipna,
                                                   split_every=se)), exp))
            if not skipna and not isinstance(exp, Exception):
                # values are exactly numpy's max / min (NaN / NaT propagate)
                npv = (np.max if func == "max_argmax" else np.min)(a, axis=axis, keepdims=keepdims)
                check_values(exp[0], npv, "oracle self-check " + msg)
    for msg, (ev, ei), res, (gv, gi) in _run_batch(cases):
        assert isinstance(res, tuple) and len(res) == 2, msg
        check_lazy(res[1], ei, msg)
        assert isinstance(res[0], da.Array), msg
        assert _same_dtype(res[0].dtype, a.dtype), f"{msg}: values dtype {res[0].dtype}"
        assert res[0].shape == np.shape(ev), msg
        check_index(gi, ei, msg)
        check_values(gv, ev, msg)


SHAPES_CHUNKS_ND = [
    ((13,), (13,)),
    ((13,), (1,)),
    ((13,), ((5, 1, 7),)),
    ((13,), (4,)),
    ((1,), (1,)),
    ((4, 5, 6), (4, 5, 6)),
    ((4, 5, 6), (1, 1, 1)),
    ((4, 5, 6), ((1, 3), (2, 2, 1), (4, 2))),
    ((3, 4, 2, 5), (2, 3, 1, 2)),
    ((3, 4, 2, 5), (1, 4, 2, 1)),
    ((2, 1, 3, 1), (1, 1, 2, 1)),
]


@pytest.mark.parametrize("dtype", ["int8", "float16", "float64", "complex128"])
@pytest.mark.parametrize("shape,chunks", SHAPES_CHUNKS_ND, ids=lambda v: str(v).replace(" ", ""))
def test_matrix_nd(shape, chunks, dtype):
    cases = []
    for mode in ["small", "alphabet"]:
        rng = np.random.default_rng(_seed(shape, chunks, dtype, mode))
        a = make_data(mode, dtype, shape, rng)
        x = da.from_array(a, chunks=chunks)
        for func in ARG_FUNCS:
            for axis, keepdims, se in _combos(a.ndim):
                msg = f"{func} {dtype} {shape} {chunks} {mode} axis={axis} keepdims={keepdims} se={se}"
                try:
                    exp = ref(func, a, axis=axis, keepdims=keepdims)
                except ValueError as e:
                    exp = e
                cases.append((msg, (lambda x=x, func=func, axis=axis, keepdims=keepdims, se=se:
                                    _call(func, x, axis, keepdims, se)), exp))
    for msg, exp, res, got in _run_batch(cases):
        check_lazy(res, exp, msg)
        check_index(got, exp, msg)


# ---------------------------------------------------------------------------------------------------
# Global first-occurrence on N-d chunk grids
# ---------------------------------------------------------------------------------------------------

def test_global_tie_axis_none_2d_grid():
    x = np.zeros((4, 4))
    x[0, 2] = x[1, 0] = 1
    assert np.argmax(x) == 2
    for split_every in [None, 2, 4]:
        r = ooc.argmax(da.from_array(x, chunks=(2, 2)), split_every=split_every)
        check_lazy(r, np.argmax(x))
        check_index(r.compute(), 2, f"split_every={split_every}")
    check_index(ooc.argmin(da.from_array(-x, chunks=(2, 2))).compute(), 2)
    check_index(ooc.nanargmax(da.from_array(x, chunks=(2, 2))).compute(), 2)
    check_index(ooc.nanargmin(da.from_array(-x, chunks=(2, 2))).compute(), 2)
    v, i = ooc.max_argmax(da.from_array(x, chunks=(2, 2)))
    check_index(i.compute(), 2)
    check_values(v.compute(), 1.0)


@pytest.mark.parametrize("func", ARG_FUNCS)
def test_global_tie_axis_none_3d_grid(func):
    """Ties placed so that chunk order (C order of blocks) differs from flat order."""
    a = np.zeros((4, 4, 4), dtype=np.int16)
    best = 5 if "max" in func else -5
    for pos in [(3, 0, 0), (1, 3, 3), (1, 2, 3), (1, 3, 0), (0, 3, 3)]:
        a[pos] = best
    exp = ref(func, a)
    assert exp == np.ravel_multi_index((0, 3, 3), a.shape)
    for chunks in [(2, 2, 2), (1, 2, 4), (4, 1, 1), ((3, 1), (1, 3), (2, 2))]:
        for se in [None, 2, 3]:
            check_index(_call(func, da.from_array(a, chunks=chunks), None, False, se).compute(),
                        exp, f"chunks={chunks} se={se}")


def test_first_nan_wins_across_chunk_grid():
    a = np.zeros((4, 4))
    a[1, 0] = np.nan  # flat 4, in block (0, 0)
    a[0, 3] = np.nan  # flat 3, in block (0, 1)
    a[3, 3] = np.inf
    x = da.from_array(a, chunks=(2, 2))
    check_index(ooc.argmax(x).compute(), 3)
    check_index(ooc.argmin(x).compute(), 3)
    check_index(ooc.nanargmax(x).compute(), 15)
    check_index(ooc.nanargmin(x).compute(), 0)
    for axis in [0, 1]:
        for f in ARG_FUNCS:
            check_index(_call(f, x, axis).compute(), ref(f, a, axis), f"{f} axis={axis}")
    v, i = ooc.max_argmax(x)
    check_index(i.compute(), 3)
    assert np.isnan(v.compute())
    v, i = ooc.min_argmin(x, skipna=True)
    check_index(i.compute(), 0)
    check_values(v.compute(), 0.0)


# ---------------------------------------------------------------------------------------------------
# NaN, inf, -0.0 specifics
# ---------------------------------------------------------------------------------------------------

def _border_positions(chunks_1d):
    """Indices at both sides of every chunk border along one axis."""
    pos, start = set(), 0
    for c in chunks_1d:
        pos.update({start, start + c - 1})
        start += c
    return sorted(pos)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + COMPLEX_DTYPES)
@pytest.mark.parametrize("chunking", ["ragged", "many", "ones"])
def test_nan_at_chunk_borders(dtype, chunking):
    chunks = CHUNKINGS_2D[chunking]
    normalized = da.from_array(np.zeros((8, 7)), chunks=chunks).chunks
    rng = np.random.default_rng(_seed(dtype, chunking))
    a = small_ints(dtype, (8, 7), rng)
    rows = _border_positions(normalized[0])
    cols = _border_positions(normalized[1])
    # NaN at border crossings, but never making a whole row/column NaN
    for r in rows[1:]:
        for c in cols[1::2]:
            a[r, c] = np.nan
    x = da.from_array(a, chunks=chunks)
    for func in ARG_FUNCS:
        for axis in [None, 0, 1, -1]:
            exp = ref(func, a, axis)
            check_index(_call(func, x, axis).compute(), exp, f"{func} axis={axis}")
    for func in PAIR_FUNCS:
        for skipna in [False, True]:
            for axis in [None, 0, 1]:
                v, i = getattr(ooc, func)(x, axis=axis, skipna=skipna)
                ev, ei = ref_pair(func, a, axis, skipna=skipna)
                gv, gi = dask.compute(v, i)
                check_index(gi, ei, f"{func} skipna={skipna} axis={axis}")
                check_values(gv, ev, f"{func} skipna={skipna} axis={axis}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + COMPLEX_DTYPES)
@pytest.mark.parametrize("func", ["nanargmax", "nanargmin"])
def test_all_nan_slice_raises_at_compute(func, dtype):
    a = np.arange(20).reshape(4, 5).astype(dtype)
    a[2, :] = np.nan
    for chunks in [(4, 5), (1, 1), (3, 2)]:
        x = da.from_array(a, chunks=chunks)
        # axis=0 fine: no all-NaN column
        check_index(_call(func, x, 0).compute(), ref(func, a, 0))
        check_index(_call(func, x, None).compute(), ref(func, a, None))
        r = _call(func, x, 1)  # lazy: must not raise here
        with pytest.raises(ValueError, match="All-NaN slice encountered"):
            r.compute()
        with pytest.raises(ValueError, match="All-NaN slice encountered"):
            _call(func, x, -1, True, 2).compute()
        pair = "max_argmax" if func == "nanargmax" else "min_argmin"
        v, i = getattr(ooc, pair)(x, axis=1, skipna=True)
        with pytest.raises(ValueError, match="All-NaN slice encountered"):
            dask.compute(v, i)
        # skipna=False: NaN simply wins
        v, i = getattr(ooc, pair)(x, axis=1)
        check_index(i.compute(), ref("argmax" if func == "nanargmax" else "argmin", a, 1))
    allnan = np.full((3, 4), np.nan, dtype=dtype)
    with pytest.raises(ValueError, match="All-NaN slice encountered"):
        _call(func, da.from_array(allnan, chunks=2), None).compute()
    with pytest.raises(ValueError, match="All-NaN slice encountered"):
        _call(func, allnan, None).compute()
    check_index(ooc.argmax(da.from_array(allnan, chunks=2)).compute(), 0)
    check_index(ooc.argmin(da.from_array(allnan, chunks=2), axis=1).compute(), [0, 0, 0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_documented_inf_only_difference(dtype):
    """Only -inf (+inf) besides NaN: ooc returns the inf position; numpy returns a NaN position."""
    a = np.array([np.nan, np.nan, -np.inf, np.nan], dtype=dtype)
    assert np.nanargmax(a) == 0  # numpy's (documented-different) answer
    for chunks in [4, 1, 2, 3]:
        x = da.from_array(a, chunks=chunks)
        check_index(ooc.nanargmax(x).compute(), 2, f"chunks={chunks}")
        v, i = ooc.max_argmax(x, skipna=True)
        check_index(i.compute(), 2)
        check_values(v.compute(), np.array(-np.inf, dtype=dtype))
        check_index(ooc.argmax(x).compute(), 0)  # NaN propagates
    b = np.array([np.nan, np.inf, np.nan, np.inf], dtype=dtype)
    assert np.nanargmin(b) == 0
    for chunks in [4, 1, 3]:
        x = da.from_array(b, chunks=chunks)
        check_index(ooc.nanargmin(x).compute(), 1, f"chunks={chunks}")
        v, i = ooc.min_argmin(x, skipna=True)
        check_index(i.compute(), 1)
        check_values(v.compute(), np.array(np.inf, dtype=dtype))
    # along an axis, mixed rows
    m = np.array([[np.nan, -np.inf, np.nan, -np.inf],
                  [np.nan, 1.0, -np.inf, 1.0],
                  [-np.inf, np.nan, np.nan, np.nan]], dtype=dtype)
    x = da.from_array(m, chunks=(2, 2))
    check_index(ooc.nanargmax(x, axis=1).compute(), [1, 1, 0])
    check_index(ooc.nanargmax(x, axis=1).compute(), ref_nanarg(m, 1))
    check_index(ooc.nanargmax(x).compute(), 5)
    check_index(ooc.nanargmin(x, axis=1).compute(), [1, 2, 0])
    check_index(ooc.nanargmax(x, axis=0).compute(), ref_nanarg(m, 0))


def test_documented_inf_only_difference_complex():
    a = np.array([complex(np.nan, 0), complex(-np.inf, -np.inf), complex(0, np.nan)])
    check_index(ooc.nanargmax(da.from_array(a, chunks=1)).compute(), 1)
    check_index(ooc.nanargmax(a).compute(), ref_nanarg(a))
    b = np.array([complex(np.nan, 0), complex(-np.inf, 0), complex(-np.inf, -1.0)])
    check_index(ooc.nanargmax(da.from_array(b, chunks=2)).compute(), 1)
    check_index(ooc.nanargmin(da.from_array(b, chunks=2)).compute(), 2)
    # numpy fills NaN with -inf+0j, which beats every non-NaN element here: it answers 0 (a NaN)
    assert np.nanargmax(b) == 0 and np.nanargmin(b) == 2


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + COMPLEX_DTYPES)
def test_negative_zero_ties(dtype):
    a = np.array([-0.0, 0.0, -0.0, 0.0], dtype=dtype)
    for chunks in [4, 1, 3]:
        x = da.from_array(a, chunks=chunks)
        for func in ARG_FUNCS:
            check_index(_call(func, x).compute(), 0, f"{func} chunks={chunks}")
        b = da.from_array(a[::-1].copy(), chunks=chunks)
        for func in ARG_FUNCS:
            check_index(_call(func, b).compute(), 0, f"{func} reversed chunks={chunks}")
    m = np.array([[-1.0, 0.0], [-0.0, -1.0], [0.0, -0.0]], dtype=dtype)
    for func in ARG_FUNCS:
        for axis in [None, 0, 1]:
            check_index(_call(func, da.from_array(m, chunks=1), axis).compute(), ref(func, m, axis),
                        f"{func} axis={axis}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_infinities(dtype):
    a = np.array([1.0, np.inf, -np.inf, np.inf, -np.inf, 3.0], dtype=dtype)
    for chunks in [6, 1, 2, 4]:
        x = da.from_array(a, chunks=chunks)
        check_index(ooc.argmax(x).compute(), 1)
        check_index(ooc.argmin(x).compute(), 2)
        check_index(ooc.nanargmax(x).compute(), 1)
        check_index(ooc.nanargmin(x).compute(), 2)
    only_neg = np.full(5, -np.inf, dtype=dtype)
    only_pos = np.full(5, np.inf, dtype=dtype)
    for func in ARG_FUNCS:
        for arr in [only_neg, only_pos]:
            check_index(_call(func, da.from_array(arr, chunks=2)).compute(), 0, func)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                                   "uint64", "bool", "float16", "float32", "float64"])
def test_extreme_values_constant(dtype):
    """Arrays equal to the dtype's extreme values everywhere (kernel sentinels must not win)."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        extremes = [False, True]
    elif dt.kind in "iu":
        extremes = [np.iinfo(dt).min, np.iinfo(dt).max]
    else:
        extremes = [np.finfo(dt).min, np.finfo(dt).max, -np.inf, np.inf]
    for v in extremes:
        a = np.full((5, 6), v, dtype=dt)
        for chunks in [(5, 6), (2, 4)]:
            x = da.from_array(a, chunks=chunks)
            for func in ARG_FUNCS:
                for axis in [None, 0, 1]:
                    check_index(_call(func, x, axis).compute(), ref(func, a, axis),
                                f"{func} v={v} axis={axis}")


# ---------------------------------------------------------------------------------------------------
# dtypes: complex, datetime, byte order, memory layout
# ---------------------------------------------------------------------------------------------------

def test_complex_lexicographic():
    a = np.array([1 + 2j, 1 + 3j, 0 + 9j, 1 + 3j, -5 + 0j, -5 - 1j])
    x = da.from_array(a, chunks=2)
    check_index(ooc.argmax(x).compute(), 1)
    check_index(ooc.argmin(x).compute(), 5)
    v, i = ooc.max_argmax(x)
    check_values(v.compute(), np.max(a))
    v, i = ooc.min_argmin(x)
    check_values(v.compute(), -5 - 1j)
    c = np.array([1 + 1j, complex(0, np.nan), 2 + 0j, complex(np.nan, 0)])
    for func in ARG_FUNCS:
        check_index(_call(func, da.from_array(c, chunks=1)).compute(), ref(func, c), func)


@pytest.mark.parametrize("dtype", ["datetime64[ns]", "datetime64[D]", "timedelta64[s]", "timedelta64[ns]"])
def test_datetime_nat_like_numpy(dtype):
    ints = np.array([[3, -9223372036854775808, 5, 1],
                     [7, 2, -9223372036854775808, -9223372036854775808],
                     [0, 9, 9, 0]], dtype=np.int64)
    a = ints.view(dtype)
    for chunks in [(3, 4), (1, 1), (2, 3)]:
        x = da.from_array(a, chunks=chunks)
        for func in ARG_FUNCS:
            npf = getattr(np, func)
            for axis in [None, 0, 1, -1]:
                for keepdims in [False, True]:
                    check_index(_call(func, x, axis, keepdims).compute(),
                                npf(a, axis=axis, keepdims=keepdims),
                                f"{func} chunks={chunks} axis={axis} keepdims={keepdims}")
        for func in PAIR_FUNCS:
            for skipna in [False, True]:
                v, i = getattr(ooc, func)(x, axis=1, skipna=skipna)
                ev, ei = ref_pair(func, a, 1, skipna=skipna)
                gv, gi = dask.compute(v, i)
                check_index(gi, ei)
                check_values(gv, ev)
                if not skipna:
                    check_values(gv, (np.max if func == "max_argmax" else np.min)(a, axis=1))
    allnat = np.array(["NaT", "NaT"], dtype=dtype)
    for func in ARG_FUNCS:
        check_index(_call(func, da.from_array(allnat, chunks=1)).compute(), getattr(np, func)(allnat))


def test_nanarg_datetime_equals_numpy_argmax():
    """Self-check of the oracle assumption: numpy's nanargmax does not skip NaT."""
    a = np.array(["2020-01-01", "NaT", "2021-01-01"], dtype="M8[D]")
    assert np.nanargmax(a) == np.argmax(a) == 1
    assert np.nanargmin(a) == np.argmin(a) == 1


@pytest.mark.parametrize("dtype", [">f8", ">i4", ">f4", ">u2", ">c16", "<f8"])
def test_byteswapped(dtype):
    rng = np.random.default_rng(_seed(dtype))
    a = from_alphabet(np.dtype(dtype).newbyteorder("="), (6, 5), rng, nan_prob=0.1).astype(dtype)
    assert a.dtype == np.dtype(dtype)
    a[0, 0] = a[5, 4] = alphabet(np.dtype(dtype).newbyteorder("="))[1]
    for inp in [a, da.from_array(a, chunks=(4, 2))]:
        for func in ARG_FUNCS:
            for axis in [None, 0, 1]:
                try:
                    exp = ref(func, a, axis)
                except ValueError:
                    with pytest.raises(ValueError):
                        _call(func, inp, axis).compute()
                    continue
                check_index(_call(func, inp, axis).compute(), exp, f"{func} axis={axis}")
        v, i = ooc.max_argmax(inp, axis=0)
        ev, ei = ref_pair("max_argmax", a, 0)
        check_index(i.compute(), ei)
        check_values(v.compute(), ev)


def _layouts():
    rng = np.random.default_rng(12345)
    base = rng.integers(0, 4, size=(9, 10)).astype(np.float64)
    base[rng.random(base.shape) < 0.08] = np.nan
    return {
        "F": np.asfortranarray(base),
        "sliced": base[1::2, ::3],
        "negstep": base[::-1, ::-2],
        "transposed": base.T,
        "F_negstep": np.asfortranarray(base)[::-2, 1:],
        "broadcast": np.broadcast_to(base[3], (5, 10)),
        "int_F_negstep": np.asfortranarray(rng.integers(0, 3, size=(9, 10)).astype(np.int32))[::-1, ::-1],
    }


@pytest.mark.parametrize("layout", list(_layouts()))
def test_memory_layouts(layout):
    a = _layouts()[layout]
    inputs = {"numpy": a, "dask": da.from_array(a, chunks=(3, 4)),
              "dask_T": da.from_array(np.ascontiguousarray(a.T), chunks=(4, 3)).T,
              "dask_rev": da.from_array(np.ascontiguousarray(a[::-1, ::-1]), chunks=(2, 3))[::-1, ::-1]}
    for name, inp in inputs.items():
        for func in ARG_FUNCS:
            for axis in [None, 0, 1, -1]:
                try:
                    exp = ref(func, a, axis)
                except ValueError:
                    with pytest.raises(ValueError):
                        _call(func, inp, axis).compute()
                    continue
                check_index(_call(func, inp, axis).compute(), exp, f"{name} {func} axis={axis}")
        for func in PAIR_FUNCS:
            v, i = getattr(ooc, func)(inp, axis=0)
            ev, ei = ref_pair(func, a, 0)
            check_index(i.compute(), ei, f"{name} {func}")
            check_values(v.compute(), ev, f"{name} {func}")
    # the input must not be modified
    np.testing.assert_array_equal(a, _layouts()[layout])


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                                   "uint64", "float16", "float32", "float64"])
def test_larger_blocks_compiled_paths(dtype):
    """Blocks long enough for unrolled / vectorized kernel loops (with remainders), ties, NaN runs,
    -0.0/0.0 runs, values at block ends."""
    rng = np.random.default_rng(_seed("large", dtype))
    dt = np.dtype(dtype)
    arrays = []
    a = small_ints(dt, (5, 1037), rng)
    arrays.append((a, ((3, 2), (500, 537))))
    b = small_ints(dt, (1501,), rng)
    if dt.kind == "f":
        b[700:760] = np.nan  # a run of NaN inside the block
        b[::97] = -0.0
    arrays.append((b, ((1000, 501),)))
    c = small_ints(dt, (33, 17, 9), rng)
    hi = np.iinfo(dt).max if dt.kind in "iu" else (True if dt.kind == "b" else np.inf)
    c[32, 16, 8] = c[20, 3, 1] = hi  # extreme values, one of them the very last element
    arrays.append((c, ((20, 13), 17, (4, 5))))
    d = np.zeros(4099, dtype=dt)
    if dt.kind == "f":
        d[::2] = -0.0
    arrays.append((d, ((4099,),)))
    cases = []
    for arr, chunks in arrays:
        for inp in [da.from_array(arr, chunks=chunks), da.from_array(np.asfortranarray(arr), chunks=chunks)]:
            for func in ARG_FUNCS:
                for axis in [None] + list(range(arr.ndim)):
                    msg = f"{func} {dtype} shape={arr.shape} axis={axis}"
                    try:
                        exp = ref(func, arr, axis)
                    except ValueError as e:
                        exp = e
                    cases.append((msg, (lambda inp=inp, func=func, axis=axis: _call(func, inp, axis)), exp))
    for msg, exp, res, got in _run_batch(cases):
        check_index(got, exp, msg)


def test_zero_size_chunks_of_nonempty_array():
    """Dask arrays may have empty blocks (e.g. after boolean masking + compute_chunk_sizes()).
    The array is not empty, so numpy's answer exists and ooc must give it."""
    a = np.array([3.0, 1, 0, 7, 7, 2, 0, 9])
    x = da.from_array(a, chunks=3)
    y = x[x > 6.5].compute_chunk_sizes()
    assert y.chunks == ((0, 2, 1),)
    ya = y.compute()
    for func in ARG_FUNCS:
        check_index(_call(func, y).compute(), ref(func, ya), func)
    b = np.arange(12.0).reshape(3, 4)
    b[1, 2] = 50
    b[2, 0] = np.nan
    for chunks in [((1, 0, 2), (4,)), ((3,), (2, 0, 2)), ((0, 3, 0), (1, 0, 3))]:
        xb = da.from_array(b, chunks=chunks)
        for func in ARG_FUNCS:
            for axis in [None, 0, 1]:
                check_index(_call(func, xb, axis, False, 2).compute(), ref(func, b, axis),
                            f"{func} chunks={chunks} axis={axis}")
        v, i = ooc.max_argmax(xb, axis=0)
        ev, ei = ref_pair("max_argmax", b, 0)
        check_index(i.compute(), ei)
        check_values(v.compute(), ev)


# ---------------------------------------------------------------------------------------------------
# Edge shapes: 0-d, empty, axis errors
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("func", ARG_FUNCS)
@pytest.mark.parametrize("value", [3.5, np.nan, -np.inf, 7])
def test_zero_d_input(func, value):
    a = np.array(value)
    for inp in [a, da.from_array(a)]:
        for axis in [None, 0, -1, 1, -2]:
            for keepdims in [False, True]:
                msg = f"{func} value={value} axis={axis} keepdims={keepdims}"
                try:
                    exp = ref(func, a, axis=axis, keepdims=keepdims)
                except AxisError:
                    with pytest.raises(AxisError):
                        _call(func, inp, axis, keepdims)
                    continue
                except ValueError:
                    with pytest.raises(ValueError, match="All-NaN"):
                        _call(func, inp, axis, keepdims).compute()
                    continue
                r = _call(func, inp, axis, keepdims)
                check_lazy(r, exp, msg)
                check_index(r.compute(), exp, msg)


@pytest.mark.parametrize("func", PAIR_FUNCS)
def test_zero_d_input_pair(func):
    a = np.array(2.5)
    v, i = getattr(ooc, func)(a)
    check_index(i.compute(), 0)
    check_values(v.compute(), a)
    v, i = getattr(ooc, func)(a, keepdims=True)
    assert i.shape == () and v.shape == ()
    with pytest.raises(AxisError):
        getattr(ooc, func)(a, axis=1)


@pytest.mark.parametrize("func", ARG_FUNCS + PAIR_FUNCS)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0)])
def test_empty_inputs_like_numpy(func, shape):
    """Zero-length reduced axis (or axis=None on an empty array) -> ValueError; reducing a non-empty
    axis of an empty array gives an empty result, exactly as numpy."""
    a = np.zeros(shape)
    argname = {"max_argmax": "argmax", "min_argmin": "argmin"}.get(func, func)
    for inp in [a, da.from_array(a, chunks=2)]:
        for axis in [None] + list(range(a.ndim)) + [-1]:
            for keepdims in [False, True]:
                msg = f"{func} shape={shape} axis={axis} keepdims={keepdims}"
                err = _expect_raises(lambda: getattr(np, argname)(a, axis=axis, keepdims=keepdims))
                if func in PAIR_FUNCS:
                    def build():
                        return dask.compute(*getattr(ooc, func)(inp, axis=axis, keepdims=keepdims))
                else:
                    def build():
                        return _call(func, inp, axis, keepdims).compute()
                if err is not None:
                    assert isinstance(err, ValueError)
                    with pytest.raises(ValueError):
                        build()
                else:
                    exp = getattr(np, argname)(a, axis=axis, keepdims=keepdims)
                    got = build()
                    if func in PAIR_FUNCS:
                        check_index(got[1], exp, msg)
                        assert np.shape(got[0]) == exp.shape, msg
                    else:
                        check_index(got, exp, msg)


@pytest.mark.parametrize("func", ARG_FUNCS + PAIR_FUNCS)
def test_axis_out_of_range(func):
    a = np.arange(6.0).reshape(2, 3)
    for inp in [a, da.from_array(a, chunks=1)]:
        for axis in [2, -3, 5, -100]:
            with pytest.raises(AxisError):
                getattr(ooc, func)(inp, axis=axis)
    # numpy integer scalars are valid axes
    if func in ARG_FUNCS:
        check_index(_call(func, a, np.int64(1)).compute(), ref(func, a, 1))
        check_index(_call(func, a, np.int32(-2)).compute(), ref(func, a, 0))


# ---------------------------------------------------------------------------------------------------
# Input kinds, laziness, out=
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "int16", "uint8", "bool", "float32", "complex128",
                                   "datetime64[ns]", ">f8"])
def test_zarr_input(tmp_path, dtype):
    rng = np.random.default_rng(_seed("zarr", dtype))
    a = make_data("alphabet", dtype, (9, 7), rng)
    if a.dtype.kind in "fc":
        a[:, 3] = np.nan  # an all-NaN column
    z = zarr.create_array(store=str(tmp_path / "a.zarr"), shape=a.shape, chunks=(4, 3), dtype=a.dtype)
    z[:] = a
    for func in ARG_FUNCS:
        for axis in [None, 0, 1, -2]:
            msg = f"{func} axis={axis}"
            try:
                exp = ref(func, a, axis)
            except ValueError:
                r = _call(func, z, axis)
                assert isinstance(r, da.Array)
                with pytest.raises(ValueError, match="All-NaN slice encountered"):
                    r.compute()
                continue
            r = _call(func, z, axis)
            check_lazy(r, exp, msg)
            check_index(r.compute(), exp, msg)
    v, i = ooc.max_argmax(z, axis=1)
    ev, ei = ref_pair("max_argmax", a, 1)
    check_index(i.compute(), ei)
    check_values(v.compute(), ev)


@pytest.mark.parametrize("dtype", [">f8", ">i4", "<f8", ">c16", ">f2", "f4", ">u8", ">M8[ns]", "<i2"])
@pytest.mark.parametrize("layout", ["v2", "v2-raw", "v3", "v3-raw", "v3-sharded"])
def test_zarr_input_formats_and_byte_order(tmp_path, layout, dtype):
    """Zarr v2/v3, compressed or not, sharded, stored big- or little-endian: values and indices."""
    rng = np.random.default_rng(_seed("zfmt", layout, dtype))
    native = np.dtype(dtype).newbyteorder("=")
    a = make_data("alphabet", native, (7, 5), rng).astype(dtype)
    kw = {"zarr_format": 2 if layout.startswith("v2") else 3}
    if layout.endswith("raw"):
        kw["compressors"] = None
    chunks = (3, 2)
    if layout == "v3-sharded":
        chunks, kw["shards"] = (2, 2), (4, 4)
    z = zarr.create_array(store=str(tmp_path / "a.zarr"), shape=a.shape, chunks=chunks, dtype=a.dtype, **kw)
    z[:] = a
    np.testing.assert_array_equal(z[...], a)  # zarr itself round-trips
    for func in ARG_FUNCS:
        for axis in [None, 0, 1]:
            try:
                exp = ref(func, a, axis)
            except ValueError:
                with pytest.raises(ValueError, match="All-NaN slice encountered"):
                    _call(func, z, axis).compute()
                continue
            check_index(_call(func, z, axis).compute(), exp, f"{func} axis={axis}")
    for func in PAIR_FUNCS:
        for axis in [None, 1]:
            ev, ei = ref_pair(func, a, axis)
            gv, gi = dask.compute(*getattr(ooc, func)(z, axis=axis))
            check_index(gi, ei, f"{func} axis={axis}")
            check_values(gv, ev, f"{func} axis={axis}")


def _boom_array(shape, dtype=np.float64, chunks=None):
    calls = []

    def boom():
        calls.append(1)
        raise RuntimeError("input data was read")

    x = da.from_delayed(delayed(boom)(), shape=shape, dtype=dtype)
    if chunks is not None:
        x = x.rechunk(chunks)
    return x, calls


@pytest.mark.parametrize("func", ARG_FUNCS + PAIR_FUNCS)
def test_lazy_no_compute_on_build(func):
    x, calls = _boom_array((6, 4))
    for axis in [None, 0, 1]:
        res = getattr(ooc, func)(x, axis=axis)
        for r in (res if isinstance(res, tuple) else (res,)):
            assert isinstance(r, da.Array)
    assert calls == []
    with pytest.raises(RuntimeError, match="input data was read"):
        dask.compute(res)


@pytest.mark.parametrize("func", ARG_FUNCS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_out_numpy(func, keepdims):
    rng = np.random.default_rng(_seed("out", func, keepdims))
    a = small_ints("float64", (6, 5), rng)
    a[2, 3] = np.nan
    x = da.from_array(a, chunks=(4, 2))
    for axis in [None, 0, 1, -1]:
        exp = np.asarray(ref(func, a, axis, keepdims))
        for inp in [a, x]:
            out = np.full(exp.shape, -7, dtype=np.intp)
            res = getattr(ooc, func)(inp, axis, out, keepdims=keepdims)
            assert res is out
            check_index(out, exp, f"axis={axis}")
            out2 = np.full(exp.shape, -7, dtype=np.intp)
            res = getattr(ooc, func)(inp, axis=axis, out=out2, keepdims=keepdims, split_every=2)
            assert res is out2
            check_index(out2, exp, f"axis={axis} split_every=2")


@pytest.mark.parametrize("func", ARG_FUNCS)
def test_out_zarr(tmp_path, func):
    rng = np.random.default_rng(_seed("outz", func))
    a = small_ints("int32", (10, 9), rng)
    x = da.from_array(a, chunks=(3, 4))
    for axis, keepdims in [(0, False), (1, False), (-1, True), (0, True)]:
        exp = np.asarray(ref(func, a, axis, keepdims))
        out = zarr.create_array(store=str(tmp_path / f"o_{axis}_{keepdims}.zarr"), shape=exp.shape,
                                chunks=tuple(max(1, s // 2) for s in exp.shape), dtype=np.intp,
                                fill_value=-1)
        res = getattr(ooc, func)(x, axis=axis, out=out, keepdims=keepdims)
        assert res is out
        check_index(out[...], exp, f"axis={axis} keepdims={keepdims}")
        # the zarr store is persistent: reopen and read
        again = zarr.open_array(store=str(tmp_path / f"o_{axis}_{keepdims}.zarr"), mode="r")
        check_index(again[...], exp)
    # from a zarr input into a zarr output
    z = zarr.create_array(store=str(tmp_path / "in.zarr"), shape=a.shape, chunks=(4, 4), dtype=a.dtype)
    z[:] = a
    exp = np.asarray(ref(func, a, 1))
    out = zarr.create_array(store=str(tmp_path / "o2.zarr"), shape=exp.shape, chunks=(3,), dtype=np.intp)
    assert getattr(ooc, func)(z, axis=1, out=out) is out
    check_index(out[...], exp)


@pytest.mark.parametrize("func", ARG_FUNCS)
def test_out_axis_none(tmp_path, func):
    a = np.array([[0, 3, 3], [3, 1, 0]], dtype=np.uint8)
    out = np.empty((), dtype=np.intp)
    assert getattr(ooc, func)(da.from_array(a, chunks=1), out=out) is out
    check_index(out, ref(func, a))
    out = np.empty((1, 1), dtype=np.intp)
    assert getattr(ooc, func)(a, out=out, keepdims=True) is out
    check_index(out, ref(func, a, keepdims=True))


@pytest.mark.parametrize("func", ARG_FUNCS)
def test_out_wrong_shape_or_dtype_raises_before_compute(tmp_path, func):
    x, calls = _boom_array((6, 4), chunks=(3, 2))
    bad = [
        np.empty(5, dtype=np.intp),              # wrong length
        np.empty((4, 1), dtype=np.intp),         # wrong ndim
        np.empty((1, 4), dtype=np.intp),         # keepdims shape without keepdims
        np.empty(4, dtype=np.int32),             # wrong dtype
        np.empty(4, dtype=np.float64),           # wrong dtype
        np.empty(4, dtype=np.uint64),            # wrong dtype
        zarr.create_array(store=str(tmp_path / "b1.zarr"), shape=(5,), chunks=(5,), dtype=np.intp),
        zarr.create_array(store=str(tmp_path / "b2.zarr"), shape=(4,), chunks=(4,), dtype=np.int32),
    ]
    for out in bad:
        with pytest.raises(ValueError):
            getattr(ooc, func)(x, axis=0, out=out)
    with pytest.raises(ValueError):
        getattr(ooc, func)(x, axis=0, out=np.empty(4, dtype=np.intp), keepdims=True)
    with pytest.raises(ValueError):
        getattr(ooc, func)(x, axis=None, out=np.empty(1, dtype=np.intp))
    assert calls == []


def test_out_views_zero_d_zarr_and_read_only(tmp_path):
    a = np.array([[1, 5, 5, 2], [7, 0, 7, 1], [3, 3, 9, 9]], dtype=np.int16)
    x = da.from_array(a, chunks=(2, 3))
    buf = np.full((4, 3), -1, dtype=np.intp)
    out = buf[:, 1]  # non-contiguous view
    assert ooc.argmax(x, axis=0, out=out) is out
    check_index(buf[:, 1], np.argmax(a, axis=0))
    assert (buf[:, [0, 2]] == -1).all()  # nothing written outside the view
    fo = np.full((3, 4), -1, dtype=np.intp, order="F")[:, 2:3]
    assert ooc.nanargmin(x, axis=1, keepdims=True, out=fo) is fo
    check_index(fo, np.argmin(a, axis=1, keepdims=True))
    z0 = zarr.create_array(store=str(tmp_path / "z0.zarr"), shape=(), dtype=np.intp)
    assert ooc.argmax(x, out=z0) is z0
    check_index(z0[...], np.argmax(a))
    z1 = zarr.create_array(store=str(tmp_path / "z1.zarr"), shape=(1, 1), chunks=(1, 1), dtype=np.intp)
    assert ooc.argmin(x, out=z1, keepdims=True) is z1
    check_index(z1[...], np.argmin(a, keepdims=True))
    ro = np.empty(3, dtype=np.intp)
    ro.flags.writeable = False
    with pytest.raises(ValueError):  # numpy raises ValueError for a read-only out too
        ooc.argmax(x, axis=1, out=ro)
    o = np.empty((), dtype=np.intp)
    assert ooc.argmax(np.array(5.0), out=o) is o
    check_index(o, 0)


def test_out_all_nan_raises():
    a = np.array([[1.0, np.nan], [np.nan, np.nan]])
    with pytest.raises(ValueError, match="All-NaN slice encountered"):
        ooc.nanargmax(da.from_array(a, chunks=1), axis=1, out=np.empty(2, dtype=np.intp))
    out = np.empty(2, dtype=np.intp)
    ooc.argmax(da.from_array(a, chunks=1), axis=1, out=out)
    check_index(out, [1, 0])


# ---------------------------------------------------------------------------------------------------
# Graph names, composition, schedulers
# ---------------------------------------------------------------------------------------------------

def test_deterministic_names():
    a = np.arange(24.0).reshape(4, 6) % 5
    x = da.from_array(a, chunks=(2, 3))
    for func in ARG_FUNCS:
        for axis in [None, 0, 1]:
            assert _call(func, x, axis).name == _call(func, x, axis).name, (func, axis)
    assert ooc.argmax(a, axis=0).name == ooc.argmax(a.copy(), axis=0).name
    # a large numpy array is named from its identity (memory, shape, strides, dtype), never by
    # hashing its bytes: the same array gives the same name, another array (even equal) another
    big = np.zeros((1024, 1025))
    assert ooc.argmax(big, axis=0).name == ooc.argmax(big, axis=0).name
    assert ooc.argmax(big, axis=0).name != ooc.argmax(big.copy(), axis=0).name
    assert ooc.argmax(big, axis=0).name != ooc.argmax(big[:512], axis=0).name
    v1, i1 = ooc.max_argmax(x, axis=0)
    v2, i2 = ooc.max_argmax(x, axis=0)
    assert (v1.name, i1.name) == (v2.name, i2.name)
    assert v1.name != i1.name
    names = {}
    for func in ARG_FUNCS:
        for axis in [None, 0, 1, -1]:
            for keepdims in [False, True]:
                n = _call(func, x, axis, keepdims).name
                key = (func, axis % 2 if axis is not None else None, keepdims)
                names.setdefault(n, set()).add(key)
    for n, keys in names.items():
        assert len(keys) == 1, f"graph name {n} shared by {keys}"
    # axis=-1 and axis=1 are the same reduction: both fine, but results must agree
    check_index(ooc.argmax(x, axis=-1).compute(), ooc.argmax(x, axis=1).compute())
    assert ooc.argmax(x, axis=0).name != ooc.argmax(x + 1, axis=0).name
    pair_names = {ooc.max_argmax(x, axis=0)[0].name, ooc.min_argmin(x, axis=0)[0].name,
                  ooc.max_argmax(x, axis=1)[0].name, ooc.max_argmax(x, axis=0, skipna=True)[0].name}
    assert len(pair_names) == 4


_NAMES_SCRIPT = """
import numpy as np, dask.array as da, ooc
x = da.from_array(np.arange(24.0).reshape(4, 6), chunks=2)
print(ooc.argmax(x, axis=0).name, ooc.max_argmax(x)[0].name, ooc.nanargmin(np.arange(5)).name,
      ooc.min_argmin(x, axis=1, keepdims=True, skipna=True)[1].name)
"""


def test_names_deterministic_across_processes():
    import subprocess
    import sys

    x = da.from_array(np.arange(24.0).reshape(4, 6), chunks=2)
    here = " ".join([ooc.argmax(x, axis=0).name, ooc.max_argmax(x)[0].name, ooc.nanargmin(np.arange(5)).name,
                     ooc.min_argmin(x, axis=1, keepdims=True, skipna=True)[1].name])
    there = subprocess.run([sys.executable, "-c", _NAMES_SCRIPT], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert there == here


def test_distinct_reductions_computed_together():
    rng = np.random.default_rng(7)
    a = small_ints("float32", (7, 6), rng)
    a[3, 2] = np.nan
    x = da.from_array(a, chunks=(3, 2))
    lazy = {(f, ax, kd): _call(f, x, ax, kd) for f in ARG_FUNCS for ax in [None, 0, 1] for kd in [False, True]}
    pairs = {(f, s): getattr(ooc, f)(x, axis=0, skipna=s) for f in PAIR_FUNCS for s in [False, True]}
    got, got_pairs, total = dask.compute(lazy, pairs, x.sum())
    for (f, ax, kd), g in got.items():
        check_index(g, ref(f, a, ax, kd), f"{f} axis={ax} keepdims={kd}")
    for (f, s), (gv, gi) in got_pairs.items():
        ev, ei = ref_pair(f, a, 0, skipna=s)
        check_index(gi, ei)
        check_values(gv, ev)
    assert np.isnan(total)


def test_composes_with_dask():
    rng = np.random.default_rng(3)
    a = small_ints("int64", (10, 8), rng)
    x = da.from_array(a, chunks=(3, 3))
    assert (ooc.argmax(x, axis=0) + 1).sum().compute() == (np.argmax(a, axis=0) + 1).sum()
    r = ooc.argmin(x, axis=1, keepdims=True)
    np.testing.assert_array_equal((x * 0 + r).compute(), np.zeros_like(a) + np.argmin(a, axis=1, keepdims=True))
    idx = ooc.argmax(x, axis=1)
    picked = da.take_along_axis(x, idx[:, None], axis=1) if hasattr(da, "take_along_axis") else None
    if picked is not None:
        np.testing.assert_array_equal(picked.compute()[:, 0], a.max(axis=1))
    assert int(ooc.argmax(x)) == np.argmax(a)
    s = da.stack([ooc.argmax(x, axis=0), ooc.argmin(x, axis=0)])
    np.testing.assert_array_equal(s.compute(), np.stack([np.argmax(a, axis=0), np.argmin(a, axis=0)]))
    v, i = ooc.max_argmax(x, axis=0)
    np.testing.assert_array_equal((v - x.max(axis=0)).compute(), np.zeros(8, dtype=a.dtype))
    y = ooc.argmax(x, axis=0).rechunk(2).persist()
    check_index(y.compute(), np.argmax(a, axis=0))


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_schedulers(scheduler):
    rng = np.random.default_rng(11)
    a = small_ints("float64", (12, 10), rng)
    a[rng.random(a.shape) < 0.1] = np.nan
    a[4] = np.nan
    x = da.from_array(a, chunks=(3, 4))
    with dask.config.set(scheduler=scheduler):
        for func in ARG_FUNCS:
            for axis in [None, 0, -1]:
                for se in [None, 2]:
                    try:
                        exp = ref(func, a, axis)
                    except ValueError:
                        with pytest.raises(ValueError, match="All-NaN slice encountered"):
                            _call(func, x, axis, False, se).compute()
                        continue
                    check_index(_call(func, x, axis, False, se).compute(), exp, f"{func} {axis} {se}")
        v, i = ooc.min_argmin(x, axis=0, skipna=True)
        ev, ei = ref_pair("min_argmin", a, 0, skipna=True)
        gv, gi = dask.compute(v, i)
        check_index(gi, ei)
        check_values(gv, ev)


def test_processes_scheduler():
    """Few cases: the process pool is slow to start.  Results and errors cross process boundaries."""
    rng = np.random.default_rng(13)
    a = small_ints("float32", (9, 8), rng)
    a[2, 5] = a[6, 1] = np.nan
    b = small_ints("int16", (9, 8), rng)
    x = da.from_array(a, chunks=(4, 3))
    y = da.from_array(b, chunks=(2, 5))
    with dask.config.set(scheduler="processes", num_workers=2):
        got = dask.compute(ooc.argmax(x), ooc.nanargmin(x, axis=1), ooc.argmin(y, axis=0),
                           ooc.max_argmax(x, axis=0, skipna=True), ooc.nanargmax(y, keepdims=True))
        check_index(got[0], np.argmax(a))
        check_index(got[1], ref_nanarg(a, 1, kind="min"))
        check_index(got[2], np.argmin(b, axis=0))
        ev, ei = ref_pair("max_argmax", a, 0, skipna=True)
        check_index(got[3][1], ei)
        check_values(got[3][0], ev)
        check_index(got[4], np.argmax(b, keepdims=True))
        a2 = a.copy()
        a2[:, 4] = np.nan
        with pytest.raises(ValueError, match="All-NaN slice encountered"):
            ooc.nanargmax(da.from_array(a2, chunks=(4, 3)), axis=0).compute()


# ---------------------------------------------------------------------------------------------------
# unravel_index
# ---------------------------------------------------------------------------------------------------

def test_unravel_index_numpy_inputs():
    for idx, shape in [(5, (2, 3)), (0, (1,)), (np.array([0, 7, 23]), (2, 3, 4)),
                       (np.array([[1, 2], [3, 4]]), (5,)), (np.intp(2**32 + 5), (2**16, 2**17))]:
        got = ooc.unravel_index(idx, shape)
        exp = np.unravel_index(idx, shape)
        assert isinstance(got, tuple) and len(got) == len(exp)
        for g, e in zip(got, exp):
            g = g.compute() if isinstance(g, da.Array) else g
            np.testing.assert_array_equal(g, e)
            assert np.asarray(g).shape == np.asarray(e).shape


def test_unravel_index_lazy():
    a = np.zeros((5, 6, 7))
    a[3, 1, 4] = 9
    a[4, 0, 0] = 9
    x = da.from_array(a, chunks=(2, 4, 3))
    i = ooc.argmax(x)
    coords = ooc.unravel_index(i, a.shape)
    assert isinstance(coords, tuple) and len(coords) == 3
    assert all(isinstance(c, da.Array) for c in coords)
    assert dask.compute(*coords) == (3, 1, 4)
    j = ooc.argmax(x, axis=1)
    c2 = ooc.unravel_index(j * 7, (6, 7))
    assert all(isinstance(c, da.Array) for c in c2)
    e2 = np.unravel_index(np.argmax(a, axis=1) * 7, (6, 7))
    for g, e in zip(dask.compute(*c2), e2):
        np.testing.assert_array_equal(g, e)
        assert g.shape == e.shape
    big = da.from_array(np.array([0, 2**32 + 17, 2**16 * 2**17 - 1], dtype=np.intp), chunks=2)
    for g, e in zip(dask.compute(*ooc.unravel_index(big, (2**16, 2**17))),
                    np.unravel_index(big.compute(), (2**16, 2**17))):
        np.testing.assert_array_equal(g, e)


def test_unravel_index_out_of_bounds():
    with pytest.raises(ValueError):
        ooc.unravel_index(6, (2, 3))
    with pytest.raises(ValueError):
        dask.compute(ooc.unravel_index(da.from_array(np.array([1, 6]), chunks=1), (2, 3)))


# ---------------------------------------------------------------------------------------------------
# Large index space (> 2**32 elements)
# ---------------------------------------------------------------------------------------------------

def _planted_block(nrows, ncols, r0, plants):
    blk = np.zeros((nrows, ncols), dtype=np.int8)  # calloc: pages never written cost nothing
    for (r, c), v in plants.items():
        if r0 <= r < r0 + nrows:
            blk[r - r0, c] = v
    return blk


def test_index_beyond_2_32():
    """(2**16, 2**17) int8 = 2**33 elements, generated lazily block by block.

    Row chunks (2**15, 2**14 + 2**13, 2**13): the first block alone holds 2**32 elements, so local
    (in-chunk) flat indices pass 2**31 too; the argmax answer has a global flat index > 2**32.
    """
    shape = (2**16, 2**17)
    row_chunks = (2**15, 2**14 + 2**13, 2**13)
    far = 2**15 + 2**14 + 5          # global row of the max; local row 2**14 + 5 in block 1
    plants = {  # global position -> value; later ties must lose
        (far, 77): 1,
        (far, 100): 1,
        (60000, 3): 1,
        (20000, 5): -1,               # block 0, local flat index ~2.6e9 > 2**31
        (40000, 9): -1,
        (65535, 131071): -1,
    }
    blocks, r0 = [], 0
    for nrows in row_chunks:
        blocks.append(da.from_delayed(delayed(_planted_block)(nrows, shape[1], r0, plants),
                                      shape=(nrows, shape[1]), dtype=np.int8))
        r0 += nrows
    x = da.concatenate(blocks, axis=0)
    assert x.shape == shape and x.size == 2**33
    exp_max = far * 2**17 + 77
    exp_min = 20000 * 2**17 + 5
    assert exp_max > 2**32 and 2**31 < exp_min < 2**32
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        imax, imin, (vmax, imax2), (vmin, imin2), coords = dask.compute(
            ooc.argmax(x), ooc.argmin(x), ooc.max_argmax(x), ooc.min_argmin(x),
            ooc.unravel_index(ooc.argmax(x), shape))
    elapsed = time.perf_counter() - t0
    check_index(imax, exp_max)
    check_index(imin, exp_min)
    check_index(imax2, exp_max)
    check_index(imin2, exp_min)
    assert vmax == 1 and vmin == -1
    assert tuple(int(c) for c in coords) == (far, 77)
    print(f"test_index_beyond_2_32: {elapsed:.2f}s")


# ---------------------------------------------------------------------------------------------------
# Hypothesis properties
# ---------------------------------------------------------------------------------------------------

MAX_SIDE = {0: 1, 1: 12, 2: 7, 3: 5, 4: 4}


@st.composite
def partitions(draw, n):
    if n == 0:
        return (0,)
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=n - 1))) if n > 1 else []
    edges = [0] + cuts + [n]
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:]))


@st.composite
def arrays_and_chunks(draw, dtypes=tuple(DTYPES), max_ndim=4, min_side=1):
    ndim = draw(st.integers(0, max_ndim))
    shape = tuple(draw(st.lists(st.integers(min_side, MAX_SIDE[ndim]), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(dtypes))
    alpha = alphabet(dtype)
    # a random sub-alphabet: fewer distinct values, more ties
    perm = draw(st.permutations(list(range(len(alpha)))))
    k = draw(st.integers(1, len(alpha)))
    sub = alpha[np.array(perm[:k])]
    n = math.prod(shape)
    idx = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    a = sub[np.array(idx, dtype=np.intp)].reshape(shape).astype(dtype)
    chunks = tuple(draw(partitions(s)) for s in shape)
    return a, chunks


def _axis_strategy(ndim):
    if ndim == 0:
        return st.none()
    return st.one_of(st.none(), st.integers(-ndim, ndim - 1))


@given(data=st.data(), func=st.sampled_from(ARG_FUNCS), keepdims=st.booleans(),
       split_every=st.sampled_from([None, 2, 3, 4, 16]))
def test_hypothesis_arg(data, func, keepdims, split_every):
    a, chunks = data.draw(arrays_and_chunks(), label="array/chunks")
    axis = data.draw(_axis_strategy(a.ndim), label="axis")
    note(f"a={a!r} dtype={a.dtype} chunks={chunks}")
    x = da.from_array(a, chunks=chunks)
    try:
        exp = ref(func, a, axis, keepdims)
    except ValueError:
        r = _call(func, x, axis, keepdims, split_every)
        with pytest.raises(ValueError, match="All-NaN slice encountered"):
            r.compute()
        return
    r = _call(func, x, axis, keepdims, split_every)
    check_lazy(r, exp)
    check_index(r.compute(), exp)


@given(data=st.data(), func=st.sampled_from(PAIR_FUNCS), keepdims=st.booleans(), skipna=st.booleans(),
       split_every=st.sampled_from([None, 2, 3, 5]))
def test_hypothesis_pair(data, func, keepdims, skipna, split_every):
    a, chunks = data.draw(arrays_and_chunks(), label="array/chunks")
    axis = data.draw(_axis_strategy(a.ndim), label="axis")
    note(f"a={a!r} dtype={a.dtype} chunks={chunks}")
    x = da.from_array(a, chunks=chunks)
    kw = dict(axis=axis, keepdims=keepdims, skipna=skipna, split_every=split_every)
    try:
        ev, ei = ref_pair(func, a, axis, keepdims, skipna)
    except ValueError:
        v, i = getattr(ooc, func)(x, **kw)
        with pytest.raises(ValueError, match="All-NaN slice encountered"):
            dask.compute(v, i)
        return
    v, i = getattr(ooc, func)(x, **kw)
    gv, gi = dask.compute(v, i)
    check_index(gi, ei)
    check_values(gv, ev)
    if not skipna:
        check_values(gv, (np.max if func == "max_argmax" else np.min)(a, axis=axis, keepdims=keepdims))


@given(data=st.data(), func=st.sampled_from(ARG_FUNCS))
def test_hypothesis_threads_numpy_input(data, func):
    """numpy input (ooc chooses the chunks) under the threaded scheduler."""
    a, _ = data.draw(arrays_and_chunks(max_ndim=3), label="array")
    axis = data.draw(_axis_strategy(a.ndim), label="axis")
    with dask.config.set(scheduler="threads"):
        try:
            exp = ref(func, a, axis)
        except ValueError:
            with pytest.raises(ValueError, match="All-NaN slice encountered"):
                _call(func, a, axis).compute()
            return
        check_index(_call(func, a, axis).compute(), exp)


@given(data=st.data())
def test_hypothesis_unravel_index(data):
    ndim = data.draw(st.integers(1, 4))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    size = math.prod(shape)
    idx = np.array(data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=10)), dtype=np.intp)
    exp = np.unravel_index(idx, shape)
    got = ooc.unravel_index(da.from_array(idx, chunks=3), shape)
    assert all(isinstance(g, da.Array) for g in got)
    for g, e in zip(dask.compute(*got), exp):
        np.testing.assert_array_equal(g, e)
    got_np = ooc.unravel_index(idx, shape)
    for g, e in zip(got_np, exp):
        np.testing.assert_array_equal(np.asarray(g.compute() if isinstance(g, da.Array) else g), e)


@given(a_chunks=arrays_and_chunks(dtypes=tuple(FLOAT_DTYPES + COMPLEX_DTYPES), max_ndim=3),
       kind=st.sampled_from(["max", "min"]), data=st.data())
def test_oracle_agrees_with_numpy_nanarg(a_chunks, kind, data):
    """ref_nanarg == np.nanargmax/nanargmin except in the documented inf-only case."""
    a, _ = a_chunks
    axis = data.draw(_axis_strategy(a.ndim))
    npf = np.nanargmax if kind == "max" else np.nanargmin
    e_np = _expect_raises(lambda: npf(a, axis=axis))
    e_ref = _expect_raises(lambda: ref_nanarg(a, axis=axis, kind=kind))
    assert type(e_np) is type(e_ref)
    if e_np is not None:
        return
    got, exp = np.asarray(ref_nanarg(a, axis=axis, kind=kind)), np.asarray(npf(a, axis=axis))
    assert got.shape == exp.shape and got.dtype == exp.dtype
    flat = a.reshape(-1) if axis is None else np.moveaxis(a, axis, -1).reshape(-1, a.shape[axis])
    flat = flat[None] if flat.ndim == 1 else flat
    sign = -1 if kind == "max" else 1
    loser = np.isinf(a.real) & (np.sign(a.real) == sign)  # -inf (+inf) real part
    for row, g, e in zip(flat, got.reshape(-1), exp.reshape(-1)):
        ok = ~np.isnan(row)
        assert ok[g]
        best = row[g]
        with np.errstate(invalid="ignore"):
            better = (row > best) if kind == "max" else (row < best)
        assert not np.any(better & ok)
        assert g == np.flatnonzero(ok & (row == best))[0]
        if g != e:
            # documented difference: numpy points at a NaN; every non-NaN value has a -inf (+inf) real part
            assert np.isnan(row[e])
            assert np.all(np.isinf(row[ok].real) & (np.sign(row[ok].real) == sign))
    if not np.any(loser):
        np.testing.assert_array_equal(got, exp)
