"""Bad input: every case answers numpy's exact answer or fails with a clear error, before any chunk
is read wherever the problem is visible without the data.

"Before any chunk is read" is proven two ways: a *tripwire* Dask array whose every read fails the
test, and a *poisoned* Zarr store whose every chunk is garbage (reading one raises StoreError, so
getting the expected AxisError/TypeError/ValueError instead shows no chunk was touched).  Every
input store is hashed when made and after each operation (``inputs.check()``).

docs/bad_inputs.md lists every case here with ooc's answer.
"""
import json
import os
import pathlib

import dask.array as da
import numpy as np
import pytest
import zarr
from numpy.exceptions import AxisError

import ooc
from storehash import Inputs, tree_hash
from ooc import cli
from ooc import store as S

ARG = {"argmax": ooc.argmax, "argmin": ooc.argmin, "nanargmax": ooc.nanargmax,
       "nanargmin": ooc.nanargmin}
NP = {"argmax": np.argmax, "argmin": np.argmin, "nanargmax": np.nanargmax,
      "nanargmin": np.nanargmin}
ALL = {**ARG,
       "max_argmax": lambda a, **k: ooc.max_argmax(a, **k)[1],
       "min_argmin": lambda a, **k: ooc.min_argmin(a, **k)[1],
       "take_at_argmax": lambda a, **k: ooc.take_at_argmax(a, a, **k),
       "take_at_argmin": lambda a, **k: ooc.take_at_argmin(a, a, **k)}


# --------------------------------------------------------------------------------------------------
# helpers

@pytest.fixture
def inputs():
    g = Inputs()
    yield g
    g.check()


