"""Execution context: the one switch between eager and symbolic, and the graph data.

``state.graph`` is the graph ops are added to (``None`` means eager). ``state.tapes`` are the
active gradient tapes. A :class:`Graph` is plain data: operations in creation order, each
naming its inputs, outputs and control inputs; the executor in ``flowgrad.graph`` runs it.

>>> import flowgrad as tf
>>> g = tf.Graph()
>>> with g.as_default():
...     c = tf.constant(1.0) + 2.0
>>> [op.type for op in g.get_operations()]
['Const', 'Const', 'AddV2']
"""
from __future__ import annotations

import contextlib
import re
import threading

from . import errors


class _State(threading.local):
    functions_eagerly = False  # config.run_functions_eagerly(True): process-wide, no tracing

    def __init__(self):
        self.graph = None          # graph being built, None when eager
        self.tapes = []            # active GradientTapes, innermost last
        self.eager_disabled = False
        self.name_stack = []       # eager name scopes (graphs keep their own)
        self.eager_seed_counter = 0
        self.v1_eager = False      # compat.v1 functions run eagerly (enable_eager_execution)


state = _State()

_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")


class Operation:
    """A node of a graph: one primitive op applied to input tensors.

    Attributes:
        type: the primitive's registered name (``"AddV2"``, ``"MatMul"``, ...).
        inputs: the input tensors; outputs: the output tensors.
        control_inputs: operations that must run before this one.
    """

    __slots__ = ("graph", "kernel", "inputs", "outputs", "name", "control_inputs", "_id",
                 "__weakref__")

    def __init__(self, graph, kernel, inputs, name, control_inputs):
        self.graph = graph
        self.kernel = kernel
        self.inputs = list(inputs)
        self.outputs = []
        self.name = name
        self.control_inputs = list(control_inputs)
        self._id = len(graph._ops)

    @property
    def type(self) -> str:
        return self.kernel.name

    def run(self, feed_dict=None, session=None):
        """Runs this operation in ``session`` (default: the default session)."""
        from .graph import session as _session
        sess = session or _session.get_default_session()
        if sess is None:
            raise ValueError("Operation.run: no default session; pass session= or use "
                             "`with sess.as_default():` or InteractiveSession")
        sess.run(self, feed_dict)

    def _add_control_input(self, op):
        self.control_inputs.append(op)

    def __repr__(self) -> str:
        return "<flowgrad.Operation '%s' type=%s>" % (self.name, self.type)


