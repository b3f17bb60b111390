"""Writes of results into Zarr (and numpy) outputs: one task per stored object, nothing lost.

Every case is run on the synchronous, threaded, processes and distributed (a LocalCluster of two
worker processes) schedulers, several times, and compared with numpy's answer every time:
sharded and unsharded Zarr format 3 outputs, Zarr format 2, chunks that match the result's Dask
chunks and chunks that do not, final shards and chunks that are partial, and numpy outputs.  The
complete mark follows a check that every stored object is in the store: a lost write leaves the
array marked incomplete with a StoreError naming the chunk.
"""
import concurrent.futures
import contextlib
import multiprocessing
import os

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore, WrapperStore

import ooc
from ooc import cli, runtime
from ooc.errors import StoreError
from ooc.runtime import scheduler_context
from ooc.store import results

REPEAT = 5
SCHEDULERS = ["synchronous", "threads", "processes", "distributed"]


@pytest.fixture(scope="module")
def pool():
    """One pool of 2 spawned processes for the processes scheduler (not one per computation)."""
    with concurrent.futures.ProcessPoolExecutor(
            2, mp_context=multiprocessing.get_context("spawn")) as p:
        yield p


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes x 1 thread, started once for the module."""
    with scheduler_context("local-cluster", workers=2, threads_per_worker=1, progress=False,
                           set_as_default=False) as s:
        yield s


@contextlib.contextmanager
def scheduler(name, request):
    """dask's scheduler ``name`` for the block (the pool or cluster fixtures, started lazily)."""
    if name == "processes":
        cfg = {"scheduler": "processes", "pool": request.getfixturevalue("pool")}
    elif name == "distributed":
        cfg = {"scheduler": request.getfixturevalue("cluster").client}
    else:
        cfg = {"scheduler": name, "num_workers": 4}
    with dask.config.set(cfg):
        yield


def data(shape, seed):
    """float32 data whose argmax along axis 0 is 0 (zarr's fill value) over a large first
    stretch, so that whole chunks and shards of the result equal the fill value, and random
    elsewhere (with ties)."""
    x = np.random.default_rng(seed).integers(0, 50, size=shape).astype(np.float32)
    x[0, :1100] = 99.0
    return x


def check_complete(z):
    assert z.attrs["ooc"]["complete"] is True
    missing, _ = results.missing_chunks(z)
    assert missing == []


# --------------------------------------------------------------------------------------------------
# out= every kind of array, on every scheduler, several times

