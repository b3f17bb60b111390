"""Wrong answers and crashes found by trying to break ooc from its README's promises, each kept
with a test that fails without its fix.  Oracles: numpy, scipy, zarr, planted values."""
import array
import json
import os

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
from scipy import special

import ooc
from ooc import cli
from ooc.errors import StoreError


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------------
# a memory:// store cannot be read from another process

@pytest.fixture
def memory_store():
    z = zarr.create_array("memory://ooc-hostile-mem", shape=(10,), chunks=(5,), dtype="f8",
                          overwrite=True)
    z[:] = np.arange(10.0)     # the maximum is at 9; the fill value 0 everywhere would give 0
    return "memory://ooc-hostile-mem"


def test_memory_store_under_processes_api(memory_store):
    a = ooc.open(memory_store)
    with dask.config.set(scheduler="processes"):
        with pytest.raises(StoreError, match="memory://.*lives in"):
            ooc.argmax(a).compute()
        with pytest.raises(StoreError, match="memory://.*lives in"):
            ooc.scheduler_context("processes", progress=False).__enter__().compute(ooc.argmax(a))
    assert int(ooc.argmax(a).compute()) == 9      # threads: the same process reads it


def test_memory_store_read_in_another_process_names_the_store(memory_store):
    """The chunk source itself refuses in another process (a plain .compute() under processes)."""
    a = ooc.open(memory_store)
    with dask.config.set(scheduler="processes"):
        with pytest.raises(StoreError, match="cannot be read from another process"):
            a.max().compute()


def test_memory_store_under_processes_cli(memory_store, capsys):
    code, out, err = run(capsys, "argmax", memory_store, "--scheduler", "processes",
                         "--no-progress")
    assert code == 1 and out == "" and "memory://ooc-hostile-mem" in err
    code, out, _ = run(capsys, "argmax", memory_store, "--scheduler", "threads", "--json",
                       "--no-progress")
    assert code == 0 and json.loads(out)["index"] == 9


def test_in_memory_store_objects_travel_to_processes():
    """A zarr MemoryStore object is pickled with its contents: processes read the right data."""
    z = zarr.create_array(zarr.storage.MemoryStore(), shape=(10,), chunks=(5,), dtype="f8")
    z[:] = np.arange(10.0)[::-1]
    with dask.config.set(scheduler="processes"):
        assert int(ooc.argmax(z).compute()) == 0


# --------------------------------------------------------------------------------------------------
# timedelta64 in the command line

@pytest.fixture
def timedeltas(tmp_path):
    data = {"m8[ns]": np.array([1, 5, -3, 7, 2, 0], dtype="m8[ns]"),
            "m8[ns]-nat": np.array([1, 5, -3, "NaT", 2, 0], dtype="m8[ns]"),
            "m8[s]": np.array([4, 9, 9, -1], dtype="m8[s]")}
    paths = {}
    for name, x in data.items():
        p = tmp_path / f"{name}.zarr"
        zarr.create_array(p, shape=x.shape, chunks=(3,), dtype=x.dtype)[:] = x
        paths[name] = (p, x)
    return paths


@pytest.mark.parametrize("name", ["m8[ns]", "m8[ns]-nat", "m8[s]"])
@pytest.mark.parametrize("func", ["argmax", "argmin", "max-argmax", "min-argmin"])
def test_timedelta_cli(timedeltas, capsys, name, func):
    p, x = timedeltas[name]
    ref = np.argmax if "max" in func else np.argmin
    i = int(ref(x))
    code, out, err = run(capsys, func, p, "--json", "--no-progress")
    assert code == 0, err
    rec = json.loads(out)
    assert rec["index"] == i and rec["value"] == str(x[i])
    code, out, err = run(capsys, func, p, "--no-progress")
    assert code == 0, err
    assert f"value   {x[i]}" in out        # numpy's own words ("5 nanoseconds", "NaT")
    code, out, err = run(capsys, func, p, "--axis", "0", "--json", "--no-progress")
    assert code == 0 and json.loads(out)["value"] == str(x[i])


