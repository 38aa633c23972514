"""flowgrad: the plug-in point.

flowgrad implements TensorFlow's programming model, so its benchmark code is the same
program as TensorFlow's (tfstyle.py) run with ``flowgrad`` in place of ``tensorflow``:
identical shapes, initial parameters, optimizers and step structure by construction.
Variants: TF1-style ``Session.run(train)`` and TF2-style ``@flowgrad.function`` steps
(no separate jit_compile variant: the graph executor and its compiled kernels are always on).

Every function here has the signature of the other impl_*.py modules.  When the
flowgrad API a variant needs is missing (flowgrad is being written), the variant raises
common.NotAvailable("... not available yet") and run.py reports n/a with that reason.
To specialise a variant for flowgrad (say a flowgrad-only fast path), replace the
delegation below with flowgrad code returning a common.Runner.
"""
from __future__ import annotations

import functools

import common as C
from tfstyle import TFStyle

NAME = "flowgrad"

try:
    import flowgrad as _fg
    _IMPORT_ERROR = None
except Exception as e:  # pragma: no cover - depends on the state of the tree
    _fg = None
    _IMPORT_ERROR = "%s: %s" % (type(e).__name__, e)

_impl = TFStyle(_fg, "flowgrad", variants=("Session", "function")) if _fg else None


def _need():
    if _fg is None:
        raise C.NotAvailable("import flowgrad failed (%s)" % _IMPORT_ERROR)
    return _impl


def _missing_api_is_na(build):
    """Turns a missing flowgrad attribute/op inside a builder into NotAvailable."""
    @functools.wraps(build)
    def wrapped(*a, **k):
        try:
            return build(*a, **k)
        except C.NotAvailable:
            raise
        except (AttributeError, NotImplementedError, ImportError) as e:
            raise C.NotAvailable("flowgrad API not available yet: %s: %s"
                                 % (type(e).__name__, e))
    return wrapped


def _wrap(variants):
    return {k: _missing_api_is_na(v) for k, v in variants.items()}


def info():
    if _fg is None:
        return {"version": "n/a (%s)" % _IMPORT_ERROR}
    out = {"version": getattr(_fg, "__version__", "dev")}
    try:
        out["denormals"] = _impl.denormal_info()
    except Exception as e:
        out["denormals"] = "n/a (%s: %s)" % (type(e).__name__, str(e)[:100])
    return out


def w0_snippet():
    return "import flowgrad as tf; (tf.constant([1.0, 2.0, 3.0]) + 1.0).numpy()"


def w1_variants():
    return _wrap(_need().w1_variants())


def w2_variants(data):
    return _wrap(_need().w2_variants(data))


def w3_variants(data):
    return _wrap(_need().w3_variants(data))


def w4_variants(data):
    return _wrap(_need().w4_variants(data))


def w5_variants():
    return _wrap(_need().w5_variants())
