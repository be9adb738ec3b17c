"""RealNVP normalising flow (the learned error density of RLE)."""

import math

import keras
from keras import ops

from keraspose.registry import register

# Coupling masks of the six affine couplings (constants, not weights).
_MASKS = ((0.0, 1.0), (1.0, 0.0)) * 3
_HIDDEN = 64


def _torch_linear_bias(fan_in):
    bound = 1.0 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(-bound, bound)


@register
class RealNVP(keras.layers.Layer):
    """A 2-D RealNVP flow: ``call(x)`` is the log density of ``x`` (N, 2).

    References: Dinh et al., "Density estimation using Real NVP", ICLR
    2017; used by Li et al., "Human Pose Regression with Residual
    Log-likelihood Estimation" (RLE), ICCV 2021.

    The structure follows MMPose's ``RealNVP``: six affine couplings with
    the masks ``[[0, 1], [1, 0]] * 3`` and, per coupling, a scale net
    (Linear 2-64, LeakyReLU, Linear 64-64, LeakyReLU, Linear 64-2, tanh)
    and a translation net (the same without tanh); the prior is a standard
    2-D normal. The masks and the prior are constants (MMPose's buffers).
    Sublayers are named like MMPose's parameters: ``s_{i}_0``, ``s_{i}_2``,
    ``s_{i}_4`` and ``t_{i}_0``... (``s.{i}.0``). Weights start as MMPose's
    ``init_weights`` leaves them (Xavier uniform with gain 0.01, PyTorch's
    default bias); an ``RLEHead`` re-initialises them like MMPose's head.
    The weights are created at construction.

    Args:
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> flow = RealNVP()
    >>> flow(np.zeros((3, 2), "float32")).shape
    (3,)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.coupling_masks = _MASKS
        # one flat list so that Keras tracks every Dense layer directly
        self.flow_layers = []
        for prefix in ("s", "t"):
            for i in range(len(_MASKS)):
                self.flow_layers.extend(self._net(prefix, i))
        self.built = True

    def _dense(self, prefix, index):
        """The three Dense layers of net ``prefix`` (s or t) ``index``."""
        start = (0 if prefix == "s" else len(_MASKS)) * 3 + 3 * index
        return self.flow_layers[start : start + 3]

    def _mlp(self, prefix, index, x):
        layers = self._dense(prefix, index)
        for j, dense in enumerate(layers):
            x = dense(x)
            if j < len(layers) - 1:
                x = ops.leaky_relu(x, negative_slope=0.01)
        return ops.tanh(x) if prefix == "s" else x

    def _net(self, prefix, index):
        layers = []
        for j, (fan_in, units) in enumerate(
            ((2, _HIDDEN), (_HIDDEN, _HIDDEN), (_HIDDEN, 2))
        ):
            dense = keras.layers.Dense(
                units,
                kernel_initializer=keras.initializers.VarianceScaling(
                    scale=0.01**2, mode="fan_avg", distribution="uniform"
                ),
                bias_initializer=_torch_linear_bias(fan_in),
                name=f"{prefix}_{index}_{2 * j}",
                dtype=self.dtype_policy,
            )
            dense.build((None, fan_in))
            layers.append(dense)
        return layers

    def backward_p(self, x):
        """Maps data ``x`` (N, 2) to the latent space.

        Returns:
            ``(z (N, 2), log_det_jacobian (N,))``.
        """
        z = x
        log_det = ops.zeros_like(x[:, 0])
        for i in reversed(range(len(self.coupling_masks))):
            mask = ops.convert_to_tensor(self.coupling_masks[i], x.dtype)
            z_ = mask * z
            s = self._mlp("s", i, z_) * (1.0 - mask)
            t = self._mlp("t", i, z_) * (1.0 - mask)
            z = (1.0 - mask) * (z - t) * ops.exp(-s) + z_
            log_det = log_det - ops.sum(s, axis=1)
        return z, log_det

    def log_prob(self, x):
        """Log density of ``x`` (N, 2) under the flow."""
        z, log_det = self.backward_p(x)
        prior = -0.5 * ops.sum(ops.square(z), axis=-1) - math.log(2 * math.pi)
        return prior + log_det

    def call(self, x):
        return self.log_prob(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])
