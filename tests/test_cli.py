"""The ``ooc`` command: output, JSON, --out, exit statuses, info, progress, demo."""
import json
import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
import zarr

from ooc import cli
from storehash import tree_hash


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(11)
    t = rng.integers(0, 50, size=(6, 40, 30)).astype("f4")
    t[2, 3, 4] = np.nan
    t[0, 5, :] = np.nan          # one all-NaN line along axis 2
    c = rng.integers(-5, 5, size=(30, 300)).astype("i2")   # many ties
    root = tmp_path / "in.zarr"
    g = zarr.open_group(root, mode="w")
    g.create_array("t", shape=t.shape, chunks=(4, 16, 16), dtype="f4")[:] = t
    g.create_array("c", shape=c.shape, chunks=(8, 128), dtype="i2")[:] = c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(root)
    return root, t, c


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_axis_none_human(store, capsys):
    root, t, _ = store
    code, out, err = run(capsys, "nanargmax", root, "--path", "t")
    assert code == 0, err
    i = int(np.nanargmax(t))
    coords = np.unravel_index(i, t.shape)
    assert f"index   {i}" in out and f"coords  {tuple(int(x) for x in coords)}" in out
    assert f"value   {float(t[coords])!r}" in out
    assert err == ""   # not a terminal: no progress bar


@pytest.mark.parametrize("func", ["argmax", "argmin", "nanargmax", "nanargmin", "max-argmax",
                                  "min-argmin"])
def test_json_all_functions_all_axes(store, capsys, func):
    root, _, c = store
    ref = {"argmax": np.argmax, "argmin": np.argmin, "nanargmax": np.nanargmax,
           "nanargmin": np.nanargmin, "max-argmax": np.argmax, "min-argmin": np.argmin}[func]
    for axis in (None, 0, 1, -1):
        args = ["--axis", axis] if axis is not None else []
        code, out, err = run(capsys, func, root, "--path", "c", "--json", *args)
        assert code == 0, err
        rec = json.loads(out)
        assert set(rec) >= {"function", "axis", "index", "coords", "value"}
        want = ref(c, axis=axis)
        np.testing.assert_array_equal(np.array(rec["index"]), want)
        if axis is None:
            assert rec["axis"] is None
            assert rec["coords"] == [int(x) for x in np.unravel_index(want, c.shape)]
            assert rec["value"] == int(c.reshape(-1)[want])
        else:
            ax = axis % 2
            assert rec["axis"] == ax
            vals = np.take_along_axis(c, np.expand_dims(want, ax), ax).squeeze(ax)
            np.testing.assert_array_equal(np.array(rec["value"]), vals)
            coords = np.array(rec["coords"])
            assert coords.shape == want.shape + (2,)
            np.testing.assert_array_equal(c[coords[..., 0], coords[..., 1]], vals)


def test_json_nan_and_keepdims(store, capsys):
    root, t, _ = store
    code, out, _ = run(capsys, "argmax", root, "--path", "t", "--json")
    rec = json.loads(out)
    assert rec["index"] == int(np.argmax(t)) and rec["value"] == "nan"
    code, out, _ = run(capsys, "argmin", root, "--path", "t", "--json", "--axis", "0", "--keepdims")
    rec = json.loads(out)
    np.testing.assert_array_equal(np.array(rec["index"]), np.argmin(t, axis=0, keepdims=True))
    code, out, _ = run(capsys, "max-argmax", root, "--path", "t", "--json", "--skipna", "--axis", "1")
    rec = json.loads(out)
    np.testing.assert_array_equal(np.array(rec["index"]), np.nanargmax(t, axis=1))
    assert rec["skipna"] is True


