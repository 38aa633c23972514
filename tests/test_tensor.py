"""Tensor basics: repr, values, shapes, indexing, operators and dtype rules."""
import operator

import numpy as np
import pytest

import flowgrad as tf


# -- repr and values ---------------------------------------------------------------------------
def test_scalar_repr_matches_tensorflow():
    assert repr(tf.constant(2)) == "<flowgrad.Tensor: shape=(), dtype=int32, numpy=2>"
    assert repr(tf.constant(1.5)) == "<flowgrad.Tensor: shape=(), dtype=float32, numpy=1.5>"


def test_array_repr_shows_numpy_array_with_dtype():
    assert repr(tf.constant([1.0, 2.0])) == (
        "<flowgrad.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>")


def test_symbolic_repr_names_the_tensor():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant([1.0, 2.0], name="x")
    assert repr(x) == "<flowgrad.Tensor 'x:0' shape=(2,) dtype=float32>"


def test_numpy_shape_dtype_and_get_shape():
    t = tf.constant([[1, 2, 3], [4, 5, 6]])
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [4, 5, 6]])
    assert t.shape == (2, 3) and t.shape.as_list() == [2, 3]
    assert t.get_shape() == t.shape and t.shape.rank == 2
    assert t.dtype is tf.int32
    assert tf.constant(3.0).numpy() == np.float32(3.0)  # a NumPy scalar for rank 0
    assert isinstance(tf.constant(3.0).numpy(), np.float32)


def test_numpy_on_symbolic_tensor_explains_how_to_evaluate():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0) * 2.0
    with pytest.raises(NotImplementedError, match="Session.run"):
        x.numpy()


def test_python_conversions():
    assert float(tf.constant(2.5)) == 2.5 and int(tf.constant(7)) == 7
    assert bool(tf.constant(True)) and not bool(tf.constant(0.0))
    assert [1, 2, 3][tf.constant(1)] == 2  # __index__
    assert len(tf.constant([1, 2, 3])) == 3
    assert [float(x) for x in tf.constant([1.0, 2.0])] == [1.0, 2.0]


# -- indexing ----------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    1, -1, (0, 2), slice(1, 3), slice(None, None, 2), slice(None, None, -1),
    (slice(None), slice(None, None, -2)), (Ellipsis, 1), (None, 0), (0, None, Ellipsis),
    (slice(2, 0, -1), Ellipsis, None), (-2, slice(-3, None)),
])
def test_indexing_matches_numpy(key):
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    got = tf.constant(a)[key]
    np.testing.assert_array_equal(got.numpy(), a[key])
    assert got.shape == a[key].shape


def test_newaxis_is_none():
    a = np.arange(6).reshape(2, 3).astype(np.int32)
    assert tf.newaxis is None
    assert tf.constant(a)[tf.newaxis, :, 1].shape == (1, 2)


def test_index_with_scalar_int_tensor():
    a = tf.constant([10, 20, 30])
    assert int(a[tf.constant(2)]) == 30


def test_out_of_range_index_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        tf.constant([1, 2, 3])[5]


def test_indexing_gradient_scatters_back():
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(x[:, ::-2] * 3.0)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[3, 0, 3], [3, 0, 3]])


# -- operators ---------------------------------------------------------------------------------
_A = np.array([[1.5, -2.0], [3.0, 4.0]], np.float32)
_B = np.array([[2.0, 0.5], [-1.0, 3.0]], np.float32)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.floordiv, operator.mod, operator.pow,
                                operator.matmul, operator.lt, operator.le, operator.gt,
                                operator.ge])
