"""flowgrad.ops.buffers: large outputs reuse only memory that nothing references."""
import threading
import time

import numpy as np

from flowgrad.ops import buffers

SHAPE = (300, 1024)  # 1.2 MB of float32: pooled


def test_a_dead_buffer_is_reused_and_a_live_one_never():
    buffers.clear()
    a = buffers.empty(SHAPE, np.float32)
    addr = a.ctypes.data
    b = buffers.empty(SHAPE, np.float32)
    assert b.ctypes.data != addr  # `a` is alive
    del a
    c = buffers.empty(SHAPE, np.float32)
    assert c.ctypes.data == addr and c.shape == SHAPE and c.dtype == np.float32


def test_views_and_other_keys_keep_a_buffer_alive():
    buffers.clear()
    a = buffers.empty(SHAPE, np.float32)
    addr = a.ctypes.data
    view = a[10:20]
    del a
    assert buffers.empty(SHAPE, np.float32).ctypes.data != addr  # the slice holds it
    del view
    assert buffers.empty(SHAPE, np.float64).ctypes.data != addr  # other dtype, other key
    assert buffers.empty(SHAPE, np.float32).ctypes.data == addr


def test_small_arrays_are_plain_allocations():
    small = buffers.empty((10, 10), np.float32)
    assert small.shape == (10, 10) and not any(
        small is x for held in buffers._pool.values() for x in held)


def test_threads_never_get_the_same_buffer():
    buffers.clear()
    ok, barrier = [], threading.Barrier(4)

    def take(tag):
        barrier.wait()
        for _ in range(50):
            a = buffers.empty(SHAPE, np.float32)
            a[:2] = tag
            time.sleep(0)  # let the other threads allocate while this one holds `a`
            ok.append(bool((a[:2] == tag).all()))
    threads = [threading.Thread(target=take, args=(float(i),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 200 and all(ok)


def test_a_reused_buffer_is_writeable_again():
    """Variable stores freeze the arrays they hold; once nothing holds one any more, its
    memory comes back writeable (a frozen output would break in-place kernels)."""
    a = buffers.empty((512, 1024), np.float32)
    addr = a.ctypes.data
    a.setflags(write=False)
    del a
    b = buffers.empty((512, 1024), np.float32)
    assert b.ctypes.data == addr and b.flags.writeable
    b[0, 0] = 1.0
