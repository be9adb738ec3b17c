"""Loads the SimCC fixtures' MMPose state dicts into keraspose layers.

Test-only, like ``tests/mmpose_weights.py``, but also assigns the layers'
own parameters (``ScaleNorm.g``, ``Scale.scale``, the GAU's ``w``,
``gamma``, ``beta``, ``a``, ``b``), whose names equal MMPose's.
"""

import keras
import numpy as np

from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_transpose2d import ConvTranspose2d
from tests.mmpose_weights import torch_name


def state_from_fixture(fixture, prefix):
    """The ``w:<prefix>.`` entries of a fixture, keyed by parameter path."""
    start = f"w:{prefix}."
    return {
        k[len(start) :]: v for k, v in fixture.items() if k.startswith(start)
    }


def load_mmpose_state(layer, state, prefix=""):
    """Assigns ``state`` (MMPose names) to ``layer``; returns the keys used."""
    used = set()

    def take(key):
        used.add(key)
        return state[key]

    for var in list(layer._trainable_variables) + list(
        layer._non_trainable_variables
    ):
        if "seed_generator" in var.path:
            continue
        var.assign(take(prefix + var.name))
    for sub in layer._flatten_layers(include_self=False, recursive=False):
        p = prefix + torch_name(sub.name) + "."
        if isinstance(sub, Conv2d):
            sub.kernel.assign(take(p + "weight").transpose(2, 3, 1, 0))
            if sub.use_bias:
                sub.bias.assign(take(p + "bias"))
        elif isinstance(sub, ConvTranspose2d):
            sub.kernel.assign(take(p + "weight").transpose(2, 3, 0, 1))
        elif isinstance(sub, keras.layers.BatchNormalization):
            sub.gamma.assign(take(p + "weight"))
            sub.beta.assign(take(p + "bias"))
            sub.moving_mean.assign(take(p + "running_mean"))
            sub.moving_variance.assign(take(p + "running_var"))
        elif isinstance(sub, keras.layers.Dense):
            sub.kernel.assign(np.transpose(take(p + "weight")))
            if sub.use_bias:
                sub.bias.assign(take(p + "bias"))
        else:
            used |= load_mmpose_state(sub, state, p)
    return used
