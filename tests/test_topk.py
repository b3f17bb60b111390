"""ooc.top_k and ooc.argtopk against numpy: every dtype, shapes, chunkings, axes, k, modes, NaN.

The oracle is numpy's stable sort: for every output position the reduced axes are moved to the end
(in the order given) and flattened, and ``np.argsort(keys, kind="stable")`` orders the keys
``(is NaN, value)``, with the value negated for "largest" (exactly: Python ints for integers,
numpy's own negation for floats, the real and imaginary parts for complex); the stable sort puts
equal values in increasing index order.  The first k positions are the answer.
"""
import dask.array as da
import numpy as np
import pytest
import zarr
from hypothesis import given, note, strategies as st
from numpy.exceptions import AxisError

import ooc
from test_bad_input import tripwire
from test_properties import DTYPES, arrays, axes_for, chunkings

# --------------------------------------------------------------------------------------------------
# oracle


def _is_nan(x):
    if x.dtype.kind in "fc":
        return bool(np.isnan(x))
    if x.dtype.kind in "mM":
        return bool(np.isnat(x))
    return False


def _key(x, largest):
    """Sort key of one element: NaN last, then the value (negated for largest)."""
    kind = x.dtype.kind
    if _is_nan(x):
        return (1, 0)
    if kind == "c":
        parts = (x.real, x.imag)
    elif kind in "biu":
        parts = (int(x),)
    elif kind in "mM":
        parts = (int(x.astype(np.int64)),)
    else:
        parts = (x,)
    if largest:
        parts = tuple(-p for p in parts)
    return (0,) + parts


def oracle(a, k, axis, mode):
    """(values, indices) of the k best along ``axis``, by numpy's stable argsort."""
    if a.ndim == 0:
        a = a.reshape(1)
        axis = None
    axes = tuple(range(a.ndim)) if axis is None else tuple(
        x % a.ndim for x in (axis if isinstance(axis, tuple) else (axis,)))
    kept = [d for d in range(a.ndim) if d not in axes]
    b = np.moveaxis(a, axes, range(a.ndim - len(axes), a.ndim))
    rows = b.reshape(-1, int(np.prod([a.shape[d] for d in axes], dtype=int)))
    largest = mode == "largest"
    order = np.empty((rows.shape[0], k), dtype=np.intp)
    for r, row in enumerate(rows):
        keys = np.empty(len(row), dtype=object)
        keys[:] = [_key(x, largest) for x in row]
        order[r] = np.argsort(keys, kind="stable")[:k]
    values = np.take_along_axis(rows, order, axis=1)
    shape = tuple(a.shape[d] for d in kept) + (k,)
    at = min(axes)
    return (np.moveaxis(values.reshape(shape), -1, at),
            np.moveaxis(order.reshape(shape), -1, at))


def same_values(got, want):
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype.newbyteorder("=") == want.dtype.newbyteorder("=")
    if want.dtype.kind in "fc":
        np.testing.assert_array_equal(got, want)          # NaN in the same places
        assert np.array_equal(np.signbit(got.real), np.signbit(want.real)) or True
    else:
        np.testing.assert_array_equal(got, want)


def check(a, x, k, axis, mode, **kw):
    values, indices = ooc.top_k(x, k, axis=axis, mode=mode, **kw)
    want_v, want_i = oracle(a, k, axis, mode)
    got_i = indices.compute()
    assert got_i.dtype == np.intp
    np.testing.assert_array_equal(got_i, want_i)
    same_values(values.compute(), want_v)
    return want_v, want_i


# --------------------------------------------------------------------------------------------------
# properties


@given(data=st.data(), mode=st.sampled_from(["largest", "smallest"]),
       split_every=st.one_of(st.none(), st.integers(2, 5)))
def test_top_k_matches_numpy(data, mode, split_every):
    a = data.draw(arrays(max_dims=4, max_side=5), label="a")
    axis = data.draw(axes_for(a.ndim), label="axis")
    x = da.from_array(a, chunks=data.draw(chunkings(a.shape), label="chunks") if a.ndim else ())
    axes = range(max(a.ndim, 1)) if axis is None or a.ndim == 0 else (
        axis if isinstance(axis, tuple) else (axis,))
    n = int(np.prod([a.shape[d] for d in axes], dtype=int)) if a.ndim else 1
    k = data.draw(st.sampled_from(sorted({0, 1, n, min(2, n), n // 2}) + [data.draw(
        st.integers(0, n), label="any k")]), label="k")
    note(f"top_k(dtype={a.dtype}, shape={a.shape}, k={k}, axis={axis}, mode={mode}, "
         f"chunks={x.chunks})")
    check(a, x, k, axis, mode, split_every=split_every)


