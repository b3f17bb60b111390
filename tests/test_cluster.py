"""ooc on dask.distributed: real LocalClusters of worker processes with nannies.

* exact answers on a cluster, against numpy and the threaded scheduler;
* memory-limited workers (2 x 512 MiB) reading a 2 GiB store, more than the cluster's memory: no
  worker paused, restarted, lost or spilling (worker logs, nanny logs, scheduler events, spill
  counters), and only small (value, index) pairs travel between workers;
* a worker process killed with SIGKILL while it runs tasks: the result is still exact;
* a chunk that cannot be read (truncated, garbage, no permission): the error names the store and
  the chunk key, and ``ooc ... --out`` leaves no output array behind;
* the command line: ``--scheduler tcp://...``, ``--workers N --memory-limit SIZE``, progress, TLS.

The 2 GiB store costs well under a second to make: a few distinct chunks are encoded by zarr (zstd,
very compressible) and every other chunk file is a copy of one of them, so every chunk is still
read from disk and decoded by the workers.  The expected answers come from those few distinct
chunks (see :class:`TiledStore`), an oracle itself checked against numpy on a small store.
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import dask
import numpy as np
import pytest
import zarr

import ooc
from ooc import cli
from ooc.errors import ClusterError
from ooc.runtime import check_reachable, cluster_report, scheduler_context
from ooc.store import StoreError, create_result
from ooc.store import open as open_store

distributed = pytest.importorskip("distributed")

MiB = 2**20
GiB = 2**30
WORKER_LIMIT = 512 * MiB
BIG_SHAPE = (16384, 32768)           # float32: 2 GiB
BIG_CHUNKS = (1024, 2048)            # 8 MiB per chunk, 256 chunks


# ----------------------------------------------------------------------------------------------
# stores

def _pattern(v, chunks):
    """A smooth, very compressible chunk with values in [0, 1); its maximum occurs many times."""
    r = np.arange(chunks[0])[:, None]
    c = np.arange(chunks[1])[None, :]
    return ((((r // 4) * (31 + 2 * v) + c // 4) % 997) / 997).astype(np.float32)


@dataclass
class TiledStore:
    """A float32 store whose chunks are copies of a few ``variants``; ``grid[i, j]`` names the
    variant stored at chunk (i, j).  The expected answers follow from the variants alone."""

    path: str
    shape: tuple
    chunks: tuple
    variants: list
    grid: np.ndarray

    @property
    def nbytes(self):
        return int(np.prod(self.shape)) * 4

    def _best(self, block, op, axis):
        f = np.argmax if op == "max" else np.argmin
        i = f(block, axis=axis)
        v = block.max(axis=axis) if op == "max" else block.min(axis=axis)
        return v, i

    def expected(self, op, axis):
        """(values, indices) numpy gives for ``max``/``min`` along axis None, 0 or 1."""
        R, C = self.chunks
        better = np.greater if op == "max" else np.less
        if axis is None:
            best = None
            for (i, j), k in np.ndenumerate(self.grid):
                b = self.variants[k]
                loc = np.unravel_index((np.argmax if op == "max" else np.argmin)(b), b.shape)
                val = b[loc]
                flat = (i * R + loc[0]) * self.shape[1] + j * C + loc[1]
                if best is None or better(val, best[0]) or (val == best[0] and flat < best[1]):
                    best = (val, flat)
            return np.float32(best[0]), int(best[1])
        n = self.shape[1 - axis]
        vals = np.empty(n, np.float32)
        idx = np.empty(n, np.intp)
        per = {k: self._best(b, op, axis) for k, b in enumerate(self.variants)}
        outer = self.grid.shape[1 - axis]
        for o in range(outer):
            sl = slice(o * (C if axis == 0 else R), (o + 1) * (C if axis == 0 else R))
            cur_v = cur_i = None
            for inner in range(self.grid.shape[axis]):       # along the reduced axis, in order
                k = self.grid[inner, o] if axis == 0 else self.grid[o, inner]
                v, i = per[k]
                i = i + inner * (R if axis == 0 else C)
                if cur_v is None:
                    cur_v, cur_i = v.copy(), i.copy()
                else:
                    upd = better(v, cur_v)                   # strict: first occurrence stays
                    cur_v[upd], cur_i[upd] = v[upd], i[upd]
            vals[sl], idx[sl] = cur_v, cur_i
        return vals, idx

    def as_numpy(self):
        """The whole array (small stores only)."""
        R, C = self.chunks
        out = np.empty(self.shape, np.float32)
        for (i, j), k in np.ndenumerate(self.grid):
            out[i * R:(i + 1) * R, j * C:(j + 1) * C] = self.variants[k]
        return out


def make_tiled_store(path, shape=BIG_SHAPE, chunks=BIG_CHUNKS):
    """Create the store: 4 background variants and 3 with planted extrema, copied chunk by chunk."""
    R, C = chunks
    gi, gj = shape[0] // R, shape[1] // C
    variants = [_pattern(v, chunks) for v in range(4)]
    p4 = variants[0].copy()
    p4[5, 7] = p4[5, 9] = 2.0          # the maximum twice in one chunk
    p4[R - 1, 3] = -1.0
    p5 = variants[1].copy()
    p5[0, C - 1] = 2.0                 # same maximum in a chunk further right, but an earlier row
    p6 = variants[2].copy()
    p6[R // 2, 0] = p6[R - 1, C - 1] = -1.0
    variants += [p4, p5, p6]
    grid = (np.arange(gi)[:, None] * 3 + np.arange(gj)[None, :]) % 4
    grid[gi // 4, gj // 3] = 4
    grid[gi // 4, gj - 1] = 5
    grid[gi - 1, gj // 3] = 6
    grid[0, gj // 2] = 6
    z = zarr.create_array(path, shape=shape, chunks=chunks, dtype="f4",
                          compressors=zarr.codecs.ZstdCodec(level=1), fill_value=0,
                          config={"write_empty_chunks": True})
    first = {}
    for (i, j), k in np.ndenumerate(grid):       # encode each variant once, through zarr
        if k not in first:
            z[i * R:(i + 1) * R, j * C:(j + 1) * C] = variants[k]
            first[k] = os.path.join(path, "c", str(i), str(j))
    for (i, j), k in np.ndenumerate(grid):       # every other chunk: a copy of the encoded bytes
        dst = os.path.join(path, "c", str(i), str(j))
        if not os.path.exists(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(first[k], dst)
    return TiledStore(str(path), tuple(shape), tuple(chunks), variants, grid)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    return make_tiled_store(str(tmp_path_factory.mktemp("big") / "big.zarr"))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small float32 store with NaN, ties across chunk borders and edge chunks."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 40, size=(29, 70, 45)).astype(np.float32)
    x[3, 10:12, 4] = 99.0                  # ties across the axis-1 chunk border (chunks of 11)
    x[20, 33, 44] = 99.0
    x[5, 2, 2] = x[12, 60, 30] = np.nan    # NaN win argmax/argmin, are skipped by nan-variants
    x[0, 0, 0] = -5.0
    x[28, 69, 44] = -5.0
    path = str(tmp_path_factory.mktemp("small") / "small.zarr")
    z = zarr.create_array(path, shape=x.shape, chunks=(8, 11, 20), dtype="f4",
                          compressors=zarr.codecs.ZstdCodec(level=1))
    z[:] = x
    return path, x


@pytest.fixture(scope="module")
def session():
    """The shared cluster: 2 worker processes (with nannies) x 1 thread, 512 MiB each."""
    with scheduler_context(workers=2, threads_per_worker=1, memory_limit="512MiB",
                           progress=False) as s:
        yield s


# ----------------------------------------------------------------------------------------------
# reference answers

def np_ref(func, x, axis):
    """numpy's answer for func over ``axis`` (int, None or tuple: flat index over those axes)."""
    base = {"argmax": np.argmax, "argmin": np.argmin, "nanargmax": np.nanargmax,
            "nanargmin": np.nanargmin}[func]
    if isinstance(axis, tuple):
        rest = [d for d in range(x.ndim) if d not in axis]
        moved = np.transpose(x, rest + list(axis))
        moved = moved.reshape(moved.shape[:len(rest)] + (-1,))
        return base(moved, axis=-1)
    return base(x, axis=axis)


