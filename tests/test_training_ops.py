"""The fused Adam kernel computes exactly what the unfused rule computes."""
import numpy as np
import pytest

import flowgrad as tf
from flowgrad.ops import training


def _unfused_adam(w, m, v, g, lr, b1, b2, eps, t):
    alpha = np.float32(lr) * np.sqrt(np.float32(1) - np.float32(b2) ** np.float32(t)) / (
        np.float32(1) - np.float32(b1) ** np.float32(t))
    m = m + (g - m) * (np.float32(1) - np.float32(b1))
    v = v + (g * g - v) * (np.float32(1) - np.float32(b2))
    return w - m * alpha / (np.sqrt(v) + np.float32(eps)), m, v


@pytest.mark.parametrize("compiled", [False, True])
def test_fused_adam_matches_the_rule(compiled):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3)).astype(np.float32)
    w = tf.Variable(w0)
    opt = tf.keras.optimizers.Adam(learning_rate=0.01, epsilon=1e-7)
    grads = [rng.normal(size=(4, 3)).astype(np.float32) for _ in range(3)]

    def step(g):
        opt.apply_gradients([(g, w)])
    step_fn = tf.function(step) if compiled else step
    ref_w, m, v = w0, np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, start=1):
        step_fn(tf.constant(g))
        ref_w, m, v = _unfused_adam(ref_w, m, v, g, 0.01, 0.9, 0.999, 1e-7, t)
        np.testing.assert_allclose(w.numpy(), ref_w, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(opt.get_slot(w, "m").numpy(), m, rtol=1e-6)
    np.testing.assert_allclose(opt.get_slot(w, "v").numpy(), v, rtol=1e-6)


def test_denormal_moments_are_flushed_periodically():
    x = np.array([1e-40, -1e-41, 1e-30, 0.5], np.float32)
    assert np.abs(x[0]) < np.finfo(np.float32).tiny  # really denormal
    training._flush_denormals(x)
    np.testing.assert_array_equal(x, np.array([0, 0, 1e-30, 0.5], np.float32))


def test_failed_fused_step_changes_nothing():
    w = tf.Variable(np.ones((2, 2), np.float32))
    opt = tf.keras.optimizers.Adam(0.1)

    @tf.function
    def bad_step(g):
        opt.apply_gradients([(g, w)])
        return tf.gather(g, [5])  # fails after the update ran in the plan

    before = w.numpy().copy()
    with pytest.raises(tf.errors.InvalidArgumentError):
        bad_step(tf.ones((2, 2)))
    np.testing.assert_array_equal(w.numpy(), before)


@pytest.mark.parametrize("flush", [False, True])
@pytest.mark.parametrize("shape", [(37, 53), (401, 257)])
def test_compiled_adam_has_the_numpy_kernels_bits(flush, shape):
    """float32 Adam runs in one compiled pass (flowgrad/ops/_native.c) when it was built;
    every value, subnormal flushing included, must equal the NumPy kernel's. 37x53 is not a
    multiple of the vector width (the loop's tail); 401x257 is big enough for the helper
    threads to take element ranges while BLAS is held."""
    from flowgrad.ops import native, parallel
    if not native.built():
        pytest.skip("flowgrad/ops/_native.c was not compiled (no C compiler at install)")
    rng = np.random.default_rng(1)
    g, m, v, var = (rng.standard_normal(shape).astype(np.float32) for _ in range(4))
    v = np.abs(v)
    m[0, :5] = [1e-39, -2e-40, 3e-45, 0.0, np.nan]  # subnormal, tiny and nan moments
    g[1, :3] = [1e-20, -1e-21, np.inf]
    args = (np.float32(0.1), np.float32(0.001), np.float32(3e-3), np.float32(1e-7))
    op = training.ApplyAdam.__new__(training.ApplyAdam)
    op.one_minus_b1, op.one_minus_b2, _, op.epsilon = args
    with np.errstate(invalid="ignore"):
        ref = op._numpy(g, np.asarray(args[2]), var, m, v, flush)
        parallel.hold_blas()
        try:
            got = native.adam_update(g, m, v, var, *args, flush)
        finally:
            parallel.release_blas()
    for a, b in zip(got, ref):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("held", [False, True])
def test_compiled_adam_group_has_the_bits_of_one_variable_at_a_time(held):
    """One call for many variables (training.ApplyAdamGroup): all elements cut into equal
    parts across variables (one part straddles two when held) with each variable's own
    flush flag, against the NumPy kernel one variable at a time."""
    from flowgrad.ops import native, parallel
    if not native.built():
        pytest.skip("flowgrad/ops/_native.c was not compiled (no C compiler at install)")
    rng = np.random.default_rng(2)
    shapes, flush = [(401, 257), (7,), (3, 5), (300, 301)], [False, True, False, True]
    items = []
    for shape, f in zip(shapes, flush):
        g, m, v, var = (rng.standard_normal(shape).astype(np.float32) for _ in range(4))
        m.reshape(-1)[:3] = [1e-39, -2e-40, 3e-45]  # flushed only where the flag is set
        items.append((g, m, np.abs(v), var, f, None))
    args = (np.float32(0.1), np.float32(0.001), np.float32(3e-3), np.float32(1e-7))
    op = training.ApplyAdam.__new__(training.ApplyAdam)
    op.one_minus_b1, op.one_minus_b2, _, op.epsilon = args
    if held:
        parallel.hold_blas()
    try:
        got = native.adam_update_group(items, *args)
    finally:
        if held:
            parallel.release_blas()
    for (g, m, v, var, f, _), new in zip(items, got):
        ref = op._numpy(g, np.asarray(args[2]), var, m, v, f)
        for a, b in zip(new, ref):
            assert a.shape == b.shape and a.dtype == np.float32
            np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


def _adam_program(fuse_updates):
    """Two variables trained by one TF1 AdamOptimizer and a third by another (another alpha:
    not grouped with them), 40 steps in a @function; returns the plan's kernels and values."""
    from flowgrad.graph import executor
    saved = dict(executor.OPTIONS)
    # the default pipeline (CSE gives the variables one alpha), even under --flowgrad-passes-off
    executor.OPTIONS.update({name: True for name in executor.OPTIONS})
    executor.OPTIONS["fuse_updates"] = fuse_updates
    try:
        rng = np.random.default_rng(3)
        # 70x60: big enough that the group writes into the arrays of replaced values
        ws = [tf.Variable(rng.standard_normal(s).astype(np.float32)) for s in [(70, 60), (60,)]]
        w3 = tf.Variable(rng.standard_normal(4).astype(np.float32))
        opt, other = tf.compat.v1.train.AdamOptimizer(0.01), tf.compat.v1.train.AdamOptimizer(0.02)
        x = tf.constant(rng.standard_normal((8, 70)).astype(np.float32))

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(tf.matmul(x, ws[0]) + ws[1])) + \
                    tf.reduce_sum(tf.square(w3))
            grads = tape.gradient(loss, ws + [w3])
            opt.apply_gradients(zip(grads[:2], ws))
            other.apply_gradients([(grads[2], w3)])
            return loss
        held, seen = [], []
        for i in range(40):  # past the 32nd step: flushing on the same step either way
            step()
            if i % 10 == 0:  # a value the user keeps must never be written again
                held.append(ws[0].read_value())  # holds the stored array itself
                seen.append(held[-1].numpy().copy())
        for a, b in zip(held, seen):
            np.testing.assert_array_equal(a.numpy(), b)
        concrete = next(iter(step._concrete.values()))
        return [s.kernel.name for s in concrete._plan.ir.steps], [w.numpy() for w in ws + [w3]]
    finally:
        executor.OPTIONS.update(saved)


def test_the_update_fusion_pass_groups_adam_steps_with_the_same_bits():
    kernels, fused = _adam_program(True)
    plain_kernels, plain = _adam_program(False)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
    assert kernels.count("ApplyAdamGroup") == 1 and plain_kernels.count("ApplyAdam") == 3
    assert kernels.count("ApplyAdam") == 1  # the other optimizer's alpha
