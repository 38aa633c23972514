"""``@function``: traces Python into a graph once per input signature and runs the plan.

Tensor arguments are traced by shape and dtype (NumPy arrays too), Python scalars and
other objects by value. Variables created during the first trace are lifted out and
created eagerly. Called under an active ``GradientTape`` that watches an input or reads a
trainable variable, the traced graph is replayed op by op so the tape records it (TensorFlow
records the call as one op with a generated gradient function; the gradients are the same).

>>> import flowgrad as tf
>>> @tf.function
... def f(x):
...     return x * x + 1.0
>>> float(f(tf.constant(3.0)))
10.0
>>> len(f._concrete)
1
"""
from __future__ import annotations

import functools
import weakref

import numpy as np

from .. import dtypes as _dt
from ..autodiff import nest
from ..autodiff.custom import CustomGradient
from ..context import Graph, state
from ..ops.base import apply, constant_in_graph, convert_to_tensor
from ..ops import state as _state
from ..tensor import Tensor, TensorShape, TensorSpec
from .executor import Plan
from .replay import evaluate
from .session import Placeholder


class FuncGraph(Graph):
    """The graph of one traced signature; closed once the trace ends."""

    is_function = True

    def __init__(self, name, outer_graph=None):
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.created_variables = []
        self.captures = []  # (outer tensor, inner placeholder)

    def capture(self, t):
        for outer, inner in self.captures:
            if outer is t:
                return inner
        with self.as_default():
            inner = apply(Placeholder(t.dtype, t.shape), name="capture")
        self.captures.append((t, inner))
        return inner


def _is_variable(x):
    return hasattr(x, "_as_tensor") and hasattr(x, "assign")