# --------------------------------------------------------------------------------------------------
# softmax of byte-swapped data

@pytest.mark.parametrize("dtype", [">f8", ">f4", "<f8"])
def test_softmax_logsumexp_byteswapped(dtype, tmp_path, capsys):
    x = (np.arange(12).reshape(3, 4) / 3).astype(dtype)
    np.testing.assert_allclose(ooc.softmax(x, axis=1).compute(), special.softmax(x, axis=1),
                               rtol=1e-6)
    np.testing.assert_allclose(ooc.logsumexp(x, axis=0).compute(), special.logsumexp(x, axis=0),
                               rtol=1e-6)
    p = tmp_path / "be.zarr"
    zarr.create_array(p, shape=x.shape, chunks=(2, 2), dtype=x.dtype)[:] = x
    out = tmp_path / "sm.zarr"
    code, _, err = run(capsys, "softmax", p, "--axis", "1", "--out", out, "--no-progress")
    assert code == 0, err
    got = zarr.open_array(out, mode="r")
    np.testing.assert_allclose(got[:], special.softmax(x, axis=1), rtol=1e-6)
    assert got.attrs["ooc"]["complete"] is True


# --------------------------------------------------------------------------------------------------
# ooc info --json with fill values JSON has no type for

@pytest.mark.parametrize("dtype, fill, want", [
    ("M8[s]", np.datetime64(5, "s"), "1970-01-01T00:00:05"),
    ("m8[s]", np.timedelta64(7, "s"), "7"),
    ("S3", b"ab", "ab"),
])
def test_info_json_fill_values(tmp_path, capsys, dtype, fill, want):
    p = tmp_path / "f.zarr"
    zarr.create_array(p, shape=(4,), chunks=(2,), dtype=dtype, fill_value=fill, zarr_format=2)
    code, out, err = run(capsys, "info", p, "--json")
    assert code == 0, err
    got = json.loads(out)["fill_value"]
    assert isinstance(got, str) and want.replace("T", " ") in got.replace("T", " ")
    code, out, err = run(capsys, "info", p)
    assert code == 0 and "fill value" in out


# --------------------------------------------------------------------------------------------------
# --axis with negative axes

def test_axis_negative_list(tmp_path, capsys):
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    p = tmp_path / "n.zarr"
    zarr.create_array(p, shape=x.shape, chunks=(2, 2, 2), dtype=x.dtype)[:] = x
    want = int(np.argmax(np.moveaxis(x, (2, 0), (1, 2)).reshape(4, -1), axis=1)[0])
    for argv in (["--axis", "-1,0"], ["--axis=-1,0"], ["--axis", "-1", "--axis", "0"],
                 ["--axis", "-1,-3"]):
        code, out, err = run(capsys, "argmax", p, *argv, "--json", "--no-progress")
        assert code == 0, (argv, err)
        assert json.loads(out)["index"][0] == want
    code, out, err = run(capsys, "argmax", p, "--axis", "-4", "--no-progress")
    assert code == 2 and "out of range" in err


# --------------------------------------------------------------------------------------------------
# logsumexp and softmax over no axis

@pytest.mark.parametrize("x", [np.array([1.0, -np.inf, np.inf, np.nan, 2.0]),
                               np.arange(6, dtype="i4").reshape(2, 3),
                               np.array([[0.5, -3.0]], dtype="f4")])
def test_lse_softmax_axis_empty_tuple(x):
    with np.errstate(invalid="ignore"):
        want_lse = special.logsumexp(x, axis=())
        want_sm = special.softmax(x, axis=())
    got = ooc.logsumexp(x, axis=()).compute()
    assert got.dtype == want_lse.dtype and got.shape == want_lse.shape
    np.testing.assert_array_equal(got, want_lse)
    got = ooc.softmax(da.from_array(x, chunks=1), axis=()).compute()
    assert got.dtype == want_sm.dtype
    np.testing.assert_array_equal(got, want_sm)


# --------------------------------------------------------------------------------------------------
# numpy's other array_likes

