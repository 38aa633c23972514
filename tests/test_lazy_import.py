"""``import flowgrad`` loads only what an eager program needs (W0 in benchmarks/)."""
import subprocess
import sys

PROBE = """
import sys
import flowgrad as tf
x = tf.constant([1.0, 2.0]) + 1.0
loaded = sorted(m for m in sys.modules if m.startswith(("flowgrad.graph", "flowgrad.keras",
                                                        "flowgrad.compat", "flowgrad.nn")))
print(",".join(loaded))
f = tf.function(lambda a: a * 2)
print(float(f(tf.constant(3.0))), "flowgrad.graph.function" in sys.modules)
"""


def test_eager_import_leaves_graph_keras_and_compat_unloaded():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == ""
    assert out[1] == "6.0 True"  # tf.function still resolves, loading the graph package


def test_lazy_names_are_listed_and_importable():
    import flowgrad as tf
    for name in ("function", "cond", "Function", "ConcreteFunction", "graph_to_text"):
        assert name in dir(tf)
    from flowgrad import cond, function  # noqa: F401  (PEP 562 module __getattr__)
    assert function is tf.function