def test_oracle_matches_numpy(tmp_path):
    ts = make_tiled_store(str(tmp_path / "t.zarr"), shape=(64, 96), chunks=(8, 12))
    x = ts.as_numpy()
    assert np.array_equal(zarr.open_array(ts.path, mode="r")[:], x)
    for op, f in (("max", np.argmax), ("min", np.argmin)):
        v, i = ts.expected(op, None)
        assert i == f(x) and v == x.reshape(-1)[f(x)]
        for axis in (0, 1):
            v, i = ts.expected(op, axis)
            assert np.array_equal(i, f(x, axis=axis))
            assert np.array_equal(v, np.take_along_axis(x, np.expand_dims(f(x, axis=axis), axis),
                                                        axis).squeeze(axis))


# ----------------------------------------------------------------------------------------------
# exact answers on the cluster

def test_cluster_is_worker_processes_with_nannies(session):
    cluster, client = session.cluster, session.client
    assert isinstance(cluster, distributed.LocalCluster)
    assert all(isinstance(w, distributed.Nanny) for w in cluster.workers.values())
    pids = client.run(os.getpid)
    assert len(pids) == 2 and os.getpid() not in pids.values()
    limits = [w["memory_limit"] for w in client.scheduler_info()["workers"].values()]
    assert limits == [WORKER_LIMIT, WORKER_LIMIT]


