"""Reading a store over real HTTP: http.server on 127.0.0.1 (random port) serving a directory store,
read through fsspec's HTTP filesystem, compared with the answers on the local copy."""
import functools
import json
import http.server
import threading
import warnings

import numpy as np
import pytest
import zarr

from ooc import store as S

pytest.importorskip("aiohttp")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def served(tmp_path):
    """A consolidated v3 group and a bare v2 array, served over HTTP from tmp_path."""
    rng = np.random.default_rng(42)
    x = rng.standard_normal((40, 50, 30)).astype("f4")
    x[5, 7, 9] = np.nan
    g = zarr.open_group(tmp_path / "g.zarr", mode="w")
    g.create_array("vars/t", shape=x.shape, chunks=(16, 16, 16), dtype="f4")[:] = x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(tmp_path / "g.zarr")
    y = rng.integers(0, 50, size=(64, 33)).astype("i2")
    zarr.create_array(tmp_path / "v2.zarr", shape=y.shape, chunks=(10, 10), dtype="i2",
                      zarr_format=2)[:] = y
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path, x, y
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_group_path_matches_local(served):
    url, root, x, _ = served
    remote = S.open(f"{url}/g.zarr", path="vars/t")
    local = S.open(root / "g.zarr", path="vars/t")
    assert remote.shape == x.shape and remote.chunks == local.chunks
    np.testing.assert_array_equal(remote.compute(), local.compute())
    for axis in (None, 0, 2):
        np.testing.assert_array_equal(np.nanargmax(remote.compute(), axis=axis),
                                      np.nanargmax(x, axis=axis))
        np.testing.assert_array_equal(remote.argmax(axis=axis).compute(),
                                      local.argmax(axis=axis).compute())


def test_http_v2_array_and_info(served):
    url, root, _, y = served
    remote = S.open(f"{url}/v2.zarr")
    np.testing.assert_array_equal(remote.compute(), y)
    d = S.info(f"{url}/v2.zarr")
    assert d["shape"] == [64, 33] and d["zarr_format"] == 2 and d["nchunks"] == 28


def test_http_missing_store_message(served):
    url, _, _, _ = served
    with pytest.raises(S.StoreError, match="nothere.zarr"):
        S.open(f"{url}/nothere.zarr")


def test_http_ooc_reductions(served):
    import ooc
    url, root, x, y = served
    for axis in (None, 0, 1, 2):
        np.testing.assert_array_equal(ooc.nanargmax(f"{url}/g.zarr/vars/t", axis=axis).compute(),
                                      np.nanargmax(x, axis=axis))
        np.testing.assert_array_equal(ooc.argmax(S.open(f"{url}/g.zarr", path="vars/t"),
                                                 axis=axis).compute(), np.argmax(x, axis=axis))
    np.testing.assert_array_equal(ooc.argmin(f"{url}/v2.zarr", axis=1).compute(), y.argmin(axis=1))


def test_http_group_without_consolidated_metadata(served):
    url, root, x, _ = served
    import shutil
    shutil.copytree(root / "g.zarr", root / "plain.zarr")
    meta = json.loads((root / "plain.zarr" / "zarr.json").read_text())
    meta.pop("consolidated_metadata", None)
    (root / "plain.zarr" / "zarr.json").write_text(json.dumps(meta))
    np.testing.assert_array_equal(S.open(f"{url}/plain.zarr", path="vars/t").compute(), x)
