"""2-D convolution and pooling primitives (NHWC) over the kernels in ``conv_kernels`` and
``pool_kernels``.

The gradients are primitives too: ``Conv2DBackpropInput`` and ``Conv2DBackpropFilter`` are
linear in each argument, and their own gradients are convolutions of the right arguments
(each is the adjoint of the other), so double-backward through ``conv2d`` works. Likewise
``MaxPoolGrad`` and ``MaxPoolGradGrad`` (which picks the incoming gradient at each window's
argmax) are adjoints of each other, and ``AvgPool``/``AvgPoolGrad``.

>>> import flowgrad as tf
>>> x = tf.ones([1, 4, 4, 1])
>>> tf.nn.conv2d(x, tf.ones([3, 3, 1, 2]), strides=2, padding="SAME").shape
TensorShape([1, 2, 2, 2])
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..errors import InvalidArgumentError, UnimplementedError
from ..tensor import Tensor, TensorShape
from . import conv_kernels as _k
from . import pool_kernels as _pk
from .base import Op, apply, constant, convert_to_tensor


# -- static arithmetic (TF's SAME/VALID rules, with unknown dims) -------------------------------
def _out_size(n, k, s, pad):
    """Output length for one spatial dim; ``pad`` is "SAME", "VALID" or (before, after)."""
    if n is None or k is None:
        return None
    if pad == "SAME":
        return -(-n // s)
    if pad == "VALID":
        return _k.valid_output_size(n, k, s)
    return (n + pad[0] + pad[1] - k) // s + 1


def _out_hw(in_hw, k_hw, strides, padding, opname):
    pads = (padding, padding) if isinstance(padding, str) else padding
    out = [_out_size(n, k, s, p) for n, k, s, p in zip(in_hw, k_hw, strides, pads)]
    if any(o is not None and o <= 0 for o in out):
        raise InvalidArgumentError(None, opname, "%s: window %s is larger than the (padded) "
                                   "input %s with padding %s; use padding='SAME' or a smaller "
                                   "window" % (opname, list(k_hw), list(in_hw), padding))
    return out


def _hw(value, what, opname):
    """An int, [h, w], [v] or TF's NHWC form [1, h, w, 1] as an ``(h, w)`` pair."""
    if isinstance(value, (int, np.integer)):
        vals = [int(value)] * 2
    else:
        vals = [int(v) for v in value]
        if len(vals) == 1:
            vals = vals * 2
        elif len(vals) == 4:
            if vals[0] != 1 or vals[3] != 1:
                raise InvalidArgumentError(
                    None, opname, "%s: %s in the batch and depth dimensions must be 1 (NHWC), "
                    "got %s" % (opname, what, vals))
            vals = vals[1:3]
    if len(vals) != 2 or min(vals) < 1:
        raise ValueError("%s: %s must be a positive int or a list of 1, 2 or 4 positive ints, "
                         "got %r" % (opname, what, value))
    return tuple(vals)


def _padding(padding, opname, explicit_ok=True):
    if isinstance(padding, str):
        mode = padding.upper()
        if mode in ("SAME", "VALID"):
            return mode
        raise ValueError("%s: padding must be 'SAME' or 'VALID'%s, got %r" % (
            opname, " or explicit [[0, 0], [t, b], [l, r], [0, 0]]" if explicit_ok else "",
            padding))
    if not explicit_ok:
        raise ValueError("%s: padding must be 'SAME' or 'VALID', got %r" % (opname, padding))
    rows = [tuple(int(p) for p in pair) for pair in padding]
    if len(rows) == 4:
        if rows[0] != (0, 0) or rows[3] != (0, 0):
            raise ValueError("%s: explicit padding of the batch and channel dimensions must "
                             "be [0, 0], got %r" % (opname, padding))
        rows = rows[1:3]
    if len(rows) != 2 or any(len(r) != 2 or min(r) < 0 for r in rows):
        raise ValueError("%s: explicit padding must be [[0, 0], [t, b], [l, r], [0, 0]], got %r"
                         % (opname, padding))
    return tuple(rows)


def _check_format(data_format, opname):
    if data_format not in (None, "NHWC", "NWC", "NDHWC"):
        raise UnimplementedError(None, opname, "%s: data_format=%r is not supported; flowgrad "
                                 "runs NHWC only (transpose the input to channels-last)"
                                 % (opname, data_format))


def _shape_tensor(t):
    """``t``'s shape as an int32 tensor: a constant when known statically."""
    if t.shape.is_fully_defined():
        return constant(np.asarray(t.shape, np.int32))
    from .array import shape
    return shape(t)


def _sizes(sizes_tensor, rank=4):
    c = sizes_tensor._const
    return TensorShape([int(d) for d in c]) if c is not None else TensorShape([None] * rank)


