"""Several axes at once, and the value of another array at the best position (take_at_argmax)."""
import dask
import dask.array as da
import numpy as np
import pytest
from numpy.exceptions import AxisError

import ooc

FUNCS = ["argmax", "argmin", "nanargmax", "nanargmin"]


def moved_flat(a, axes):
    """numpy's view of a multi-axis reduction: the axes moved to the end and flattened."""
    b = np.moveaxis(a, axes, range(-len(axes), 0))
    return b.reshape(b.shape[:a.ndim - len(axes)] + (-1,))


def oracle(a, axes, name):
    b = moved_flat(a, axes)
    if name in ("argmax", "argmin") or b.dtype.kind in "mM":  # numpy does not skip NaT
        return getattr(np, name.replace("nan", ""))(b, axis=-1)
    mask = np.isnan(b) if b.dtype.kind in "fc" else np.zeros(b.shape, bool)
    if mask.all(axis=-1).any():
        return "All-NaN"
    worst = -np.inf if name == "nanargmax" else np.inf
    f = np.where(mask, worst, b)
    best = (f.max if name == "nanargmax" else f.min)(axis=-1, keepdims=True)
    return np.argmax((f == best) & ~mask, axis=-1)


def random_chunks(rng, shape):
    return tuple(tuple(int(c) for c in np.diff(np.unique(np.r_[0, rng.integers(1, s + 1, size=2), s])))
                 for s in shape)


@pytest.mark.parametrize("seed", range(12))
def test_tuple_axes_match_numpy_on_moved_axes(seed):
    rng = np.random.default_rng(seed)
    dtypes = ["float64", "float32", "int16", "uint8", "float16", "complex128", "M8[s]"]
    with dask.config.set(scheduler="sync"):
        for _ in range(12):
            nd = int(rng.integers(2, 5))
            shape = tuple(int(s) for s in rng.integers(1, 6, size=nd))
            dtype = dtypes[int(rng.integers(len(dtypes)))]
            a = rng.integers(0, 3, size=shape)
            a = a.astype("i8").astype(dtype) if dtype.startswith("M8") else a.astype(dtype)
            if a.dtype.kind in "fc":
                a[rng.random(shape) < 0.3] = np.nan
            if rng.random() < 0.3:
                a = np.asfortranarray(a)
            x = da.from_array(a, chunks=random_chunks(rng, shape))
            axes = tuple(int(i) for i in rng.permutation(nd)[:int(rng.integers(1, nd + 1))])
            split_every = int(rng.integers(2, 5))
            for name in FUNCS:
                want = oracle(a, axes, name)
                if isinstance(want, str):
                    with pytest.raises(ValueError, match="All-NaN slice encountered"):
                        getattr(ooc, name)(x, axis=axes, split_every=split_every).compute()
                    continue
                got = getattr(ooc, name)(x, axis=axes, split_every=split_every).compute()
                np.testing.assert_array_equal(got, want, err_msg=f"{name} {axes} {a.dtype}")
                assert got.dtype == np.intp and got.shape == want.shape
                kept = getattr(ooc, name)(x, axis=axes, keepdims=True).compute()
                assert kept.shape == tuple(1 if d in axes else s for d, s in enumerate(shape))
                np.testing.assert_array_equal(kept.reshape(want.shape), want)


def test_tuple_axes_unravel_to_coordinates():
    a = np.zeros((3, 4, 5))
    a[1, 2, 3] = a[2, 0, 1] = 5
    x = da.from_array(a, chunks=2)
    i = ooc.argmax(x, axis=(2, 0))
    coords = ooc.unravel_index(i, [a.shape[k] for k in (2, 0)])
    # at axis-1 position 2 the max sits at axis2=3, axis0=1
    assert (int(coords[0][2].compute()), int(coords[1][2].compute())) == (3, 1)
    np.testing.assert_array_equal(i.compute(), moved_flat(a, (2, 0)).argmax(-1))


def test_tuple_axes_errors_are_numpys():
    x = da.ones((2, 3, 4), chunks=2)
    with pytest.raises(AxisError):
        ooc.argmax(x, axis=(0, 3))
    with pytest.raises(AxisError):
        ooc.argmax(x, axis=(-4,))
    with pytest.raises(ValueError, match="duplicate value in 'axis'"):
        ooc.argmax(x, axis=(1, -2))
    with pytest.raises(TypeError):
        ooc.argmax(x, axis=(0, 1.5))
    with pytest.raises(ValueError):
        ooc.argmax(x, axis=())


def test_all_axes_tuple_equals_axis_none():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 4, size=(6, 7, 5)).astype(float)
    x = da.from_array(a, chunks=(4, 3, 2))
    assert int(ooc.argmax(x, axis=(0, 1, 2)).compute()) == int(ooc.argmax(x).compute()) == a.argmax()


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1), (1, 0)])
@pytest.mark.parametrize("skipna", [False, True])
def test_take_at_argmax_matches_take_along_axis(axis, skipna):
    rng = np.random.default_rng(11)
    key = rng.integers(0, 4, size=(9, 7)).astype(float)
    key[rng.random(key.shape) < 0.2] = np.nan
    key[:, 3] = 1.0  # no all-NaN line
    key[0, :] = 2.0
    values = rng.standard_normal(key.shape)
    k = da.from_array(key, chunks=(4, 3))
    v = da.from_array(values, chunks=(2, 5))  # other chunks: rechunked to the key's
    for take, func, nanfunc in ((ooc.take_at_argmax, np.argmax, "nanargmax"),
                                (ooc.take_at_argmin, np.argmin, "nanargmin")):
        got = take(v, k, axis=axis, skipna=skipna).compute()
        axes = (0, 1) if axis is None else (axis,) if isinstance(axis, int) else axis
        idx = oracle(key, axes, nanfunc) if skipna else func(moved_flat(key, axes), axis=-1)
        want = np.take_along_axis(moved_flat(values, axes), np.expand_dims(idx, -1), -1)[..., 0]
        np.testing.assert_array_equal(got, want)
        if isinstance(axis, int):
            i = (getattr(np, nanfunc) if skipna else func)(key, axis=axis)
            ref = np.take_along_axis(values, np.expand_dims(i, axis), axis).squeeze(axis)
            np.testing.assert_array_equal(got, ref)


def test_take_at_argmax_reads_each_chunk_once_and_checks_shapes():
    key = da.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
    values = da.from_array(np.arange(12).reshape(3, 4) * 10, chunks=2)
    out = ooc.take_at_argmax(values, key, axis=1)
    # the graph never indexes values by a computed index: every values block feeds a chunk task
    chunk_layers = [name for name in out.dask.layers if name.startswith("ooc-combine-")]
    assert chunk_layers and int(out.compute()[-1]) == 110
    with pytest.raises(ValueError, match="shape"):
        ooc.take_at_argmax(np.zeros(3), np.zeros(4))
