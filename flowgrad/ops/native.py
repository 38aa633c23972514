"""The compiled float32 kernels of ``_native.c`` (convolutions, Adam's update), when the
install built them.

``pip install`` compiles ``flowgrad/ops/_native.c`` when a C compiler is present (setup.py
marks the extension optional, so an install without one still succeeds); without it every
convolution runs on the NumPy kernels, with the same results up to float32 rounding. The
kernels are plain C functions called through ``ctypes``, which releases the GIL, so batch
parts run on all cores (``parallel.py``).

``conv_kernels`` asks ``usable(*arrays)`` before each call. Tests run the op suites with the
kernels on and off through ``disabled()``; users have no switch because results agree.

Example:
    >>> from flowgrad.ops import native
    >>> with native.disabled():
    ...     native.usable()
    False
"""

from __future__ import annotations

import ctypes
from contextlib import contextmanager
from typing import Iterator, Optional

import numpy as np

from . import buffers, parallel

try:
    from . import _native  # type: ignore[attr-defined]
    _lib = ctypes.CDLL(_native.__file__)
except (ImportError, OSError):  # not compiled: NumPy kernels only
    _native = _lib = None

if _lib is not None:
    _ARGS = [ctypes.c_void_p] * 3 + [ctypes.c_int] * 13
    for _fn in (_lib.fg_conv2d_forward, _lib.fg_conv2d_backward_filter,
                _lib.fg_conv2d_backward_input):
        _fn.argtypes = _ARGS
        _fn.restype = ctypes.c_int
    _lib.fg_conv2d_forward.argtypes = _ARGS + [ctypes.c_void_p, ctypes.c_int]  # bias, relu
    _lib.fg_spin_until.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_longlong,
                                   ctypes.c_long]
    _lib.fg_spin_until.restype = ctypes.c_longlong


class _Switch:
    on = True


def built() -> bool:
    """Whether the compiled kernels are installed."""
    return _lib is not None


def usable(*arrays: np.ndarray) -> bool:
    """Whether the compiled kernels are on and all ``arrays`` are float32."""
    return _lib is not None and _Switch.on and all(a.dtype == np.float32 for a in arrays)


def spin_until():
    """``spin_until(counters_address, n, target, usec) -> sum``: spin-waits without the GIL
    until ``n`` int64 counters sum to ``target`` (parallel.py's helpers); None if not built.
    """
    return None if _lib is None else _lib.fg_spin_until


@contextmanager
def disabled() -> Iterator[None]:
    """Runs the block on the NumPy kernels only (for tests comparing the two)."""
    saved, _Switch.on = _Switch.on, False
    try:
        yield
    finally:
        _Switch.on = saved


def _call(fn, a: np.ndarray, b: np.ndarray, out: np.ndarray, geometry: tuple,
          *extra) -> None:
    # The C code indexes raw memory: every operand must be C-contiguous float32.
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    assert out.flags.c_contiguous and a.dtype == b.dtype == out.dtype == np.float32
    if fn(a.ctypes.data, b.ctypes.data, out.ctypes.data, *geometry, *extra) != 0:
        raise MemoryError("%s: out of memory for its scratch grid" % fn.__name__)


def _flops(geometry: tuple) -> float:
    n, _, _, c, kh, kw, o, _, _, _, _, oh, ow = geometry
    return 2.0 * n * oh * ow * kh * kw * c * o


def conv2d_forward(x: np.ndarray, w: np.ndarray, geometry: tuple,
                   bias: Optional[np.ndarray] = None, relu: bool = False) -> np.ndarray:
    """The convolution of ``x`` with ``w`` (plus ``bias``, then ``relu``), batch parts on
    every core.

    ``geometry`` is ``(n, h, w, c, kh, kw, o, sh, sw, pad_top, pad_left, oh, ow)``; bottom
    and right padding follow from the output size.
    """
    n, o, oh, ow = geometry[0], geometry[6], geometry[11], geometry[12]
    y = buffers.empty((n, oh, ow, o), np.float32)
    if bias is not None:
        bias = np.ascontiguousarray(bias, np.float32).reshape(o)
    epilogue = (None if bias is None else bias.ctypes.data, int(relu))

    def part(p: slice) -> None:
        _call(_lib.fg_conv2d_forward, x[p], w, y[p], (p.stop - p.start,) + geometry[1:],
              *epilogue)
    parallel.run(part, parallel.split(n, _flops(geometry), blas=False), blas=False)
    return y


def conv2d_backward_filter(x: np.ndarray, dy: np.ndarray, geometry: tuple) -> np.ndarray:
    """The filter gradient ``[kh, kw, c, o]`` summed over the batch (same ``geometry``)."""
    kh, kw, c, o = geometry[4], geometry[5], geometry[3], geometry[6]

    def part(p: slice) -> np.ndarray:
        dw = np.empty((kh, kw, c, o), np.float32)
        _call(_lib.fg_conv2d_backward_filter, x[p], dy[p], dw, (p.stop - p.start,) + geometry[1:])
        return dw
    partials = parallel.run(part, parallel.split(geometry[0], _flops(geometry), blas=False),
                            blas=False)
    dw = partials[0]
    for extra in partials[1:]:  # in part order: the same sum for any worker count
        dw += extra
    return dw


def conv2d_backward_input(dy: np.ndarray, w: np.ndarray, geometry: tuple) -> np.ndarray:
    """The input gradient ``[n, h, w, c]`` (same ``geometry``), batch parts on every core."""
    n, h, wd, c = geometry[:4]
    dx = buffers.empty((n, h, wd, c), np.float32)

    def part(p: slice) -> None:
        _call(_lib.fg_conv2d_backward_input, dy[p], w, dx[p], (p.stop - p.start,) + geometry[1:])
    parallel.run(part, parallel.split(n, _flops(geometry), blas=False), blas=False)
    return dx


def adam_update(grad: np.ndarray, m: np.ndarray, v: np.ndarray, var: np.ndarray,
                one_minus_b1: float, one_minus_b2: float, alpha: float, epsilon: float,
                flush: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adam's new ``(m, v, var)`` for float32 in one pass, with the NumPy kernel's bits
    (``training.ApplyAdam``); the inputs are left unchanged."""
    asc = np.ascontiguousarray
    m1, v1, var1 = (np.empty(var.shape, np.float32) for _ in range(3))
    _native.adam_update(asc(grad), asc(m), asc(v), asc(var), m1, v1, var1, one_minus_b1,
                        one_minus_b2, alpha, epsilon, flush)
    return m1, v1, var1