# -- convolution ------------------------------------------------------------------------------
class _Window(Op):
    def __init__(self, strides, padding):
        self.strides = strides
        self.padding = padding


class Conv2D(_Window):
    name = "Conv2D"
    same_dtype = True

    def forward(self, x, w):
        return _k.conv2d_forward(x, w, self.strides, self.padding)

    def infer(self, x, w):
        xs, ws = x.shape, w.shape
        if xs.rank is None or ws.rank is None:
            return [(TensorShape([None] * 4), x.dtype)]
        if xs.rank != 4 or ws.rank != 4:
            raise ValueError("conv2d: input must be 4-D [batch, height, width, channels] and "
                             "filters 4-D [height, width, in_channels, out_channels], got "
                             "shapes %s and %s" % (xs, ws))
        if None not in (xs[3], ws[2]) and xs[3] != ws[2]:
            raise ValueError("conv2d: input has %d channels (shape %s) but the filters expect "
                             "%d (shape %s)" % (xs[3], xs, ws[2], ws))
        oh, ow = _out_hw(xs[1:3], ws[:2], self.strides, self.padding, self.name)
        return [(TensorShape([xs[0], oh, ow, ws[3]]), x.dtype)]

    def backward(self, inputs, outputs, grads):
        x, w = inputs
        dy = grads[0]
        return [apply(Conv2DBackpropInput(self.strides, self.padding), _shape_tensor(x), w, dy),
                apply(Conv2DBackpropFilter(self.strides, self.padding), x, _shape_tensor(w), dy)]


class FusedConv2D(_Window):
    """``relu?(conv2d(x, w) + bias)`` in one kernel, with the same bits as the three ops.

    Made only by the executor (``passes.fuse_bias_relu``) after autodiff, so it needs
    no gradient: the backward steps read ``x``, ``w`` and the Relu output, never the two
    intermediates that fusion removes.
    """

    name = "FusedConv2D"
    same_dtype = True

    def __init__(self, strides, padding, relu):
        super().__init__(strides, padding)
        self.relu = relu

    def forward(self, x, w, bias):
        return _k.conv2d_forward(x, w, self.strides, self.padding, bias=bias, relu=self.relu)


class Conv2DBackpropInput(_Window):
    """``dx`` of conv2d from (input_sizes, filter, out_backprop); also conv2d_transpose."""

    name = "Conv2DBackpropInput"

    def forward(self, sizes, w, dy):
        return _k.conv2d_backward_input(dy, w, tuple(int(d) for d in sizes), self.strides,
                                        self.padding)

    def infer(self, sizes, w, dy):
        return [(_sizes(sizes), dy.dtype)]

    def backward(self, inputs, outputs, grads):
        _, w, dy = inputs
        g = grads[0]
        # <g, dx(dy, w)> = <conv2d(g, w), dy>: linear in dy and in w
        return [None, apply(Conv2DBackpropFilter(self.strides, self.padding), g,
                            _shape_tensor(w), dy),
                apply(Conv2D(self.strides, self.padding), g, w)]


class Conv2DBackpropFilter(_Window):
    """``dw`` of conv2d from (input, filter_sizes, out_backprop)."""

    name = "Conv2DBackpropFilter"

    def forward(self, x, sizes, dy):
        return _k.conv2d_backward_filter(x, dy, tuple(int(d) for d in sizes), self.strides,
                                         self.padding)

    def infer(self, x, sizes, dy):
        return [(_sizes(sizes), dy.dtype)]

    def backward(self, inputs, outputs, grads):
        x, _, dy = inputs
        g = grads[0]
        # <g, dw(x, dy)> = <conv2d(x, g), dy>
        return [apply(Conv2DBackpropInput(self.strides, self.padding), _shape_tensor(x), g, dy),
                None, apply(Conv2D(self.strides, self.padding), x, g)]


# -- pooling ----------------------------------------------------------------------------------
class _Pool(Op):
    def __init__(self, ksize, strides, padding):
        self.ksize = ksize
        self.strides = strides
        self.padding = padding

    def _infer_pool(self, x):
        xs = x.shape
        if xs.rank is None:
            return TensorShape([None] * 4)
        if xs.rank != 4:
            raise ValueError("%s: input must be 4-D [batch, height, width, channels], got "
                             "shape %s" % (self.name, xs))
        oh, ow = _out_hw(xs[1:3], self.ksize, self.strides, self.padding, self.name)
        return TensorShape([xs[0], oh, ow, xs[3]])


class MaxPool(_Pool):
    name = "MaxPool"

    def forward(self, x):
        return _pk.max_pool2d_forward(x, self.ksize, self.strides, self.padding)

    def infer(self, x):
        return [(self._infer_pool(x), x.dtype)]

    def grad(self, inputs, y, dy):
        return [apply(MaxPoolGrad(self.ksize, self.strides, self.padding), inputs[0], y, dy)]


