"""The compiled float32 kernels of ``_native.c`` (convolutions, Adam's update), when the
install built them.

``pip install`` compiles ``flowgrad/ops/_native.c`` when a C compiler is present (setup.py
marks the extension optional, so an install without one still succeeds); without it every
convolution runs on the NumPy kernels, with the same results up to float32 rounding. The
kernels are plain C functions called through ``ctypes``, which releases the GIL; a
convolution's batch parts are claimed and run on every core by ``_pool.c``'s helper threads
(``parallel.py``).

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
    _P, _I = ctypes.c_void_p, ctypes.c_int
    _lib.fg_parallel_conv.argtypes = [_I, _P, _P, _P, _P, _P, _I, _P, _I, _P, _I]
    _lib.fg_parallel_conv.restype = _I
    _lib.fg_spin_until.argtypes = [_P, _I, ctypes.c_longlong, ctypes.c_long]
    _lib.fg_spin_until.restype = ctypes.c_longlong
    _lib.fg_python_job_begin.argtypes = [_I]
    _lib.fg_python_job_begin.restype = _I
    _lib.fg_python_job_end.restype = None
    _lib.fg_helper_serve.argtypes = [_I, ctypes.POINTER(ctypes.c_longlong)]
    _lib.fg_helper_serve.restype = _I
    _lib.fg_pool_config.argtypes = [_I, ctypes.c_long]
    _lib.fg_pool_config.restype = None
    _lib.fg_set_sgemm.argtypes = [_P, _I]
    _lib.fg_set_sgemm.restype = None
    _lib.fg_conv_level.argtypes = [_I]
    _lib.fg_conv_level.restype = _I

_FORWARD, _FILTER, _INPUT = 1, 2, 3  # _pool.c's job kinds
_ADAM_SPLIT = 65536  # elements from which Adam's update runs on the helpers too
_POOL_ELEMENTS = buffers.MIN_BYTES // 4  # float32 results from this size come from the pool
_sgemm: list = []  # [found] once looked up: NumPy's OpenBLAS cblas_sgemm handed to _gemm.c


class _Switch:
    on = True


def built() -> bool:
    """Whether the compiled kernels are installed."""
    return _lib is not None


_F32 = np.dtype(np.float32)


def usable(*arrays: np.ndarray) -> bool:
    """Whether the compiled kernels are on and all ``arrays`` are float32."""
    if _lib is None or not _Switch.on:
        return False
    for a in arrays:  # a loop, not all(...): called for every kernel of a training step
        if a.dtype != _F32:
            return False
    return True


def conv_level(level: int = -1) -> int:
    """The compiled convolutions' target: 4 (AVX-512), 3 (AVX2) or 0 (4-wide vectors), the
    best this CPU has, unless ``level`` (tests) picks a lower one it has; returns the level in
    force (-1 when nothing was compiled)."""
    return -1 if _lib is None else _lib.fg_conv_level(level)


def library():
    """The compiled library (ctypes), or None when nothing was compiled."""
    return _lib


@contextmanager
def disabled() -> Iterator[None]:
    """Runs the block on the NumPy kernels only (for tests comparing the two)."""
    saved, _Switch.on = _Switch.on, False
    try:
        yield
    finally:
        _Switch.on = saved


def _run_parts(kind: int, a: np.ndarray, b: np.ndarray, out: Optional[np.ndarray],
               geometry: tuple, parts: list, outs: Optional[list] = None,
               bias: Optional[np.ndarray] = None, relu: bool = False) -> None:
    """Runs a compiled kernel's batch ``parts`` on the caller and the helper threads, all in
    C (``_pool.c``). The C code indexes raw memory: operands are C-contiguous float32."""
    arrays = [a, b] + ([] if out is None else [out]) + (outs or []) + \
        ([] if bias is None else [bias])
    assert all(x.flags.c_contiguous and x.dtype == np.float32 for x in arrays)
    bounds = (ctypes.c_int * (len(parts) + 1))(*[p.start for p in parts], parts[-1].stop)
    table = None if outs is None else (ctypes.c_void_p * len(outs))(*[o.ctypes.data for o in outs])
    status = _lib.fg_parallel_conv(
        kind, a.ctypes.data, b.ctypes.data, None if out is None else out.ctypes.data, table,
        None if bias is None else bias.ctypes.data, int(relu),
        (ctypes.c_int * 12)(*geometry[1:]), len(parts), bounds, parallel.helpers_for(len(parts)))
    if status != 0:
        raise MemoryError("compiled convolution: out of memory for its scratch grid")


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
    _run_parts(_FORWARD, np.ascontiguousarray(x), np.ascontiguousarray(w), y, geometry,
               _parts(geometry), bias=bias, relu=relu)
    return y


def conv2d_backward_filter(x: np.ndarray, dy: np.ndarray, geometry: tuple) -> np.ndarray:
    """The filter gradient ``[kh, kw, c, o]`` summed over the batch (same ``geometry``)."""
    kh, kw, c, o = geometry[4], geometry[5], geometry[3], geometry[6]
    parts = _parts(geometry)
    partials = [np.empty((kh, kw, c, o), np.float32) for _ in parts]
    _run_parts(_FILTER, np.ascontiguousarray(x), np.ascontiguousarray(dy), None, geometry,
               parts, outs=partials)
    dw = partials[0]
    for extra in partials[1:]:  # in part order: the same sum for any worker count
        dw += extra
    return dw


def conv2d_backward_input(dy: np.ndarray, w: np.ndarray, geometry: tuple) -> np.ndarray:
    """The input gradient ``[n, h, w, c]`` (same ``geometry``), batch parts on every core."""
    n, h, wd, c = geometry[:4]
    dx = buffers.empty((n, h, wd, c), np.float32)
    _run_parts(_INPUT, np.ascontiguousarray(dy), np.ascontiguousarray(w), dx, geometry,
               _parts(geometry))
    return dx


def _parts(geometry: tuple) -> list:
    return parallel.split(geometry[0], _flops(geometry), blas=False)


def adam_update(grad: np.ndarray, m: np.ndarray, v: np.ndarray, var: np.ndarray,
                one_minus_b1: float, one_minus_b2: float, alpha: float, epsilon: float,
                flush: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adam's new ``(m, v, var)`` for float32 in one pass, with the NumPy kernel's bits
    (``training.ApplyAdam``); the inputs are left unchanged."""
    asc = np.ascontiguousarray
    m1, v1, var1 = (np.empty(var.shape, np.float32) for _ in range(3))
    # Only while BLAS is held (plans with convolutions): otherwise an idle OpenBLAS worker
    # spins on the core the helper needs, and the helper's own spin then slows BLAS's next
    # product (the dense network: 1,150 -> 640 steps/s).
    helpers = parallel.helpers_for(2) if var.size >= _ADAM_SPLIT and parallel.blas_held() \
        else 0
    _native.adam_update(asc(grad), asc(m), asc(v), asc(var), m1, v1, var1, one_minus_b1,
                        one_minus_b2, alpha, epsilon, flush, helpers)
    return m1, v1, var1


