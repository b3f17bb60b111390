"""Where and how a graph runs: schedulers, cluster sessions, the progress bar, compute and store.

ooc's reductions are ordinary lazy Dask graphs, so they run unchanged on any Dask scheduler.  This
module is the one place that chooses and sets one up, for the ``ooc`` command and for API users:

* :func:`scheduler_context` picks a local scheduler (``threads``, ``processes``, ``synchronous``),
  connects a :class:`distributed.Client` to a running scheduler (``tcp://HOST:PORT``,
  ``tls://HOST:PORT``, ... from any deployment: dask-jobqueue, Kubernetes, a cloud service), or
  starts a :class:`distributed.LocalCluster` of worker processes with a memory limit each, and
  yields a :class:`Session` that computes with a progress bar on stderr;
* :func:`make_security` turns TLS files (or dask's ``distributed.comm.tls.*`` configuration) into a
  :class:`distributed.Security`;
* :func:`check_reachable` refuses, before anything runs, a store the workers cannot see (a local
  path missing on a worker, or a ``memory://`` store that lives in this process only): a worker that
  cannot see a chunk file would otherwise read it as missing, i.e. as the fill value;
* :func:`compute` and :func:`store` run graphs on the local schedulers or a Client, with one
  progress bar on stderr (dask's, or distributed's);
* :func:`cluster_report` reads the workers' memory (limit, current and peak RSS), spilling counters,
  logs and the scheduler's events, to show that a run neither paused, restarted, lost nor spilled
  a worker.

The tasks of a reduction each read one chunk from the store (the worker reads it itself: the graph
holds only a small picklable chunk source) and hand on a small ``(values, indices)`` pair, so a
worker needs memory for a few decoded chunks at a time, whatever the size of the store.

Examples
--------
>>> import numpy as np, ooc
>>> from ooc.runtime import scheduler_context
>>> with scheduler_context("synchronous", progress=False) as session:
...     (i,) = session.compute(ooc.argmax(np.array([3, 9, 2, 9])))
>>> int(i)
1
"""
from __future__ import annotations

import contextlib
import os
import resource
import sys

from .errors import ClusterError, StoreError
from .store.inputs import source_of_layer
from .store.locations import local_path

__all__ = ["LOCAL_SCHEDULERS", "CLUSTER_SCHEDULERS", "Session", "scheduler_context",
           "make_security", "parse_memory_limit", "is_address", "progress_bar", "compute", "store",
           "check_reachable", "cluster_report", "ClusterError"]

#: scheduler names run in this process by dask itself
LOCAL_SCHEDULERS = ("threads", "threading", "processes", "multiprocessing", "synchronous", "sync",
                    "single-threaded")
#: scheduler names that start a distributed.LocalCluster for the run
CLUSTER_SCHEDULERS = ("local-cluster", "distributed")

#: Environment of the worker processes of a LocalCluster started here.  distributed's default,
#: MALLOC_TRIM_THRESHOLD_=65536, hands freed memory back to the kernel after every task, so each
#: decoded chunk lands in fresh pages the kernel must zero again: about 0.5 CPU-s per GiB read,
#: the largest cost of a cluster run over the threaded scheduler.  With these values glibc reuses
#: chunk buffers up to 32 MiB (larger ones are mapped and unmapped each time, as in any process)
#: and keeps at most 128 MiB of free memory at the top of a heap.  Variables already set in this
#: process's environment win (distributed's rule).
WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": 32 * 2**20, "MALLOC_TRIM_THRESHOLD_": 128 * 2**20}
#: dask configuration of a LocalCluster started here: no statistical profiler in the workers (it
#: samples every thread 100 times a second for a dashboard that is not shown)
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}

_MEMORY_LOG_WORDS = ("memory usage", "pausing worker", "spilling", "spill ", "unmanaged memory",
                     "memory budget", "restarting worker", "exceeded", "memory limit")