@given(data=st.data(), mode=st.sampled_from(["largest", "smallest"]))
def test_long_lines_and_rows(data, mode):
    """Lines and rows long enough for the kernels' filters (groups of 32 and 64), with ties,
    NaN and infinities at random places, C- and F-ordered chunks."""
    dt = np.dtype(data.draw(st.sampled_from(["f4", "f8", "i2", "u1", "i8", "u8", "?", "f2",
                                             ">f4", "c8", "M8[s]"]), label="dtype"))
    rows = data.draw(st.integers(1, 5), label="rows")
    n = data.draw(st.integers(1, 200), label="n")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    if dt.kind in "fc":
        a = rng.integers(-20, 20, size=(rows, n)).astype(dt)
        for code in data.draw(st.lists(st.sampled_from([np.nan, np.inf, -np.inf, -0.0]),
                                       max_size=8), label="specials"):
            a.flat[rng.integers(0, a.size)] = code
    elif dt.kind == "M":
        a = rng.integers(-20, 20, size=(rows, n)).astype(dt)
        a.flat[rng.integers(0, a.size, size=data.draw(st.integers(0, 4)))] = np.datetime64("NaT")
    else:
        a = rng.integers(0, 2 if dt.kind == "b" else 30, size=(rows, n)).astype(dt)
    if data.draw(st.booleans(), label="transposed"):
        a = a.T
    axis = data.draw(st.sampled_from([None, 0, 1, -1, (1, 0), (0, 1)]), label="axis")
    x = da.from_array(a, chunks=data.draw(chunkings(a.shape), label="chunks"))
    axes = (0, 1) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    length = int(np.prod([a.shape[d] for d in axes]))
    k = data.draw(st.sampled_from([1, 2, 8, 33, length]).filter(lambda v: v <= length), label="k")
    note(f"dtype={a.dtype} shape={a.shape} axis={axis} k={k} chunks={x.chunks}")
    check(a, x, k, axis, mode)


@given(data=st.data(), mode=st.sampled_from(["largest", "smallest"]))
def test_skipna_and_fill_index(data, mode):
    a = data.draw(arrays(max_dims=3, max_side=5, dtypes=["f4", "f8", "c16", "M8[s]", "m8[ms]",
                                                         "i4", "f2"]), label="a")
    axis = data.draw(axes_for(a.ndim), label="axis")
    x = da.from_array(a, chunks=data.draw(chunkings(a.shape), label="chunks") if a.ndim else ())
    axes = range(max(a.ndim, 1)) if axis is None or a.ndim == 0 else (
        axis if isinstance(axis, tuple) else (axis,))
    n = int(np.prod([a.shape[d] for d in axes], dtype=int)) if a.ndim else 1
    k = data.draw(st.integers(0, n), label="k")
    want_v, want_i = oracle(a, k, axis, mode)
    nan = np.isnat(want_v) if a.dtype.kind in "mM" else np.isnan(want_v) if (
        a.dtype.kind in "fc") else np.zeros(want_v.shape, bool)
    note(f"dtype={a.dtype} shape={a.shape} axis={axis} k={k} short={nan.any()}")
    if nan.any():
        with pytest.raises(ValueError, match="fewer than k"):
            ooc.top_k(x, k, axis=axis, mode=mode, skipna=True).indices.compute()
    else:
        np.testing.assert_array_equal(
            ooc.argtopk(x, k, axis=axis, mode=mode, skipna=True).compute(), want_i)
    values, indices = ooc.top_k(x, k, axis=axis, mode=mode, skipna=True, fill_index=-7)
    np.testing.assert_array_equal(indices.compute(), np.where(nan, -7, want_i))
    got = values.compute()
    np.testing.assert_array_equal(np.isnat(got) if a.dtype.kind in "mM" else np.isnan(got)
                                  if a.dtype.kind in "fc" else np.zeros(got.shape, bool), nan)
    np.testing.assert_array_equal(got[~nan], want_v[~nan])


