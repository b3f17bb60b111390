"""ooc.store: opening Zarr stores read-only, the direct chunk decoder, result arrays."""
import os
import pathlib
import pickle

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
import zarr.codecs as zc

from ooc import store as S
from ooc.store.locations import open_store
from storehash import tree_hash


def data(shape, dtype="f4", seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 100
    return x.astype(dtype)


@pytest.fixture
def v3store(tmp_path):
    """Group with a 3-d float array (edge chunks), an int array with a missing chunk, consolidated."""
    root = tmp_path / "in.zarr"
    g = zarr.open_group(root, mode="w")
    x = data((7, 10, 13))
    a = g.create_array("grp/x", shape=x.shape, chunks=(3, 4, 5), dtype="f4",
                       compressors=zc.ZstdCodec(level=1))
    a[:] = x
    b = g.create_array("n", shape=(9, 8), chunks=(4, 4), dtype="i8", fill_value=-7)
    y = np.arange(72).reshape(9, 8)
    b[:4] = y[:4]          # chunks (2, *) never written -> fill value
    b[4:8] = y[4:8]
    with pytest.warns(UserWarning):
        zarr.consolidate_metadata(root)
    return root, x, np.where(np.arange(9)[:, None] >= 8, -7, y)


def test_open_group_path_matches_numpy(v3store):
    root, x, y = v3store
    a = S.open(root, path="grp/x")
    assert a.chunks[0] == (3, 3, 1) and a.dtype == np.float32
    np.testing.assert_array_equal(a.compute(), x)
    np.testing.assert_array_equal(a[2:6, 3:9, 1:12].compute(), x[2:6, 3:9, 1:12])
    n = S.open(str(root), path="n")
    np.testing.assert_array_equal(n.compute(), y)
    assert S.source_of(a) == (str(root.resolve()), "grp/x")


def test_fast_path_used_and_equal_to_zarr(v3store):
    root, x, _ = v3store
    z = zarr.open_array(root / "grp" / "x", mode="r")
    src = S.ZarrChunkSource(z)
    assert src.fast_path
    np.testing.assert_array_equal(src[0:3, 4:8, 10:13], z[0:3, 4:8, 10:13])
    np.testing.assert_array_equal(src[1:7, 0:10, 2:13], x[1:7, :, 2:])   # spans chunks
    np.testing.assert_array_equal(src[0:0, 0:4, 0:5], x[0:0, 0:4, 0:5])
    np.testing.assert_array_equal(src[np.s_[6, 1:3, ::2]], x[6, 1:3, ::2])  # zarr fallback
    slow = S.open(root, path="grp/x", fast=False)
    np.testing.assert_array_equal(slow.compute(), x)


def test_group_without_path_errors_name_store_and_arrays(v3store):
    root, _, _ = v3store
    with pytest.raises(S.StoreError, match=r"in\.zarr.*grp/x, n"):
        S.open(root)
    with pytest.raises(S.StoreError, match=r"no array 'nope'.*grp/x"):
        S.open(root, path="nope")
    with pytest.raises(S.StoreError, match="no such file"):
        S.open(root.parent / "missing.zarr")
    (root.parent / "plain.txt").write_text("hello")
    with pytest.raises(S.StoreError, match="not a Zarr store"):
        S.open(root.parent / "plain.txt")
    # a group holding exactly one array opens it without path
    a = S.open(root, path="grp")
    assert a.shape == (7, 10, 13)


def test_inputs_never_modified(v3store):
    root, x, _ = v3store
    before = tree_hash(root)
    a = S.open(root, path="grp/x")
    assert a.dask  # graph built
    (a.argmax(axis=1).compute(), a.max().compute())
    S.info(root, path="n")
    z = zarr.open_array(open_store(root)[0], path="grp/x", mode="r")
    assert z.read_only
    with pytest.raises(Exception):
        z[0, 0, 0] = 1
    assert tree_hash(root) == before


@pytest.mark.parametrize("fmt", [2, 3])
def test_formats_and_consolidated(tmp_path, fmt):
    root = tmp_path / f"v{fmt}.zarr"
    g = zarr.open_group(root, mode="w", zarr_format=fmt)
    x = data((50, 40), "f8", seed=fmt)
    g.create_array("v", shape=x.shape, chunks=(16, 16), dtype="f8")[:] = x
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(root)
    a = S.open(root, path="v")
    assert a.chunks == ((16, 16, 16, 2), (16, 16, 8))
    np.testing.assert_array_equal(a.compute(), x)
    assert S.open(f"file://{root}", path="v").shape == (50, 40)


def test_v2_filters_fortran_bigendian(tmp_path):
    import numcodecs
    x = data((33, 21), ">f4", seed=3)
    p = tmp_path / "f.zarr"
    z = zarr.create_array(p, shape=x.shape, chunks=(10, 8), dtype=">f4", zarr_format=2, order="F",
                          filters=[numcodecs.Delta(dtype=">f4")], compressors=numcodecs.Zlib(1))
    z[:] = x
    a = S.open(p)
    assert S.ZarrChunkSource(z).fast_path
    np.testing.assert_array_equal(a.compute(), z[:])   # float Delta is lossy: compare with zarr
    np.testing.assert_allclose(a.compute(), x, rtol=1e-4)
    z8 = zarr.create_array(tmp_path / "u8.zarr", shape=(30,), chunks=(7,), dtype="u1", zarr_format=2,
                           compressors=None)
    z8[:] = np.arange(30)
    np.testing.assert_array_equal(S.open(tmp_path / "u8.zarr").compute(), np.arange(30))


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("dtype", [">f8", "<f8", ">i2", "<u4", "|u1", "=f4"])
def test_byte_orders_same_as_zarr(tmp_path, fmt, dtype):
    x = data((9, 7), dtype, seed=9)
    z = zarr.create_array(tmp_path / "b.zarr", shape=x.shape, chunks=(4, 3), dtype=dtype,
                          zarr_format=fmt)
    z[:] = x
    for arr in (z, zarr.open_array(tmp_path / "b.zarr", mode="r")):   # as created, as reopened
        src = S.ZarrChunkSource(arr)
        assert src.fast_path
        for sl in (np.s_[0:4, 0:3], np.s_[8:9, 6:7], np.s_[1:9, 2:7]):
            got, want = src[sl], arr[sl]
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(got, x[sl])
        np.testing.assert_array_equal(S.as_dask_array(arr).argmax().compute(), x.argmax())


@pytest.mark.parametrize("codecs", [
    dict(compressors=zc.BloscCodec(cname="lz4", shuffle="bitshuffle")),
    dict(compressors=zc.GzipCodec(level=1)),
    dict(compressors=None),
    dict(serializer=zc.BytesCodec(endian="big"), compressors=zc.ZstdCodec()),
    dict(compressors=[zc.ZstdCodec(), zc.Crc32cCodec()]),       # -> zarr fallback
    dict(filters=[zc.TransposeCodec(order=(1, 0))]),             # -> zarr fallback
    dict(shards=(20, 20)),                                       # -> zarr fallback, shard chunks
])
def test_v3_codecs(tmp_path, codecs):
    x = data((45, 38), "i4", seed=5)
    p = tmp_path / "c.zarr"
    zarr.create_array(p, shape=x.shape, chunks=(10, 10), dtype="i4", **codecs)[:] = x
    a = S.open(p)
    if "shards" in codecs:
        assert a.chunksize == (20, 20)
    np.testing.assert_array_equal(a.compute(), x)
    np.testing.assert_array_equal(a.argmax(axis=0).compute(), x.argmax(axis=0))


def test_zip_store(tmp_path):
    x = data((20, 30), "f4", seed=7)
    zp = tmp_path / "s.zip"
    with zarr.storage.ZipStore(zp, mode="w") as st:
        g = zarr.open_group(st, mode="w")
        g.create_array("a/b", shape=x.shape, chunks=(8, 8), dtype="f4")[:] = x
    before = tree_hash(zp)
    a = S.open(zp, path="a/b")
    np.testing.assert_array_equal(a.compute(), x)
    assert int(a.argmax().compute()) == x.argmax()
    assert tree_hash(zp) == before


def test_memory_url_and_store_objects():
    x = np.arange(60, dtype="u2").reshape(6, 10)
    z = zarr.create_array("memory://ooc-test-mem", shape=x.shape, chunks=(4, 4), dtype="u2")
    z[:] = x
    np.testing.assert_array_equal(S.open("memory://ooc-test-mem").compute(), x)
    np.testing.assert_array_equal(S.as_dask_array(z).compute(), x)
    ms = zarr.storage.MemoryStore()
    zarr.create_array(ms, shape=(5,), chunks=(2,), dtype="i1")[:] = [1, 5, 2, 5, 0]
    assert int(S.as_dask_array(ms).argmax().compute()) == 1


def test_chunks_multiples(v3store):
    root, x, _ = v3store
    a = S.open(root, path="grp/x", chunks=(6, 8, -1))
    assert a.chunks == ((6, 1), (8, 2), (13,))
    np.testing.assert_array_equal(a.compute(), x)
    assert S.open(root, path="grp/x", chunks=60).chunksize == (7, 10, 13)
    with pytest.raises(ValueError, match="multiple"):
        S.open(root, path="grp/x", chunks=(4, 4, 5))
    auto = S.open(root, path="grp/x", chunks="auto")
    assert all(c % n == 0 or c == d for c, n, d in zip(auto.chunksize, (3, 4, 5), (7, 10, 13)))


def test_as_dask_array_inputs(v3store):
    root, x, _ = v3store
    assert S.as_dask_array(str(root / "grp" / "x")).shape == x.shape
    assert S.as_dask_array(pathlib.Path(root / "grp" / "x")).shape == x.shape
    d = da.ones((4, 4), chunks=2)
    assert S.as_dask_array(d) is d
    assert S.as_dask_array([[1, 2], [3, 4]]).shape == (2, 2)
    with pytest.raises(TypeError):
        S.as_dask_array(object())


def test_pickle_and_processes(v3store):
    root, x, _ = v3store
    a = S.open(root, path="grp/x")
    src = S.ZarrChunkSource(zarr.open_array(root / "grp" / "x", mode="r"))
    src2 = pickle.loads(pickle.dumps(src))
    np.testing.assert_array_equal(src2[0:3, 0:4, 0:5], x[0:3, 0:4, 0:5])
    with dask.config.set(scheduler="processes", num_workers=2):
        assert int(a.argmax().compute()) == x.argmax()


def test_create_result_layout_and_attrs(v3store, tmp_path):
    root, x, _ = v3store
    a = S.open(root, path="grp/x")
    r = S.create_result(tmp_path / "out.zarr", a, function="nanargmax", axis=1)
    assert r.shape == (7, 13) and r.chunks == (3, 5) and r.dtype == np.intp
    meta = r.attrs["ooc"]
    assert meta["function"] == "nanargmax" and meta["axis"] == 1
    assert meta["source_store"] == str(root.resolve()) and meta["source_path"] == "grp/x"
    assert meta["version"]
    k = S.create_result(tmp_path / "out2.zarr", a, axis=-1, keepdims=True, path="res/idx")
    assert k.shape == (7, 10, 1) and k.chunks == (3, 4, 1)
    assert S.create_result(tmp_path / "out3.zarr", a).shape == ()
    assert S.create_result(tmp_path / "out4.zarr", a, keepdims=True).shape == (1, 1, 1)
    with pytest.raises(S.StoreError, match="already exists"):
        S.create_result(tmp_path / "out.zarr", a, axis=1)
    S.create_result(tmp_path / "out.zarr", a, axis=1, overwrite=True)
    # storing a lazy reduction writes chunk by chunk
    da.store(a.argmax(axis=1), r, lock=False)
    np.testing.assert_array_equal(r[:], x.argmax(axis=1))


def test_create_result_refuses_input_store(v3store):
    root, _, _ = v3store
    a = S.open(root, path="grp/x")
    before = tree_hash(root)
    for target in (root, str(root) + "/", root / "grp" / "res", f"file://{root}"):
        with pytest.raises(S.StoreError, match="refusing"):
            S.create_result(target, a, axis=0)
    assert tree_hash(root) == before
    assert S.same_store(root / "grp", root)
    assert not S.same_store(root, root.parent / "in.zarr2")


def test_info(v3store):
    root, _, _ = v3store
    d = S.info(root, path="n")
    assert d["shape"] == [9, 8] and d["chunks"] == [4, 4] and d["dtype"] == "int64"
    assert d["nchunks"] == 6 and d["nchunks_stored"] == 4
    assert d["logical_bytes"] == 9 * 8 * 8 and 0 < d["stored_bytes"]
    assert d["arrays"] == ["grp/x", "n"] and d["zarr_format"] == 3
    assert any(c.startswith("zstd(") for c in d["codecs"])


@pytest.mark.skipif(not hasattr(__import__("ooc"), "argmax"), reason="ooc core not importable yet")
def test_ooc_reductions_accept_paths_and_write_zarr(v3store, tmp_path):
    import ooc
    root, x, _ = v3store
    before = tree_hash(root)
    a = S.open(root, path="grp/x")
    assert int(ooc.argmax(a).compute()) == x.argmax()
    assert int(ooc.nanargmin(str(root / "grp" / "x")).compute()) == np.nanargmin(x)
    z = zarr.open_array(root / "grp" / "x", mode="r")
    np.testing.assert_array_equal(ooc.argmin(z, axis=2).compute(), x.argmin(axis=2))
    for axis in (0, 1, 2):
        out = S.create_result(tmp_path / f"o{axis}.zarr", a, axis=axis)
        res = ooc.argmax(a, axis=axis, out=out)
        assert res is out
        np.testing.assert_array_equal(zarr.open_array(tmp_path / f"o{axis}.zarr", mode="r")[:],
                                      x.argmax(axis=axis))
    assert tree_hash(root) == before
    assert os.path.exists(tmp_path / "o0.zarr" / "zarr.json")


@pytest.mark.parametrize("name", ["argmax_store", "large_result_to_zarr", "global_max_coords"])
def test_examples_run(name, capsys):
    import runpy
    path = pathlib.Path(__file__).parent.parent / "examples" / f"{name}.py"
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out