def test_binary_operators_and_their_reflections(op):
    b = np.abs(_B) + 0.5 if op in (operator.pow, operator.floordiv, operator.mod) else _B
    a = np.abs(_A) if op is operator.pow else _A
    expect = op(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(op(tf.constant(a), tf.constant(b)).numpy(), expect, rtol=1e-6)
    # reflected: the left operand is a NumPy array, the right a tensor
    np.testing.assert_allclose(op(a, tf.constant(b)).numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(op(tf.constant(a), b).numpy(), expect, rtol=1e-6)


@pytest.mark.parametrize("op,expect", [
    (lambda t: 3.0 - t, 1.0), (lambda t: 3.0 / t, 1.5), (lambda t: 2.0 ** t, 4.0),
    (lambda t: 5.0 // t, 2.0), (lambda t: 5.0 % t, 1.0), (lambda t: 1.0 + t, 3.0),
    (lambda t: 4.0 * t, 8.0), (lambda t: -t, -2.0), (lambda t: abs(-t), 2.0),
    (lambda t: +t, 2.0),
])
def test_python_scalar_reflected_operators(op, expect):
    out = op(tf.constant(2.0))
    assert out.dtype is tf.float32 and float(out) == expect


def test_equality_is_elementwise_and_none_is_false():
    t = tf.constant([1, 2, 3])
    np.testing.assert_array_equal((t == 2).numpy(), [False, True, False])
    np.testing.assert_array_equal((t != 2).numpy(), [True, False, True])
    assert (t == None) is False  # noqa: E711 - TensorFlow's rule for non-tensors


def test_logical_operators():
    a, b = tf.constant([True, False]), tf.constant([True, True])
    np.testing.assert_array_equal((a & b).numpy(), [True, False])
    np.testing.assert_array_equal((a | b).numpy(), [True, True])
    np.testing.assert_array_equal((~a).numpy(), [False, True])


def test_tensors_hash_by_identity():
    a, b = tf.constant(1.0), tf.constant(1.0)
    assert len({a, b}) == 2 and {a: 1}[a] == 1


# -- dtype rules -------------------------------------------------------------------------------
def test_python_values_default_to_float32_and_int32():
    assert tf.constant(1.0).dtype is tf.float32
    assert tf.constant([1, 2]).dtype is tf.int32
    assert tf.constant(True).dtype is tf.bool
    assert tf.constant(2 ** 40).dtype is tf.int64  # does not fit in int32
    assert tf.constant(np.float64(1.0)).dtype is tf.float64  # NumPy keeps its dtype


def test_python_scalar_operand_takes_the_tensor_dtype():
    assert (tf.constant(1.0, tf.float64) * 2).dtype is tf.float64
    assert (tf.constant(3) + 1).dtype is tf.int32


def test_mixing_dtypes_names_op_and_both_dtypes():
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.constant(1) + tf.constant(1.0)
    msg = str(info.value)
    assert "AddV2" in msg and "int32" in msg and "float32" in msg and "cast" in msg


def test_mixing_dtypes_in_a_graph_fails_at_build_time():
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.InvalidArgumentError, match="MatMul.*float64"):
            tf.matmul(tf.ones([2, 2]), tf.ones([2, 2], tf.float64))


def test_cast_converts():
    x = tf.cast(tf.constant([1.7, -1.7]), tf.int32)
    assert x.dtype is tf.int32
    np.testing.assert_array_equal(x.numpy(), [1, -1])  # truncates toward zero
    assert (tf.cast(tf.constant(1), tf.float32) + tf.constant(1.5)).numpy() == 2.5


def test_float_to_int_constant_is_refused():
    with pytest.raises(TypeError):
        tf.constant(1.5, dtype=tf.int32)


# -- module attributes -------------------------------------------------------------------------
def test_module_attribute_assignment_works():
    tf.model = 1
    try:
        assert tf.model == 1
    finally:
        del tf.model


def test_unknown_module_attribute_is_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_thing'"):
        tf.not_a_thing  # noqa: B018


def test_tensorshape_concatenate():
    assert tf.TensorShape([1, None]).concatenate([3]).as_list() == [1, None, 3]
    assert tf.TensorShape([2]).concatenate(tf.TensorShape([])).as_list() == [2]
    assert tf.TensorShape(None).concatenate([3]).rank is None
