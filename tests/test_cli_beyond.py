"""The ``ooc`` command beyond argmax: several axes, logsumexp, soft-argmax, softmax, take-at-argmax.

Every answer is checked against numpy/scipy computed directly on the data written to a small
store in tmp_path; --out arrays are read back and compared.
"""
import json
import warnings

import numpy as np
import pytest
import scipy.special
import zarr

import ooc
from ooc import cli


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(5)
    k = rng.normal(size=(6, 10, 8))
    k[1, 2, 3] = k[4, 7, 1] = k.max() + 1          # a tie for the maximum
    n = rng.integers(0, 9, size=(6, 10, 8)).astype("f4")
    n[0, 0, :] = np.nan
    n[2, 3, 4] = np.nan
    v = rng.integers(-1000, 1000, size=(6, 10, 8)).astype("i2")
    i = rng.integers(-3, 3, size=(6, 10, 8)).astype("i4")   # many ties
    root = tmp_path / "in.zarr"
    g = zarr.open_group(root, mode="w")
    g.create_array("k", shape=k.shape, chunks=(4, 4, 3), dtype="f8")[:] = k
    g.create_array("n", shape=n.shape, chunks=(4, 4, 3), dtype="f4")[:] = n
    g.create_array("v", shape=v.shape, chunks=(3, 5, 8), dtype="i2")[:] = v   # other chunks
    g.create_array("i", shape=i.shape, chunks=(4, 4, 3), dtype="i4")[:] = i
    g.create_array("w", shape=(6, 10), chunks=(3, 5), dtype="i2")[:] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(root)
    return root, {"k": k, "n": n, "v": v, "i": i}


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, (argv, err)
    return json.loads(out)


def flat_over(x, axes):
    """x with the kept axes first and ``axes`` (in that order) flattened into the last one."""
    kept = [d for d in range(x.ndim) if d not in axes]
    y = np.moveaxis(x, kept + list(axes), list(range(x.ndim)))
    return y.reshape(y.shape[:len(kept)] + (-1,))


def soft_ref(x, axes, beta):
    w = scipy.special.softmax(beta * flat_over(x.astype(float), axes), axis=-1)
    grid = np.indices([x.shape[d] for d in axes]).reshape(len(axes), -1)
    return np.stack([(w * c).sum(-1) for c in grid], axis=-1)


# ------------------------------------------------------------------------------------------------
# several axes for the argmax family

@pytest.mark.parametrize("spec,axes", [(["0,2"], (0, 2)), (["2", "0"], (2, 0)),
                                       (["-1", "1"], (2, 1)), (["1,"], (1,)),
                                       (["0,1,2"], (0, 1, 2))])
def test_argmax_family_several_axes(store, capsys, spec, axes):
    root, d = store
    opts = [x for s in spec for x in ("--axis", s)]
    for func, arr, ref, red in (("argmax", "i", np.argmax, np.max),
                                ("nanargmin", "n", np.nanargmin, np.nanmin),
                                ("max-argmax", "k", np.argmax, np.max)):
        x = d[arr]
        want = ref(flat_over(x, axes), axis=-1)
        rec = run_json(capsys, func, root, "--path", arr, *opts)
        assert rec["axis"] == list(axes)
        np.testing.assert_array_equal(np.array(rec["index"]), want)
        np.testing.assert_array_equal(np.array(rec["value"]), red(flat_over(x, axes), axis=-1))
        coords = np.array(rec["coords"])
        assert coords.shape == want.shape + (x.ndim,)
        np.testing.assert_array_equal(x[tuple(np.moveaxis(coords, -1, 0))], rec["value"])
        # the flat index unravels over the axes' lengths, in the order given
        parts = ooc.unravel_index(want, [x.shape[a] for a in axes])
        for a, p in zip(axes, parts):
            np.testing.assert_array_equal(coords[..., a], p)
    rec = run_json(capsys, "argmin", root, "--path", "i", *opts, "--keepdims")
    np.testing.assert_array_equal(
        np.array(rec["index"]), np.expand_dims(np.argmin(flat_over(d["i"], axes), axis=-1),
                                               tuple(sorted(axes))))
    # coords, as for an int axis with --keepdims: one full coordinate per kept position
    assert np.array(rec["coords"]).shape == tuple(
        n for a, n in enumerate(d["i"].shape) if a not in axes) + (3,)