def test_same_answers_as_numpy_and_threads(session, small):
    path, x = small
    a = open_store(path)
    cases = [(func, axis) for func in ("argmax", "argmin", "nanargmax", "nanargmin")
             for axis in (None, 0, 1, 2, (0, 2))]
    lazies = [getattr(ooc, func)(a, axis=axis) for func, axis in cases]
    lazies += [*ooc.max_argmax(a, axis=1), *ooc.min_argmin(a, axis=1, skipna=True),
               ooc.take_at_argmax(x * 2, a, axis=0, skipna=True)]
    got = session.compute(*lazies)                      # one graph, on the cluster
    with dask.config.set(scheduler="threads", num_workers=2):
        threaded = dask.compute(*lazies)
    for (func, axis), g, t in zip(cases, got, threaded):
        want = np_ref(func, x, axis)
        assert np.array_equal(g, want), (func, axis)
        assert np.array_equal(t, want), (func, axis)
    v, i, nv, ni, taken = got[len(cases):]
    ref = np.argmax(x, axis=1)
    assert np.array_equal(i, ref)
    assert np.array_equal(v, np.take_along_axis(x, ref[:, None, :], 1)[:, 0, :], equal_nan=True)
    ref = np.nanargmin(x, axis=1)
    assert np.array_equal(ni, ref) and np.array_equal(nv, np.nanmin(x, axis=1))
    assert np.array_equal(taken, np.take_along_axis(x * 2, np.nanargmax(x, axis=0)[None], 0)[0])
    for (func, axis), t in zip(cases, threaded[:len(cases)]):
        assert np.array_equal(t, np_ref(func, x, axis)), (func, axis)


def _forget_transfers(dask_worker):
    dask_worker.transfer_outgoing_log.clear()


