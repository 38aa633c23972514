"""Keras layers: the Layer protocol (naming, building, weights, losses, training flag) and
each layer's computation against NumPy references."""
import numpy as np
import pytest

import flowgrad as tf
from flowgrad import keras

layers = keras.layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _np(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


# -- the Layer protocol ---------------------------------------------------------------------
def test_names_are_unique_and_deterministic():
    a, b, c = layers.Dense(2), layers.Dense(2), layers.MaxPooling2D()
    assert (a.name, b.name, c.name) == ("dense", "dense_1", "max_pooling2d")
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.Conv2D(1, 1).name == "conv2d"
    keras.backend.clear_session()
    assert layers.Dense(2).name == "dense"


def test_dense_builds_lazily_with_named_weights():
    layer = layers.Dense(3)
    assert not layer.built and layer.weights == []
    y = layer(np.ones((4, 2), np.float32))
    assert layer.built and y.shape == (4, 3)
    assert [w.name for w in layer.weights] == ["dense/kernel:0", "dense/bias:0"]
    assert [tuple(w.shape) for w in layer.weights] == [(2, 3), (3,)]
    assert layer.count_params() == 9


def test_dense_matches_numpy_for_rank_2_and_3():
    rng = np.random.default_rng(0)
    k, b = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    layer = layers.Dense(3, activation="relu")
    layer.build(tf.TensorShape([None, 4]))
    layer.set_weights([k, b])
    x2 = rng.normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(_np(layer(x2)), np.maximum(x2 @ k + b, 0), rtol=1e-5)
    x3 = rng.normal(size=(2, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(_np(layer(x3)), np.maximum(x3 @ k + b, 0), rtol=1e-5,
                               atol=1e-6)


def test_dense_without_bias_and_float64_inputs_are_cast():
    layer = layers.Dense(2, use_bias=False, kernel_initializer="ones")
    y = layer(np.ones((1, 3)))  # float64 in: autocast to the layer's float32
    assert y.dtype == tf.float32 and [w.name for w in layer.weights] == ["dense/kernel:0"]
    np.testing.assert_array_equal(_np(y), [[3.0, 3.0]])


def test_count_params_before_build_is_an_error():
    with pytest.raises(ValueError, match="isn't built"):
        layers.Dense(2).count_params()


def test_set_weights_checks_count_and_shapes():
    layer = layers.Dense(2)
    layer.build(tf.TensorShape([None, 3]))
    with pytest.raises(ValueError, match="expecting 2 weights"):
        layer.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"\(3, 2\) is not compatible .* \(3, 4\)"):
        layer.set_weights([np.zeros((3, 4)), np.zeros(2)])
    layer.set_weights([np.full((3, 2), 2.0), np.ones(2)])
    np.testing.assert_array_equal(layer.get_weights()[0], np.full((3, 2), 2.0))


class Block(layers.Layer):
    """A custom layer with sublayers in a list, a variable attribute and add_weight."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.parts = [layers.Dense(2, name="first"), layers.Dense(1, name="second")]
        self.scale = tf.Variable(2.0, name="scale", trainable=False)

    def build(self, input_shape):
        self.offset = self.add_weight("offset", shape=(1,), initializer="zeros")

    def call(self, inputs):
        x = inputs
        for part in self.parts:
            x = part(x)
        return x * self.scale + self.offset


def test_nested_layers_and_variables_are_tracked_in_keras_order():
    block = Block()
    block(np.ones((2, 3), np.float32))
    names = [w.name for w in block.weights]
    assert names == ["block/offset:0", "block/first/kernel:0", "block/first/bias:0",
                     "block/second/kernel:0", "block/second/bias:0", "scale:0"]
    assert len(block.trainable_weights) == 5 and len(block.non_trainable_weights) == 1
    assert block.count_params() == 1 + 8 + 3 + 1


def test_trainable_false_moves_weights_to_non_trainable():
    block = Block()
    block(np.ones((2, 3), np.float32))
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 6
    assert not block.parts[0].trainable  # set recursively, as in Keras


def test_regularization_losses_are_recomputed_from_current_weights():
    layer = layers.Dense(2, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(
        0.5), bias_regularizer=keras.regularizers.L1(0.25), bias_initializer="ones")
    layer(np.ones((1, 3), np.float32))
    assert len(layer.losses) == 2
    # 0.5 * sum(k^2) = 0.5 * 6, 0.25 * sum(|b|) = 0.25 * 2
    np.testing.assert_allclose([float(v) for v in layer.losses], [3.0, 0.5])
    layer.kernel.assign(np.full((3, 2), 2.0, np.float32))
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * 4.0 * 6)


def test_activity_regularizer_is_divided_by_batch_size():
    layer = layers.Dense(1, kernel_initializer="ones", use_bias=False,
                         activity_regularizer=keras.regularizers.L1(1.0))
    layer(np.array([[1.0, 1.0], [2.0, 2.0]], np.float32))
    np.testing.assert_allclose(float(layer.losses[0]), (2.0 + 4.0) / 2)


class _Probe(layers.Layer):
    def __init__(self):
        super().__init__()
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append(training)
        return inputs


def test_training_flag_propagates_to_nested_layers():
    probe = _Probe()
    model = keras.Sequential([layers.Dense(2), probe])
    x = np.ones((1, 3), np.float32)
    model(x, training=True)
    model(x, training=False)
    model(x)
    probe(x, training=True)
    assert probe.seen[-4:] == [True, False, None, True]


def test_layer_config_round_trip():
    dense = layers.Dense(4, activation="tanh", use_bias=False, name="d")
    config = dense.get_config()
    assert config["units"] == 4 and config["activation"] == "tanh" and config["name"] == "d"
    clone = layers.Dense.from_config(config)
    assert (clone.units, clone.use_bias, clone.activation) == (4, False,
                                                               keras.activations.tanh)
    conv = layers.Conv2D(3, (2, 3), strides=2, padding="same")
    c2 = layers.deserialize(layers.serialize(conv))
    assert isinstance(c2, layers.Conv2D)
    assert (c2.kernel_size, c2.strides, c2.padding) == ((2, 3), (2, 2), "same")


def test_compute_output_shape_by_symbolic_call():
    assert layers.Dense(7).compute_output_shape((None, 3)) == (None, 7)
    assert layers.Conv2D(4, 3, strides=2).compute_output_shape((None, 9, 9, 2)) == \
        (None, 4, 4, 4)


# -- shape layers -----------------------------------------------------------------------------
def test_flatten_and_reshape():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(_np(layers.Flatten()(x)), x.reshape(2, 12))
    np.testing.assert_array_equal(_np(layers.Reshape((4, 3))(x)), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(_np(layers.Reshape((-1, 2))(x)), x.reshape(2, 6, 2))
    inputs = keras.Input(shape=(3, 4))
    assert layers.Flatten()(inputs).shape == (None, 12)
    assert layers.Reshape((2, -1))(inputs).shape == (None, 2, 6)


# -- convolution and pooling ------------------------------------------------------------------
def _conv_reference(x, k, stride, padding):
    n, h, w, c = x.shape
    kh, kw, _, o = k.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph = max((oh - 1) * stride + kh - h, 0)
        pw = max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return out


@pytest.mark.parametrize("padding,stride", [("valid", 1), ("same", 2), ("same", 1)])
def test_conv2d_matches_numpy(padding, stride):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    layer = layers.Conv2D(4, (3, 2), strides=stride, padding=padding)
    y = layer(x)
    k, b = layer.get_weights()
    assert k.shape == (3, 2, 3, 4) and layer.count_params() == 3 * 2 * 3 * 4 + 4
    np.testing.assert_allclose(_np(y), _conv_reference(x, k, stride, padding) + b,
                               rtol=1e-4, atol=1e-5)


def test_pooling_layers_match_numpy():
    x = np.random.default_rng(2).normal(size=(2, 4, 6, 3)).astype(np.float32)
    windows = x.reshape(2, 2, 2, 3, 2, 3)
    np.testing.assert_allclose(_np(layers.MaxPooling2D()(x)), windows.max(axis=(2, 4)))
    np.testing.assert_allclose(_np(layers.AveragePooling2D()(x)), windows.mean(axis=(2, 4)),
                               rtol=1e-6)
    assert layers.MaxPool2D is layers.MaxPooling2D
    np.testing.assert_allclose(_np(layers.GlobalAveragePooling2D()(x)), x.mean(axis=(1, 2)),
                               rtol=1e-6)
    assert layers.MaxPooling2D(3, strides=1, padding="same")(x).shape == (2, 4, 6, 3)


# -- activations -------------------------------------------------------------------------------
def test_activation_layers():
    x = np.array([[-2.0, -0.5, 0.5, 3.0]], np.float32)
    np.testing.assert_allclose(_np(layers.Activation("relu")(x)), np.maximum(x, 0))
    np.testing.assert_allclose(_np(layers.ReLU(max_value=1.0)(x)), np.clip(x, 0, 1))
    np.testing.assert_allclose(_np(layers.LeakyReLU(0.1)(x)), np.where(x > 0, x, 0.1 * x),
                               rtol=1e-6)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(_np(layers.Softmax()(x)), e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(_np(keras.activations.get("sigmoid")(x)), 1 / (1 + np.exp(-x)),
                               rtol=1e-6)
    np.testing.assert_allclose(_np(keras.activations.softplus(x)), np.log1p(np.exp(x)),
                               rtol=1e-6)
    np.testing.assert_allclose(_np(keras.activations.elu(x)), np.where(x > 0, x, np.expm1(x)),
                               rtol=1e-6)


# -- dropout -------------------------------------------------------------------------------------
def test_dropout_only_in_training():
    x = np.ones((200, 50), np.float32)
    layer = layers.Dropout(0.4, seed=3)
    np.testing.assert_array_equal(_np(layer(x)), x)              # default: inference
    np.testing.assert_array_equal(_np(layer(x, training=False)), x)
    y = _np(layer(x, training=True))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.6)}
    # 10000 Bernoulli(0.4) drops: the fraction is within 5 standard deviations of 0.4
    assert abs((y == 0).mean() - 0.4) < 5 * np.sqrt(0.4 * 0.6 / y.size)


def test_dropout_noise_shape_drops_whole_features():
    y = _np(layers.Dropout(0.5, noise_shape=(None, 1, 6), seed=4)(
        np.ones((8, 5, 6), np.float32), training=True))
    assert (y == y[:, :1, :]).all()


# -- merging -------------------------------------------------------------------------------------
def test_merge_layers():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(_np(layers.Add()([a, b])), a + b)
    np.testing.assert_array_equal(_np(layers.Subtract()([a, b])), a - b)
    np.testing.assert_array_equal(_np(layers.Multiply()([a, b, b])), a)
    np.testing.assert_array_equal(_np(layers.Average()([a, b])), (a + b) / 2)
    np.testing.assert_array_equal(_np(layers.Concatenate()([a, b])), np.concatenate([a, b], 1))
    with pytest.raises(ValueError, match="at least 2"):
        layers.Add()([a])


# -- Normalization -------------------------------------------------------------------------------
def test_normalization_adapt_matches_numpy_and_counts_params():
    rng = np.random.default_rng(5)
    data = rng.normal(3.0, 2.0, size=(100, 3)).astype(np.float32)
    norm = layers.Normalization()
    norm.adapt(data)
    np.testing.assert_allclose(norm.adapt_mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.adapt_variance.numpy(), data.var(0), rtol=1e-5)
    assert int(norm.count.numpy()) == 100 and norm.count_params() == 3 + 3 + 1
    out = _np(norm(data))
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, rtol=1e-4)


def test_normalization_adapt_on_batches_equals_whole_data():
    data = np.random.default_rng(6).uniform(size=(50, 2, 4)).astype(np.float32)
    whole, batched = layers.Normalization(axis=-1), layers.Normalization(axis=-1)
    whole.adapt(data)
    batched.adapt(tf.data.Dataset.from_tensor_slices(data).batch(7))
    np.testing.assert_allclose(batched.adapt_mean.numpy(), whole.adapt_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(batched.adapt_variance.numpy(), whole.adapt_variance.numpy(),
                               rtol=1e-5)
    np.testing.assert_allclose(whole.adapt_mean.numpy(), data.mean((0, 1)), rtol=1e-5)


def test_normalization_with_given_statistics_and_invert():
    norm = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    x = np.array([[3.0, 8.0]], np.float32)
    np.testing.assert_allclose(_np(norm(x)), [[1.0, 2.0]])
    inv = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    np.testing.assert_allclose(_np(inv(np.array([[1.0, 2.0]], np.float32))), x)
    assert norm.count_params() == 0


def test_rescaling():
    np.testing.assert_allclose(_np(layers.Rescaling(1 / 255.0)(np.array([[255]], np.uint8))),
                               [[1.0]])


# -- augmentation ----------------------------------------------------------------------------------
def _images(n=8, h=5, w=6, c=2, seed=7):
    return np.random.default_rng(seed).uniform(size=(n, h, w, c)).astype(np.float32)


def _transform(images, rows, **kwargs):
    from flowgrad.keras.layers.image_transform import transform
    return transform(images, np.asarray(rows, np.float32), **kwargs).numpy()


def test_transform_shift_with_each_fill_mode():
    x = _images(1)
    right = [[1, 0, 2, 0, 1, 0, 0, 0]]  # output column j reads input column j + 2
    padded = {"reflect": np.pad(x, ((0, 0), (0, 0), (0, 2), (0, 0)), mode="symmetric"),
              "nearest": np.pad(x, ((0, 0), (0, 0), (0, 2), (0, 0)), mode="edge"),
              "constant": np.pad(x, ((0, 0), (0, 0), (0, 2), (0, 0)), constant_values=0.5),
              "wrap": np.pad(x, ((0, 0), (0, 0), (0, 2), (0, 0)), mode="wrap")}
    for mode, p in padded.items():
        got = _transform(x, right, fill_mode=mode, fill_value=0.5)
        np.testing.assert_allclose(got, p[:, :, 2:, :], rtol=1e-6, err_msg=mode)


def test_transform_bilinear_zoom_matches_numpy_interpolation():
    x = _images(1, 5, 5, 1)[0, :, :, 0]
    got = _transform(x[None, :, :, None], [[0.5, 0, 1, 0, 0.5, 1, 0, 0]])[0, :, :, 0]
    coords = 0.5 * np.arange(5) + 1  # 1, 1.5, 2, 2.5, 3
    rows = np.array([np.interp(coords, np.arange(5), r) for r in x])  # along x
    want = np.array([np.interp(coords, np.arange(5), col) for col in rows.T]).T  # along y
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_rotation_by_exact_quarter_and_half_turns():
    x = _images(3, 5, 5, 2)
    quarter = layers.RandomRotation((0.25, 0.25), interpolation="nearest")(x, training=True)
    np.testing.assert_allclose(quarter.numpy(), np.rot90(x, 1, axes=(1, 2)), atol=1e-6)
    y = _images(2, 4, 6, 1)
    half = layers.RandomRotation((0.5, 0.5))(y, training=True)
    np.testing.assert_allclose(half.numpy(), np.rot90(y, 2, axes=(1, 2)), atol=1e-5)


def test_translation_and_zoom_with_fixed_factors():
    x = _images(2, 4, 6, 1)
    down = layers.RandomTranslation((0.25, 0.25), 0.0)(x, training=True).numpy()
    want = np.concatenate([x[:, :1], x[:, :-1]], axis=1)  # one row down, row 0 reflected
    np.testing.assert_allclose(down, want, atol=1e-6)
    same = layers.RandomZoom((0.0, 0.0))(x, training=True).numpy()
    np.testing.assert_allclose(same, x, atol=1e-6)


@pytest.mark.parametrize("layer", [
    lambda: layers.RandomFlip(seed=1), lambda: layers.RandomRotation(0.2, seed=1),
    lambda: layers.RandomTranslation(0.3, 0.3, seed=1), lambda: layers.RandomZoom(0.3, seed=1)])
def test_augmentation_changes_inputs_only_in_training(layer):
    x = _images(200, 6, 6, 1)
    aug = layer()
    np.testing.assert_array_equal(aug(x, training=False).numpy(), x)
    changed = np.abs(aug(x, training=True).numpy() - x).max(axis=(1, 2, 3)) > 1e-6
    # a flip in neither direction leaves 1/4 of the images alone; other layers almost none
    assert changed.mean() > (0.6 if isinstance(aug, layers.RandomFlip) else 0.95)
    model = keras.Sequential([keras.Input(shape=(6, 6, 1)), aug, layers.Flatten()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x.reshape(200, -1))


def test_random_flip_draws_each_image_independently():
    x = _images(400, 3, 4, 1)
    y = layers.RandomFlip("horizontal", seed=5)(x).numpy()  # direct call: training
    flipped = np.array([np.array_equal(a, b[:, ::-1]) for a, b in zip(y, x)])
    kept = np.array([np.array_equal(a, b) for a, b in zip(y, x)])
    assert (flipped | kept).all()
    # Binomial(400, 1/2) flips: within 5 standard deviations (10) of 200
    assert abs(flipped.sum() - 200) < 50


def test_layers_on_tf1_placeholders_build_graph_variables():
    import flowgrad.compat.v1 as v1
    x = v1.placeholder(v1.float32, [None, 3])
    layer = layers.Dense(2, kernel_initializer="ones")
    y = layer(x)
    assert y.name.startswith("dense/") and layer.kernel.graph is x.graph
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(y, {x: np.ones((2, 3))}), np.full((2, 2), 3.0))


def test_lambda_layer():
    double = layers.Lambda(lambda t: t * 2.0)
    np.testing.assert_array_equal(_np(double(np.ones((1, 2), np.float32))), [[2.0, 2.0]])
    inputs = keras.Input(shape=(2,))
    assert layers.Lambda(lambda t: t[:, :1])(inputs).shape == (None, 1)
    with pytest.raises(NotImplementedError, match="lambda"):
        double.get_config()


def test_dense_on_rank3_input_keeps_static_shape():
    # the reshape back goes through a dynamic shape tensor; the layer restores what is known
    inp = keras.Input(shape=(5, 7))
    out = layers.Dense(3)(inp)
    assert out.shape.as_list() == [None, 5, 3]
    model = keras.Model(inp, out)
    x = np.arange(70, dtype=np.float32).reshape(2, 5, 7) / 70
    w, b = model.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ w + b, rtol=1e-5, atol=1e-6)
