"""Optimized and unoptimized plans compute the same thing on the talk's MNIST networks."""
import numpy as np
import pytest

import flowgrad as tf
from flowgrad.graph import executor

PASSES = [k for k in executor.OPTIONS]


def _mnist(n=200):
    (x, y), _ = tf.keras.datasets.mnist.load_data()
    x = (x[:n].astype(np.float32) / 255.0).reshape(n, 28, 28, 1)
    return x, np.eye(10, dtype=np.float32)[y[:n]]


def _dense_params(rng):
    sizes = [784, 200, 100, 60, 30, 10]
    return [rng.normal(0, 0.1, (a, b)).astype(np.float32) for a, b in zip(sizes, sizes[1:])] \
        + [np.full(b, 0.1, np.float32) for b in sizes[1:]]


def _cnn_params(rng):
    shapes = [(6, 6, 1, 6), (5, 5, 6, 12), (4, 4, 12, 24), (7 * 7 * 24, 200), (200, 10)]
    return [rng.normal(0, 0.1, s).astype(np.float32) for s in shapes] + \
        [np.full(s[-1], 0.1, np.float32) for s in shapes]


def _dense_logits(x, v):
    h = tf.reshape(x, [-1, 784])
    for i in range(5):
        h = tf.matmul(h, v[i]) + v[5 + i]
        if i < 4:
            h = tf.nn.relu(h)
    return h


def _cnn_logits(x, v):
    h = tf.nn.relu(tf.nn.conv2d(x, v[0], 1, "SAME") + v[5])
    h = tf.nn.relu(tf.nn.conv2d(h, v[1], 2, "SAME") + v[6])
    h = tf.nn.relu(tf.nn.conv2d(h, v[2], 2, "SAME") + v[7])
    h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 24]), v[3]) + v[8])
    return tf.matmul(h, v[4]) + v[9]


def _train(model, off, steps=3):
    saved = dict(executor.OPTIONS)
    for name in off:
        executor.OPTIONS[name] = False
    try:
        rng = np.random.default_rng(0)
        params, logits_fn = (_dense_params(rng), _dense_logits) if model == "dense" else \
            (_cnn_params(rng), _cnn_logits)
        v = [tf.Variable(p) for p in params]
        opt = tf.keras.optimizers.Adam(0.003)

        @tf.function
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
                    labels=y, logits=logits_fn(x, v)))
            opt.apply_gradients(zip(tape.gradient(loss, v), v))
            return loss

        x, y = _mnist()
        losses = [float(step(x[i * 50:(i + 1) * 50], y[i * 50:(i + 1) * 50]))
                  for i in range(steps)]
        return losses, [w.numpy() for w in v]
    finally:
        executor.OPTIONS.update(saved)


_REFERENCE = {}


@pytest.mark.parametrize("model", ["dense", "cnn"])
@pytest.mark.parametrize("off", [PASSES] + [[p] for p in PASSES], ids=lambda o: "-".join(o))
def test_passes_do_not_change_results(model, off):
    if model not in _REFERENCE:
        _REFERENCE[model] = _train(model, [])
    ref_losses, ref_weights = _REFERENCE[model]
    losses, weights = _train(model, off)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5)
    for a, b in zip(weights, ref_weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert losses[-1] < losses[0]  # and it trains


def _plan_kernels(fn, *args):
    """Kernel names of the plan ``fn`` (an @tf.function) compiles for ``args``."""
    fn(*args)  # the plan is compiled on the first call
    concrete = fn.get_concrete_function(*args)
    return [s.kernel.name for s in concrete._plan.ir.steps]


def _with_and_without_fusion(run, x):
    """``run()`` -> (an @tf.function, its results) built with fusion on, then off:
    (fused results, fused plan's kernels, plain results, plain plan's kernels)."""
    saved = dict(executor.OPTIONS)  # these tests set the fusion switch themselves
    try:
        out = []
        for fuse in (True, False):
            executor.OPTIONS["fuse"] = fuse
            f, result = run()
            out += [result, _plan_kernels(f, tf.constant(x))]
    finally:
        executor.OPTIONS.update(saved)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_bias_relu_fusion_is_bit_exact(dtype):
    """Conv2D + bias (+ Relu) runs as one FusedConv2D step with the bits of the three ops."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 11, 9, 3)).astype(dtype)
    w = tf.constant(rng.standard_normal((3, 3, 3, 7)).astype(dtype))
    w2 = tf.constant(rng.standard_normal((2, 2, 7, 4)).astype(dtype))
    b = tf.Variable(rng.standard_normal(7).astype(dtype))
    b2 = tf.Variable(rng.standard_normal(4).astype(dtype))

    def run():
        @tf.function
        def f(x):
            h = tf.nn.relu(tf.nn.conv2d(x, w, 2, "SAME") + b)  # conv + bias + relu
            return tf.nn.conv2d(h, w2, 1, "VALID") + b2         # conv + bias
        return f, f(tf.constant(x)).numpy()

    fused, kernels, plain, plain_kernels = _with_and_without_fusion(run, x)
    assert kernels.count("FusedConv2D") == 2 and "Conv2D" not in kernels
    assert "Relu" not in kernels and "AddV2" not in kernels
    assert "FusedConv2D" not in plain_kernels
    bits = "u%d" % fused.itemsize  # bit patterns: -0.0 and +0.0 must match too
    np.testing.assert_array_equal(fused.view(bits), plain.view(bits))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_bias_relu_fusion_is_bit_exact(dtype):
    """MatMul + bias (+ Relu) runs as one FusedMatMul step with the bits of the three ops,
    gradients included (the transposed products of the backward pass are not fused)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 9)).astype(dtype)
    w = tf.Variable(rng.standard_normal((9, 5)).astype(dtype))
    w2 = tf.Variable(rng.standard_normal((5, 3)).astype(dtype))
    b = tf.Variable(rng.standard_normal(5).astype(dtype))
    b2 = tf.Variable(rng.standard_normal(3).astype(dtype))

    def run():
        @tf.function
        def f(x):
            with tf.GradientTape() as tape:
                h = tf.nn.relu(tf.matmul(x, w) + b)  # matmul + bias + relu
                y = tf.matmul(h, w2) + b2            # matmul + bias
                loss = tf.reduce_sum(y * y)
            return [y] + tape.gradient(loss, [w, b, w2, b2])
        return f, [t.numpy() for t in f(tf.constant(x))]

    fused, kernels, plain, plain_kernels = _with_and_without_fusion(run, x)
    assert kernels.count("FusedMatMul") == 2 and "Relu" not in kernels
    assert "FusedMatMul" not in plain_kernels and plain_kernels.count("Relu") == 1
    for a, c in zip(fused, plain):
        bits = "u%d" % a.itemsize  # bit patterns: -0.0 and +0.0 must match too
        np.testing.assert_array_equal(a.view(bits), c.view(bits))


