"""Batch parts on every core: matrix products split while BLAS is held at one thread, and
the plans that hold it (ops/parallel.py, graph/executor.py)."""
from __future__ import annotations

import numpy as np
import pytest

import flowgrad as tf
from flowgrad.ops import parallel


def _controllers():
    controllers = parallel._blas_controllers()
    if not controllers:
        pytest.skip("threadpoolctl is not installed: nothing holds BLAS or splits products")
    return controllers


def _threads():
    return [c.get_num_threads() for c in _controllers()]


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("transpose_a", [False, True])
def test_a_held_product_runs_in_row_parts_with_the_same_bits_for_any_worker_count(
        monkeypatch, transpose_a):
    """NumPy parts (the path of float64, or without the compiled products: tests/ops/
    test_gemm.py covers those)."""
    _controllers()
    monkeypatch.setattr(parallel, "_gemm", None)
    monkeypatch.setattr(parallel._Workers, "cores", 3)
    a = _rand(400, 301) if transpose_a else _rand(301, 400)
    a = a.T if transpose_a else a  # a transposed view, as MatMul's gradients pass it
    b = _rand(400, 150, seed=1)  # 36 MFLOP: three parts of 8 or more
    calls = []
    real_run = parallel.run
    monkeypatch.setattr(parallel, "run", lambda fn, parts, blas=True: calls.append(
        len(parts)) or real_run(fn, parts, blas))
    parallel.hold_blas()
    try:
        many = parallel.matmul(a, b)
        parallel.set_max_workers(1)
        try:
            one = parallel.matmul(a, b)
        finally:
            parallel.set_max_workers(0)
    finally:
        parallel.release_blas()
    assert calls == [3, 3]
    np.testing.assert_array_equal(one, many)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(many, ref, rtol=1e-4, atol=1e-4)
    assert many.dtype == np.float32 and many.shape == (301, 150)


def test_an_unheld_or_small_or_batched_product_is_plain_numpy(monkeypatch):
    monkeypatch.setattr(parallel, "run", lambda *a, **k: pytest.fail("split unexpectedly"))
    a, b = _rand(300, 400), _rand(400, 60, seed=1)
    np.testing.assert_array_equal(parallel.matmul(a, b), np.matmul(a, b))  # not held
    parallel.hold_blas()
    try:
        small = parallel.matmul(a[:4], b)  # too little work to split
        batched = parallel.matmul(np.stack([a, a]), b)
        ints = parallel.matmul(np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2))
    finally:
        parallel.release_blas()
    np.testing.assert_allclose(small, a[:4] @ b, rtol=1e-5, atol=1e-5)
    assert batched.shape == (2, 300, 60)
    np.testing.assert_array_equal(ints, [[10, 13], [28, 40]])


def _record_blas_threads(monkeypatch):
    seen = []
    real = parallel.matmul

    def recording(*args):
        seen.append(_threads())
        return real(*args)
    monkeypatch.setattr(parallel, "matmul", recording)
    return seen


def test_a_plan_with_convolutions_holds_blas_at_one_thread_and_restores_it(monkeypatch):
    before = _threads()
    seen = _record_blas_threads(monkeypatch)
    w = tf.constant(_rand(3, 3, 2, 4))
    dense = tf.constant(_rand(4 * 4 * 4, 5, seed=2))

    @tf.function
    def net(x):
        h = tf.nn.relu(tf.nn.conv2d(x, w, 2, "SAME"))
        return tf.matmul(tf.reshape(h, [-1, 4 * 4 * 4]), dense)

    @tf.function
    def mlp(x):
        return tf.matmul(x, dense)

    x = _rand(2, 8, 8, 2, seed=3)
    out = net(tf.constant(x)).numpy()
    assert seen == [[1] * len(before)] and _threads() == before
    seen.clear()
    mlp(tf.constant(_rand(2, 64, seed=4)))
    if parallel.has_compiled_gemm():  # its products run as compiled row parts
        assert seen == [[1] * len(before)] and _threads() == before
    else:  # no convolution: BLAS keeps its own threads
        assert seen == [before]
    # and the held product is the same product (float64 reference)
    h = np.maximum(_conv_ref(x, w.numpy()), 0).reshape(2, -1)
    np.testing.assert_allclose(out, h @ dense.numpy().astype(np.float64), rtol=1e-4, atol=1e-4)


