"""NumPy 2-D pooling kernels (NHWC), with TensorFlow's padding semantics.

Max and average pooling, forward and backward, built on the padding and batch-chunk helpers
of ``conv_kernels``: one vectorised NumPy op per window tap (``KH*KW`` iterations), never
per pixel, into cache-sized batch chunks. Every function takes and returns plain
``np.ndarray`` objects and keeps the dtype of its input (float32 stays float32).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .conv_kernels import (IntPair, Padding, Pads, _chunk, _float_dtype, _pair, _padded_chunks,
                           _resolve, _scatter_chunks, _taps)

_POOL_BYTES = 1 << 20  # scratch per batch chunk (see conv_kernels' budgets)


def pool_output_shape(x_shape: Sequence[int], ksize: IntPair, strides: IntPair,
                      padding: Padding = "VALID") -> tuple[int, int, int, int]:
    """Shape ``[N, OH, OW, C]`` of a 2-D pooling of ``x_shape``."""
    _, (oh, ow) = _resolve(padding, x_shape[1:3], _pair(ksize, "ksize"),
                           _pair(strides, "strides"))
    return int(x_shape[0]), oh, ow, int(x_shape[3])


def _pool_setup(x_shape: Sequence[int], ksize: IntPair, strides: IntPair, padding: Padding):
    """Validates a pooling call; returns ``(kh, kw), (sh, sw), pads, (oh, ow)``."""
    if len(x_shape) != 4:
        raise ValueError("expected x as [N, H, W, C]")
    k, st = _pair(ksize, "ksize"), _pair(strides, "strides")
    pads, out = _resolve(padding, x_shape[1:3], k, st)
    return k, st, pads, out


def _lowest(dtype: np.dtype) -> float:
    """Padding value that can never win a max: -inf, or the minimum of an integer dtype."""
    return -np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).min


def _pool_reduce(x: np.ndarray, ksize: IntPair, strides: IntPair, padding: Padding,
                 pad_value: float, combine: np.ufunc) -> tuple[np.ndarray, tuple]:
    """Folds every window tap into the output with ``combine``; returns ``(y, setup)``."""
    k, st, pads, out = setup = _pool_setup(x.shape, ksize, strides, padding)
    y = np.empty(x.shape[:1] + out + x.shape[3:], x.dtype)
    # One ufunc call per tap into a cache-sized output chunk; this beats a reshape-and-reduce
    # even when stride == ksize (~10x: NumPy reductions over strided middle axes are slow).
    for sl, xp in _padded_chunks(x, pads, pad_value,
                                 _chunk(x.shape[0], x[:1].nbytes, _POOL_BYTES)):
        taps, yc = _taps(xp, *k, *st, *out), y[sl]
        np.copyto(yc, next(taps)[2])
        for _, _, tap in taps:
            combine(yc, tap, out=yc)
    return y, setup


def max_pool2d_forward(x: np.ndarray, ksize: IntPair, strides: IntPair,
                       padding: Padding = "VALID") -> np.ndarray:
    """Max pooling, like ``tf.nn.max_pool2d``; padded cells never win (they hold -inf).

    Args:
        x: Input ``[N, H, W, C]``.
        ksize: Window ``kh``/``(kh, kw)``/``[1, kh, kw, 1]``.
        strides: Window step, same forms.
        padding: ``"SAME"``, ``"VALID"`` or explicit pairs.

    Returns:
        ``[N, OH, OW, C]`` maxima, dtype of ``x``. NaNs propagate.
    """
    x = np.asarray(x)
    return _pool_reduce(x, ksize, strides, padding, _lowest(x.dtype), np.maximum)[0]


def max_pool2d_backward(x: np.ndarray, y: np.ndarray, dy: np.ndarray, ksize: IntPair,
                        strides: IntPair, padding: Padding = "VALID") -> np.ndarray:
    """Gradient of ``max_pool2d_forward``: each ``dy`` goes to its window's argmax.

    Ties go to the first maximum in window scan order (row-major), as TensorFlow's CPU kernel
    does; padded cells never receive gradient. ``dy`` is routed by multiplying with a 0/1 mask
    (masked ``where=`` ufuncs are ~15x slower), so a non-finite ``dy`` also leaks NaN to the
    other cells of its window.

    Args:
        x: Forward input ``[N, H, W, C]``.
        y: Forward output ``[N, OH, OW, C]``.
        dy: Upstream gradient, shaped like ``y``.
        ksize: As for ``max_pool2d_forward``.
        strides: As for ``max_pool2d_forward``.
        padding: As for ``max_pool2d_forward``.

    Returns:
        ``dx`` shaped like ``x``, in the floating dtype of ``dy``.
    """
    x, y = np.asarray(x), np.asarray(y)
    k, st, pads, out = _pool_setup(x.shape, ksize, strides, padding)
    dy = np.asarray(dy, _float_dtype(dy))
    if y.shape != x.shape[:1] + out + x.shape[3:] or dy.shape != y.shape:
        raise ValueError(f"y/dy shapes {y.shape}/{dy.shape} do not match the pooling of x")
    padded = pads != ((0, 0), (0, 0))
    disjoint = st[0] >= k[0] and st[1] >= k[1]
    # A padded cell could equal a maximum of -inf: mask padded taps out explicitly.
    ones = np.ones((1,) + x.shape[1:3] + (1,), bool)
    valid = [v for _, _, v in _taps(next(_padded_chunks(ones, pads, False, 1))[1], *k, *st, *out)]
    nb = _chunk(x.shape[0], x[:1].nbytes, _POOL_BYTES)
    dx = np.empty(x.shape, dy.dtype)
    # The scatter generator goes first: zip must resume it once more after the last chunk so
    # that it copies that chunk into dx.
    for (sl, dxp), (_, xp) in zip(_scatter_chunks(dx, pads, nb),
                                  _padded_chunks(x, pads, _lowest(x.dtype), nb)):
        yc, dyc = y[sl], dy[sl]
        taken = np.zeros(yc.shape, bool)
        xtaps = _taps(xp, *k, *st, *out)
        for idx, (_, _, dtap) in enumerate(_taps(dxp, *k, *st, *out)):
            hit = next(xtaps)[2] == yc
            if padded:
                hit &= valid[idx]
            np.greater(hit, taken, out=hit)  # hit and not taken by an earlier tap
            if disjoint:  # each cell is in at most one window: write instead of accumulate
                np.multiply(dyc, hit, out=dtap)
            else:
                dtap += dyc * hit
            if idx < len(valid) - 1:
                taken |= hit
    return dx


def _window_counts(x_shape: Sequence[int], k: tuple[int, int], st: tuple[int, int],
                   pads: Pads, out: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """Number of non-padded cells in each window, shaped ``[OH, OW, 1]``."""
    counts = []
    for size, kk, s, (before, _), o in zip(x_shape[1:3], k, st, pads, out):
        start = np.arange(o) * s - before
        counts.append(np.minimum(start + kk, size) - np.maximum(start, 0))
    return np.multiply.outer(*counts).astype(dtype)[:, :, None]


def avg_pool2d_forward(x: np.ndarray, ksize: IntPair, strides: IntPair,
                       padding: Padding = "VALID") -> np.ndarray:
    """Average pooling, like ``tf.nn.avg_pool2d``: divides by the non-padded cell count.

    Args:
        x: Input ``[N, H, W, C]``.
        ksize: Window ``kh``/``(kh, kw)``/``[1, kh, kw, 1]``.
        strides: Window step, same forms.
        padding: ``"SAME"``, ``"VALID"`` or explicit pairs.

    Returns:
        ``[N, OH, OW, C]`` window means (floating dtype of ``x``).
    """
    x = np.asarray(x, _float_dtype(x))
    y, (k, st, pads, out) = _pool_reduce(x, ksize, strides, padding, 0, np.add)
    y /= _window_counts(x.shape, k, st, pads, out, x.dtype)
    return y


def avg_pool2d_backward(dy: np.ndarray, x_shape: Sequence[int], ksize: IntPair,
                        strides: IntPair, padding: Padding = "VALID") -> np.ndarray:
    """Gradient of ``avg_pool2d_forward``: spreads ``dy / count`` evenly over each window.

    Args:
        dy: Upstream gradient ``[N, OH, OW, C]``.
        x_shape: Forward input shape ``[N, H, W, C]``.
        ksize: As for ``avg_pool2d_forward``.
        strides: As for ``avg_pool2d_forward``.
        padding: As for ``avg_pool2d_forward``.

    Returns:
        ``dx`` of shape ``x_shape``.
    """
    dy = np.asarray(dy, _float_dtype(dy))
    n, h, w, c = (int(v) for v in x_shape)
    k, st, pads, (oh, ow) = _pool_setup((n, h, w, c), ksize, strides, padding)
    if dy.shape != (n, oh, ow, c):
        raise ValueError(f"dy has shape {dy.shape}, expected {(n, oh, ow, c)}")
    counts = _window_counts((n, h, w, c), k, st, pads, (oh, ow), dy.dtype)
    if k == st and pads == ((0, 0), (0, 0)):
        # Windows tile the input: one broadcast write instead of KH*KW scatters.
        dx = np.zeros((n, h, w, c), dy.dtype) if (oh * k[0], ow * k[1]) != (h, w) else None
        blocks = np.empty((n, oh, k[0], ow, k[1], c), dy.dtype)
        blocks[...] = (dy / counts)[:, :, None, :, None, :]
        if dx is None:
            return blocks.reshape(n, h, w, c)
        dx[:, :oh * k[0], :ow * k[1]] = blocks.reshape(n, oh * k[0], ow * k[1], c)
        return dx
    dx = np.empty((n, h, w, c), dy.dtype)
    for sl, dxp in _scatter_chunks(dx, pads, _chunk(n, dx[:1].nbytes, _POOL_BYTES)):
        g = dy[sl] / counts
        for _, _, tap in _taps(dxp, *k, *st, oh, ow):
            tap += g
    return dx
