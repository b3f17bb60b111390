"""ooc.coords.unravel_index against a closed-form oracle in Python ints, never against
``np.unravel_index``: numpy 2.4 gets intp index arrays whose last axis has length 1 wrong from
element 8193 on (stale coordinates, out-of-range indices unnoticed): see ooc/coords.py.
"""
import functools
import inspect
import math
import re
import subprocess
import sys
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pytest

from ooc import coords
from ooc.coords import unravel_index

GOLDEN = 0x9E3779B97F4A7C15  # a multiplier that spreads k = 0, 1, 2, ... over any range


def oracle(indices, shape, order="C"):
    """Coordinate d of flat index i, in Python ints: (i // prod(shape[d+1:])) % shape[d] for C
    order, (i // prod(shape[:d])) % shape[d] for F order."""
    a = np.asarray(indices)
    flat = [int(i) for i in a.ravel().tolist()]
    out = []
    for d, n in enumerate(shape):
        stride = math.prod(shape[d + 1:] if order == "C" else shape[:d])
        c = np.array([i // stride % n for i in flat], dtype=np.intp).reshape(a.shape)
        out.append(np.intp(c[()]) if a.ndim == 0 else c)
    return tuple(out)


def assert_same(got, want, lazy=False):
    assert type(got) is tuple and len(got) == len(want)
    for g, w in zip(got, want):
        if not lazy:
            assert type(g) is type(w)  # np.intp scalars for 0-d indices, else arrays
        g = np.asarray(g)
        assert g.dtype == np.intp and g.shape == np.shape(w)
        np.testing.assert_array_equal(g, w)


def sweep(index_shape, size, dtype=np.intp):
    """Indices of ``index_shape`` spread over [0, size) (as much of it as ``dtype`` holds),
    neighbours distinct, the largest first and 0 last."""
    cap = min(size, int(np.iinfo(dtype).max) + 1)
    count = math.prod(index_shape)
    vals = [(cap - 1 - k * GOLDEN) % cap for k in range(count)]
    if count > 1:
        vals[-1] = 0
    return np.array(vals, dtype=dtype).reshape(index_shape)


ORDERS = ["C", "F"]
INDEX_SHAPES = ([(n, 1) for n in (1, 8191, 8192, 8193, 10000, 70000)]
                + [(1, 8193), (1, 70000), (100, 100), (10000, 1, 1), (2, 9000, 1), (3, 4, 5),
                   (), (0,), (0, 1), (3, 0, 2)])
TARGETS = [(7,), (1,), (100, 100), (1, 100), (4, 1, 25), (2, 3, 1, 5, 7), (2**40,), (3, 2**40),
           (1, 2**40, 1), (2**40, 2**22)]
INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


def ids(x):
    return "x".join(map(str, x)) if isinstance(x, tuple) else str(x)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("target", TARGETS, ids=ids)
@pytest.mark.parametrize("index_shape", INDEX_SHAPES, ids=ids)
def test_index_shapes_and_targets(index_shape, target, order):
    x = sweep(index_shape, math.prod(target))
    assert_same(unravel_index(x, target, order), oracle(x, target, order))


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("target", [(7,), (4, 1, 25), (2, 3, 1, 5, 7), (3, 2**40)], ids=ids)
@pytest.mark.parametrize("index_shape", [(10000, 1), (8193, 1), (100, 100), (3, 4, 5), ()],
                         ids=ids)
@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda t: np.dtype(t).name)
def test_integer_dtypes(dtype, index_shape, target, order):
    x = sweep(index_shape, math.prod(target), dtype)
    assert x.dtype == dtype
    assert_same(unravel_index(x, target, order), oracle(x, target, order))


def unaligned(x):
    buf = np.empty(x.nbytes + 1, np.uint8)
    u = buf[1:].view(x.dtype).reshape(x.shape)
    u[...] = x
    assert not u.flags.aligned
    return u


def big_endian(x):
    return x.astype(x.dtype.newbyteorder(">"))


def read_only(x):
    x.flags.writeable = False
    return x


LAYOUTS = {
    "F-ordered": lambda mk: np.asfortranarray(mk((20, 500, 1))),
    "every-other-row": lambda mk: mk((20000, 1))[::2],
    "reversed-rows": lambda mk: mk((10000, 1))[::-1],
    "reversed-2d": lambda mk: mk((100, 200))[::-1, ::-2],
    "transposed": lambda mk: mk((1, 10000)).T,
    "column-of-2d": lambda mk: mk((10000, 3))[:, 1:2],
    "broadcast": lambda mk: np.broadcast_to(mk((10000, 1)), (2, 10000, 1)),
    "unaligned": lambda mk: unaligned(mk((10000, 1))),
    "big-endian": lambda mk: big_endian(mk((10000, 1))),
    "read-only": lambda mk: read_only(mk((10000, 1))),
    "nested-list": lambda mk: mk((10000, 1)).tolist(),
}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("target", [(100, 100), (3, 2**40), (2, 3, 1, 5, 7)], ids=ids)
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint64], ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_memory_layouts(layout, dtype, target, order):
    x = LAYOUTS[layout](functools.partial(sweep, size=math.prod(target), dtype=dtype))
    before = np.array(x, copy=True)
    got = unravel_index(x, target, order)
    assert_same(got, oracle(x, target, order))
    np.testing.assert_array_equal(x, before)  # the input is left alone ...
    for c in got:  # ... and no result is a view of it
        assert c.flags.writeable and not np.shares_memory(c, np.asarray(x))