def adam_update_group(items: list, one_minus_b1: float, one_minus_b2: float, alpha: float,
                      epsilon: float) -> list:
    """Adam's new ``(m, v, var)`` for each ``(grad, m, v, var, flush, out)`` of ``items``
    (float32, each grad of its variable's shape) in one compiled call, with the NumPy
    kernel's bits; the inputs are left unchanged. ``out``: None, or three C-contiguous
    float32 arrays of the variable's shape, nobody else's, to write the results into. While
    BLAS is held, all the variables' elements are cut into one part per core (see
    ``adam_update`` for why only then)."""
    asc = np.ascontiguousarray
    arrays, flush, results = [], [], []
    total = 0
    for grad, m, v, var, f, out in items:
        new = (np.empty(var.shape, np.float32), np.empty(var.shape, np.float32),
               np.empty(var.shape, np.float32)) if out is None else out
        arrays += [asc(grad), asc(m), asc(v), asc(var)]
        arrays += new
        flush.append(f)
        results.append(new)
        total += var.size
    helpers = parallel.helpers_for(2) if total >= _ADAM_SPLIT and parallel.blas_held() else 0
    _native.adam_update_group(arrays, flush, one_minus_b1, one_minus_b2, alpha, epsilon,
                              helpers + 1, helpers)
    return results


def gemm(a: np.ndarray, b: np.ndarray, parts: int, bias: Optional[np.ndarray] = None,
         relu: bool = False) -> Optional[np.ndarray]:
    """``relu?(a @ b + bias)`` for 2-D float32 operands, its rows in ``parts`` parts on the
    caller and the helper threads, each through BLAS's one-thread sgemm (``_gemm.c``); None
    when that path cannot take it (no compiled kernels, not NumPy's pthreads OpenBLAS, a
    layout other than contiguous or transposed-contiguous): the caller then uses NumPy.

    Only while BLAS is held at one thread (``parallel.hold_blas``): BLAS's own threads
    would otherwise run inside every part.
    """
    if not (_Switch.on and a.dtype == _F32 and b.dtype == _F32 and
            (_sgemm[0] if _sgemm else _find_sgemm())) or \
            (bias is not None and (bias.dtype != _F32 or bias.ndim != 1)):
        return None
    m, n = a.shape[0], b.shape[1]
    out = np.empty((m, n), _F32) if m * n < _POOL_ELEMENTS else buffers.empty((m, n), _F32)
    if not _native.gemm(a, b, out, bias, relu, parts, parallel.helpers_for(parts)):
        return None
    return out


def _find_sgemm() -> bool:
    """Registers cblas_sgemm of NumPy's OpenBLAS with _gemm.c, once; whether it is there.

    Only OpenBLAS's pthreads build: its thread count (held at 1) is process-wide, so the
    helpers' calls run on their own thread; with the OpenMP layer each thread would start a
    team of its own.
    """
    if not _sgemm:
        fn, ilp64 = None, 0
        for c in parallel._blas_controllers():
            if getattr(c, "internal_api", "") != "openblas" or \
                    getattr(c, "threading_layer", "") != "pthreads":
                continue
            prefix, suffix = getattr(c, "_symbol_prefix", ""), getattr(c, "_symbol_suffix", "")
            try:
                sym = getattr(c.dynlib, prefix + "cblas_sgemm" + suffix)
                config = getattr(c.dynlib, prefix + "openblas_get_config" + suffix)
            except AttributeError:
                continue
            config.restype = ctypes.c_char_p
            ilp64 = int(b"USE64BITINT" in (config() or b""))
            fn = ctypes.cast(sym, ctypes.c_void_p).value
            break
        if _lib is not None:
            _lib.fg_set_sgemm(fn, ilp64)
        _sgemm.append(fn is not None)
    return _sgemm[0]


if _lib is not None:
    parallel.register_gemm(gemm)
