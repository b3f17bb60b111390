"""bool data whose bytes are not 0/1 (a bool view of uint8 data), against numpy.

numpy reads every nonzero byte as the same True: argmax is the first nonzero byte, argmin the
first zero byte, whatever the other bytes hold.  Every compiled kernel build the CPU runs, every
loop shape (numpy's argmax on contiguous lines, strided lines, contiguous and strided rows), every
mode (nan-variants equal the plain ones for bool), and the public functions on Dask chunks.
The values returned must be proper bools: the byte 0 or 1.
"""
import importlib
import itertools

import dask
import dask.array as da
import numpy as np
import pytest

import ooc

try:
    from numpy._core._multiarray_umath import __cpu_features__ as CPU
except ImportError:  # numpy < 2
    from numpy.core._multiarray_umath import __cpu_features__ as CPU

NEEDS = {
    "ooc._kernels": [],
    "ooc._kernels_avx2": ["AVX2", "FMA3", "F16C"],
    "ooc._kernels_avx512": ["AVX2", "FMA3", "F16C", "AVX512F", "AVX512BW", "AVX512CD",
                            "AVX512DQ", "AVX512VL"],
}


def _builds():
    out = []
    for name, features in NEEDS.items():
        if not all(CPU.get(f, False) for f in features):
            continue
        try:
            out.append(importlib.import_module(name))
        except ImportError:
            continue
    return out


BUILDS = _builds()
MODES = list(itertools.product((False, True), (False, True)))  # (is_min, skipna)


@pytest.fixture(autouse=True)
def _sync():
    with dask.config.set(scheduler="sync"):
        yield


def raw_bytes(rng, shape):
    """uint8 data: zeros, ones and other bytes in random proportions (also none of some)."""
    raw = rng.integers(0, 256, size=shape, dtype=np.uint8)
    raw[rng.random(shape) < rng.choice([0.0, 0.3, 0.7, 0.97, 1.0])] = 0
    raw[rng.random(shape) < rng.choice([0.0, 0.3])] = 1
    return raw


def layouts(raw):
    """(name, bool view) pairs over several memory layouts of the same bytes."""
    yield "C", raw.view(bool)
    yield "F", np.asfortranarray(raw).view(bool) if raw.ndim else raw.view(bool)
    if raw.ndim >= 2:
        yield "T", raw.view(bool).T
        yield "strided", np.repeat(raw, 2, axis=-1)[..., ::2].view(bool)
        yield "reversed", raw.view(bool)[:, ::-1]
    yield "negative", raw.view(bool)[::-1]


def expected(view, axis, is_min):
    """numpy's answer, and the same from the bytes normalized to 0/1 (they must agree)."""
    idx = (np.argmin if is_min else np.argmax)(view, axis=axis)
    nz = view.view(np.uint8) != 0
    assert np.array_equal(idx, (np.argmin if is_min else np.argmax)(nz, axis=axis))
    value = np.take_along_axis(nz, np.expand_dims(idx, axis), axis=axis).squeeze(axis)
    return idx, value.astype(np.uint8)


def check(build, view, axis, is_min, skipna, where):
    v, i = build.argreduce(view, axis, is_min, skipna)
    idx, value = expected(view, axis, is_min)
    np.testing.assert_array_equal(i, idx, err_msg=f"indices {where}")
    assert v.dtype == np.bool_, where
    np.testing.assert_array_equal(v.view(np.uint8), value, err_msg=f"values (bytes) {where}")


def test_builds_found():
    assert BUILDS and BUILDS[0].__name__ == "ooc._kernels"


@pytest.mark.parametrize("build", BUILDS, ids=lambda m: m.__name__)
def test_issue_example(build):
    """The reported case: 2 and 1 are both True, so the first one wins along an outer axis."""
    for width in (1, 2, 5, 64, 100):
        raw = np.array([[1] * width, [2] * width, [1] * width], np.uint8)
        view = raw.view(bool)
        for is_min, skipna in MODES:
            check(build, view, 0, is_min, skipna, (build.__name__, width, is_min, skipna))
        v, i = build.argreduce(view, 0, False, False)
        assert (i == 0).all() and (v.view(np.uint8) == 1).all()
        v, i = build.argreduce(np.array([[2] * width, [0] * width], np.uint8).view(bool), 0,
                               False, False)
        assert (i == 0).all() and (v.view(np.uint8) == 1).all()


