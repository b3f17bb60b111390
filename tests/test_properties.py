"""Randomized properties against numpy: every function of the argmax family, every supported dtype,
shapes up to 5-d, random chunkings, axes (ints, negative ints, tuples in any order), keepdims,
split_every, and NaN/inf/NaT/extreme-value placements, from numpy, Dask and Zarr inputs.

The quick profile runs in the normal test run; the long one (thousands of examples per property)
with ``pytest --hypothesis-long`` or ``OOC_HYPOTHESIS_LONG=1`` (see tests/conftest.py).  Failures
hypothesis finds are kept below as explicit regression cases (``REGRESSIONS``).

The oracle is numpy on the array with the reduced axes moved to the end (in the order given) and
flattened, except the documented choice for nanargmax/nanargmin: the first non-NaN best (numpy
answers a NaN position where the only non-NaN values are -inf / +inf).  NaT is not skipped by the
nan-variants, as in numpy.
"""
import warnings

import dask.array as da
import numpy as np
import pytest
import zarr
from hypothesis import assume, given, note, strategies as st

import ooc
from ooc import store as S

FUNCS = ["argmax", "argmin", "nanargmax", "nanargmin"]
DTYPES = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "g", "c8", "c16",
          "M8[s]", "m8[ms]", ">f8", ">i4", ">c16", "<u2", ">M8[D]"]


# --------------------------------------------------------------------------------------------------
# data

def _value(code, dt):
    """Map a small code to a value of dtype ``dt``: 0..6 small numbers (ties are common), 7 the
    dtype's maximum, 8 its minimum, 9 NaN/NaT, 10 +inf, 11 -inf, 12 -0.0 (each where it exists,
    else a small number)."""
    k = dt.kind
    if k == "b":
        return bool(code % 2)
    if k in "iu":
        info = np.iinfo(dt)
        return {7: info.max, 8: info.min}.get(code, (code % 7) - (3 if k == "i" else 0))
    if k in "mM":
        unit = np.datetime_data(dt)[0]
        if code == 9:
            return np.array("NaT", dtype=dt)[()]
        n = {7: np.iinfo(np.int64).max, 8: np.iinfo(np.int64).min + 1}.get(code, (code % 7) - 3)
        return (np.timedelta64(n, unit) if k == "m" else np.datetime64(n, unit))
    info = np.finfo(dt)
    return {7: info.max, 8: -info.max, 9: np.nan, 10: np.inf, 11: -np.inf,
            12: -0.0}.get(code, float((code % 7) - 3))


@st.composite
def arrays(draw, max_dims=5, max_side=4, max_size=96, dtypes=DTYPES):
    dt = np.dtype(draw(st.sampled_from(dtypes)))
    ndim = draw(st.integers(0, max_dims))
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim)))
    assume(int(np.prod(shape)) <= max_size)
    n = int(np.prod(shape))
    codes = st.sampled_from(list(range(7)) * 4 + list(range(7, 13)))
    flat = draw(st.lists(codes, min_size=n, max_size=n))
    if dt.kind == "c":
        imag = draw(st.lists(codes, min_size=n, max_size=n))
        part = np.finfo(dt).dtype              # float32 for complex64, float64 for complex128
        a = np.empty(n, dt)
        a.real = np.array([_value(c, part) for c in flat], dtype=part)
        a.imag = np.array([_value(c, part) for c in imag], dtype=part)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # float16/32 max from a Python float: exact
            a = np.array([_value(c, dt) for c in flat], dtype=dt)
    return a.reshape(shape)


@st.composite
def chunkings(draw, shape):
    """Random chunk sizes along every axis (a partition of each length)."""
    out = []
    for n in shape:
        parts, left = [], n
        while left:
            c = draw(st.integers(1, left))
            parts.append(c)
            left -= c
        out.append(tuple(parts))
    return tuple(out)


@st.composite
def axes_for(draw, ndim):
    n = max(ndim, 1)
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none", "int"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    k = draw(st.integers(1, ndim))
    chosen = draw(st.permutations(range(ndim)))[:k]
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


