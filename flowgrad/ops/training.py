"""Fused optimizer updates (TensorFlow's ``training_ops``): one kernel per variable.

The update rule stays written once, in ``flowgrad.optimizers``; for Adam the rule's
elementwise part is this one primitive instead of a dozen ops, which saves most of a
training step's temporaries. Writes go through the store, so a failing step changes
nothing. The kernel follows TensorFlow's operation order (bit-identical to the unfused
rule) and flushes denormal moments to zero every 32 steps, as TensorFlow's
flush-to-zero mode does continuously (denormals make NumPy's kernels several times slower).
"""
from __future__ import annotations

import sys

import numpy as np

from ..tensor import TensorShape
from . import native
from .base import Op
from .state import _stores

_FLUSH_EVERY = 32
_SPARE_SIZE = 4096  # elements from which ApplyAdamGroup writes into the values it replaced
_SPARE_REFS = 3     # references of a free spare: its tuple, the generator's name, the call


def _flush_denormals(x):
    tiny = np.finfo(x.dtype).tiny
    small = np.abs(x) < tiny
    if small.any():
        x[small] = 0


class ApplyAdam(Op):
    """``m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); var -= m alpha / (sqrt(v) + eps)``.

    Inputs: the gradient and ``alpha = lr sqrt(1 - b2^t) / (1 - b1^t)``; outputs the new
    value of the variable.
    """

    name = "ApplyAdam"
    stateful = True
    differentiable = False

    def __init__(self, var, m, v, beta_1, beta_2, epsilon):
        self.var, self.m, self.v = var, m, v
        dt = var.dtype.np
        self.one_minus_b1 = np.asarray(1, dt) - np.asarray(beta_1, dt)
        self.one_minus_b2 = np.asarray(1, dt) - np.asarray(beta_2, dt)
        self.epsilon = np.asarray(epsilon, dt)
        self._calls = 0

    def forward(self, grad, alpha):
        store = _stores[-1]
        var, m, v = store.read(self.var), store.read(self.m), store.read(self.v)
        self._calls += 1
        flush = self._calls % _FLUSH_EVERY == 0
        if native.usable(grad, m, v, var) and grad.shape == var.shape:
            new_m, new_v, new_var = native.adam_update(
                grad, m, v, var, self.one_minus_b1, self.one_minus_b2,
                alpha.astype(var.dtype, copy=False), self.epsilon, flush)
        else:
            new_m, new_v, new_var = self._numpy(grad, alpha, var, m, v, flush)
        store.write(self.m, new_m)
        store.write(self.v, new_v)
        store.write(self.var, new_var)
        return new_var

    def _numpy(self, grad, alpha, var, m, v, flush):
        new_m = grad - m
        new_m *= self.one_minus_b1
        new_m += m
        new_v = np.square(grad)
        new_v -= v
        new_v *= self.one_minus_b2
        new_v += v
        if flush:
            _flush_denormals(new_m)
            _flush_denormals(new_v)
        denom = np.sqrt(new_v)
        denom += self.epsilon
        step = new_m * alpha.astype(var.dtype, copy=False)
        step /= denom
        return new_m, new_v, var - step

    def infer(self, grad, alpha):
        return [(TensorShape(self.var.shape), self.var.dtype)]

    def attrs(self):
        return {"var": self.var.name}


class ApplyAdamGroup(Op):
    """Several ``ApplyAdam`` steps with one ``alpha`` and the same hyperparameters as one
    kernel: inputs ``alpha, grad_1, ..., grad_k``, outputs the k new variable values.

    Made only by the executor (``passes.fuse_optimizer_updates``): one compiled call
    updates every variable (``native.adam_update_group``), splitting all their elements
    over the cores together, with the bits of the separate steps. Each member keeps its own
    step count, so denormal flushing happens on the same steps as without the group.
    """

    name = "ApplyAdamGroup"
    stateful = True
    differentiable = False

    def __init__(self, kernels):
        self.kernels = list(kernels)
        self.num_outputs = len(self.kernels)
        self._spares = [None] * len(self.kernels)

    def forward(self, alpha, *grads):
        first = self.kernels[0]
        store = _stores[-1]
        states = [(k, store.read(k.var), store.read(k.m), store.read(k.v))
                  for k in self.kernels]
        if not all(native.usable(g, m, v, var) and g.shape == var.shape
                   for g, (_, var, m, v) in zip(grads, states)):
            return tuple(k.forward(g, alpha) for k, g in zip(self.kernels, grads))
        items = []
        for i, (g, (k, var, m, v)) in enumerate(zip(grads, states)):
            k._calls += 1
            items.append((g, m, v, var, k._calls % _FLUSH_EVERY == 0, self._reusable(i)))
        new = native.adam_update_group(items, first.one_minus_b1, first.one_minus_b2,
                                       alpha.astype(np.float32, copy=False), first.epsilon)
        for i, (k, (new_m, new_v, new_var)) in enumerate(zip(self.kernels, new)):
            store.write(k.m, new_m)
            store.write(k.v, new_v)
            store.write(k.var, new_var)
            # the values they replace become the next step's outputs, if nobody keeps them
            self._spares[i] = states[i][1:] if states[i][1].size >= _SPARE_SIZE else None
        return tuple(r[2] for r in new)

    def _reusable(self, i):
        """The arrays of the values replaced a step ago, when only this kernel still holds
        them (a user's array, slice or view of one holds a reference): written again, not
        allocated, which saved the dense network's update ~40 of its ~100 us (fresh memory
        is cold in the caches). A failed step never made them visible to anyone."""
        spare = self._spares[i]
        self._spares[i] = None
        if spare is None or any(sys.getrefcount(a) != _SPARE_REFS or a.base is not None
                                or not a.flags.c_contiguous for a in spare):
            return None
        for a in spare:
            a.flags.writeable = True
        return spare

    def infer(self, alpha, *grads):
        return [(TensorShape(k.var.shape), k.var.dtype) for k in self.kernels]

    def attrs(self):
        return {"vars": [k.var.name for k in self.kernels]}