@pytest.mark.parametrize("build", BUILDS, ids=lambda m: m.__name__)
def test_random_bytes_every_shape_axis_layout(build):
    rng = np.random.default_rng(20240601)
    shapes = [(1,), (7,), (64,), (200,), (3, 1), (1, 3), (3, 2), (2, 3), (5, 17), (17, 5),
              (4, 65), (9, 130), (2, 2100), (130, 9), (6, 4, 7), (3, 1, 40), (2, 5, 3, 4)]
    for shape in shapes:
        for _ in range(6):
            raw = raw_bytes(rng, shape)
            for name, view in layouts(raw):
                for axis in range(view.ndim):
                    for is_min, skipna in MODES:
                        check(build, view, axis, is_min, skipna,
                              (build.__name__, shape, name, axis, is_min, skipna))


@pytest.mark.parametrize("build", BUILDS, ids=lambda m: m.__name__)
def test_many_rows_wide_rows(build):
    """Row kernel: many rows (the four-row sweep and its tail), rows wider than a tile."""
    rng = np.random.default_rng(7)
    for shape in [(4, 3000), (5, 2049), (7, 4100), (300, 40), (1001, 3)]:
        for density in (0.0, 0.001, 0.5, 0.999, 1.0):
            raw = rng.integers(1, 256, size=shape, dtype=np.uint8)
            raw[rng.random(shape) >= density] = 0
            for name, view in layouts(raw):
                for axis in range(view.ndim):
                    for is_min, skipna in MODES:
                        check(build, view, axis, is_min, skipna,
                              (build.__name__, shape, density, name, axis, is_min, skipna))


@pytest.mark.parametrize("build", BUILDS, ids=lambda m: m.__name__)
def test_every_byte_value(build):
    """Each byte 0..255 against each other byte, in both orders, along an outer and inner axis."""
    b = np.arange(256, dtype=np.uint8)
    pairs = np.stack([np.repeat(b, 256), np.tile(b, 256)])   # (2, 65536): every ordered pair
    for view in (pairs.view(bool), np.ascontiguousarray(pairs.T).view(bool)):
        for axis in range(2):
            for is_min, skipna in MODES:
                check(build, view, axis, is_min, skipna, (build.__name__, view.shape, axis,
                                                          is_min, skipna))


@pytest.mark.parametrize("axis", [0, 1, -1, None, (0, 1), (1, 0)])
def test_public_functions(axis):
    rng = np.random.default_rng(99)
    for shape, chunks in [((9, 7), (4, 3)), ((40, 33), (7, 40)), ((3, 1), (1, 1)),
                          ((6, 300), (6, 128))]:
        for _ in range(4):
            raw = raw_bytes(rng, shape)
            view = raw.view(bool)
            nz = raw != 0
            x = da.from_array(view, chunks=chunks)
            for f, ref in ((ooc.argmax, np.argmax), (ooc.argmin, np.argmin)):
                got = f(x, axis=axis).compute()
                if isinstance(axis, tuple):
                    moved = np.moveaxis(nz, axis, range(-len(axis), 0))
                    want = ref(moved.reshape(moved.shape[:-len(axis)] + (-1,)), axis=-1)
                else:
                    want = ref(view, axis=axis)
                    assert np.array_equal(want, ref(nz, axis=axis))
                np.testing.assert_array_equal(got, want, err_msg=f"{f.__name__} {shape} {axis}")
            value, index = ooc.max_argmax(x, axis=axis)
            value, index = value.compute(), index.compute()
            if not isinstance(axis, tuple):
                np.testing.assert_array_equal(index, np.argmax(view, axis=axis))
                np.testing.assert_array_equal(value, np.max(nz, axis=axis))
            value = np.asarray(value)
            assert value.dtype == np.bool_
            np.testing.assert_array_equal(value.view(np.uint8),
                                          np.asarray(np.max(nz, axis=axis)).astype(np.uint8))