def is_address(scheduler) -> bool:
    """True if ``scheduler`` looks like the address of a distributed scheduler.

    Examples
    --------
    >>> is_address("tcp://10.0.0.5:8786"), is_address("tls://sched:8786"), is_address("host:8786")
    (True, True, True)
    >>> is_address("threads"), is_address("local-cluster"), is_address(None)
    (False, False, False)
    """
    if not isinstance(scheduler, str) or scheduler in LOCAL_SCHEDULERS + CLUSTER_SCHEDULERS:
        return False
    if "://" in scheduler:
        return True
    host, sep, port = scheduler.rpartition(":")
    return bool(sep and host and port.isdigit())


def parse_memory_limit(value):
    """A worker memory limit in bytes from ``512MiB``, ``2GB``, ``1e9`` or an int; ``"auto"`` and
    None pass through.

    Examples
    --------
    >>> parse_memory_limit("512MiB"), parse_memory_limit("1.5GB"), parse_memory_limit(4096)
    (536870912, 1500000000, 4096)
    >>> parse_memory_limit("auto")
    'auto'
    """
    if value is None or value == "auto":
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        n = int(value)
    else:
        from dask.utils import parse_bytes
        try:
            n = parse_bytes(str(value).strip())
        except (ValueError, TypeError):
            raise ValueError(f"invalid memory limit {value!r}: use e.g. 512MiB, 4GiB, 2GB") from None
    if n <= 0:
        raise ValueError(f"invalid memory limit {value!r}: must be positive")
    return n


