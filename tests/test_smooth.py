"""logsumexp, softmax and soft_argmax against scipy.special and direct numpy formulas.

Every comparison runs on several chunkings and through the three chunk paths: the compiled
kernel (every instruction set level the CPU runs), numpy on whole blocks and numpy on tiny
pieces (PIECE_BYTES shrunk so every block is split).
"""
import pickle
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.exceptions import AxisError
from scipy import special

from ooc import kernels, lse_steps
from ooc import logsumexp, soft_argmax, softmax

INF, NAN = np.inf, np.nan
CHUNKINGS = [(6, 7, 5), (1, 1, 1), (2, 3, 2), (4, 7, 1), (6, 2, 5), (5, 6, 4)]
AXES = [None, 0, 1, 2, -1, (0, 2), (2, 0), (1, 2), (0, 1, 2)]


@pytest.fixture(autouse=True)
def _sync():
    with dask.config.set(scheduler="sync"):
        yield


@pytest.fixture(params=["kernel", "numpy", "pieces"])
def path(request, monkeypatch):
    """Which chunk step runs: the compiled kernel, numpy per block, numpy per tiny piece."""
    if request.param == "kernel" and kernels.smooth is None:
        pytest.skip("ooc._smooth is not built")
    if request.param != "kernel":
        monkeypatch.setattr(kernels, "smooth", None)
    if request.param == "pieces":
        monkeypatch.setattr(lse_steps, "PIECE_BYTES", 48)
    return request.param


