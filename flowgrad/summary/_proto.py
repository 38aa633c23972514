"""Summary protobufs from NumPy arrays, built with the ``tensorboard`` package's own protos.

Nothing here encodes protobuf by hand: the messages are TensorBoard's
(``tensorboard.compat.proto``), the plugin metadata and tensor protos come from its plugin
modules, and images are PNG-encoded with Pillow (a TensorBoard dependency). Two formats:

* TF2 (``flowgrad.summary``): a ``tensor`` value tagged with its plugin (scalars, histograms,
  images, text), as ``tf.summary.scalar`` etc. write.
* TF1 (``compat.v1.summary``): ``simple_value``, ``histo`` (TensorFlow's exponential
  buckets) and ``image`` values, as TF1's ``ScalarSummary``/``HistogramSummary``/
  ``ImageSummary`` kernels produce.
"""
from __future__ import annotations

import io

import numpy as np

try:
    from PIL import Image as _PILImage
    from tensorboard.compat.proto import event_pb2, graph_pb2, summary_pb2, types_pb2
    from tensorboard.plugins.histogram import summary_v2 as _histogram_v2
    from tensorboard.plugins.image import metadata as _image_meta
    from tensorboard.plugins.scalar import metadata as _scalar_meta
    from tensorboard.plugins.text import metadata as _text_meta
    from tensorboard.util import tensor_util as _tensor_util
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError("flowgrad.summary writes TensorBoard event files with the tensorboard "
                      "package, which is not installed (%s). Install it with: "
                      "pip install 'flowgrad[dashboard]'  (or: pip install tensorboard)"
                      % e) from e

Summary = summary_pb2.Summary
SummaryMetadata = summary_pb2.SummaryMetadata
HistogramProto = summary_pb2.HistogramProto
Event = event_pb2.Event


def scalar(tag: str, value: np.ndarray, legacy: bool, description=None) -> bytes:
    value = np.asarray(value)
    if value.shape != ():
        raise ValueError("scalar summary %r: data must be a scalar, got shape %s"
                         % (tag, list(value.shape)))
    if value.dtype.kind not in "biuf":
        raise ValueError("scalar summary %r: data of dtype %s cannot be cast to float"
                         % (tag, value.dtype))
    if legacy:
        return Summary(value=[Summary.Value(tag=tag, simple_value=float(value))]) \
            .SerializeToString()
    meta = _scalar_meta.create_summary_metadata(display_name=None, description=description)
    tensor = _tensor_util.make_tensor_proto(value.astype(np.float32))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)]) \
        .SerializeToString()


def _tf1_bucket_limits() -> np.ndarray:
    # TensorFlow's default histogram buckets (lib/histogram): +-1e-12 * 1.1^k up to 1e20
    pos = []
    v = 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    pos.append(np.finfo(np.float64).max)
    pos = np.array(pos)
    return np.concatenate([-pos[::-1], [0.0], pos])


_LIMITS = None


