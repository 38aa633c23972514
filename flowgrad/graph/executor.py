"""The executor: compiles a graph's fetch set into a plan and runs it.

Compiling a plan:
1. prune to the operations the fetches need (plus every stateful op for ``@function``),
   kept in creation order (program order, so stateful ops run in the order written);
2. optimization passes on a private copy (the user's graph is never changed): static-shape
   simplification, variable-read forwarding, constant folding, common-subexpression
   elimination, strength reduction (``x ** 2`` -> ``square``), fusion of convolution or
   matrix product + bias (+ Relu) into one kernel, of the optimizer's Adam updates of all
   variables into one kernel, and dead-code elimination (``flowgrad.graph.passes``);
3. buffer reuse: an elementwise step whose input dies there writes into that input's
   buffer instead of allocating (``passes.plan_inplace``);
4. code generation: the steps become one Python function with a local variable per value,
   deleted right after its last use (memory planning), so running a plan costs one call
   per kernel and nothing else.

Every run goes through a transactional store: a run that fails changes no variable.
``OPTIONS`` switches passes off (for tests comparing optimized and plain plans).
"""
from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError, OpError
from ..ops import parallel as _parallel
from ..ops import state as _state
from . import passes as _passes

OPTIONS = {"fold_constants": True, "static_shapes": True, "forward_reads": True, "cse": True,
           "strength_reduce": True, "fuse": True, "fuse_updates": True, "dead_code": True,
           "inplace": True, "codegen": True}


class TransactionStore:
    """Buffers variable writes of one run; ``commit`` applies them all at once."""

    __slots__ = ("base", "pending", "vars")

    def __init__(self, base):
        self.base = base
        self.pending = {}
        self.vars = {}

    def read(self, var):
        v = self.pending.get(id(var))
        return self.base.read(var) if v is None else v

    def write(self, var, value):
        self.pending[id(var)] = value
        self.vars[id(var)] = var

    @property
    def generators(self):
        return self.base.generators

    def commit(self):
        for k, v in self.pending.items():
            self.base.write(self.vars[k], v)


_POOL_KERNELS = frozenset(["Conv2D", "FusedConv2D", "Conv2DBackpropInput",
                           "Conv2DBackpropFilter"])
_GEMM_KERNELS = frozenset(["MatMul", "FusedMatMul"])


def prune(graph, fetches, targets=(), feeds=(), keep_stateful=False):
    """The operations needed for ``fetches`` and ``targets``, in creation order."""
    fed = {id(t) for t in feeds}
    needed = {}
    stack = [t._op for t in fetches if id(t) not in fed] + list(targets)
    if keep_stateful:
        stack += [op for op in graph._ops if op.kernel.stateful]
    while stack:
        op = stack.pop()
        if op._id in needed:
            continue
        needed[op._id] = op
        stack.extend(t._op for t in op.inputs if id(t) not in fed)
        stack.extend(op.control_inputs)
    return [needed[i] for i in sorted(needed)]


class Plan:
    """A compiled fetch set: runs the needed ops of ``graph`` given values for ``feeds``.

    Args:
        graph: the graph.
        fetches: tensors whose values are returned.
        targets: operations to run for their effects.
        feeds: tensors whose values are supplied to ``run`` (in this order).
        keep_stateful: also run every stateful op of the graph (``@function`` semantics).
    """

    def __init__(self, graph, fetches, targets=(), feeds=(), keep_stateful=False):
        self.ops = prune(graph, fetches, targets, feeds, keep_stateful)
        ir = _passes.build_ir(self.ops, feeds, fetches)
        if OPTIONS["static_shapes"]:
            _passes.simplify_static_shapes(ir)
        if OPTIONS["forward_reads"]:
            _passes.forward_variable_reads(ir)
        if OPTIONS["fold_constants"]:
            _passes.fold_constants(ir)
        if OPTIONS["cse"]:
            _passes.eliminate_common_subexpressions(ir)
        if OPTIONS["strength_reduce"]:
            _passes.strength_reduce(ir)
        if OPTIONS["fuse"]:
            _passes.fuse_bias_relu(ir)
        if OPTIONS["fuse_updates"]:
            _passes.fuse_optimizer_updates(ir)
        if OPTIONS["dead_code"]:
            _passes.eliminate_dead_code(ir)
        if OPTIONS["inplace"] and OPTIONS["codegen"]:
            _passes.plan_inplace(ir)
        self.ir = ir
        self._run = _codegen(ir) if OPTIONS["codegen"] else _interpreter(ir)
        # Convolutions run batch parts on every core; an idle OpenBLAS worker would spin on
        # the core they need, so BLAS stays at one thread for the run (ops/parallel.py).
        # Matrix products then run their rows on flowgrad's helpers, in C when compiled;
        # plans with only products hold BLAS when that compiled path is there.
        gemm = _parallel.has_compiled_gemm()
        self._hold_blas = any(step.kernel.name in _POOL_KERNELS or
                              (gemm and step.kernel.name in _GEMM_KERNELS) for step in ir.steps)

    def run(self, feed_values, store):
        """Runs the plan with ``store`` for variables; returns the fetched arrays."""
        txn = TransactionStore(store)
        _state._stores.append(txn)
        hold = self._hold_blas
        if hold:
            _parallel.hold_blas()
        try:
            out = self._run(feed_values)
        finally:
            _state._stores.pop()
            if hold:
                _parallel.release_blas()
        txn.commit()
        return [v if type(v) is np.ndarray else np.asarray(v) for v in out]


