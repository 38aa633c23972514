"""Optimization passes on a plan's private IR (the user's graph is never modified).

The IR is a list of steps ``(kernel, input value ids, output value ids, op)`` plus known
constants. Passes: constant folding (a step whose inputs are all constants is computed once
at compile time) and common-subexpression elimination (two steps with the same kernel type,
attributes and inputs compute the same values; stateful steps are never merged).
"""
from __future__ import annotations

import numpy as np


class Step:
    __slots__ = ("kernel", "ins", "outs", "op", "inplace")

    def __init__(self, kernel, ins, outs, op):
        self.kernel = kernel
        self.ins = ins
        self.outs = outs
        self.op = op
        self.inplace = None   # index of the input whose buffer receives the result


class IR:
    def __init__(self):
        self.steps = []
        self.consts = {}    # value id -> array
        self.feeds = []     # value ids, in feed order
        self.fetches = []   # value ids, in fetch order
        self.frees = []     # per step: value ids whose last use is that step


def build_ir(ops, feeds, fetches) -> IR:
    ir = IR()
    vid = {}

    def value(t):
        k = id(t)
        if k not in vid:
            vid[k] = len(vid)
        return vid[k]

    ir.feeds = [value(t) for t in feeds]
    fed = set(ir.feeds)
    for op in ops:
        if op.type == "Const" and id(op.outputs[0]) not in vid:
            ir.consts[value(op.outputs[0])] = op.kernel.value
            continue
        outs = [value(o) for o in op.outputs]
        if any(o in fed for o in outs):
            continue  # a fed tensor's producer does not run
        ir.steps.append(Step(op.kernel, [value(t) for t in op.inputs], outs, op))
    ir.fetches = [value(t) for t in fetches]
    compute_frees(ir)
    return ir


def compute_frees(ir: IR) -> None:
    last = {}
    for i, s in enumerate(ir.steps):
        for v in s.ins:
            last[v] = i
        for v in s.outs:  # outputs nobody reads die right away
            last.setdefault(v, i)
    keep = set(ir.fetches) | set(ir.consts)
    ir.frees = [[] for _ in ir.steps]
    for v, i in last.items():
        if v not in keep:
            ir.frees[i].append(v)


def fold_constants(ir: IR, max_elements: int = 1 << 22) -> None:
    """Computes steps whose inputs are all constants at compile time."""
    kept = []
    for s in ir.steps:
        k = s.kernel
        if k.stateful or not s.outs or not all(v in ir.consts for v in s.ins) or \
                k.name in ("Placeholder", "PlaceholderWithDefault"):
            kept.append(s)
            continue
        try:
            with np.errstate(all="ignore"):
                r = k.forward(*[ir.consts[v] for v in s.ins])
        except Exception:  # noqa: BLE001 - leave it to run time, which reports it properly
            kept.append(s)
            continue
        rs = (r,) if len(s.outs) == 1 else tuple(r)
        rs = [np.asarray(x) for x in rs]
        if sum(x.size for x in rs) > max_elements:
            kept.append(s)
            continue
        for v, x in zip(s.outs, rs):
            x.setflags(write=False)  # shared across runs: kernels must not write into it
            ir.consts[v] = x
    ir.steps = kept
    compute_frees(ir)


def _attr_key(value):
    if isinstance(value, np.ndarray):
        return ("nd", value.dtype.str, value.shape, value.tobytes()) if value.size <= 64 \
            else ("id", id(value))
    if isinstance(value, (list, tuple)):
        return tuple(_attr_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _attr_key(v)) for k, v in value.items()))
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return value


def eliminate_common_subexpressions(ir: IR) -> None:
    """Merges steps that compute the same thing from the same inputs."""
    seen = {}
    rename = {}
    canonical = {}
    for v, x in ir.consts.items():  # equal small constants are one value
        if x.size <= 64:
            rename[v] = canonical.setdefault((x.dtype.str, x.shape, x.tobytes()), v)
    kept = []
    for s in ir.steps:
        s.ins = [rename.get(v, v) for v in s.ins]
        if s.kernel.stateful or not s.outs:
            kept.append(s)
            continue
        try:
            key = (type(s.kernel), _attr_key(vars(s.kernel)), tuple(s.ins))
            hash(key)
        except TypeError:
            kept.append(s)
            continue
        prev = seen.get(key)
        if prev is None:
            seen[key] = s
            kept.append(s)
            continue
        for a, b in zip(s.outs, prev.outs):
            rename[a] = b
    ir.steps = kept
    ir.fetches = [rename.get(v, v) for v in ir.fetches]
    compute_frees(ir)