def histogram(tag: str, values: np.ndarray, legacy: bool, buckets: int | None = None,
              description=None) -> bytes:
    values = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        raise ValueError("histogram summary %r: values must be finite (NaN or Inf found)" % tag)
    if not legacy:
        return _histogram_v2.histogram_pb(tag, values, buckets=buckets,
                                          description=description).SerializeToString()
    global _LIMITS
    if _LIMITS is None:
        _LIMITS = _tf1_bucket_limits()
    counts = np.bincount(np.searchsorted(_LIMITS, values, side="right"),
                         minlength=len(_LIMITS))[:len(_LIMITS)]
    limits, kept = [], []
    for i, c in enumerate(counts):
        # as TensorFlow's EncodeToProto: a run of empty buckets becomes one (its last limit)
        if c == 0 and i > 0 and counts[i - 1] == 0 and kept:
            limits[-1] = _LIMITS[i]
            continue
        limits.append(_LIMITS[i])
        kept.append(float(c))
    histo = summary_pb2.HistogramProto(
        min=float(values.min()) if values.size else 0.0,
        max=float(values.max()) if values.size else 0.0, num=float(values.size),
        sum=float(values.sum()), sum_squares=float(np.dot(values, values)),
        bucket_limit=limits, bucket=kept)
    return Summary(value=[Summary.Value(tag=tag, histo=histo)]).SerializeToString()


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of one ``[h, w, c]`` uint8 image (c = 1, 3 or 4)."""
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[image.shape[-1]]
    buf = io.BytesIO()
    _PILImage.fromarray(image[..., 0] if mode == "L" else image, mode).save(buf, format="PNG")
    return buf.getvalue()


def _check_images(tag, images):
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError("image summary %r: data must be [k, h, w, c] with c in 1, 3, 4; got "
                         "shape %s" % (tag, list(images.shape)))


def image(tag: str, images: np.ndarray, max_outputs: int, legacy: bool,
          description=None) -> bytes:
    images = np.asarray(images)
    _check_images(tag, images)
    images = images[:max_outputs]
    if legacy:
        values = []
        for i, img in enumerate(images):
            img = _tf1_uint8(img)
            name = "%s/image" % tag if max_outputs == 1 else "%s/image/%d" % (tag, i)
            values.append(Summary.Value(tag=name, image=Summary.Image(
                height=img.shape[0], width=img.shape[1], colorspace=img.shape[2],
                encoded_image_string=encode_png(img))))
        return Summary(value=values).SerializeToString()
    if images.dtype.kind == "f":
        # tf.image.convert_image_dtype(..., uint8, saturate=True): scale by 255.5, truncate
        images = np.clip(images.astype(np.float64) * 255.5, 0, 255).astype(np.uint8)
    else:
        images = images.astype(np.uint8)
    content = [str(images.shape[2]).encode(), str(images.shape[1]).encode()] + \
        [encode_png(img) for img in images]
    meta = _image_meta.create_summary_metadata(display_name=None, description=description,
                                               converted_to_tensor=True)
    tensor = _tensor_util.make_tensor_proto(np.array(content, dtype=object))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)]) \
        .SerializeToString()


def _tf1_uint8(img):
    # TF1 ImageSummary: floats are rescaled per image so the largest value is 255 (images
    # without negative values) or, centred on 128, the largest |value| is 127 away; the
    # kernel then truncates to uint8, and paints non-finite pixels its bad_color (red)
    if img.dtype == np.uint8:
        return img
    img = img.astype(np.float32)
    finite = np.isfinite(img).all(-1)
    vals = img[finite]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 0.0)
    if lo < 0:
        top = max(-lo, hi)
        scale, offset = (0.0 if top < 1e-6 else 127.0 / top), 128.0
    else:
        scale, offset = (0.0 if hi < 1e-6 else 255.0 / hi), 0.0
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite pixels: painted below
        out = np.clip(np.nan_to_num(img) * np.float32(scale) + np.float32(offset), 0, 255)
    out = out.astype(np.uint8)
    out[~finite] = np.array([255, 0, 0, 255], np.uint8)[:img.shape[-1]] \
        if img.shape[-1] > 1 else 255
    return out


def text(tag: str, data: np.ndarray, description=None) -> bytes:
    data = np.asarray(data, dtype=object)
    data = np.vectorize(lambda s: s if isinstance(s, bytes) else str(s).encode("utf-8"),
                        otypes=[object])(data) if data.size else data
    meta = _text_meta.create_summary_metadata(display_name=None, description=description)
    tensor = _tensor_util.make_tensor_proto(data)
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)]) \
        .SerializeToString()


def merge(serialized) -> bytes:
    merged = Summary()
    for s in serialized:
        merged.MergeFromString(bytes(s))
    return merged.SerializeToString()


def parse(summary) -> "Summary":
    """A ``Summary`` message from serialized bytes (a fetched summary op) or a message."""
    if isinstance(summary, Summary):
        return summary
    if isinstance(summary, np.ndarray):
        summary = summary[()]
    return Summary.FromString(bytes(summary))


_DT = {"float16": types_pb2.DT_HALF, "float32": types_pb2.DT_FLOAT,
       "float64": types_pb2.DT_DOUBLE, "int8": types_pb2.DT_INT8, "int16": types_pb2.DT_INT16,
       "int32": types_pb2.DT_INT32, "int64": types_pb2.DT_INT64, "uint8": types_pb2.DT_UINT8,
       "uint16": types_pb2.DT_UINT16, "uint32": types_pb2.DT_UINT32,
       "uint64": types_pb2.DT_UINT64, "bool": types_pb2.DT_BOOL,
       "string": types_pb2.DT_STRING}


def graph_def(graph) -> bytes:
    """A ``GraphDef`` of a flowgrad graph, for TensorBoard's graph dashboard."""
    from tensorboard.compat.proto import attr_value_pb2, tensor_shape_pb2
    gd = graph_pb2.GraphDef()
    for op in graph._ops:
        node = gd.node.add(name=op.name, op=op.type)
        for t in op.inputs:
            node.input.append(t.op.name if t.value_index == 0 else
                              "%s:%d" % (t.op.name, t.value_index))
        node.input.extend("^" + c.name for c in op.control_inputs)
        shapes = []
        for o in op.outputs:
            dims = [] if o.shape.rank is None else \
                [tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d is None else d)
                 for d in o.shape]
            shapes.append(tensor_shape_pb2.TensorShapeProto(
                dim=dims, unknown_rank=o.shape.rank is None))
        if shapes:
            node.attr["_output_shapes"].CopyFrom(attr_value_pb2.AttrValue(
                list=attr_value_pb2.AttrValue.ListValue(shape=shapes)))
        if op.outputs and op.outputs[0].dtype is not None:
            node.attr["T"].CopyFrom(attr_value_pb2.AttrValue(
                type=_DT.get(op.outputs[0].dtype.name, types_pb2.DT_INVALID)))
    return gd.SerializeToString()