def _signature_key(x):
    if isinstance(x, TensorSpec):
        return ("T", tuple(x.shape), x.dtype.name)
    if isinstance(x, Tensor):
        if x._value is None:
            return ("S", id(x))
        return ("T", x._value.shape, x._dtype.name)
    if isinstance(x, np.ndarray):
        return ("T", x.shape, _dt.dtype_of_array(x).name)
    if _is_variable(x):
        return ("V", id(x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__,) + tuple(_signature_key(v) for v in x)
    if isinstance(x, dict):
        return ("dict",) + tuple((k, _signature_key(x[k])) for k in sorted(x))
    if isinstance(x, (int, float, bool, str, type(None), np.generic)):
        return ("P", type(x).__name__, x)
    return ("O", id(x))


def _key_matches(general, key) -> bool:
    """Whether a signature key with unknown (``None``) dims covers a concrete one."""
    if general == key:
        return True
    if not (isinstance(general, tuple) and isinstance(key, tuple)) or len(general) != len(key):
        return False
    if general[:1] == ("T",) and key[:1] == ("T",):
        (_, gs, gd), (_, ks, kd) = general, key
        return gd == kd and len(gs) == len(ks) and all(g is None or g == k
                                                       for g, k in zip(gs, ks))
    return all(_key_matches(g, k) for g, k in zip(general, key))


class ConcreteFunction:
    """One traced signature: a closed graph with its inputs, outputs and plan."""

    def __init__(self, graph, inputs, structured_outputs, python_function=None):
        self.graph = graph
        self.inputs = inputs                        # placeholders, flat
        self.structured_outputs = structured_outputs
        self.outputs = [t for t in nest.flatten(structured_outputs) if isinstance(t, Tensor)]
        self._plan = None
        self._python_function = python_function

    @property
    def variables(self):
        seen, out = set(), []
        for op in self.graph._ops:
            v = getattr(op.kernel, "var", None)
            if v is not None and id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        return out

    @property
    def trainable_variables(self):
        return [v for v in self.variables if v.trainable]

    def _needs_tape(self, flat_args):
        for tape in state.tapes:
            if not tape._recording:
                continue
            if any(isinstance(a, Tensor) and id(a) in tape._watched for a in flat_args):
                return True
            for v in self.variables:
                if id(v) in tape._watched or (tape._watch_accessed and v.trainable):
                    return True
        return False

    def _call_flat(self, flat_args):
        """Runs the graph on flat tensor arguments (aligned with ``self.inputs``)."""
        if state.tapes and self._needs_tape(flat_args):
            return self._replay(flat_args)
        return self._run_arrays([a._value for a in flat_args])

    def _run_arrays(self, arrays):
        """Runs the compiled plan on the argument arrays (no tape is watching)."""
        if self._plan is None:
            self._plan = Plan(self.graph, self.outputs, (), self.inputs + [
                inner for _, inner in self.graph.captures], keep_stateful=True)
            self._capture_values = [o._value if o._value is not None else o._const
                                    for o, _ in self.graph.captures]
            so = self.structured_outputs
            if isinstance(so, Tensor):  # the common cases, without walking a structure
                self._pack = lambda vals, d=so._dtype: Tensor(vals[0], d)
            elif so is None:
                self._pack = lambda vals: None
            else:
                self._pack = self._pack_structure
        if self._capture_values:
            arrays = arrays + self._capture_values
        return self._pack(self._plan.run(arrays, _state.current_store()))

    def _pack_structure(self, values):
        it = iter(values)
        by_id = {id(t): Tensor(next(it), t._dtype) for t in self.outputs}
        return nest.map_structure(lambda t: by_id[id(t)] if isinstance(t, Tensor) else t,
                                  self.structured_outputs)

    def _replay(self, flat_args):
        """Re-executes the graph op by op eagerly so active tapes record every op."""
        env = {id(p): a for p, a in zip(self.inputs, flat_args)}
        known = list(self.inputs)
        for outer, inner in self.graph.captures:
            env[id(inner)] = outer
            known.append(inner)
        evaluate(self.graph, self.outputs, env, known, keep_stateful=True)
        return nest.map_structure(lambda t: env[id(t)] if isinstance(t, Tensor) else t,
                                  self.structured_outputs)

    def __call__(self, *args):
        flat = [convert_to_tensor(a) for a in nest.flatten(list(args))]
        if len(flat) != len(self.inputs):
            raise TypeError("ConcreteFunction expects %d tensor arguments, got %d" % (
                len(self.inputs), len(flat)))
        for a, p in zip(flat, self.inputs):
            if a.dtype is not p.dtype or not p.shape.is_compatible_with(a.shape):
                raise ValueError("ConcreteFunction: argument %s %s does not match the signature "
                                 "%s %s" % (a.dtype.name, a.shape, p.dtype.name, p.shape))
        return self._call_flat(flat)

    def pretty_printed_graph(self) -> str:
        from .printing import graph_to_text
        return graph_to_text(self.graph)


class Function:
    """A Python function compiled into graphs, one per input signature (TF2 ``tf.function``).

    Args:
        python_function: the function to trace.
        input_signature: optional list of ``TensorSpec``; fixes the signature (one trace).
        jit_compile, reduce_retracing, autograph: accepted for compatibility.
    """

    def __init__(self, python_function, input_signature=None, autograph=True,
                 jit_compile=None, reduce_retracing=False, experimental_relax_shapes=None,
                 name=None):
        self._python_function = python_function
        self.input_signature = input_signature
        self._concrete = {}
        self._fast = {}  # (shape, dtype) per positional argument -> ConcreteFunction
        self._bound = weakref.WeakKeyDictionary()
        self._name = name or getattr(python_function, "__name__", "function")
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self):
        return self._python_function

    def __get__(self, instance, owner):
        if instance is None:
            return self
        try:
            bound = self._bound.get(instance)
        except TypeError:
            bound = None
        if bound is None:
            bound = Function(self._python_function.__get__(instance, owner),
                             self.input_signature, name=self._name)
            try:
                self._bound[instance] = bound
            except TypeError:
                pass
        return bound

    def __call__(self, *args, **kwargs):
        if state.graph is not None or state.functions_eagerly:
            # nested in another trace or a TF1 graph: inline; run_functions_eagerly: plain Python
            return self._python_function(*args, **kwargs)
        fast_key = None if kwargs or self.input_signature is not None else _array_key(args)
        if fast_key is not None and not state.tapes:
            cf = self._fast.get(fast_key)
            if cf is not None:  # positional tensors/arrays seen before: straight to the plan
                return cf._run_arrays([a if type(a) is np.ndarray else a._value for a in args])
        cf, flat = self._concrete_for(args, kwargs)
        if fast_key is not None:
            self._fast[fast_key] = cf
        return cf._call_flat(flat)

    def _concrete_for(self, args, kwargs):
        if self.input_signature is not None:
            specs = list(self.input_signature)
            flat = [convert_to_tensor(a, dtype=s.dtype) if not isinstance(a, Tensor) else a
                    for a, s in zip(nest.flatten(list(args)), specs)]
            if len(flat) != len(specs) or kwargs:
                raise TypeError("%s: expected %d arguments matching input_signature, got %d" %
                                (self._name, len(specs), len(flat) + len(kwargs)))
            for a, s in zip(flat, specs):
                if a.dtype is not s.dtype or not s.shape.is_compatible_with(a.shape):
                    raise ValueError("%s: argument of dtype %s and shape %s is not compatible "
                                     "with input_signature %r" % (self._name, a.dtype.name,
                                                                  a.shape, s))
            key = "signature"
        else:
            key = (_signature_key(args), _signature_key(kwargs))
            flat = [_as_tensor_arg(a) for a in nest.flatten([list(args), dict(kwargs)])
                    if isinstance(a, (Tensor, np.ndarray))]
        cf = self._concrete.get(key) or self._compatible(key)
        if cf is None:
            cf = self._concrete[key] = self._trace(args, kwargs)
        return cf, flat

    def _compatible(self, key):
        """A trace made from ``TensorSpec``s with ``None`` dims that accepts ``key``."""
        for general, cf in self._concrete.items():
            if general != "signature" and _key_matches(general, key):
                return cf
        return None

    def _trace(self, args, kwargs, specs=None):
        graph = FuncGraph(self._name)
        inputs = []
        sig = list(self.input_signature) if self.input_signature is not None else None

        def to_placeholder(x):
            if isinstance(x, TensorSpec) or isinstance(x, (Tensor, np.ndarray)):
                if sig is not None:
                    spec = sig[len(inputs)]
                elif isinstance(x, TensorSpec):
                    spec = x
                else:
                    t = _as_tensor_arg(x)
                    spec = TensorSpec(t.shape, t.dtype)
                p = apply(Placeholder(spec.dtype, TensorShape(spec.shape)),
                          name=spec.name or "args_%d" % len(inputs))
                inputs.append(p)
                return p
            return x

        prev_graph, prev_tapes = state.graph, state.tapes
        state.graph, state.tapes = graph, []
        try:
            with graph.as_default():
                targs = nest.map_structure(to_placeholder, list(args))
                tkwargs = nest.map_structure(to_placeholder, dict(kwargs))
                out = self._python_function(*targs, **tkwargs)
                out = nest.map_structure(lambda v: _output_tensor(graph, v), out)
                trace_custom_gradients(graph)
        finally:
            state.graph, state.tapes = prev_graph, prev_tapes
        graph._closed = True
        if graph.created_variables and self._concrete:
            raise ValueError(
                "%s: tf.function only supports singleton tf.Variables created on the first "
                "call; this trace (new input signature) created %s again. Create variables "
                "once (e.g. `if self.v is None:`) or outside the function."
                % (self._name, [v.name for v in graph.created_variables]))
        return ConcreteFunction(graph, inputs, out, self._python_function)

    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The traced graph for these arguments (tensors or ``TensorSpec``s)."""
        if self.input_signature is not None and not args:
            key = "signature"
            if key not in self._concrete:
                self._concrete[key] = self._trace(list(self.input_signature), {})
            return self._concrete[key]
        key = (_signature_key(args), _signature_key(kwargs))
        cf = self._concrete.get(key)
        if cf is None:
            cf = self._concrete[key] = self._trace(args, kwargs)
        return cf

    def experimental_get_tracing_count(self) -> int:
        return len(self._concrete)


def trace_custom_gradients(graph):
    """Traces the gradient function of each custom gradient in ``graph`` into a graph of its
    own (capturing the forward tensors it uses), for replays under a tape. A separate graph
    keeps the function's plan free of gradient ops."""
    for op in list(graph._ops):
        kernel = op.kernel
        if type(kernel) is not CustomGradient or kernel.symbolic is not None:
            continue
        grad_graph = FuncGraph(graph.name + "_custom_gradient", outer_graph=graph)
        with grad_graph.as_default():
            dys = [apply(Placeholder(o.dtype, o.shape), name="dy") for o in op.outputs]
            try:
                dxs = kernel.backward(op.inputs, op.outputs, dys)
            except (TypeError, ValueError, NotImplementedError):
                continue  # a gradient function that only works eagerly: replays call it
        grad_graph._closed = True
        kernel.symbolic = (grad_graph, dys, dxs[:len(op.inputs) - len(op.outputs)])


