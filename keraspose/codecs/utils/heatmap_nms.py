"""Heatmap non-maximum suppression in ``keras.ops`` (device side, jit-safe).

Bottom-up codecs (Associative Embedding, SPR) keep only the local maxima of
their heatmaps before picking candidates with top-k, as MMPose's
``batch_heatmap_nms`` does.
"""

from keras import ops


def batch_heatmap_nms(heatmaps, kernel_size=5):
    """Zeroes every heatmap pixel that is not the maximum of its window.

    Equivalent to MMPose's ``batch_heatmap_nms``: a stride-1 max-pool whose
    padding never wins (PyTorch pads max-pooling with ``-inf``), then
    ``heatmaps * (heatmaps == pooled)``. Ties keep all tied pixels.

    Args:
        heatmaps: (B, H, W, K) channels-last heatmaps.
        kernel_size: odd window size. Defaults to 5.

    Returns:
        (B, H, W, K) heatmaps with non-maxima set to 0, same dtype.

    Raises:
        ValueError: if ``kernel_size`` is not a positive odd integer.

    Example:

    >>> import numpy as np
    >>> hm = np.zeros((1, 5, 5, 1), "float32")
    >>> hm[0, 2, 2, 0], hm[0, 2, 3, 0] = 1.0, 0.5
    >>> out = batch_heatmap_nms(hm, kernel_size=3)
    >>> float(ops.sum(out))
    1.0
    """
    if (
        isinstance(kernel_size, bool)
        or not isinstance(kernel_size, int)
        or kernel_size < 1
        or kernel_size % 2 != 1
    ):
        raise ValueError(
            "Expected kernel_size to be a positive odd integer. Received "
            f"kernel_size={kernel_size!r}"
        )
    heatmaps = ops.convert_to_tensor(heatmaps)
    if kernel_size == 1:
        return heatmaps
    pad = (kernel_size - 1) // 2
    padded = ops.pad(
        heatmaps,
        ((0, 0), (pad, pad), (pad, pad), (0, 0)),
        constant_values=float("-inf"),
    )
    maximum = ops.max_pool(
        padded, pool_size=kernel_size, strides=1, padding="valid"
    )
    keep = ops.cast(ops.equal(heatmaps, maximum), heatmaps.dtype)
    return heatmaps * keep
