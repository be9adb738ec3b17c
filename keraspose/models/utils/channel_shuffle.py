"""ShuffleNet's channel shuffle on channels-last tensors."""

import numpy as np
from keras import ops


def channel_shuffle(x, groups):
    """Interleaves the channel groups of a channels-last tensor.

    Reference: Zhang et al., "ShuffleNet: An Extremely Efficient
    Convolutional Neural Network for Mobile Devices", CVPR 2018. The ``C``
    channels are viewed as ``(groups, C // groups)`` and transposed, so
    output channel ``i * groups + g`` is input channel
    ``g * (C // groups) + i``: the same order as MMPose's NCHW
    ``channel_shuffle``. It is a gather on the last axis, so any leading
    shape (even unknown) works.

    Args:
        x: a tensor whose last axis holds the channels (static size).
        groups: number of groups; must divide the channels.

    Returns:
        The shuffled tensor, same shape and dtype.

    Example:

    >>> import numpy as np
    >>> x = np.arange(6, dtype="float32").reshape(1, 1, 1, 6)
    >>> channel_shuffle(x, 2)[0, 0, 0].tolist()
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """
    channels = x.shape[-1]
    if channels is None or groups < 1 or channels % groups:
        raise ValueError(
            "Expected a static channel count divisible by groups. "
            f"Received: shape={tuple(x.shape)}, groups={groups}"
        )
    per_group = channels // groups
    order = np.arange(channels).reshape(groups, per_group).T.reshape(-1)
    return ops.take(x, ops.convert_to_tensor(order, "int32"), axis=-1)
