"""Time to a target MNIST test accuracy with the talk's CNN: flowgrad vs Keras on TensorFlow.

The same Keras program runs on each framework (only the module it is given differs): the
talk's bigger CNN (conv 6x6x1->6 s1, 5x5x6->12 s2, 4x4x12->24 s2, ReLU, "same"; Dense 200
ReLU, Dropout 0.25, Dense 10 softmax; truncated-normal(0.1) kernels, 0.1 biases), Adam with
the talk's decay 0.0001 + 0.0029 e^(-step/2000), batches of 100 from ``fit(x, y,
shuffle=True)``. Every ``--eval-every`` steps a callback measures accuracy on the 10,000
test images; the clock stops at the first measurement >= ``--target``. Evaluation time is
excluded (it is the measuring instrument), input loading and model building are included
in "total", not in "training".

    python benchmarks/time_to_accuracy.py [--frameworks flowgrad,tensorflow] [--seed 0]
        [--target 0.993] [--max-steps 15000] [--eval-every 100] [--full] [--json out.json]

``--full`` trains all ``--max-steps`` even after the target is reached (still recording when
it was first reached), to compare the frameworks' final and best accuracies.

Each framework runs in its own process, one after the other, with its default threading
(both use the machine's cores). Run it on a quiet machine: it takes 10-15 minutes.
"""
from __future__ import annotations

import argparse
import gzip
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MARK = "@@TTA@@ "
MODULES = {"flowgrad": "flowgrad", "tensorflow": "tensorflow", "tf": "tensorflow"}


def load_mnist():
    """The IDX files from ``$FLOWGRAD_DATASETS/mnist`` (NumPy only, the same arrays for every
    framework): images float32 [N, 28, 28, 1] in [0, 1], labels one-hot float32."""
    root = os.path.join(os.environ.get("FLOWGRAD_DATASETS", "../shared/datasets"), "mnist")

    def idx(name, offset):
        with gzip.open(os.path.join(root, name), "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    def images(name):
        return (idx(name, 16).astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)

    def labels(name):
        return np.eye(10, dtype=np.float32)[idx(name, 8)]

    return ((images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")),
            (images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")))


def build_model(tf):
    """The talk's CNN in Keras, written once for any module with TensorFlow's API."""

    class TalkDecay(tf.keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.0001 + 0.0029 * tf.exp(-tf.cast(step, tf.float32) / 2000.0)

        def get_config(self):
            return {}

    def init():
        return dict(kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
                    bias_initializer=tf.keras.initializers.Constant(0.1))

    def conv(filters, size, stride):
        return tf.keras.layers.Conv2D(filters, size, strides=stride, padding="same",
                                      activation="relu", **init())

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28, 1)),
        conv(6, 6, 1), conv(12, 5, 2), conv(24, 4, 2),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(200, activation="relu", **init()),
        tf.keras.layers.Dropout(0.25),
        tf.keras.layers.Dense(10, activation="softmax", **init()),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=TalkDecay()),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def worker(framework: str, seed: int, target: float, max_steps: int, eval_every: int,
           full: bool = False) -> dict:
    t_start = time.perf_counter()
    if framework == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = importlib.import_module(framework)
    (x, y), (xt, yt) = load_mnist()
    tf.keras.utils.set_random_seed(seed)
    model = build_model(tf)
    labels = yt.argmax(1)
    state = {"step": 0, "eval_s": 0.0, "curve": [], "reached": None, "best": 0.0}

    def measure():
        t0 = time.perf_counter()
        probs = model.predict(xt, batch_size=1000, verbose=0)
        acc = float(np.mean(np.asarray(probs).argmax(1) == labels))
        state["eval_s"] += time.perf_counter() - t0
        return acc

    t_train = time.perf_counter()

    def on_batch_end(batch, logs=None):
        state["step"] += 1
        step = state["step"]
        if step % eval_every and step < max_steps:
            return
        acc = measure()
        state["best"] = max(state["best"], acc)
        state["curve"].append((step, acc))
        if state["reached"] is None and acc >= target:
            state["reached"] = (step, time.perf_counter() - t_train - state["eval_s"])
        if (state["reached"] is not None and not full) or step >= max_steps:
            model.stop_training = True

    epochs = -(-max_steps // (len(x) // 100))
    model.fit(x, y, batch_size=100, epochs=epochs, shuffle=True, verbose=0,
              callbacks=[tf.keras.callbacks.LambdaCallback(on_train_batch_end=on_batch_end)])
    train_s = time.perf_counter() - t_train - state["eval_s"]
    reached = state["reached"]
    return {"framework": framework, "version": getattr(tf, "__version__", "?"), "seed": seed,
            "target": target, "reached": reached is not None,
            "steps_to_target": reached[0] if reached else None,
            "seconds_to_target": reached[1] if reached else None,
            "steps_run": state["step"], "training_seconds": train_s,
            "steps_per_second": state["step"] / train_s, "best_accuracy": state["best"],
            "final_accuracy": state["curve"][-1][1], "eval_seconds": state["eval_s"],
            "total_seconds": time.perf_counter() - t_start, "curve": state["curve"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frameworks", default="flowgrad,tensorflow")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", type=float, default=0.993)
    p.add_argument("--max-steps", type=int, default=15000)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--full", action="store_true", help="train all --max-steps")
    p.add_argument("--json", default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        result = worker(args.worker, args.seed, args.target, args.max_steps, args.eval_every,
                        args.full)
        print(MARK + json.dumps(result), flush=True)
        return
    results = []
    for name in args.frameworks.split(","):
        module = MODULES[name.strip()]
        try:
            importlib.util.find_spec(module)
        except (ImportError, ValueError):
            print("%s: not installed, skipped" % module, file=sys.stderr)
            continue
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", module, "--seed",
               str(args.seed), "--target", str(args.target), "--max-steps",
               str(args.max_steps), "--eval-every", str(args.eval_every)] + \
            (["--full"] if args.full else [])
        print("running %s ..." % module, file=sys.stderr, flush=True)
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith(MARK)]
        if out.returncode or not lines:
            print("%s failed:\n%s" % (module, out.stderr[-3000:]), file=sys.stderr)
            continue
        results.append(json.loads(lines[-1][len(MARK):]))
    print(table(results, args.target))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def table(results, target) -> str:
    rows = ["| framework | steps to %.1f%% | training time to it | steps/s | best | final "
            "| steps run |" % (100 * target), "|---|---|---|---|---|---|---|"]
    for r in results:
        reach = ("%d" % r["steps_to_target"], "%.1f s" % r["seconds_to_target"]) \
            if r["reached"] else ("not reached", "-")
        rows.append("| %s %s | %s | %s | %.1f | %.2f%% | %.2f%% | %d |" % (
            r["framework"], r["version"], reach[0], reach[1], r["steps_per_second"],
            100 * r["best_accuracy"], 100 * r["final_accuracy"], r["steps_run"]))
    return "\n".join(rows)


if __name__ == "__main__":
    main()
