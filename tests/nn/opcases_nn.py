"""Op-table cases for the nn primitives (flowgrad.ops.nn_ops and flowgrad.ops.conv).

References are NumPy formulas and the naive window loops of ``tests/nn/nn_refs.py``.
"""
import math
import sys
from pathlib import Path

import numpy as np

import flowgrad as tf
from flowgrad.ops import conv as C
from flowgrad.ops.base import apply, constant
from flowgrad.ops.nn_ops import OneHotLike
from op_table import OpCase

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the loader only adds tests/ops
import nn_refs  # noqa: E402

SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _f(fn):
    """A float64 NumPy formula, cast back to the input dtype (the op's output dtype)."""
    def ref(*arrays):
        dt = next(a.dtype for a in arrays if a.dtype.kind == "f")
        out = fn(*[a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays])
        return np.asarray(out).astype(dt)
    return ref


def _away_from(*kinks):
    """Normal samples pushed at least 0.1 away from the given kinks (finite differences)."""
    def draw(rng, shape, dtype):
        x = rng.standard_normal(shape) * 3
        for k in kinks:  # within 0.1 of k: move 0.2 further out, on the same side
            x = np.where(np.abs(x - k) < 0.1, x + np.where(x >= k, 0.2, -0.2), x)
        return x.astype(dtype)
    return draw


