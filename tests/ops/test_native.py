"""The compiled float32 convolution kernels (flowgrad/ops/_native.c) and batch splitting.

Oracles: the float64 loop definition of convolution from test_conv_kernels.py, the NumPy
kernels (``native.disabled()``), and the adjoint identity <conv(x, w), r> = <x, dx> = <w, dw>.
"""

from __future__ import annotations

import shutil
import sysconfig

import numpy as np
import pytest

from flowgrad.ops import conv_kernels as ck, native, parallel

from test_conv_kernels import CONV_CASES, naive_conv

needs_native = pytest.mark.skipif(not native.built(), reason="flowgrad/ops/_native.c was not "
                                  "compiled (no C compiler at install time)")

@pytest.fixture(autouse=True)
def _native_on(monkeypatch):
    """These tests are about the compiled kernels, also under --flowgrad-native-off."""
    monkeypatch.setattr(native._Switch, "on", True)


NATIVE_CASES = CONV_CASES + [  # the talk's three layers, and padding that is only on one side
    ((3, 28, 28, 1), (6, 6, 1, 6), (1, 1), "SAME"),
    ((3, 28, 28, 6), (5, 5, 6, 12), (2, 2), "SAME"),
    ((3, 14, 14, 12), (4, 4, 12, 24), (2, 2), "SAME"),
    ((2, 9, 10, 3), (2, 3, 3, 7), (2, 3), [[0, 3], [2, 0]]),
    ((2, 11, 11, 4), (3, 3, 4, 13), (3, 3), "SAME"),  # 13 channels: a partial block of 6
    ((1, 40, 3, 2), (7, 1, 2, 1), (1, 1), "VALID"),
]


