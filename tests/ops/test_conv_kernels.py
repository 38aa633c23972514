"""Tests for flowgrad.ops.conv_kernels against independent oracles.

Oracles: direct loop definitions of convolution (cross-correlation) and pooling in float64 that
compute their own padding, float64 central finite differences of ``sum(f(...) * r)``, and
hand-computed TensorFlow values. TensorFlow itself is used only if it happens to be installed.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from flowgrad.ops import conv_kernels as ck, native, pool_kernels as pk


def _pads(size, k, s, padding):
    """Independent padding oracle: returns (pad_before, out) for one dimension."""
    if padding == "VALID":
        return 0, (size - k) // s + 1
    if padding == "SAME":
        out = (size + s - 1) // s
        return max((out - 1) * s + k - size, 0) // 2, out
    before, after = padding
    return before, (size + before + after - k) // s + 1


def _explicit(padding, axis):
    return padding if isinstance(padding, str) else padding[axis]


def naive_conv(x, w, strides, padding):
    """y[n, p, q, o] = sum_{i, j, c} x[n, p*sh + i - top, q*sw + j - left, c] * w[i, j, c, o]."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    top, oh = _pads(h, kh, strides[0], _explicit(padding, 0))
    left, ow = _pads(wd, kw, strides[1], _explicit(padding, 1))
    y = np.zeros((n, oh, ow, o))
    for p, q, i, j in itertools.product(range(oh), range(ow), range(kh), range(kw)):
        r, col = p * strides[0] + i - top, q * strides[1] + j - left
        if 0 <= r < h and 0 <= col < wd:
            y[:, p, q, :] += x[:, r, col, :] @ w[i, j]
    return y


def naive_pool(x, k, strides, padding, mode):
    """Pools only the non-padded cells of each window; also returns first-argmax positions."""
    n, h, wd, c = x.shape
    top, oh = _pads(h, k[0], strides[0], padding)
    left, ow = _pads(wd, k[1], strides[1], padding)
    y = np.zeros((n, oh, ow, c))
    arg = {}
    for b, p, q, ch in itertools.product(range(n), range(oh), range(ow), range(c)):
        cells = [(r, s) for r in range(p * strides[0] - top, p * strides[0] - top + k[0])
                 for s in range(q * strides[1] - left, q * strides[1] - left + k[1])
                 if 0 <= r < h and 0 <= s < wd]
        vals = [float(x[b, r, s, ch]) for r, s in cells]
        if mode == "max":
            best = int(np.argmax(vals))  # np.argmax returns the first maximum
            y[b, p, q, ch] = vals[best]
            arg[b, p, q, ch] = cells[best]
        else:
            y[b, p, q, ch] = sum(vals) / len(vals)
            arg[b, p, q, ch] = cells
    return y, arg