def test_conv_is_not_fused_when_its_result_is_read_elsewhere():
    rng = np.random.default_rng(4)
    x = tf.constant(rng.standard_normal((2, 6, 6, 2)).astype(np.float32))
    w = tf.constant(rng.standard_normal((3, 3, 2, 3)).astype(np.float32))
    b = tf.constant(np.ones(3, np.float32))

    @tf.function
    def fetched(x):
        c = tf.nn.conv2d(x, w, 1, "SAME")
        return c, tf.nn.relu(c + b)  # the conv result is fetched too

    @tf.function
    def broadcast_bias(x):  # a [1, 1, 1, 3] "bias" is not a bias vector: left as AddV2
        return tf.nn.conv2d(x, w, 1, "SAME") + tf.reshape(b, [1, 1, 1, 3])

    saved = dict(executor.OPTIONS)
    executor.OPTIONS["fuse"] = True
    try:
        assert "FusedConv2D" not in _plan_kernels(fetched, x)
        assert "FusedConv2D" not in _plan_kernels(broadcast_bias, x)
    finally:
        executor.OPTIONS.update(saved)
    c, y = fetched(x)
    np.testing.assert_array_equal(y.numpy(), np.maximum(c.numpy() + 1, 0))


def test_session_with_unknown_batch_fuses_and_trains_bit_exactly():
    """With a [None, ...] placeholder the add's gradient reads the conv result's runtime
    shape; fusion points that shape read at the fused result and keeps every bit."""
    import flowgrad.compat.v1 as v1
    rng = np.random.default_rng(5)
    feed_x = rng.standard_normal((4, 10, 10, 2)).astype(np.float32)
    w0 = rng.standard_normal((3, 3, 2, 5)).astype(np.float32) * 0.3

    def train(fuse):
        saved = dict(executor.OPTIONS)
        executor.OPTIONS["fuse"] = fuse
        try:
            g = v1.Graph()
            with g.as_default():
                x = v1.placeholder(v1.float32, [None, 10, 10, 2])
                w = v1.Variable(w0)
                b = v1.Variable(np.full(5, 0.1, np.float32))
                h = v1.nn.relu(v1.nn.conv2d(x, w, strides=[1, 2, 2, 1], padding="SAME") + b)
                loss = v1.reduce_mean(v1.square(h - 1.0))
                step = v1.train.AdamOptimizer(0.05).minimize(loss)
                with v1.Session(graph=g) as sess:
                    sess.run(v1.global_variables_initializer())
                    losses = [sess.run([step, loss], {x: feed_x})[1] for _ in range(4)]
                    kernels = [s.kernel.name for p in sess._plans.values()
                               for s in p.ir.steps]
                    return losses, sess.run(w), kernels
        finally:
            executor.OPTIONS.update(saved)

    fused_losses, fused_w, kernels = train(True)
    plain_losses, plain_w, plain_kernels = train(False)
    assert "FusedConv2D" in kernels and "FusedConv2D" not in plain_kernels
    np.testing.assert_array_equal(fused_losses, plain_losses)
    np.testing.assert_array_equal(fused_w, plain_w)
    assert fused_losses[-1] < fused_losses[0]
