"""Tensor: an eager value or a symbolic handle to an operation's output.

An eager tensor holds a NumPy array (``_value``); a symbolic one names the graph operation
that produces it (``_op``, ``_index``). Operator overloads are installed by ``flowgrad.ops``
(the registration point below), so this module does not import the op library.

>>> import flowgrad as tf
>>> tf.constant(2)
<flowgrad.Tensor: shape=(), dtype=int32, numpy=2>
>>> (tf.constant([1.0, 2.0]) * 3).numpy()
array([3., 6.], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from . import dtypes as _dtypes
from .context import state
from .errors import OperatorNotAllowedInGraphError


class TensorShape(tuple):
    """A static shape: a tuple of dims, each an int or ``None`` (unknown).

    ``TensorShape(None)`` has unknown rank. Compares equal to tuples and lists.
    """

    def __new__(cls, dims=()):
        if dims is None:
            self = super().__new__(cls, ())
            self._known_rank = False
            return self
        if isinstance(dims, int):
            dims = (dims,)
        self = super().__new__(cls, (None if d is None else int(d) for d in dims))
        self._known_rank = True
        return self

    @property
    def rank(self):
        return len(self) if self._known_rank else None

    ndims = rank

    @property
    def dims(self):
        return list(self) if self._known_rank else None

    def as_list(self):
        if not self._known_rank:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self)

    def is_fully_defined(self) -> bool:
        return self._known_rank and all(d is not None for d in self)

    def num_elements(self):
        if not self.is_fully_defined():
            return None
        return int(np.prod(self, dtype=np.int64))

    def is_compatible_with(self, other) -> bool:
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if not self._known_rank or not other._known_rank:
            return True
        return len(self) == len(other) and all(
            a is None or b is None or a == b for a, b in zip(self, other))

    def merge_with(self, other) -> "TensorShape":
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if not self._known_rank:
            return other
        if not other._known_rank:
            return self
        if not self.is_compatible_with(other):
            raise ValueError("Shapes %s and %s are not compatible" % (self, other))
        return TensorShape([a if a is not None else b for a, b in zip(self, other)])

    def concatenate(self, other) -> "TensorShape":
        """The dimensions of ``self`` followed by those of ``other`` (unknown rank if either
        rank is unknown), as TensorFlow's ``TensorShape.concatenate``."""
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if not self._known_rank or not other._known_rank:
            return TensorShape(None)
        return TensorShape(tuple(self) + tuple(other))

    def assert_is_compatible_with(self, other):
        if not self.is_compatible_with(other):
            raise ValueError("Shapes %s and %s are incompatible" % (self, other))

    def __getitem__(self, key):
        if isinstance(key, slice):
            return TensorShape(tuple.__getitem__(self, key)) if self._known_rank else self
        return tuple.__getitem__(self, key)

    def __eq__(self, other):
        if isinstance(other, TensorShape) and not (self._known_rank and other._known_rank):
            return False
        try:
            return tuple(self) == tuple(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __str__(self) -> str:
        if not self._known_rank:
            return "<unknown>"
        if len(self) == 1:
            return "(%s,)" % self[0]
        return "(%s)" % ", ".join(str(d) for d in self)

    def __repr__(self) -> str:
        return "TensorShape(%s)" % (self.as_list() if self._known_rank else None)


def as_shape(shape) -> TensorShape:
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


class Tensor:
    """A multi-dimensional array with a dtype and a (possibly partly unknown) shape.

    Eager tensors carry their value; symbolic tensors are outputs of graph operations
    and get a value only when a ``Session`` or a ``@function`` runs the graph.
    """

    __slots__ = ("_value", "_dtype", "_shape", "_op", "_index", "_graph", "_const",
                 "__weakref__")
    # NumPy defers to our reflected operators (np.float32(2) * t -> t.__rmul__ -> Tensor)
    __array_ufunc__ = None

    def __init__(self, value=None, dtype=None, shape=None, op=None, index=0, graph=None):
        self._value = value
        self._dtype = dtype
        self._shape = shape
        self._op = op
        self._index = index
        self._graph = graph
        self._const = None  # known value of a symbolic tensor (constant folding)

    # -- properties -------------------------------------------------------------------
    @property
    def dtype(self) -> _dtypes.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        s = self._shape
        if s is None:
            s = self._shape = TensorShape(self._value.shape)
        return s

    def get_shape(self) -> TensorShape:
        return self.shape

    def set_shape(self, shape):
        """Refines the static shape of a symbolic tensor (TF1 ``set_shape``)."""
        merged = self.shape.merge_with(as_shape(shape))
        if self._value is None:
            self._shape = merged

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def op(self):
        if self._op is None:
            raise AttributeError("Tensor.op is undefined when eager execution is enabled.")
        return self._op

    @property
    def graph(self):
        if self._graph is None:
            raise AttributeError("Tensor.graph is undefined when eager execution is enabled.")
        return self._graph

    @property
    def name(self) -> str:
        if self._op is None:
            raise AttributeError("Tensor.name is undefined when eager execution is enabled.")
        return "%s:%d" % (self._op.name, self._index)

    @property
    def value_index(self) -> int:
        return self._index

    @property
    def device(self) -> str:
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    def consumers(self):
        return [op for op in self._graph._ops if any(t is self for t in op.inputs)]

    # -- values -----------------------------------------------------------------------
    def numpy(self):
        """The value as a NumPy array (a NumPy scalar for rank 0)."""
        if self._value is None:
            raise NotImplementedError(
                "numpy() is only available when eager execution is enabled; this is a "
                "symbolic tensor '%s': evaluate it with Session.run or return it from the "
                "@function" % self.name)
        v = self._value
        return v[()] if v.ndim == 0 else v

    def eval(self, feed_dict=None, session=None):
        """Evaluates this symbolic tensor in ``session`` (default: the default session)."""
        from .graph import session as _session
        sess = session or _session.get_default_session()
        if sess is None:
            raise ValueError("Tensor.eval: no default session; pass session= or use "
                             "`with sess.as_default():` or InteractiveSession")
        return sess.run(self, feed_dict)

    def __array__(self, dtype=None, copy=None):
        v = self.numpy() if self._value is not None else self._symbolic_error("__array__")
        return np.asarray(v, dtype=dtype)

    def _symbolic_error(self, what):
        raise TypeError(
            "%s: '%s' is a symbolic tensor; its value exists only when a Session or "
            "@function runs the graph" % (what, self.name))

    def __bool__(self):
        if self._value is None:
            raise OperatorNotAllowedInGraphError(
                "Using a symbolic tensor '%s' as a Python bool is not allowed while "
                "building a graph or tracing a @function: use flowgrad.cond(pred, true_fn, "
                "false_fn) for data-dependent branches" % self.name)
        return bool(self._value)

    def __len__(self):
        d = self.shape[0] if self.shape.rank else None
        if self.shape.rank == 0:
            raise TypeError("len() of a 0-d tensor")
        if d is None:
            raise TypeError("len() of a tensor with unknown first dimension; use "
                            "flowgrad.shape(t)[0]")
        return d

    def __iter__(self):
        if self.shape.rank == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        n = self.shape[0]
        if n is None:
            raise TypeError("Cannot iterate over a tensor with unknown first dimension.")
        return (self[i] for i in range(n))

    def __int__(self):
        return int(self.numpy())

    def __float__(self):
        return float(self.numpy())

    def __index__(self):
        if self._dtype.is_integer and self.shape.rank == 0:
            return int(self.numpy())
        raise TypeError("Only integer scalar tensors can be used as an index")

    def __hash__(self):
        return id(self)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        if self._value is None:
            return "<flowgrad.Tensor '%s' shape=%s dtype=%s>" % (
                self.name, self.shape, self._dtype.name)
        v = self._value
        body = repr(v) if v.ndim else str(v[()])
        return "<flowgrad.Tensor: shape=%s, dtype=%s, numpy=%s>" % (
            self.shape, self._dtype.name, body)

    def __str__(self) -> str:
        if self._value is None:
            return repr(self)
        return "tf.Tensor(%s, shape=%s, dtype=%s)" % (self._value, self.shape, self._dtype.name)


class TensorSpec:
    """Describes a tensor's shape and dtype (for ``@function(input_signature=...)``).

    >>> import flowgrad as tf
    >>> tf.TensorSpec([None, 3], tf.float32)
    TensorSpec(shape=(None, 3), dtype=tf.float32, name=None)
    """

    def __init__(self, shape, dtype=_dtypes.float32, name=None):
        self.shape = as_shape(shape)
        self.dtype = _dtypes.as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tensor.shape, tensor.dtype, name)

    def is_compatible_with(self, value) -> bool:
        return (value.dtype == self.dtype) and self.shape.is_compatible_with(value.shape)

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and self.dtype == other.dtype
                and self.shape == other.shape)

    def __hash__(self):
        return hash((tuple(self.shape), self.dtype))

    def __repr__(self) -> str:
        return "TensorSpec(shape=%s, dtype=%r, name=%r)" % (self.shape, self.dtype, self.name)


def is_symbolic(t) -> bool:
    return isinstance(t, Tensor) and t._value is None


def current_graph():
    return state.graph
