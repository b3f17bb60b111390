"""The DataArray.ooc accessor against xarray's own methods, on a Zarr store opened with
xr.open_zarr and on in-memory arrays."""
import subprocess
import sys
import warnings

import dask
import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")

import ooc.accessor  # noqa: E402  (registers DataArray.ooc; import ooc does it too)
from ooc.accessor import OocAccessor  # noqa: E402
from scipy import special  # noqa: E402
from test_smooth import ref_soft_argmax  # noqa: E402  (numpy and scipy only)

ARG_METHODS = ["argmax", "argmin", "nanargmax", "nanargmin"]


@pytest.fixture(autouse=True)
def _sync():
    with dask.config.set(scheduler="sync"):
        yield


def make_dataset():
    rng = np.random.default_rng(0)
    shape = (6, 5, 8)
    t = rng.standard_normal(shape)
    t[rng.random(shape) < 0.1] = np.nan
    t[1, 2, :3] = t[1, 2, 3]          # ties
    n = rng.integers(0, 5, size=shape)  # many ties
    return xr.Dataset(
        {"t": (("time", "lat", "lon"), t, {"units": "K"}),
         "n": (("time", "lat", "lon"), n)},
        coords={"time": pd.date_range("2021-01-01", periods=6),
                "lat": np.linspace(-40.0, 40.0, 5),
                "lon": np.arange(8) * 45,
                "station": ("lon", np.arange(8) + 100),
                "height": 2.0},
        attrs={"title": "ooc test"})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("xr") / "data.zarr"
    make_dataset().chunk({"time": 4, "lat": 2, "lon": 3}).to_zarr(path, consolidated=False)
    return path


@pytest.fixture
def ds(store):
    opened = xr.open_zarr(store, consolidated=False)
    assert isinstance(opened.t.data, dask.array.Array)
    return opened


def computed(result):
    return {k: v.compute() for k, v in result.items()} if isinstance(result, dict) \
        else result.compute()