def test_several_axes_human_and_out(store, tmp_path, capsys):
    root, d = store
    i = d["i"]
    code, out, err = run(capsys, "argmax", root, "--path", "i", "--axis", "2", "--axis", "0")
    assert code == 0, err
    assert "axis (2, 0)" in out and "flat over axes (2, 0)" in out
    out_store = tmp_path / "o.zarr"
    code, _, err = run(capsys, "argmax", root, "--path", "i", "--axis", "2,0", "--out", out_store,
                       "--out-path", "a")
    assert code == 0, err
    z = zarr.open_array(out_store, path="a", mode="r")
    np.testing.assert_array_equal(z[:], np.argmax(flat_over(i, (2, 0)), axis=-1))
    assert z.chunks == (4,) and z.dtype == np.intp
    meta = z.attrs["ooc"]
    assert meta["axis"] == [2, 0] and meta["function"] == "argmax" and meta["complete"] is True
    assert meta["source_path"] == "i" and meta["source_shape"] == [6, 10, 8]
    code, _, err = run(capsys, "min-argmin", root, "--path", "k", "--axis", "0,1", "--keepdims",
                       "--out", out_store, "--out-path", "p")
    assert code == 0, err
    zi = zarr.open_array(out_store, path="p/indices", mode="r")
    zv = zarr.open_array(out_store, path="p/values", mode="r")
    f = flat_over(d["k"], (0, 1))
    np.testing.assert_array_equal(zi[:], np.argmin(f, axis=-1)[None, None])
    np.testing.assert_array_equal(zv[:], np.min(f, axis=-1)[None, None])
    assert zi.shape == (1, 1, 8) and zv.dtype == np.float64 and zi.chunks == (1, 1, 3)
    # a rerun finds the complete result and needs --overwrite
    code, _, err = run(capsys, "argmax", root, "--path", "i", "--axis", "2,0", "--out", out_store,
                       "--out-path", "a")
    assert code == 1 and "--overwrite" in err


# ------------------------------------------------------------------------------------------------
# logsumexp

def test_logsumexp(store, tmp_path, capsys):
    root, d = store
    k, i = d["k"], d["i"]
    code, out, err = run(capsys, "logsumexp", root, "--path", "k")
    assert code == 0, err
    assert out.startswith("logsumexp of ") and "axis None" in out
    value = float(out.split("value")[1].split()[0])
    assert value == pytest.approx(scipy.special.logsumexp(k), rel=1e-12)
    for axis, opts in ((None, []), (1, ["--axis", "1"]), ((0, 2), ["--axis", "0,2"]),
                       ((2, 0), ["--axis", "2", "--axis", "0"])):
        for keepdims in (False, True):
            rec = run_json(capsys, "logsumexp", root, "--path", "i", *opts,
                           *(["--keepdims"] if keepdims else []))
            assert rec["function"] == "logsumexp" and rec["keepdims"] is keepdims
            assert rec["axis"] == (list(axis) if isinstance(axis, tuple) else axis)
            want = scipy.special.logsumexp(i, axis=axis, keepdims=keepdims)
            np.testing.assert_allclose(np.array(rec["value"]), want, rtol=1e-12)
    out_store = tmp_path / "lse.zarr"
    code, out, err = run(capsys, "logsumexp", root, "--path", "i", "--axis", "1", "--out",
                         out_store)
    assert code == 0, err
    assert "written chunk by chunk" in out
    z = zarr.open_array(out_store, mode="r")
    assert z.dtype == np.float64 and z.chunks == (4, 3)    # int input: float64, input grid
    np.testing.assert_allclose(z[:], scipy.special.logsumexp(i, axis=1), rtol=1e-12)
    assert z.attrs["ooc"]["function"] == "logsumexp" and z.attrs["ooc"]["axis"] == 1
    assert z.attrs["ooc"]["source_path"] == "i" and z.attrs["ooc"]["complete"] is True
    rec = run_json(capsys, "logsumexp", root, "--path", "n", "--axis", "0,1", "--out",
                   tmp_path / "lse2.zarr")
    assert rec["value"] is None and rec["out"].endswith("lse2.zarr")
    z = zarr.open_array(tmp_path / "lse2.zarr", mode="r")
    assert z.dtype == np.float32 and z.shape == (8,) and z.attrs["ooc"]["axis"] == [0, 1]
    np.testing.assert_allclose(z[:], scipy.special.logsumexp(d["n"], axis=(0, 1)), rtol=1e-6)
    # a scalar result to --out
    code, _, err = run(capsys, "logsumexp", root, "--path", "k", "--out", tmp_path / "s.zarr")
    assert code == 0, err
    assert float(zarr.open_array(tmp_path / "s.zarr", mode="r")[()]) == pytest.approx(
        scipy.special.logsumexp(k), rel=1e-12)


