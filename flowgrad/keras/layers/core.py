"""Core layers: Dense, Activation, Flatten, Reshape, Dropout, Lambda.

>>> import flowgrad as tf
>>> layer = tf.keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")
>>> layer(tf.constant([[1.0, 2.0]])).numpy()
array([[4., 4.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from ...ops import array as _a
from ...ops import math as _m
from ...tensor import Tensor
from .. import activations, initializers, regularizers
from ..engine.base_layer import Layer


def _ser(module, obj):
    return module.serialize(obj) if obj is not None else None


def _dynamic_shape(x):
    """The shape of ``x`` as a list: ints where static, scalar tensors where not."""
    static = list(x.shape)
    if all(d is not None for d in static):
        return static
    dims = _a.unstack(_a.shape(x), num=len(static))
    return [d if d is not None else dims[i] for i, d in enumerate(static)]


def set_kernel_bias_args(layer, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, kernel_constraint,
                         bias_constraint) -> None:
    """The arguments shared by layers with a kernel and an optional bias (Dense, Conv2D)."""
    layer.activation = activations.get(activation)
    layer.use_bias = bool(use_bias)
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = kernel_constraint
    layer.bias_constraint = bias_constraint


def add_kernel_bias(layer, kernel_shape, units) -> None:
    layer.kernel = layer.add_weight("kernel", shape=tuple(kernel_shape),
                                    initializer=layer.kernel_initializer,
                                    regularizer=layer.kernel_regularizer,
                                    constraint=layer.kernel_constraint)
    layer.bias = layer.add_weight("bias", shape=(units,), initializer=layer.bias_initializer,
                                  regularizer=layer.bias_regularizer,
                                  constraint=layer.bias_constraint) if layer.use_bias else None


def kernel_bias_config(layer) -> dict:
    return {"activation": activations.serialize(layer.activation), "use_bias": layer.use_bias,
            "kernel_initializer": _ser(initializers, layer.kernel_initializer),
            "bias_initializer": _ser(initializers, layer.bias_initializer),
            "kernel_regularizer": _ser(regularizers, layer.kernel_regularizer),
            "bias_regularizer": _ser(regularizers, layer.bias_regularizer),
            "activity_regularizer": _ser(regularizers, layer.activity_regularizer),
            "kernel_constraint": None, "bias_constraint": None}


class Dense(Layer):
    """A densely connected layer: ``activation(inputs @ kernel + bias)``.

    Inputs of rank above 2 are multiplied along their last axis.

    Args:
        units: output size.
        activation: activation name or function (default: none).
        use_bias: add a bias vector (turn off before a BatchNormalization layer).
        kernel_initializer, bias_initializer: initializers (``glorot_uniform``, ``zeros``).
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties that join
            ``layer.losses``.
        kernel_constraint, bias_constraint: constraints stored on the weights.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        units = int(units) if not isinstance(units, int) else units
        if units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             "integer. Received: units=%r" % (units,))
        self.units = units
        set_kernel_bias_args(self, activation, use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, kernel_constraint,
                             bias_constraint)

    def build(self, input_shape):
        last = input_shape[-1] if input_shape.rank else None
        if last is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be "
                             "defined. Found None. Full input shape received: %s"
                             % (input_shape,))
        add_kernel_bias(self, (last, self.units), self.units)
        self.built = True

    def call(self, inputs):
        x = inputs if inputs.dtype.name == self.dtype else _m.cast(inputs, self.dtype)
        if x.shape.rank == 2:
            out = _m.matmul(x, self.kernel)
        else:
            dims = _dynamic_shape(x)
            flat = _a.reshape(x, [-1, x.shape[-1]])
            out = _a.reshape(_m.matmul(flat, self.kernel), dims[:-1] + [self.units])
            out.set_shape(x.shape[:-1].concatenate([self.units]))  # shape tensor is dynamic
        if self.use_bias:
            out = out + self.bias
        return self.activation(out)

    def get_config(self) -> dict:
        return dict(super().get_config(), units=self.units, **kernel_bias_config(self))


