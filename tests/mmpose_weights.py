"""Loads an MMPose state dict (from the fixtures) into keraspose layers.

Test-only: keraspose layer names are MMPose module paths with "." written
"_" (``layer1_0`` is ``layer1.0``). The public converter belongs to the
checkpoint issue; this helper only proves the layouts map one-to-one.
"""

import json
import re

import keras
import numpy as np

import keraspose
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_transpose2d import ConvTranspose2d


def torch_name(name):
    return re.sub(r"_(\d+)(?=$|_)", r".\1", name)


def load_state_dict(layer, state, prefix):
    """Assigns ``state[prefix + ...]`` to every weighted sublayer; returns
    the set of state keys used."""
    used = set()
    # Variables the layer owns itself (pos_embed, cls_token, LayerScale).
    own = layer._trainable_variables + layer._non_trainable_variables
    for var in own:
        key = prefix + var.name
        if key in state and tuple(state[key].shape) == tuple(var.shape):
            var.assign(state[key])
            used.add(key)
    for sub in layer._flatten_layers(include_self=False, recursive=False):
        p = prefix + torch_name(sub.name) + "."
        if isinstance(sub, Conv2d):
            sub.kernel.assign(state[p + "weight"].transpose(2, 3, 1, 0))
            used.add(p + "weight")
            if sub.use_bias:
                sub.bias.assign(state[p + "bias"])
                used.add(p + "bias")
        elif isinstance(sub, ConvTranspose2d):
            sub.kernel.assign(state[p + "weight"].transpose(2, 3, 0, 1))
            used.add(p + "weight")
        elif isinstance(sub, keras.layers.BatchNormalization):
            for var, key in (
                (sub.gamma, "weight"),
                (sub.beta, "bias"),
                (sub.moving_mean, "running_mean"),
                (sub.moving_variance, "running_var"),
            ):
                var.assign(state[p + key])
                used.add(p + key)
        elif isinstance(sub, keras.layers.Dense):
            sub.kernel.assign(np.transpose(state[p + "weight"]))
            used.add(p + "weight")
            if sub.use_bias:
                sub.bias.assign(state[p + "bias"])
                used.add(p + "bias")
        elif isinstance(sub, keras.layers.LayerNormalization):
            sub.gamma.assign(state[p + "weight"])
            sub.beta.assign(state[p + "bias"])
            used.update({p + "weight", p + "bias"})
        else:
            used |= load_state_dict(sub, state, p)
    return used


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