class Tripwire:
    """Array-like whose every read fails the test."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.ndim = tuple(shape), np.dtype(dtype), len(shape)

    def __getitem__(self, key):
        raise AssertionError("a chunk was read before the bad input was reported")


def tripwire(shape, dtype="f8", chunks=2):
    return da.from_array(Tripwire(shape, dtype), chunks=chunks, asarray=False,
                         meta=np.empty((0,) * len(shape), dtype))


def poisoned_store(path, shape=(6, 8), chunks=(3, 4), dtype="f4", **kw):
    """A Zarr store whose every chunk is garbage: reading any of them raises StoreError."""
    z = zarr.create_array(path, shape=shape, chunks=chunks, dtype=dtype, overwrite=True, **kw)
    z[...] = 1
    for f in pathlib.Path(path).rglob("*"):
        if f.is_file() and f.name not in ("zarr.json", ".zarray", ".zattrs", ".zgroup"):
            f.write_bytes(b"\x28\xb5\x2f\xfd garbage, not a chunk")
    return path


def same_as_numpy(ours, theirs, message=True):
    """ooc's answer equals numpy's, or both raise the same exception type (and message, unless
    ``message=False``: numpy's own functions word some errors differently from each other)."""
    try:
        want = theirs()
    except Exception as e:  # numpy refuses: ooc must refuse alike
        with pytest.raises(type(e)) as got:
            r = ours()
            if hasattr(r, "compute"):
                r.compute()
        if message:
            assert str(got.value) == str(e)
        return
    got = ours()
    got = np.asarray(got.compute() if hasattr(got, "compute") else got)
    assert got.shape == np.shape(want) and got.dtype == np.intp
    np.testing.assert_array_equal(got, want)


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------------
# not an array, not a store

@pytest.mark.parametrize("thing", [None, {}, {1, 2}, (i for i in range(3)), object(), len],
                         ids=["None", "dict", "set", "generator", "object", "function"])
def test_not_an_array(thing):
    with pytest.raises(TypeError, match="ooc cannot reduce an object of type"):
        ooc.argmax(thing)


def test_missing_path_is_file_not_found_naming_it(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "x.zarr"
    for arg in (missing, str(missing), f"file://{missing}"):
        with pytest.raises(FileNotFoundError, match=str(missing)):
            ooc.argmax(arg)
        with pytest.raises(S.StoreError):  # also a StoreError (a ValueError), as before
            S.open(arg)
    code, out, err = run_cli(capsys, "argmax", missing)
    assert code == 1 and out == "" and str(missing) in err and "no such file" in err
    code, _, err = run_cli(capsys, "info", missing)
    assert code == 1 and str(missing) in err


def test_not_a_zarr_store(tmp_path, inputs, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("not zarr")
    empty = tmp_path / "empty"
    empty.mkdir()
    text = tmp_path / "file.zarr"
    text.write_text("{}")
    import zipfile
    zp = tmp_path / "other.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("a.txt", "x")
    for p in (plain, empty, text, zp):
        inputs.add(p)
    cases = [(plain, "no Zarr array or group found"), (empty, "no Zarr array or group found"),
             (text, "not a Zarr store"), (zp, "no Zarr array or group found")]
    for p, msg in cases:
        with pytest.raises(S.StoreError, match=msg) as e:
            ooc.argmax(p)
        assert os.path.basename(p) in str(e.value)
        code, _, err = run_cli(capsys, "argmax", p)
        assert code == 1 and msg in err and os.path.basename(p) in err
        inputs.check()


@pytest.fixture
def group_store(tmp_path, inputs):
    """A group: a/x and a/y (a group of two arrays), b/only (a group of one), c (an array)."""
    root = tmp_path / "g.zarr"
    g = zarr.open_group(root, mode="w")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7))
    for name in ("a/x", "a/y", "b/only", "c"):
        g.create_array(name, shape=x.shape, chunks=(2, 3), dtype="f8")[:] = x
    inputs.add(root)
    return root, x


def test_group_without_path_and_path_naming_a_group(group_store, inputs, capsys):
    root, x = group_store
    with pytest.raises(S.StoreError, match=r"is a group; choose one of its arrays.*a/x, a/y, b/only, c"):
        ooc.argmax(root)
    with pytest.raises(S.StoreError, match=r"group 'a'.*is a group; choose.*x, y"):
        ooc.argmax(S.open(root, path="a"))
    with pytest.raises(S.StoreError, match=r"no array 'nope' in the group"):
        S.open(root, path="nope")
    with pytest.raises(S.StoreError, match="single array; there is no path"):
        S.open(root / "c", path="x")
    # a group holding exactly one array names it unambiguously: numpy's answer
    assert int(ooc.argmax(S.open(root, path="b")).compute()) == np.argmax(x)
    code, _, err = run_cli(capsys, "argmax", root, "--path", "a")
    assert code == 1 and "is a group" in err and "x, y" in err
    inputs.check()


@pytest.mark.parametrize("scheme,module,package", [
    ("s3", "s3fs", "'ooc[s3]'"), ("gcs", "gcsfs", "gcsfs"), ("gs", "gcsfs", "gcsfs"),
    ("abfs", "adlfs", "adlfs"), ("az", "adlfs", "adlfs"), ("oci", "ocifs", "ocifs"),
    ("webdav", "webdav4", "webdav4"), ("hdfs", "pyarrow", "pyarrow"), ("sftp", "paramiko", "paramiko"),
    ("lakefs", "lakefs_spec", "lakefs-spec"), ("simplecache::gcs", "gcsfs", "gcsfs"),
])
def test_url_scheme_without_its_package_names_the_package(scheme, module, package, monkeypatch,
                                                          capsys):
    _hide_module(monkeypatch, module)   # the test environment may have some backends installed
    url = f"{scheme}://bucket/data.zarr"
    with pytest.raises(S.StoreError) as e:
        ooc.argmax(url)
    msg = str(e.value)
    assert msg.startswith(f"{url}: cannot open this URL") and f"pip install {package}" in msg, msg
    code, _, err = run_cli(capsys, "argmax", url)
    assert code == 1 and f"pip install {package}" in err


def test_unknown_url_scheme():
    with pytest.raises(S.StoreError, match="nosuchscheme://x/y.zarr: cannot open this URL: "
                                          "Protocol not known: nosuchscheme"):
        ooc.argmax("nosuchscheme://x/y.zarr")


def _hide_module(monkeypatch, module):
    import builtins
    import sys
    real_import = builtins.__import__

    def hidden(name, *args, **kwargs):
        if name.split(".")[0] == module:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)
        return real_import(name, *args, **kwargs)

    for m in list(sys.modules):
        if m.split(".")[0] == module:
            monkeypatch.delitem(sys.modules, m)
    monkeypatch.setattr(builtins, "__import__", hidden)