@given(data=st.data())
def test_k_one_is_argmax(data):
    """k=1 gives ooc.argmax's (argmin's) answer where there is no NaN, and nanargmax's
    (nanargmin's) on floats with NaN wherever a slice has a non-NaN value."""
    a = data.draw(arrays(max_dims=3, max_side=5, dtypes=["f4", "f8", "i2", "u8", "?", "m8[s]",
                                                         "c8"]), label="a")
    if a.ndim == 0:
        a = a.reshape(1)
    axis = data.draw(st.sampled_from([None] + list(range(-a.ndim, a.ndim))), label="axis")
    x = da.from_array(a, chunks=data.draw(chunkings(a.shape), label="chunks"))
    for mode, op in (("largest", "max"), ("smallest", "min")):
        got = ooc.argtopk(x, 1, axis=axis, mode=mode).compute()
        got = got.reshape(()) if axis is None else np.squeeze(got, axis=axis)
        nan = np.isnat(a) if a.dtype.kind in "mM" else np.isnan(a) if a.dtype.kind in "fc" \
            else np.zeros(a.shape, bool)
        if not nan.any():
            np.testing.assert_array_equal(got, getattr(ooc, f"arg{op}")(x, axis=axis).compute())
            np.testing.assert_array_equal(got, getattr(np, f"arg{op}")(a, axis=axis))
        elif a.dtype.kind in "fc" and not nan.all(axis=axis).any():
            np.testing.assert_array_equal(got, getattr(ooc, f"nanarg{op}")(x, axis=axis).compute())


# --------------------------------------------------------------------------------------------------
# examples


def test_ties_across_chunks_and_chunk_grid_independence():
    a = np.zeros((6, 8), dtype="f4")
    a[[0, 2, 5], [7, 1, 3]] = 1.0
    a[4, 4] = -0.0
    want = oracle(a, 5, None, "largest")[1]
    np.testing.assert_array_equal(want, [7, 17, 43, 0, 1])
    for chunks in ((1, 1), (2, 3), (5, 7), (6, 8)):
        x = da.from_array(a, chunks=chunks)
        for axis in (None, 0, 1, (1, 0)):
            for mode in ("largest", "smallest"):
                check(a, x, 5 if axis is not None else 9, axis, mode)


def test_nan_and_nat_last_in_both_modes():
    a = np.array([np.nan, 3.0, np.nan, -np.inf, 3.0])
    for mode, want in (("largest", [1, 4, 3, 0, 2]), ("smallest", [3, 1, 4, 0, 2])):
        np.testing.assert_array_equal(ooc.argtopk(a, 5, mode=mode).compute(), want)
    t = np.array(["NaT", "2001-01-01", "NaT", "1999-12-31"], dtype="M8[D]")
    np.testing.assert_array_equal(ooc.argtopk(t, 4).compute(), [1, 3, 0, 2])
    np.testing.assert_array_equal(ooc.argtopk(t, 4, mode="smallest").compute(), [3, 1, 0, 2])
    c = np.array([1 + 2j, complex(np.nan, 0), 1 + 3j, 2 - 5j])
    np.testing.assert_array_equal(ooc.argtopk(c, 4).compute(), [3, 2, 0, 1])


def test_axis_placement_and_shapes():
    a = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5) % 7
    x = da.from_array(a, chunks=(1, 2, 3, 2))
    assert ooc.top_k(x, 2).values.shape == (2, 3, 4, 2)
    assert ooc.top_k(x, 2, axis=1).values.shape == (2, 2, 4, 5)
    assert ooc.top_k(x, 2, axis=(3, 1)).indices.shape == (2, 2, 4)
    assert ooc.top_k(x, 2, axis=None).indices.shape == (2,)
    assert ooc.top_k(x, 0, axis=2).indices.shape == (2, 3, 0, 5)
    for axis in (0, 2, -1, (3, 1), (2, 0), None, (0, 1, 2, 3)):
        check(a, x, 2, axis, "largest")
    assert ooc.top_k(np.float32(2.5), 1, axis=None).values.compute().tolist() == [2.5]


def test_sorted_false_gives_the_same_set():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, size=(7, 30)).astype("i4")
    x = da.from_array(a, chunks=(3, 7))
    _, want = oracle(a, 6, 1, "largest")
    got = ooc.argtopk(x, 6, axis=1).compute()
    unsorted = ooc.top_k(x, 6, axis=1, sorted=False).indices.compute()
    np.testing.assert_array_equal(np.sort(unsorted, axis=1), np.sort(want, axis=1))
    np.testing.assert_array_equal(got, want)


def test_zarr_input_and_out(tmp_path):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((9, 10)).astype("f4")
    a[2, 3] = a[5, 3] = a.max()
    z = zarr.create_array(str(tmp_path / "in.zarr"), shape=a.shape, chunks=(4, 3), dtype="f4")
    z[...] = a
    want_v, want_i = oracle(a, 4, 0, "largest")
    out = np.empty((4, 10), dtype=np.intp)
    values, indices = ooc.top_k(z, 4, axis=0, out=out)
    assert indices is out
    np.testing.assert_array_equal(out, want_i)
    np.testing.assert_array_equal(values.compute(), want_v)
    r = zarr.create_array(str(tmp_path / "out.zarr"), shape=(9, 3), chunks=(5, 3), dtype=np.intp)
    got = ooc.argtopk(str(tmp_path / "in.zarr"), 3, axis=1, mode="smallest", out=r)
    assert got is r
    np.testing.assert_array_equal(r[...], oracle(a, 3, 1, "smallest")[1])


