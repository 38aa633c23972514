"""``tf.config``: devices, threads and ``run_functions_eagerly``.

flowgrad computes on the CPU only. ``list_physical_devices()`` lists one CPU and no GPU, so
the usual start of a TF2 program takes its CPU branch unchanged::

    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)

``threading.set_intra_op_parallelism_threads(n)`` sets how many threads NumPy's BLAS uses
for matrix products (through ``threadpoolctl``, installed with the ``[serve]`` and
``[test]`` extras). On a 2-core machine one thread trains the talk's CNN faster (W3 in
docs/benchmarks.md: 47.5 against 37.7 steps/s) and two train the dense network faster; the
thread count also changes the last bits of BLAS results, so seeded runs reproduce exactly
only with the same count.

>>> import flowgrad as tf
>>> tf.config.list_physical_devices("GPU")
[]
>>> tf.config.list_physical_devices()[0].device_type
'CPU'
"""
from __future__ import annotations

import collections
import importlib.util
import warnings

from .context import _State

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])

_CPU = PhysicalDevice("/physical_device:CPU:0", "CPU")
_LOGICAL_CPU = LogicalDevice("/device:CPU:0", "CPU")


def _wants_cpu(device_type) -> bool:
    return device_type is None or str(device_type).upper() == "CPU"


def list_physical_devices(device_type=None) -> list:
    """The devices flowgrad computes on: one CPU (``[]`` for ``"GPU"`` and other types)."""
    return [_CPU] if _wants_cpu(device_type) else []


def list_logical_devices(device_type=None) -> list:
    return [_LOGICAL_CPU] if _wants_cpu(device_type) else []


def get_visible_devices(device_type=None) -> list:
    return list_physical_devices(device_type)


def set_visible_devices(devices, device_type=None) -> None:
    """Accepts any list that keeps the CPU visible (the only device there is)."""
    devices = [devices] if isinstance(devices, PhysicalDevice) else list(devices)
    for d in devices:
        if d != _CPU:
            raise ValueError("Unrecognized device: %r" % (d,))
    if _wants_cpu(device_type) and _CPU not in devices:
        raise ValueError("flowgrad computes on the CPU; it cannot be hidden")


def run_functions_eagerly(run_eagerly: bool) -> None:
    """With ``True``, every ``@function`` (and Keras's compiled steps) runs its Python body
    eagerly instead of a traced graph, for every thread, as in TensorFlow; for debugging."""
    _State.functions_eagerly = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    return _State.functions_eagerly


class experimental:  # noqa: N801 - TensorFlow's module name
    """``tf.config.experimental``."""

    list_physical_devices = staticmethod(list_physical_devices)
    list_logical_devices = staticmethod(list_logical_devices)
    get_visible_devices = staticmethod(get_visible_devices)
    set_visible_devices = staticmethod(set_visible_devices)

    @staticmethod
    def set_memory_growth(device, enable) -> None:
        """Memory growth is a GPU setting; like TensorFlow, refuses it for the CPU."""
        raise ValueError("Cannot set memory growth on non-GPU and non-Pluggable devices "
                         "(%s): flowgrad has no GPU" % (getattr(device, "name", device),))

    @staticmethod
    def get_memory_growth(device) -> bool:
        raise ValueError("Cannot get memory growth on non-GPU and non-Pluggable devices "
                         "(%s): flowgrad has no GPU" % (getattr(device, "name", device),))

    @staticmethod
    def enable_op_determinism() -> None:
        """flowgrad's ops are already deterministic: the same seeds, code and BLAS thread
        count give bit-identical results, so there is nothing to switch."""


class threading:  # noqa: N801 - TensorFlow's module name
    """``tf.config.threading``: intra-op threads are the BLAS threads of matrix products and
    the threads that run a convolution's batch parts; flowgrad runs one op at a time, so the
    inter-op setting is only recorded."""

    _intra = 0
    _inter = 0
    _limiter = None

    @staticmethod
    def set_intra_op_parallelism_threads(num_threads: int) -> None:
        """Limits BLAS to ``num_threads`` threads (0 restores the count at start-up)."""
        n = int(num_threads)
        if n < 0:
            raise ValueError("num_threads must be >= 0, got %d" % n)
        from .ops import parallel
        parallel.set_max_workers(n)  # convolutions split batches themselves (same results)
        if importlib.util.find_spec("threadpoolctl") is None:
            warnings.warn("threadpoolctl is not installed (pip install threadpoolctl): the "
                          "BLAS thread count is unchanged", RuntimeWarning, stacklevel=2)
            threading._intra = n
            return
        import threadpoolctl
        if threading._limiter is not None:
            threading._limiter.restore_original_limits()
            threading._limiter = None
        if n:
            threading._limiter = threadpoolctl.threadpool_limits(limits=n, user_api="blas")
        threading._intra = n

    @staticmethod
    def get_intra_op_parallelism_threads() -> int:
        """The value last set (0: the default, every core)."""
        return threading._intra

    @staticmethod
    def set_inter_op_parallelism_threads(num_threads: int) -> None:
        n = int(num_threads)
        if n < 0:
            raise ValueError("num_threads must be >= 0, got %d" % n)
        threading._inter = n

    @staticmethod
    def get_inter_op_parallelism_threads() -> int:
        return threading._inter


__all__ = ["LogicalDevice", "PhysicalDevice", "experimental", "functions_run_eagerly",
           "get_visible_devices", "list_logical_devices", "list_physical_devices",
           "run_functions_eagerly", "set_visible_devices", "threading"]
