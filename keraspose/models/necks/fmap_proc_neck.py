"""Select / concatenate / rescale feature maps (``FeatureMapProcessor``)."""

import keras
from keras import ops

from keraspose.models.necks._utils import is_shape_sequence
from keraspose.models.necks._utils import with_channels
from keraspose.models.utils.resize import interpolate
from keraspose.models.utils.resize import interpolated_size
from keraspose.registry import register


@register
class FeatureMapProcessor(keras.layers.Layer):
    """Selects, concatenates, activates and rescales feature maps.

    MMPose's ``FeatureMapProcessor`` neck, e.g. between HRNetV2 (Wang et
    al., "Deep High-Resolution Representation Learning for Visual
    Recognition", TPAMI 2020) and a heatmap head: with ``concat=True`` all
    branches are resized to the first map's size (bilinear) and concatenated
    along channels. The steps, in order: pick ``select_index``, concatenate,
    ReLU, rescale by ``scale_factor`` (bilinear, output size
    ``floor(size * scale_factor)``). Resizing is PyTorch-exact
    (:func:`~keraspose.models.utils.resize.interpolate`).

    As in MMPose, a single tensor input skips selection and concatenation
    (only ReLU / rescale apply) and a single tensor is returned; a sequence
    input gives a tuple.

    Args:
        select_index: int or tuple of ints (negative allowed): the maps to
            keep; None keeps all.
        concat: resize to the first selected map and concatenate.
        scale_factor: positive rescale factor (1.0: none).
        apply_relu: apply ReLU to the maps.
        align_corners: of the bilinear resizes.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> neck = FeatureMapProcessor(concat=True)
    >>> feats = (np.ones((1, 8, 6, 2), "float32"),
    ...          np.ones((1, 4, 3, 3), "float32"))
    >>> [tuple(f.shape) for f in neck(feats)]
    [(1, 8, 6, 5)]
    """

    def __init__(
        self,
        select_index=None,
        concat=False,
        scale_factor=1.0,
        apply_relu=False,
        align_corners=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(select_index, int):
            select_index = (select_index,)
        if select_index is not None:
            select_index = tuple(select_index)
            if not select_index or not all(
                isinstance(i, int) for i in select_index
            ):
                raise ValueError(
                    "Expected `select_index` to be an int or a non-empty "
                    f"tuple of ints. Received: select_index={select_index!r}"
                )
        if not isinstance(scale_factor, int | float) or scale_factor <= 0:
            raise ValueError(
                "Expected `scale_factor` to be a positive number. "
                f"Received: scale_factor={scale_factor!r}"
            )
        self.select_index = select_index
        self.concat = bool(concat)
        self.scale_factor = float(scale_factor)
        self.apply_relu = bool(apply_relu)
        self.align_corners = bool(align_corners)

    def _select(self, items):
        if self.select_index is None:
            return list(items)
        n = len(items)
        for i in self.select_index:
            if not -n <= i < n:
                raise ValueError(
                    f"FeatureMapProcessor: select_index={self.select_index!r}"
                    f" is out of range for {n} feature maps"
                )
        return [items[i] for i in self.select_index]

    def call(self, inputs, training=None):
        sequential = isinstance(inputs, tuple | list)
        feats = list(inputs) if sequential else [inputs]
        if sequential:
            feats = self._select(feats)
            if self.concat:
                size = tuple(feats[0].shape[1:3])
                feats = [
                    ops.concatenate(
                        [
                            interpolate(
                                x,
                                size=size,
                                mode="bilinear",
                                align_corners=self.align_corners,
                            )
                            for x in feats
                        ],
                        axis=-1,
                    )
                ]
        if self.apply_relu:
            feats = [ops.relu(x) for x in feats]
        if self.scale_factor != 1.0:
            feats = [
                interpolate(
                    x,
                    scale_factor=self.scale_factor,
                    mode="bilinear",
                    align_corners=self.align_corners,
                )
                for x in feats
            ]
        return tuple(feats) if sequential else feats[0]

    def compute_output_shape(self, input_shape):
        sequential = is_shape_sequence(input_shape)
        shapes = (
            [tuple(s) for s in input_shape] if sequential else [input_shape]
        )
        if sequential:
            shapes = self._select(shapes)
            if self.concat:
                channels = [s[-1] for s in shapes]
                total = None if None in channels else sum(channels)
                shapes = [with_channels(shapes[0], total)]
        if self.scale_factor != 1.0:
            shapes = [
                (
                    s[0],
                    *interpolated_size(
                        s[1], s[2], scale_factor=self.scale_factor
                    ),
                    s[3],
                )
                for s in shapes
            ]
        return tuple(shapes) if sequential else tuple(shapes[0])

    def get_config(self):
        config = super().get_config()
        config.update(
            select_index=self.select_index,
            concat=self.concat,
            scale_factor=self.scale_factor,
            apply_relu=self.apply_relu,
            align_corners=self.align_corners,
        )
        return config
