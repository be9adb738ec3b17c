"""Helpers shared by the preset and CLI tests."""

import hashlib
import os

import numpy as np

import keraspose

#: The preset the end-to-end tests build (few layers, quick to build).
SMALL_PRESET = "rtmpose-t_8xb256-420e_coco-256x192"


def patch_zero_kernel_builds(monkeypatch):
    """``keraspose.build`` with zero Conv2d / Dense initializers: JAX
    compiles a random initializer per kernel shape, slow for a full model
    whose weights are overwritten anyway."""
    from tests.mmpose_weights import zero_kernels

    build = keraspose.build

    def fast_build(cfg, **kwargs):
        obj = build(cfg, **kwargs)
        if hasattr(obj, "_flatten_layers"):
            zero_kernels(obj)
        return obj

    monkeypatch.setattr(keraspose, "build", fast_build)


def write_preset_pth(model, folder, seed=0):
    """Random weights for ``model``, saved by torch as an MMEngine
    checkpoint named with its SHA-256 prefix, as MMPose's model zoo does.

    Returns:
        ``(path, state)``: the ``.pth`` path and the state dict written.
    """
    import torch

    rng = np.random.default_rng(seed)
    for variable in model.weights:
        values = rng.uniform(0.5, 1.5, tuple(variable.shape))
        variable.assign(values.astype(variable.dtype))
    state = keraspose.converters.export_state_dict(model)
    tmp = os.path.join(folder, "weights.pth")
    torch.save(
        {
            "meta": {"epoch": 1},
            "state_dict": {k: torch.from_numpy(v) for k, v in state.items()},
        },
        tmp,
    )
    with open(tmp, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    path = os.path.join(folder, f"rtmpose-t-{sha[:8]}_20240101.pth")
    os.rename(tmp, path)
    return path, state