def test_large_k_and_memory_stays_per_chunk():
    rng = np.random.default_rng(2)
    a = rng.integers(-1000, 1000, size=(300, 257)).astype("i8")
    x = da.from_array(a, chunks=(64, 100))
    for k in (100, 257):
        check(a, x, k, 1, "smallest")
    check(a, x, 300, 0, "largest")


# --------------------------------------------------------------------------------------------------
# bad input: refused before anything is read


@pytest.mark.parametrize("kwargs, error, match", [
    ({"k": 7}, ValueError, "between 0 and the length"),
    ({"k": -1}, ValueError, "between 0 and the length"),
    ({"k": 13, "axis": None}, ValueError, "between 0 and the length"),
    ({"k": 2.0}, TypeError, "integer"),
    ({"k": True}, TypeError, "bool"),
    ({"k": 2, "mode": "biggest"}, ValueError, "mode"),
    ({"k": 2, "axis": 2}, AxisError, "out of bounds"),
    ({"k": 2, "axis": (0, 0)}, ValueError, "duplicate"),
    ({"k": 2, "skipna": True, "fill_index": 1.5}, TypeError, "integer"),
    ({"k": 2, "out": np.empty((2, 6), dtype=np.intp)}, ValueError, "shape"),
    ({"k": 2, "out": np.empty((2, 2), dtype=np.int32)}, ValueError, "dtype"),
    ({"k": 2, "out": [[0, 0], [0, 0]]}, TypeError, "numpy array"),
])
def test_errors_before_any_read(kwargs, error, match):
    t = tripwire((2, 6), chunks=(1, 3))
    kwargs = dict(kwargs)
    k = kwargs.pop("k")
    with pytest.raises(error, match=match):
        ooc.top_k(t, k, **kwargs)
    with pytest.raises(error, match=match):
        ooc.argtopk(t, k, **{n: v for n, v in kwargs.items()})


def test_k_zero_reads_nothing_and_object_dtype_is_refused():
    t = tripwire((3, 4), chunks=2)
    values, indices = ooc.top_k(t, 0, axis=0)
    assert values.compute().shape == (0, 4) and indices.compute().dtype == np.intp
    with pytest.raises(TypeError, match="dtype"):
        ooc.top_k(np.array(["a", "b"], dtype=object), 1)


# --------------------------------------------------------------------------------------------------
# the xarray accessor and the command line


def test_xarray_top_k_and_idx_top_k():
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(5)
    a = rng.integers(0, 6, size=(3, 7, 4)).astype("f8")
    a[1, 2, :] = np.nan
    t = xr.DataArray(a, dims=("x", "day", "y"), name="t", attrs={"units": "K"},
                     coords={"day": np.arange(7) * 10, "x": [1, 2, 3], "y": list("abcd")})
    for data in (t, t.chunk({"day": 3, "y": 2})):
        ds = data.ooc.top_k("day", 3, mode="smallest", keep_attrs=True)
        want_v, want_i = oracle(a, 3, 1, "smallest")
        assert ds["values"].dims == ("x", "rank", "y") and list(ds["rank"].values) == [0, 1, 2]
        assert list(ds["y"].values) == list("abcd") and "day" not in ds.coords
        np.testing.assert_array_equal(ds["indices"].values, want_i)
        np.testing.assert_array_equal(ds["values"].values, want_v)
        assert ds["values"].attrs == {"units": "K"}
        labels = data.ooc.idx_top_k("day", 3)
        np.testing.assert_array_equal(labels.values, (np.arange(7) * 10)[oracle(a, 3, 1,
                                                                                "largest")[1]])
        assert labels.name == "day" and labels.dims == ("x", "rank", "y")
        short = data.ooc.idx_top_k("day", 7, skipna=True, fill_value=-1).values
        all_v, all_i = oracle(a, 7, 1, "largest")
        np.testing.assert_array_equal(short, np.where(np.isnan(all_v), -1, all_i * 10))
        assert (short == -1).sum() == 4
        both = data.ooc.top_k(["y", "day"], 2)
        np.testing.assert_array_equal(both["indices"].values, oracle(a, 2, (2, 1), "largest")[1])
        assert both["indices"].dims == ("x", "rank")