# --------------------------------------------------------------------------------------------------
# where numpy 2.4 is wrong

BUGGY = [  # (index shape, target, order)
    ((10000, 1), (100, 100), "C"),
    ((10000, 1), (100, 100), "F"),
    ((8194, 1), (100, 100), "C"),
    ((70000, 1), (300, 300), "C"),
    ((10000, 1), (10000,), "C"),
    ((10000, 1, 1), (100, 100), "C"),
    ((2, 9000, 1), (30, 30, 30), "F"),
    ((10000, 1), (3, 2**40), "C"),
]
BUGGY_IDS = [f"{ids(s)}-into-{ids(t)}-{o}" for s, t, o in BUGGY]


def buggy_input(index_shape, target):
    return sweep(index_shape, math.prod(target), np.intp)


@pytest.mark.parametrize("index_shape, target, order", BUGGY, ids=BUGGY_IDS)
def test_right_where_numpy_is_wrong(index_shape, target, order, record_property):
    x = buggy_input(index_shape, target)
    want = oracle(x, target, order)
    assert_same(unravel_index(x, target, order), want)
    # on record, not asserted (numpy may get fixed): how many of numpy's coordinates are wrong
    theirs = np.unravel_index(x, target, order)
    record_property("numpy_wrong", int(sum((t != w).sum() for t, w in zip(theirs, want))))


@pytest.mark.parametrize("row", [8192, 8193, 9000, 9999])
def test_out_of_range_anywhere_is_refused(row):
    x = np.zeros((10000, 1), np.intp)  # numpy 2.4 misses the bad index past row 8193
    x[row] = 10**6
    with pytest.raises(ValueError, match=r"^index 1000000 is out of bounds for array with size "
                                         r"10000$"):
        unravel_index(x, (100, 100))


# --------------------------------------------------------------------------------------------------
# scalars, spellings of shape and order, the signature

SCALARS = {"int": (int, np.int64), "int8": (np.int8, np.int8), "uint16": (np.uint16, np.uint16),
           "int64": (np.int64, np.int64), "uint64": (np.uint64, np.uint64),
           "intp": (np.intp, np.intp), "0-d": (np.array, np.int64),
           "0-d-uint8": (functools.partial(np.array, dtype=np.uint8), np.uint8)}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("target", [(2, 3), (3, 2**40), (5,), (1, 1)], ids=ids)