# ------------------------------------------------------------------------------------------------
# soft-argmax

def test_soft_argmax(store, tmp_path, capsys):
    root, d = store
    k = d["k"]
    code, out, err = run(capsys, "soft-argmax", root, "--path", "k", "--beta", "2")
    assert code == 0, err
    assert "beta 2.0" in out
    coords = eval(out.split("coords")[1].strip().splitlines()[0])   # a tuple of floats
    np.testing.assert_allclose(coords, soft_ref(k, (0, 1, 2), 2.0), rtol=1e-10)
    rec = run_json(capsys, "soft-argmax", root, "--path", "k", "--axis", "1")
    w = scipy.special.softmax(k, axis=1)
    np.testing.assert_allclose(np.array(rec["value"]),
                               (w * np.arange(10)[:, None]).sum(axis=1), rtol=1e-10)
    assert rec["function"] == "soft_argmax" and rec["beta"] == 1.0 and rec["axis"] == 1
    rec = run_json(capsys, "soft-argmax", root, "--path", "k", "--axis", "2", "--axis", "0",
                   "--beta", "0.5")
    value = np.array(rec["value"])
    assert value.shape == (10, 2)          # a trailing axis of coordinates, in the order given
    np.testing.assert_allclose(value, soft_ref(k, (2, 0), 0.5), rtol=1e-10)
    # large beta tends to argmax (a unique maximum along every line of axis 2)
    rec = run_json(capsys, "soft-argmax", root, "--path", "k", "--axis", "2", "--beta", "1e6")
    np.testing.assert_allclose(np.array(rec["value"]), np.argmax(k, axis=2), atol=1e-6)
    out_store = tmp_path / "sa.zarr"
    code, out, err = run(capsys, "soft-argmax", root, "--path", "k", "--axis", "0,2", "--out",
                         out_store, "--out-path", "g/sa")
    assert code == 0, err
    z = zarr.open_array(out_store, path="g/sa", mode="r")
    assert z.shape == (10, 2) and z.dtype == np.float64 and z.chunks == (4, 2)
    np.testing.assert_allclose(z[:], soft_ref(k, (0, 2), 1.0), rtol=1e-10)
    assert z.attrs["ooc"]["axis"] == [0, 2] and z.attrs["ooc"]["beta"] == 1.0
    code, _, err = run(capsys, "soft-argmax", root, "--path", "k", "--out", tmp_path / "n.zarr")
    assert code == 0, err
    np.testing.assert_allclose(zarr.open_array(tmp_path / "n.zarr", mode="r")[:],
                               soft_ref(k, (0, 1, 2), 1.0), rtol=1e-10)


# ------------------------------------------------------------------------------------------------
# softmax

