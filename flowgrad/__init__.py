"""flowgrad: TensorFlow's programming model on NumPy.

``import flowgrad as tf`` runs TF2-style programs; ``import flowgrad.compat.v1 as tf`` runs
TF1-style programs (graphs, placeholders, sessions).

>>> import flowgrad as tf
>>> tf.constant(2) + 3
<flowgrad.Tensor: shape=(), dtype=int32, numpy=5>
"""
from __future__ import annotations

import importlib as _importlib

from . import dtypes, errors
from .autodiff import GradientTape, UnconnectedGradients, custom_gradient
from .context import Graph, Operation, executing_eagerly, get_default_graph
from .dtypes import (DType, as_dtype, bool, double, float16,
                     float32, float64, half, int8, int16, int32, int64, string, uint8,
                     uint16, uint32, uint64)
from .ops import convert_to_tensor, constant
from .ops.array import *  # noqa: F401,F403
from .ops.math import *  # noqa: F401,F403
from .ops.dims import *  # noqa: F401,F403
from .ops.manip import *  # noqa: F401,F403
from .ops.numeric import *  # noqa: F401,F403
from .ops.slicing import *  # noqa: F401,F403
from .scopes import device, name_scope
from .tensor import Tensor, TensorShape, TensorSpec
from .variable import Variable

__version__ = "0.1.0"
newaxis = None  # tf.newaxis, for indexing: x[tf.newaxis, :]

_LAZY = {"keras": ".keras", "nn": ".nn", "random": ".random", "compat": ".compat",
         "data": ".data", "optimizers": ".optimizers", "debugging": ".debugging",
         "test": ".test", "train": ".train", "math": ".math_api", "linalg": ".linalg",
         "summary": ".summary", "config": ".config",
         "diagnose": ".diagnose", "tune": ".tune"}


# Names from submodules that an eager program may never touch (the graph executor, sessions
# and passes take a third of the import time): bound on first use.
_LAZY_NAMES = {"ConcreteFunction": ".graph", "Function": ".graph", "cond": ".graph",
               "function": ".graph", "graph_to_text": ".graph"}


def __getattr__(name):
    """Imports submodules on first use, so ``import flowgrad`` stays fast."""
    mod = _LAZY.get(name)
    if mod is not None:
        value = _importlib.import_module(mod, __name__)
    elif name in _LAZY_NAMES:
        value = getattr(_importlib.import_module(_LAZY_NAMES[name], __name__), name)
    else:
        raise AttributeError("module 'flowgrad' has no attribute %r" % name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_NAMES))
