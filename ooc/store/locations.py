"""Where a store is and what to call it: paths, URLs, zip files and zarr store objects.

Input stores are always opened read-only: a local directory through ``zarr.storage.LocalStore(...,
read_only=True)``, a ``.zip`` file through ``zarr.storage.ZipStore(..., mode="r")`` and any other
fsspec URL (``http(s)://``, ``s3://``, ``memory://``...) through ``zarr.storage.FsspecStore(...,
read_only=True)``.
"""
from __future__ import annotations

import os
import pathlib
import zipfile

from fsspec.core import split_protocol

from ..errors import StoreError, StoreNotFoundError

__all__ = ["is_url", "display", "store_url", "local_path", "open_store", "location", "same_store"]


def is_url(s: str) -> bool:
    """True for an fsspec URL (``s3://...``, ``simplecache::s3://...``), False for a path."""
    return split_protocol(s)[0] is not None


def display(store) -> str:
    """A short human name for a store argument (path, URL or object)."""
    if isinstance(store, (str, os.PathLike)):
        return os.fspath(store)
    try:
        import zarr
        if isinstance(store, (zarr.Array, zarr.Group)):
            return store_url(store.store_path.store) + (
                "/" + store.store_path.path if store.store_path.path else "")
    except Exception:  # pragma: no cover - best effort only
        pass
    return store_url(store)


def store_url(store) -> str:
    import zarr.storage as zs
    if isinstance(store, zs.LocalStore):
        return str(pathlib.Path(store.root).resolve())
    if isinstance(store, zs.ZipStore):
        return str(pathlib.Path(store.path).resolve())
    if isinstance(store, zs.FsspecStore):
        fs = store.fs
        protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
        inner = getattr(fs, "sync_fs", None)  # AsyncFileSystemWrapper around a sync fs
        if inner is not None:
            protocol = inner.protocol[0] if isinstance(inner.protocol, (tuple, list)) else inner.protocol
        path = store.path
        if protocol in ("http", "https") or "://" in path:
            return path
        return f"{protocol}://{path.lstrip('/')}" if protocol != "file" else str(path)
    return repr(store)


def local_path(store) -> str | None:
    """Local filesystem path for a path / file:// URL argument, else None."""
    if isinstance(store, os.PathLike):
        return os.fspath(store)
    if isinstance(store, str):
        protocol, path = split_protocol(store)
        if protocol in ("file", "local"):
            return path
        if protocol is None:
            return store
    return None


def open_store(store, storage_options=None):
    """Return (read-only zarr store object, url string) for a path, URL or store object."""
    import zarr.storage as zs

    local = local_path(store)
    if local is not None:
        p = pathlib.Path(local).expanduser()
        if not p.exists():
            raise StoreNotFoundError(f"{local}: no such file or directory")
        if p.is_file():
            if not zipfile.is_zipfile(p):
                raise StoreError(f"{local}: not a Zarr store (a file that is not a .zip archive)")
            return zs.ZipStore(p, mode="r"), str(p.resolve())
        return zs.LocalStore(p, read_only=True), str(p.resolve())
    if isinstance(store, str):
        try:
            st = zs.FsspecStore.from_url(store, storage_options=storage_options, read_only=True)
        except ImportError as e:
            raise StoreError(f"{store}: cannot open this URL: {e}{_install_hint(store, e)}") from e
        except ValueError as e:
            raise StoreError(f"{store}: cannot open this URL: {e}") from e
        return st, store
    from zarr.abc.store import Store
    if isinstance(store, Store):
        if not store.read_only:
            store = store.with_read_only(True)
        return store, store_url(store)
    raise StoreError(f"cannot open {type(store).__name__!r} as a Zarr store: pass a path, a URL or a "
                     "zarr store")

_PIP_NAMES = {"smbclient": "smbprotocol", "fsspec_xrootd": "fsspec-xrootd",
              "lakefs_spec": "lakefs-spec"}


def _install_hint(url, e):
    """' (pip install PACKAGE)' for a URL whose fsspec backend is not installed: the module that
    failed to import (fsspec keeps it as the cause), else the backend's top-level package."""
    if url.startswith("s3"):
        return " (pip install 'ooc[s3]')"
    scheme = url.split("::")[-1].split("://")[0]
    pkg = getattr(e, "name", None) or getattr(e.__cause__, "name", None)
    if not pkg:
        try:
            from fsspec.registry import known_implementations
            cls = known_implementations.get(scheme, {}).get("class", "")
            if cls and not cls.startswith("fsspec."):
                pkg = cls
        except Exception:  # pragma: no cover
            pass
    if not pkg:
        return ""
    pkg = pkg.split(".")[0]
    return f" (pip install {_PIP_NAMES.get(pkg, pkg)} for {scheme}:// URLs)"


def location(store):
    """Comparable location of a store argument: ('local', realpath) or ('url', normalized)."""
    import zarr
    if isinstance(store, (zarr.Array, zarr.Group)):
        store = store.store_path.store
    local = local_path(store) if isinstance(store, (str, os.PathLike)) else None
    if local is not None:
        return ("local", os.path.realpath(os.path.expanduser(local)))
    if isinstance(store, str):
        return ("url", store.rstrip("/"))
    import zarr.storage as zs
    if isinstance(store, zs.LocalStore):
        return ("local", os.path.realpath(store.root))
    if isinstance(store, zs.ZipStore):
        return ("local", os.path.realpath(store.path))
    return ("url", store_url(store).rstrip("/"))


def same_store(a, b) -> bool:
    """True if stores ``a`` and ``b`` are the same, or one lies inside the other.

    Examples
    --------
    >>> same_store("/data/in.zarr", "/data/in.zarr/")
    True
    >>> same_store("/data/in.zarr", "/data/in.zarr/result")
    True
    >>> same_store("/data/in.zarr", "/data/out.zarr")
    False
    """
    ka, kb = location(a), location(b)
    if ka[0] != kb[0]:
        return False
    pa, pb = ka[1].rstrip("/") + "/", kb[1].rstrip("/") + "/"
    return pa.startswith(pb) or pb.startswith(pa)