def test_native_is_built_where_a_compiler_exists():
    """setup.py builds the kernels when a C compiler exists; a failed build must not pass
    silently as a skip of the tests below."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip("no C compiler (%s) on this machine: the NumPy kernels run alone" % cc)
    assert native.built()


def _case(x_shape, w_shape, strides, padding, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    r = rng.standard_normal(ck.conv_output_shape(x_shape, w_shape, strides, padding))
    return x, w, r.astype(np.float32)


def _all(x, w, r, strides, padding):
    return (ck.conv2d_forward(x, w, strides, padding),
            ck.conv2d_backward_input(r, w, x.shape, strides, padding),
            ck.conv2d_backward_filter(x, r, w.shape, strides, padding))


@pytest.fixture(params=[4, 3, 0], ids=["avx512", "avx2", "4-wide"])
def level(request):
    """Each vector width the kernels were compiled for that this CPU can run."""
    best = native.conv_level()
    if request.param > best:
        pytest.skip("this CPU lacks the target of level %d (it runs level %d)"
                    % (request.param, best))
    native.conv_level(request.param)
    yield request.param
    native.conv_level(best)


@needs_native
@pytest.mark.parametrize("x_shape,w_shape,strides,padding", NATIVE_CASES)
def test_native_matches_float64_oracle_and_numpy_kernels(x_shape, w_shape, strides, padding,
                                                         level):
    assert native.conv_level() == level
    x, w, r = _case(x_shape, w_shape, strides, padding)
    y, dx, dw = _all(x, w, r, strides, padding)
    for a in (y, dx, dw):
        assert a.dtype == np.float32 and a.flags.c_contiguous
    assert dx.shape == x.shape and dw.shape == w.shape
    y64 = naive_conv(x, w, strides, padding)
    np.testing.assert_allclose(y, y64, rtol=1e-5, atol=1e-5 * np.abs(y64).max())
    ref = np.sum(y64 * r)  # adjoint identity: checks both gradients against the oracle
    scale = np.sum(np.abs(y64 * r))
    assert abs(np.sum(x * dx.astype(np.float64)) - ref) <= 1e-5 * scale
    assert abs(np.sum(w * dw.astype(np.float64)) - ref) <= 1e-5 * scale
    with native.disabled():
        numpy_results = _all(x, w, r, strides, padding)
    for got, want in zip((y, dx, dw), numpy_results):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


@needs_native
def test_native_kernels_are_used_for_float32_only(monkeypatch):
    calls = []
    monkeypatch.setattr(native, "_run_parts", lambda kind, *a, **k: calls.append(kind))
    x, w, r = _case((2, 6, 6, 2), (3, 3, 2, 4), (1, 1), "SAME")
    ck.conv2d_forward(x.astype(np.float64), w, 1, "SAME")  # promotes to float64: NumPy
    assert calls == []
    ck.conv2d_forward(x, w, 1, "SAME")
    ck.conv2d_backward_filter(x, r, w.shape, 1, "SAME")
    ck.conv2d_backward_input(r, w, x.shape, 1, "SAME")
    assert calls == [native._FORWARD, native._FILTER, native._INPUT]


@needs_native
def test_nan_and_inf_propagate_like_numpy():
    x, w, r = _case((2, 7, 7, 3), (3, 3, 3, 6), (2, 2), "SAME")
    x[0, 3, 3, 1], w[1, 1, 2, 4] = np.nan, np.inf
    with np.errstate(invalid="ignore"):
        pairs = list(zip(_all(x, w, r, (2, 2), "SAME"), _numpy(x, w, r, (2, 2), "SAME")))
    for got, want in pairs:
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))


def _numpy(*args):
    with native.disabled():
        return _all(*args)


@pytest.mark.parametrize("use_native", [True, False])
def test_results_do_not_depend_on_the_number_of_workers(monkeypatch, use_native):
    """Parts are fixed by the shape and the core count; 1 worker runs them in turn."""
    if use_native and not native.built():
        pytest.skip("flowgrad/ops/_native.c was not compiled")
    monkeypatch.setattr(native._Switch, "on", use_native)
    monkeypatch.setattr(parallel._Workers, "cores", 3)
    x, w, r = _case((48, 28, 28, 6), (5, 5, 6, 12), (2, 2), "SAME")
    assert len(parallel.split(48, 2.0 * r.size * 150, blas=False)) == 3
    parallel.set_max_workers(1)
    try:
        one = _all(x, w, r, (2, 2), "SAME")
    finally:
        parallel.set_max_workers(0)
    many = _all(x, w, r, (2, 2), "SAME")
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


def test_split_is_balanced_and_covers_the_batch(monkeypatch):
    monkeypatch.setattr(parallel._Workers, "cores", 4)
    parts = parallel.split(10, 1e12, blas=False)
    assert [(p.start, p.stop) for p in parts] == [(0, 2), (2, 5), (5, 7), (7, 10)]
    assert parallel.split(10, 1e3, blas=False) == [slice(0, 10)]  # too little work to split
    assert len(parallel.split(2, 1e12, blas=False)) == 2  # never more parts than images


def test_blas_threads_are_restored_after_a_split_run():
    controllers = parallel._blas_controllers()
    if not controllers:
        pytest.skip("threadpoolctl is not installed: BLAS-calling kernels are never split")
    before = [c.get_num_threads() for c in controllers]
    seen = []
    parallel.run(lambda p: seen.append([c.get_num_threads() for c in controllers]),
                 [slice(0, 1), slice(1, 2)])
    assert seen == [[1] * len(controllers)] * 2
    assert [c.get_num_threads() for c in controllers] == before


def test_native_kernels_stay_in_bounds_under_valgrind(tmp_path):
    """Reads past a scratch grid only feed dropped positions, so no value test can see them,
    but out-of-bounds garbage times a zero is NaN when the garbage is inf/NaN. memcheck sees
    every such read (it caught one in the filter gradient's grid slack)."""
    import subprocess
    import sys
    valgrind = shutil.which("valgrind")
    if valgrind is None or not native.built():
        pytest.skip("needs valgrind and the compiled kernels")
    script = tmp_path / "kernels.py"
    script.write_text(
        "import numpy as np\n"
        "from flowgrad.ops import conv_kernels as ck, native\n"
        "rng = np.random.default_rng(0)\n"
        "for xs, ws, s, pad in %r:\n"
        "    x = rng.standard_normal((2,) + xs[1:]).astype(np.float32)\n"
        "    w = rng.standard_normal(ws).astype(np.float32)\n"
        "    y = ck.conv2d_forward(x, w, s, pad)\n"
        "    r = rng.standard_normal(y.shape).astype(np.float32)\n"
        "    ck.conv2d_backward_input(r, w, x.shape, s, pad)\n"
        "    (sh, sw), pads, (oh, ow) = ck._conv_setup(x.shape, ws, s, pad)\n"
        "    native.conv2d_backward_filter(x, r, ck._geometry(x.shape, ws, (sh, sw), pads,\n"
        "                                                     oh, ow))\n"
        "x = rng.standard_normal((24, 28, 28, 6)).astype(np.float32)\n"  # two parts: the pool
        "w = rng.standard_normal((5, 5, 6, 12)).astype(np.float32)\n"
        "y = ck.conv2d_forward(x, w, 2, 'SAME')\n"
        "ck.conv2d_backward_input(y, w, x.shape, 2, 'SAME')\n"
        "ck.conv2d_backward_filter(x, y, w.shape, 2, 'SAME')\n"
        "from flowgrad.ops import parallel\n"  # compiled products: both layouts, epilogue
        "a = rng.standard_normal((60, 70)).astype(np.float32)\n"
        "b = rng.standard_normal((50, 60)).astype(np.float32)\n"
        "parallel.hold_blas()\n"
        "native.gemm(a.T, b.T, 3, np.ones(50, np.float32), True)\n"
        "native.gemm(a, a.T, 2)\n"
        "parallel.release_blas()\n"
        "print('ran')\n" % (NATIVE_CASES,))
    out = subprocess.run([valgrind, "--tool=memcheck", sys.executable, str(script)],
                         capture_output=True, text=True, timeout=600,
                         env={**__import__("os").environ, "PYTHONMALLOC": "malloc"})
    assert "ran" in out.stdout, out.stderr[-2000:]
    # NumPy and CPython have their own memcheck noise; only our kernels' frames count.
    lines = out.stderr.splitlines()
    ours = ["\n".join(lines[i:i + 4]) for i, line in enumerate(lines)
            if ("Invalid " in line or "uninitialised" in line)
            and any(name in "\n".join(lines[i + 1:i + 4])
                    for name in ("fg_", "claim_parts", "run_part"))]
    assert not ours, "\n\n".join(ours[:3])


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork (POSIX)")
def test_a_forked_child_still_splits_work():
    """The parent's worker threads do not survive fork(); the child must start its own
    (a stale pool would accept the parts and never run them)."""
    import os
    x, w, r = _case((48, 28, 28, 6), (5, 5, 6, 12), (2, 2), "SAME")
    before = ck.conv2d_forward(x, w, 2, "SAME")  # the parent's pool now exists
    parallel.run(lambda p: None, [slice(0, 1), slice(1, 2)], blas=False)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: split work again, report whether it matches
        ok = False
        try:
            parallel.run(lambda p: None, [slice(0, 1), slice(1, 2)], blas=False)
            ok = bool(np.array_equal(ck.conv2d_forward(x, w, 2, "SAME"), before))
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    import select
    ready, _, _ = select.select([read], [], [], 30)
    result = os.read(read, 1) if ready else b"timeout"
    if not ready:  # the child hangs: do not hang the suite with it
        import signal
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert result == b"1"


def test_an_empty_batch_gives_empty_results():
    x, w, r = _case((0, 8, 7, 3), (3, 3, 3, 4), (2, 2), "SAME")
    y, dx, dw = _all(x, w, r, (2, 2), "SAME")
    assert y.shape == (0, 4, 4, 4) and dx.shape == x.shape
    np.testing.assert_array_equal(dw, np.zeros(w.shape, np.float32))


@needs_native
def test_the_compiled_adam_entry_point_checks_its_arrays():
    """``_native.adam_update`` reads raw memory: it must refuse what it cannot index."""
    from flowgrad.ops import _native
    a = np.zeros(4, np.float32)
    scalars = (0.1, 0.001, 0.001, 1e-8, False)
    for bad in [(a.astype(np.float64),) + (a,) * 6, (a,) * 6 + (np.zeros(3, np.float32),)]:
        with pytest.raises(TypeError, match="float32 and of one size"):
            _native.adam_update(*bad, *scalars)
    with pytest.raises(ValueError, match="contiguous"):
        _native.adam_update(*(a,) * 3, np.zeros(8, np.float32)[::2], *(a,) * 3, *scalars)
    frozen = a.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _native.adam_update(*(a,) * 4, frozen, a, a, *scalars)
    with pytest.raises(TypeError):
        _native.adam_update(*(a,) * 7)
