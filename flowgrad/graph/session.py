"""TF1 sessions: ``placeholder``, ``Session.run(fetches, feed_dict)`` and initializers.

Each Session keeps its own variable values. ``run`` compiles the fetch set once into a plan
(cached per fetch/feed signature) and runs it through a transaction: a run that raises
leaves every variable unchanged.

>>> import flowgrad.compat.v1 as tf
>>> g = tf.Graph()
>>> with g.as_default():
...     x = tf.placeholder(tf.float32, [None], name="x")
...     y = x * 2.0
>>> with tf.Session(graph=g) as sess:
...     print(sess.run(y, feed_dict={x: [1.0, 2.0]}))
[2. 4.]
"""
from __future__ import annotations

import contextlib

import numpy as np

from .. import dtypes as _dt
from ..context import Operation, get_default_graph, state
from ..errors import FailedPreconditionError, InvalidArgumentError
from ..ops.base import Op, apply
from ..ops.state import NoOp
from ..tensor import Tensor, TensorShape, as_shape
from .executor import Plan


class Placeholder(Op):
    name = "Placeholder"
    differentiable = False

    def __init__(self, dtype, shape):
        self.dtype = dtype
        self.shape = shape

    def forward(self):
        raise InvalidArgumentError(None, self.name, "You must feed a value for placeholder "
                                   "tensor with dtype %s and shape %s" % (
                                       self.dtype.name, _shape_str(self.shape)))

    def infer(self):
        return [(self.shape, self.dtype)]


class PlaceholderWithDefault(Op):
    name = "PlaceholderWithDefault"

    def __init__(self, shape):
        self.shape = shape

    def forward(self, default):
        return default

    def infer(self, default):
        return [(self.shape, default.dtype)]

    def grad(self, inputs, y, dy):
        return [dy]


def _shape_str(shape):
    return "<unknown>" if shape.rank is None else "[%s]" % ",".join(
        "?" if d is None else str(d) for d in shape)


def placeholder(dtype, shape=None, name=None) -> Tensor:
    """A value to be fed at ``Session.run`` time (TF1 only: graph mode)."""
    graph = state.graph
    if graph is None:
        raise RuntimeError("tf.placeholder() is not compatible with eager execution; use "
                           "flowgrad.compat.v1 (which builds into the default graph) or call "
                           "disable_eager_execution() first")
    t = apply(Placeholder(_dt.as_dtype(dtype), as_shape(shape) if shape is not None
                          else TensorShape(None)), name=name or "Placeholder")
    return t


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    from ..ops.base import convert_to_tensor
    return apply(PlaceholderWithDefault(as_shape(shape)), convert_to_tensor(input),
                 name=name or "PlaceholderWithDefault")


# -- fetch structures ---------------------------------------------------------------------------
def _flatten_fetches(fetches, graph, out):
    """Flattens nested fetches; returns a function rebuilding the structure from values."""
    if fetches is None:
        raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
    if isinstance(fetches, dict):
        keys = list(fetches)
        builders = [_flatten_fetches(fetches[k], graph, out) for k in keys]
        cls = type(fetches)
        return lambda vals: cls((k, b(vals)) for k, b in zip(keys, builders))
    if isinstance(fetches, (list, tuple)):
        builders = [_flatten_fetches(f, graph, out) for f in fetches]
        if hasattr(fetches, "_fields"):  # namedtuple
            return lambda vals: type(fetches)(*[b(vals) for b in builders])
        cls = type(fetches)
        return lambda vals: cls(b(vals) for b in builders)
    if isinstance(fetches, str):
        fetches = _graph_element(graph, fetches)
    if hasattr(fetches, "_as_tensor") and hasattr(fetches, "assign"):  # a Variable
        fetches = _variable_read(fetches, graph)
    if isinstance(fetches, Operation):
        out.append(fetches)
        return lambda vals: None
    if not isinstance(fetches, Tensor):
        raise TypeError("Fetch argument %r has invalid type %s, must be a string, Tensor, "
                        "Operation or Variable" % (fetches, type(fetches)))
    if fetches._graph is not graph:
        raise ValueError("Fetch argument %r is not an element of this session's graph" % fetches)
    i = len(out)
    out.append(fetches)
    return lambda vals: vals[i]


