"""Stores that are damaged or hostile, output locations that try to escape, and runs that are
interrupted: ooc answers correctly or fails clearly, never changes its input, never runs code hidden
in a store, and never leaves a result that looks finished when it is not.

Every input store is hashed when made and after each operation (``inputs.check()``).
"""
import json
import os
import pathlib
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numcodecs
import numpy as np
import pytest
import zarr
import zarr.codecs as zc
from numcodecs.abc import Codec

import ooc
from storehash import Inputs
from ooc import cli
from ooc import errors
from ooc.store import results
from ooc import store as S

ARG = {"argmax": ooc.argmax, "argmin": ooc.argmin, "nanargmax": ooc.nanargmax,
       "nanargmin": ooc.nanargmin}
NP = {"argmax": np.argmax, "argmin": np.argmin, "nanargmax": np.nanargmax,
      "nanargmin": np.nanargmin}


@pytest.fixture
def inputs():
    g = Inputs()
    yield g
    g.check()


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def same_as_numpy(ours, theirs):
    try:
        want = theirs()
    except Exception as e:
        with pytest.raises(type(e), match=str(e)):
            ours().compute()
        return
    got = ours().compute()
    assert got.shape == np.shape(want)
    np.testing.assert_array_equal(got, want)


def chunk_files(root):
    return sorted(str(p.relative_to(root)) for p in pathlib.Path(root).rglob("*")
                  if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zattrs", ".zgroup",
                                                    ".zmetadata"))


# --------------------------------------------------------------------------------------------------
# corrupt and truncated chunks

X = np.random.default_rng(0).standard_normal((8, 6)).astype("f4")

LAYOUTS = {
    "v3-zstd": dict(zarr_format=3, compressors=zc.ZstdCodec()),
    "v3-gzip": dict(zarr_format=3, compressors=zc.GzipCodec()),
    "v3-blosc": dict(zarr_format=3, compressors=zc.BloscCodec()),
    "v3-raw": dict(zarr_format=3, compressors=None),
    "v3-crc32c": dict(zarr_format=3, compressors=[zc.ZstdCodec(), zc.Crc32cCodec()]),
    "v3-sharded": dict(zarr_format=3, compressors=zc.ZstdCodec(), shards=(4, 6)),
    "v2-zstd": dict(zarr_format=2, compressors=numcodecs.Zstd()),
    "v2-blosc": dict(zarr_format=2, compressors=numcodecs.Blosc()),
    "v2-zlib-delta": dict(zarr_format=2, compressors=numcodecs.Zlib(),
                          filters=[numcodecs.Delta(dtype="f4")]),
    "v2-raw": dict(zarr_format=2, compressors=None),
}