def _array_key(args):
    """``((shape, dtype), ...)`` when every argument is an eager tensor or an array."""
    key = []
    for a in args:
        t = type(a)
        if t is Tensor and a._value is not None:
            key.append((a._value.shape, a._value.dtype))
        elif t is np.ndarray:
            key.append((a.shape, a.dtype))
        else:
            return None
    return tuple(key)


def _as_tensor_arg(x):
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def _output_tensor(graph, v):
    if v is None or isinstance(v, (int, float, bool, str)):
        return v
    if isinstance(v, Tensor):
        if v._graph is None:
            return constant_in_graph(graph, v._value)
        return v
    if _is_variable(v):
        return v._as_tensor()
    if hasattr(v, "op") and hasattr(v, "graph") and not isinstance(v, Tensor):
        return None  # an Operation: functions return None for ops
    return convert_to_tensor(v)


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_relax_shapes=None, name=None):
    """Decorator: compiles ``func`` into graphs (TensorFlow's ``tf.function``)."""
    def decorate(f):
        return Function(f, input_signature, autograph, jit_compile, reduce_retracing,
                        experimental_relax_shapes, name)
    return decorate(func) if func is not None else decorate


def cond(pred, true_fn=None, false_fn=None, name=None):
    """``true_fn()`` if ``pred`` else ``false_fn()``.

    Eagerly only the taken branch runs. In a graph both branches are built and the results
    selected elementwise with ``where`` (so both branches' side effects run; see
    docs/differences.md).
    """
    from ..ops.math import where
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: true_fn and false_fn must be callable, got %r and %r"
                        % (true_fn, false_fn))
    p = convert_to_tensor(pred)
    known = p._value if p._value is not None and state.graph is None else p._const
    if known is not None:  # eager, or a predicate known while building: one branch only
        return true_fn() if bool(known) else false_fn()
    t, f = true_fn(), false_fn()
    tl, fl = nest.flatten(t), nest.flatten(f)
    if len(tl) != len(fl):
        raise ValueError("cond: true_fn and false_fn must return the same structure")
    chosen = iter([where(p, a, b) if a is not None else None for a, b in zip(tl, fl)])
    return nest.map_structure(lambda _: next(chosen), t)



