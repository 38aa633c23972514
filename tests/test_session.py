"""The TF1 face: graphs, placeholders, Session.run, initializers, errors and transactions."""
import collections

import numpy as np
import pytest

import flowgrad as tf2
import flowgrad.compat.v1 as tf


# -- mode switches and graphs --------------------------------------------------------------------
def test_compat_v1_builds_graphs_and_is_not_eager():
    x = tf.constant(1.0)
    assert x.graph is tf.get_default_graph() and not tf.executing_eagerly()
    assert tf2.executing_eagerly()  # the TF2 face stays eager


def test_disable_eager_execution_switches_tf2_functions_to_graphs():
    tf.disable_eager_execution()
    assert not tf2.executing_eagerly()
    y = tf2.constant(2.0) * 3.0
    assert y.graph is tf.get_default_graph()
    with tf.Session() as sess:
        assert sess.run(y) == 6.0


def test_disable_v2_behavior_is_graph_mode():
    tf.disable_v2_behavior()
    assert not tf.executing_eagerly() and not tf2.executing_eagerly()


def test_reset_default_graph_starts_a_new_graph():
    g0 = tf.get_default_graph()
    tf.constant(1.0)
    tf.reset_default_graph()
    assert tf.get_default_graph() is not g0 and tf.get_default_graph().get_operations() == []


def test_reset_default_graph_inside_another_graph_is_refused():
    with tf.Graph().as_default():
        with pytest.raises(AssertionError):
            tf.reset_default_graph()


def test_graph_as_default_scopes_new_ops():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(3.0, name="c")
        assert tf.get_default_graph() is g
    assert c.graph is g and tf.get_default_graph() is not g
    assert [op.name for op in g.get_operations()] == ["c"]


# -- Session.run --------------------------------------------------------------------------------
def _graph():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable([[1.0], [2.0]], name="w")
    y = tf.matmul(x, w, name="y")
    return x, w, y


def test_session_context_manager_and_close():
    x, w, y = _graph()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert tf.get_default_session() is sess
        np.testing.assert_array_equal(sess.run(y, {x: [[1.0, 1.0]]}), [[3.0]])
    assert tf.get_default_session() is None
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(y, {x: [[1.0, 1.0]]})


def test_fetch_structures():
    Pair = collections.namedtuple("Pair", "first second")
    x, w, y = _graph()
    init = tf.global_variables_initializer()
    feed = {x: [[1.0, 0.0]]}
    with tf.Session() as sess:
        assert sess.run(init) is None
        assert sess.run(y, feed).shape == (1, 1)
        a, b = sess.run([y, w], feed)
        assert a[0, 0] == 1.0 and b.shape == (2, 1)
        assert isinstance(sess.run((y, w), feed), tuple)
        d = sess.run({"y": y, "nested": [w, (y, init)]}, feed)
        assert d["y"][0, 0] == 1.0 and d["nested"][1][1] is None
        p = sess.run(Pair(y, {"w": w}), feed)
        assert isinstance(p, Pair) and p.second["w"].shape == (2, 1)


def test_fetch_and_feed_by_name():
    x, w, y = _graph()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run("y:0", feed_dict={"x:0": [[2.0, 1.0]]})
        assert out[0, 0] == 4.0
        assert sess.run(["y:0", "w:0"], {"x:0": [[0.0, 1.0]]})[0][0, 0] == 2.0


def test_feeding_a_non_placeholder_overrides_it():
    a = tf.constant(2.0)
    b = a * 10.0
    with tf.Session() as sess:
        assert sess.run(b) == 20.0
        assert sess.run(b, {a: 3.0}) == 30.0


def test_fetched_values_are_numpy():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        out = sess.run(v)
        out[0] = 100.0  # a copy: changing it must not change the variable
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        assert isinstance(sess.run(tf.constant(1.0)), np.float32)


def test_interactive_session_eval_and_run():
    v = tf.Variable(1.0)
    inc = tf.assign_add(v, 2.0)
    sess = tf.InteractiveSession()
    try:
        tf.global_variables_initializer().run()
        assert inc.eval() == 3.0
        inc.op.run()
        assert v.eval() == 5.0
        assert (v * 2.0).eval() == 10.0
    finally:
        sess.close()
    with pytest.raises(ValueError, match="no default session"):
        v.eval()


def test_session_on_another_graph():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(4.0)
    with tf.Session(graph=g) as sess:
        assert sess.run(c) == 4.0
    with tf.Session() as sess, pytest.raises(ValueError, match="graph"):
        sess.run(c)


# -- control flow helpers ------------------------------------------------------------------------
def test_control_dependencies_run_first():
    v = tf.Variable(1.0)
    set_v = tf.assign(v, 10.0)
    with tf.control_dependencies([set_v]):
        r = tf.identity(tf.constant(0.0))
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(r)
        assert sess.run(v) == 10.0


def test_group_and_no_op():
    a, b = tf.Variable(0), tf.Variable(0)
    both = tf.group(tf.assign_add(a, 1), tf.assign_add(b, 2))
    nothing = tf.no_op()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(both) is None and sess.run(nothing) is None
        sess.run(both)
        assert sess.run([a, b]) == [2, 4]