def test_out_store_written_and_input_untouched(store, tmp_path, capsys):
    root, t, c = store
    before = tree_hash(root)
    out = tmp_path / "res.zarr"
    code, stdout, err = run(capsys, "argmin", root, "--path", "t", "--axis", "2", "--out", out)
    assert code == 0, err
    z = zarr.open_array(out, mode="r")
    np.testing.assert_array_equal(z[:], np.argmin(t, axis=2))
    assert z.chunks == (4, 16) and z.dtype == np.intp
    assert z.attrs["ooc"]["function"] == "argmin" and z.attrs["ooc"]["source_path"] == "t"
    assert z.attrs["ooc"]["source_store"] == str(root.resolve())
    assert "written chunk by chunk" in stdout
    # existing output needs --overwrite
    code, _, err = run(capsys, "argmin", root, "--path", "t", "--axis", "2", "--out", out)
    assert code == 1 and "already exists" in err and "--overwrite" in err
    code, _, _ = run(capsys, "argmin", root, "--path", "t", "--axis", "1", "--out", out,
                     "--overwrite")
    assert code == 0
    np.testing.assert_array_equal(zarr.open_array(out, mode="r")[:], np.argmin(t, axis=1))
    code, _, _ = run(capsys, "argmax", root, "--path", "c", "--out", tmp_path / "g.zarr",
                     "--out-path", "g/i", "--axis", "1")
    assert code == 0
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "g.zarr", path="g/i", mode="r")[:],
                                  c.argmax(axis=1))
    code, stdout, _ = run(capsys, "argmax", root, "--path", "c", "--out", tmp_path / "scalar.zarr",
                          "--json")
    assert code == 0 and json.loads(stdout)["out"].endswith("scalar.zarr")
    assert int(zarr.open_array(tmp_path / "scalar.zarr", mode="r")[()]) == c.argmax()
    code, stdout, _ = run(capsys, "min-argmin", root, "--path", "c", "--axis", "0", "--out",
                          tmp_path / "pair.zarr", "--out-path", "r")
    assert code == 0
    zi = zarr.open_array(tmp_path / "pair.zarr", path="r/indices", mode="r")
    zv = zarr.open_array(tmp_path / "pair.zarr", path="r/values", mode="r")
    np.testing.assert_array_equal(zi[:], c.argmin(axis=0))
    np.testing.assert_array_equal(zv[:], c.min(axis=0))
    assert zv.dtype == np.int16 and zv.attrs["ooc"]["role"] == "values"
    assert tree_hash(root) == before


def test_usage_errors_exit_2(store, tmp_path, capsys):
    root, _, _ = store
    before = tree_hash(root)
    cases = [
        (["argmax", root, "--path", "t", "--out", root], "refusing"),
        (["argmax", root, "--path", "t", "--axis", "0", "--out", root / "t" / "r"], "refusing"),
        (["argmax", root, "--path", "t", "--axis", "3"], "out of range"),
        (["argmax", root, "--path", "c", "--axis", "0", "--keepdims"], None),   # 300: printable
        (["argmax", root, "--path", "t", "--out-path", "x"], "--out-path needs --out"),
        (["argmax", root, "--path", "t", "--axis", "x"], "invalid axis"),
        (["argmax", root, "--bogus"], "unrecognized"),
        (["frobnicate", root], "invalid choice"),
        ([], "required"),
        (["argmax", root, "--path", "t", "--scheduler", "nonsense"], "--scheduler"),
    ]
    for argv, msg in cases:
        code, out, err = run(capsys, *argv)
        if msg is None:
            assert code == 0
            continue
        assert code == 2, (argv, err)
        assert msg in err, (argv, err)
    assert tree_hash(root) == before


def test_too_large_to_print(tmp_path, capsys):
    z = zarr.create_array(tmp_path / "wide.zarr", shape=(3, 200, 60), chunks=(2, 100, 60), dtype="u1")
    z[:] = 1
    code, _, err = run(capsys, "argmax", tmp_path / "wide.zarr", "--axis", "0")
    assert code == 2 and "too large to print" in err and "--out" in err
    code, _, err = run(capsys, "argmax", tmp_path / "wide.zarr", "--axis", "0", "--out",
                       tmp_path / "o.zarr")
    assert code == 0, err


def test_runtime_errors_exit_1_one_line(store, tmp_path, capsys):
    root, _, _ = store
    code, out, err = run(capsys, "argmax", tmp_path / "missing.zarr")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "missing.zarr" in err and "Traceback" not in err
    code, _, err = run(capsys, "argmax", root)
    assert code == 1 and "in.zarr" in err and "c, t" in err
    code, _, err = run(capsys, "argmax", root, "--path", "nope")
    assert code == 1 and "nope" in err
    code, _, err = run(capsys, "nanargmax", root, "--path", "t", "--axis", "2")  # all-NaN line
    assert code == 1 and err.count("\n") == 1 and "in.zarr" in err and "NaN" in err
    code, _, err = run(capsys, "info", tmp_path / "missing.zarr")
    assert code == 1 and "missing.zarr" in err
    with pytest.raises(Exception):
        cli.main(["argmax", str(tmp_path / "missing.zarr"), "--debug"])


def test_info(store, capsys):
    root, _, _ = store
    code, out, _ = run(capsys, "info", root, "--path", "t")
    assert code == 0
    for word in ("shape      (6, 40, 30)", "dtype      float32", "chunks     (4, 16, 16)", "zstd",
                 "nchunks    12 in the grid, 12 stored", "logical", "stored"):
        assert word in out, out
    code, out, _ = run(capsys, "info", root, "--path", "c", "--json")
    d = json.loads(out)
    assert d["shape"] == [30, 300] and d["nchunks"] == 12 and d["logical_bytes"] == 18000
    assert d["stored_bytes"] > 0 and d["arrays"] == ["c", "t"]