def test_softmax(store, tmp_path, capsys):
    root, d = store
    k, n = d["k"], d["n"]
    code, out, err = run(capsys, "softmax", root, "--path", "k", "--axis", "1")
    assert code == 2 and "--out" in err and err.count("\n") == 1 and out == ""
    out_store = tmp_path / "sm.zarr"
    code, out, err = run(capsys, "softmax", root, "--path", "k", "--axis", "1", "--out",
                         out_store, "--out-path", "s1")
    assert code == 0, err
    assert "written chunk by chunk" in out
    z = zarr.open_array(out_store, path="s1", mode="r")
    assert z.shape == k.shape and z.chunks == (4, 4, 3) and z.dtype == np.float64
    np.testing.assert_allclose(z[:], scipy.special.softmax(k, axis=1), rtol=1e-12)
    assert z.attrs["ooc"]["function"] == "softmax" and z.attrs["ooc"]["axis"] == 1
    assert z.attrs["ooc"]["complete"] is True and z.attrs["ooc"]["source_path"] == "k"
    rec = run_json(capsys, "softmax", root, "--path", "n", "--axis", "0,2", "--out", out_store,
                   "--out-path", "s2")
    assert rec["function"] == "softmax" and rec["axis"] == [0, 2] and rec["value"] is None
    z = zarr.open_array(out_store, path="s2", mode="r")
    assert z.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # scipy on the NaN slices
        np.testing.assert_allclose(z[:], scipy.special.softmax(n, axis=(0, 2)), rtol=1e-5)
    code, _, err = run(capsys, "softmax", root, "--path", "i", "--out", out_store, "--out-path",
                       "s3")
    assert code == 0, err
    np.testing.assert_allclose(zarr.open_array(out_store, path="s3", mode="r")[:],
                               scipy.special.softmax(d["i"]), rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# take-at-argmax / take-at-argmin

def test_take_at(store, tmp_path, capsys):
    root, d = store
    k, v, n = d["k"], d["v"], d["n"]
    vals = ["--values", root, "--values-path", "v"]
    for func, ref in (("take-at-argmax", np.argmax), ("take-at-argmin", np.argmin)):
        rec = run_json(capsys, func, root, "--path", "k", *vals)
        assert rec["value"] == int(v.reshape(-1)[ref(k)])
        assert rec["function"] == func.replace("-", "_") and rec["values_path"] == "v"
        for axis in (0, 2, -1):
            rec = run_json(capsys, func, root, "--path", "k", *vals, "--axis", axis)
            want = np.take_along_axis(v, np.expand_dims(ref(k, axis), axis), axis).squeeze(axis)
            np.testing.assert_array_equal(np.array(rec["value"]), want)
            assert rec["axis"] == axis % 3
        rec = run_json(capsys, func, root, "--path", "k", *vals, "--axis", "2,0", "--keepdims")
        f = flat_over(v, (2, 0))
        pos = ref(flat_over(k, (2, 0)), axis=-1)
        want = np.take_along_axis(f, pos[:, None], -1)[:, 0]
        np.testing.assert_array_equal(np.array(rec["value"]), want[None, :, None])
    code, out, err = run(capsys, "take-at-argmax", root, "--path", "k", *vals)
    assert code == 0, err
    assert f"value   {int(v.reshape(-1)[np.argmax(k)])}" in out
    # NaN in the key: first NaN wins, or ignored with --skipna
    rec = run_json(capsys, "take-at-argmax", root, "--path", "n", *vals, "--axis", "1")
    want = np.take_along_axis(v, np.expand_dims(np.argmax(n, 1), 1), 1).squeeze(1)
    np.testing.assert_array_equal(np.array(rec["value"]), want)
    rec = run_json(capsys, "take-at-argmin", root, "--path", "n", *vals, "--axis", "1",
                   "--skipna")
    want = np.take_along_axis(v, np.expand_dims(np.nanargmin(n, 1), 1), 1).squeeze(1)
    np.testing.assert_array_equal(np.array(rec["value"]), want)
    assert rec["skipna"] is True
    # --out
    out_store = tmp_path / "t.zarr"
    code, out, err = run(capsys, "take-at-argmax", root, "--path", "k", *vals, "--axis", "1",
                         "--out", out_store)
    assert code == 0, err
    z = zarr.open_array(out_store, mode="r")
    assert z.dtype == np.int16 and z.chunks == (4, 3)          # values' dtype, the key's grid
    np.testing.assert_array_equal(
        z[:], np.take_along_axis(v, np.expand_dims(np.argmax(k, 1), 1), 1).squeeze(1))
    meta = z.attrs["ooc"]
    assert meta["function"] == "take_at_argmax" and meta["values_path"] == "v"
    assert meta["source_path"] == "k" and meta["complete"] is True


def test_take_at_errors(store, tmp_path, capsys):
    root, _ = store
    code, out, err = run(capsys, "take-at-argmax", root, "--path", "k", "--values", root,
                         "--values-path", "w")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "shape (6, 10)" in err and "shape (6, 10, 8)" in err
    code, _, err = run(capsys, "take-at-argmax", root, "--path", "k")
    assert code == 2 and "--values" in err
    code, _, err = run(capsys, "take-at-argmin", root, "--path", "k", "--values",
                       tmp_path / "missing.zarr")
    assert code == 1 and err.count("\n") == 1 and "missing.zarr" in err
    other = tmp_path / "vals.zarr"
    zarr.create_array(other, shape=(6, 10, 8), chunks=(6, 10, 8), dtype="i1")[:] = 3
    code, _, err = run(capsys, "take-at-argmax", root, "--path", "k", "--values", other,
                       "--axis", "1", "--out", other)
    assert code == 2 and "refusing" in err
    rec = run_json(capsys, "take-at-argmax", root, "--path", "k", "--values", other, "--axis", 0)
    assert np.all(np.array(rec["value"]) == 3)


def test_usage_errors(store, tmp_path, capsys):
    root, _ = store
    cases = [
        (["logsumexp", root, "--path", "k", "--axis", "3"], "out of range"),
        (["logsumexp", root, "--path", "k", "--axis", "0,-3"], "repeated"),
        (["argmax", root, "--path", "k", "--axis", "0", "--axis", "0"], "repeated"),
        (["argmax", root, "--path", "k", "--axis", "0,x"], "invalid axis"),
        (["soft-argmax", root, "--path", "k", "--axis", "none", "--axis", "1"], "none"),
        (["soft-argmax", root, "--path", "k", "--beta", "hot"], "--beta"),
        (["soft-argmax", root, "--path", "k", "--keepdims"], "unrecognized"),
        (["softmax", root, "--path", "k", "--out-path", "x"], "--out"),
        (["logsumexp", root, "--path", "k", "--out-path", "x"], "--out-path needs --out"),
        (["logsumexp", root, "--path", "k", "--out", root], "refusing"),
        (["softmax", root, "--path", "k", "--out", root / "k" / "x"], "refusing"),
    ]
    for argv, msg in cases:
        code, out, err = run(capsys, *argv)
        assert code == 2, (argv, err)
        assert msg in err and out == "", (argv, err)


def test_too_large_to_print_and_runtime_error(tmp_path, capsys):
    z = zarr.create_array(tmp_path / "wide.zarr", shape=(3, 200, 60), chunks=(2, 100, 60),
                          dtype="u1")
    z[:] = 1
    code, _, err = run(capsys, "logsumexp", tmp_path / "wide.zarr", "--axis", "0")
    assert code == 2 and "too large to print" in err
    code, _, err = run(capsys, "soft-argmax", tmp_path / "wide.zarr", "--axis", "0,2")
    assert code == 0, err
    c = zarr.create_array(tmp_path / "c.zarr", shape=(4,), chunks=(2,), dtype="c16")
    c[:] = 1j
    code, out, err = run(capsys, "logsumexp", tmp_path / "c.zarr")
    assert code == 1 and out == "" and err.count("\n") == 1 and "c.zarr" in err


def test_rerun_completes_incomplete_output_zip_and_schedulers(store, tmp_path, capsys):
    from ooc.store.results import mark_incomplete
    root, d = store
    k = d["k"]
    out_store = tmp_path / "r.zarr"
    argv = ["soft-argmax", root, "--path", "k", "--axis", "0,2", "--out", out_store]
    assert run(capsys, *argv)[0] == 0
    z = zarr.open_array(out_store, mode="r+")
    z[:] = 0
    mark_incomplete(z)                        # as an interrupted run leaves it
    code, _, err = run(capsys, *argv, "--beta", "3")   # another computation: refused
    assert code == 1 and "different computation" in err
    code, _, err = run(capsys, *argv)         # the same one: completed without --overwrite
    assert code == 0, err
    z = zarr.open_array(out_store, mode="r")
    assert z.attrs["ooc"]["complete"] is True
    np.testing.assert_allclose(z[:], soft_ref(k, (0, 2), 1.0), rtol=1e-10)
    zp = tmp_path / "r.zip"
    code, _, err = run(capsys, "logsumexp", root, "--path", "k", "--axis", "2,1", "--out", zp,
                       "--out-path", "l", "--scheduler", "synchronous", "--progress")
    assert code == 0 and "Completed" in err
    with zarr.storage.ZipStore(zp, mode="r") as st:
        np.testing.assert_allclose(zarr.open_array(st, path="l", mode="r")[:],
                                   scipy.special.logsumexp(k, axis=(2, 1)), rtol=1e-12)
    rec = run_json(capsys, "take-at-argmin", root, "--path", "k", "--values", root,
                   "--values-path", "v", "--axis", "1", "--scheduler", "processes",
                   "--workers", "2")
    np.testing.assert_array_equal(
        np.array(rec["value"]),
        np.take_along_axis(d["v"], np.expand_dims(np.argmin(k, 1), 1), 1).squeeze(1))