split_everys = st.one_of(st.none(), st.integers(2, 6),
                         st.dictionaries(st.integers(0, 4), st.integers(2, 6), max_size=2))


# --------------------------------------------------------------------------------------------------
# oracle

def _isnan(a):
    if a.dtype.kind in "fc":
        return np.isnan(a)
    return np.zeros(a.shape, bool)


def oracle(name, a, axis, keepdims):
    """(indices, rows, flat position) numpy's way: reduced axes moved to the end and flattened."""
    if a.ndim == 0:
        a = a.reshape(1)
        axis = None if axis is None else 0
        zero_d = True
    else:
        zero_d = False
    axes = tuple(range(a.ndim)) if axis is None else tuple(
        x % a.ndim for x in (axis if isinstance(axis, tuple) else (axis,)))
    kept = [d for d in range(a.ndim) if d not in axes]
    b = np.moveaxis(a, axes, range(a.ndim - len(axes), a.ndim))
    b = b.reshape(tuple(a.shape[d] for d in kept) + (-1,))
    if b.shape[-1] == 0:
        raise ValueError(f"attempt to get arg{name[-3:]} of an empty sequence")
    rows = b.reshape(-1, b.shape[-1])
    if name in ("argmax", "argmin") or a.dtype.kind not in "fc":
        idx = getattr(np, name.replace("nan", ""))(rows, axis=1)
    else:
        fn = np.argmax if name == "nanargmax" else np.argmin
        idx = np.empty(len(rows), np.intp)
        for r, row in enumerate(rows):
            ok = np.flatnonzero(~_isnan(row))
            if ok.size == 0:
                raise ValueError("All-NaN slice encountered")
            idx[r] = ok[fn(row[ok])]
    values = rows[np.arange(len(rows)), idx]
    shape = () if zero_d else tuple(a.shape[d] for d in kept)
    if keepdims and not zero_d:
        shape = tuple(1 if d in axes else s for d, s in enumerate(a.shape))
    return idx.reshape(shape), values.reshape(shape), (axes, kept)


def check(got, want):
    got = np.asarray(got)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


def expect(name, a, axis, keepdims, run):
    """Run ``run()`` and compare with the oracle, errors included."""
    try:
        want = oracle(name, a, axis, keepdims)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)):
            r = run()
            for x in (r if isinstance(r, tuple) else (r,)):
                x.compute() if hasattr(x, "compute") else None
        return None
    return want


# --------------------------------------------------------------------------------------------------
# properties

@given(data=st.data(), name=st.sampled_from(FUNCS), keepdims=st.booleans(),
       split_every=split_everys, kind=st.sampled_from(["numpy", "dask"]))
def test_arg_functions_match_numpy(data, name, keepdims, split_every, kind):
    a = data.draw(arrays(), label="a")
    axis = data.draw(axes_for(a.ndim), label="axis")
    x = a
    if kind == "dask":
        x = da.from_array(a, chunks=data.draw(chunkings(a.shape), label="chunks") if a.ndim else ())
    note(f"{name}(dtype={a.dtype}, shape={a.shape}, axis={axis}, keepdims={keepdims}, "
         f"split_every={split_every}, chunks={getattr(x, 'chunks', None)})")
    run = lambda: getattr(ooc, name)(x, axis=axis, keepdims=keepdims, split_every=split_every)
    want = expect(name, a, axis, keepdims, run)
    if want is None:
        return
    got = run().compute()
    assert np.asarray(got).dtype == np.intp
    check(got, want[0])
    if not isinstance(axis, tuple) and (name in ("argmax", "argmin") or a.dtype.kind not in "fc"):
        # ints and None: numpy's own function, directly
        check(got, getattr(np, name)(a, axis=axis, keepdims=keepdims))


@given(data=st.data(), pair=st.sampled_from(["max_argmax", "min_argmin", "take_at_argmax",
                                             "take_at_argmin"]),
       skipna=st.booleans(), keepdims=st.booleans(), split_every=split_everys)