def _distinct(rng, shape, dtype):
    """Well-separated values: no ties inside a pooling window."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.25 - n / 8).astype(dtype)


def _log_softmax(x, axis=-1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def _labels_logits(rng, dtype):
    p = rng.random((3, 4)) + 0.1
    return [(p / p.sum(-1, keepdims=True)).astype(dtype), rng.standard_normal((3, 4)).astype(dtype)]


_erf = np.vectorize(math.erf)
X4, W4 = (2, 5, 5, 3), (3, 3, 3, 2)


def _conv_cases(s, padding):
    tag = "%s_s%d" % (padding, s)
    st = (s, s)
    _, _, oh = nn_refs.pads(5, 3, s, padding)
    dy_shape = (2, oh, oh, 2)
    return [
        OpCase("Conv2D", lambda x, w: tf.nn.conv2d(x, w, s, padding),
               _f(lambda x, w: nn_refs.conv(x, w, st, padding)), shapes=(X4, W4), grad2=True,
               tol={"float32": (1e-4, 1e-5)}, id="Conv2D_" + tag),
        OpCase("Conv2DBackpropInput",
               lambda dy, w: tf.nn.conv2d_transpose(dy, w, list(X4), s, padding),
               _f(lambda dy, w: nn_refs.conv_backprop_input(dy, w, X4, st, padding)),
               shapes=(dy_shape, W4), grad2=True, tol={"float32": (1e-4, 1e-5)},
               id="Conv2DBackpropInput_" + tag),
        OpCase("Conv2DBackpropFilter",
               lambda x, dy: apply(C.Conv2DBackpropFilter(st, padding), x,
                                   constant(np.asarray(W4, np.int32)), dy),
               _f(lambda x, dy: nn_refs.conv_backprop_filter(x, dy, W4, st, padding)),
               shapes=(X4, dy_shape), grad2=True, tol={"float32": (1e-4, 1e-5)},
               id="Conv2DBackpropFilter_" + tag),
    ]


def _pool_cases(k, s, padding):
    tag = "%s_k%d_s%d" % (padding, k, s)
    kk, st = (k, k), (s, s)
    _, _, oh = nn_refs.pads(5, k, s, padding)
    y_shape = (2, oh, oh, 2)
    x_shape = (2, 5, 5, 2)

    def with_y(op_cls):
        return lambda x, g: apply(op_cls(kk, st, padding), x,
                                  tf.nn.max_pool2d(x, k, s, padding), g)
    return [
        OpCase("MaxPool", lambda x: tf.nn.max_pool2d(x, k, s, padding),
               _f(lambda x: nn_refs.pool(x, kk, st, padding, "max")), shapes=(x_shape,),
               domain=_distinct, grad2=True, id="MaxPool_" + tag),
        OpCase("MaxPoolGrad", with_y(C.MaxPoolGrad),
               _f(lambda x, g: nn_refs.max_pool_grad(x, g, kk, st, padding)),
               shapes=(x_shape, y_shape), domain=(_distinct, "real"), grad2=True,
               id="MaxPoolGrad_" + tag),
        OpCase("MaxPoolGradGrad", with_y(C.MaxPoolGradGrad),
               _f(lambda x, g: nn_refs.max_pool_grad_grad(x, g, kk, st, padding)),
               shapes=(x_shape, x_shape), domain=(_distinct, "real"), grad2=True,
               id="MaxPoolGradGrad_" + tag),
        OpCase("AvgPool", lambda x: tf.nn.avg_pool2d(x, k, s, padding),
               _f(lambda x: nn_refs.pool(x, kk, st, padding, "avg")), shapes=(x_shape,),
               grad2=True, id="AvgPool_" + tag),
        OpCase("AvgPoolGrad",
               lambda g: apply(C.AvgPoolGrad(kk, st, padding),
                               constant(np.asarray(x_shape, np.int32)), g),
               _f(lambda g: nn_refs.avg_pool_grad(g, x_shape, kk, st, padding)),
               shapes=(y_shape,), grad2=True, id="AvgPoolGrad_" + tag),
    ]


OP_CASES = [
    # -- activations ------------------------------------------------------------------------
    OpCase("Relu6", tf.nn.relu6, _f(lambda x: np.clip(x, 0, 6)), domain=_away_from(0, 6)),
    OpCase("Relu6", tf.nn.relu6, lambda x: np.clip(x, 0, 6), domain="int", id="Relu6_int"),
    OpCase("LeakyRelu", tf.nn.leaky_relu, _f(lambda x: np.where(x > 0, x, 0.2 * x)),
           domain=_away_from(0)),
    OpCase("LeakyRelu", lambda x: tf.nn.leaky_relu(x, alpha=0.01),
           _f(lambda x: np.where(x > 0, x, 0.01 * x)), domain=_away_from(0), id="LeakyRelu_a"),
    OpCase("Elu", tf.nn.elu, _f(lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
           domain=_away_from(0), grad2=True),
    OpCase("Selu", tf.nn.selu,
           _f(lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0)))),
           domain=_away_from(0), grad2=True),
    OpCase("Softplus", tf.nn.softplus, _f(lambda x: np.log1p(np.exp(-np.abs(x)))
                                          + np.maximum(x, 0)), grad2=True),
    OpCase("Erf", tf.nn.erf, _f(_erf), grad2=True),
    # -- softmax ----------------------------------------------------------------------------
    OpCase("Softmax", tf.nn.softmax, _f(lambda x: np.exp(_log_softmax(x))), shapes=((3, 4),),
           grad2=True),
    OpCase("Softmax", lambda x: tf.nn.softmax(x, axis=0),
           _f(lambda x: np.exp(_log_softmax(x, 0))), shapes=((3, 4),), id="Softmax_axis0"),
    OpCase("LogSoftmax", tf.nn.log_softmax, _f(_log_softmax), shapes=((3, 4),), grad2=True),
    OpCase("LogSoftmax", lambda x: tf.nn.log_softmax(x, axis=1),
           _f(lambda x: _log_softmax(x, 1)), shapes=((2, 3, 2),), id="LogSoftmax_axis1"),
    # -- losses -----------------------------------------------------------------------------
    OpCase("SoftmaxCrossEntropyWithLogits", tf.nn.softmax_cross_entropy_with_logits,
           _f(lambda z, x: -(z * _log_softmax(x)).sum(-1)), make=_labels_logits, grad2=True),
    OpCase("SparseSoftmaxCrossEntropyWithLogits",
           tf.nn.sparse_softmax_cross_entropy_with_logits,
           _f(lambda z, x: -np.take_along_axis(_log_softmax(x), z[:, None], -1)[:, 0]),
           shapes=((3,), (3, 4)), domain=("idx4", "real"), grad2=True),
    OpCase("OneHotLike", lambda z, ref: apply(OneHotLike(), z, ref),
           _f(lambda z, ref: np.eye(4)[z]), shapes=((2, 3), (2, 3, 4)),
           domain=("idx4", "real")),
    OpCase("SigmoidCrossEntropyWithLogits",
           lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           _f(lambda z, x: -z * -np.logaddexp(0, -x) - (1 - z) * -np.logaddexp(0, x)),
           shapes=((2, 3), (2, 3)), domain=("unit", "real"), grad2=True),
    # -- convolution and pooling ------------------------------------------------------------
    *_conv_cases(1, "SAME"), *_conv_cases(2, "SAME"), *_conv_cases(1, "VALID"),
    *_conv_cases(2, "VALID"),
    *_pool_cases(2, 2, "VALID"), *_pool_cases(3, 2, "SAME"), *_pool_cases(2, 1, "SAME"),
]

EXEMPT = {
    "FusedConv2D": "made only by the executor's fusion pass, never by a program: "
                   "test_conv_bias_relu_fusion_is_bit_exact in tests/test_executor_passes.py",
    "FusedMatMul": "made only by the executor's fusion pass, never by a program: "
                   "test_dense_bias_relu_fusion_is_bit_exact in tests/test_executor_passes.py",
}