def quiet(f, *args, **kwargs):
    """scipy's answer, without its RuntimeWarnings (overflow in x - max near the limits)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return f(*args, **kwargs)


def ref_lse(x, axis=None, keepdims=False):
    return quiet(special.logsumexp, x, axis=axis, keepdims=keepdims)


def ref_softmax(x, axis=None):
    return quiet(special.softmax, x, axis=axis)


def ref_soft_argmax(x, axis, beta):
    """sum(coordinate * softmax(beta * x)) over the reduced axes, one coordinate per axis."""
    stack = axis is None or isinstance(axis, tuple)
    axes = tuple(range(x.ndim)) if axis is None else (axis if stack else (axis,))
    axes = tuple(a % x.ndim for a in axes)
    moved = np.moveaxis(x.astype(np.float64), axes, range(-len(axes), 0))
    red_shape = moved.shape[moved.ndim - len(axes):]
    z = beta * moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
    p = ref_softmax(z, axis=-1)
    coords = np.unravel_index(np.arange(p.shape[-1]), red_shape)
    out = np.stack([(p * c).sum(axis=-1) for c in coords], axis=-1)
    return out if stack else out[..., 0]


def data(shape=(6, 7, 5), seed=0, scale=3.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ---------------------------------------------------------------------------------------------
# logsumexp

@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_logsumexp_matches_scipy_on_every_chunking(path, chunks):
    x = data()
    d = da.from_array(x, chunks=chunks)
    for axis in AXES:
        got = logsumexp(d, axis=axis).compute()
        np.testing.assert_allclose(got, ref_lse(x, axis), rtol=1e-12, atol=0,
                                   err_msg=f"axis={axis}")
    got = logsumexp(d, axis=(0, 2), keepdims=True)
    assert got.shape == (1, 7, 1)
    np.testing.assert_allclose(got.compute(), ref_lse(x, (0, 2), keepdims=True), rtol=1e-12)


def special_values():
    """Rows scipy answers with NaN, inf, -inf and finite numbers."""
    return np.array([
        [1.0, 2.0, NAN, 3.0, 0.5, -1.0],       # NaN
        [1.0, INF, 2.0, -INF, 0.0, 4.0],       # +inf wins
        [-INF] * 6,                            # all -inf
        [NAN, INF, -INF, 1.0, 2.0, 3.0],       # NaN beats inf
        [0.0, -40.0, -INF, -50.0, -45.0, -60.0],   # answer 4.2e-18: no precision lost
        [3.0, 3.0, 3.0, 1.0, -INF, 3.0],       # ties at the maximum
        [INF, INF, 1.0, 2.0, 3.0, 4.0],
        [-INF, -INF, -INF, 7.0, -INF, -INF],
    ])


@pytest.mark.parametrize("chunks", [(8, 6), (1, 1), (3, 4), (2, 5)])
def test_logsumexp_special_values_as_scipy(path, chunks):
    x = special_values()
    d = da.from_array(x, chunks=chunks)
    for axis in (1, 0, None):
        got = logsumexp(d, axis=axis).compute()
        np.testing.assert_allclose(got, ref_lse(x, axis), rtol=1e-12, atol=0,
                                   err_msg=f"axis={axis}")
    # the same along the other axis and in float32
    np.testing.assert_allclose(logsumexp(d.T, axis=0).compute(), ref_lse(x, 1), rtol=1e-12)
    x32 = x.astype(np.float32)
    got = logsumexp(da.from_array(x32, chunks=chunks), axis=1).compute()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref_lse(x32, 1), rtol=2e-6)


def test_logsumexp_near_the_float_limits(path):
    big = np.finfo(np.float64).max
    x = np.array([[big, big, -big, 1e308], [-big, -big, -big, -big], [big, 0.0, -INF, -big]])
    for chunks in [(3, 4), (1, 1), (2, 3)]:
        got = logsumexp(da.from_array(x, chunks=chunks), axis=1).compute()
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, ref_lse(x, 1), rtol=1e-12)
    x32 = np.full((2, 50), np.finfo(np.float32).max, dtype=np.float32)
    got = logsumexp(da.from_array(x32, chunks=(1, 7)), axis=1).compute()
    assert np.isfinite(got).all() and got.dtype == np.float32
    np.testing.assert_allclose(got, ref_lse(x32, 1), rtol=1e-6)


def test_logsumexp_tiny_answers_keep_their_digits(path):
    # log1p form: log(1 + e^-40) is 4.2e-18, not 0
    for x in ([0.0, -40.0], [-50.0, 0.0, -60.0, -45.0], [[1e-300, -38.0], [-1e-300, -700.0]]):
        x = np.array(x)
        for chunks in (1, 2):
            got = logsumexp(da.from_array(x, chunks=chunks), axis=-1).compute()
            np.testing.assert_allclose(got, ref_lse(x, -1), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8, np.bool_,
                                   np.int64])
def test_logsumexp_dtypes_as_scipy(path, dtype):
    x = (data((5, 9), seed=1) * 4).astype(dtype) if dtype != np.bool_ else data((5, 9)) > 0
    want = ref_lse(x, 1)
    got = logsumexp(da.from_array(x, chunks=(2, 4)), axis=1)
    assert got.dtype == want.dtype
    rtol = {np.float16: 2e-3, np.float32: 2e-6}.get(dtype, 1e-12)
    np.testing.assert_allclose(got.compute(), want, rtol=rtol)


def test_logsumexp_layouts(path):
    """Non-contiguous, F-ordered, strided and byte-swapped blocks give the same answers."""
    x = data((12, 40), seed=2)
    cases = {
        "slices of a C array": da.from_array(x, chunks=(5, 16)),
        "F order": da.from_array(np.asfortranarray(x), chunks=(5, 16)),
        "strided": da.from_array(x[:, ::2], chunks=(5, 8)),
        "byte-swapped": da.from_array(x.astype(">f8"), chunks=(5, 16)),
        "transposed": da.from_array(x.T, chunks=(16, 5)).T,
    }
    for name, d in cases.items():
        base = x[:, ::2] if name == "strided" else x
        for axis in (None, 0, 1, (1, 0)):
            np.testing.assert_allclose(logsumexp(d, axis=axis).compute(), ref_lse(base, axis),
                                       rtol=1e-12, err_msg=f"{name} axis={axis}")


def test_logsumexp_empty_0d_and_numpy_input():
    np.testing.assert_array_equal(logsumexp(np.zeros((0, 3)), axis=0).compute(), [-INF] * 3)
    assert logsumexp(np.zeros((0, 3)), axis=1).shape == (0,)
    assert logsumexp(np.zeros((0, 3))).compute() == -INF
    zero_d = logsumexp(np.float64(2.5))
    assert zero_d.shape == () and zero_d.compute() == 2.5
    assert logsumexp(np.float64(2.5), axis=0, keepdims=True).shape == ()
    assert logsumexp([1.0, 2.0]).compute() == pytest.approx(ref_lse([1.0, 2.0]), rel=1e-15)


def test_errors_as_numpy():
    x = np.zeros((2, 3, 4))
    for f in (logsumexp, softmax, soft_argmax):
        with pytest.raises(AxisError):
            f(x, axis=3)
        with pytest.raises(AxisError):
            f(x, axis=(0, -4))
        with pytest.raises(ValueError, match="duplicate"):
            f(x, axis=(0, -3))
        for bad in (np.zeros(3, complex), np.array(["a"]), np.zeros(2, "M8[s]"),
                    np.array([None])):
            with pytest.raises(TypeError):
                f(bad)
    unknown = da.from_array(np.arange(6.0), chunks=3)
    unknown = unknown[unknown > 1]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        logsumexp(unknown)


def test_kernel_every_instruction_set_level():
    smooth_kernel = kernels.smooth
    if smooth_kernel is None:
        pytest.skip("ooc._smooth is not built")
    rng = np.random.default_rng(3)
    try:
        for level in smooth_kernel.LEVELS:
            used = smooth_kernel.set_isa(level)
            assert used == smooth_kernel.isa()
            # rows (with tails and several tiles) and column strips (with scalar tails)
            for shape, axis in [((3, 5000), 1), ((2, 17), 1), ((70, 300), 0), ((33, 5), 0),
                                ((4, 9, 131), 1)]:
                for dtype, rtol in ((np.float64, 1e-13), (np.float32, 2e-6)):
                    x = (rng.standard_normal(shape) * 5).astype(dtype)
                    x.flat[::97] = -INF
                    got = lse_steps.kernel_lse(x, (axis,))
                    assert got is not None
                    value = lse_steps.lse_value(got).squeeze(axis)
                    np.testing.assert_allclose(value, ref_lse(x.astype(np.float64), axis),
                                               rtol=rtol, err_msg=f"{level} {shape} {dtype}")
            x = special_values()
            value = lse_steps.lse_value(lse_steps.kernel_lse(x, (1,))).squeeze(1)
            np.testing.assert_allclose(value, ref_lse(x, 1), rtol=1e-12)
    finally:
        smooth_kernel.set_isa(None)


def test_one_pass_and_picklable_graph():
    x = da.from_array(data((8, 10)), chunks=(3, 4))
    out = logsumexp(x, axis=1)
    graph = dict(out.__dask_graph__())
    readers = [k for k, v in graph.items()
               if isinstance(k, tuple) and "chunk" in k[0] and isinstance(v, tuple)]
    assert len(readers) == x.npartitions   # each block is read by one task
    pickle.loads(pickle.dumps(graph))
    with dask.config.set(scheduler="threads", num_workers=2):
        np.testing.assert_allclose(out.compute(), ref_lse(x.compute(), 1), rtol=1e-12)


def test_lazy():
    calls = []

    def block(b):
        if b.size:
            calls.append(1)
        return b

    x = da.from_array(data((6, 8)), chunks=(3, 4)).map_blocks(block, dtype=np.float64)
    results = [logsumexp(x, axis=1), softmax(x, axis=0), soft_argmax(x, axis=(0, 1))]
    assert not calls
    assert all(isinstance(r, da.Array) for r in results)
    dask.compute(*results)
    assert calls


# ---------------------------------------------------------------------------------------------
# softmax

@pytest.mark.parametrize("chunks", CHUNKINGS[:4])
def test_softmax_matches_scipy(path, chunks):
    x = data(seed=4)
    d = da.from_array(x, chunks=chunks)
    for axis in AXES:
        got = softmax(d, axis=axis)
        assert got.shape == x.shape and got.chunks == d.chunks
        got = got.compute()
        np.testing.assert_allclose(got, ref_softmax(x, axis), rtol=1e-13, atol=0,
                                   err_msg=f"axis={axis}")
        np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-13)


def test_softmax_special_values_and_dtypes(path):
    x = special_values()
    for chunks in [(8, 6), (3, 4)]:
        got = softmax(da.from_array(x, chunks=chunks), axis=1).compute()
        np.testing.assert_allclose(got, ref_softmax(x, 1), rtol=1e-13, atol=0)
    big = np.array([1000.0, 1000.0, -1000.0])
    np.testing.assert_allclose(softmax(big).compute(), [0.5, 0.5, 0.0], atol=0)
    x32 = data((4, 9)).astype(np.float32)
    got = softmax(da.from_array(x32, chunks=2), axis=1).compute()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref_softmax(x32, 1), rtol=2e-6)
    xi = np.arange(12).reshape(3, 4)
    got = softmax(xi, axis=0).compute()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref_softmax(xi, 0), rtol=1e-14)
    assert softmax(np.float64(3.0)).compute() == 1.0


# ---------------------------------------------------------------------------------------------
# soft_argmax

def test_soft_argmax_seed_example():
    x = np.array([0.1, 0.3, 0.6, 2.1, 0.55])
    assert float(soft_argmax(x, axis=0).compute()) == pytest.approx(2.569, abs=5e-4)
    assert float(soft_argmax(x, axis=0, beta=1e3).compute()) == pytest.approx(3.0, abs=1e-9)
    assert float(soft_argmax(x, axis=0, beta=0.0).compute()) == pytest.approx(2.0)
    assert float(soft_argmax(x, axis=0, beta=-1e3).compute()) == pytest.approx(0.0, abs=1e-9)
    assert soft_argmax(x).shape == (1,)
    np.testing.assert_allclose(soft_argmax(x).compute(), [2.5694], atol=1e-4)
    np.testing.assert_allclose(soft_argmax(da.from_array(x, chunks=2), axis=0).compute(),
                               ref_soft_argmax(x, 0, 1.0), rtol=1e-14)


@pytest.mark.parametrize("pieces", [False, True])
@pytest.mark.parametrize("chunks", CHUNKINGS[:4])
def test_soft_argmax_matches_formula(chunks, pieces, monkeypatch):
    if pieces:
        monkeypatch.setattr(lse_steps, "PIECE_BYTES", 48)
    x = data(seed=5)
    d = da.from_array(x, chunks=chunks)
    for axis in AXES:
        for beta in ((1.0, 7.5, -2.0) if chunks != (1, 1, 1) else (7.5,)):
            got = soft_argmax(d, axis=axis, beta=beta)
            want = ref_soft_argmax(x, axis, beta)
            assert got.shape == want.shape and got.dtype == np.float64
            np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12,
                                       err_msg=f"axis={axis} beta={beta}")


def test_soft_argmax_shapes_and_special_values():
    x = data((3, 4, 5))
    assert soft_argmax(x, axis=1).shape == (3, 5)
    assert soft_argmax(x, axis=(1,)).shape == (3, 5, 1)
    assert soft_argmax(x, axis=(2, 0)).shape == (4, 2)
    assert soft_argmax(x).shape == (3,)
    s = special_values()
    got = soft_argmax(da.from_array(s, chunks=(3, 4)), axis=1).compute()
    want = ref_soft_argmax(s, 1, 1.0)   # NaN where softmax is NaN: NaN, +inf, all -inf
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.isnan(got[[0, 1, 2, 3, 6]]).all() and got[7] == 3.0
    heat = np.zeros((50, 60))
    heat[20, 41] = 30.0
    np.testing.assert_allclose(soft_argmax(da.from_array(heat, chunks=(16, 16)), axis=(0, 1))
                               .compute(), [20.0, 41.0], atol=1e-9)


# ---------------------------------------------------------------------------------------------
# properties

@st.composite
def arrays_chunks_axes(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    elements = st.one_of(st.floats(-700, 700), st.sampled_from([INF, -INF, NAN, 0.0]))
    x = draw(hnp.arrays(np.float64, shape, elements=elements))
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-len(shape), len(shape) - 1))
    else:
        axis = tuple(draw(st.permutations(range(len(shape))))[:draw(st.integers(1, len(shape)))])
    return x, chunks, axis


@given(arrays_chunks_axes(), st.booleans())
def test_property_logsumexp_softmax(case, kernel):
    x, chunks, axis = case
    saved = kernels.smooth
    if not kernel:
        kernels.smooth = None
    try:
        d = da.from_array(x, chunks=chunks)
        np.testing.assert_allclose(logsumexp(d, axis=axis).compute(), ref_lse(x, axis),
                                   rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(softmax(d, axis=axis).compute(), ref_softmax(x, axis),
                                   rtol=1e-12, atol=1e-300)
    finally:
        kernels.smooth = saved


@given(arrays_chunks_axes(), st.sampled_from([1.0, 0.5, -3.0]))
def test_property_soft_argmax(case, beta):
    x, chunks, axis = case
    got = soft_argmax(da.from_array(x, chunks=chunks), axis=axis, beta=beta).compute()
    np.testing.assert_allclose(got, ref_soft_argmax(x, axis, beta), rtol=1e-10, atol=1e-10)
