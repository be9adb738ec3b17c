"""Shared pieces of the ``make_mmpose_*_fixtures.py`` generators.

Imported by the generators (run from the repository root with the MMPose
reference environment, see ../shared/reference/README.md); never by
keraspose or its tests.

- :func:`install_mmdet_stubs`: lets ``mmdet.models`` import without the
  compiled ``mmcv.ops`` (the generators use none of its ops).
- :func:`quantized_state`: replaces a torch model's state by small-integer
  multiples of powers of two, exact in float32, stored compactly as int8
  values plus a JSON index (``tests/mmpose_weights.fixture_state`` reads it).
- :func:`install_mmpose_apis_stubs`: lets ``mmpose.apis`` import without
  ``pkg_resources`` and ``torchvision.transforms`` (neither is used).
- :func:`trainable`: a torch module's trainable parameter count.
"""

import importlib.abc
import importlib.machinery
import json
import sys
import types

import numpy as np


class _MissingOp:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("mmcv.ops stub: compiled op not available")


def _stub_getattr(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return type(name, (_MissingOp,), {})


class _OpsFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.startswith("mmcv.ops."):
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = _stub_getattr
        return module

    def exec_module(self, module):
        pass


def install_mmdet_stubs():
    """Stubs the submodules of ``mmcv.ops`` that ``mmdet.models`` imports
    (call after ``mmcv_ops_stub.install()``)."""
    ops = sys.modules["mmcv.ops"]
    ops.__path__ = []
    ops.__getattr__ = _stub_getattr
    sys.meta_path.insert(0, _OpsFinder())


def trainable(module):
    """The trainable parameter count of a torch module."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def norm_owners(model):
    """Names of the BatchNorm modules of a torch model."""
    from torch.nn.modules.batchnorm import _BatchNorm

    return {
        name for name, m in model.named_modules() if isinstance(m, _BatchNorm)
    }


def conv_bn_rule(is_norm, kernel_gain=2.0):
    """The usual quantization rule of conv/BN networks.

    Kernels: integers in [-3, 3] times about ``1 / (kernel_gain *
    sqrt(fan_in))``; other biases [-4, 4] / 8; norm weights and running
    variances [4, 12] / 8; norm biases and running means [-4, 4] / 16.

    Args:
        is_norm: ``is_norm(key)`` tells whether a state key belongs to a
            normalization layer.
        kernel_gain: the kernel scale's factor.

    Returns:
        A rule for :func:`quantized_state`.
    """

    def rule(key, shape):
        leaf = key.rsplit(".", 1)[-1]
        norm = is_norm(key)
        if leaf == "weight" and not norm:
            fan_in = int(np.prod(shape[1:]))
            return int(round(np.log2(kernel_gain * np.sqrt(fan_in)))), -3, 4
        if leaf in ("weight", "running_var"):
            return 3, 4, 13
        if leaf == "bias" and not norm:
            return 3, -4, 5
        return 4, -4, 5

    return rule


def quantized_state(model, rng, rule):
    """Replaces the state by small-integer multiples of powers of two.

    Args:
        model: a torch module; its state is overwritten in place.
        rng: the NumPy generator drawing the integers.
        rule: ``rule(key, shape) -> (exponent, low, high)``: the value of
            state entry ``key`` is ``q * 2**-exponent`` with ``q`` drawn in
            ``[low, high)``. ``num_batches_tracked`` entries are skipped.

    Returns:
        ``(values, index)``: the int8 values of every entry, concatenated,
        and the JSON rows ``[key, shape, exponent, offset]``.
    """
    import torch

    index, values, offset = [], [], 0
    for key, tensor in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        shape = tuple(tensor.shape)
        exponent, low, high = rule(key, shape)
        q = rng.integers(low, high, size=shape).astype(np.int8)
        tensor.copy_(torch.from_numpy(q.astype(np.float32) * 2.0**-exponent))
        index.append([key, list(shape), exponent, offset])
        values.append(q.ravel())
        offset += q.size
    if not values:
        return np.zeros((0,), np.int8), "[]"
    return np.concatenate(values), json.dumps(index)


def install_mmpose_apis_stubs():
    """``mmpose.apis`` imports ``pkg_resources`` (gone from recent
    setuptools) only to locate installed packages, and
    ``torchvision.transforms`` for its visualizer; the reference
    environment has neither, and nothing here uses them."""
    import importlib.metadata
    import importlib.util

    if importlib.util.find_spec("pkg_resources") is None:
        mod = types.ModuleType("pkg_resources")

        class DistributionNotFound(Exception):
            pass

        def get_distribution(name):
            try:
                dist = importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError as err:
                raise DistributionNotFound(name) from err
            return types.SimpleNamespace(location=str(dist.locate_file("")))

        mod.DistributionNotFound = DistributionNotFound
        mod.get_distribution = get_distribution
        sys.modules["pkg_resources"] = mod
    try:
        import torchvision.transforms  # noqa: F401
    except ImportError:
        mod = types.ModuleType("torchvision.transforms")
        mod.ToPILImage = None
        sys.modules["torchvision.transforms"] = mod