def make_security(tls_ca_file=None, tls_cert=None, tls_key=None, *, cluster=False):
    """A :class:`distributed.Security` from TLS files, or None to use dask's configuration.

    Parameters
    ----------
    tls_ca_file, tls_cert, tls_key : str, optional
        Paths (or PEM text) of the CA certificate, and of this client's certificate and key.
        Without any of them the result is None and distributed reads
        ``distributed.comm.tls.ca-file``, ``distributed.comm.tls.client.cert`` and ``.key`` from
        dask's configuration (YAML files or ``DASK_DISTRIBUTED__COMM__TLS__...`` variables).
    cluster : bool
        For a LocalCluster started here: the certificate and key serve the scheduler, the
        workers and the client alike.

    Examples
    --------
    >>> make_security() is None
    True
    >>> make_security(tls_cert="c.pem")
    Traceback (most recent call last):
    ...
    ValueError: --tls-cert and --tls-key go together: give both, or neither
    """
    if not (tls_ca_file or tls_cert or tls_key):
        return None
    if bool(tls_cert) != bool(tls_key):
        raise ValueError("--tls-cert and --tls-key go together: give both, or neither")
    if cluster and not (tls_ca_file and tls_cert):
        raise ValueError("a TLS LocalCluster needs --tls-ca-file, --tls-cert and --tls-key")
    for label, f in (("--tls-ca-file", tls_ca_file), ("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if f and "-----BEGIN" not in f and not os.path.isfile(f):
            raise ValueError(f"{label} {f}: no such file")
    from distributed import Security
    kw = {"tls_ca_file": tls_ca_file}
    if tls_cert:
        kw.update(tls_client_cert=tls_cert, tls_client_key=tls_key)
        if cluster:
            kw.update(tls_scheduler_cert=tls_cert, tls_scheduler_key=tls_key,
                      tls_worker_cert=tls_cert, tls_worker_key=tls_key)
    return Security(require_encryption=True, **{k: v for k, v in kw.items() if v})


# ----------------------------------------------------------------------------------------------
# progress and compute

def _want_progress(progress) -> tuple[bool, float]:
    """(show at all, seconds to wait before drawing) from True / False / None (auto: a terminal)."""
    if progress is None:
        return sys.stderr.isatty(), 1.0
    return bool(progress), 0.0


@contextlib.contextmanager
def progress_bar(progress=None):
    """dask's progress bar on stderr around local computations in the block.

    ``progress`` True draws it from the start, None only on a terminal and for computations
    longer than a second, False never.
    """
    show, minimum = _want_progress(progress)
    if not show:
        yield
        return
    from dask.diagnostics import ProgressBar
    with ProgressBar(minimum=minimum, out=sys.stderr, dt=0.1):
        yield


def _distributed_progress(futures, progress):
    """distributed's text progress bar of ``futures``, on stderr; returns when they are done."""
    show, minimum = _want_progress(progress)
    if not show:
        return
    import distributed
    if minimum:
        try:   # auto mode: nothing for a computation that ends within ``minimum`` seconds
            distributed.wait(futures, timeout=minimum)
            return
        except TimeoutError:
            pass
    with contextlib.redirect_stdout(sys.stderr):
        distributed.progress(futures, multi=False)
        sys.stderr.write("\n")


def compute(*collections, progress=None, client=None, check=True):
    """``dask.compute(*collections)`` with a progress bar on stderr (see :func:`progress_bar`).

    With a distributed ``client`` the stores the collections read are first checked with
    :func:`check_reachable` (when ``check``); if a task fails, the rest of the computation is
    cancelled and the task's exception is raised (a worker that dies is not a failure: its tasks
    run elsewhere).
    """
    if client is None:
        import dask
        import dask.multiprocessing
        if check and dask.base.get_scheduler(collections=collections) is dask.multiprocessing.get:
            _refuse_memory_stores(collections, "the processes scheduler's worker processes")
        with progress_bar(progress):
            return dask.compute(*collections)
    if check:
        check_reachable(client, collections)
    futures = client.compute(list(collections))
    try:
        _distributed_progress(futures, progress)
        return tuple(client.gather(futures))
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(futures, force=True)
        raise


def store(sources, targets, progress=None, client=None):
    """``dask.array.store(sources, targets)`` chunk by chunk, with :func:`compute`'s progress bar;
    with a distributed ``client`` the workers must first see the targets
    (:func:`check_reachable`)."""
    import dask.array as da
    sources = list(sources) if isinstance(sources, (list, tuple)) else [sources]
    targets = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if client is not None:
        check_reachable(client, sources, targets)
    compute(da.store(sources, targets, lock=False, compute=False), progress=progress,
            client=client, check=client is None)


# ----------------------------------------------------------------------------------------------
# stores the workers must see

def _stores_read_by(collections):
    """(url, path) of every store opened with :func:`ooc.open` that ``collections`` read."""
    found = []
    for c in collections:
        graph = c.__dask_graph__() if hasattr(c, "__dask_graph__") else None
        for name in getattr(graph, "layers", {}) or {}:
            src = source_of_layer(name)
            if src is not None and src not in found:
                found.append(src)
    return found


def _refuse_memory_stores(collections, who):
    for url, _path in _stores_read_by(collections):
        if url.startswith("memory://"):
            raise StoreError(f"{url}: a memory:// store lives in this process only; {who} "
                             "cannot read it (use the threads or synchronous scheduler, or a "
                             "store on disk)")


def _local_target(target):
    """Local path of the metadata file of a zarr.Array written into a local directory store."""
    try:
        import zarr
        import zarr.storage as zs
    except ImportError:  # pragma: no cover
        return None
    if not isinstance(target, zarr.Array) or not isinstance(target.store_path.store, zs.LocalStore):
        return None
    base = os.path.join(str(target.store_path.store.root), target.store_path.path or "")
    name = "zarr.json" if target.metadata.zarr_format == 3 else ".zarray"
    return os.path.join(base, name)


def _missing_paths(paths):
    return [p for p in paths if not os.path.exists(p)]


def _in_process(client) -> bool:
    """True if every worker of ``client`` runs in this very process (LocalCluster(processes=False))."""
    pids = client.run(os.getpid)
    return bool(pids) and all(p == os.getpid() for p in pids.values())


def check_reachable(client, collections=(), targets=()):
    """Raise :class:`ClusterError` if a worker of ``client`` cannot read the stores ``collections``
    read, or cannot see the zarr arrays ``targets`` are written into.

    A worker reads its chunks itself; a chunk file that it does not find is a missing chunk,
    i.e. the fill value, so a store on a disk the workers do not share would give wrong answers
    instead of an error.  Checked: local paths exist on every worker (a shared file system);
    ``memory://`` stores only when the workers run in this process.  Object-store and HTTP URLs
    are read by the workers with the same options and are not checked here.
    """
    local, memory = [], []
    for url, _path in _stores_read_by(collections):
        loc = local_path(url) if isinstance(url, str) else None
        if url.startswith("memory://"):
            memory.append(url)
        elif loc is not None and os.path.exists(loc):
            local.append(loc)
    for t in targets if isinstance(targets, (list, tuple)) else (targets,):
        p = _local_target(t)
        if p is not None:
            local.append(p)
    if not (local or memory):
        return
    if memory and not _in_process(client):
        raise ClusterError(f"{memory[0]}: a memory:// store lives in this process only; the "
                           "workers cannot read it (use a shared file system or an object store)")
    if local:
        missing = {w: m for w, m in client.run(_missing_paths, local).items() if m}
        if missing:
            worker, paths = next(iter(missing.items()))
            raise ClusterError(
                f"{paths[0]}: not found on worker {worker}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                + ": every worker must reach the store, on a shared file system or at a URL")


# ----------------------------------------------------------------------------------------------
# the session

class Session:
    """What :func:`scheduler_context` yields: compute on the chosen scheduler.

    Attributes
    ----------
    scheduler : str
        ``"threads"``, ``"processes"``, ``"synchronous"``, or the scheduler address.
    client : distributed.Client or None
        None for the local schedulers.
    cluster : distributed.LocalCluster or None
        The cluster started for this session, if any.
    progress : bool or None
        Progress bar on stderr: True, False, or None (on a terminal, after a second).
    """

    def __init__(self, scheduler, client=None, cluster=None, progress=None):
        self.scheduler = scheduler
        self.client = client
        self.cluster = cluster
        self.progress = progress

    def __repr__(self):
        return f"<ooc.runtime.Session {self.scheduler}>"

    @property
    def distributed(self) -> bool:
        return self.client is not None

    def compute(self, *collections, check=True):
        """``dask.compute(*collections)`` on this session's scheduler, with its progress bar."""
        return compute(*collections, progress=self.progress, client=self.client, check=check)

    def store(self, sources, targets):
        """``dask.array.store(sources, targets)``, chunk by chunk, on this session's scheduler."""
        store(sources, targets, progress=self.progress, client=self.client)

    def report(self):
        """:func:`cluster_report` of this session's cluster (None on a local scheduler)."""
        return cluster_report(self.client) if self.client is not None else None


def _connect(address, security, timeout):
    """A Client of ``address`` that is nobody's default yet (see :func:`_as_default`).

    (A Client made with ``set_as_default=True`` registers itself and sets dask's ``scheduler``
    configuration before it connects, and leaves both behind when it cannot connect.)
    """
    from distributed import Client
    kw = {"timeout": timeout, "set_as_default": False}
    if security is not None:
        kw["security"] = security
    try:
        return Client(address, **kw)
    except (OSError, TimeoutError, TypeError, ValueError) as e:  # TypeError: TLS without a context
        hint = ""
        if str(address).startswith("tls://") and security is None:
            hint = (" (a TLS scheduler: give --tls-ca-file/--tls-cert/--tls-key or set "
                    "distributed.comm.tls.* in the dask configuration)")
        raise ClusterError(f"cannot connect to the Dask scheduler at {address}: "
                           f"{' '.join(str(e).split())}{hint}") from None


@contextlib.contextmanager
def _as_default(client, enabled=True):
    """Within the block, ``.compute()``, ``dask.compute`` and ``get_client()`` use ``client``."""
    if not enabled:
        yield
        return
    import dask
    with client.as_current(), dask.config.set(scheduler="dask.distributed"):
        yield


@contextlib.contextmanager
def scheduler_context(scheduler=None, workers=None, memory_limit=None, *, threads_per_worker=None,
                      tls_ca_file=None, tls_cert=None, tls_key=None, progress=None,
                      timeout="30s", set_as_default=True, **cluster_kwargs):
    """Run the enclosed Dask computations on one scheduler; yields a :class:`Session`.

    Parameters
    ----------
    scheduler : str, distributed.Client, cluster object or None
        * ``"threads"`` (the default), ``"processes"`` or ``"synchronous"``: dask's local schedulers
          (``workers`` threads or processes);
        * an address such as ``tcp://HOST:PORT`` or ``tls://HOST:PORT``: connect a Client to that
          running scheduler, wherever it was started (``dask scheduler``, dask-jobqueue,
          dask-kubernetes, a cloud service);
        * ``"local-cluster"``: start a :class:`distributed.LocalCluster` of ``workers`` worker
          processes (with nannies) for the duration of the block;
        * a Client (used as is) or a cluster object (a Client is connected to it).

        With ``scheduler=None`` a LocalCluster is started when ``memory_limit`` is given, a Client
        is connected when dask's ``scheduler-address`` configuration is set (e.g.
        ``DASK_SCHEDULER_ADDRESS``), and the threaded scheduler is used otherwise.
    workers : int, optional
        Threads or processes of a local scheduler; worker processes of a LocalCluster
        (default: distributed's choice for the machine's cores).
    memory_limit : int or str, optional
        Memory limit of each LocalCluster worker (``"2GiB"``); distributed pauses a worker at 80%
        of it and restarts it at 95%.
    threads_per_worker : int, optional
        Threads of each LocalCluster worker.
    tls_ca_file, tls_cert, tls_key : str, optional
        TLS files, see :func:`make_security`; with them a LocalCluster is started with TLS too.
    progress : bool or None
        Progress bar on stderr for :meth:`Session.compute`: True, False, or None (on a terminal,
        for computations longer than a second).
    timeout : str
        How long to wait for a scheduler to answer.
    set_as_default : bool
        Make the Client the default one within the block (in this thread), so ``.compute()``,
        ``dask.compute`` and ``distributed.get_client()`` use it too.
    **cluster_kwargs
        Passed on to :class:`distributed.LocalCluster`.

    Raises
    ------
    ValueError
        On options that do not go together (``memory_limit`` with a local scheduler or a remote
        address, half of the TLS files...).
    ClusterError
        If the scheduler cannot be reached.
    """
    import dask

    if scheduler is None and memory_limit is None and not cluster_kwargs:
        scheduler = dask.config.get("scheduler-address", None) or "threads"
    elif scheduler is None:
        scheduler = "local-cluster"
    tls = (tls_ca_file, tls_cert, tls_key)
    if bool(tls_cert) != bool(tls_key):
        raise ValueError("--tls-cert and --tls-key go together: give both, or neither")

    if isinstance(scheduler, str) and scheduler in LOCAL_SCHEDULERS:
        if memory_limit is not None:
            raise ValueError(f"a memory limit needs a dask.distributed cluster, not the {scheduler} "
                             "scheduler: leave out --scheduler (or use --scheduler local-cluster)")
        if any(tls):
            raise ValueError(f"TLS options need a dask.distributed scheduler, not {scheduler}")
        cfg = {"scheduler": scheduler}
        if workers:
            cfg["num_workers"] = workers
        with dask.config.set(cfg):
            yield Session(scheduler, progress=progress)
        return

    try:
        import distributed
    except ImportError as e:  # pragma: no cover - distributed is an extra
        raise ClusterError("dask.distributed is not installed (pip install 'ooc[distributed]')") from e

    if isinstance(scheduler, distributed.Client):
        yield Session(scheduler.scheduler.address, client=scheduler, progress=progress)
        return

    if isinstance(scheduler, str) and scheduler in CLUSTER_SCHEDULERS:
        security = make_security(*tls, cluster=True)
        kw = dict(n_workers=workers, threads_per_worker=threads_per_worker,
                  memory_limit=parse_memory_limit(memory_limit) or "auto", processes=True,
                  dashboard_address=":0")
        if security is not None:
            kw.update(security=security, protocol="tls://")
        kw.update(cluster_kwargs)
        kw = {k: v for k, v in kw.items() if v is not None}
        from distributed import LocalCluster
        env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_ENV)
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env, **WORKER_CONFIG}):
            cluster = LocalCluster(**kw)      # the nannies keep this configuration for restarts
        with cluster:
            client = _connect(cluster, security, timeout)
            try:
                with _as_default(client, set_as_default):
                    yield Session(cluster.scheduler_address, client=client, cluster=cluster,
                                  progress=progress)
            finally:
                client.close()
        return

    if isinstance(scheduler, str) and not is_address(scheduler):
        raise ValueError(f"--scheduler {scheduler!r}: use threads, processes, synchronous, "
                         "local-cluster or the address of a dask.distributed scheduler "
                         "(tcp://HOST:PORT)")
    if memory_limit is not None or workers is not None or threads_per_worker is not None:
        raise ValueError("--workers and --memory-limit start a LocalCluster; with the address of a "
                         "running scheduler, its workers are set where they are started "
                         "(dask worker --nworkers N --memory-limit SIZE ...)")
    address = scheduler
    security = make_security(*tls)
    if isinstance(address, str) and "://" not in address and security is not None:
        address = "tls://" + address
    client = _connect(address, security, timeout)
    try:
        with _as_default(client, set_as_default):
            yield Session(client.scheduler.address, client=client, progress=progress)
    finally:
        client.close()