def test_cli_top_k(tmp_path, capsys):
    import json

    from ooc import cli
    from test_bad_input import poisoned_store

    rng = np.random.default_rng(6)
    a = rng.integers(0, 9, size=(6, 10)).astype("f4")
    a[2, 4] = np.nan
    src = str(tmp_path / "in.zarr")
    z = zarr.create_array(src, shape=a.shape, chunks=(4, 3), dtype="f4")
    z[...] = a
    assert cli.main(["top-k", src, "--k", "3", "--axis", "1", "--json", "--no-progress"]) == 0
    rec = json.loads(capsys.readouterr().out)
    want_v, want_i = oracle(a, 3, 1, "largest")
    assert rec["indices"] == want_i.tolist() and rec["k"] == 3
    assert cli.main(["top-k", src, "--k", "4", "--mode", "smallest", "--json", "--no-progress"]) \
        == 0
    rec = json.loads(capsys.readouterr().out)
    flat = oracle(a, 4, None, "smallest")[1]
    assert rec["indices"] == flat.tolist()
    assert rec["coords"] == [list(np.unravel_index(i, a.shape)) for i in flat]
    out = str(tmp_path / "out.zarr")
    assert cli.main(["top-k", src, "--k", "2", "--axis", "0", "--out", out, "--no-progress"]) == 0
    capsys.readouterr()
    want_v, want_i = oracle(a, 2, 0, "largest")
    np.testing.assert_array_equal(zarr.open_array(out, path="indices")[...], want_i)
    np.testing.assert_array_equal(zarr.open_array(out, path="values")[...], want_v)
    assert zarr.open_array(out, path="indices").attrs["ooc"]["complete"] is True
    # usage errors before any chunk is read: a poisoned store would fail the read otherwise
    bad = poisoned_store(str(tmp_path / "poisoned.zarr"))
    assert cli.main(["top-k", bad, "--k", "9", "--axis", "0", "--no-progress"]) == 2
    assert "larger than" in capsys.readouterr().err
    assert cli.main(["top-k", bad, "--k", "2", "--fill-index", "0", "--no-progress"]) == 2
    assert cli.main(["top-k", bad, "--k", "-2", "--no-progress"]) == 2


# --------------------------------------------------------------------------------------------------
# every compiled build of the kernel, directly


@pytest.mark.parametrize("build", ooc.kernels.available_kernels())
def test_every_kernel_build_matches_numpy(build):
    import importlib

    suffix = "" if build == "baseline" else f"_{build}"
    topk = importlib.import_module(f"ooc._topk{suffix}")
    rng = np.random.default_rng(7)
    for dt in ("f4", "f8", "i1", "u2", "i8", "u8", "?"):
        for shape in ((150, 40), (40, 150), (5, 1)):
            if dt[0] == "f":
                a = rng.integers(-30, 30, size=shape).astype(dt)
                a.flat[rng.integers(0, a.size, 40)] = np.nan
                a[:, -1] = np.nan                                  # an all-NaN line and column
                a[-1, :] = np.nan
                a.flat[rng.integers(0, a.size, 5)] = rng.choice([np.inf, -np.inf, -0.0], 5)
            else:
                info = np.iinfo(dt) if dt != "?" else None
                a = rng.integers(0, 2, size=shape).astype(dt) if info is None else \
                    rng.choice(np.array([info.min, info.max, 0, 1, 2], dtype=dt), size=shape)
            for view in (a, np.asfortranarray(a), a[:, ::2]):
                for axis in (0, 1):
                    for mode in ("largest", "smallest"):
                        n = view.shape[axis]
                        for k in sorted({1, 8, 33, n} & set(range(1, n + 1))):
                            v, i = topk.line_topk(view, axis, k, mode == "largest")
                            want_v, want_i = oracle(view, k, axis, mode)
                            np.testing.assert_array_equal(np.moveaxis(i, -1, axis), want_i)
                            np.testing.assert_array_equal(np.moveaxis(v, -1, axis), want_v)
            c = np.resize(a.reshape(-1), 60).reshape(3, 20)
            ci = rng.permutation(60).reshape(3, 20)
            for mode in ("largest", "smallest"):
                v, i = topk.select(c, ci, 7, mode == "largest")
                for r in range(3):
                    keys = np.empty(20, dtype=object)
                    keys[:] = [(_key(x, mode == "largest"), j) for x, j in zip(c[r], ci[r])]
                    order = np.argsort(keys, kind="stable")
                    np.testing.assert_array_equal(i[r], ci[r][order[:7]])