def numeric_grad(f, a, eps=1e-6):
    """Central finite differences of the scalar f at float64 array a."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        up = f()
        a[idx] = old - eps
        down = f()
        a[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("in_size,k,s,expected", [
    (28, 6, 1, (2, 3, 28)), (28, 5, 2, (1, 2, 14)), (14, 4, 2, (1, 1, 7)), (5, 1, 2, (0, 0, 3)),
    (7, 3, 3, (1, 1, 3)), (4, 5, 1, (2, 2, 4)), (6, 2, 2, (0, 0, 3)), (7, 2, 2, (0, 1, 4)),
    (1, 3, 2, (1, 1, 1)),
])
def test_same_padding_matches_tensorflow_values(in_size, k, s, expected):
    assert ck.same_padding(in_size, k, s) == expected


def test_output_shapes():
    assert ck.valid_output_size(28, 5, 2) == 12
    assert ck.conv_output_shape((2, 28, 28, 1), (5, 5, 1, 4), 2, "VALID") == (2, 12, 12, 4)
    assert ck.conv_output_shape((2, 28, 27, 1), (5, 5, 1, 4), (2, 3), "SAME") == (2, 14, 9, 4)
    assert ck.conv_output_shape((1, 5, 5, 1), (3, 3, 1, 1), [1, 2, 2, 1],
                                [[0, 0], [1, 1], [0, 2], [0, 0]]) == (1, 3, 3, 1)
    assert pk.pool_output_shape((3, 7, 8, 2), 2, 2, "SAME") == (3, 4, 4, 2)


CONV_CASES = [  # x shape, w shape, strides, padding
    ((2, 7, 6, 3), (3, 3, 3, 4), (1, 1), "SAME"),
    ((2, 7, 6, 3), (3, 3, 3, 4), (1, 1), "VALID"),
    ((3, 8, 9, 2), (3, 2, 2, 5), (2, 2), "SAME"),
    ((3, 8, 9, 2), (3, 2, 2, 5), (2, 2), "VALID"),
    ((2, 9, 8, 1), (4, 4, 1, 3), (1, 2), "SAME"),
    ((2, 9, 8, 1), (2, 5, 1, 3), (3, 2), "VALID"),
    ((2, 6, 6, 2), (2, 2, 2, 3), (2, 1), "SAME"),
    ((2, 5, 7, 3), (1, 1, 3, 4), (1, 1), "SAME"),
    ((2, 5, 7, 3), (1, 1, 3, 4), (2, 3), "VALID"),
    ((2, 8, 8, 2), (1, 1, 2, 3), (3, 3), "SAME"),
    ((1, 7, 7, 2), (2, 2, 2, 2), (3, 3), "VALID"),  # stride > kernel: skipped pixels
    ((2, 4, 5, 2), (5, 3, 2, 2), (1, 1), "SAME"),   # kernel taller than the input
    ((2, 6, 5, 2), (3, 3, 2, 3), (2, 1), [[1, 2], [0, 1]]),
    ((1, 5, 5, 1), (3, 3, 1, 2), (1, 1), [[1, 0], [2, 2]]),
]


@pytest.mark.parametrize("x_shape,w_shape,strides,padding", CONV_CASES)
def test_conv2d_forward_matches_naive(x_shape, w_shape, strides, padding):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    y = ck.conv2d_forward(x, w, strides, padding)
    np.testing.assert_allclose(y, naive_conv(x, w, strides, padding), rtol=1e-12, atol=1e-12)
    assert y.flags.c_contiguous and y.dtype == np.float64


@pytest.mark.parametrize("x_shape,w_shape,strides,padding", CONV_CASES)
def test_conv2d_backward_matches_finite_differences(x_shape, w_shape, strides, padding):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    r = rng.standard_normal(ck.conv_output_shape(x_shape, w_shape, strides, padding))

    def loss():
        return float(np.sum(naive_conv(x, w, strides, padding) * r))

    dx = ck.conv2d_backward_input(r, w, x_shape, strides, padding)
    dw = ck.conv2d_backward_filter(x, r, w_shape, strides, padding)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dw, numeric_grad(loss, w), rtol=1e-6, atol=1e-7)
    for g, shape in ((dx, x_shape), (dw, w_shape)):
        assert g.shape == shape and g.flags.c_contiguous and g.dtype == np.float64


@pytest.mark.parametrize("c", [1, 3])
def test_conv_batch_chunking_and_float32(monkeypatch, c):
    """Tiny scratch budgets force one image per chunk; float32 must stay float32.

    float32 normally runs on the compiled kernels (test_native.py); here on NumPy's."""
    monkeypatch.setattr(ck, "_IM2COL_BYTES", 1)
    monkeypatch.setattr(ck, "_COL2IM_BYTES", 1)
    monkeypatch.setattr(native._Switch, "on", False)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 9, 8, c)).astype(np.float32)
    w = rng.standard_normal((3, 4, c, 6)).astype(np.float32)
    for strides, padding in [((1, 1), "SAME"), ((2, 3), "SAME"), ((2, 2), "VALID")]:
        y = ck.conv2d_forward(x, w, strides, padding)
        assert y.dtype == np.float32 and y.flags.c_contiguous
        np.testing.assert_allclose(y, naive_conv(x, w, strides, padding), rtol=1e-4, atol=1e-4)
        r = rng.standard_normal(y.shape).astype(np.float32)
        dx = ck.conv2d_backward_input(r, w, x.shape, strides, padding)
        dw = ck.conv2d_backward_filter(x, r, w.shape, strides, padding)
        assert dx.dtype == dw.dtype == np.float32
        # The adjoint identity <conv(x, w), r> = <x, dx> = <w, dw> checks both gradients.
        ref = np.sum(naive_conv(x, w, strides, padding) * r)
        np.testing.assert_allclose(np.sum(x * dx.astype(np.float64)), ref, rtol=1e-4)
        np.testing.assert_allclose(np.sum(w * dw.astype(np.float64)), ref, rtol=1e-4)