class Activation(Layer):
    """Applies an activation function (``Activation("relu")``)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self) -> dict:
        return dict(super().get_config(), activation=activations.serialize(self.activation))


class Flatten(Layer):
    """Flattens every dimension but the batch one: ``(N, 28, 28) -> (N, 784)``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self._autocast = False

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first" and x.shape.rank and x.shape.rank > 2:
            x = _a.transpose(x, [0] + list(range(2, x.shape.rank)) + [1])
        rest = x.shape[1:]
        if x.shape.rank == 1:
            return _a.reshape(x, [-1, 1])
        if rest.is_fully_defined():
            return _a.reshape(x, [-1, int(np.prod(rest, dtype=np.int64))])
        return _a.reshape(x, [_dynamic_shape(x)[0], -1])

    def get_config(self) -> dict:
        return dict(super().get_config(), data_format=self.data_format)


class Reshape(Layer):
    """Reshapes to ``target_shape`` (without the batch dimension; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        self._autocast = False

    def call(self, inputs):
        batch = inputs.shape[0]
        if -1 not in self.target_shape and batch is not None:
            return _a.reshape(inputs, [-1] + list(self.target_shape))
        out = _a.reshape(inputs, [_dynamic_shape(inputs)[0] if batch is None else batch] +
                         list(self.target_shape))
        out.set_shape((batch,) + self._static_target(inputs.shape[1:]))
        return out

    def _static_target(self, rest):
        """``target_shape`` with its -1 resolved when the input's size is known."""
        target = list(self.target_shape)
        if -1 in target and rest.is_fully_defined():
            known = int(np.prod([d for d in target if d != -1]))
            target[target.index(-1)] = rest.num_elements() // known if known else None
        return tuple(None if d == -1 else d for d in target)

    def get_config(self) -> dict:
        return dict(super().get_config(), target_shape=self.target_shape)


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs during training and scales the rest by
    ``1 / (1 - rate)``; the identity at inference.

    Args:
        rate: fraction of the units to drop, in ``[0, 1)``.
        noise_shape: shape of the keep mask (broadcast over the inputs), e.g.
            ``(batch, 1, features)`` to drop the same features at every time step.
        seed: seed of the masks.
    """

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             "value between 0 and 1. Received: rate=%r" % (rate,))
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs, training=None):
        if isinstance(training, Tensor):
            from ...graph.function import cond
            return cond(training, lambda: self._drop(inputs), lambda: _a.identity(inputs))
        if not training or self.rate == 0:
            return _a.identity(inputs)
        return self._drop(inputs)

    def _drop(self, inputs):
        from ... import nn
        return nn.dropout(inputs, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)

    def get_config(self) -> dict:
        return dict(super().get_config(), rate=self.rate, noise_shape=self.noise_shape,
                    seed=self.seed)


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``Lambda(lambda x: x ** 2)``.

    Variables created by the function are not tracked; write a ``Layer`` subclass for
    layers with weights.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape

    def call(self, inputs, mask=None, training=None):
        import inspect
        kwargs = dict(self.arguments)
        params = inspect.signature(self.function).parameters
        if "training" in params:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def get_config(self) -> dict:
        name = getattr(self.function, "__name__", "<lambda>")
        if name == "<lambda>":
            raise NotImplementedError("Lambda layer %s: a lambda function cannot be "
                                      "serialized; use a named function" % self.name)
        from .. import utils
        return dict(super().get_config(), function=utils.get_registered_name(self.function),
                    arguments=self.arguments)

    @classmethod
    def from_config(cls, config: dict):
        """The function is looked up by name (registered or in ``custom_objects``); no
        code is ever deserialized."""
        from .. import utils
        config = dict(config)
        name = config["function"]
        if isinstance(name, str):
            config["function"] = utils.get_registered_object(name)
            if config["function"] is None:
                raise ValueError("Lambda layer %s: unknown function %r; register it with "
                                 "keras.utils.register_keras_serializable() or pass it in "
                                 "custom_objects" % (config.get("name"), name))
        return cls(**config)
