"""Global average pooling neck (MMPose's ``GlobalAveragePooling``)."""

import keras
from keras import ops

from keraspose.registry import register


@register
class GlobalAveragePooling(keras.layers.Layer):
    """Averages each feature map over space: (N, H, W, C) -> (N, C).

    MMPose's ``GlobalAveragePooling`` neck, used by the regression models
    (DeepPose, Toshev & Szegedy, CVPR 2014; RLE, Li et al., ICCV 2021)
    between the backbone and ``RegressionHead`` / ``RLEHead``. A tuple or
    list of maps gives a tuple or list of pooled vectors; a tensor gives a
    tensor.

    Args:
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> neck = GlobalAveragePooling()
    >>> out = neck((np.ones((2, 4, 3, 8), "float32"),))
    >>> out[0].shape
    (2, 8)
    """

    def call(self, inputs, training=None):
        if isinstance(inputs, tuple | list):
            return type(inputs)(self._pool(x) for x in inputs)
        if not hasattr(inputs, "shape"):
            raise TypeError(
                "GlobalAveragePooling expects a tensor or a tuple/list of "
                f"(N, H, W, C) tensors. Received: {type(inputs).__name__}"
            )
        return self._pool(inputs)

    @staticmethod
    def _pool(x):
        if len(x.shape) != 4:
            raise ValueError(
                "GlobalAveragePooling expects (N, H, W, C) feature maps. "
                f"Received shape {tuple(x.shape)}"
            )
        return ops.mean(x, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        def one(shape):
            return (shape[0], shape[-1])

        if (
            isinstance(input_shape, list)
            and input_shape
            and not isinstance(input_shape[0], int | type(None))
        ):
            return [one(s) for s in input_shape]
        if (
            isinstance(input_shape, tuple)
            and input_shape
            and isinstance(input_shape[0], tuple | list)
        ):
            return tuple(one(s) for s in input_shape)
        return one(input_shape)
