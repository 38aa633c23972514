"""The talk's MNIST programs (examples/mnist) and ``flowgrad demo mnist``.

The default suite trains each program briefly and asserts a lower, stated accuracy; the
``slow`` tests run the talk's full schedules and assert its accuracies (92%, 98%, 99.3%).
"""
import importlib
import sys
from pathlib import Path

import pytest

from flowgrad import cli
from flowgrad.keras.datasets._files import DatasetUnavailableError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mnist"


@pytest.fixture(scope="module")
def mnist_data():
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = importlib.import_module("mnist_data")
        try:
            module.load()
        except DatasetUnavailableError as e:
            pytest.skip("MNIST files not available (set FLOWGRAD_DATASETS): %s"
                        % str(e).splitlines()[0])
        yield module
    finally:
        sys.path.remove(str(EXAMPLES))


def run(mnist_data, monkeypatch, program, iterations, test_images=10000, seed=0):
    """Runs ``program.main`` quietly, evaluating on the first ``test_images`` test images."""
    if test_images < 10000:
        train, (xt, yt) = mnist_data.load()
        monkeypatch.setattr(mnist_data, "load", lambda: (train, (xt[:test_images],
                                                               yt[:test_images])))
    module = importlib.import_module(program)
    return module.main(["--iterations", str(iterations), "--seed", str(seed),
                        "--log-every", "0"])


# Brief runs: (program, iterations, test images, accuracy that a few hundred steps reach).
BRIEF = [
    ("softmax_tf1", 300, 10000, 0.88),
    ("softmax_keras", 300, 10000, 0.88),
    ("dense_tf1", 300, 10000, 0.90),
    ("dense_keras", 300, 10000, 0.90),
    ("cnn_tf1", 100, 2000, 0.85),
    ("cnn_keras", 100, 2000, 0.85),
]


@pytest.mark.parametrize("program,iterations,test_images,minimum", BRIEF,
                         ids=[b[0] for b in BRIEF])
def test_program_learns_in_a_few_hundred_steps(mnist_data, monkeypatch, program, iterations,
                                               test_images, minimum):
    result = run(mnist_data, monkeypatch, program, iterations, test_images)
    assert result["iterations"] >= iterations
    assert result["accuracy"] >= minimum, result


def test_parameter_counts_match_the_architectures(mnist_data, monkeypatch):
    # 784*10+10; 784*200+200 + 200*100+100 + 100*60+60 + 60*30+30 + 30*10+10;
    # 6*6*1*6+6 + 5*5*6*12+12 + 4*4*12*24+24 + 1176*200+200 + 200*10+10
    expected = {"softmax": 7850, "dense": 185300, "cnn": 244076}
    for name, count in expected.items():
        for style in ("tf1", "keras"):
            result = run(mnist_data, monkeypatch, "%s_%s" % (name, style), 1, test_images=100)
            assert result["parameters"] == count, (name, style)


def test_test_every_reports_the_best_accuracy_seen(mnist_data, capsys):
    import softmax_tf1
    result = softmax_tf1.main(["--iterations", "100", "--test-every", "40", "--log-every", "0"])
    measured = [float(line.split()[-1]) for line in capsys.readouterr().out.splitlines()
                if ": test accuracy: " in line]
    assert len(measured) == 3  # steps 40, 80 and the end (100)
    assert round(result["accuracy"], 4) == measured[-1]  # printed with 4 decimals
    assert round(result["best_accuracy"], 4) == max(measured) >= measured[-1]


def test_same_seed_same_result(mnist_data, monkeypatch):
    a = run(mnist_data, monkeypatch, "dense_tf1", 30, test_images=500, seed=3)
    b = run(mnist_data, monkeypatch, "dense_tf1", 30, test_images=500, seed=3)
    assert a["accuracy"] == b["accuracy"]


def test_demo_mnist_prints_the_table(mnist_data, capsys):
    assert cli.main(["demo", "mnist", "--models", "softmax", "--iterations", "50",
                     "--log-every", "0", "--test-every", "25"]) == 0
    out = capsys.readouterr().out
    header = [line for line in out.splitlines() if line.startswith("model")]
    assert header and "parameters" in header[0] and "test accuracy" in header[0]
    assert "best seen" in header[0]
    row = [line.split() for line in out.splitlines() if line.startswith("softmax ")]
    assert row and row[0][1] == "7,850" and row[0][2] == "50" and row[0][3].endswith("%")
    assert float(row[0][4].rstrip("%")) >= float(row[0][3].rstrip("%"))


def test_keras_programs_train_exactly_the_steps_asked(mnist_data):
    assert mnist_data.epoch_split(10000) == (20, 500)  # the talk's 10,000 iterations
    assert mnist_data.epoch_split(20000) == (40, 500)
    assert mnist_data.epoch_split(2000) == (4, 500)
    assert mnist_data.epoch_split(250) == (1, 250)
    epochs, steps = mnist_data.epoch_split(10007)  # prime: no equal split, a few steps more
    assert epochs * steps >= 10007 and steps <= 600 and epochs * steps - 10007 < epochs


def test_demo_mnist_rejects_unknown_models(capsys):
    assert cli.main(["demo", "mnist", "--models", "softmax,lstm"]) == 2
    assert "lstm" in capsys.readouterr().err


# The talk's full schedules and its way of measuring (opt-in: pytest -m slow; about 10 min).
# Its programs print the best test accuracy seen during training (measured every 50 steps for
# softmax, every 100 for the others) and quote it to 0.1%: 92%, 98.2%, 99.3%. Runs and
# seeds are recorded in docs/mnist.md. The CNN's result moves by +-0.1% with the seed and with
# any change of float rounding (Keras on TensorFlow, run side by side on the same program,
# spreads the same way: 99.13-99.24% final, 99.21-99.30% best over seeds 1-3), so its bounds
# are the low end of that spread rather than the talk's best run.
TALK = [
    # program, iterations, test every, final accuracy >=, best seen >=
    ("softmax_tf1", 2000, 50, 0.915, 0.9195),
    ("softmax_keras", 2000, 50, 0.915, 0.9195),
    ("dense_tf1", 10000, 100, 0.98, 0.9815),
    ("dense_keras", 10000, 100, 0.98, 0.9815),
    ("cnn_tf1", 10000, 100, 0.99, 0.9915),
    ("cnn_keras", 10000, 100, 0.99, 0.9915),
]


@pytest.mark.slow
@pytest.mark.parametrize("program,iterations,every,final,best", TALK, ids=[t[0] for t in TALK])
def test_talk_accuracy(mnist_data, program, iterations, every, final, best):
    import flowgrad as tf
    module = importlib.import_module(program)
    # one BLAS thread, as for the runs in docs/mnist.md (the count changes the last bits)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    try:
        result = module.main(["--iterations", str(iterations), "--seed", "0", "--log-every",
                              "0", "--test-every", str(every)])
    finally:
        tf.config.threading.set_intra_op_parallelism_threads(0)
    assert result["accuracy"] >= final, result
    assert result["best_accuracy"] >= best, result