def test_schedulers(store, capsys):
    root, _, c = store
    for sched in ("synchronous", "threads"):
        code, out, _ = run(capsys, "argmin", root, "--path", "c", "--json", "--scheduler", sched,
                           "--axis", "1", "--workers", "2")
        assert code == 0 and json.loads(out)["index"] == c.argmin(axis=1).tolist()


def test_processes_scheduler(store, capsys):
    root, _, c = store
    code, out, err = run(capsys, "argmax", root, "--path", "c", "--json", "--scheduler", "processes",
                         "--workers", "2")
    assert code == 0, err
    assert json.loads(out)["index"] == int(c.argmax())


def test_distributed_address(store, capsys):
    distributed = pytest.importorskip("distributed")
    root, _, c = store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                      dashboard_address=None) as cluster:
            code, out, err = run(capsys, "argmax", root, "--path", "c", "--json", "--axis", "0",
                                 "--scheduler", cluster.scheduler_address)
            assert code == 0, err
            assert json.loads(out)["index"] == c.argmax(axis=0).tolist()


def test_progress_bar_only_when_asked_or_terminal(store, capsys):
    root, _, _ = store
    code, _, err = run(capsys, "argmax", root, "--path", "t", "--progress")
    assert code == 0 and "Completed" in err
    code, _, err = run(capsys, "argmax", root, "--path", "t")
    assert code == 0 and err == ""
    code, _, err = run(capsys, "argmax", root, "--path", "t", "--no-progress", "--axis", "0",
                       "--out", root.parent / "p.zarr", "--progress")
    assert code == 0 and "Completed" in err


def test_console_script_subprocess(store):
    root, _, _ = store
    exe = [sys.executable, "-m", "ooc"]
    p = subprocess.run(exe + ["argmax", str(root), "--path", "c", "--json"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and json.loads(p.stdout)["function"] == "argmax"
    p = subprocess.run(exe + ["argmax", str(root / "nothere")], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1 and p.stdout == "" and len(p.stderr.strip().splitlines()) == 1
    p = subprocess.run(exe + ["argmax", str(root / "nothere"), "--debug"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 1 and "Traceback" in p.stderr


def test_demo_small_passes(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "--dir", tmp_path, "--size", "2MiB", "--no-progress")
    assert code == 0, out + err
    assert "all answers match the planted truth" in out
    assert out.count("ok  ") == 26 and "FAIL" not in out
    assert "MiB/s" in out and "peak memory" in out and "input store unchanged: yes" in out
    assert (tmp_path / "ooc-demo.zarr" / "zarr.json").exists()


def test_demo_detects_wrong_answers(tmp_path, capsys, monkeypatch):
    import ooc
    real = ooc.nanargmin

    def wrong(a, axis=None, **kw):
        return real(a, axis=axis, **kw) + 1
    monkeypatch.setattr(ooc.api, "nanargmin", wrong)
    code, out, _ = run(capsys, "demo", "--size", "1MiB", "--no-progress")
    assert code == 1
    assert out.count("FAIL") == 4 + 1 and "did not match" in out


def test_parse_size():
    assert cli.parse_size("2GiB") == 2 * 2**30
    with pytest.raises(ValueError):
        cli.parse_size("lots")
    assert cli.main(["demo", "--size", "lots"]) == 2


def test_python_m_ooc_module_exists():
    import ooc.__main__  # noqa: F401
    import ooc
    assert os.path.exists(pathlib.Path(ooc.__file__).with_name("__main__.py"))


def test_out_zip_store_is_complete(store, tmp_path, capsys):
    root, t, _ = store
    zp = tmp_path / "res.zip"
    code, _, err = run(capsys, "min-argmin", root, "--path", "t", "--axis", "1", "--skipna",
                       "--out", zp, "--out-path", "r")
    assert code == 0, err
    with zarr.storage.ZipStore(zp, mode="r") as st:
        g = zarr.open_group(st, mode="r")
        np.testing.assert_array_equal(g["r/indices"][:], np.nanargmin(t, axis=1))
        np.testing.assert_array_equal(g["r/values"][:], np.nanmin(t, axis=1))
        assert g["r/values"].attrs["ooc"]["skipna"] is True
    code, _, err = run(capsys, "argmax", root, "--path", "t", "--axis", "0", "--out",
                       tmp_path / "one.zip")
    assert code == 0, err
    with zarr.storage.ZipStore(tmp_path / "one.zip", mode="r") as st:
        np.testing.assert_array_equal(zarr.open_array(st, mode="r")[:], np.argmax(t, axis=0))
