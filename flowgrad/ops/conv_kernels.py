"""NumPy 2-D convolution and pooling kernels (NHWC), with TensorFlow's padding semantics.

float32 convolutions go to the compiled kernels of ``native.py`` when the install built them
(about 3x faster); these NumPy kernels run every other dtype, and everything without them.
Batches big enough are cut into parts that run on every core (``parallel.py``).

Every function takes and returns plain ``np.ndarray`` objects, keeps the floating dtype of its
inputs (float32 stays float32) and returns C-contiguous results. Filters use TensorFlow's layout
``[KH, KW, C_in, C_out]``; convolution is cross-correlation, as in ``tf.nn.conv2d``.

Speed strategy (time the reference workload with ``python -m flowgrad.ops.conv_kernels``):

* forward and filter gradient: im2col built from strided views of the padded input, then one
  BLAS GEMM per batch chunk. Chunks keep scratch buffers near cache size and reused; one huge
  column matrix is slower because every call page-faults a fresh multi-megabyte temporary.
* input gradient: instead of a col2im scatter of short ``C``-element runs (very slow in NumPy),
  the padded gradient grid is split into ``sh*sw`` stride phases. Inside a phase each kernel
  tap is a pure shift of the flattened (row-padded) grid, so the scatter becomes a handful of
  long contiguous adds of a channel-major GEMM result.
* pooling lives in ``pool_kernels.py`` and shares this module's padding and chunk helpers.
"""

from __future__ import annotations

from typing import Iterator, Optional, Sequence, Union

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import native, parallel

Padding = Union[str, Sequence[Sequence[int]]]
IntPair = Union[int, Sequence[int]]
Pads = tuple[tuple[int, int], tuple[int, int]]

# Scratch budgets per batch chunk, tuned on a 2-core AMD EPYC (1 MiB L2 per core). Keep them
# under 4 MiB: NumPy asks for transparent huge pages from there on, and fresh huge pages can
# stall for milliseconds in compaction.
_IM2COL_BYTES = 1 << 20
_COL2IM_BYTES = 1 << 21
# The compiled filter gradient beats im2col + BLAS up to about this many filter weights
# (6x6x1x6: 3.0x, 5x5x6x12: 1.4x; 4x4x12x24, 4,608 weights: BLAS 1.6x faster).
_NATIVE_FILTER_MAX = 2048


