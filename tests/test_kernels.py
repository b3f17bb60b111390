"""Every compiled kernel build, every fused specialization, every loop shape, against numpy.

The kernels are compiled once per instruction set (portable, AVX2, AVX-512 on x86-64); each build
the CPU can run is tested here, whichever one ``import ooc`` picked.
"""
import numpy as np
import pytest

from ooc import kernels as table, reference

BUILDS = table.available_kernels()
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"]
MODES = [(False, False), (True, False), (False, True), (True, True)]  # (is_min, skipna)


def sample(rng, dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.3
    if dtype.kind == "f":
        a = rng.integers(-3, 3, size=shape).astype(dtype)
        for value, p in ((np.nan, rng.choice([0.0, 0.1, 0.6, 1.0])), (np.inf, 0.05),
                         (-np.inf, 0.05), (-0.0, 0.1)):
            a[rng.random(shape) < p] = value
        return a
    info = np.iinfo(dtype)
    if rng.random() < 0.5:  # extremes of the type, and ties
        return rng.choice(np.array([info.min, info.max, 0, 1], dtype=dtype), size=shape)
    return rng.integers(0, 3, size=shape).astype(dtype)


def layouts(a):
    yield "C", a
    yield "F", np.asfortranarray(a)
    if a.ndim >= 2:
        yield "reversed", a[:, ::-1]
        yield "strided", np.repeat(a, 2, axis=-1)[..., ::2]
    yield "negative", a[::-1]


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernel_matches_numpy_reference(build, dtype):
    kernels = table.load_kernels(build)
    rng = np.random.default_rng(abs(hash((build, dtype))) % 2**32)
    # shapes cover the lane kernel (lines of 16+), tails, rows wider than a tile, size-1 axes
    for shape in [(1,), (7,), (33,), (100,), (3, 40), (40, 3), (2, 2100), (4, 777), (5, 1, 17), (4, 3, 19),
                  (1, 1)]:
        a = sample(rng, dtype, shape)
        for name, view in layouts(a):
            for axis in range(view.ndim):
                for is_min, skipna in MODES:
                    v, i = kernels.argreduce(view, axis, is_min, skipna)
                    rv, ri = reference.argreduce(view, axis, "min" if is_min else "max", skipna)
                    where = (build, dtype, shape, name, axis, is_min, skipna)
                    np.testing.assert_array_equal(i, ri, err_msg=str(where))
                    np.testing.assert_array_equal(v, rv, err_msg=str(where))
                    assert v.dtype == view.dtype and i.dtype == np.int64


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "complex128"])
def test_reference_matches_numpy(dtype):
    """The numpy-only path is itself numpy's answer (nan-variants: first non-NaN best)."""
    rng = np.random.default_rng(7)
    for _ in range(50):
        a = rng.integers(-2, 2, size=(6, 9)).astype(dtype)
        a[rng.random(a.shape) < 0.3] = np.nan
        for axis in (0, 1):
            for op, func in (("max", np.argmax), ("min", np.argmin)):
                _, i = reference.argreduce(a, axis, op, False)
                np.testing.assert_array_equal(i, func(a, axis=axis))
                _, i = reference.argreduce(a, axis, op, True)
                nanfunc = np.nanargmax if op == "max" else np.nanargmin
                for line in range(a.shape[1 - axis]):
                    sl = np.take(a, line, axis=1 - axis)
                    if np.isnan(sl).all():
                        assert i[line] == -1
                    else:
                        assert i[line] == nanfunc(sl)


@pytest.mark.parametrize("build", BUILDS)
def test_kernel_long_lines_and_records(build):
    """Lane kernel segments, numpy's SIMD argmax, and a new best on every row."""
    kernels = table.load_kernels(build)
    x = np.arange(100_003, dtype=np.float32)
    x[77_777] = np.nan
    assert kernels.argreduce(x, 0, False, False)[1] == 77_777
    assert kernels.argreduce(x, 0, False, True)[1] == 100_002
    assert kernels.argreduce(x, 0, True, True)[1] == 0
    rows = np.arange(300 * 50, dtype=np.int64).reshape(300, 50)
    np.testing.assert_array_equal(kernels.argreduce(rows, 0, False, False)[1], 299)
    np.testing.assert_array_equal(kernels.argreduce(rows, 0, True, False)[1], 0)
    allnan = np.full((20, 3), np.nan)
    np.testing.assert_array_equal(kernels.argreduce(allnan, 0, False, True)[1], -1)
    np.testing.assert_array_equal(kernels.argreduce(allnan.T, 1, False, True)[1], -1)


@pytest.mark.parametrize("build", BUILDS)
def test_kernel_rejects_bad_input(build):
    """The compiled entry point checks its input instead of crashing."""
    kernels = table.load_kernels(build)
    with pytest.raises(ValueError):
        kernels.argreduce(np.zeros(()), 0, False, False)
    with pytest.raises(ValueError):
        kernels.argreduce(np.zeros((3, 0)), 1, False, False)
    with pytest.raises(ValueError):
        kernels.argreduce(np.zeros((3, 2)), 2, False, False)
    with pytest.raises(ValueError):
        kernels.argreduce(np.zeros((3, 2)), -1, False, False)
    with pytest.raises(TypeError):
        kernels.argreduce(np.zeros(3, dtype=complex), 0, False, False)
    with pytest.raises(TypeError):
        kernels.argreduce(np.zeros(3, dtype=">f8"), 0, False, False)
    with pytest.raises(TypeError):
        kernels.argreduce([1, 2, 3], 0, False, False)
    # empty lines on the kept axes are fine: an empty result
    v, i = kernels.argreduce(np.zeros((0, 4)), 1, False, False)
    assert v.shape == i.shape == (0,)
    # unaligned data
    raw = np.zeros(8 * 10 + 1, dtype=np.uint8)[1:].view(np.float64)
    raw[:] = np.arange(10.0)
    assert not raw.flags.aligned
    assert kernels.argreduce(raw, 0, False, False)[1] == 9


def test_explicit_build_the_cpu_cannot_run_is_a_clear_error(monkeypatch):
    """OOC_KERNELS=avx512 on a CPU without AVX-512: an error naming the missing features, not an
    illegal instruction."""
    monkeypatch.setattr(table, "_cpu_features", lambda: {"AVX2": True, "FMA3": True, "F16C": True})
    with pytest.raises(RuntimeError, match="AVX512F, AVX512BW"):
        table.load_kernels("avx512")
    monkeypatch.setenv("OOC_KERNELS", "avx512")
    with pytest.raises(RuntimeError, match="lacks: AVX512F"):
        table.load_kernels()
    assert table.load_kernels("avx2").__name__.endswith("_kernels_avx2")
    with pytest.raises(ValueError, match="unknown kernel build"):
        table.load_kernels("avx9000")


def test_split_every_follows_dask_config():
    """With dask's split_every set, the combine tree takes that many partial results per task."""
    import dask
    import dask.array as da

    import ooc
    x = da.zeros(64, chunks=1)
    with dask.config.set(split_every=4):
        graph = dict(ooc.argmax(x).__dask_graph__())
    combines = [k for k in graph if isinstance(k, tuple) and k[0].startswith("ooc-combine0")]
    assert len(combines) == 16
    graph = dict(ooc.argmax(x).__dask_graph__())
    assert len([k for k in graph if isinstance(k, tuple) and k[0].startswith("ooc-combine0")]) == 8