def assert_same(ours, theirs):
    """Identical values, names, coordinates and attributes (ours computed without warnings;
    dask's nanargmax warns about chunks that are all NaN)."""
    assert isinstance(ours, dict) == isinstance(theirs, dict)
    ours = computed(ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = computed(theirs)
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for k in theirs:
            xr.testing.assert_identical(ours[k], theirs[k])
    else:
        xr.testing.assert_identical(ours, theirs)


def no_stack(result):
    """The graph holds no rechunk, reshape, stack or transpose of the data."""
    results = result.values() if isinstance(result, dict) else [result]
    for r in results:
        for name in r.data.__dask_graph__().layers:
            assert not any(w in name for w in ("rechunk", "reshape", "stack", "transpose")), name


@pytest.mark.parametrize("method", ARG_METHODS)
@pytest.mark.parametrize("dim", ["time", "lat", "lon", ["lat", "lon"], ["lon", "time"],
                                 ("time", "lat", "lon"), ...])
def test_arg_methods_match_xarray_on_open_zarr(ds, method, dim):
    for var in ("t", "n"):
        da = ds[var]
        if method in ("argmax", "argmin") and var == "t":
            ours = getattr(da.ooc, method)(dim, skipna=False)
            theirs = getattr(da, method)(dim, skipna=False)
        else:
            ours = getattr(da.ooc, method)(dim)
            xr_method = method.replace("nan", "")
            theirs = getattr(da, xr_method)(dim, skipna=True if "nan" in method else None)
        assert_same(ours, theirs)
        no_stack(ours)


def test_default_skipna_like_xarray(ds):
    # float data skips NaN by default, as xarray
    assert_same(ds.t.ooc.argmax("lon"), ds.t.argmax("lon"))
    assert_same(ds.t.ooc.argmin(["time", "lon"]), ds.t.argmin(["time", "lon"]))
    assert_same(ds.n.ooc.argmax(...), ds.n.argmax(...))


def test_isel_with_the_dict(ds):
    t = ds.t.compute()
    idx = t.ooc.argmax(["time", "lon"])
    np.testing.assert_array_equal(t.isel(idx).values, t.max(["time", "lon"]).values)


@pytest.mark.parametrize("method", ["idxmax", "idxmin"])
@pytest.mark.parametrize("dim", ["time", "lat", "lon"])
def test_idx_methods_match_xarray(ds, method, dim):
    for var in ("t", "n"):
        assert_same(getattr(ds[var].ooc, method)(dim), getattr(ds[var], method)(dim))
    assert_same(getattr(ds.t.ooc, method)(dim, skipna=False),
                getattr(ds.t, method)(dim, skipna=False))


def test_idxmax_all_nan_slices_and_fill_value():
    da = make_dataset().t.copy()
    da[2, :, :] = np.nan
    da[:, 3, 5] = np.nan
    lazy = da.chunk({"time": 2, "lat": 3, "lon": 3})
    for d in ("time", "lat", "lon"):
        assert_same(lazy.ooc.idxmax(d), lazy.idxmax(d))
        fill = np.datetime64("NaT") if d == "time" else -1
        assert_same(lazy.ooc.idxmin(d, fill_value=fill), lazy.idxmin(d, fill_value=fill))
        assert_same(da.ooc.idxmax(d), da.idxmax(d))   # in memory
    # the nan-variant of argmax raises on an all-NaN slice, as xarray's
    with pytest.raises(ValueError, match="All-NaN slice"):
        lazy.ooc.argmax("lat").compute()


def test_idx_several_dims(ds):
    out = ds.t.ooc.idxmax(["time", "lon"])
    idx = ds.t.argmax(["time", "lon"])       # xarray's own indices
    assert list(out) == ["time", "lon"]
    for d in out:
        want = ds[d].values[idx[d].values]
        np.testing.assert_array_equal(out[d].values, want)
        assert out[d].name == d and out[d].dims == ("lat",)
    assert set(ds.t.ooc.idxmin(...)) == {"time", "lat", "lon"}


def test_in_memory_results_are_in_memory(ds):
    da = ds.t.compute()
    assert isinstance(da.ooc.argmax("lon").data, np.ndarray)
    assert all(isinstance(v.data, np.ndarray) for v in da.ooc.argmax(...).values())
    assert isinstance(da.ooc.idxmax("lon").data, np.ndarray)
    assert isinstance(ds.t.ooc.argmax("lon").data, dask.array.Array)   # lazy stays lazy
    assert_same(da.ooc.argmax(["lat", "lon"]), da.argmax(["lat", "lon"]))
    assert_same(da.ooc.idxmin("time"), da.idxmin("time"))


def test_dim_none_like_xarray():
    one = xr.DataArray([3.0, 9.0, 1.0], dims="x", coords={"x": [5, 6, 7]})
    assert_same(one.ooc.argmax(), one.argmax("x"))
    assert_same(one.ooc.idxmax(), one.idxmax())
    two = make_dataset().n
    assert int(two.ooc.argmax()) == int(np.argmax(two.values))   # the flat index
    with pytest.raises(ValueError, match="Must supply 'dim'"):
        two.ooc.idxmax()


def test_keep_attrs(ds):
    assert_same(ds.t.ooc.argmax("lon", keep_attrs=False), ds.t.argmax("lon", keep_attrs=False))
    assert ds.t.ooc.argmax("lon", keep_attrs=True).attrs == {"units": "K"}
    with xr.set_options(keep_attrs=False):
        assert_same(ds.t.ooc.argmax("lon"), ds.t.argmax("lon"))


def test_errors_like_xarray(ds):
    with pytest.raises(ValueError, match="not found in array dimensions"):
        ds.t.ooc.argmax("depth")
    with pytest.raises(ValueError):
        ds.t.ooc.argmax(["lat", "lat"])
    with pytest.raises(KeyError, match="not found"):
        ds.t.ooc.idxmax("depth")
    no_coord = xr.DataArray(np.zeros((2, 3)), dims=("a", "b"))
    with pytest.raises(KeyError, match="not one of the coordinates"):
        no_coord.ooc.idxmax("a")


def test_logsumexp_softmax_soft_argmax(ds):
    t = ds.t.fillna(0.0)
    values = t.values
    out = t.ooc.logsumexp("lon")
    assert out.dims == ("time", "lat") and out.name == "t"
    np.testing.assert_allclose(out.values, special.logsumexp(values, axis=2), rtol=1e-14)
    both = t.ooc.logsumexp(["time", "lon"])
    assert both.dims == ("lat",)
    np.testing.assert_allclose(both.values, special.logsumexp(values, axis=(0, 2)))
    assert float(t.ooc.logsumexp()) == pytest.approx(float(special.logsumexp(values)))
    sm = t.ooc.softmax("lat")
    assert sm.dims == t.dims and sm.coords.equals(t.coords)
    np.testing.assert_allclose(sm.sum("lat").values, 1.0)
    sa = t.ooc.soft_argmax("lon", beta=2.0)
    np.testing.assert_allclose(sa.values, ref_soft_argmax(values, 2, 2.0))
    several = t.ooc.soft_argmax(["lon", "lat"])
    assert list(several) == ["lon", "lat"]
    want = ref_soft_argmax(values, (2, 1), 1.0)
    np.testing.assert_allclose(several["lon"].values, want[..., 0])
    np.testing.assert_allclose(several["lat"].values, want[..., 1])
    for r in (out, both, sm, sa, several):
        no_stack(r)


def test_accessor_registration_is_lazy():
    """import ooc.accessor does not import xarray, and importing xarray later registers."""
    code = ("import sys, ooc.accessor\n"
            "assert 'xarray' not in sys.modules\n"
            "import xarray\n"
            "assert xarray.DataArray.ooc is ooc.accessor.OocAccessor\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert xr.DataArray.ooc is OocAccessor
    ooc.accessor.register()   # idempotent, no warning


def test_several_dims_with_long_kept_dims_of_length_one():
    """Kept dims of shape (n, 1) with n > 8192: numpy 2.4's unravel_index (which xarray's
    argmax([dims]) uses too) repeats stale coordinates there; ooc's are the planted ones."""
    n, r1, r2 = 9000, 3, 4
    rng = np.random.default_rng(5)
    data = rng.random((n, 1, r1, r2))
    rows = rng.integers(0, r1, n)
    cols = rng.integers(0, r2, n)
    data[np.arange(n), 0, rows, cols] = 2.0                      # the planted maxima
    da = xr.DataArray(data, dims=("t", "one", "y", "x"),
                      coords={"y": [10, 20, 30], "x": [0.5, 1.5, 2.5, 3.5]})
    idx = da.ooc.argmax(["y", "x"])                 # in memory: one block of (n, 1)
    np.testing.assert_array_equal(idx["y"].values[:, 0], rows)
    np.testing.assert_array_equal(idx["x"].values[:, 0], cols)
    labels = da.chunk({"t": -1}).ooc.idxmax(["y", "x"])
    np.testing.assert_array_equal(labels["y"].values[:, 0], np.array([10, 20, 30])[rows])
    np.testing.assert_array_equal(labels["x"].values[:, 0], np.array([0.5, 1.5, 2.5, 3.5])[cols])