_SHAPE_ALIASES = ("SumToShape", "BroadcastLike", "ReshapeLike")


def simplify_static_shapes(ir: IR) -> None:
    """Uses static shapes: shape-only ops become constants, no-op reshapes disappear.

    ``FillLike``/``Shape``/``Size`` of a fully known shape are constants; the gradient
    helpers ``SumToShape``/``BroadcastLike``/``ReshapeLike`` between equal known shapes are
    the identity. (Most gradient bookkeeping of a traced training step vanishes here.)
    """
    rename = {}
    kept = []
    for s in ir.steps:
        s.ins = [rename.get(v, v) for v in s.ins]
        name = s.kernel.name
        ins = s.op.inputs
        if name in _SHAPE_ALIASES:
            a, b = ins[0].shape, ins[1].shape
            if a.is_fully_defined() and b.is_fully_defined() and tuple(a) == tuple(b):
                rename[s.outs[0]] = s.ins[0]
                continue
        elif name in ("FillLike", "Shape", "Size") and ins[0].shape.is_fully_defined():
            ref = np.empty(tuple(ins[0].shape), dtype=ins[0].dtype.np) if \
                ins[0].shape.num_elements() <= (1 << 22) else None
            if ref is not None:
                value = np.asarray(s.kernel.forward(ref))
                value.setflags(write=False)
                ir.consts[s.outs[0]] = value
                continue
        kept.append(s)
    ir.steps = kept
    ir.fetches = [rename.get(v, v) for v in ir.fetches]
    compute_frees(ir)


def forward_variable_reads(ir: IR) -> None:
    """Reads of a variable with no write to it in between return the same value: keep one."""
    last_read = {}   # id(var) -> output value id of the live read
    rename = {}
    kept = []
    for s in ir.steps:
        s.ins = [rename.get(v, v) for v in s.ins]
        var = getattr(s.kernel, "var", None)
        if var is not None:
            if s.kernel.name == "ReadVariableOp":
                prev = last_read.get(id(var))
                if prev is not None:
                    rename[s.outs[0]] = prev
                    continue
                last_read[id(var)] = s.outs[0]
            else:  # a write: later reads must see the new value
                last_read.pop(id(var), None)
        elif s.kernel.stateful and s.kernel.name not in ("NoOp",):
            last_read.clear()  # an unknown stateful op may write any variable
        kept.append(s)
    ir.steps = kept
    ir.fetches = [rename.get(v, v) for v in ir.fetches]
    compute_frees(ir)


# Kernels whose output is always a newly allocated array, owned by the plan (never a view of
# an input, a constant or a variable's stored value).
FRESH_OUTPUT = frozenset((
    "AddV2", "Sub", "Mul", "RealDiv", "Neg", "Square", "Sqrt", "Exp", "Log", "Tanh",
    "Maximum", "Minimum", "Relu", "ReluGrad", "MatMul", "Conv2D", "Conv2DBackpropInput",
    "Conv2DBackpropFilter", "MaxPool", "MaxPoolGrad", "AvgPool", "AvgPoolGrad", "Softmax",
    "LogSoftmax", "FusedConv2D"))

# Elementwise kernels that can write their result into an input buffer: f(out, *inputs).
INPLACE = {
    "AddV2": lambda out, a, b: np.add(a, b, out=out),
    "Sub": lambda out, a, b: np.subtract(a, b, out=out),
    "Mul": lambda out, a, b: np.multiply(a, b, out=out),
    "Maximum": lambda out, a, b: np.maximum(a, b, out=out),
    "Minimum": lambda out, a, b: np.minimum(a, b, out=out),
    "Neg": lambda out, a: np.negative(a, out=out),
    "Square": lambda out, a: np.square(a, out=out),
    "Tanh": lambda out, a: np.tanh(a, out=out),
    "Relu": lambda out, a: np.maximum(a, 0, out=out),
    "ReluGrad": lambda out, dy, y: np.multiply(dy, y > 0, out=out),  # mask made before writing
}