def _fail(ir, index, values, exc):
    """Re-raises a kernel's exception naming the graph node and its inputs."""
    step = ir.steps[index]
    op = step.op
    if isinstance(exc, OpError):
        raise type(exc)(None, op, "%s (node '%s')" % (exc.message, op.name)) from None
    if isinstance(exc, (ValueError, IndexError, TypeError, ArithmeticError)):
        args = [values(v) for v in step.ins]
        raise InvalidArgumentError(None, op, "%s node '%s': %s (inputs: %s)" % (
            op.type, op.name, exc, _describe(args))) from None
    raise exc


def _codegen(ir):
    """One Python function for the whole plan: locals for values, ``del`` after last use."""
    names = {}
    env = {"_np": np}
    for vid, value in ir.consts.items():
        names[vid] = "c%d" % vid
        env["c%d" % vid] = value
    lines = ["def run(feeds):"]
    feed_names = ["v%d" % v for v in ir.feeds]
    for v in ir.feeds:
        names[v] = "v%d" % v
    if feed_names:
        lines.append("    %s, = feeds" % ", ".join(feed_names))
    lines.append("    i = -1")
    lines.append("    try:")
    for i, step in enumerate(ir.steps):
        env["k%d" % i] = step.kernel.forward
        for v in step.outs:
            names[v] = "v%d" % v
        args = ", ".join(names[v] for v in step.ins)
        outs = ", ".join(names[v] for v in step.outs)
        lines.append("        i = %d" % i)
        p = step.inplace
        if p is not None:  # overwrite the dying input's buffer (passes.plan_inplace)
            env["k%d" % i] = _passes.INPLACE[step.kernel.name]
            lines.append("        %s = k%d(%s, %s)" % (outs, i, names[step.ins[p]], args))
        elif len(step.outs) == 1:
            lines.append("        %s = k%d(%s)" % (outs, i, args))
        elif step.outs:
            lines.append("        %s, = k%d(%s)" % (outs, i, args))
        else:
            lines.append("        k%d(%s)" % (i, args))
        dead = [names[v] for v in ir.frees[i] if names[v].startswith("v")]
        if dead:
            lines.append("        del %s" % ", ".join(dead))
    if not ir.steps:  # a plan that only passes feeds through
        lines.append("        pass")
    lines.append("    except Exception as e:")
    lines.append("        _l = locals()")
    lines.append("        _fail(_ir, i, lambda v: _l.get('v%d' % v, _consts.get(v)), e)")
    lines.append("    return [%s]" % "".join(names[v] + ", " for v in ir.fetches))
    env.update(_fail=_fail, _ir=ir, _consts=ir.consts)
    source = "\n".join(lines)
    exec(compile(source, "<flowgrad plan>", "exec"), env)  # noqa: S102 - our own codegen
    run = env["run"]
    run.source = source
    return run


def _interpreter(ir):
    """The plain loop (codegen off): same semantics, one list lookup per value."""
    def run(feeds):
        vals = dict(ir.consts)
        for v, x in zip(ir.feeds, feeds):
            vals[v] = x
        for i, step in enumerate(ir.steps):
            try:
                r = step.kernel.forward(*[vals[v] for v in step.ins])
            except Exception as e:  # noqa: BLE001 - re-raised with the node's name
                _fail(ir, i, vals.get, e)
            if len(step.outs) == 1:
                vals[step.outs[0]] = r
            else:
                for v, x in zip(step.outs, r):
                    vals[v] = x
            for v in ir.frees[i]:
                if v not in ir.consts:
                    vals.pop(v, None)
        return [vals[v] for v in ir.fetches]
    return run


def _describe(arrays):
    return ", ".join("%s%s" % (a.dtype, list(a.shape)) if hasattr(a, "shape") else repr(a)
                     for a in arrays)