def _graph_element(graph, name):
    """The tensor or operation called ``name``; ``"w:0"`` may also name a variable (as the
    output of TF1's variable op of that name)."""
    try:
        return graph.as_graph_element(name)
    except KeyError:
        for key in ("variables", "local_variables"):
            for v in graph.get_collection(key):
                if v.name == name or v.name == name + ":0":
                    return v
        raise


def _variable_read(var, graph):
    cache = graph._cache.setdefault("variable_reads", {})
    t = cache.get(id(var))
    if t is None:
        if var._graph is not graph:
            raise ValueError("Variable %s is not an element of this session's graph" % var.name)
        with graph.as_default():
            t = cache[id(var)] = var._as_tensor()
    return t


class _SessionStore:
    def __init__(self, session):
        self.values = session._values
        self.generators = session._generators

    def read(self, var):
        if var._graph is None:
            return var._value
        v = self.values.get(id(var))
        if v is None:
            raise FailedPreconditionError(
                None, None, "Attempting to use uninitialized value %s: run "
                "global_variables_initializer() (or the variable's initializer) in this "
                "session first" % var._shared_name)
        return v

    def write(self, var, value):
        value.setflags(write=False)  # stored values are never modified in place
        if var._graph is None:
            var._value = value
        else:
            self.values[id(var)] = value


_default_sessions = []


def get_default_session():
    return _default_sessions[-1] if _default_sessions else None


class Session:
    """Runs operations of a graph; holds that graph's variable values.

    Args:
        target, config: accepted for compatibility; ignored.
        graph: the graph to run (default: the default graph).
    """

    def __init__(self, target="", graph=None, config=None):
        self.graph = graph if graph is not None else get_default_graph()
        self._values = {}
        self._generators = {}
        self._plans = {}
        self._single = {}  # id(fetch) -> (fetch, plan): run(tensor or op) without a feed
        self._closed = False
        self._store = _SessionStore(self)
        self._context = None

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluates ``fetches`` (a tensor, op, variable, name, or nested list/tuple/dict).

        Tensors give NumPy values and operations ``None``. ``feed_dict`` maps tensors
        (usually placeholders) to values. Raises ``InvalidArgumentError`` for a needed
        placeholder that is not fed, ``FailedPreconditionError`` for an uninitialized
        variable; on error no variable changes.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if not feed_dict:  # the training loop's sess.run(train): skip flattening and keys
            single = self._single.get(id(fetches))
            if single is not None and single[0] is fetches:
                values = single[1].run((), self._store)
                return _as_output(values[0]) if values else None
        flat = []
        build = _flatten_fetches(fetches, self.graph, flat)
        feed_keys, feed_vals = self._feeds(feed_dict)
        tensors = [f for f in flat if isinstance(f, Tensor)]
        key = (tuple(id(f) for f in flat), tuple(id(k) for k in feed_keys))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(self.graph, tensors,
                                           [f for f in flat if isinstance(f, Operation)],
                                           feed_keys)
            self._check_feeds_needed(plan)
        values = plan.run(feed_vals, self._store)
        if not feed_keys and isinstance(fetches, (Tensor, Operation)):
            self._single[id(fetches)] = (fetches, plan)
        it = iter(values)
        flat_vals = [None if isinstance(f, Operation) else _as_output(next(it)) for f in flat]
        return build(flat_vals)

    def _check_feeds_needed(self, plan):
        for op in plan.ops:
            if isinstance(op.kernel, Placeholder):
                t = op.outputs[0]
                raise InvalidArgumentError(
                    None, op, "You must feed a value for placeholder tensor '%s' with dtype %s "
                    "and shape %s" % (t.name, t.dtype.name, _shape_str(t.shape)))

    def _feeds(self, feed_dict):
        if not feed_dict:
            return [], []
        keys, vals = [], []
        for k, v in feed_dict.items():
            if isinstance(k, str):
                k = _graph_element(self.graph, k)
            if hasattr(k, "_as_tensor") and hasattr(k, "assign"):
                k = _variable_read(k, self.graph)
            if not isinstance(k, Tensor):
                raise TypeError("The key of a feed_dict must be a Tensor, got %r" % (k,))
            if k._graph is not self.graph:
                raise ValueError("Cannot feed %s: it is not an element of this session's graph"
                                 % k.name)
            keys.append(k)
            vals.append(_check_feed(k, v))
        return keys, vals

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self):
        self._closed = True
        self._values.clear()
        self._plans.clear()
        self._single.clear()

    def as_default(self):
        @contextlib.contextmanager
        def ctx():
            _default_sessions.append(self)
            try:
                with self.graph.as_default():
                    yield self
            finally:
                _default_sessions.remove(self)
        return ctx()

    def __enter__(self):
        self._context = self.as_default()
        return self._context.__enter__()

    def __exit__(self, *exc):
        self._context.__exit__(*exc)
        self._context = None
        self.close()

    def list_devices(self):
        return ["/job:localhost/replica:0/task:0/device:CPU:0"]

    @property
    def sess_str(self) -> str:
        return ""