def test_global_trainable_and_partial_initializers():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b", trainable=False)
    assert [v.name for v in tf.global_variables()] == ["a:0", "b:0"]
    assert [v.name for v in tf.trainable_variables()] == ["a:0"]
    with tf.Session() as sess:
        sess.run(tf.variables_initializer([a]))
        assert sess.run(a) == 1.0
        with pytest.raises(tf.errors.FailedPreconditionError, match="b"):
            sess.run(b)


def test_gradients_symbolic():
    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(x * x * 3.0)
    z = tf.constant(1.0)
    gx, gz = tf.gradients(y, [x, z])
    assert gz is None
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(gx, {x: [1.0, 2.0, 3.0]}), [6.0, 12.0, 18.0])


def test_gradients_with_grad_ys_and_second_order():
    x = tf.placeholder(tf.float32, [])
    y = x ** 3
    (g,) = tf.gradients(y, [x], grad_ys=[tf.constant(2.0)])
    (gg,) = tf.gradients(g, [x])
    with tf.Session() as sess:
        assert sess.run([g, gg], {x: 2.0}) == [24.0, 24.0]  # 2*3x^2 and 2*6x


# -- errors --------------------------------------------------------------------------------------
def test_uninitialized_variable_is_failed_precondition_naming_it():
    w = tf.Variable(1.0, name="weights")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="weights"):
            sess.run(w * 2.0)


def test_unfed_placeholder_is_invalid_argument_naming_it():
    x = tf.placeholder(tf.float32, [None, 3], name="images")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="images"):
            sess.run(x * 2.0)


def test_wrong_shape_feed_names_tensor_and_shapes():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=r"shape \(2,\).*'x:0'"):
            sess.run(x, {x: [1.0, 2.0]})


def test_wrong_dtype_feed_is_refused():
    i = tf.placeholder(tf.int32, [2], name="ids")
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="ids"):
            sess.run(i, {i: [1.5, 2.5]})
        with pytest.raises(ValueError, match="ids"):
            sess.run(i, {i: ["a", "b"]})
        np.testing.assert_array_equal(sess.run(i, {i: [1, 2]}), [1, 2])


def test_failed_run_leaves_every_variable_unchanged():
    v = tf.Variable([1.0, 2.0])
    x = tf.placeholder(tf.float32, [None])
    set_v = tf.assign(v, [5.0, 5.0])  # created (and so run) before the failing op
    bad = tf.reshape(x, [7])
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="reshape"):
            sess.run([set_v, bad], {x: [1.0, 2.0]})
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        sess.run(set_v)  # the same op on its own does commit
        np.testing.assert_array_equal(sess.run(v), [5.0, 5.0])


def test_failed_train_step_rolls_back_weights_slots_and_global_step():
    w = tf.Variable([1.0, -1.0])
    x = tf.placeholder(tf.float32, [2])
    loss = tf.reduce_sum(w * w * x)
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=step)
    with tf.control_dependencies([train]):
        checked = tf2.debugging.check_numerics(x, "input batch")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: [1.0, 1.0]})
        before = sess.run(tf.global_variables())
        with pytest.raises(tf.errors.InvalidArgumentError, match="input batch"):
            sess.run(checked, {x: [1.0, np.nan]})
        after = sess.run(tf.global_variables())
    assert len(before) == 6  # w, global_step, m, v and Adam's two beta powers
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_enable_eager_execution_makes_compat_v1_eager():
    tf.enable_eager_execution()
    assert tf.executing_eagerly()
    with tf.variable_scope("s"):
        v = tf.get_variable("v", [2], initializer=tf.ones_initializer())
    with tf.variable_scope("s", reuse=True):
        assert tf.get_variable("v") is v
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])  # an eager variable
    tf.train.GradientDescentOptimizer(0.25).minimize(lambda: tf.reduce_sum(v * v), var_list=[v])
    np.testing.assert_array_equal(v.numpy(), [0.5, 0.5])
    with pytest.raises(RuntimeError, match="eager"):
        tf.placeholder(tf.float32)
    tf.reset_default_graph()
    with tf.variable_scope("s"):  # a fresh store after reset_default_graph
        assert tf.get_variable("v", [1], initializer=tf.zeros_initializer()) is not v


def test_repeated_run_of_one_fetch_matches_the_general_path():
    # sess.run(train) / sess.run(t) without a feed reuse a cached plan (the training-loop fast
    # path); results, None for ops, errors and closing behave as on the first call
    import flowgrad.compat.v1 as v1
    g = v1.Graph()
    with g.as_default():
        w = v1.Variable(0.0)
        x = v1.placeholder(v1.float32, [])
        train = v1.assign_add(w, 1.0).op
        doubled = w * 2.0
        needs_feed = w + x
        sess = v1.Session()
        sess.run(v1.global_variables_initializer())
        assert [sess.run(train) for _ in range(3)] == [None, None, None]
        assert sess.run(doubled) == sess.run(doubled) == 6.0
        assert sess.run([doubled]) == [6.0]
        for _ in range(2):
            with pytest.raises(v1.errors.InvalidArgumentError):
                sess.run(needs_feed)
        assert sess.run(needs_feed, {x: 1.0}) == 4.0
        sess.close()
        with pytest.raises(RuntimeError):
            sess.run(train)