def _conv_ref(x, w):
    """SAME, stride 2, 3x3: pads 0 before and 1 after on an even size."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 1), (0, 1), (0, 0)))
    n, h, wd, c = x.shape
    out = np.zeros((n, (h - 1) // 2, (wd - 1) // 2, w.shape[-1]))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            patch = x[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :]
            out[:, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


def test_a_failing_run_still_restores_blas_threads():
    before = _threads()
    g = tf.Graph()
    with g.as_default():
        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, [None, 8, 8, 2])
        y = tf.nn.conv2d(x, tf.constant(_rand(3, 3, 2, 4)), 1, "SAME")
        z = tf.reshape(y, [-1, 7])  # 8*8*4 per image is not a multiple of 7
    with tf.compat.v1.Session(graph=g) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(z, {x: _rand(1, 8, 8, 2)})
    assert _threads() == before and parallel._Workers.depth == 0


def test_a_late_helper_leaves_its_parts_to_the_caller(monkeypatch):
    """The caller takes parts until none is left: when no helper wakes up in time (here one
    that never starts), the caller runs every part itself, results in part order."""
    import threading
    monkeypatch.setattr(parallel._Workers, "cores", 2)
    monkeypatch.setattr(parallel._Workers, "helpers", parallel._Helpers(1, None, start=False))
    ran_by = {}

    def part(p):
        ran_by[p.start] = threading.current_thread().name
        return p.start
    out = parallel.run(part, [slice(0, 1), slice(1, 2), slice(2, 3)], blas=False)
    assert out == [0, 1, 2]
    assert set(ran_by.values()) == {threading.current_thread().name}


@pytest.mark.parametrize("compiled", [True, False])
def test_helpers_run_python_parts_beside_the_caller(monkeypatch, compiled):
    """Helpers take Python parts: in C's pool (spinning between jobs) or, without the
    compiled library, from a condition."""
    import threading
    import time
    from flowgrad.ops import native
    if compiled:
        if native.library() is None or parallel._Workers.cores < 2:
            pytest.skip("needs the compiled library and two cores")
        helpers = parallel._helpers()  # the process's own: one set of C-serving threads
    else:
        monkeypatch.setattr(parallel._Workers, "cores", 2)
        helpers = parallel._Helpers(1, None)
        monkeypatch.setattr(parallel._Workers, "helpers", helpers)
    assert helpers is not None
    for rnd in range(3):  # the helper spins between jobs, or sleeps and is woken
        ran_by = {}

        def part(p):
            time.sleep(0.03)  # both threads must be inside a part at once
            ran_by[p.start] = threading.current_thread().name
            return p.start * 10
        out = parallel.run(part, [slice(0, 1), slice(1, 2)], blas=False)
        assert out == [0, 10]
        assert len(set(ran_by.values())) == 2, ran_by
        time.sleep(0.002 * rnd)


def test_compiled_parts_run_on_the_helpers_too(monkeypatch):
    """A compiled convolution's parts are claimed in C by the caller and the helpers: with
    the helpers blocked out of the job (no active helper) the result is the same."""
    from flowgrad.ops import conv_kernels as ck, native
    if native.library() is None or parallel._Workers.cores < 2:
        pytest.skip("needs the compiled library and two cores")
    x, w = _rand(64, 28, 28, 6), _rand(5, 5, 6, 12, seed=1)
    dy = _rand(64, 14, 14, 12, seed=2)
    both = [ck.conv2d_forward(x, w, 2, "SAME"), ck.conv2d_backward_filter(x, dy, w.shape, 2,
            "SAME"), ck.conv2d_backward_input(dy, w, x.shape, 2, "SAME")]
    monkeypatch.setattr(parallel, "helpers_for", lambda parts: 0)
    alone = [ck.conv2d_forward(x, w, 2, "SAME"), ck.conv2d_backward_filter(x, dy, w.shape, 2,
             "SAME"), ck.conv2d_backward_input(dy, w, x.shape, 2, "SAME")]
    for a, b in zip(both, alone):
        np.testing.assert_array_equal(a, b)


def test_a_failing_part_raises_after_every_part_has_stopped(monkeypatch):
    import time
    monkeypatch.setattr(parallel._Workers, "cores", 2)
    finished = []

    def part(p):
        if p.start == 0:
            raise ValueError("part 0 failed")
        time.sleep(0.05)
        finished.append(p.start)
    with pytest.raises(ValueError, match="part 0 failed"):
        parallel.run(part, [slice(0, 1), slice(1, 2)], blas=False)
    assert finished == [1]  # the other part had finished when run() raised


def test_two_threads_mixing_compiled_and_python_jobs_get_exact_results():
    """Jobs from two threads at once: one holds the helpers, the other runs its parts alone;
    compiled (conv) and Python (matrix product) jobs interleave, helpers fall asleep and
    wake. Every result must keep its bits (a helper finishing a part after its job returned
    would show here)."""
    import threading
    import time
    from flowgrad.ops import conv_kernels as ck
    x, w, dy = _rand(32, 28, 28, 6), _rand(5, 5, 6, 12, seed=1), _rand(32, 14, 14, 12, seed=2)
    a, b = _rand(300, 400, seed=3), _rand(400, 150, seed=4)

    def products(dtype):  # float32: compiled row parts; float64: NumPy parts (a Python job)
        parallel.hold_blas()
        try:
            return parallel.matmul(a.astype(dtype), b.astype(dtype))
        finally:
            parallel.release_blas()
    jobs = [lambda: ck.conv2d_forward(x, w, 2, "SAME"),
            lambda: ck.conv2d_backward_filter(x, dy, w.shape, 2, "SAME"),
            lambda: products(np.float32), lambda: products(np.float64)]
    want = [job().copy() for job in jobs]
    bad = []

    def worker(n, seed):
        rng = np.random.default_rng(seed)
        for _ in range(n):
            k = int(rng.integers(len(jobs)))
            if not np.array_equal(jobs[k](), want[k]):
                bad.append(k)
            if rng.random() < 0.05:
                time.sleep(rng.random() * 0.003)  # long enough for helpers to sleep
    other = threading.Thread(target=worker, args=(150, 1))
    other.start()
    worker(300, 2)
    other.join()
    assert bad == []
