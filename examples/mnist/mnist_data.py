"""MNIST for the talk's programs ("TensorFlow and deep learning, without a PhD").

Plays the part of the talk's ``mnist_data.read_data_sets(..., one_hot=True, reshape=False)``:
images as float32 ``[N, 28, 28, 1]`` in [0, 1], labels one-hot ``[N, 10]``, and mini-batches
of 100 from ``tf.data`` (reshuffled every epoch). The files come from
``flowgrad.keras.datasets.mnist`` (set ``FLOWGRAD_DATASETS`` to a directory holding
``mnist/``).
"""
from __future__ import annotations

import argparse
import functools
import math
import time

import numpy as np

import flowgrad as tf

TRAIN_SIZE = 60000


@functools.lru_cache(maxsize=1)
def load():
    """``(train_images, train_labels), (test_images, test_labels)``, one-hot labels (read
    once per process; the arrays are shared, do not modify them)."""
    (x, y), (xt, yt) = tf.keras.datasets.mnist.load_data()

    def images(a):
        return (a.astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)

    def one_hot(labels):
        return np.eye(10, dtype=np.float32)[labels]

    return (images(x), one_hot(y)), (images(xt), one_hot(yt))


def train_batches(images, labels, batch_size: int = 100, seed: int = 0):
    """Endless mini-batches as NumPy arrays: each epoch a new order, every image once."""
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    ds = ds.shuffle(len(images), seed=seed).repeat().batch(batch_size)
    return ds.as_numpy_iterator()


def talk_learning_rate(i: int) -> float:
    """The talk's decay: from 0.003 towards 0.0001, exponentially with time constant 2000."""
    return 0.0001 + (0.003 - 0.0001) * math.exp(-i / 2000)


def evaluate(sess, accuracy, X, Y_, images, labels, feed=None, chunk: int = 1000) -> float:
    """Accuracy over the whole set, run in chunks to bound memory (conv activations)."""
    correct = 0.0
    for s in range(0, len(images), chunk):
        fd = {X: images[s:s + chunk], Y_: labels[s:s + chunk]}
        fd.update(feed or {})
        correct += float(sess.run(accuracy, fd)) * len(images[s:s + chunk])
    return correct / len(images)


def count_parameters(variables) -> int:
    return int(sum(np.prod(v.shape.as_list()) for v in variables))


def arguments(description: str, default_iterations: int, argv=None):
    """``--iterations`` (or ``--epochs`` of 600 batches of 100), ``--seed``, ``--log-every``."""
    p = argparse.ArgumentParser(description=description)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--iterations", type=int, default=None,
                       help="training steps of 100 images (default %d, as in the talk)"
                       % default_iterations)
    group.add_argument("--epochs", type=float, default=None,
                       help="passes over the 60,000 training images (600 steps each)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=500, help="0 for no progress lines")
    p.add_argument("--test-every", type=int, default=0,
                   help="also measure test accuracy every N steps and report the best, as the "
                   "talk's charts did (its 'max test accuracy'); 0: only at the end")
    args = p.parse_args(argv)
    if args.epochs is not None:
        args.iterations = int(round(args.epochs * TRAIN_SIZE / 100))
    elif args.iterations is None:
        args.iterations = default_iterations
    return args


def fit_and_report(name: str, model, args, train_x, train_y, test_x, test_y) -> dict:
    """Keras training on an endless reshuffled stream; ``iterations`` split into epochs of at
    most 600 steps (one pass over the data) so Keras reports progress per epoch."""
    epochs, steps = epoch_split(args.iterations)
    ds = tf.data.Dataset.from_tensor_slices((train_x, train_y))
    ds = ds.shuffle(len(train_x), seed=args.seed).repeat().batch(100).prefetch(tf.data.AUTOTUNE)

    def test_accuracy():
        return float(model.evaluate(test_x, test_y, batch_size=1000, verbose=0)[1])

    monitor = TestMonitor(args.test_every, test_accuracy)
    step = [0]

    def batch_end(batch, logs):
        monitor.step_done(step[0])
        step[0] += 1

    callbacks = [tf.keras.callbacks.LambdaCallback(on_train_batch_end=batch_end)]
    with Timer() as timer:
        model.fit(ds, epochs=epochs, steps_per_epoch=steps, callbacks=callbacks,
                  verbose=2 if args.log_every else 0)
        monitor.finish(epochs * steps)
    return report(name, monitor, model.count_params(), epochs * steps, timer.seconds, args.seed,
                  len(test_x))


def epoch_split(iterations: int, most: int = 600, fewest: int = 100) -> tuple[int, int]:
    """``(epochs, steps_per_epoch)`` for Keras's ``fit``: exactly ``iterations`` steps when they
    split into equal epochs of ``fewest``..``most`` steps (10,000 -> 20 x 500), else epochs of
    about ``most`` steps with up to ``epochs - 1`` steps more than asked.

    >>> epoch_split(10000), epoch_split(15000), epoch_split(300), epoch_split(10007)
    ((20, 500), (25, 600), (1, 300), (17, 589))
    """
    if iterations <= most:
        return 1, max(1, iterations)
    for steps in range(most, fewest - 1, -1):
        if iterations % steps == 0:
            return iterations // steps, steps
    epochs = math.ceil(iterations / most)
    return epochs, math.ceil(iterations / epochs)


class TestMonitor:
    """Test accuracy during training, as the talk's charts showed it: every ``every`` steps
    and at the end. ``final`` is the accuracy of the trained model; ``best`` the maximum seen
    (what the talk's programs print as "max test accuracy")."""

    def __init__(self, every: int, evaluate):
        self.every, self.evaluate = every, evaluate
        self.best = self.final = None
        self._last = (None, None)

    def step_done(self, i: int):
        if self.every and (i + 1) % self.every == 0:
            self._measure(i + 1)

    def finish(self, steps: int) -> float:
        self.final = self._last[1] if self._last[0] == steps else self._measure(steps)
        return self.final

    def _measure(self, steps: int) -> float:
        accuracy = self.evaluate()
        self.best = accuracy if self.best is None else max(self.best, accuracy)
        self._last = (steps, accuracy)
        if self.every:
            print("%d: test accuracy: %.4f" % (steps, accuracy), flush=True)
        return accuracy


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def report(name: str, monitor: TestMonitor, parameters: int, iterations: int, seconds: float,
           seed: int, test_images: int) -> dict:
    best = " (best during training %.4f)" % monitor.best if monitor.every else ""
    print("%s: test accuracy %.4f%s on %d test images after %d iterations, %d parameters, "
          "%.1f s, seed %d" % (name, monitor.final, best, test_images, iterations, parameters,
                               seconds, seed))
    return {"model": name, "accuracy": monitor.final, "best_accuracy": monitor.best,
            "parameters": parameters, "iterations": iterations, "seconds": seconds,
            "seed": seed, "test_images": test_images}