def plan_inplace(ir: IR) -> None:
    """Marks elementwise steps that may overwrite a dying input instead of allocating.

    A step computes into input ``p`` when that input is a fresh array made by an earlier
    step of this plan, this step is its only consumer (so no view of it can exist), it is
    not fetched, and static shapes and dtypes say the result has exactly its shape and
    dtype. Sets ``step.inplace = p`` (``None`` otherwise).
    """
    uses = {}
    producer = {}
    for s in ir.steps:
        for v in s.ins:
            uses[v] = uses.get(v, 0) + 1
        for v in s.outs:
            producer[v] = s.kernel.name
    fetched = set(ir.fetches)
    for s in ir.steps:
        s.inplace = None
        if s.kernel.name not in INPLACE or len(s.outs) != 1:
            continue
        out = s.op.outputs[0]
        if not out.shape.is_fully_defined() or not len(out.shape):
            continue  # 0-d results are NumPy scalars, which cannot be written into
        for p, (v, t) in enumerate(zip(s.ins, s.op.inputs)):
            if producer.get(v) in FRESH_OUTPUT and uses.get(v) == 1 and v not in fetched \
                    and t.dtype is out.dtype and tuple(t.shape) == tuple(out.shape):
                s.inplace = p
                break


# (kernel, input position) pairs that read only the shape of that input.
SHAPE_ONLY = frozenset((("SumToShape", 1), ("BroadcastLike", 1), ("ReshapeLike", 1),
                        ("ExpandReduced", 1), ("Shape", 0)))


def fuse_bias_relu(ir: IR) -> None:
    """``Conv2D -> AddV2(bias) [-> Relu]`` becomes one ``FusedConv2D`` step, and ``MatMul ->
    AddV2(bias) [-> Relu]`` one ``FusedMatMul`` step.

    Fused when the product's and the sum's results are not fetched and have no other
    reader of their values, the bias is ``[channels]`` of the same dtype, and the sum has
    the product's static shape. Readers of only their shapes (the gradients of a
    broadcasting add when the batch size is unknown) read the fused result instead, which
    has the same shape; they must come later. The fused step takes the place of the last
    step it replaces (the bias may be read after the product ran). Its result has the
    same bits (conv_kernels, reduction.FusedMatMul).
    """
    from ..ops.conv import Conv2D, FusedConv2D
    from ..ops.reduction import FusedMatMul, MatMul

    def fused_kernel(kernel, relu):
        if type(kernel) is Conv2D:
            return FusedConv2D(kernel.strides, kernel.padding, relu)
        if type(kernel) is MatMul:
            return FusedMatMul(kernel.transpose_a, kernel.transpose_b, relu)
        return None
    producer, readers = {}, {}
    for i, s in enumerate(ir.steps):
        for p, v in enumerate(s.ins):
            readers.setdefault(v, []).append((i, p))
        for v in s.outs:
            producer[v] = i
    fetched = set(ir.fetches)

    def split_readers(v):
        """(the one step reading ``v``'s value or None, the readers of its shape)."""
        shape_only = [(i, p) for i, p in readers.get(v, ())
                      if (ir.steps[i].kernel.name, p) in SHAPE_ONLY]
        value = [i for i, p in readers.get(v, ()) if (i, p) not in shape_only]
        return (value[0] if len(value) == 1 and v not in fetched else None), shape_only

    fused, gone = {}, set()
    for i, s in enumerate(ir.steps):
        if s.kernel.name != "AddV2":
            continue
        for k in (0, 1):
            j = producer.get(s.ins[k])
            reader, shape_readers = split_readers(s.ins[k])
            if j is None or fused_kernel(ir.steps[j].kernel, False) is None or reader != i:
                continue
            conv_out, bias = ir.steps[j].op.outputs[0], s.op.inputs[1 - k]
            dims = _dims(conv_out)
            if dims is None or dims[-1] is None or bias.dtype is not conv_out.dtype \
                    or _dims(bias) != dims[-1:] or _dims(s.op.outputs[0]) != dims:
                continue
            last, relu = i, False
            r, sum_shape_readers = split_readers(s.outs[0])
            if r is not None and ir.steps[r].kernel.name == "Relu" \
                    and all(x > r for x, _ in sum_shape_readers):
                last, relu = r, True
                shape_readers = shape_readers + sum_shape_readers
            if any(x < last for x, _ in shape_readers):
                continue
            out = ir.steps[last].outs
            for x, p in shape_readers:
                ir.steps[x].ins[p] = out[0]
            prod = ir.steps[j]
            fused[last] = Step(fused_kernel(prod.kernel, relu),
                               [prod.ins[0], prod.ins[1], s.ins[1 - k]], out, ir.steps[last].op)
            gone.update((j, i, last))
            break
    if fused:
        ir.steps = [fused.get(i, s) for i, s in enumerate(ir.steps)
                    if i in fused or i not in gone]
        compute_frees(ir)