class WithArray:
    def __array__(self, dtype=None, copy=None):
        return np.array([3, 1, 4, 1, 5, 9, 2, 6])


@pytest.mark.parametrize("make", [
    lambda: range(3, 11, 2),
    lambda: array.array("d", [2.0, 7.5, -1.0, 7.5]),
    lambda: memoryview(np.array([4, 8, 8, 1], dtype="i2")),
    WithArray,
], ids=["range", "array.array", "memoryview", "__array__"])
@pytest.mark.parametrize("func", ["argmax", "argmin", "nanargmax"])
def test_array_likes(make, func):
    assert int(getattr(ooc, func)(make()).compute()) == int(getattr(np, func)(make()))


def test_pandas_series():
    pd = pytest.importorskip("pandas")
    s = pd.Series([2.0, np.nan, 9.0, 9.0])
    assert int(ooc.nanargmax(s).compute()) == int(np.nanargmax(s))
    np.testing.assert_allclose(ooc.logsumexp(s.to_numpy()[[0, 2]]).compute(),
                               special.logsumexp([2.0, 9.0]))


# --------------------------------------------------------------------------------------------------
# soft_argmax's beta

@pytest.mark.parametrize("beta", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_beta(beta, capsys):
    with pytest.raises(ValueError, match="beta must be a finite number"):
        ooc.soft_argmax(np.array([1.0, 2.0]), beta=beta)
    z = zarr.create_array("memory://ooc-hostile-beta", shape=(3,), chunks=(3,), dtype="f8",
                          overwrite=True)
    z[:] = [1.0, 2.0, 3.0]
    code, out, err = run(capsys, "soft-argmax", "memory://ooc-hostile-beta", "--beta", str(beta),
                         "--json", "--no-progress")
    assert code == 2 and out == "" and "finite" in err


def test_json_is_json_for_finite_beta(capsys):
    z = zarr.create_array("memory://ooc-hostile-beta2", shape=(3,), chunks=(3,), dtype="f8",
                          overwrite=True)
    z[:] = [1.0, 2.0, 3.0]
    code, out, _ = run(capsys, "soft-argmax", "memory://ooc-hostile-beta2", "--beta", "1e308",
                       "--json", "--no-progress")
    assert code == 0
    json.loads(out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))


# --------------------------------------------------------------------------------------------------
# ~ in result paths

def test_create_result_expands_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    os.makedirs(tmp_path / "home")
    monkeypatch.chdir(tmp_path)
    r = ooc.create_result("~/res.zarr", np.zeros((3, 4)), axis=0)
    assert (tmp_path / "home" / "res.zarr" / "zarr.json").exists()
    assert not (tmp_path / "~").exists()
    ooc.argmax(np.array([[1, 5, 2, 0], [3, 1, 2, 8], [0, 0, 9, 1]]), axis=0, out=r)
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "home" / "res.zarr")[:], [1, 0, 2, 1])


# --------------------------------------------------------------------------------------------------
# coordinates where numpy's unravel_index is wrong

def test_cli_coords_of_several_axes_with_long_kept_dims(tmp_path, capsys):
    n, r1, r2 = 9000, 3, 4
    rng = np.random.default_rng(6)
    x = rng.random((n, 1, r1, r2)).astype("f4")
    rows, cols = rng.integers(0, r1, n), rng.integers(0, r2, n)
    x[np.arange(n), 0, rows, cols] = 2.0                      # planted maxima
    p = tmp_path / "long.zarr"
    zarr.create_array(p, shape=x.shape, chunks=(n, 1, r1, r2), dtype=x.dtype)[:] = x
    code, out, err = run(capsys, "argmax", p, "--axis", "2,3", "--json", "--no-progress")
    assert code == 0, err
    coords = np.array(json.loads(out)["coords"])              # (n, 1, 4): t, one, y, x
    np.testing.assert_array_equal(coords[:, 0, 2], rows)
    np.testing.assert_array_equal(coords[:, 0, 3], cols)
    np.testing.assert_array_equal(coords[:, 0, 0], np.arange(n))