class InteractiveSession(Session):
    """A Session that installs itself as the default (for ``Tensor.eval``/``Operation.run``)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        _default_sessions.append(self)

    def close(self):
        super().close()
        if self in _default_sessions:
            _default_sessions.remove(self)


def _as_output(v):
    if v.ndim == 0:
        return v[()]
    return v if v.flags.writeable else v.copy()  # never hand out stored variable values


def _check_feed(t, value):
    if isinstance(value, Tensor):
        if value._value is None:
            raise TypeError("The value of a feed cannot be a symbolic tensor (%s); feed NumPy "
                            "values" % value.name)
        value = value._value
    arr = np.asarray(value)
    dt = t.dtype
    if arr.dtype != dt.np:
        if arr.dtype.kind == "f" and (dt.is_integer or dt.is_bool):
            raise ValueError("Cannot feed value of dtype %s for Tensor '%s', which has dtype %s"
                             % (arr.dtype, t.name, dt.name))
        if arr.dtype.kind in "OUS" and dt is not _dt.string:
            raise ValueError("Cannot feed value %r for Tensor '%s' of dtype %s" % (
                value, t.name, dt.name))
        arr = arr.astype(dt.np)
    if not t.shape.is_compatible_with(arr.shape):
        raise ValueError("Cannot feed value of shape %s for Tensor '%s', which has shape '%s'"
                         % (tuple(arr.shape), t.name, t.shape))
    return arr


# -- initializers and grouping ------------------------------------------------------------------
def no_op(name=None):
    graph = get_default_graph() if state.graph is None else state.graph
    with graph.as_default():
        return apply(NoOp(), name=name or "NoOp")


def group(*inputs, name=None):
    """An operation that runs all of ``inputs`` (ops or tensors)."""
    flat = []
    for x in inputs:
        flat.extend(x if isinstance(x, (list, tuple)) else [x])
    ops = [x if isinstance(x, Operation) else x.op for x in flat if x is not None]
    graph = ops[0].graph if ops else (state.graph or get_default_graph())
    with graph.as_default(), graph.control_dependencies(ops):
        return apply(NoOp(), name=name or "group_deps")


def variables_initializer(var_list, name="init"):
    """An op that runs the initializers of ``var_list``."""
    ops = [v.initializer for v in var_list if v.initializer is not None]
    graph = ops[0].graph if ops else get_default_graph()
    with graph.as_default(), graph.control_dependencies(ops):
        return apply(NoOp(), name=name)


def global_variables(scope=None):
    return get_default_graph().get_collection("variables", scope)


def trainable_variables(scope=None):
    return get_default_graph().get_collection("trainable_variables", scope)


def global_variables_initializer():
    """An op that initializes every variable of the default graph."""
    return variables_initializer(global_variables())


def local_variables_initializer():
    return variables_initializer(get_default_graph().get_collection("local_variables"),
                                 name="init_1")