def _transfers(dask_worker):
    """(largest value sent to another worker, keys of the input layer that were sent)."""
    largest, chunk_keys = 0, []
    for rec in dask_worker.transfer_outgoing_log:
        for key, n in rec["keys"].items():
            largest = max(largest, n)
            name = key[0] if isinstance(key, tuple) else key
            if str(name).startswith("ooc-zarr"):
                chunk_keys.append(key)
    return largest, chunk_keys


def test_memory_limited_workers_read_a_store_larger_than_the_cluster(session, big):
    client = session.client
    limits = [w["memory_limit"] for w in client.scheduler_info()["workers"].values()]
    assert big.nbytes >= 2 * GiB > sum(limits)
    workers_before = client.run(os.getpid)          # address -> pid
    client.run(_forget_transfers)
    a = open_store(big.path)
    assert a.nbytes == big.nbytes and a.numblocks == (16, 16)

    t = time.perf_counter()
    (i_none,) = session.compute(ooc.argmax(a))
    (i_0,) = session.compute(ooc.argmin(a, axis=0))
    v_1, i_1 = session.compute(*ooc.max_argmax(a, axis=1))
    seconds = time.perf_counter() - t

    assert int(i_none) == big.expected("max", None)[1]
    assert np.array_equal(i_0, big.expected("min", 0)[1])
    want_v, want_i = big.expected("max", 1)
    assert np.array_equal(i_1, want_i) and np.array_equal(v_1, want_v)

    # the same workers, never paused, restarted, lost or spilling
    assert client.run(os.getpid) == workers_before
    events = client.get_events()
    assert [m for _, m in events.get("all", ()) if m.get("action") == "remove-worker"] == []
    for addr in workers_before:       # (init -> running at the start is the only change)
        assert [m for _, m in events.get(addr, ()) if m.get("action") == "worker-status-change"
                and m.get("status") != "running"] == []
    for nanny in (False, True):
        for addr, lines in client.get_worker_logs(nanny=nanny).items():
            text = "\n".join(line for _, line in lines).lower()
            for word in ("pausing worker", "spilling", "unmanaged memory", "restarting worker",
                         "memory budget"):
                assert word not in text, (addr, word)
    report = cluster_report(client)
    assert report["removed"] == [] and report["paused"] == [] and report["memory_log"] == []
    for addr, w in report["workers"].items():
        assert w["status"] == "running"
        assert w["memory_limit"] == WORKER_LIMIT
        assert w["spilled_bytes"] == 0 and w["spill_count"] == 0 and w["bytes_on_disk"] == 0, w
        # below the spill threshold (70%): the pause (80%) and restart (95%) ones are far away
        assert w["peak_rss"] < 0.7 * WORKER_LIMIT, (addr, w)
    # only small (value, index) pairs went from worker to worker, never a chunk (8 MiB)
    for addr, (largest, chunk_keys) in client.run(_transfers).items():
        assert chunk_keys == [] and largest < 512 * 1024, (addr, largest, chunk_keys)
    peaks = ", ".join(f"{w['peak_rss'] / MiB:.0f} MiB" for w in report["workers"].values())
    print(f"\n3 passes over {big.nbytes / GiB:.0f} GiB in {seconds:.1f} s; "
          f"worker peak RSS {peaks} of {WORKER_LIMIT / MiB:.0f} MiB each")


# ----------------------------------------------------------------------------------------------
# a lost worker

def _executed(dask_worker):
    return dask_worker.state.executed_count


def test_lost_worker_mid_computation(big):
    a = open_store(big.path)
    with scheduler_context(workers=2, threads_per_worker=1, memory_limit="512MiB",
                           progress=False) as s:
        client = s.client
        pids = client.run(os.getpid)
        victim = sorted(pids)[0]
        future = client.compute(ooc.argmax(a, axis=0))
        deadline = time.monotonic() + 60
        while client.run(_executed, workers=[victim])[victim] < 24:     # ~10% of the chunks
            assert time.monotonic() < deadline and not future.done()
            time.sleep(0.02)
        running = client.processing()[victim]
        done_before = future.done()
        os.kill(pids[victim], signal.SIGKILL)
        result = future.result(timeout=120)
        assert running and not done_before
        assert np.array_equal(result, big.expected("max", 0)[1])
        removed = [m for _, m in client.get_events("all") if m.get("action") == "remove-worker"]
        assert [m["worker"] for m in removed] == [victim]
        assert removed[0]["processing-tasks"], removed        # it died with tasks in hand
        client.wait_for_workers(2, timeout=30)                # the nanny started a new one
        assert victim not in client.run(os.getpid)