def fuse_optimizer_updates(ir: IR) -> None:
    """Consecutive ``ApplyAdam`` steps of distinct variables with one ``alpha`` input and the
    same hyperparameters become one ``ApplyAdamGroup`` step (the optimizer's update of all
    variables in one kernel), in the place of the last of them. Nothing runs between them,
    so no read sees a different order of writes; the bits are those of the separate steps.
    """
    from ..ops.training import ApplyAdamGroup

    def key(s):
        k = s.kernel
        if k.name != "ApplyAdam" or len(s.outs) != 1:
            return None
        return (s.ins[1], k.var.dtype, float(k.one_minus_b1), float(k.one_minus_b2),
                float(k.epsilon))
    steps, run = [], []

    def close():
        if len(run) > 1:
            group = Step(ApplyAdamGroup([s.kernel for s in run]), [run[0].ins[1]] +
                         [s.ins[0] for s in run], [s.outs[0] for s in run], run[-1].op)
            steps.append(group)
        else:
            steps.extend(run)
        run.clear()
    for s in ir.steps:
        k = key(s)
        if run and (k is None or k != key(run[0]) or any(
                {id(s.kernel.var), id(s.kernel.m), id(s.kernel.v)} &
                {id(r.kernel.var), id(r.kernel.m), id(r.kernel.v)} for r in run)):
            close()
        if k is None:
            steps.append(s)
        else:
            run.append(s)
    close()
    if len(steps) != len(ir.steps):
        ir.steps = steps
        compute_frees(ir)


def _dims(t):
    """Static dims of ``t`` as a list (None entries for unknown ones); None if rank unknown."""
    return t.shape.as_list() if t.shape.rank is not None else None


def strength_reduce(ir: IR) -> None:
    """``x ** 1`` is ``x`` and ``x ** 2`` is ``square(x)`` when the exponent is a constant
    scalar (the gradient of ``x ** 2`` is ``2 * x ** 1``)."""
    from ..ops.elementwise import Square
    rename = {}
    kept = []
    for s in ir.steps:
        s.ins = [rename.get(v, v) for v in s.ins]
        if s.kernel.name == "Pow" and s.ins[1] in ir.consts:
            c = ir.consts[s.ins[1]]
            x = s.op.inputs[0]
            same = x.shape.is_fully_defined() and tuple(x.shape) == tuple(s.op.outputs[0].shape)
            if c.ndim == 0 and same and x.dtype.is_floating:
                if c == 1:
                    rename[s.outs[0]] = s.ins[0]
                    continue
                if c == 2:
                    s.kernel = Square()
                    s.ins = s.ins[:1]
        kept.append(s)
    ir.steps = kept
    ir.fetches = [rename.get(v, v) for v in ir.fetches]
    compute_frees(ir)


def eliminate_dead_code(ir: IR) -> None:
    """Drops stateless steps whose outputs nobody reads (left over after other passes)."""
    live = set(ir.fetches)
    kept = []
    for s in reversed(ir.steps):
        if s.kernel.stateful or any(v in live for v in s.outs):
            kept.append(s)
            live.update(s.ins)
    ir.steps = kept[::-1]
    compute_frees(ir)
