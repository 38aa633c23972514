"""Runs a batched kernel's images on every core, with the same bits for any thread count.

BLAS splits one matrix product over its own threads. For the skinny products of
convolutions (6 to 24 output channels) that split costs more than it gains on a small
machine (docs/benchmarks.md: one BLAS thread trains the talk's CNN faster than two). Here
the batch itself is cut into parts instead, and each part runs with BLAS at one thread:

* the number of parts depends only on the work's size and the machine's core count, never
  on how many workers run them, and callers combine the parts' results in part order, so
  ``tf.config.threading.set_intra_op_parallelism_threads(1)`` gives the same bits as the
  default (it only runs the parts one after another);
* a part is big enough (``_MIN_PART_FLOPS``) that the thread hand-off (~20 us) is noise.

NumPy and BLAS release the GIL inside their loops, so plain Python threads run the parts
truly in parallel. Without ``threadpoolctl`` (which finds the BLAS library) nothing is split.

A plan that runs convolutions holds BLAS at one thread for its whole run (``hold_blas``) and
runs its big matrix products here too (``matmul``). The reason is OpenBLAS's idle workers:
after a multi-threaded call each one spins for about 0.1 s (2**28 cycles) before it sleeps,
on the very core the next convolution's second part needs, and that part then takes twice
as long. Measured on the talk's CNN: 47,000 -> 74,000 inference images/s, 111 -> 150
training steps/s. Plans without convolutions keep BLAS's own threads: for the dense
network they are faster than parts here (1,058 against 826 steps/s).

Example:
    >>> import numpy as np

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor
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
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

import numpy as np

T = TypeVar("T")

# Work per part below which one thread is faster than two (measured on the talk's CNN
# layers: a 4x4x12->24 conv on 100 images, ~45 MFLOP, still gains ~1.3x from two parts).
_MIN_PART_FLOPS = 8e6


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1


class _Workers:
    """Process-wide state: the worker limit, the pool and the BLAS controllers."""

    limit = 0  # 0: one worker per core (tf.config.threading sets this)
    cores = _cores()
    pool: Optional[ThreadPoolExecutor] = None
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
    k = int(max(1, min(_Workers.cores, n, flops // _MIN_PART_FLOPS)))
    if k > 1 and blas and not _blas_controllers():
        k = 1
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def run(fn: Callable[[slice], T], parts: list[slice], blas: bool = True) -> list[T]:
    """``[fn(p) for p in parts]``, the parts in parallel (with BLAS at one thread each).

    The calling thread and the pool's threads take parts from one shared queue until none is
    left, so a thread that starts late (waking an idle core takes ~0.1 ms here) or shares
    its core with another process leaves its parts to the others.
    """
    if len(parts) == 1:
        return [fn(parts[0])]
    workers = min(len(parts), _Workers.limit or _Workers.cores)
    if blas:
        _blas_enter()
    try:
        if workers <= 1:
            return [fn(p) for p in parts]
        results: list = [None] * len(parts)
        queue = iter(range(len(parts)))  # next() is atomic under the GIL: each index once

        def drain() -> None:
            for i in queue:
                results[i] = fn(parts[i])
        pool = _pool()
        helpers = [pool.submit(drain) for _ in range(workers - 1)]
        try:
            drain()
        finally:
            for h in helpers:  # never return while a helper still writes
                h.exception()
        for h in helpers:
            h.result()  # a helper's exception
        return results
    finally:
        if blas:
            _blas_exit()


def hold_blas() -> None:
    """BLAS at one thread until the matching ``release_blas`` (calls nest)."""
    _blas_enter()


def release_blas() -> None:
    _blas_exit()


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b)``. While BLAS is held at one thread, a big float product of two
    matrices runs its rows in parts on every core instead (same bits for any worker count).
    """
    if _Workers.depth == 0 or a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype \
            or a.dtype.char not in "fd":
        return np.matmul(a, b)
    m, k = a.shape
    n = b.shape[1]
    parts = split(m, 2.0 * m * k * n)
    if len(parts) == 1:
        return np.matmul(a, b)
    out = np.empty((m, n), a.dtype)

    def part(p: slice) -> None:
        np.matmul(a[p], b, out=out[p])
    run(part, parts)
    return out


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: start over (a pool whose threads
    are gone would take work and never run it; a lock held by one of them never opens)."""
    _Workers.pool = None
    _Workers.lock = threading.Lock()
    _Workers.depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _pool() -> ThreadPoolExecutor:
    with _Workers.lock:
        if _Workers.pool is None:
            from concurrent.futures import ThreadPoolExecutor  # 5 ms: not at import
            _Workers.pool = ThreadPoolExecutor(max(1, _Workers.cores - 1),
                                               thread_name_prefix="flowgrad-part")
        return _Workers.pool


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
                c.set_num_threads(1)
        _Workers.depth += 1


def _blas_exit() -> None:
    with _Workers.lock:
        _Workers.depth -= 1
        if _Workers.depth == 0:
            for c, n in zip(_Workers.blas, _Workers.saved):
                c.set_num_threads(n)
