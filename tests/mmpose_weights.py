"""Fixture state dicts (MMPose names) and loading them into our layers.

Loading goes through the public converter
(:func:`keraspose.converters.load_state_dict`), so every fixture test of a
backbone, neck or head also checks the checkpoint mapping.
"""

import collections
import json

import keras
import numpy as np

import keraspose
from keraspose import converters
from keraspose.models.utils.conv2d import Conv2d


def load_state_dict(layer, state, prefix):
    """Loads ``state[prefix + name]`` into ``layer`` through the public
    converter (:func:`keraspose.converters.load_state_dict`, not strict);
    returns the set of state keys used."""
    sub = collections.OrderedDict(
        (k[len(prefix) :], v) for k, v in state.items() if k.startswith(prefix)
    )
    report = converters.load_state_dict(layer, sub, strict=False)
    return {prefix + k for k in report.loaded}


def fixture_state(f, tag):
    """The float32 state dict of fixture ``tag``: ``<tag>_state_values``
    holds small integers ``q`` and ``<tag>_state_index`` rows ``[key,
    shape, exponent, offset]``; each value is ``q * 2**-exponent``, exact
    in float32 (see tools/make_mmpose_cspnext_fixtures.py)."""
    values = f[f"{tag}_state_values"].astype(np.float32)
    state = {}
    for key, shape, exponent, offset in json.loads(
        str(f[f"{tag}_state_index"])
    ):
        chunk = values[offset : offset + int(np.prod(shape))]
        state[key] = chunk.reshape(shape) * np.float32(2.0**-exponent)
    return state


def zero_kernels(net):
    """Zero initializers for every Conv2d / Dense of ``net`` (before it is
    built), for weights that will be overwritten or only counted: JAX
    compiles its random initializers once per shape, slow for many layers.
    """
    for layer in net._flatten_layers(include_self=False):
        if isinstance(layer, Conv2d | keras.layers.Dense):
            layer.kernel_initializer = keras.initializers.Zeros()
            layer.bias_initializer = keras.initializers.Zeros()
    return net


def build_with_zero_kernels(cfg, input_shape):
    """Builds ``cfg`` with :func:`zero_kernels` initializers."""
    net = zero_kernels(keraspose.build(cfg))
    net.build(input_shape)
    return net