def test_reference_workload_shapes_and_values():
    """The three conv layers of "TensorFlow and deep learning without a PhD" (small batch)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 28, 28, 1)).astype(np.float32)
    for w_shape, s, out_hw in [((6, 6, 1, 6), 1, 28), ((5, 5, 6, 12), 2, 14),
                               ((4, 4, 12, 24), 2, 7)]:
        w = (rng.standard_normal(w_shape) * 0.1).astype(np.float32)
        y = ck.conv2d_forward(x, w, s, "SAME")
        assert y.shape == (2, out_hw, out_hw, w_shape[3])
        np.testing.assert_allclose(y, naive_conv(x, w, (s, s), "SAME"), rtol=1e-4, atol=1e-5)
        x = np.maximum(y, 0)


def test_tf_style_arguments_and_dtype_promotion():
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((3, 3, 2, 2))
    y = ck.conv2d_forward(x, w, [1, 2, 2, 1], [[0, 0], [1, 1], [0, 2], [0, 0]])
    np.testing.assert_allclose(y, naive_conv(x, w, (2, 2), [(1, 1), (0, 2)]), rtol=1e-12)
    xi = rng.integers(-3, 4, size=(1, 4, 4, 2))
    yi = ck.conv2d_forward(xi, w.astype(np.float32), 1, "VALID")
    assert yi.dtype == np.float64  # int64 with float32 promotes like NumPy does
    np.testing.assert_allclose(yi, naive_conv(xi, w.astype(np.float32), (1, 1), "VALID"),
                               rtol=1e-12)
    assert pk.max_pool2d_forward(x.astype(np.float32), [1, 2, 2, 1], [1, 2, 2, 1]).dtype == \
        np.float32


def test_conv_rejects_bad_arguments():
    x, w = np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 2, 1))
    with pytest.raises(ValueError):
        ck.conv2d_forward(x, np.zeros((3, 3, 3, 1)))
    with pytest.raises(ValueError):
        ck.conv2d_forward(x, w, 1, "FULL")
    with pytest.raises(ValueError):
        ck.conv2d_forward(x, np.zeros((5, 5, 2, 1)), 1, "VALID")
    with pytest.raises(ValueError):
        ck.conv2d_forward(x, w, (1, 0))
    with pytest.raises(ValueError):
        ck.conv2d_backward_input(np.zeros((1, 3, 3, 1)), w, x.shape, 1, "SAME")


POOL_CASES = [  # x shape, ksize, strides, padding
    ((2, 6, 6, 3), (2, 2), (2, 2), "VALID"),  # exact tiling fast path
    ((2, 7, 5, 2), (2, 2), (2, 2), "VALID"),  # tiling with dropped edge
    ((2, 7, 5, 2), (2, 2), (2, 2), "SAME"),
    ((2, 7, 8, 2), (3, 3), (2, 2), "SAME"),
    ((2, 7, 8, 2), (3, 3), (2, 2), "VALID"),
    ((1, 6, 7, 2), (3, 2), (1, 2), "SAME"),
    ((1, 5, 5, 1), (4, 4), (3, 3), "SAME"),
    ((2, 5, 6, 1), (1, 3), (2, 1), "VALID"),
]


@pytest.fixture(params=["one_chunk", "per_image_chunks"])
def pool_budget(request, monkeypatch):
    """Runs a pooling test both in one batch chunk and with one image per chunk."""
    if request.param == "per_image_chunks":
        monkeypatch.setattr(pk, "_POOL_BYTES", 1)


@pytest.mark.usefixtures("pool_budget")
@pytest.mark.parametrize("x_shape,k,s,padding", POOL_CASES)
def test_max_pool_matches_naive_with_ties(x_shape, k, s, padding):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, size=x_shape).astype(np.float64)  # many ties
    y = pk.max_pool2d_forward(x, k, s, padding)
    ref, arg = naive_pool(x, k, s, padding, "max")
    np.testing.assert_array_equal(y, ref)
    dy = rng.standard_normal(y.shape)
    dx_ref = np.zeros(x_shape)
    for (b, p, q, ch), (r, col) in arg.items():
        dx_ref[b, r, col, ch] += dy[b, p, q, ch]
    dx = pk.max_pool2d_backward(x, y, dy, k, s, padding)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)
    assert dx.flags.c_contiguous and y.flags.c_contiguous


@pytest.mark.parametrize("x_shape,k,s,padding", POOL_CASES)
def test_pool_gradients_match_finite_differences(x_shape, k, s, padding):
    rng = np.random.default_rng(5)
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape) / 7.0  # distinct: no ties
    r = rng.standard_normal(pk.pool_output_shape(x_shape, k, s, padding))
    y = pk.max_pool2d_forward(x, k, s, padding)
    num = numeric_grad(lambda: float(np.sum(naive_pool(x, k, s, padding, "max")[0] * r)), x)
    np.testing.assert_allclose(pk.max_pool2d_backward(x, y, r, k, s, padding), num, atol=1e-6)
    num = numeric_grad(lambda: float(np.sum(naive_pool(x, k, s, padding, "avg")[0] * r)), x)
    np.testing.assert_allclose(pk.avg_pool2d_backward(r, x_shape, k, s, padding), num, atol=1e-6)


@pytest.mark.usefixtures("pool_budget")
@pytest.mark.parametrize("x_shape,k,s,padding", POOL_CASES)
def test_avg_pool_matches_naive(x_shape, k, s, padding):
    x = np.random.default_rng(6).standard_normal(x_shape)
    y = pk.avg_pool2d_forward(x, k, s, padding)
    np.testing.assert_allclose(y, naive_pool(x, k, s, padding, "avg")[0], rtol=1e-12)
    assert y.flags.c_contiguous
    y32 = pk.avg_pool2d_forward(x.astype(np.float32), k, s, padding)
    assert y32.dtype == np.float32
    dx32 = pk.avg_pool2d_backward(y32, x_shape, k, s, padding)
    assert dx32.dtype == np.float32 and dx32.flags.c_contiguous


def test_avg_pool_same_divides_by_valid_count():
    # 3x3 input, 2x2 windows, stride 2, SAME: pads one row/column after, so the windows hold
    # 4, 2, 2 and 1 real cells. Summing ones and multiplying back recovers those counts.
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    y = pk.avg_pool2d_forward(x, 2, 2, "SAME")
    np.testing.assert_allclose(y[0, :, :, 0], [[3.0, 4.5], [7.5, 9.0]])
    np.testing.assert_allclose(pk.avg_pool2d_forward(np.ones((1, 5, 4, 2)), 3, 2, "SAME"), 1.0)
    dx = pk.avg_pool2d_backward(np.ones((1, 2, 2, 1)), x.shape, 2, 2, "SAME")
    np.testing.assert_allclose(dx[0, :, :, 0], [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5],
                                                [0.5, 0.5, 1.0]])


def test_max_pool_padding_never_wins():
    x = np.full((1, 3, 3, 1), -np.inf)
    x[0, 2, 2, 0] = -1e30
    y = pk.max_pool2d_forward(x, 2, 2, "SAME")
    assert y[0, 1, 1, 0] == -1e30 and y[0, 0, 0, 0] == -np.inf
    # A window of -inf cells next to padding: the gradient must land on a real cell.
    dx = pk.max_pool2d_backward(x, y, np.ones_like(y), 2, 2, "SAME")
    assert dx.sum() == 4.0 and dx[0, 2, 2, 0] == 1.0 and dx[0, 0, 2, 0] == 1.0
    xi = np.array([[-5, -7], [-9, -6]], np.int32).reshape(1, 2, 2, 1)
    yi = pk.max_pool2d_forward(xi, 3, 1, "SAME")
    assert yi.dtype == np.int32 and (yi == -5).all()


def test_max_pool_ties_go_to_first_in_scan_order():
    x = np.array([[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [3.0, 3.0, 3.0]]).reshape(1, 3, 3, 1)
    y = pk.max_pool2d_forward(x, 2, 1, "VALID")
    dx = pk.max_pool2d_backward(x, y, np.array([1.0, 2.0, 4.0, 8.0]).reshape(1, 2, 2, 1),
                                2, 1, "VALID")
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 3, 0], [4, 0, 8], [0, 0, 0]])


def _tf_grad(tf, fn, inputs, r):
    """Values and gradients of fn(*inputs) under TensorFlow for upstream gradient r."""
    inputs = [tf.constant(a) for a in inputs]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        y = fn(*inputs)
    grads = tape.gradient(y, inputs, output_gradients=tf.constant(r(y.shape)))
    return y.numpy(), [g.numpy() for g in grads]


def test_against_tensorflow_if_installed():
    with warnings.catch_warnings():  # TensorFlow's own import-time deprecation noise
        warnings.simplefilter("ignore")
        tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    xr = np.round(x)  # many ties for max pooling
    w = rng.standard_normal((4, 3, 3, 5)).astype(np.float32)
    for s, padding in [((1, 1), "SAME"), ((2, 3), "SAME"), ((2, 2), "VALID")]:
        seen = []

        def upstream(shape):
            seen.append(rng.standard_normal(shape).astype(np.float32))
            return seen[-1]

        y, (dx, dw) = _tf_grad(tf, lambda a, b: tf.nn.conv2d(a, b, (1,) + s + (1,), padding),
                               [x, w], upstream)
        np.testing.assert_allclose(ck.conv2d_forward(x, w, s, padding), y, atol=1e-4)
        np.testing.assert_allclose(ck.conv2d_backward_input(seen[-1], w, x.shape, s, padding),
                                   dx, atol=1e-4)
        np.testing.assert_allclose(ck.conv2d_backward_filter(x, seen[-1], w.shape, s, padding),
                                   dw, atol=1e-4)
        y, (dx,) = _tf_grad(tf, lambda a: tf.nn.max_pool2d(a, (3, 2), s, padding), [xr],
                            upstream)
        np.testing.assert_array_equal(pk.max_pool2d_forward(xr, (3, 2), s, padding), y)
        # Exact tie routing; only float32 summation order may differ between the two.
        np.testing.assert_allclose(pk.max_pool2d_backward(xr, y, seen[-1], (3, 2), s, padding),
                                   dx, atol=1e-6)
        y, (dx,) = _tf_grad(tf, lambda a: tf.nn.avg_pool2d(a, (3, 2), s, padding), [x],
                            upstream)
        np.testing.assert_allclose(pk.avg_pool2d_forward(x, (3, 2), s, padding), y, atol=1e-6)
        np.testing.assert_allclose(pk.avg_pool2d_backward(seen[-1], x.shape, (3, 2), s, padding),
                                   dx, atol=1e-6)
