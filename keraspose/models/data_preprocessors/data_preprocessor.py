"""Image normalisation inside the model (MMPose's ``PoseDataPreprocessor``)."""

import keras
from keras import ops

from keraspose.registry import register


@register
class PoseDataPreprocessor(keras.layers.Layer):
    """Normalises raw images: channel swap, ``(x - mean) / std``, padding.

    It runs as the first layer of every pose estimator, so models take raw
    pixel values (0-255) and exported models need no separate
    preprocessing.

    Channel order follows MMPose: images are expected in the order MMPose's
    pipeline produces (BGR, as loaded by OpenCV) and ``bgr_to_rgb=True``
    converts them before normalising with RGB ``mean``/``std``. Feed RGB
    images with ``bgr_to_rgb=False`` (or set ``rgb_to_bgr`` for BGR means).

    Args:
        mean: per-channel mean (after the channel swap), or None.
        std: per-channel std, or None.
        pad_size_divisor: pad height and width (bottom/right) to a multiple.
        pad_value: value of the padded pixels (after normalisation).
        bgr_to_rgb: reverse the channel order of the input.
        rgb_to_bgr: reverse the channel order of the input.
        non_blocking: accepted for MMPose compatibility.
        batch_augments: accepted for MMPose compatibility (must be None).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> pre = PoseDataPreprocessor(mean=[1, 2, 3], std=[2, 2, 2],
    ...                            bgr_to_rgb=True)
    >>> np.asarray(pre(np.array([[[[3.0, 2.0, 1.0]]]]))).tolist()
    [[[[0.0, 0.0, 0.0]]]]
    """

    def __init__(
        self,
        mean=None,
        std=None,
        pad_size_divisor=1,
        pad_value=0,
        bgr_to_rgb=False,
        rgb_to_bgr=False,
        non_blocking=False,
        batch_augments=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if bgr_to_rgb and rgb_to_bgr:
            raise ValueError(
                "`bgr_to_rgb` and `rgb_to_bgr` cannot both be True."
            )
        if (mean is None) != (std is None):
            raise ValueError(
                "Expected mean and std both set or both None. Received: "
                f"mean={mean}, std={std}"
            )
        if batch_augments is not None:
            raise ValueError(
                "batch_augments are not supported. Received: "
                f"batch_augments={batch_augments!r}"
            )
        self.mean = None if mean is None else [float(m) for m in mean]
        self.std = None if std is None else [float(s) for s in std]
        self.pad_size_divisor = int(pad_size_divisor)
        self.pad_value = float(pad_value)
        self.bgr_to_rgb = bool(bgr_to_rgb)
        self.rgb_to_bgr = bool(rgb_to_bgr)
        self.non_blocking = non_blocking

    def call(self, images):
        if len(images.shape) != 4:
            raise ValueError(
                "Expected images of shape (N, H, W, C). Received shape "
                f"{tuple(images.shape)}"
            )
        channels = images.shape[-1]
        if self.mean is not None and channels != len(self.mean):
            raise ValueError(
                f"Expected images with {len(self.mean)} channels (the length "
                f"of `mean`). Received shape {tuple(images.shape)}"
            )
        x = ops.cast(images, "float32")
        if self.bgr_to_rgb or self.rgb_to_bgr:
            x = ops.flip(x, axis=-1)
        if self.mean is not None:
            mean = ops.convert_to_tensor(self.mean, "float32")
            std = ops.convert_to_tensor(self.std, "float32")
            x = (x - mean) / std
        d = self.pad_size_divisor
        if d > 1:
            h, w = x.shape[1], x.shape[2]
            ph, pw = (-h) % d, (-w) % d
            if ph or pw:
                x = ops.pad(
                    x,
                    ((0, 0), (0, ph), (0, pw), (0, 0)),
                    constant_values=self.pad_value,
                )
        return ops.cast(x, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        d = self.pad_size_divisor
        if d > 1:
            h = None if h is None else h + (-h) % d
            w = None if w is None else w + (-w) % d
        return (n, h, w, c)

    def get_config(self):
        config = super().get_config()
        config.update(
            mean=self.mean,
            std=self.std,
            pad_size_divisor=self.pad_size_divisor,
            pad_value=self.pad_value,
            bgr_to_rgb=self.bgr_to_rgb,
            rgb_to_bgr=self.rgb_to_bgr,
            non_blocking=self.non_blocking,
        )
        return config