def test_zarr_group_objects_and_memory_urls():
    g = zarr.open_group("memory://ooc-bad-input-group", mode="w")
    with pytest.raises(S.StoreError, match="is a group; choose one of its arrays.*none"):
        ooc.argmax(g)
    g.create_array("a", shape=(3,), dtype="i4")[:] = [1, 9, 2]
    g.create_array("b", shape=(3,), dtype="i4")[:] = [7, 1, 2]
    with pytest.raises(S.StoreError, match="is a group; choose one of its arrays.*a, b"):
        ooc.argmax(g)
    assert int(ooc.argmax(S.open(g, path="b")).compute()) == 0
    with pytest.raises(S.StoreError, match="memory://ooc-nothing-here: no Zarr array or group"):
        ooc.argmax("memory://ooc-nothing-here")


def test_unravel_index_bad_input_as_numpy():
    i = ooc.argmax(np.arange(4))                     # 3, lazily
    for shape, order in (((2,), "C"), ((2, 1), "F")):
        same_as_numpy(lambda: tuple(c.compute() for c in ooc.unravel_index(i, shape, order)),
                      lambda: np.unravel_index(3, shape, order))
    for order in ("X", "A"):   # numpy's errors and messages
        same_as_numpy(lambda: ooc.unravel_index(i, (2, 2), order=order),
                      lambda: np.unravel_index(3, (2, 2), order=order))
    same_as_numpy(lambda: ooc.unravel_index(da.from_array(np.array([1.5])), (2,)),
                  lambda: np.unravel_index(np.array([1.5]), (2,)))
    coords = ooc.unravel_index(i, (2, 2))
    assert tuple(int(c.compute()) for c in coords) == (1, 1)


# --------------------------------------------------------------------------------------------------
# empty arrays, zero-length axes

EMPTY_SHAPES = [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0)]


@pytest.mark.parametrize("shape", EMPTY_SHAPES)
@pytest.mark.parametrize("name", list(ARG))
def test_empty_arrays_as_numpy(shape, name):
    a = np.zeros(shape)
    axes = [None] + list(range(-len(shape), len(shape)))
    for axis in axes:
        for keepdims in (False, True):
            same_as_numpy(lambda: ARG[name](a, axis=axis, keepdims=keepdims),
                          lambda: NP[name](a, axis=axis, keepdims=keepdims))
            # the error comes before any chunk is read
            t = tripwire(shape) if 0 in shape else None
            if t is not None and (axis is None or shape[axis] == 0):
                with pytest.raises(ValueError, match="of an empty sequence"):
                    ARG[name](t, axis=axis, keepdims=keepdims)


def test_empty_tuple_axes_and_pairs():
    a = np.zeros((2, 0, 3))
    for f in ALL.values():
        with pytest.raises(ValueError, match="empty sequence"):
            f(tripwire(a.shape), axis=(0, 1))
        got = f(a, axis=(0, 2)).compute()   # nothing reduced is empty: an empty result
        assert got.shape == (0,)


def test_empty_zarr_arrays(tmp_path, inputs):
    z = zarr.create_array(tmp_path / "e.zarr", shape=(0, 5), chunks=(2, 2), dtype="i4")
    inputs.add(tmp_path / "e.zarr")
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        ooc.argmax(tmp_path / "e.zarr")
    assert ooc.argmax(z, axis=1).compute().shape == (0,)
    with pytest.raises(ValueError, match="attempt to get argmin of an empty sequence"):
        ooc.argmin(z, axis=0)
    inputs.check()


# --------------------------------------------------------------------------------------------------
# axis, keepdims, out, split_every

def test_axis_errors_before_any_read(tmp_path, inputs):
    x = tripwire((3, 4, 5))
    p = inputs.add(poisoned_store(tmp_path / "p.zarr", shape=(3, 4, 5), chunks=(2, 2, 2)))
    for a in (x, p, S.open(p)):
        for f in ALL.values():
            for axis in (3, -4, (0, 3), (-4,)):
                with pytest.raises(AxisError, match="out of bounds for array of dimension 3"):
                    f(a, axis=axis)
            for axis in ((0, 0), (1, -2), [2, 0, 2]):
                with pytest.raises(ValueError, match="duplicate value in 'axis'"):
                    f(a, axis=axis)
            for axis, msg in ((1.0, "'float' object cannot be interpreted as an integer"),
                              ("0", "'str' object cannot be interpreted as an integer"),
                              (True, "an integer is required for the axis"),
                              (np.True_, "cannot be interpreted as an integer"),
                              ((0, 1.5), "'float' object cannot be interpreted as an integer"),
                              ((0, False), "an integer is required for the axis")):
                with pytest.raises(TypeError, match=msg):
                    f(a, axis=axis)
            with pytest.raises(ValueError, match=r"axis=\(\) names no axis"):
                f(a, axis=())
            with pytest.raises(AxisError):     # numpy: OverflowError; ooc: the axis is named
                f(a, axis=2**70)
        inputs.check()