# name: (result shape, input Dask chunks, how the output is made)
CASES = {
    # the issue: 4096 results, shards of 1024 made of chunks of 16, Dask blocks of 256
    "v3-sharded-issue": ((4096,), (4, 256), dict(chunks=(16,), shards=(1024,))),
    # Dask blocks on the shard borders, the last shard partial: written as they are
    "v3-sharded-aligned-partial": ((4000,), (3, 1024), dict(chunks=(16,), shards=(1024,))),
    # 2-d, partial last shards along both axes, Dask blocks across shard borders
    "v3-sharded-2d": ((1200, 50), (4, 150, 25), dict(chunks=(32, 8), shards=(256, 16))),
    "v3-chunks-match": ((4000,), (4, 500), dict(chunks=(500,))),
    "v3-chunks-differ": ((4000,), (4, 500), dict(chunks=(96,))),
    "v2-chunks-differ": ((1200, 50), (4, 150, 25), dict(chunks=(100, 15), zarr_format=2)),
    "numpy": ((4000,), (4, 300), None),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("sched", SCHEDULERS)
def test_out_equals_numpy_every_time(sched, case, tmp_path, request):
    shape, chunks, how = CASES[case]
    x = data((7,) + shape, seed=len(case))
    want = np.argmax(x, axis=0)
    lazy_in = da.from_array(x, chunks=chunks)
    for run in range(REPEAT):
        if how is None:
            out = np.full(shape, -1, dtype=np.intp)
        else:
            # a directory store the worker processes reach; zarr's default configuration
            # (write_empty_chunks=False): ooc stores the chunks equal to the fill value anyway
            out = zarr.create_array(tmp_path / f"out{run}.zarr", shape=shape, dtype=np.intp,
                                    fill_value=0, **how)
        with scheduler(sched, request):
            got = ooc.argmax(lazy_in, axis=0, out=out)
        assert got is out
        np.testing.assert_array_equal(np.asarray(out[...]), want, err_msg=f"run {run}")
        if how is not None:
            reopened = zarr.open_array(tmp_path / f"out{run}.zarr", mode="r")
            np.testing.assert_array_equal(reopened[...], want, err_msg=f"run {run}")
            check_complete(reopened)


@pytest.mark.parametrize("sched", SCHEDULERS)
def test_create_result_sharded_and_0d(sched, tmp_path, request):
    """create_result's arrays, sharded or not, format 2 too; and 0-d results equal to the fill
    value (argmax 0), which zarr would not store by default."""
    x = data((5, 300, 40), seed=3)
    a = da.from_array(x, chunks=(2, 70, 15))
    kinds = [dict(shards=(128, 40)), dict(shards="auto"), dict(), dict(zarr_format=2)]
    with scheduler(sched, request):
        for run in range(2):
            for i, kw in enumerate(kinds):
                r = ooc.create_result(tmp_path / f"r{run}-{i}.zarr", a, axis=0, **kw)
                assert results.is_incomplete(r)
                ooc.argmax(a, axis=0, out=r)
                z = zarr.open_array(tmp_path / f"r{run}-{i}.zarr", mode="r")
                np.testing.assert_array_equal(z[:], np.argmax(x, axis=0))
                check_complete(z)
                if kw.get("shards") == (128, 40):
                    assert z.shards == (128, 40) and z.chunks == (64, 10)   # divide the shard
                elif kw.get("shards") == "auto":
                    assert z.shards == (350, 45) and z.chunks == (70, 15)
                else:
                    assert z.shards is None
            z0 = zarr.create_array(tmp_path / f"zero{run}.zarr", shape=(), dtype=np.intp,
                                   fill_value=0)
            ooc.argmax(np.arange(5)[::-1].copy(), out=z0)     # answer 0: the fill value
            assert int(z0[()]) == 0 and os.path.exists(tmp_path / f"zero{run}.zarr" / "c")
            check_complete(z0)


def test_shard_layout_rules():
    assert results.shard_layout((4096,), (256,), (1024,), 8) == ((256,), (1024,))
    assert results.shard_layout((4096,), (300,), (1024,), 8) == ((256,), (1024,))
    assert results.shard_layout((4096,), (4096,), (1024,), 8) == ((1024,), (1024,))
    assert results.shard_layout((10, 7), (3, 7), None, 8) == ((3, 7), None)
    assert results.shard_layout((), (), "auto", 8) == ((), None)
    big = results.AUTO_SHARD_BYTES // 8
    assert results.shard_layout((4 * big,), (big,), "auto", 8) == ((big,), None)
    assert results.shard_layout((10 * big,), (big // 4,), "auto", 8) == ((big // 4,), (big,))
    for bad in [(1024,), (0, 4), "big"]:
        with pytest.raises(ValueError, match="shards"):
            results.shard_layout((10, 7), (3, 7), bad, 8)
    with pytest.raises(ValueError, match="Zarr format 3"):
        ooc.create_result(MemoryStore(), da.zeros((4, 10), chunks=2), axis=0, shards=(4,),
                          zarr_format=2)


# --------------------------------------------------------------------------------------------------
# a lost write leaves the mark

class DropWrites(WrapperStore):
    """A store that silently drops the writes of the keys in ``drop``."""

    def __init__(self, store, drop):
        super().__init__(store)
        self.drop = set(drop)

    async def set(self, key, value):
        if key not in self.drop:
            await self._store.set(key, value)


@pytest.mark.parametrize("kw, dropped, named", [
    (dict(), "c/3", r"1 of the 8 chunks .* c/3;"),
    (dict(shards=(256,)), "c/1", r"1 of the 4 shards .* not written completely: c/1;"),
    (dict(zarr_format=2), "5", r"1 of the 8 chunks .* 5;"),
])
def test_lost_write_leaves_mark(kw, dropped, named):
    x = data((3, 1000), seed=5)
    a = da.from_array(x, chunks=(3, 128))
    r = ooc.create_result(DropWrites(MemoryStore(), {dropped}), a, axis=0, **kw)
    with dask.config.set(scheduler="threads"):
        with pytest.raises(StoreError, match=named):
            ooc.argmax(a, axis=0, out=r)
    assert results.is_incomplete(r)
    r.store_path.store.drop.clear()          # the store works again: rerunning completes it
    ooc.argmax(a, axis=0, out=r)
    np.testing.assert_array_equal(r[:], np.argmax(x, axis=0))
    check_complete(r)


def test_missing_inner_chunk_of_a_shard_is_named(tmp_path):
    x = np.random.default_rng(6).standard_normal((3, 900))
    r = ooc.create_result(tmp_path / "r.zarr", x, axis=0, shards=(512,))
    assert r.chunks == (512,)       # numpy input: one chunk of 900 -> the largest that fits
    r = ooc.create_result(tmp_path / "r.zarr", da.from_array(x, chunks=(3, 64)), axis=0,
                          shards=(512,), overwrite=True)
    ooc.argmax(x, axis=0, out=r)
    check_complete(r)
    np.testing.assert_array_equal(r[:], np.argmax(x, axis=0))
    # rewrite shard c/1 with one inner chunk equal to the fill value, with zarr's default
    # configuration: zarr leaves that inner chunk out of the shard
    u = zarr.open_array(tmp_path / "r.zarr", mode="r+")
    assert not u.config.write_empty_chunks
    u[512 + 2 * 64:512 + 3 * 64] = 0
    results.mark_incomplete(r)
    with pytest.raises(StoreError, match=r"1 of the 2 shards .*: c/1 \(inner chunk 2\);"):
        results.mark_complete(r)
    assert results.is_incomplete(zarr.open_array(tmp_path / "r.zarr", mode="r"))
    # the last shard is partial: of its 8 inner chunks, 7 lie within the array; the 8th is
    # not stored and not needed
    assert results.missing_chunks(r) == (["c/1 (inner chunk 2)"], 2)


def test_cli_chunk_deleted_after_the_write(tmp_path, capsys, monkeypatch):
    x = data((4, 3000), seed=7)
    src = tmp_path / "in.zarr"
    zarr.create_array(src, shape=x.shape, chunks=(2, 250), dtype="f4")[:] = x
    out = tmp_path / "out.zarr"
    real = runtime.store

    def store_then_lose(*args, **kwargs):
        real(*args, **kwargs)
        os.remove(out / "c" / "1")

    argv = ["argmax", src, "--axis", "0", "--out", out, "--shards", "1024", "--no-progress",
            "--scheduler", "threads"]
    with monkeypatch.context() as m:
        m.setattr(runtime, "store", store_then_lose)
        code, _, err = run_cli(capsys, *argv)
    assert code == 1 and "c/1" in err and "not written" in err, err
    assert results.is_incomplete(zarr.open_array(out, mode="r"))
    code, _, err = run_cli(capsys, *argv)       # the same command completes it
    assert code == 0, err
    z = zarr.open_array(out, mode="r")
    np.testing.assert_array_equal(z[:], np.argmax(x, axis=0))
    check_complete(z)


# --------------------------------------------------------------------------------------------------
# the command line: --shards

def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def src(tmp_path):
    x = data((4, 3000, 6), seed=8)
    p = tmp_path / "in.zarr"
    zarr.create_array(p, shape=x.shape, chunks=(2, 250, 6), dtype="f4")[:] = x
    return p, x


@pytest.mark.parametrize("sched", ["threads", "processes", "distributed"])
def test_cli_shards(sched, src, tmp_path, capsys, request):
    path, x = src
    how = (["--scheduler", request.getfixturevalue("cluster").client.scheduler.address]
           if sched == "distributed" else ["--scheduler", sched, "--workers", "2"])
    out = tmp_path / "o.zarr"
    code, _, err = run_cli(capsys, "argmax", path, "--axis", "0", "--out", out, "--out-path", "a",
                           "--shards", "1024,4", "--no-progress", *how)
    assert code == 0, err
    z = zarr.open_array(out, path="a", mode="r")
    assert z.shards == (1024, 4) and z.chunks == (128, 4)   # 250 -> 128, 6 -> 4: divide the shard
    np.testing.assert_array_equal(z[:], np.argmax(x, axis=0))
    check_complete(z)
    if sched == "processes":    # each command starts its own pool of processes: one is enough
        return
    code, _, err = run_cli(capsys, "max-argmax", path, "--axis", "2", "--out", out, "--out-path",
                           "p", "--shards", "2,1000", "--no-progress", *how)
    assert code == 0, err
    for name, want in (("indices", np.argmax(x, axis=2)), ("values", np.max(x, axis=2))):
        z = zarr.open_array(out, path=f"p/{name}", mode="r")
        assert z.shards == (2, 1000) and z.chunks == (2, 250)
        np.testing.assert_array_equal(z[:], want)
        check_complete(z)


def test_cli_shards_auto_zip_and_usage(src, tmp_path, capsys):
    path, x = src
    out = tmp_path / "o.zip"
    code, _, err = run_cli(capsys, "nanargmin", path, "--axis", "1", "--out", out, "--shards",
                           "auto", "--scheduler", "threads", "--no-progress")
    assert code == 0, err
    store = zarr.storage.ZipStore(out, mode="r")
    z = zarr.open_array(store, mode="r")
    assert z.shards == (4, 6) and z.chunks == (2, 6)
    np.testing.assert_array_equal(z[:], np.nanargmin(x, axis=1))
    check_complete(z)
    store.close()
    for bad in ("0", "x", "4,-1"):
        code, _, err = run_cli(capsys, "argmax", path, "--axis", "0", "--out",
                               tmp_path / "n.zarr", "--shards", bad)
        assert code == 2 and "invalid shards" in err
    code, _, err = run_cli(capsys, "argmax", path, "--axis", "0", "--out", tmp_path / "n.zarr",
                           "--shards", "1024", "--no-progress")
    assert code == 2 and "one size per axis" in err and "(3000, 6)" in err
    assert not (tmp_path / "n.zarr").exists()
    # the same command with other shards does not resume an incomplete result
    r = ooc.create_result(tmp_path / "i.zarr", ooc.open(path), axis=0, shards=(1000, 6))
    code, _, err = run_cli(capsys, "argmax", path, "--axis", "0", "--out", tmp_path / "i.zarr",
                           "--shards", "1000,6", "--no-progress")
    assert code == 0, err
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "i.zarr")[:], np.argmax(x, axis=0))
    results.mark_incomplete(zarr.open_array(tmp_path / "i.zarr", mode="r+"))
    code, _, err = run_cli(capsys, "argmax", path, "--axis", "0", "--out", tmp_path / "i.zarr",
                           "--shards", "500,6", "--no-progress")
    assert code == 1 and "different computation" in err


def test_shards_without_out_is_a_usage_error(tmp_path, capsys):
    from ooc import cli
    p = tmp_path / "in.zarr"
    zarr.create_array(p, shape=(8,), chunks=(4,), dtype="f4")[:] = np.arange(8)
    assert cli.main(["argmax", str(p), "--shards", "4"]) == 2
    assert "--shards needs --out" in capsys.readouterr().err
