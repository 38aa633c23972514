"""Op-table cases for the core graph primitives: constants, placeholders, custom gradients."""
import numpy as np

import flowgrad as tf
from flowgrad.graph.session import placeholder_with_default
from op_table import OpCase


@tf.custom_gradient
def _cube(x):
    def grad(dy):
        return dy * 3.0 * x * x  # written in flowgrad ops, so it differentiates again
    return x * x * x, grad


OP_CASES = [
    OpCase("Const", lambda: tf.constant([[1.5, -2.0], [0.0, 3.0]]),
           lambda: np.array([[1.5, -2.0], [0.0, 3.0]], np.float32), shapes=()),
    OpCase("PlaceholderWithDefault", lambda x: placeholder_with_default(x, x.shape),
           lambda x: x, grad2=True),
    OpCase("CustomGradient", _cube, lambda x: x ** 3, grad2=True),
]

EXEMPT = {
    "Placeholder": "every Session (placeholders) run of test_modes_agree feeds the case's "
                   "inputs through placeholders; errors in tests/ops/test_array_ops.py",
    "ReadVariableOp": "stateful: test_variable_ops_agree_across_modes in "
                      "tests/ops/test_primitives.py",
    "AssignVariableOp": "stateful: test_variable_ops_agree_across_modes in "
                        "tests/ops/test_primitives.py",
    "NoOp": "no inputs or outputs: test_variable_ops_agree_across_modes runs tf.group",
    "ApplyAdam": "stateful fused optimizer update: golden Adam steps (Keras and TF1, worked "
                 "by hand) in tests/test_optimizers.py and the fused-vs-unfused check in "
                 "tests/test_training_ops.py",
    "ApplyAdamGroup": "made only by the executor's update-fusion pass: bit-for-bit against "
                      "separate ApplyAdam steps in tests/test_training_ops.py and trained "
                      "networks with the pass on and off in tests/test_executor_passes.py",
}
