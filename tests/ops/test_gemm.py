"""Compiled matrix products in row parts (ops/_gemm.c through native.gemm and
parallel.matmul): layouts, the bias + ReLU epilogue, fallbacks, and bits that do not depend
on the worker count."""
from __future__ import annotations

import numpy as np
import pytest

import flowgrad as tf
from flowgrad.ops import native, parallel


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.fixture(autouse=True)
def _native_on(monkeypatch):
    """These tests are about the compiled products, also under --flowgrad-native-off."""
    monkeypatch.setattr(native._Switch, "on", True)


@pytest.fixture
def held():
    if not parallel.has_compiled_gemm() or not native._find_sgemm():
        pytest.skip("needs the compiled kernels and NumPy's OpenBLAS (pthreads build)")
    parallel.hold_blas()
    yield
    parallel.release_blas()


def _operand(x, transposed):
    """``x`` itself, or the transposed view of a C-contiguous copy of ``x.T``."""
    return np.ascontiguousarray(x.T).T if transposed else x


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_row_parts_match_a_float64_product_in_every_layout(held, ta, tb, parts):
    a, b = _rand(101, 67), _rand(67, 45, seed=1)
    out = native.gemm(_operand(a, ta), _operand(b, tb), parts)
    assert out is not None and out.dtype == np.float32 and out.shape == (101, 45)
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-4)


def test_the_parts_not_the_workers_decide_the_bits(held, monkeypatch):
    a, b = _rand(300, 400), _rand(400, 150, seed=1)
    both = native.gemm(a, b, 2)
    monkeypatch.setattr(parallel, "helpers_for", lambda parts: 0)  # caller runs every part
    alone = native.gemm(a, b, 2)
    np.testing.assert_array_equal(both, alone)


def test_the_epilogue_has_numpys_bits(held):
    a, b = _rand(64, 32), _rand(32, 24, seed=1)
    a[0, :] = np.nan
    a[1, :] = 0.0
    bias = _rand(24, seed=2)
    bias[:3] = [np.inf, -0.0, 0.0]
    b[:, 3] = 0.0  # column 3 of rows 1..: exactly +-0 products
    # the same parts without the epilogue (OpenBLAS's rounding may depend on a part's rows)
    plain = native.gemm(a, b, 2)
    want = np.maximum(plain + bias, 0)
    got = native.gemm(a, b, 2, bias, True)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    np.testing.assert_array_equal(native.gemm(a, b, 2, bias, False).view(np.uint32),
                                  (plain + bias).view(np.uint32))


@pytest.mark.parametrize("case", ["strided", "zero-size", "float64", "batched-bias"])
def test_other_operands_fall_back_to_numpy(held, case):
    a, b = _rand(40, 60), _rand(60, 30, seed=1)
    if case == "strided":
        got = parallel.matmul(a[:, ::2], b[::2])
        np.testing.assert_allclose(got, a[:, ::2] @ b[::2], rtol=1e-5, atol=1e-5)
        assert native.gemm(a[:, ::2], b[::2], 2) is None
    elif case == "zero-size":
        got = parallel.matmul(a[:, :0], b[:0])
        np.testing.assert_array_equal(got, np.zeros((40, 30), np.float32))
        assert native.gemm(a[:, :0], b[:0], 2) is None
    elif case == "float64":
        got = parallel.matmul(a.astype(np.float64), b.astype(np.float64))
        assert got.dtype == np.float64
        assert native.gemm(a.astype(np.float64), b.astype(np.float64), 2) is None
    else:
        bias = _rand(40, 30, seed=2)
        assert native.gemm(a, b, 2, bias) is None
        got = parallel.matmul(a, b, bias, True)
        np.testing.assert_allclose(got, np.maximum(a @ b + bias, 0), rtol=1e-5, atol=1e-5)


def test_a_dense_plan_holds_blas_and_its_products_run_compiled(monkeypatch):
    if not parallel.has_compiled_gemm() or not native._find_sgemm():
        pytest.skip("needs the compiled kernels and NumPy's OpenBLAS (pthreads build)")
    calls = []
    real = parallel._gemm
    monkeypatch.setattr(parallel, "_gemm", lambda *a: calls.append(a[2]) or real(*a))
    w = tf.Variable(_rand(784, 200, seed=1))
    x = tf.constant(_rand(100, 784))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)))
        return loss, tape.gradient(loss, w)
    loss, grad = step()
    assert calls and max(calls) == min(parallel._Workers.cores, 100)  # 31 MFLOP: every core
    assert parallel._Workers.depth == 0  # released after the run
    x64, w64 = x.numpy().astype(np.float64), w.numpy().astype(np.float64)
    h = x64 @ w64
    np.testing.assert_allclose(loss.numpy(), np.maximum(h, 0).sum(), rtol=1e-5)
    np.testing.assert_allclose(grad.numpy(), x64.T @ (h > 0), rtol=1e-4, atol=1e-3)