@pytest.mark.parametrize("scalar", SCALARS)
def test_scalar_indices_give_intp_scalars(scalar, target, order):
    make, dtype = SCALARS[scalar]
    size = math.prod(target)
    cap = min(size, int(np.iinfo(dtype).max) + 1)
    for i in {i for i in (0, 100, size // 2, size - 1) if i < cap}:
        got = unravel_index(make(i), target, order)
        assert all(type(c) is np.intp for c in got)
        assert_same(got, oracle(i, target, order))


@pytest.mark.parametrize("indices", [0, np.array(0), np.uint8(0), np.int64(0)])
def test_empty_shape(indices):
    assert unravel_index(indices, ()) == () == np.unravel_index(indices, ())


SHAPES = {"int": (6, (6,)), "int64": (np.int64(6), (6,)), "0-d": (np.array(6), (6,)),
          "list": ([2, 3], (2, 3)), "array": (np.array([2, 3]), (2, 3)),
          "numpy-ints": ((np.int32(2), np.uint8(3)), (2, 3)), "range": (range(1, 4), (1, 2, 3))}


@pytest.mark.parametrize("shape, dims", SHAPES.values(), ids=SHAPES)
def test_shape_spellings(shape, dims):
    x = np.arange(math.prod(dims))
    assert_same(unravel_index(x, shape), oracle(x, dims))


@pytest.mark.parametrize("order, means", [("C", "C"), ("c", "C"), (None, "C"), (b"C", "C"),
                                          ("F", "F"), ("f", "F"), (b"F", "F")])
def test_order_spellings(order, means):
    x = np.arange(24).reshape(4, 6)
    assert_same(unravel_index(x, (2, 3, 4), order), oracle(x, (2, 3, 4), means))


def test_bool_indices_as_numpy_takes_them():
    x = np.array([True, False, True])  # numpy 2.4 reads them as 1 and 0
    assert_same(unravel_index(x, (2, 1)), np.unravel_index(x, (2, 1)))
    assert_same(unravel_index(x, (2, 1)), oracle(x.astype(int), (2, 1)))
    assert_same(unravel_index(True, (1, 2), order="F"), oracle(1, (1, 2), "F"))


def test_signature_is_numpys():
    assert inspect.signature(unravel_index) == inspect.signature(np.unravel_index)
    assert_same(unravel_index(indices=[5], shape=(2, 3), order="F"), oracle([5], (2, 3), "F"))


# --------------------------------------------------------------------------------------------------
# bad input: numpy's exception types and messages

BAD = [  # (indices, shape, order)
    (1.0, (3,), "C"), (np.array([1.5]), (3,), "C"), (np.float64(1), (3,), "C"),
    (np.array([1, 2], dtype=object), (3,), "C"), ("1", (3,), "C"), (None, (3,), "C"),
    (np.array([1 + 0j]), (3,), "C"), (np.timedelta64(1, "s"), (3,), "C"),
    (np.datetime64(1, "s"), (3,), "C"), (np.array([], float), (3,), "C"),
    ([], (3,), "C"), ((), (3,), "C"), (2**70, (3,), "C"), (-(2**70), (3,), "C"),
    (9, (3, 3), "C"), (-1, (3, 3), "C"), (np.array([0, 9]), (3, 3), "F"),
    (np.array([[0], [-4]]), (3, 3), "C"), (2**63, (3,), "C"), (np.uint64(2**63), (3,), "C"),
    (np.array([2**64 - 1], np.uint64), (3,), "C"), (np.int8(-1), (3,), "C"),
    (0, (0, 3), "C"), (np.array([3]), 3, "C"),
    (1, (3, 3), "K"), (1, (3, 3), "A"), (1, (3, 3), "Fortran"), (1, (3, 3), ""),
    (1, (3, 3), 1), (1.0, (3,), "K"), (5, (), "K"),
    (1, None, "C"), (1.0, None, "C"), (1, 3.0, "C"), (1, "3", "C"), (1, (3.0, 3), "C"),
    (1, (True, 3), "C"), (1, (np.True_, 3), "C"), (0, (2**63,), "C"), (0, (2**62, 4), "C"),
    (0, (2**40, 2**40), "C"),
    (1, (), "C"), (np.array([0]), (), "C"), (np.array([5]), (), "C"),
    (np.empty((2, 0), int), (), "C"), (np.array([1.0]), (), "C"),
]


@pytest.mark.parametrize("indices, shape, order", BAD, ids=[repr(b)[:60] for b in BAD])
def test_bad_input_as_numpy(indices, shape, order):
    with pytest.raises(Exception) as theirs:
        np.unravel_index(indices, shape, order)
    with pytest.raises(type(theirs.value), match=f"^{re.escape(str(theirs.value))}$"):
        unravel_index(indices, shape, order)


@pytest.mark.parametrize("indices", [[[]], [[], []]], ids=["[[]]", "[[],[]]"])
def test_empty_nested_lists(indices):
    """numpy 2.4 raises SystemError here; ooc says what is wrong."""
    with pytest.raises(TypeError, match="^indices must be integral: the provided empty sequence"):
        unravel_index(indices, (3,))


@pytest.mark.parametrize("shape", [(3, -1), (-1,), -3, (3, -1, -1), (0, -1)], ids=ids)
@pytest.mark.parametrize("indices", [1, np.array([], np.intp), np.arange(3)],
                         ids=["scalar", "empty", "array"])
def test_negative_dims_refused(indices, shape):
    """numpy's ValueError for some, but (3, -1, -1) numpy unravels, and empty indices pass."""
    with pytest.raises(ValueError, match="^negative dimensions are not allowed$"):
        unravel_index(indices, shape)


# --------------------------------------------------------------------------------------------------
# Dask arrays: lazy, one array per dimension, numpy's errors before compute where it can

DASK_CASES = [  # (index shape, chunks)
    ((10000, 1), (10000, 1)), ((10000, 1), (2500, 1)), ((10000, 1), (4097, 1)),
    ((10000, 1), ((1, 8192, 1807), (1,))), ((100, 100), (30, 45)), ((100, 100), (100, 1)),
    ((2, 9000, 1), (1, 5000, 1)), ((), ()), ((0, 1), (5, 1)),
]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("target", [(100, 100), (3, 2**40), (2, 3, 1, 5, 7)], ids=ids)
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint64], ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("index_shape, chunks", DASK_CASES, ids=[ids(c[1]) for c in DASK_CASES])
def test_dask(index_shape, chunks, dtype, target, order):
    x = sweep(index_shape, math.prod(target), dtype)
    dx = da.from_array(x, chunks=chunks)
    got = unravel_index(dx, target, order)
    assert type(got) is tuple and len(got) == len(target)
    for d, c in enumerate(got):
        assert isinstance(c, da.Array) and c.dtype == np.intp and c.chunks == dx.chunks
        assert c.name.startswith(f"ooc-unravel{d}-")
    assert_same(dask.compute(*got, scheduler="sync"), oracle(x, target, order), lazy=True)


def test_dask_names_are_deterministic():
    def names(x, shape, order="C"):
        return [c.name for c in unravel_index(x, shape, order)]

    x = da.arange(100, chunks=30)
    assert names(x, (10, 10)) == names(da.arange(100, chunks=30), (10, 10))
    assert names(x, (10, 10)) == names(x, [np.int64(10), 10], "c")
    assert len(set(names(x, (10, 10)) + names(x, (10, 10), "F") + names(x, (20, 5))
                   + names(da.arange(100, chunks=40), (10, 10)))) == 8


@pytest.mark.parametrize("row", [0, 8192, 9999])
def test_dask_out_of_range_raises_at_compute(row):
    x = np.zeros((10000, 1), np.int64)
    x[row] = 10000
    got = unravel_index(da.from_array(x, chunks=(3000, 1)), (100, 100))  # no error yet
    with pytest.raises(ValueError, match="^index 10000 is out of bounds for array with size "
                                         "10000$"):
        dask.compute(*got, scheduler="sync")


@pytest.mark.parametrize("indices, shape, order", [
    (np.array([1.5]), (3,), "C"), (np.array([1 + 0j]), (3,), "C"),
    (np.array([1]), (3,), "K"), (np.array([1]), (3,), "Fortran"), (np.array([1]), None, "C"),
    (np.array([1]), (3.0,), "C"), (np.array([1]), (2**62, 4), "C"), (np.array([0]), (), "C"),
    (np.array([1.0]), None, "C"),
], ids=["float", "complex", "order-K", "order-Fortran", "shape-None", "float-dim", "too-large",
        "0d-shape", "shape-first"])
def test_dask_bad_input_raises_before_compute_as_numpy(indices, shape, order):
    with pytest.raises(Exception) as theirs:
        np.unravel_index(indices, shape, order)
    with pytest.raises(type(theirs.value), match=f"^{re.escape(str(theirs.value))}$"):
        unravel_index(da.from_array(indices), shape, order)


def test_dask_negative_dims_refused_before_compute():
    with pytest.raises(ValueError, match="^negative dimensions are not allowed$"):
        unravel_index(da.from_array(np.array([1])), (3, -1))


def test_imports_dask_only_for_dask_input():
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('coords', {coords.__file__!r})\n"
            "m = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(m)\n"
            "assert m.unravel_index([[5]], (2, 3))[1].tolist() == [[2]]\n"
            "print(sorted({k.partition('.')[0] for k in sys.modules} & {'dask', 'ooc'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(coords.__file__).parent.parent)
    assert out.stdout.strip() == "[]"