def test_pairs_and_take_match_numpy(data, pair, skipna, keepdims, split_every):
    a = data.draw(arrays(max_dims=4), label="key")
    axis = data.draw(axes_for(a.ndim), label="axis")
    chunks = data.draw(chunkings(a.shape), label="chunks") if a.ndim else ()
    name = ("nan" if skipna else "") + ("argmax" if "max" in pair else "argmin")
    x = da.from_array(a, chunks=chunks)
    payload = (np.arange(a.size, dtype="i8").reshape(a.shape) * 7 - 3).astype(
        data.draw(st.sampled_from(["i8", "f4", "u2", "M8[s]"]), label="payload dtype"))
    pchunks = data.draw(chunkings(a.shape), label="payload chunks") if a.ndim else ()
    note(f"{pair}(skipna={skipna}, dtype={a.dtype}, shape={a.shape}, axis={axis}, "
         f"keepdims={keepdims}, chunks={chunks})")
    if pair.startswith("take"):
        run = lambda: getattr(ooc, pair)(da.from_array(payload, chunks=pchunks), x, axis=axis,
                                         keepdims=keepdims, skipna=skipna, split_every=split_every)
    else:
        run = lambda: getattr(ooc, pair)(x, axis=axis, keepdims=keepdims, skipna=skipna,
                                         split_every=split_every)
    want = expect(name, a, axis, keepdims, run)
    if want is None:
        return
    idx, values, (axes, kept) = want
    r = run()
    if pair.startswith("take"):
        b = payload.reshape(1) if a.ndim == 0 else payload
        rows = np.moveaxis(b, axes, range(b.ndim - len(axes), b.ndim)).reshape(
            -1, int(np.prod([b.shape[d] for d in axes])))
        check(r.compute(), rows[np.arange(len(rows)), idx.reshape(-1)].reshape(idx.shape))
    else:
        v, i = r
        check(i.compute(), idx)
        got_v = v.compute()
        assert np.asarray(got_v).dtype.newbyteorder("=") == a.dtype.newbyteorder("=")
        check(got_v, values)


@given(data=st.data(), name=st.sampled_from(FUNCS), keepdims=st.booleans(),
       split_every=split_everys)
def test_long_lines_match_numpy(data, name, keepdims, split_every):
    """Lines long enough for the compiled kernels' vector loops (16 lanes and more), with rare
    special values at random places."""
    dt = np.dtype(data.draw(st.sampled_from(DTYPES), label="dtype"))
    rows = data.draw(st.integers(1, 3), label="rows")
    n = data.draw(st.integers(1, 300), label="n")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    codes = rng.integers(0, 7, size=rows * n)
    specials = data.draw(st.lists(st.tuples(st.integers(0, rows * n - 1), st.integers(7, 12)),
                                  max_size=6), label="specials")
    for pos, code in specials:
        codes[pos] = code
    if dt.kind == "c":
        part = np.finfo(dt).dtype
        a = np.empty(rows * n, dt)
        a.real = [_value(int(c), part) for c in codes]
        a.imag = [_value(int(c), part) for c in rng.permutation(codes)]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = np.array([_value(int(c), dt) for c in codes], dtype=dt)
    a = a.reshape(rows, n)
    if data.draw(st.booleans(), label="transposed"):
        a = a.T                                      # an F-ordered view: strided lines
    axis = data.draw(st.sampled_from([None, 0, 1, -1, (1, 0), (0, 1)]), label="axis")
    x = da.from_array(a, chunks=data.draw(chunkings(a.shape), label="chunks"))
    run = lambda: getattr(ooc, name)(x, axis=axis, keepdims=keepdims, split_every=split_every)
    want = expect(name, a, axis, keepdims, run)
    if want is not None:
        check(run().compute(), want[0])