# ----------------------------------------------------------------------------------------------
# what happened on the workers

def _peak_rss():
    """Peak resident memory of this process, in bytes.

    Linux: VmHWM of /proc/self/status, the high-water mark of this program's memory.
    (``ru_maxrss`` is not used there: it survives ``exec``, so a worker process spawned from a
    large parent would report the parent's size.)
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024      # bytes on macOS, else KiB


def _worker_memory(dask_worker=None):
    import psutil
    peak = _peak_rss()
    out = {"pid": os.getpid(), "rss": psutil.Process().memory_info().rss, "peak_rss": peak}
    if dask_worker is not None:
        spilled = 0
        count = 0
        for k, v in dask_worker.digests_total.items():
            parts = k if isinstance(k, tuple) else (k,)
            if "disk-write" in parts:
                if "bytes" in parts:
                    spilled += v
                elif "count" in parts:
                    count += v
        data = getattr(dask_worker, "data", None)
        on_disk = getattr(getattr(data, "spilled_total", None), "disk", 0)
        out.update(spilled_bytes=int(spilled), spill_count=int(count), bytes_on_disk=int(on_disk),
                   memory_limit=dask_worker.memory_manager.memory_limit,
                   status=str(dask_worker.status.name),
                   transfer_outgoing_bytes=int(dask_worker.transfer_outgoing_bytes_total))
    return out


def cluster_report(client) -> dict:
    """Memory, spilling and lifecycle of the workers of ``client`` since the cluster started.

    Returns a dict:

    ``workers``
        address -> ``pid``, ``memory_limit``, ``rss``, ``peak_rss`` (the process's peak resident
        memory since it started), ``spilled_bytes`` and ``spill_count`` (data written to disk
        by the worker's spill buffer), ``bytes_on_disk``, ``status``,
        ``transfer_outgoing_bytes`` (data sent to other workers);
    ``removed``
        scheduler events of workers leaving the cluster (killed, restarted, lost);
    ``paused``
        scheduler events of workers changing to the paused status;
    ``memory_log``
        worker and nanny log lines about memory: pausing, spilling, high unmanaged memory,
        restarts.
    """
    workers = client.run(_worker_memory)
    events = client.get_events()
    removed, paused = [], []
    for topic, evs in events.items():
        for _t, msg in evs:
            if not isinstance(msg, dict):
                continue
            if msg.get("action") == "remove-worker" and topic == "all":
                removed.append(msg)
            elif msg.get("action") == "worker-status-change" and \
                    msg.get("status") == "paused":
                paused.append(dict(msg, worker=topic))
    memory_log = []
    for nanny in (False, True):
        try:
            logs = client.get_worker_logs(nanny=nanny)
        except Exception:  # no nannies
            continue
        for w, lines in logs.items():
            for level, line in lines:
                if level in ("WARNING", "ERROR", "CRITICAL") and any(
                        word in line.lower() for word in _MEMORY_LOG_WORDS):
                    memory_log.append(f"{w}: {line}")
    return {"workers": workers, "removed": removed, "paused": paused, "memory_log": memory_log}