class MaxPoolGrad(_Pool):
    """Routes each ``dy`` to its window's first maximum (from orig input, orig output, dy)."""

    name = "MaxPoolGrad"

    def forward(self, x, y, dy):
        return _pk.max_pool2d_backward(x, y, dy, self.ksize, self.strides, self.padding)

    def infer(self, x, y, dy):
        return [(x.shape, dy.dtype)]

    def backward(self, inputs, outputs, grads):
        x, y, _ = inputs
        # piecewise constant in x and y (zero almost everywhere); linear in dy
        return [None, None, apply(MaxPoolGradGrad(self.ksize, self.strides, self.padding),
                                  x, y, grads[0])]


class MaxPoolGradGrad(_Pool):
    """For each window, ``g`` at the window's first maximum: the adjoint of MaxPoolGrad."""

    name = "MaxPoolGradGrad"

    def forward(self, x, y, g):
        (kh, kw), (sh, sw) = self.ksize, self.strides
        n, h, w, c = x.shape
        oh, ow = y.shape[1:3]
        pads = self.padding
        if pads == "SAME":
            pads = tuple(_k.same_padding(size, k, s)[:2]
                         for size, k, s in ((h, kh, sh), (w, kw, sw)))
        elif pads == "VALID":
            pads = ((0, 0), (0, 0))
        spec = ((0, 0), pads[0], pads[1], (0, 0))
        # NaN padding never equals a maximum, so padded cells are never picked
        xp = np.pad(x.astype(np.result_type(x, np.float32), copy=False), spec,
                    constant_values=np.nan)
        gp = np.pad(g, spec)
        out = np.zeros(y.shape, g.dtype)
        taken = np.zeros(y.shape, bool)
        for i in range(kh):
            for j in range(kw):
                win = (slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
                       slice(j, j + sw * (ow - 1) + 1, sw))
                hit = xp[win] == y
                hit &= ~taken  # ties: the first maximum in scan order, as MaxPoolGrad
                np.copyto(out, gp[win], where=hit)
                taken |= hit
        return out

    def infer(self, x, y, g):
        return [(y.shape, g.dtype)]

    def backward(self, inputs, outputs, grads):
        x, y, _ = inputs
        return [None, None, apply(MaxPoolGrad(self.ksize, self.strides, self.padding),
                                  x, y, grads[0])]


class AvgPool(_Pool):
    name = "AvgPool"

    def forward(self, x):
        return _pk.avg_pool2d_forward(x, self.ksize, self.strides, self.padding)

    def infer(self, x):
        return [(self._infer_pool(x), x.dtype)]

    def grad(self, inputs, y, dy):
        return [apply(AvgPoolGrad(self.ksize, self.strides, self.padding),
                      _shape_tensor(inputs[0]), dy)]


class AvgPoolGrad(_Pool):
    """Spreads ``dy / window_count`` over each window: the adjoint of AvgPool."""

    name = "AvgPoolGrad"

    def forward(self, sizes, dy):
        return _pk.avg_pool2d_backward(dy, tuple(int(d) for d in sizes), self.ksize,
                                      self.strides, self.padding)

    def infer(self, sizes, dy):
        return [(_sizes(sizes), dy.dtype)]

    def backward(self, inputs, outputs, grads):
        return [None, apply(AvgPool(self.ksize, self.strides, self.padding), grads[0])]


# -- functions ---------------------------------------------------------------------------------
def _float_input(x, opname):
    t = x if type(x) is Tensor else convert_to_tensor(x)
    if not t.dtype.is_floating:
        raise TypeError("%s: expected a floating-point input, got %s; cast it first"
                        % (opname, t.dtype.name))
    return t