def same_padding(in_size: int, k: int, stride: int) -> tuple[int, int, int]:
    """TensorFlow's SAME padding for one spatial dimension.

    Args:
        in_size: Input length.
        k: Window (kernel) length.
        stride: Step between windows.

    Returns:
        ``(pad_before, pad_after, out_size)``; the odd pixel of padding goes after, as in TF.
    """
    out = -(-in_size // stride)
    total = max((out - 1) * stride + k - in_size, 0)
    return total // 2, total - total // 2, out


def valid_output_size(in_size: int, k: int, stride: int) -> int:
    """Output length for VALID padding: ``ceil((in_size - k + 1) / stride)`` (may be <= 0)."""
    return -(-(in_size - k + 1) // stride)


def _pair(value: IntPair, name: str) -> tuple[int, int]:
    """Normalises an int, an ``(h, w)`` pair or TF's NHWC form ``[1, h, w, 1]``."""
    if np.isscalar(value):
        return int(value), int(value)  # type: ignore[arg-type]
    vals = [int(v) for v in value]  # type: ignore[union-attr]
    if len(vals) == 4 and vals[0] == vals[3] == 1:
        vals = vals[1:3]
    if len(vals) != 2 or min(vals) < 1:
        raise ValueError(f"{name} must be a positive int, (h, w) or [1, h, w, 1]; got {value!r}")
    return vals[0], vals[1]


def _resolve(padding: Padding, in_hw: Sequence[int], k_hw: Sequence[int],
             strides: tuple[int, int]) -> tuple[Pads, tuple[int, int]]:
    """Returns ``((top, bottom), (left, right)), (out_h, out_w)`` for any padding spec."""
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "SAME":
            (t, b, oh), (l, r, ow) = (same_padding(n, k, s)
                                      for n, k, s in zip(in_hw, k_hw, strides))
            return ((t, b), (l, r)), (oh, ow)
        if mode != "VALID":
            raise ValueError(f"padding must be 'SAME', 'VALID' or explicit pairs; got {padding!r}")
        out = tuple(valid_output_size(n, k, s) for n, k, s in zip(in_hw, k_hw, strides))
        pads: Pads = ((0, 0), (0, 0))
    else:
        rows = [tuple(int(p) for p in pair) for pair in padding]
        if len(rows) == 4:  # TF's explicit NHWC form: batch and channel rows must be zero.
            if rows[0] != (0, 0) or rows[3] != (0, 0):
                raise ValueError("explicit padding of batch/channel dimensions must be 0")
            rows = rows[1:3]
        if len(rows) != 2 or any(len(p) != 2 or min(p) < 0 for p in rows):
            raise ValueError(f"explicit padding must be [[t, b], [l, r]]; got {padding!r}")
        pads = (rows[0], rows[1])  # type: ignore[assignment]
        out = tuple((n + p[0] + p[1] - k) // s + 1
                    for n, p, k, s in zip(in_hw, pads, k_hw, strides))
    if min(out) <= 0:
        raise ValueError(f"window {tuple(k_hw)} larger than padded input {tuple(in_hw)}")
    return pads, out  # type: ignore[return-value]


def conv_output_shape(x_shape: Sequence[int], w_shape: Sequence[int], strides: IntPair = 1,
                      padding: Padding = "SAME") -> tuple[int, int, int, int]:
    """Shape ``[N, OH, OW, O]`` of ``conv2d_forward(x, w, strides, padding)``."""
    _, (oh, ow) = _resolve(padding, x_shape[1:3], w_shape[:2], _pair(strides, "strides"))
    return int(x_shape[0]), oh, ow, int(w_shape[3])


def _float_dtype(*arrays: np.ndarray) -> np.dtype:
    """Common dtype of the operands, promoted to float64 when it is not floating."""
    dt = np.result_type(*(np.asarray(a) for a in arrays))
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float64)


def _chunk(n: int, per_image: int, budget: int) -> int:
    """Images per batch chunk so that a chunk's scratch stays near ``budget`` bytes."""
    return int(max(1, min(n, budget // max(per_image, 1))))


def _padded_chunks(x: np.ndarray, pads: Pads, value: float,
                   nb: int) -> Iterator[tuple[slice, np.ndarray]]:
    """Yields ``(batch slice, padded chunk)`` of ``nb`` images at a time.

    The padded copy lives in one small reused buffer whose border is written once: fresh
    multi-megabyte temporaries cost more in page faults than the arithmetic done on them.
    """
    n, h, w, _ = x.shape
    (t, b), (l, r) = pads
    buf = None
    for n0 in range(0, n, nb):
        sl = slice(n0, min(n, n0 + nb))
        if not (t or b or l or r):
            yield sl, x[sl]
            continue
        if buf is None:
            buf = np.full((nb, h + t + b, w + l + r) + x.shape[3:], value, x.dtype)
        chunk = buf[:sl.stop - n0]
        chunk[:, t:t + h, l:l + w] = x[sl]
        yield sl, chunk


def _scatter_chunks(dx: np.ndarray, pads: Pads, nb: int) -> Iterator[tuple[slice, np.ndarray]]:
    """Yields ``(batch slice, zeroed padded scratch)``; once the caller has accumulated into the
    scratch and asks for the next chunk, its interior is copied into ``dx[slice]``."""
    n, h, w, _ = dx.shape
    (t, b), (l, r) = pads
    buf = None if pads == ((0, 0), (0, 0)) else np.empty(
        (nb, h + t + b, w + l + r) + dx.shape[3:], dx.dtype)
    for n0 in range(0, n, nb):
        sl = slice(n0, min(n, n0 + nb))
        chunk = dx[sl] if buf is None else buf[:sl.stop - n0]
        chunk[...] = 0
        yield sl, chunk
        if buf is not None:
            dx[sl] = chunk[:, t:t + h, l:l + w]


def _taps(a: np.ndarray, kh: int, kw: int, sh: int, sw: int, oh: int,
          ow: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yields, in window scan order, the strided view of ``a`` seen by each window tap."""
    for i in range(kh):
        for j in range(kw):
            yield i, j, a[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]


def _im2col_chunks(x: np.ndarray, pads: Pads, kh: int, kw: int, sh: int, sw: int, oh: int,
                   ow: int) -> Iterator[tuple[slice, np.ndarray]]:
    """Yields ``(batch slice, col)`` with ``col[(n, oh, ow), (i, j, c)]`` of the padded input."""
    c = x.shape[3]
    k = kh * kw * c
    nb = _chunk(x.shape[0], oh * ow * k * x.itemsize, _IM2COL_BYTES)
    buf = None
    for sl, xp in _padded_chunks(x, pads, 0, nb):
        m = xp.shape[0]
        if c == 1:
            # Single channel: copying whole shifted planes per tap moves long runs, ~3x faster
            # than the window view whose contiguous runs are only KW elements long.
            if buf is None or buf.shape[2] != m:
                buf = np.empty((kh, kw, m, oh, ow), x.dtype)
            for i, j, tap in _taps(xp[..., 0], kh, kw, sh, sw, oh, ow):
                buf[i, j] = tap
            yield sl, buf.reshape(k, -1).T
        else:
            if buf is None:
                buf = np.empty((nb, oh, ow, kh, kw, c), x.dtype)
            s0, s1, s2, s3 = xp.strides
            view = as_strided(xp, shape=(m, oh, ow, kh, kw, c),
                              strides=(s0, s1 * sh, s2 * sw, s1, s2, s3), writeable=False)
            np.copyto(buf[:m], view)
            yield sl, buf[:m].reshape(-1, k)


def _conv_setup(x_shape: Sequence[int], w_shape: Sequence[int], strides: IntPair,
                padding: Padding):
    """Validates shapes; returns ``(sh, sw), pads, (oh, ow)``."""
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError("expected x as [N, H, W, C] and w as [KH, KW, C, O]")
    if x_shape[3] != w_shape[2]:
        raise ValueError(f"input has {x_shape[3]} channels but filter expects {w_shape[2]}")
    st = _pair(strides, "strides")
    pads, out = _resolve(padding, x_shape[1:3], w_shape[:2], st)
    return st, pads, out


def _geometry(x_shape: Sequence[int], w_shape: Sequence[int], strides: tuple[int, int],
              pads: Pads, oh: int, ow: int) -> tuple:
    """The argument tuple of the compiled kernels (``native.py``)."""
    return tuple(int(v) for v in (*x_shape, *w_shape[:2], w_shape[3], *strides, pads[0][0],
                                  pads[1][0], oh, ow))


def conv2d_forward(x: np.ndarray, w: np.ndarray, strides: IntPair = (1, 1),
                   padding: Padding = "SAME", bias: Optional[np.ndarray] = None,
                   relu: bool = False) -> np.ndarray:
    """2-D cross-correlation, like ``tf.nn.conv2d`` (NHWC, dilation 1).

    Args:
        x: Input ``[N, H, W, C]``.
        w: Filter ``[KH, KW, C, O]``.
        strides: ``sh``/``(sh, sw)``/``[1, sh, sw, 1]``.
        padding: ``"SAME"``, ``"VALID"``, ``[[t, b], [l, r]]`` or TF's 4-row explicit form.
        bias: Optional ``[O]`` added to the result (the executor's fused conv + bias).
        relu: Then ``max(., 0)``. Same bits as separate ``add`` and ``maximum`` calls.

    Returns:
        ``y`` of shape ``[N, OH, OW, O]`` in the common floating dtype of ``x`` and ``w``.
    """
    dtype = _float_dtype(x, w)
    x, w = np.asarray(x, dtype), np.asarray(w, dtype)
    (sh, sw), pads, (oh, ow) = _conv_setup(x.shape, w.shape, strides, padding)
    n, _, _, c = x.shape
    kh, kw, _, o = w.shape
    w2 = w.reshape(kh * kw * c, o)
    if kh == kw == 1 and pads == ((0, 0), (0, 0)):
        # 1x1 filter: a plain GEMM over (strided) pixels, no im2col at all.
        y = np.matmul(x[:, ::sh, ::sw].reshape(-1, c), w2).reshape(n, oh, ow, o)
        return parallel.epilogue(y, bias, relu)
    if native.usable(x, w) and (bias is None or np.asarray(bias).dtype == dtype):
        return native.conv2d_forward(x, w, _geometry(x.shape, w.shape, (sh, sw), pads, oh, ow),
                                     bias, relu)
    y = np.empty((n, oh, ow, o), dtype)

    def part(p: slice) -> None:
        yp = y[p]
        for sl, col in _im2col_chunks(x[p], pads, kh, kw, sh, sw, oh, ow):
            np.matmul(col, w2, out=yp[sl].reshape(-1, o))
    parallel.run(part, parallel.split(n, 2.0 * y.size * w2.shape[0]))
    return parallel.epilogue(y, bias, relu)


def conv2d_backward_filter(x: np.ndarray, dy: np.ndarray, w_shape: Sequence[int],
                           strides: IntPair = (1, 1), padding: Padding = "SAME") -> np.ndarray:
    """Gradient of ``conv2d_forward`` w.r.t. the filter: ``dw = col^T @ dy``.

    Args:
        x: Forward input ``[N, H, W, C]``.
        dy: Upstream gradient ``[N, OH, OW, O]``.
        w_shape: Filter shape ``[KH, KW, C, O]``.
        strides: As for ``conv2d_forward``.
        padding: As for ``conv2d_forward``.

    Returns:
        ``dw`` of shape ``w_shape``.
    """
    dtype = _float_dtype(x, dy)
    x, dy = np.asarray(x, dtype), np.asarray(dy, dtype)
    kh, kw, c, o = (int(v) for v in w_shape)
    (sh, sw), pads, (oh, ow) = _conv_setup(x.shape, (kh, kw, c, o), strides, padding)
    if dy.shape != (x.shape[0], oh, ow, o):
        raise ValueError(f"dy has shape {dy.shape}, expected {(x.shape[0], oh, ow, o)}")
    if kh == kw == 1 and pads == ((0, 0), (0, 0)):
        return np.matmul(x[:, ::sh, ::sw].reshape(-1, c).T, dy.reshape(-1, o)).reshape(w_shape)
    if native.usable(x, dy) and kh * kw * c * o <= _NATIVE_FILTER_MAX:
        return native.conv2d_backward_filter(x, dy, _geometry(x.shape, w_shape, (sh, sw), pads,
                                                              oh, ow))

    def part(p: slice) -> np.ndarray:
        dw = np.zeros((kh * kw * c, o), dtype)
        dyp = dy[p]
        for sl, col in _im2col_chunks(x[p], pads, kh, kw, sh, sw, oh, ow):
            dw += np.matmul(col.T, dyp[sl].reshape(-1, o))
        return dw
    partials = parallel.run(part, parallel.split(x.shape[0], 2.0 * dy.size * kh * kw * c))
    dw = partials[0]
    for extra in partials[1:]:  # in part order: the same sum for any worker count
        dw += extra
    return dw.reshape(kh, kw, c, o)


def conv2d_backward_input(dy: np.ndarray, w: np.ndarray, x_shape: Sequence[int],
                          strides: IntPair = (1, 1), padding: Padding = "SAME") -> np.ndarray:
    """Gradient of ``conv2d_forward`` w.r.t. its input (a transposed convolution).

    Args:
        dy: Upstream gradient ``[N, OH, OW, O]``.
        w: Filter ``[KH, KW, C, O]``.
        x_shape: Forward input shape ``[N, H, W, C]``.
        strides: As for ``conv2d_forward``.
        padding: As for ``conv2d_forward``.

    Returns:
        ``dx`` of shape ``x_shape``.
    """
    dtype = _float_dtype(dy, w)
    dy, w = np.asarray(dy, dtype), np.asarray(w, dtype)
    n, h, wd, c = (int(v) for v in x_shape)
    (sh, sw), pads, (oh, ow) = _conv_setup((n, h, wd, c), w.shape, strides, padding)
    kh, kw, _, o = w.shape
    if dy.shape != (n, oh, ow, o):
        raise ValueError(f"dy has shape {dy.shape}, expected {(n, oh, ow, o)}")
    if kh == kw == 1 and pads == ((0, 0), (0, 0)):
        g = np.matmul(dy.reshape(-1, o), w.reshape(c, o).T).reshape(n, oh, ow, c)
        if sh == sw == 1:
            return g
        dx = np.zeros((n, h, wd, c), dtype)
        dx[:, ::sh, ::sw] = g
        return dx
    if native.usable(dy, w):
        return native.conv2d_backward_input(dy, w, _geometry((n, h, wd, c), w.shape, (sh, sw),
                                                             pads, oh, ow))
    hq, wq = -(-(h + sum(pads[0])) // sh), -(-(wd + sum(pads[1])) // sw)
    # Padded row pi + sh*a belongs to phase row pi; tap i = pi + sh*qi sends output row r to
    # phase row r + qi. With dy zero-extended to the (hq, wq) grid, each tap is a flat shift by
    # qi*wq + qj that never wraps into a neighbouring row or image (the tap stays inside the
    # padded input), so its scatter is one contiguous add.
    phases = []
    for pi in range(sh):
        for pj in range(sw):
            wp = w[pi::sh, pj::sw]
            phases.append((pi, pj, wp.shape[0], wp.shape[1], wp.reshape(-1, o)))
    per_img = max(ph[2] * ph[3] for ph in phases) * c * hq * wq * dy.itemsize
    dx = np.empty((n, h, wd, c), dtype)

    def part(p: slice) -> None:
        _input_grad_part(dy[p], dx[p], phases, pads, (sh, sw), (hq, wq),
                         _chunk(p.stop - p.start, per_img, _COL2IM_BYTES))
    parallel.run(part, parallel.split(n, 2.0 * dy.size * kh * kw * c))
    return dx


def _input_grad_part(dy: np.ndarray, dx: np.ndarray, phases: list, pads: Pads,
                     strides: tuple[int, int], grid: tuple[int, int], nb: int) -> None:
    """``conv2d_backward_input`` for the images of ``dy``, written into ``dx``."""
    (sh, sw), (hq, wq), (n, oh, ow, o), (_, h, wd, c) = strides, grid, dy.shape, dx.shape
    (t, _), (l, _) = pads
    dxp = np.empty((nb, hq * sh, wq * sw, c), dx.dtype)
    d = np.zeros((nb, hq, wq, o), dx.dtype)
    for n0 in range(0, n, nb):
        m = min(nb, n - n0)
        size = m * hq * wq
        d[:m, :oh, :ow] = dy[n0:n0 + m]
        dt = d[:m].reshape(size, o).T
        for pi, pj, a, b, wmat in phases:
            target = dxp[:m, pi::sh, pj::sw]
            if a == 0 or b == 0:  # stride > kernel: these pixels are never read
                target[...] = 0
                continue
            # Channel-major (C, size) rows keep every add below a long contiguous run.
            g = np.matmul(wmat, dt).reshape(a, b, c, size)
            z = g[0, 0]  # zero shift: accumulate in place instead of zero-filling a buffer
            for qi in range(a):
                for qj in range(b):
                    shift = qi * wq + qj
                    if shift:
                        z[:, shift:] += g[qi, qj, :, :size - shift]
            target[...] = z.reshape(c, m, hq, wq).transpose(1, 2, 3, 0)
        dx[n0:n0 + m] = dxp[:m, t:t + h, l:l + wd]


if __name__ == "__main__":  # Reference timing: python -m flowgrad.ops.conv_kernels
    import timeit

    # The CNN of "TensorFlow and deep learning without a PhD": batch 100, SAME padding.
    rng = np.random.default_rng(0)
    for xs, ws, s in [((100, 28, 28, 1), (6, 6, 1, 6), 1), ((100, 28, 28, 6), (5, 5, 6, 12), 2),
                      ((100, 14, 14, 12), (4, 4, 12, 24), 2)]:
        xr, wr = rng.random(xs, np.float32), rng.random(ws, np.float32)
        dyr = rng.random(conv_output_shape(xs, ws, s), np.float32)
        ms = [1e3 * min(timeit.repeat(fn, number=1, repeat=30)) for fn in (
            lambda: conv2d_forward(xr, wr, s), lambda: conv2d_backward_input(dyr, wr, xs, s),
            lambda: conv2d_backward_filter(xr, dyr, ws, s))]
        print(f"conv {ws} stride {s}: forward {ms[0]:.2f} ms, input grad {ms[1]:.2f} ms, "
              f"filter grad {ms[2]:.2f} ms, total {sum(ms):.2f} ms")