def damaged(raw, how):
    if how == "garbage":
        return bytes((b * 7 + 91) % 256 for b in raw)       # same length, not the same bytes
    if how == "truncated":
        return raw[:len(raw) // 2]
    if how == "empty":
        return b""
    if how == "extra":
        return raw + b"\0" * 7
    raise AssertionError(how)


# (layout, damage) -> None (an error naming store and key) or "exact" (data intact, numpy's answer)
# Not listed (see docs/bad_inputs.md): garbage of the right length in an uncompressed chunk and
# single flipped bits without a checksum codec are undetectable by any reader.
OUTCOMES = {
    **{(lay, dmg): None for lay in LAYOUTS for dmg in ("garbage", "truncated", "empty")
       if (lay not in ("v3-raw", "v2-raw") or dmg != "garbage") and (lay, dmg) != ("v3-sharded", "empty")},
    **{(lay, "extra"): None for lay in ("v3-zstd", "v3-raw", "v3-crc32c", "v3-sharded",
                                        "v2-zstd", "v2-raw")},
    **{(lay, "extra"): "exact" for lay in ("v3-gzip", "v3-blosc", "v2-blosc", "v2-zlib-delta")},
}
# zarr itself reads an empty shard file as a missing shard (fill value: not listed above, sharded
# arrays are always read by zarr), and reads a truncated blosc chunk past its end without an error:
# ooc's own decoder (fast=True) refuses it, zarr's (fast=False) does not.
SLOW_PATH_EXCEPTIONS = {("v3-blosc", "truncated"), ("v2-blosc", "truncated")}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    root = tmp_path_factory.mktemp("layouts")
    out = {}
    for name, kw in LAYOUTS.items():
        p = root / f"{name}.zarr"
        kw = dict(kw)
        g = zarr.open_group(p, mode="w", zarr_format=kw.pop("zarr_format"))
        z = g.create_array("grp/x", shape=X.shape, chunks=(2, 3) if "shards" in kw else (4, 3),
                           dtype="f4", **kw)
        z[:] = X
        out[name] = p
    return out


@pytest.mark.parametrize("layout,damage", sorted(OUTCOMES))
def test_damaged_chunk_error_names_store_and_key(layout, damage, layouts, tmp_path, inputs, capsys):
    p = tmp_path / "bad.zarr"
    shutil.copytree(layouts[layout], p)
    keys = chunk_files(p)
    key = keys[-1]
    (p / key).write_bytes(damaged((p / key).read_bytes(), damage))
    inputs.add(p)
    expect = OUTCOMES[(layout, damage)]
    for fast in (True, False):
        if not fast and (layout, damage) in SLOW_PATH_EXCEPTIONS:
            continue
        a = S.open(p, path="grp/x", fast=fast)
        for name in ARG:
            if expect == "exact":
                np.testing.assert_array_equal(ARG[name](a, axis=0).compute(), NP[name](X, axis=0))
                continue
            with pytest.raises(S.StoreError) as e:
                ARG[name](a, axis=1).compute()
            msg = str(e.value)
            assert str(p.resolve()) in msg and key.replace(os.sep, "/") in msg, msg
        inputs.check()
    if expect is None:
        code, out, err = run_cli(capsys, "argmax", p, "--path", "grp/x", "--no-progress")
        assert code == 1 and out == "" and err.count("\n") == 1
        assert str(p.resolve()) in err and key in err and "Traceback" not in err
    inputs.check()


def test_chunk_that_is_a_directory(layouts, tmp_path, inputs):
    p = tmp_path / "dir.zarr"
    shutil.copytree(layouts["v3-zstd"], p)
    key = p / "grp" / "x" / "c" / "1" / "1"
    key.unlink()
    key.mkdir()
    inputs.add(p)
    with pytest.raises(S.StoreError, match=r"dir\.zarr: cannot read chunk grp/x/c/1/1: IsADirectoryError"):
        ooc.argmax(S.open(p, path="grp/x")).compute()
    # zarr's own reader (fast=False) takes a directory for a missing chunk: the fill value
    a = S.open(p, path="grp/x", fast=False)
    want = zarr.open_array(p, path="grp/x", mode="r")[:]
    assert (want[4:8, 3:6] == 0).all()
    np.testing.assert_array_equal(ooc.argmax(a, axis=0).compute(), np.argmax(want, axis=0))
    inputs.check()


@pytest.mark.parametrize("edit,msg", [
    (lambda d: "{not json", "cannot read Zarr metadata: JSONDecodeError"),
    (lambda d: {**d, "shape": [-4, 6]}, "cannot read Zarr metadata"),
    (lambda d: {**d, "data_type": "float99"}, "No Zarr data type found that matches 'float99'"),
    (lambda d: {**d, "shape": [8, 6, 2]}, "same number of dimensions"),
    (lambda d: {**d, "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [0, 3]}}},
     r"invalid chunk shape \(0, 3\) for shape \(8, 6\)"),
])
def test_damaged_metadata_named_before_any_read(edit, msg, layouts, tmp_path, inputs, capsys):
    p = tmp_path / "meta.zarr"
    shutil.copytree(layouts["v3-zstd"], p)
    mpath = p / "grp" / "x" / "zarr.json"
    new = edit(json.loads(mpath.read_text()))
    mpath.write_text(new if isinstance(new, str) else json.dumps(new))
    inputs.add(p)
    with pytest.raises(S.StoreError, match=msg) as e:
        ooc.argmax(S.open(p, path="grp/x"))
    assert str(p.resolve()) in str(e.value)
    code, _, err = run_cli(capsys, "argmax", p, "--path", "grp/x")
    assert code == 1 and "meta.zarr" in err
    inputs.check()


# --------------------------------------------------------------------------------------------------
# missing chunks read as the fill value, exactly as zarr reads them

FILLS = [  # (zarr formats, dtype, fill value, data written into the stored chunks)
    ((2,), "i4", None, [5, -3]), ((2, 3), "i4", -7, [5, -3]), ((2, 3), "u1", 255, [5, 3]),
    ((2,), "f8", None, [5.0, -3.0]), ((2, 3), "f8", float("nan"), [5.0, -3.0]),
    ((2, 3), "f4", float("-inf"), [-1.0, np.nan]), ((2, 3), "f4", float("inf"), [5.0, 1.0]),
    ((2, 3), "f8", -0.0, [0.0, -1.0]), ((2, 3), "f2", float("nan"), [1.0, 2.0]),
    ((2, 3), "?", True, [False, True]), ((2, 3), "?", False, [False, True]),
    ((2,), "M8[s]", None, [5, 7]), ((3,), "m8[s]", np.timedelta64("NaT", "s"), [5, -7]),
    ((2,), "c16", None, [1 + 1j, -1j]), ((2, 3), ">i8", 3, [5, 2]),
]


@pytest.mark.parametrize("fmt,dtype,fill,data",
                         [(f, d, v, x) for fs, d, v, x in FILLS for f in fs],
                         ids=lambda v: str(v))
def test_missing_chunks_read_as_zarr_reads_them(fmt, dtype, fill, data, tmp_path, inputs):
    p = tmp_path / "m.zarr"
    z = zarr.create_array(p, shape=(6, 8), chunks=(3, 3), dtype=dtype, fill_value=fill,
                          zarr_format=fmt)
    vals = np.array(data, dtype="i8" if dtype[0] in "mM" else dtype).astype(dtype)
    block = np.resize(vals, (3, 3))
    z[0:3, 3:6] = block               # one chunk stored; one partial edge chunk stored
    z[3:6, 6:8] = block[:, :2]
    inputs.add(p)
    want = zarr.open_array(p, mode="r")[:]          # zarr's own reading is the definition
    assert len(chunk_files(p)) == 2
    for fast in (True, False):
        a = S.open(p, fast=fast)
        np.testing.assert_array_equal(a.compute(), want)
        for name in ARG:
            for axis in (None, 0, 1):
                same_as_numpy(lambda: ARG[name](a, axis=axis), lambda: NP[name](want, axis=axis))
        inputs.check()


def test_array_without_any_stored_chunk(tmp_path, inputs):
    p = tmp_path / "none.zarr"
    zarr.create_array(p, shape=(5, 7), chunks=(2, 3), dtype="f4", fill_value=2.5)
    inputs.add(p)
    for f in ARG.values():
        assert int(f(p).compute()) == 0
        np.testing.assert_array_equal(f(p, axis=1).compute(), np.zeros(5))
    v, i = ooc.max_argmax(p)
    assert float(v.compute()) == 2.5 and int(i.compute()) == 0
    nanfill = tmp_path / "nan.zarr"
    zarr.create_array(nanfill, shape=(4,), chunks=(2,), dtype="f8", fill_value=float("nan"))
    inputs.add(nanfill)
    with pytest.raises(ValueError, match="All-NaN slice encountered"):
        ooc.nanargmax(nanfill).compute()
    assert int(ooc.argmax(nanfill).compute()) == 0
    inputs.check()


# --------------------------------------------------------------------------------------------------
# codecs that run code

class _Evil:
    """Unpickling this calls ``open(marker, "w")``: stands for arbitrary code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"(open({str(self.marker)!r}, 'w').close(), "
                       "__import__('numpy').zeros(2))[1]",))


def _pickle_v2_store(path, marker, dtype="<f8"):
    os.makedirs(path)
    meta = {"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": dtype, "order": "C",
            "fill_value": None if dtype == "|O" else 0.0, "compressor": None,
            "filters": [{"id": "pickle", "protocol": 5}]}
    (path / ".zarray").write_text(json.dumps(meta))
    (path / "0").write_bytes(pickle.dumps(_Evil(marker)))
    (path / "1").write_bytes(pickle.dumps(_Evil(marker)))
    return path


def _v3_store_with_codec(path, codec):
    z = zarr.create_array(path, shape=(4,), chunks=(2,), dtype="f8")
    z[:] = [1, 2, 3, 4]
    meta = json.loads((path / "zarr.json").read_text())
    meta["codecs"].append(codec)
    (path / "zarr.json").write_text(json.dumps(meta))
    return path


@pytest.mark.parametrize("kind", ["v2-f8-pickle", "v2-object-pickle", "v3-numcodecs.pickle",
                                  "v3-unknown-codec"])
def test_code_running_codecs_refused_before_any_read(kind, tmp_path, inputs, capsys):
    marker = tmp_path / "PWNED"
    p = tmp_path / "hostile.zarr"
    if kind.startswith("v2"):
        _pickle_v2_store(p, marker, "<f8" if "f8" in kind else "|O")
        codec, why = "pickle", "arbitrary code"
    elif kind == "v3-numcodecs.pickle":
        _v3_store_with_codec(p, {"name": "numcodecs.pickle", "configuration": {}})
        codec, why = "numcodecs.pickle", "arbitrary code"
    else:
        _v3_store_with_codec(p, {"name": "evil.exec", "configuration": {"code": "rm -rf /"}})
        codec, why = "evil.exec", "not on ooc's list of safe codecs"
    inputs.add(p)
    for call in (lambda: ooc.argmax(p), lambda: S.open(p), lambda: ooc.nanargmin(str(p), axis=0),
                 lambda: S.info(p)):
        with pytest.raises(errors.UnsafeStoreError) as e:
            call()
        msg = str(e.value)
        assert str(p.resolve()) in msg and repr(codec) in msg and why in msg, msg
        assert "allow_unsafe_codecs=True" in msg and "--allow-unsafe-codecs" in msg
    code, out, err = run_cli(capsys, "argmax", p)
    assert code == 1 and out == "" and codec in err and "--allow-unsafe-codecs" in err
    # the opt-in lets ooc try: zarr itself cannot parse these stores, so it still fails, clearly
    with pytest.raises(S.StoreError, match="cannot read Zarr metadata"):
        S.open(p, allow_unsafe_codecs=True)
    code, _, err = run_cli(capsys, "argmax", p, "--allow-unsafe-codecs")
    assert code == 1 and "cannot read Zarr metadata" in err
    assert not marker.exists()
    inputs.check()


class CountingXor(Codec):
    """A codec from outside ooc's safe list (XOR with a key), counting its decodes."""
    codec_id = "ooc-test-xor"
    decodes = 0

    def __init__(self, key=0x5A):
        self.key = key

    def encode(self, buf):
        return (np.frombuffer(bytes(buf), "u1") ^ self.key).tobytes()

    def decode(self, buf, out=None):
        type(self).decodes += 1
        data = (np.frombuffer(bytes(buf), "u1") ^ self.key).tobytes()
        return numcodecs.compat.ndarray_copy(data, out) if out is not None else data


@pytest.fixture
def custom_codec():
    numcodecs.register_codec(CountingXor)
    CountingXor.decodes = 0
    yield CountingXor
    numcodecs.registry.codec_registry.pop(CountingXor.codec_id, None)


def test_unknown_codec_refused_unless_opted_in(custom_codec, tmp_path, inputs, capsys):
    p = tmp_path / "xor.zarr"
    g = zarr.open_group(p, mode="w", zarr_format=2)
    x = np.random.default_rng(5).standard_normal((6, 7))
    g.create_array("xor", shape=x.shape, chunks=(4, 4), dtype="f8", compressors=CountingXor())[:] = x
    g.create_array("plain", shape=x.shape, chunks=(4, 4), dtype="f8")[:] = x
    inputs.add(p)
    custom_codec.decodes = 0
    with pytest.raises(errors.UnsafeStoreError, match="'ooc-test-xor': not on ooc's list"):
        ooc.argmax(S.open(p, path="xor"))
    with pytest.raises(errors.UnsafeStoreError):
        ooc.argmax(zarr.open_array(p, path="xor", mode="r"))      # a zarr.Array passed directly
    assert custom_codec.decodes == 0
    d = S.info(p, path="xor")                                       # metadata only: described
    assert d["unsafe_codecs"] == ["ooc-test-xor"]
    code, out, _ = run_cli(capsys, "info", p, "--path", "xor")
    assert code == 0 and "ooc-test-xor: not decoded without --allow-unsafe-codecs" in out
    assert int(ooc.argmax(S.open(p, path="plain")).compute()) == np.argmax(x)   # its neighbour
    for fast in (True, False):
        a = S.open(p, path="xor", fast=fast, allow_unsafe_codecs=True)
        for name in ARG:
            np.testing.assert_array_equal(ARG[name](a, axis=0).compute(), NP[name](x, axis=0))
    assert custom_codec.decodes > 0
    code, out, err = run_cli(capsys, "argmin", p, "--path", "xor", "--allow-unsafe-codecs",
                             "--json")
    assert code == 0, err
    assert json.loads(out)["index"] == int(np.argmin(x))
    inputs.check()


V2_SAFE = [
    dict(compressors=numcodecs.Zlib()), dict(compressors=numcodecs.BZ2()),
    dict(compressors=numcodecs.LZMA()), dict(compressors=numcodecs.LZ4()),
    dict(compressors=numcodecs.GZip()), dict(compressors=numcodecs.Blosc(shuffle=2)),
    dict(compressors=numcodecs.Zstd(), filters=[numcodecs.Delta(dtype="<f8")]),
    dict(compressors=numcodecs.Zstd(), filters=[numcodecs.Shuffle(elementsize=8)]),
    dict(compressors=numcodecs.CRC32()), dict(compressors=numcodecs.Adler32()),
    dict(compressors=None, filters=[numcodecs.FixedScaleOffset(offset=0, scale=4, dtype="<f8",
                                                                astype="<i8")]),
]


@pytest.mark.parametrize("kw", V2_SAFE, ids=lambda kw: "+".join(
    type(c).__name__ for c in [*(kw.get("filters") or []), kw["compressors"]] if c is not None))
def test_safe_v2_codecs_are_read(kw, tmp_path, inputs):
    p = tmp_path / "ok.zarr"
    x = np.round(np.random.default_rng(6).standard_normal((6, 7)) * 4) / 4
    zarr.create_array(p, shape=x.shape, chunks=(4, 4), dtype="<f8", zarr_format=2, **kw)[:] = x
    inputs.add(p)
    assert S.info(p)["unsafe_codecs"] == []
    for fast in (True, False):
        for name in ARG:
            np.testing.assert_array_equal(ARG[name](S.open(p, fast=fast), axis=1).compute(),
                                          NP[name](x, axis=1))
    inputs.check()


def test_safe_v3_codecs_are_read(tmp_path, inputs):
    with warnings.catch_warnings():     # zarr warns that numcodecs codecs are not in the v3 spec
        warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr")
        _safe_v3_codecs_are_read(tmp_path, inputs)


def _safe_v3_codecs_are_read(tmp_path, inputs):
    from zarr.codecs import numcodecs as nc
    x = np.random.default_rng(8).integers(-50, 50, size=(6, 7)).astype("i4")
    variants = [dict(filters=[nc.Delta(dtype="i4")], compressors=nc.LZ4()),
                dict(compressors=[nc.BZ2()]), dict(compressors=[nc.Zlib(), nc.CRC32()]),
                dict(serializer=zc.BytesCodec(endian="big"), compressors=zc.GzipCodec()),
                dict(filters=[zc.TransposeCodec(order=(1, 0))], compressors=zc.ZstdCodec()),
                dict(shards=(4, 4), compressors=zc.BloscCodec())]
    for i, kw in enumerate(variants):
        p = tmp_path / f"v{i}.zarr"
        zarr.create_array(p, shape=x.shape, chunks=(2, 2) if "shards" in kw else (4, 4),
                          dtype="i4", **kw)[:] = x
        inputs.add(p)
        assert S.info(p)["unsafe_codecs"] == [], kw
        for name in ARG:
            np.testing.assert_array_equal(ARG[name](p, axis=0).compute(), NP[name](x, axis=0))
        inputs.check()


# --------------------------------------------------------------------------------------------------
# the command line never writes outside --out, nor into the input

@pytest.fixture
def small(tmp_path, inputs):
    root = tmp_path / "in.zarr"
    x = np.random.default_rng(9).integers(0, 20, size=(6, 10)).astype("f4")
    zarr.create_array(root, shape=x.shape, chunks=(4, 4), dtype="f4")[:] = x
    inputs.add(root)
    return root, x


def test_output_store_must_not_be_the_input(small, tmp_path, inputs, capsys, monkeypatch):
    root, x = small
    monkeypatch.chdir(tmp_path)
    link = tmp_path / "link.zarr"
    link.symlink_to(root)
    nested_input = tmp_path / "outer.zarr" / "inner.zarr"
    shutil.copytree(root, nested_input)
    inputs.add(nested_input)
    spellings = [(root, root), (root, f"{root}/"), (root, "./in.zarr"), (root, "in.zarr/"),
                 (root, f"file://{root}"), (root, link), (root, root / "sub"),
                 (root, root / "c"), (link, root), (nested_input, tmp_path / "outer.zarr")]
    for src, out in spellings:
        for extra in ([], ["--axis", "0"], ["--out-path", "r"]):
            code, _, err = run_cli(capsys, "argmax", src, "--out", out, *extra)
            assert code == 2 and "refusing to write into the input store" in err, (out, err)
            inputs.check()
    code, _, err = run_cli(capsys, "max-argmax", root, "--out", link, "--axis", "1")
    assert code == 2 and "refusing" in err
    precious = tmp_path / "notes.txt"                # --out naming a regular file: left alone
    precious.write_text("precious")
    for extra in ([], ["--overwrite"]):
        code, _, err = run_cli(capsys, "argmax", root, "--axis", "0", "--out", precious, *extra)
        assert code == 2 and "exists and is not a directory" in err
    assert precious.read_text() == "precious"
    assert not (root / "sub").exists() and not (root / "indices").exists()
    inputs.check()


def test_out_path_cannot_escape(small, tmp_path, inputs, capsys):
    root, x = small
    out = tmp_path / "out.zarr"
    outside = tmp_path / "outside"
    outside.mkdir()
    for bad in ("../escape", "a/../../escape", "./x", "a/./b", ".."):
        code, _, err = run_cli(capsys, "argmax", root, "--axis", "0", "--out", out,
                               "--out-path", bad)
        assert code == 2 and "'.' and '..' are not allowed" in err, (bad, err)
    assert not (tmp_path / "escape").exists() and not out.exists()
    # symbolic links planted inside --out: to elsewhere, to the input, as a chunk directory
    out.mkdir()
    (out / "away").symlink_to(outside)
    (out / "back").symlink_to(root)
    code, _, err = run_cli(capsys, "argmax", root, "--axis", "0", "--out", out,
                           "--out-path", "away/res")
    assert code == 2 and "outside --out" in err
    code, _, err = run_cli(capsys, "argmax", root, "--axis", "0", "--out", out,
                           "--out-path", "back/res")
    assert code == 2 and ("outside --out" in err or "input store" in err)
    (out / "away").unlink()
    (out / "back").unlink()
    (out / "c").symlink_to(outside)
    code, _, err = run_cli(capsys, "argmax", root, "--axis", "0", "--out", out)
    assert code == 2 and "symbolic link" in err
    assert list(outside.iterdir()) == []
    (out / "c").unlink()
    # an absolute --out-path is a path inside --out, as zarr takes it
    target = tmp_path / "abs-target"
    code, _, err = run_cli(capsys, "argmax", root, "--axis", "0", "--out", out,
                           "--out-path", str(target))
    assert code == 0, err
    assert not target.exists()
    z = zarr.open_array(out, path=str(target).strip("/"), mode="r")
    np.testing.assert_array_equal(z[:], np.argmax(x, axis=0))
    inputs.check()


# --------------------------------------------------------------------------------------------------
# nothing lost: results are marked incomplete until written, and reruns complete them

def test_create_result_and_api_writes_mark_incomplete_then_complete(small, tmp_path, inputs):
    root, x = small
    a = S.open(root)
    r = S.create_result(tmp_path / "r.zarr", a, function="argmax", axis=1)
    assert results.is_incomplete(r) and S.info(tmp_path / "r.zarr")["status"] == "incomplete"
    seen = []
    real = results.mark_complete

    def spy(z):
        seen.append((results.is_incomplete(z), np.array_equal(z[:], np.argmax(x, axis=1))))
        real(z)

    import unittest.mock
    with unittest.mock.patch.object(results, "mark_complete", spy):
        ooc.argmax(a, axis=1, out=r)
    assert seen == [(True, True)]          # still marked while the last chunk lands
    assert not results.is_incomplete(r) and r.attrs["ooc"]["complete"] is True
    assert S.info(tmp_path / "r.zarr")["status"] == "complete"
    # an out= array the user made: the mark is added next to the user's attributes
    u = zarr.create_array(tmp_path / "u.zarr", shape=(), dtype=np.intp,
                          attributes={"owner": "me"})
    ooc.argmin(a, out=u)
    assert u.attrs["owner"] == "me" and u.attrs["ooc"] == {"complete": True}
    assert int(u[()]) == np.argmin(x)
    inputs.check()


def _corrupt_copy(src, dst, key):
    shutil.copytree(src, dst)
    (pathlib.Path(dst) / key).write_bytes(b"not a chunk")
    return dst


def test_api_failure_mid_write_leaves_the_mark(small, tmp_path, inputs):
    root, x = small
    bad = inputs.add(_corrupt_copy(root, tmp_path / "bad.zarr", "c/1/2"))
    a = S.open(bad)
    r = S.create_result(tmp_path / "r.zarr", a, function="argmax", axis=0)
    with pytest.raises(S.StoreError, match="c/1/2"):
        ooc.argmax(a, axis=0, out=r)
    assert results.is_incomplete(r)
    inputs.check()


def _failing_writes(monkeypatch, after):
    """Make the (after+1)-th chunk write of any zarr array fail like a full disk."""
    real = zarr.Array.__setitem__
    calls = {"n": 0}

    def setitem(self, key, value):
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(28, "No space left on device")
        return real(self, key, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", setitem)
    return calls


@pytest.mark.parametrize("cmd", [["argmax", "--axis", "0"], ["nanargmin", "--axis", "1"],
                                 ["max-argmax", "--axis", "0"]])
def test_cli_failure_leaves_mark_and_rerun_completes(cmd, small, tmp_path, inputs, capsys,
                                                     monkeypatch):
    root, x = small
    out = tmp_path / "out.zarr"
    argv = [cmd[0], root, *cmd[1:], "--out", out, "--no-progress"]
    with monkeypatch.context() as m:
        _failing_writes(m, after=1)
        code, _, err = run_cli(capsys, *argv)
    assert code == 1 and "No space left on device" in err
    paths = [None] if cmd[0] != "max-argmax" else ["indices", "values"]
    for path in paths:
        z = zarr.open_array(out, path=path, mode="r")
        assert results.is_incomplete(z)
        assert S.info(out, path=path)["status"] == "incomplete"
        code, txt, _ = run_cli(capsys, "info", out, *(["--path", path] if path else []))
        assert code == 0 and "INCOMPLETE" in txt and "run the same command again" in txt
    inputs.check()
    # a different computation does not complete someone else's result
    other = [cmd[0], root, "--axis", "1" if "0" in cmd else "0", "--out", out, "--no-progress"]
    code, _, err = run_cli(capsys, *other)
    assert code == 1 and "incomplete ooc result of a different computation" in err
    # the same command completes it, without --overwrite
    code, _, err = run_cli(capsys, *argv)
    assert code == 0, err
    axis = int(cmd[2])
    fn = {"argmax": np.argmax, "nanargmin": np.nanargmin, "max-argmax": np.argmax}[cmd[0]]
    for path in paths:
        z = zarr.open_array(out, path=path, mode="r")
        assert not results.is_incomplete(z)
        want = fn(x, axis=axis) if path != "values" else np.max(x, axis=axis)
        np.testing.assert_array_equal(z[:], want)
        code, txt, _ = run_cli(capsys, "info", out, *(["--path", path] if path else []))
        assert "status     complete" in txt
    # a complete result is not replaced without --overwrite
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and "already exists" in err
    inputs.check()


def test_cli_unreadable_input(small, tmp_path, inputs, capsys, monkeypatch):
    """A fresh output of a run whose input cannot be read is removed (nothing to complete until
    the input is repaired); an incomplete output left by an earlier run keeps its mark."""
    root, x = small
    bad = inputs.add(_corrupt_copy(root, tmp_path / "bad.zarr", "c/1/2"))
    out = tmp_path / "out.zarr"
    code, _, err = run_cli(capsys, "argmax", bad, "--axis", "0", "--out", out)
    assert code == 1 and "c/1/2" in err
    assert not (out / "zarr.json").exists()
    # an earlier run was killed right after creating its result
    S.create_result(out, S.open(bad), function="argmax", axis=1)
    assert results.is_incomplete(zarr.open_array(out, mode="r"))
    code, _, err = run_cli(capsys, "argmax", bad, "--axis", "1", "--out", out)
    assert code == 1 and "c/1/2" in err
    assert results.is_incomplete(zarr.open_array(out, mode="r"))
    inputs.check()


_SLOW_RUN = textwrap.dedent("""
    import sys, time
    import ooc.store.decode
    real = ooc.store.decode.ChunkPlan.decode_into
    def slow(self, coords, out):
        time.sleep(0.05)
        return real(self, coords, out)
    ooc.store.decode.ChunkPlan.decode_into = slow
    from ooc import cli
    sys.exit(cli.main(sys.argv[1:]))
""")


def test_ctrl_c_leaves_mark_and_rerun_completes(tmp_path, inputs, capsys):
    root = tmp_path / "in.zarr"
    x = np.random.default_rng(10).standard_normal((4, 256)).astype("f4")
    zarr.create_array(root, shape=x.shape, chunks=(1, 8), dtype="f4")[:] = x   # 128 chunks
    inputs.add(root)
    out = tmp_path / "out.zarr"
    argv = ["argmax", str(root), "--axis", "0", "--out", str(out), "--no-progress",
            "--scheduler", "threads", "--workers", "2"]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RUN, *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "c").exists() or not any((out / "c").iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in stderr, (proc.returncode, stderr)
    z = zarr.open_array(out, mode="r")
    assert results.is_incomplete(z)
    assert 0 < len(chunk_files(out)) < 32           # some chunks written, not all
    code, txt, _ = run_cli(capsys, "info", out)
    assert code == 0 and "INCOMPLETE" in txt
    code, _, err = run_cli(capsys, *argv)            # the same command completes it
    assert code == 0, err
    z = zarr.open_array(out, mode="r")
    assert not results.is_incomplete(z)
    np.testing.assert_array_equal(z[:], np.argmax(x, axis=0))
    inputs.check()