# ----------------------------------------------------------------------------------------------
# chunks that cannot be read

def _copy_store(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_unreadable_chunk_names_store_and_key(session, small, tmp_path):
    path, _ = small
    for damage in ("truncated", "garbage"):
        bad = _copy_store(path, str(tmp_path / f"{damage}.zarr"))
        key = os.path.join(bad, "c", "1", "3", "1")
        with open(key, "rb") as f:
            raw = f.read()
        with open(key, "wb") as f:
            f.write(raw[:len(raw) // 3] if damage == "truncated" else os.urandom(len(raw)))
        with pytest.raises(StoreError) as e:
            session.compute(ooc.argmax(open_store(bad), axis=1))
        msg = str(e.value)
        assert os.path.realpath(bad) in msg and "chunk c/1/3/1" in msg, msg


def test_failed_run_leaves_no_output_array(session, small, tmp_path, capsys):
    path, _ = small
    bad = _copy_store(path, str(tmp_path / "bad.zarr"))
    with open(os.path.join(bad, "c", "3", "0", "1"), "wb") as f:
        f.write(b"not zstd")
    out = tmp_path / "out.zarr"
    code = cli.main(["argmin", bad, "--axis", "2", "--out", str(out), "--scheduler",
                     session.client.scheduler.address, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert os.path.realpath(bad) in err and "chunk c/3/0/1" in err, err
    assert not (out / "zarr.json").exists()
    with pytest.raises(Exception):
        zarr.open_array(str(out), mode="r")


def _drop_file_read_override():
    """preexec_fn: as root, lose CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH for the child (and the
    worker processes it starts), so a file with mode 000 really cannot be read."""
    PR_CAPBSET_DROP = 24
    for cap in (1, 2):
        if _LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            os._exit(99)


_LIBC = ctypes.CDLL(None, use_errno=True)


def test_chunk_without_read_permission(small, tmp_path):
    """``ooc ... --workers 1 --memory-limit SIZE`` in a subprocess: its own LocalCluster's worker
    meets a chunk it may not read."""
    path, _ = small
    bad = _copy_store(path, str(tmp_path / "noperm.zarr"))
    key = os.path.join(bad, "c", "2", "4", "0")
    os.chmod(key, 0)
    out = tmp_path / "out.zarr"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    r = subprocess.run([sys.executable, "-m", "ooc", "argmax", bad, "--axis", "0", "--out",
                        str(out), "--workers", "1", "--memory-limit", "512MiB", "--no-progress"],
                       capture_output=True, text=True, timeout=120, env=env,
                       preexec_fn=_drop_file_read_override if os.geteuid() == 0 else None)
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    assert r.returncode == 1, r.stderr
    assert last.startswith("ooc argmax: error:"), r.stderr
    assert os.path.realpath(bad) in last and "chunk c/2/4/0" in last and "Permission" in last, last
    assert not (out / "zarr.json").exists()


def test_store_the_workers_cannot_see(session, small, tmp_path):
    path, x = small
    zarr.create_array("memory://cluster-test", shape=(4,), chunks=(2,), dtype="i4",
                      overwrite=True)[:] = [1, 5, 2, 0]
    with pytest.raises(ClusterError, match="memory://"):
        session.compute(ooc.argmax(open_store("memory://cluster-test")))
    a = open_store(path)
    out = create_result(str(tmp_path / "r.zarr"), a, axis=0)
    session.store(ooc.argmax(a, axis=0), out)          # the workers write it, chunk by chunk
    assert np.array_equal(out[:], np.argmax(x, axis=0))
    os.remove(tmp_path / "r.zarr" / "zarr.json")     # as if written on a disk the workers lack
    with pytest.raises(ClusterError, match="not found on worker"):
        check_reachable(session.client, targets=[out])


# ----------------------------------------------------------------------------------------------
# the command line

def test_cli_scheduler_address_with_progress(session, small, capsys):
    path, x = small
    code = cli.main(["argmax", path, "--axis", "1", "--json", "--progress", "--scheduler",
                     session.client.scheduler.address])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert json.loads(cap.out)["index"] == np.argmax(x, axis=1).tolist()
    assert "100% Completed" in cap.err
    with dask.config.set({"scheduler-address": session.client.scheduler.address}):   # e.g. from
        with scheduler_context() as s:                                   # DASK_SCHEDULER_ADDRESS
            assert s.client.scheduler.address == session.client.scheduler.address
            (i,) = s.compute(ooc.argmin(open_store(path), axis=0))
            assert np.array_equal(i, np.argmin(x, axis=0))


def test_cli_local_cluster_with_memory_limit(small, tmp_path, capsys):
    path, x = small
    out = tmp_path / "r.zarr"
    code = cli.main(["min-argmin", path, "--axis", "0", "--skipna", "--workers", "2",
                     "--memory-limit", "512MiB", "--progress", "--out", str(out)])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "Completed" in cap.err
    assert np.array_equal(zarr.open_array(str(out / "indices"), mode="r")[:], np.nanargmin(x, axis=0))
    assert np.array_equal(zarr.open_array(str(out / "values"), mode="r")[:], np.nanmin(x, axis=0))
    for argv, msg in ((["--scheduler", "threads", "--memory-limit", "1GiB"], "memory limit"),
                      (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "LocalCluster"),
                      (["--tls-cert", "c.pem"], "--tls-key")):
        assert cli.main(["argmax", path, *argv]) == 2
        assert msg in capsys.readouterr().err


def test_tls_cluster(small, tmp_path, capsys):
    from distributed import LocalCluster, Security
    path, x = small
    sec = Security.temporary()
    files = {}
    for name, pem in (("ca", sec.tls_ca_file), ("cert", sec.tls_client_cert),
                      ("key", sec.tls_client_key)):
        files[name] = str(tmp_path / f"{name}.pem")
        with open(files[name], "w") as f:
            f.write(pem)
    a = open_store(path)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, security=sec,
                      protocol="tls://", dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        with scheduler_context(address, tls_ca_file=files["ca"], tls_cert=files["cert"],
                               tls_key=files["key"]) as s:
            assert s.client.scheduler.address.startswith("tls://")
            (i,) = s.compute(ooc.argmax(a, axis=2))
            assert np.array_equal(i, np.argmax(x, axis=2))
        with dask.config.set({"distributed.comm.tls.ca-file": files["ca"],
                              "distributed.comm.tls.client.cert": files["cert"],
                              "distributed.comm.tls.client.key": files["key"]}):
            with scheduler_context(address) as s:
                (i,) = s.compute(ooc.nanargmax(a))
                assert int(i) == np.nanargmax(x)
        code = cli.main(["argmin", path, "--json", "--scheduler", address, "--tls-ca-file",
                         files["ca"], "--tls-cert", files["cert"], "--tls-key", files["key"]])
        cap = capsys.readouterr()
        assert code == 0, cap.err
        assert json.loads(cap.out)["index"] == int(np.argmin(x))
        before = dask.config.get("scheduler", None)
        with pytest.raises(ClusterError, match="TLS"):
            with scheduler_context(address, timeout="2s"):
                pass
        assert dask.config.get("scheduler", None) == before    # no client left as the default