def _dilate(w, rates):
    """The filter with ``rate - 1`` zeros between taps: an atrous conv is a plain conv with it."""
    from .array import StridedSliceGrad, zeros
    ws = w.shape
    if not ws.is_fully_defined():
        raise ValueError("conv2d: dilations need a filter of known shape, got %s" % (ws,))
    kh, kw, c, o = ws
    ref = zeros([(kh - 1) * rates[0] + 1, (kw - 1) * rates[1] + 1, c, o], w.dtype)
    key = (slice(None, None, rates[0]), slice(None, None, rates[1]))
    return apply(StridedSliceGrad(key), w, ref)


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,  # noqa: A002
           name=None) -> Tensor:
    """2-D cross-correlation of NHWC ``input`` with ``filters`` of shape [KH, KW, C, O].

    Args:
        input: ``[batch, height, width, in_channels]``.
        filters: ``[height, width, in_channels, out_channels]``.
        strides: an int or a list of 1, 2 or 4 ints (``[1, sh, sw, 1]``).
        padding: ``"SAME"`` (TF's arithmetic: the odd pixel goes after), ``"VALID"`` or
            explicit ``[[0, 0], [t, b], [l, r], [0, 0]]``.
        data_format: only ``"NHWC"``.
        dilations: an int or a list of 1, 2 or 4 ints (atrous convolution).

    >>> import flowgrad as tf
    >>> y = tf.nn.conv2d(tf.ones([1, 3, 3, 1]), tf.ones([3, 3, 1, 1]), 1, "SAME")
    >>> y.numpy()[0, :, :, 0]
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]], dtype=float32)
    """
    _check_format(data_format, "Conv2D")
    x = _float_input(input, "conv2d")
    w = filters if type(filters) is Tensor else convert_to_tensor(filters, dtype_hint=x.dtype)
    op = Conv2D(_hw(strides, "strides", "Conv2D"), _padding(padding, "Conv2D"))
    if dilations is not None:
        rates = _hw(dilations, "dilations", "Conv2D")
        if rates != (1, 1):
            if op.strides != (1, 1):
                raise InvalidArgumentError(None, "Conv2D", "conv2d: strides > 1 together with "
                                           "dilations > 1 is not supported (as in TensorFlow)")
            w = _dilate(w, rates)
    return apply(op, x, w, name=name)


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NHWC", dilations=None, name=None) -> Tensor:
    """The gradient of conv2d w.r.t. its input, used as a (learnable) upsampling layer.

    ``filters`` has shape ``[height, width, output_channels, in_channels]``.

    >>> import flowgrad as tf
    >>> tf.nn.conv2d_transpose(tf.ones([1, 2, 2, 1]), tf.ones([2, 2, 1, 1]), [1, 4, 4, 1],
    ...                        strides=2).shape
    TensorShape([1, 4, 4, 1])
    """
    _check_format(data_format, "Conv2DBackpropInput")
    if dilations is not None and _hw(dilations, "dilations", "conv2d_transpose") != (1, 1):
        raise UnimplementedError(None, "Conv2DBackpropInput", "conv2d_transpose: dilations "
                                 "are not supported; use dilations=None")
    x = _float_input(input, "conv2d_transpose")
    w = filters if type(filters) is Tensor else convert_to_tensor(filters, dtype_hint=x.dtype)
    sizes = output_shape if isinstance(output_shape, Tensor) else \
        convert_to_tensor(output_shape, _dt.int32)
    op = Conv2DBackpropInput(_hw(strides, "strides", "conv2d_transpose"),
                             _padding(padding, "conv2d_transpose"))
    return apply(op, sizes, w, x, name=name)


def _pool(op_cls, input, ksize, strides, padding, data_format, name, opname):  # noqa: A002
    _check_format(data_format, op_cls.name)
    x = input if type(input) is Tensor else convert_to_tensor(input)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise UnimplementedError(None, op_cls.name, "%s: only 4-D NHWC inputs are supported, "
                                 "got shape %s" % (opname, x.shape))
    op = op_cls(_hw(ksize, "ksize", opname), _hw(strides, "strides", opname),
                _padding(padding, opname, explicit_ok=False))
    return apply(op, x, name=name)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:  # noqa
    """Max over ``ksize`` windows of NHWC ``input`` (ksize/strides: int or 1, 2 or 4 ints).

    >>> import flowgrad as tf
    >>> x = tf.reshape(tf.range(16.0), [1, 4, 4, 1])
    >>> tf.nn.max_pool2d(x, 2, 2, "VALID").numpy()[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    return _pool(MaxPool, input, ksize, strides, padding, data_format, name, "max_pool2d")


def max_pool(input, ksize, strides, padding, data_format=None, name=None) -> Tensor:  # noqa
    """``max_pool2d`` (TF2's N-D ``max_pool``; flowgrad supports 4-D NHWC inputs)."""
    return _pool(MaxPool, input, ksize, strides, padding, data_format, name, "max_pool")


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:  # noqa
    """Mean over ``ksize`` windows; SAME windows at the border average only real pixels.

    >>> import flowgrad as tf
    >>> tf.nn.avg_pool2d(tf.ones([1, 3, 3, 1]), 2, 2, "SAME").numpy()[0, :, :, 0]
    array([[1., 1.],
           [1., 1.]], dtype=float32)
    """
    x = _float_input(input, "avg_pool2d")
    return _pool(AvgPool, x, ksize, strides, padding, data_format, name, "avg_pool2d")


def avg_pool(input, ksize, strides, padding, data_format=None, name=None) -> Tensor:  # noqa
    """``avg_pool2d`` (TF2's N-D ``avg_pool``; flowgrad supports 4-D NHWC inputs)."""
    x = _float_input(input, "avg_pool")
    return _pool(AvgPool, x, ksize, strides, padding, data_format, name, "avg_pool")


__all__ = ["avg_pool", "avg_pool2d", "conv2d", "conv2d_transpose", "max_pool", "max_pool2d"]
