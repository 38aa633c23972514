"""Builds the optional compiled convolution kernels; all metadata lives in pyproject.toml.

``optional=True``: without a C compiler (or with one that lacks GCC's vector extensions)
the install still succeeds and flowgrad runs its NumPy kernels (flowgrad/ops/native.py).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("flowgrad.ops._native",
                             ["flowgrad/ops/_native.c", "flowgrad/ops/_pool.c",
                              "flowgrad/ops/_gemm.c", "flowgrad/ops/_adam.c"],
                             extra_compile_args=["-O3", "-fno-math-errno", "-pthread"],
                             extra_link_args=["-pthread"], optional=True)])
