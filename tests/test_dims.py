"""Dimension names in: --axis/--dim by name, and ooc idxmax/idxmin giving xarray's labels.
xarray is the oracle."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

from ooc import cli


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(params=[2, 3], ids=["v2", "v3"])
def written_by_xarray(request, tmp_path):
    rng = np.random.default_rng(request.param)
    t = rng.standard_normal((40, 5, 6)).astype("f4")
    t[:, 1, 2] = np.nan                      # an all-NaN series: NaT from idxmax
    t[3, 0, 0] = np.nan
    t[7, 2, 3] = t[9, 2, 3] = 50.0           # a tie: the first wins
    ds = xr.Dataset({"t2m": (("time", "lat", "lon"), t),
                     "n": (("lat", "lon"), rng.integers(0, 9, (5, 6)).astype("i2"))},
                    coords={"time": pd.date_range("2001-01-01", periods=40, freq="D"),
                            "lat": np.linspace(-10.0, 10.0, 5), "lon": np.arange(6) * 30})
    p = tmp_path / f"xr{request.param}.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.chunk({"time": 16, "lat": 2, "lon": 4}).to_zarr(p, zarr_format=request.param)
    return p, ds


@pytest.mark.parametrize("option", ["--axis", "--dim"])
@pytest.mark.parametrize("dim", ["time", "lat", "lon"])
def test_axis_by_name(written_by_xarray, capsys, option, dim):
    p, ds = written_by_xarray
    code, out, err = run(capsys, "nanargmin", p, "--path", "t2m", option, dim, "--json",
                         "--no-progress")
    if dim == "time":                      # lat=1, lon=2 is all NaN along time
        assert code == 1 and "All-NaN" in err
        return
    assert code == 0, err
    rec = json.loads(out)
    assert rec["axis"] == ds.t2m.get_axis_num(dim)
    np.testing.assert_array_equal(rec["index"], np.nanargmin(ds.t2m.values, axis=rec["axis"]))


def test_several_names_and_mixed(written_by_xarray, capsys):
    p, ds = written_by_xarray
    x = ds.n.values
    for spec in (["--dim", "lon,lat"], ["--axis", "lon", "--axis", "0"], ["--axis", "-1,lat"]):
        code, out, err = run(capsys, "argmax", p, "--path", "n", *spec, "--json", "--no-progress")
        assert code == 0, (spec, err)
        assert json.loads(out)["index"] == int(np.argmax(x.T))


def test_unknown_name_is_a_usage_error(written_by_xarray, capsys, tmp_path):
    p, _ = written_by_xarray
    code, _, err = run(capsys, "argmax", p, "--path", "t2m", "--dim", "depth")
    assert code == 2 and "no such dimension" in err and "time, lat, lon" in err
    plain = tmp_path / "plain.zarr"
    zarr.create_array(plain, shape=(3,), dtype="f4")
    code, _, err = run(capsys, "argmax", plain, "--axis", "time")
    assert code == 2 and "no dimension names" in err


@pytest.mark.parametrize("func", ["idxmax", "idxmin"])
@pytest.mark.parametrize("dim", ["time", "lat", "lon"])
def test_idx_commands_equal_xarray(written_by_xarray, capsys, func, dim):
    p, ds = written_by_xarray
    want = getattr(ds.t2m, func)(dim)
    code, out, err = run(capsys, func, p, "--path", "t2m", "--dim", dim, "--json", "--no-progress")
    assert code == 0, err
    got = np.array(json.loads(out)["label"], dtype=want.dtype)
    np.testing.assert_array_equal(got, want.values)


def test_idx_command_out_and_ints(written_by_xarray, capsys, tmp_path):
    p, ds = written_by_xarray
    out = tmp_path / "when.zarr"
    code, _, err = run(capsys, "idxmax", p, "--path", "t2m", "--axis", "0", "--out", out,
                       "--no-progress")
    assert code == 0, err
    np.testing.assert_array_equal(zarr.open_array(out, mode="r")[:], ds.t2m.idxmax("time").values)
    code, o, err = run(capsys, "idxmin", p, "--path", "n", "--dim", "lon", "--json",
                       "--no-progress")
    assert code == 0, err
    np.testing.assert_array_equal(json.loads(o)["label"], ds.n.idxmin("lon").values)


def test_idx_command_needs_a_coordinate(tmp_path, capsys):
    plain = tmp_path / "plain.zarr"
    zarr.create_array(plain, shape=(3, 2), dtype="f4", dimension_names=("a", "b"))
    code, _, err = run(capsys, "idxmax", plain, "--dim", "a")
    assert code == 2 and "no coordinate array" in err
    code, _, err = run(capsys, "idxmax", plain)
    assert code == 2 and "one axis" in err
