"""A list of losses applied to a list of outputs (MMPose's wrapper)."""

import keras

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config


@register
class MultipleLossWrapper(BaseLoss):
    """Applies the i-th loss to the i-th output and target.

    As MMPose's ``MultipleLossWrapper``: called with a list of outputs, a
    list of targets and one ``keypoint_weights`` passed to every loss, it
    returns the list of losses in order (the caller combines them; e.g.
    ``DSNTHead`` adds its coordinate and heatmap losses).

    Args:
        losses: list of loss configs (or loss objects). Losses with
            trainable weights (Keras layers such as ``RLELoss``) are not
            supported here: their weights would not be tracked.

    Example:

    >>> import numpy as np
    >>> wrapper = MultipleLossWrapper([dict(type="L1Loss"),
    ...                                dict(type="MSELoss")])
    >>> x, y = np.ones((1, 1, 2)), np.zeros((1, 1, 2))
    >>> [float(v) for v in wrapper([x, x], [y, y])]
    [1.0, 1.0]
    """

    def __init__(self, losses):
        if not isinstance(losses, list | tuple) or not losses:
            raise ValueError(
                "MultipleLossWrapper expects a non-empty list of loss "
                f"configs. Received: {losses!r}"
            )
        self.loss_modules = [build(cfg) for cfg in losses]
        for loss in self.loss_modules:
            if isinstance(loss, keras.layers.Layer):
                raise ValueError(
                    "MultipleLossWrapper cannot hold losses with weights "
                    f"(Keras layers). Received: {type(loss).__name__}"
                )
        self.num_losses = len(self.loss_modules)

    def __call__(self, input_list, target_list, keypoint_weights=None):
        """Computes every loss.

        Args:
            input_list: list of outputs, one per loss.
            target_list: list of targets, one per loss.
            keypoint_weights: weights passed to every loss.

        Returns:
            list of the losses, in order.
        """
        if not isinstance(input_list, list | tuple) or not isinstance(
            target_list, list | tuple
        ):
            raise TypeError(
                "MultipleLossWrapper expects lists of outputs and targets. "
                f"Received: {type(input_list).__name__} and "
                f"{type(target_list).__name__}"
            )
        if not len(input_list) == len(target_list) == self.num_losses:
            raise ValueError(
                f"MultipleLossWrapper has {self.num_losses} losses but "
                f"received {len(input_list)} outputs and {len(target_list)} "
                "targets."
            )
        return [
            loss(x, y, keypoint_weights)
            for loss, x, y in zip(self.loss_modules, input_list, target_list)
        ]

    def get_config(self):
        return dict(losses=[to_config(loss) for loss in self.loss_modules])