@given(data=st.data(), name=st.sampled_from(FUNCS), fast=st.booleans(), fmt=st.sampled_from([2, 3]))
def test_zarr_stores_match_numpy(data, name, fast, fmt):
    """Zarr inputs: stored chunk grids, missing chunks read as the fill value, both read paths."""
    a = data.draw(arrays(max_dims=4, max_size=64, dtypes=[d for d in DTYPES if d != "g"]),
                  label="a")
    assume(a.ndim > 0)
    chunks = tuple(data.draw(st.integers(1, n), label=f"chunk{d}") for d, n in enumerate(a.shape))
    z = zarr.create_array(zarr.storage.MemoryStore(), shape=a.shape, chunks=chunks, dtype=a.dtype,
                          zarr_format=fmt, fill_value=a.reshape(-1)[0])
    # write some chunks; the others stay missing and read as the fill value
    stored = a.copy()
    grid = [range(0, n, c) for n, c in zip(a.shape, chunks)]
    import itertools
    for corner in itertools.product(*grid):
        sl = tuple(slice(s, s + c) for s, c in zip(corner, chunks))
        if data.draw(st.booleans(), label=f"write {corner}"):
            z[sl] = a[sl]
        else:
            stored[sl] = z.fill_value
    want_data = z[...]
    check(want_data, stored)
    axis = data.draw(axes_for(a.ndim), label="axis")
    x = S.open(z, fast=fast)
    run = lambda: getattr(ooc, name)(x, axis=axis)
    want = expect(name, stored, axis, False, run)
    if want is not None:
        check(run().compute(), want[0])


@given(data=st.data(), name=st.sampled_from(FUNCS), target=st.sampled_from(["numpy", "zarr"]))
def test_out_and_unravel_match_numpy(data, name, target):
    a = data.draw(arrays(max_dims=4, max_size=64), label="a")
    assume(a.ndim > 0)
    axis = data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = da.from_array(a, chunks=data.draw(chunkings(a.shape), label="chunks"))
    try:
        idx, _, _ = oracle(name, a, axis, keepdims)
    except ValueError:
        assume(False)
    if target == "numpy":
        out = np.full(idx.shape, -1, np.intp)
    else:
        out = zarr.create_array(zarr.storage.MemoryStore(), shape=idx.shape, dtype=np.intp,
                                chunks=tuple(max(1, s // 2) for s in idx.shape))
    assert getattr(ooc, name)(x, axis=axis, keepdims=keepdims, out=out) is out
    check(out[...], idx)
    if target == "zarr":
        assert out.attrs["ooc"]["complete"] is True
    if axis is None:
        coords = ooc.unravel_index(getattr(ooc, name)(x), a.shape)
        flat = oracle(name, a, None, False)[0]
        assert tuple(int(c.compute()) for c in coords) == np.unravel_index(int(flat), a.shape)


# --------------------------------------------------------------------------------------------------
# regressions: cases hypothesis (or review) found, kept explicitly

REGRESSIONS = [
    # (function, array, axis, keepdims, chunks)
    ("nanargmax", np.array([np.nan, -np.inf]), None, False, (1, 1)),          # documented: 1
    ("nanargmin", np.array([np.nan, np.inf, np.nan]), 0, False, (2, 1)),     # documented: 1
    ("argmax", np.array([-0.0, 0.0]), None, False, (1, 1)),                  # -0.0 == 0.0: 0
]


def test_regression_values_of_byteswapped_input():
    """Found by test_pairs_and_take_match_numpy: max_argmax of '>f8' gives native float64 values
    (numpy's np.max does too); the values are exact."""
    a = np.array([-3.0, -3.0, 2.5], dtype=">f8")
    v, i = ooc.max_argmax(da.from_array(a, chunks=1))
    assert v.compute() == 2.5 and v.dtype.newbyteorder("=") == np.dtype("f8")
    assert int(i.compute()) == 2


@pytest.mark.parametrize("name,a,axis,keepdims,chunks", REGRESSIONS)
def test_regressions(name, a, axis, keepdims, chunks):
    want = oracle(name, a, axis, keepdims)[0]
    check(getattr(ooc, name)(da.from_array(a, chunks=chunks), axis=axis,
                             keepdims=keepdims).compute(), want)