class Graph:
    """A TensorFlow graph: operations in creation order plus collections.

    >>> import flowgrad as tf
    >>> g = tf.Graph()
    >>> with g.as_default():
    ...     x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
    >>> x.name, x.shape
    ('x:0', TensorShape([None, 3]))
    """

    is_function = False

    def __init__(self):
        self._ops = []
        self._names = {}
        self._name_stack = []
        self._control_stack = []
        self._collections = {}
        self._finalized = False
        self._closed = False
        self.seed = None
        self._last_seed_id = 0
        self._cache = {}           # per-graph memo (e.g. plans), owned by the executor

    # -- building ---------------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """Returns ``name`` prefixed with the name scope, made unique in this graph."""
        if self._name_stack:
            name = "/".join(self._name_stack) + "/" + name
        key = name.lower()
        i = self._names.get(key, 0)
        if mark_as_used:
            self._names[key] = i + 1
        if i == 0:
            return name
        new = "%s_%d" % (name, i)
        while new.lower() in self._names:  # 'a_1' may have been taken explicitly
            i += 1
            new = "%s_%d" % (name, i)
        if mark_as_used:
            self._names[new.lower()] = 1
        return new

    def _add_op(self, kernel, inputs, name=None):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        if self._closed:
            raise errors.InvalidArgumentError(
                "%s: this graph belongs to a finished @function trace and can no longer "
                "be extended; a symbolic tensor leaked out of the trace" % kernel.name)
        if name is not None and not _VALID_NAME.match(name.split("/")[-1] or "x"):
            raise ValueError("'%s' is not a valid node name" % name)
        name = self.unique_name(name or kernel.name)
        controls = [c for ctl in self._control_stack for c in ctl]
        op = Operation(self, kernel, inputs, name, controls)
        self._ops.append(op)
        return op

    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        for op in self._ops:
            if op.name == name:
                return op
        raise KeyError("The name '%s' refers to an Operation not in the graph." % name)

    def get_tensor_by_name(self, name: str):
        op_name, _, idx = name.rpartition(":")
        if not op_name:
            raise ValueError("The name '%s' looks like an Operation name; a tensor name has "
                             "the form '<op_name>:<output_index>'." % name)
        return self.get_operation_by_name(op_name).outputs[int(idx)]

    def as_graph_element(self, obj):
        if isinstance(obj, str):
            return self.get_tensor_by_name(obj) if ":" in obj else \
                self.get_operation_by_name(obj)
        return obj

    def finalize(self):
        self._finalized = True

    @property
    def finalized(self) -> bool:
        return self._finalized

    # -- context managers -------------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self):
        """Makes this graph the one new ops go to."""
        prev = state.graph
        state.graph = self
        try:
            yield self
        finally:
            state.graph = prev

    @contextlib.contextmanager
    def name_scope(self, name):
        if name is None or name == "":
            old, self._name_stack = self._name_stack, []
            try:
                yield ""
            finally:
                self._name_stack = old
            return
        if name.endswith("/"):  # an absolute scope returned by an earlier name_scope
            old, self._name_stack = self._name_stack, [name.rstrip("/")]
        else:
            unique = self.unique_name(name)
            old, self._name_stack = self._name_stack, [unique]
        try:
            yield self._name_stack[0] + "/"
        finally:
            self._name_stack = old

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        if control_inputs is None:
            old, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = old
            return
        ops = []
        for c in control_inputs:
            c = getattr(c, "op", c) if not isinstance(c, Operation) else c
            if not isinstance(c, Operation):
                raise TypeError("control_dependencies: %r is not an Operation or Tensor" % c)
            ops.append(c)
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    # -- collections ------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def get_collection(self, name, scope=None):
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        pattern = re.compile(scope)
        return [i for i in items if pattern.match(getattr(i, "name", ""))]

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_all_collection_keys(self):
        return list(self._collections)


_default_graph = [Graph()]


def get_default_graph() -> Graph:
    """The graph ops are added to: the innermost ``as_default`` graph, else the global one."""
    return state.graph if state.graph is not None else _default_graph[0]


def reset_default_graph() -> None:
    if state.graph is not None and state.graph is not _default_graph[0]:
        raise AssertionError("Do not use tf.reset_default_graph() inside a graph context.")
    _default_graph[0] = Graph()
    if state.eager_disabled:
        state.graph = _default_graph[0]


def disable_eager_execution() -> None:
    """Switches the process to TF1 graph mode: new ops go to the default graph."""
    state.eager_disabled = True
    state.v1_eager = False
    state.graph = _default_graph[0]


def enable_eager_execution(config=None, device_policy=None, execution_mode=None) -> None:
    state.eager_disabled = False
    state.v1_eager = True
    state.graph = None


def executing_eagerly() -> bool:
    """True when ops run immediately (no graph is being built)."""
    return state.graph is None


@contextlib.contextmanager
def eager_mode():
    """Runs the body eagerly, even inside a graph or a trace (TensorFlow's init_scope)."""
    prev = state.graph
    state.graph = None
    try:
        yield
    finally:
        state.graph = prev


@contextlib.contextmanager
def graph_mode_for_v1():
    """Used by the TF1 face: build into the default graph unless a graph is already active.

    ``flowgrad.compat.v1`` behaves like TensorFlow 1.x: its functions build graphs even
    without ``disable_eager_execution()``, unless ``compat.v1.enable_eager_execution()``
    was called.
    """
    if state.graph is not None or state.v1_eager:
        yield state.graph
        return
    g = _default_graph[0]
    state.graph = g
    try:
        yield g
    finally:
        state.graph = None