@pytest.mark.parametrize("axis", [None, 0, 1, -1, -2, np.int64(1), np.uint8(0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_axis_forms_numpy_accepts(axis, keepdims):
    a = np.random.default_rng(1).integers(0, 5, size=(4, 6)).astype("f8")
    a[1, 2] = np.nan
    for name in ARG:
        same_as_numpy(lambda: ARG[name](da.from_array(a, chunks=(3, 4)), axis=axis,
                                        keepdims=keepdims),
                      lambda: NP[name](a, axis=axis, keepdims=keepdims))


def test_bool_axis_as_numpy():
    a = np.ones((2, 3))
    for name in ARG:
        # numpy: "an integer is required for the axis" (argmax), "an integer is required" (nanargmax)
        same_as_numpy(lambda: ARG[name](a, axis=True), lambda: NP[name](a, axis=True),
                      message=False)


def test_zero_d_inputs():
    for v in (5, 2.5, np.float32(3), np.array(7), True, np.datetime64("NaT")):
        for name in ARG:
            for axis in (None, 0, -1):
                if name.startswith("nan") and isinstance(v, np.datetime64):
                    continue  # numpy's nanargmax of a 0-d NaT: also 0, checked below
                same_as_numpy(lambda: ARG[name](v, axis=axis), lambda: NP[name](v, axis=axis))
            # numpy says "dimension 1" or "dimension 0" depending on the function and input
            same_as_numpy(lambda: ARG[name](v, axis=1), lambda: NP[name](v, axis=1), message=False)
    assert int(ooc.nanargmax(np.datetime64("NaT")).compute()) == np.nanargmax(np.datetime64("NaT"))
    with pytest.raises(ValueError, match="All-NaN slice encountered"):
        ooc.nanargmax(np.float64("nan")).compute()


def test_out_checked_before_computing(tmp_path):
    x = tripwire((4, 6))
    good = np.empty(6, np.intp)
    ro = np.empty(6, np.intp)
    ro.flags.writeable = False
    zro_path = tmp_path / "ro.zarr"
    zarr.create_array(zro_path, shape=(6,), chunks=(3,), dtype=np.intp)
    zro = zarr.open_array(zro_path, mode="r")
    cases = [
        (dict(axis=0, out=np.empty(5, np.intp)), ValueError, r"out has shape \(5,\), the result has shape \(6,\)"),
        (dict(axis=0, out=np.empty((1, 6), np.intp)), ValueError, r"out has shape \(1, 6\)"),
        (dict(axis=0, keepdims=True, out=good), ValueError, r"the result has shape \(1, 6\)"),
        (dict(axis=None, out=good), ValueError, r"the result has shape \(\)"),
        (dict(axis=None, keepdims=True, out=np.empty((), np.intp)), ValueError, r"the result has shape \(1, 1\)"),
        (dict(axis=0, out=np.empty(6, np.int32)), ValueError, "out has dtype int32"),
        (dict(axis=0, out=np.empty(6, np.uint64)), ValueError, "out has dtype uint64"),
        (dict(axis=0, out=np.empty(6, np.float64)), ValueError, "out has dtype float64"),
        (dict(axis=0, out=ro), ValueError, "out is read-only"),
        (dict(axis=0, out=zro), ValueError, "read-only zarr array"),
        (dict(axis=0, out=[0] * 6), TypeError, "out must be a numpy array or a zarr.Array, not list"),
        (dict(axis=0, out=da.zeros(6, dtype=np.intp)), TypeError, "not Array"),
        (dict(axis=0, out=5), TypeError, "not int"),
    ]
    for f in ARG.values():
        for kw, exc, msg in cases:
            with pytest.raises(exc, match=msg):
                f(x, **kw)


def test_out_that_fits_is_written_and_returned(tmp_path):
    a = np.random.default_rng(2).integers(0, 9, size=(5, 6))
    for name, f in ARG.items():
        for kw, shape in ((dict(axis=0), (6,)), (dict(axis=1, keepdims=True), (5, 1)),
                          (dict(), ()), (dict(keepdims=True), (1, 1))):
            out = np.full(shape, -1, np.intp)
            assert f(da.from_array(a, chunks=2), out=out, **kw) is out
            np.testing.assert_array_equal(out, NP[name](a, **kw))
        strided = np.full(12, -1, np.intp)[::2]           # a non-contiguous view
        f(a, axis=0, out=strided)
        np.testing.assert_array_equal(strided, NP[name](a, axis=0))


@pytest.mark.parametrize("split_every,exc,msg", [
    (1, ValueError, "split_every must be at least 2, got 1"),
    (0, ValueError, "at least 2"), (-3, ValueError, "at least 2"),
    (2.5, TypeError, "'float' object cannot be interpreted as an integer"),
    ("4", TypeError, "'str' object cannot be interpreted as an integer"),
    (True, TypeError, "split_every must be an integer"),
    ({0: 1}, ValueError, "at least 2"),
])
def test_bad_split_every_before_any_read(split_every, exc, msg):
    for f in ALL.values():
        with pytest.raises(exc, match=msg):
            f(tripwire((4, 4)), axis=0, split_every=split_every)


def test_split_every_forms_that_work():
    a = np.random.default_rng(3).standard_normal((9, 7))
    for se in (2, 3, np.int64(5), 1000, {0: 2}, {1: 3}, {0: 2, 1: 4}):
        for axis in (None, 0, 1, (1, 0)):
            got = ooc.argmax(da.from_array(a, chunks=2), axis=axis, split_every=se).compute()
            want = np.argmax(a if not isinstance(axis, tuple) else a.T.reshape(-1), axis=None
                             if isinstance(axis, tuple) else axis)
            np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------------------------------
# dtypes

UNSUPPORTED = [np.array([1, "a", None], dtype=object), np.array(["b", "a", "c"]),
               np.array([b"b", b"a"]), np.zeros(3, dtype=[("a", "i4"), ("b", "f8")]),
               np.zeros(3, dtype="V4"), np.array(["x", "yy"], dtype=np.dtypes.StringDType())]


@pytest.mark.parametrize("a", UNSUPPORTED, ids=lambda a: str(a.dtype))
def test_unsupported_dtypes_are_type_errors_naming_the_dtype(a):
    for f in ALL.values():
        with pytest.raises(TypeError, match=r"ooc cannot arg-reduce arrays of dtype") as e:
            f(a)
        assert str(a.dtype) in str(e.value)
        with pytest.raises(TypeError, match="cannot arg-reduce"):
            f(tripwire(a.shape, a.dtype, chunks=1))   # before any chunk is read


def test_python_objects_numpy_turns_into_object_arrays():
    with pytest.raises(TypeError, match="dtype object"):
        ooc.argmax([2**70, 1])                 # too large for int64: object dtype
    with pytest.raises(ValueError, match="inhomogeneous"):
        ooc.argmax([[1, 2], [3]])              # ragged: numpy's own error
    same_as_numpy(lambda: ooc.argmax([3, 1, 4, 1, 5]), lambda: np.argmax([3, 1, 4, 1, 5]))
    same_as_numpy(lambda: ooc.argmin((3.0, -1.0, 4.0)), lambda: np.argmin((3.0, -1.0, 4.0)))


def test_string_zarr_array_refused_before_reading(tmp_path, inputs):
    p = tmp_path / "s.zarr"
    z = zarr.create_array(p, shape=(4,), chunks=(2,), dtype=str)
    z[:] = np.array(["b", "d", "a", "c"])
    chunks = [f for f in (p / "c").rglob("*") if f.is_file()]
    assert chunks
    for f in chunks:
        f.write_bytes(b"garbage")                  # any read would be a StoreError
    inputs.add(p)
    with pytest.raises(TypeError, match="dtype"):
        ooc.argmax(p)
    inputs.check()


@pytest.mark.parametrize("dtype", ["f2", "f4", "f8", "g", "c8", "c16", ">f8", ">i4", "<u8", "?",
                                   "M8[ns]", "m8[s]", ">M8[D]", "i1", "u1"])
def test_numeric_dtypes_exactly_numpy(dtype):
    rng = np.random.default_rng(7)
    dt = np.dtype(dtype)
    if dt.kind in "mM":
        a = rng.integers(-3, 3, size=(5, 6)).astype(dt)
        a[1, 1] = a[3, 4] = np.datetime64("NaT") if dt.kind == "M" else np.timedelta64("NaT")
    elif dt.kind == "b":
        a = rng.integers(0, 2, size=(5, 6)).astype(dt)
    else:
        a = rng.integers(-3, 3, size=(5, 6)).astype(dt)
        if dt.kind in "fc":
            a[0, 2] = np.nan
            a[4, 0] = np.inf
            a[2, 5] = -np.inf
    for name in ARG:
        for axis in (None, 0, 1):
            same_as_numpy(lambda: ARG[name](da.from_array(a, chunks=(2, 4)), axis=axis),
                          lambda: NP[name](a, axis=axis))


def test_masked_arrays_refused():
    m = np.ma.array([1, 5, 2], mask=[0, 1, 0])     # numpy: 2 (skips the masked 5)
    dm = da.ma.masked_array(da.from_array(np.array([1, 5, 2])), mask=np.array([0, 1, 0], bool))
    for a in (m, dm):
        for f in ALL.values():
            with pytest.raises(TypeError, match="masked arrays"):
                f(a)
        with pytest.raises(TypeError, match="masked arrays"):
            ooc.take_at_argmax(a, np.array([1, 2, 3]))


# --------------------------------------------------------------------------------------------------
# unknown chunk sizes

def test_unknown_chunk_sizes_clear_error_then_numpy_answer():
    a = np.random.default_rng(4).standard_normal((8, 5))
    x = da.from_array(a, chunks=(3, 2))
    rows = x[x[:, 0] > -0.5]                        # unknown chunk sizes along axis 0
    keep = a[a[:, 0] > -0.5]
    for f in ALL.values():
        for axis in (None, 0, 1, (0, 1)):       # axis=1: the unknown axis is not even reduced
            with pytest.raises(ValueError, match=r"unknown \(NaN\) chunk sizes.*compute_chunk_sizes"):
                f(rows, axis=axis)
    known = rows.compute_chunk_sizes()
    for name in ARG:
        for axis in (None, 0, 1):
            same_as_numpy(lambda: ARG[name](known, axis=axis), lambda: NP[name](keep, axis=axis))


# --------------------------------------------------------------------------------------------------
# huge: more than 2**32 elements, almost all of them in missing chunks

ROWS, COLS = 2**16 + 3, 2**16             # 2**32 + 196608 uint8 elements: 4 GiB logical


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    """Chunks of 1024 x 65536 (64 MiB) filled with 7; only the last (3-row) chunk is stored:
    0 everywhere, 255 at (65537, 4242) and (65538, 0), 1 at (65538, 9)."""
    root = tmp_path_factory.mktemp("huge") / "huge.zarr"
    z = zarr.create_array(root, shape=(ROWS, COLS), chunks=(1024, COLS), dtype="u1", fill_value=7)
    last = np.zeros((3, COLS), "u1")
    last[1, 4242] = last[2, 0] = 255
    last[2, 9] = 1
    z[2**16:] = last
    return root, tree_hash(root)


def test_huge_mostly_missing_store_exact_indices(huge, capsys):
    root, before = huge
    a = S.open(root)
    assert a.size > 2**32 and len(os.listdir(root / "c")) == 1
    i = int(ooc.argmax(a).compute())
    assert i == 65537 * COLS + 4242 and i > 2**32
    assert tuple(int(c) for c in ooc.unravel_index(i, a.shape)) == (65537, 4242)
    assert tree_hash(root) == before
    # argmin: the first 0 is the first element of the stored chunk, past 2**32
    v, j = ooc.min_argmin(a)
    assert (int(v.compute()), int(j.compute())) == (0, 2**32)
    assert tree_hash(root) == before
    # along axis 0: column 0 -> 65538, column 4242 -> 65537, every other column -> 0 (fill 7)
    ax0 = ooc.argmax(a, axis=0).compute()
    want = np.zeros(COLS, np.intp)
    want[0], want[4242] = 65538, 65537
    np.testing.assert_array_equal(ax0, want)
    assert tree_hash(root) == before
    # the command line prints the same index and coordinates
    code, out, err = run_cli(capsys, "argmax", root, "--json", "--no-progress")
    rec = json.loads(out)
    assert code == 0 and rec["index"] == i and rec["coords"] == [65537, 4242] and rec["value"] == 255
    assert tree_hash(root) == before
