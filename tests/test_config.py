"""``tf.config``: the CPU-only device list, run_functions_eagerly and BLAS threads."""
import numpy as np
import pytest

import flowgrad as tf
from flowgrad.ops import parallel


def test_devices_are_one_cpu_and_no_gpu():
    cpus = tf.config.list_physical_devices("CPU")
    assert tf.config.list_physical_devices() == cpus
    assert [(d.name, d.device_type) for d in cpus] == [("/physical_device:CPU:0", "CPU")]
    assert tf.config.list_physical_devices("GPU") == []
    assert tf.config.experimental.list_physical_devices("GPU") == []
    assert tf.config.list_logical_devices()[0].name == "/device:CPU:0"
    assert tf.config.get_visible_devices("CPU") == cpus


def test_the_usual_gpu_setup_runs_and_cpu_memory_growth_is_refused():
    for gpu in tf.config.list_physical_devices("GPU"):  # no GPU: the loop body never runs
        tf.config.experimental.set_memory_growth(gpu, True)
    cpu = tf.config.list_physical_devices("CPU")[0]
    with pytest.raises(ValueError, match="non-GPU"):
        tf.config.experimental.set_memory_growth(cpu, True)
    tf.config.set_visible_devices(tf.config.list_physical_devices("CPU"), "CPU")
    with pytest.raises(ValueError, match="cannot be hidden"):
        tf.config.set_visible_devices([], "CPU")


def test_run_functions_eagerly_runs_the_python_body_each_call():
    calls = []

    @tf.function
    def f(x):
        calls.append(x.numpy() if tf.executing_eagerly() else "traced")
        return x * 2

    f(tf.constant(1.0))
    f(tf.constant(2.0))
    assert calls == ["traced"]  # one trace, then the compiled plan
    tf.config.run_functions_eagerly(True)
    try:
        assert tf.config.functions_run_eagerly()
        assert float(f(tf.constant(3.0))) == 6.0
        assert calls == ["traced", 3.0]
    finally:
        tf.config.run_functions_eagerly(False)
    f(tf.constant(4.0))
    assert calls == ["traced", 3.0] and not tf.config.functions_run_eagerly()


def test_keras_fit_runs_eagerly_under_run_functions_eagerly():
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((4, 3), np.float32)
    tf.config.run_functions_eagerly(True)
    try:
        history = model.fit(x, np.zeros((4, 1), np.float32), epochs=2, verbose=0)
    finally:
        tf.config.run_functions_eagerly(False)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_intra_op_threads_set_the_blas_thread_count():
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl sets BLAS "
                                        "threads; it is in the [test] extra")

    def blas_threads():
        return {i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"}
    before = blas_threads()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        assert tf.config.threading.get_intra_op_parallelism_threads() == 1
        assert blas_threads() == {1}
        assert parallel._Workers.limit == 1  # convolution batch parts run one at a time
        a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
        np.testing.assert_allclose((tf.constant(a) @ tf.constant(a.T)).numpy(), a @ a.T)
    finally:
        tf.config.threading.set_intra_op_parallelism_threads(0)
    assert blas_threads() == before
    assert parallel._Workers.limit == 0
    assert tf.config.threading.get_intra_op_parallelism_threads() == 0
    with pytest.raises(ValueError):
        tf.config.threading.set_intra_op_parallelism_threads(-1)
    tf.config.threading.set_inter_op_parallelism_threads(2)
    assert tf.config.threading.get_inter_op_parallelism_threads() == 2
    tf.config.threading.set_inter_op_parallelism_threads(0)
