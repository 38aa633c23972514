"""The primitive-op base class, the registry, and ``apply``: the one eager/symbolic switch.

A primitive is one :class:`Op` subclass: ``forward`` on NumPy arrays, ``backward`` written
with flowgrad ops (so the same rule gives eager, symbolic and higher-order gradients), and
``infer`` for static shapes and dtypes. ``apply`` runs the op now (recording it on active
tapes) or adds it to the current graph.

>>> import flowgrad as tf
>>> from flowgrad.ops.base import REGISTRY
>>> "AddV2" in REGISTRY and "MatMul" in REGISTRY
True
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..context import state
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorShape

REGISTRY: dict = {}


class Op:
    """Base class of primitive ops.

    Subclasses set ``name`` (registered type name) and implement ``forward``; differentiable
    ones implement ``grad(inputs, output, dy)`` (single output) or ``backward``.
    """

    name: str | None = None
    num_outputs = 1
    stateful = False         # reads or writes state: never folded, never pruned in functions
    same_dtype = False       # all inputs must share one dtype
    differentiable = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            REGISTRY[cls.name] = cls

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, inputs, outputs, grads):
        """Input gradients (a list, ``None`` for no gradient) from output gradients."""
        return self.grad(inputs, outputs[0], grads[0])

    def grad(self, inputs, output, dy):
        raise LookupError("No gradient defined for operation type '%s'" % self.name)

    def infer(self, *inputs):
        """Static ``[(shape, dtype), ...]`` of the outputs, from the inputs' static info."""
        return infer_by_evaluation(self, inputs)

    def attrs(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        return "%s(%s)" % (self.name, ", ".join("%s=%r" % kv for kv in self.attrs().items()))


def infer_by_evaluation(op, inputs):
    """Generic shape inference: run ``forward`` on small stand-ins for unknown dims.

    Unknown dims are tried as 2 and as 3; output dims that differ between the two runs are
    unknown. Inputs with a known constant value use it. Ops whose output shape depends on
    input values (not known statically) report unknown shapes.
    """
    if any(t.shape.rank is None for t in inputs if t._const is None):
        return [(TensorShape(None), None)] * op.num_outputs
    runs = []
    for fill in (2, 3):
        arrays = []
        for t in inputs:
            if t._const is not None:
                arrays.append(t._const)
            else:
                shape = [fill if d is None else d for d in t.shape]
                arrays.append(np.ones(shape, dtype=t.dtype.np))
        try:
            with np.errstate(all="ignore"):
                out = op.forward(*arrays)
        except Exception:  # noqa: BLE001 - stand-in values may be invalid; shape unknown
            return [(TensorShape(None), None)] * op.num_outputs
        runs.append(out if op.num_outputs != 1 else (out,))
    result = []
    for a, b in zip(*runs):
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim != b.ndim:
            result.append((TensorShape(None), _dt.dtype_of_array(a)))
        else:
            result.append((TensorShape([x if x == y else None for x, y in zip(a.shape, b.shape)]),
                           _dt.dtype_of_array(a)))
    return result


def _describe(inputs) -> str:
    return ", ".join("%s%s" % (t.dtype.name, list(t.shape) if t.shape.rank is not None
                               else "[?]") for t in inputs)


def _check_same_dtype(op, inputs):
    d0 = inputs[0]._dtype
    for i, t in enumerate(inputs):
        if t._dtype is not d0:
            raise InvalidArgumentError(
                None, op.name,
                "%s: all inputs must have the same dtype, but input #0 is %s and input #%d is "
                "%s (no implicit promotion, as in TensorFlow); use flowgrad.cast to convert"
                % (op.name, d0.name, i, t._dtype.name))


def apply(op: Op, *inputs: Tensor, name: str | None = None):
    """Runs ``op`` on ``inputs`` now (eager) or adds it to the current graph.

    The graph is the active one (``Graph.as_default``, a ``@function`` trace, TF1 mode) or
    else the graph of any symbolic input; with neither, the op runs eagerly.
    """
    graph = state.graph
    if graph is None:
        for t in inputs:
            if t._graph is not None:
                graph = t._graph
                if graph._closed:
                    raise _leaked(op, t)
                break
        else:
            return _run_eager(op, inputs)
    return _add_to_graph(graph, op, inputs, name)


def _leaked(op, t):
    return TypeError(
        "%s: tensor '%s' was created inside a @function trace that has finished; it is out of "
        "scope and cannot be used here. Return it from the function (or keep state in a "
        "Variable) instead." % (op.name, t.name))


def _run_eager(op, inputs):
    if op.same_dtype:
        d0 = inputs[0]._dtype
        for t in inputs:
            if t._dtype is not d0:
                _check_same_dtype(op, inputs)
    try:
        out = op.forward(*[t._value for t in inputs])
    except InvalidArgumentError:
        raise
    except (ValueError, IndexError, TypeError, np.linalg.LinAlgError) as e:
        raise InvalidArgumentError(None, op.name, "%s: %s (inputs: %s)" % (
            op.name, e, _describe(inputs))) from None
    if op.num_outputs == 1:
        res = eager_result(out)
        if state.tapes:
            _record(op, inputs, (res,))
        return res
    if not op.num_outputs:
        return None
    outs = tuple(Tensor(o, _dt.dtype_of_array(o)) for o in map(np.asarray, out))
    if state.tapes:
        _record(op, inputs, outs)
    return outs


_ndarray = np.ndarray
_Tensor = Tensor
_new_tensor = object.__new__
_BY_NP_TYPE = {d.np.type: d for d in _dt._ALL}


def eager_result(out) -> Tensor:
    """Wraps a kernel's result as an eager Tensor (no validation: the hot path of every op)."""
    if type(out) is not _ndarray:
        out = np.asarray(out)
    res = _new_tensor(_Tensor)
    res._value = out
    res._dtype = _BY_NP_TYPE.get(out.dtype.type) or _dt.dtype_of_array(out)
    res._shape = res._op = res._graph = res._const = None
    res._index = 0
    return res


def _capture(graph, t, op):
    """An input of an op being added to ``graph``: eager values become constants."""
    if t._graph is graph:
        return t
    if t._graph is None:
        return constant_in_graph(graph, t._value)
    if graph.is_function and getattr(graph, "outer_graph", None) is t._graph:
        return graph.capture(t)
    if t._graph._closed:
        raise _leaked(op, t)
    raise ValueError("Tensor %s must be from the same graph as the other inputs of the op "
                     "being created (this tensor belongs to another Graph)" % t.name)


def _add_to_graph(graph, op, inputs, name):
    inputs = [_capture(graph, t, op) for t in inputs]
    if op.same_dtype and len(inputs) > 1:
        _check_same_dtype(op, inputs)
    specs = op.infer(*inputs)
    node = graph._add_op(op, inputs, name)
    outs = [Tensor(None, dt, sh if isinstance(sh, TensorShape) else TensorShape(sh), node, i,
                   graph) for i, (sh, dt) in enumerate(specs)]
    node.outputs = outs
    if not op.stateful and inputs and all(t._const is not None for t in inputs):
        _fold(op, inputs, outs)
    if state.tapes:
        _record(op, inputs, outs)
    if op.num_outputs == 1:
        return outs[0]
    return tuple(outs) if op.num_outputs else node


def _fold(op, inputs, outs):
    """Keeps the value of small constant expressions (shapes, axes) for static inference."""
    if sum(t._const.size for t in inputs) > 4096:
        return
    try:
        with np.errstate(all="ignore"):
            vals = op.forward(*[t._const for t in inputs])
    except Exception:  # noqa: BLE001 - the run-time error will be reported at run time
        return
    vals = (vals,) if op.num_outputs == 1 else vals
    for t, v in zip(outs, vals):
        v = np.asarray(v)
        t._const = v
        if t._dtype is None:
            t._dtype = _dt.dtype_of_array(v)
        t._shape = TensorShape(v.shape)


def _record(op, inputs, outputs):
    for tape in state.tapes:
        tape._maybe_record(op, inputs, outputs)


# -- conversion -----------------------------------------------------------------------------
class Const(Op):
    name = "Const"
    differentiable = False

    def __init__(self, value):
        self.value = value

    def forward(self):
        return self.value

    def infer(self):
        return [(TensorShape(self.value.shape), _dt.dtype_of_array(self.value))]

    def attrs(self):
        return {"value": self.value if self.value.size <= 8 else "<%s %s>" % (
            self.value.dtype, self.value.shape)}


def constant_in_graph(graph, array, name=None):
    with graph.as_default():
        t = _add_to_graph(graph, Const(array), (), name or "Const")
    t._const = array
    return t


def constant(value, dtype=None, shape=None, name: str = "Const") -> Tensor:
    """Creates a constant tensor (TensorFlow's rules: Python float -> float32, int -> int32).

    >>> import flowgrad as tf
    >>> tf.constant([[1, 2], [3, 4]]).dtype
    tf.int32
    >>> tf.constant(0.0, shape=[2]).numpy()
    array([0., 0.], dtype=float32)
    """
    dtype = _dt.as_dtype(dtype) if dtype is not None else None
    if isinstance(value, Tensor):
        if value._value is None:
            raise TypeError("constant: expected a Python or NumPy value, got symbolic tensor %s"
                            % value.name)
        value = value._value
    arr = _dt.python_to_array(value, dtype)
    if isinstance(value, np.ndarray) and np.shares_memory(arr, value):
        arr = arr.copy()  # a constant does not change when the caller's array does
    if shape is not None:
        shape = tuple(shape)
        if arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise TypeError("constant: expected %d values for shape %s, got %d" % (
                int(np.prod(shape)), list(shape), arr.size))
    if state.graph is None:
        return Tensor(arr, _dt._BY_NP.get(arr.dtype) or _dt.dtype_of_array(arr))
    return constant_in_graph(state.graph, arr, name)


def convert_to_tensor(value, dtype=None, name=None, dtype_hint=None) -> Tensor:
    """Converts Tensors, Variables, NumPy arrays and Python values to a Tensor.

    Raises ``TypeError`` if ``value`` cannot be converted to ``dtype`` without loss.
    """
    if isinstance(value, Tensor):
        if dtype is not None and value._dtype is not None and \
                value._dtype is not _dt.as_dtype(dtype):
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                             % (_dt.as_dtype(dtype).name, value._dtype.name, value))
        return value
    as_tensor = getattr(value, "_as_tensor", None)
    if as_tensor is not None:
        t = as_tensor()
        if dtype is not None and t._dtype is not _dt.as_dtype(dtype):
            raise ValueError("Tensor conversion requested dtype %s for variable with dtype %s"
                             % (_dt.as_dtype(dtype).name, t._dtype.name))
        return t
    if isinstance(value, (list, tuple)) and any(_is_tensorlike(v) for v in value):
        from .array import stack  # a list of tensors packs into one (TensorFlow's rule)
        return stack([convert_to_tensor(v, dtype) for v in value])
    if dtype is None and dtype_hint is not None:
        try:
            return constant(value, dtype_hint)
        except (TypeError, ValueError):
            pass
    return constant(value, dtype)


def _is_tensorlike(v) -> bool:
    if isinstance(v, Tensor) or hasattr(v, "_as_tensor"):
        return True
    return isinstance(v, (list, tuple)) and any(_is_tensorlike(x) for x in v)


def binary_operands(x, y):
    """Converts two operands; a Python/NumPy operand takes the other tensor's dtype."""
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        return x, y
    if isinstance(x, Tensor) or hasattr(x, "_as_tensor"):
        x = convert_to_tensor(x)
        return x, y if isinstance(y, Tensor) else _convert_operand(y, x._dtype)
    if isinstance(y, Tensor) or hasattr(y, "_as_tensor"):
        y = convert_to_tensor(y)
        return _convert_operand(x, y._dtype), y
    x = convert_to_tensor(x)
    return x, _convert_operand(y, x._dtype)


def _convert_operand(v, dtype):
    if hasattr(v, "_as_tensor"):
        return convert_to_tensor(v)
    try:
        return constant(v, dtype)
    except TypeError as e:
        raise TypeError("Cannot convert %r to a tensor of dtype %s (%s); cast explicitly"
                        % (v, dtype.name, e)) from None
