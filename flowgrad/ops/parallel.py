"""Runs a batched kernel's images on every core, with the same bits for any thread count.

BLAS splits one matrix product over its own threads. For the skinny products of
convolutions (6 to 24 output channels) that split costs more than it gains on a small
machine (docs/benchmarks.md: one BLAS thread trains the talk's CNN faster than two). Here
the batch itself is cut into parts instead, and each part runs with BLAS at one thread:

* the number of parts depends only on the work's size and the machine's core count, never
  on how many workers run them, and callers combine the parts' results in part order, so
  ``tf.config.threading.set_intra_op_parallelism_threads(1)`` gives the same bits as the
  default (it only runs the parts one after another);
* a part is big enough (``_MIN_PART_FLOPS``) that the thread hand-off is noise.

The caller and ``cores - 1`` helper threads take parts from one queue. A compiled
convolution's parts never touch Python: ``_pool.c`` claims and runs them in C, where the
helpers also wait (spinning a while, then sleeping), so no part waits for the GIL or for a
sleeping core to wake. Parts that call NumPy/BLAS (``run``) are drained by Python code on
every thread; NumPy and BLAS release the GIL inside their loops, so they too run in
parallel. ``threadpoolctl`` (a dependency) finds the BLAS library; installed without it,
BLAS-calling work is not split and BLAS is never held.

A plan that runs convolutions holds BLAS at one thread for its whole run (``hold_blas``) and
runs its big matrix products here too (``matmul``). The reason is OpenBLAS's idle workers:
after a multi-threaded call each one spins for about 0.1 s (2**28 cycles) before it sleeps,
on the very core the next convolution's second part needs, and that part then takes twice
as long. Measured on the talk's CNN: 47,000 -> 74,000 inference images/s, 111 -> 150
training steps/s. Plans without convolutions keep BLAS's own threads: for the dense
network they are faster than parts here (1,058 against 826 steps/s).

Example:
    >>> import numpy as np
    >>> out = np.zeros(8)
    >>> def part(sl):
    ...     out[sl] = np.arange(8)[sl] * 2.0
    >>> _ = run(part, split(8, 0))
    >>> out.tolist()[:3]
    [0.0, 2.0, 4.0]
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable, Optional, TypeVar

import numpy as np

T = TypeVar("T")

# Work per part below which one thread is faster than two (measured on the talk's CNN
# layers: a 4x4x12->24 conv on 100 images, ~45 MFLOP, still gains ~1.3x from two parts).
_MIN_PART_FLOPS = 8e6
# Compiled product parts start in C on spinning helpers: a 100x100x200 product (4 MFLOP)
# already gains ~1.3x from two parts (docs/benchmarks.md).
_MIN_GEMM_PART_FLOPS = 1e6
_gemm: Optional[Callable] = None  # native.gemm, registered when compiled


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1


class _Workers:
    """Process-wide state: the worker limit, the pool and the BLAS controllers."""

    limit = 0  # 0: one worker per core (tf.config.threading sets this)
    cores = _cores()
    helpers: Optional[_Helpers] = None
    blas: Optional[list] = None  # threadpoolctl controllers, found on first use
    lock = threading.Lock()
    depth = 0
    saved: list = []


def set_max_workers(n: int) -> None:
    """Caps the threads that run parts (0: one per core). Results do not change."""
    _Workers.limit = int(n)


def split(n: int, flops: float, blas: bool = True) -> list[slice]:
    """Cuts ``range(n)`` into contiguous balanced parts for ``flops`` of work in all.

    The count is ``min(cores, n, flops / _MIN_PART_FLOPS)``, at least 1; it does not depend
    on the worker limit, so a caller that combines parts in order gets the same bits with
    any number of workers. ``blas``: the parts call BLAS (then splitting needs threadpoolctl
    to hold BLAS at one thread).
    """
    k = _part_count(n, flops, _MIN_PART_FLOPS)
    if k > 1 and blas and not _blas_controllers():
        k = 1
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _part_count(n: int, flops: float, min_part_flops: float) -> int:
    return int(max(1, min(_Workers.cores, n, flops // min_part_flops)))


def run(fn: Callable[[slice], T], parts: list[slice], blas: bool = True) -> list[T]:
    """``[fn(p) for p in parts]``, the parts in parallel (with BLAS at one thread each).

    The calling thread and the helper threads take parts from one shared queue until none is
    left, so a helper that starts late or shares its core with another process leaves its
    parts to the others. ``run`` returns once every part has stopped; it raises the first
    failing part's exception. A ``run`` inside a part, or beside another thread's, runs its
    parts one after another.
    """
    if len(parts) == 1:
        return [fn(parts[0])]
    if blas:
        _blas_enter()
    try:
        active = helpers_for(len(parts))
        helpers = _Workers.helpers
        if active == 0 or helpers is None or not helpers.busy.acquire(blocking=False):
            return [fn(p) for p in parts]
        try:
            return helpers.run(fn, parts, active)
        finally:
            helpers.busy.release()
    finally:
        if blas:
            _blas_exit()


def helpers_for(parts: int) -> int:
    """How many helper threads may take some of ``parts`` (starting them on first use)."""
    if parts < 2:
        return 0
    workers = min(parts, _Workers.limit or _Workers.cores)
    helpers = (_Workers.helpers or _helpers()) if workers > 1 else None
    return 0 if helpers is None else min(workers - 1, helpers.n)


class _Helpers:
    """``n`` daemon threads that run parts next to the caller.

    With the compiled library the helpers live in ``_pool.c``'s ``fg_helper_serve``: they run
    compiled convolution parts there without the GIL, spin ``SPIN_US`` after each job
    before they sleep (waking a sleeping core took ~45 us per run here, 0.5 ms of a 6 ms W3
    step), and come back to Python only for a job of Python parts. Without it they sleep on
    a condition and the caller polls.
    """

    SPIN_US = 1000

    def __init__(self, n: int, lib=None, start: bool = True):
        self.n, self.lib = n, lib
        self.done = np.zeros(max(n, 1), np.int64)  # parts each helper finished, this job
        self._done_at = self.done.ctypes.data
        self.drain: Optional[Callable[[int], None]] = None
        self.busy = threading.Lock()  # one Python job at a time
        self.ticket = 0  # Python jobs posted (without the library)
        self.cond = threading.Condition()
        if lib is not None:
            lib.fg_pool_config(n if start else 0, self.SPIN_US)
        for h in range(n if start else 0):
            threading.Thread(target=self._serve if lib is not None else self._loop, args=(h,),
                             daemon=True, name="flowgrad-part-%d" % h).start()

    def run(self, fn: Callable[[slice], T], parts: list[slice], active: int) -> list[T]:
        results: list = [None] * len(parts)
        errors: list = []
        queue = iter(range(len(parts)))  # next() is atomic under the GIL: each index once
        done = self.done

        def work(i: int) -> None:
            try:
                results[i] = fn(parts[i])
            except BaseException as e:  # noqa: B036 - re-raised by the caller below
                errors.append((i, e))

        def drain(h: int) -> None:
            if h < active:
                for i in queue:
                    work(i)
                    done[h] += 1
        done[:] = 0
        self.drain = drain
        if self.lib is not None:
            posted = self.lib.fg_python_job_begin(active)
        else:
            with self.cond:
                self.ticket += 1
                self.cond.notify_all()
            posted = True
        try:
            mine = 0
            for i in queue:
                work(i)
                mine += 1
            # even when posting failed (another thread's compiled job held the helpers), a
            # helper still in Python from an earlier job may have taken a part of this one
            self._wait_done(len(parts) - mine)
        finally:
            self.drain = None
            if posted and self.lib is not None:
                self.lib.fg_python_job_end()
        if errors:
            raise min(errors, key=lambda e: e[0])[1]
        return results

    def _wait_done(self, target: int) -> None:
        """Until the helpers finished ``target`` parts (the ones they took are running)."""
        while int(self.done.sum()) < target:
            if self.lib is not None:
                self.lib.fg_spin_until(self._done_at, self.n, target, 1000)
            else:
                time.sleep(20e-6)

    def _serve(self, h: int) -> None:
        import ctypes
        seen = ctypes.c_longlong(0)
        while True:
            self.lib.fg_helper_serve(h, ctypes.byref(seen))  # returns for a Python job
            drain = self.drain
            if drain is not None:
                drain(h)

    def _loop(self, h: int) -> None:
        seen = 0
        while True:
            with self.cond:
                while self.ticket <= seen:
                    self.cond.wait()
                seen = self.ticket
            drain = self.drain
            if drain is not None:
                drain(h)


def hold_blas() -> None:
    """BLAS at one thread until the matching ``release_blas`` (calls nest)."""
    _blas_enter()


def release_blas() -> None:
    _blas_exit()


def blas_held() -> bool:
    """Whether some caller holds BLAS at one thread (then BLAS has no spinning workers)."""
    return _Workers.depth > 0


def matmul(a: np.ndarray, b: np.ndarray, bias: Optional[np.ndarray] = None,
           relu: bool = False) -> np.ndarray:
    """``relu?(np.matmul(a, b) + bias)`` (``bias``, ``relu``: FusedMatMul's epilogue). While
    BLAS is held at one thread, a big float product of two matrices runs its rows in parts
    on every core instead: float32 through the compiled row parts (``native.gemm``), which
    never enter Python; otherwise as NumPy parts. Same bits for any worker count.
    """
    if _Workers.depth == 0 or a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype \
            or a.dtype.char not in "fd":
        return epilogue(np.matmul(a, b), bias, relu)
    m, k = a.shape
    n = b.shape[1]
    flops = 2.0 * m * k * n
    if _gemm is not None and a.dtype.char == "f":
        out = _gemm(a, b, _part_count(m, flops, _MIN_GEMM_PART_FLOPS), bias, relu)
        if out is not None:
            return out
    parts = split(m, flops)
    if len(parts) == 1:
        return epilogue(np.matmul(a, b), bias, relu)
    out = np.empty((m, n), a.dtype)

    def part(p: slice) -> None:
        np.matmul(a[p], b, out=out[p])
    run(part, parts)
    return epilogue(out, bias, relu)


def epilogue(y: np.ndarray, bias: Optional[np.ndarray], relu: bool) -> np.ndarray:
    """A fused kernel's epilogue, in place on its fresh result: ``+ bias``, then
    ``max(., 0)`` (the bits of the separate AddV2 and Relu)."""
    if bias is not None:
        np.add(y, bias, out=y)
    if relu:
        np.maximum(y, 0, out=y)
    return y


def has_compiled_gemm() -> bool:
    """Whether float32 products can run as compiled row parts (``native.gemm``)."""
    return _gemm is not None


def register_gemm(fn: Callable) -> None:
    """native.py's compiled row-part product: ``fn(a, b, parts, bias, relu)`` -> the
    result, or None when it cannot take these operands."""
    global _gemm
    _gemm = fn


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: start over (a pool whose threads
    are gone would take work and never run it; a lock held by one of them never opens)."""
    _Workers.helpers = None
    _Workers.lock = threading.Lock()
    _Workers.depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _helpers() -> Optional[_Helpers]:
    with _Workers.lock:
        if _Workers.helpers is None and _Workers.cores > 1:
            from . import native  # the C pool, when compiled (native imports this module)
            _Workers.helpers = _Helpers(_Workers.cores - 1, native.library())
        return _Workers.helpers


def _blas_controllers() -> list:
    if _Workers.blas is None:
        try:
            from threadpoolctl import ThreadpoolController
            _Workers.blas = ThreadpoolController().select(user_api="blas").lib_controllers
        except ImportError:
            _Workers.blas = []
    return _Workers.blas


def _blas_enter() -> None:
    """BLAS to one thread for the outermost caller; nested and concurrent callers count."""
    with _Workers.lock:
        if _Workers.depth == 0:
            _Workers.saved = [c.get_num_threads() for c in _blas_controllers()]
            for c in _Workers.blas:
                _set_threads(c, 1)
        _Workers.depth += 1


def _blas_exit() -> None:
    with _Workers.lock:
        _Workers.depth -= 1
        if _Workers.depth == 0:
            for c, n in zip(_Workers.blas, _Workers.saved):
                _set_threads(c, n)


def _set_threads(controller, n: int) -> None:
    # threadpoolctl 3.8's OpenBLAS controller ignores limits set from any thread but the
    # first that set one; flowgrad holds BLAS from whichever thread runs a plan (serving
    # threads too) and counts holders itself (_Workers.depth, under _Workers.lock).
    getattr(controller, "_real_set_num_threads", controller.set_num_threads)(n)
