"""Shared fixtures: a fresh default graph and eager mode for every test."""
import os
from pathlib import Path

import pytest

from flowgrad.context import state

_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if "FLOWGRAD_DATASETS" not in os.environ and _DATASETS.is_dir():
    os.environ["FLOWGRAD_DATASETS"] = str(_DATASETS)


def pytest_addoption(parser):
    parser.addoption("--flowgrad-passes-off", default="",
                     help="comma-separated executor passes to switch off (or 'all'), to check "
                          "that results do not depend on graph optimizations")
    parser.addoption("--flowgrad-native-off", action="store_true",
                     help="run every convolution on the NumPy kernels, not the compiled ones")


def pytest_configure(config):
    from flowgrad.graph import executor
    off = config.getoption("--flowgrad-passes-off")
    names = list(executor.OPTIONS) if off == "all" else [n for n in off.split(",") if n]
    for name in names:
        if name not in executor.OPTIONS:
            raise pytest.UsageError("unknown pass %r; known: %s" % (name,
                                                                    sorted(executor.OPTIONS)))
        executor.OPTIONS[name] = False
    if config.getoption("--flowgrad-native-off"):
        from flowgrad.ops import native
        native._Switch.on = False


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts eager, with a new default graph and no seeds or tapes."""
    from flowgrad.context import enable_eager_execution, reset_default_graph
    from flowgrad.ops.random_ops import set_seed
    enable_eager_execution()
    state.v1_eager = False
    state.tapes = []
    state.name_stack = []
    reset_default_graph()
    set_seed(None)  # no global seed, fresh eager random streams
    yield
    enable_eager_execution()
    state.v1_eager = False
    type(state).functions_eagerly = False  # config.run_functions_eagerly is process-wide
    state.tapes = []
    reset_default_graph()

