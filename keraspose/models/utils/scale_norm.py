"""Scale normalization (MMPose's ``ScaleNorm``)."""

import keras
from keras import ops

from keraspose.registry import register


@register
class ScaleNorm(keras.layers.Layer):
    """Normalizes the last axis to a learned L2 norm.

    Reference: Nguyen and Salazar, "Transformers without Tears: Improving the
    Normalization of Self-Attention", 2019 (as used by RTMPose's head).

    ``y = x / max(||x|| * dim ** -0.5, eps) * g`` with one learned scalar
    ``g`` (initialised to 1; MMPose's parameter ``g``). The norm is computed
    in float32 under mixed precision.

    Args:
        dim: size of the normalized (last) axis; sets the ``dim ** -0.5``
            scale.
        eps: lower clamp of the scaled norm.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> norm = ScaleNorm(4)
    >>> np.asarray(norm(np.array([[3.0, 0.0, 4.0, 0.0]], "float32"))).tolist()
    [[1.2000000476837158, 0.0, 1.600000023841858, 0.0]]
    """

    def __init__(self, dim, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        if self.dim <= 0:
            raise ValueError(f"Expected dim > 0. Received: dim={dim!r}")
        self.eps = float(eps)
        self.scale = self.dim**-0.5

    def build(self, input_shape):
        self.g = self.add_weight(name="g", shape=(1,), initializer="ones")

    def call(self, x):
        dtype = x.dtype
        x = ops.cast(x, "float32")
        # Below (eps / scale) ** 2 the clamp decides anyway; flooring the
        # squared norm there keeps the gradient finite at x == 0.
        floor = max((self.eps / self.scale) ** 2, 1e-30)
        sum_sq = ops.sum(ops.square(x), axis=-1, keepdims=True)
        norm = ops.sqrt(ops.maximum(sum_sq, floor))
        norm = ops.maximum(norm * self.scale, self.eps)
        y = x / norm * ops.cast(self.g, "float32")
        return ops.cast(y, dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(dim=self.dim, eps=self.eps)
        return config
