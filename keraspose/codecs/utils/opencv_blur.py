"""OpenCV's ``GaussianBlur(src, (k, k), 0)`` without OpenCV.

MMPose blurs heatmaps with ``cv2.GaussianBlur`` in several codecs; keraspose
depends only on Keras and NumPy, so this module reproduces it: OpenCV's
kernel for ``sigma=0`` (``sigma = 0.3 * ((k - 1) / 2 - 1) + 0.8``, or its
fixed table for k <= 7), its default border ``BORDER_REFLECT_101``
(``dcb|abcd|cba``, repeated for kernels larger than the image) and its
separable filtering (rows first, then columns). These helpers run on the
host; :func:`reflect101_indices` also gives the device-side blur in
``refinement.py`` its static gather indices.
"""

import numpy as np

from keraspose.codecs.utils.post_processing import gaussian_kernel1d


def reflect101_index(p, length):
    """OpenCV's ``borderInterpolate(p, length, BORDER_REFLECT_101)``."""
    if length == 1:
        return 0
    while not 0 <= p < length:
        p = -p if p < 0 else 2 * (length - 1) - p
    return p


def reflect101_indices(length, pad):
    """Source index of each position of a ``pad``-padded axis.

    Args:
        length: axis length.
        pad: padding on each side.

    Returns:
        int array of ``length + 2 * pad`` source indices.

    Example:

    >>> reflect101_indices(4, 2).tolist()
    [2, 1, 0, 1, 2, 3, 2, 1]
    """
    return np.array(
        [reflect101_index(p, length) for p in range(-pad, length + pad)],
        dtype=np.int64,
    )


def blur_matrix(length, kernel_size):
    """The (length, length) matrix of a 1-D OpenCV Gaussian blur.

    ``blurred = M @ signal`` along one axis, border ``REFLECT_101``.

    Args:
        length: axis length.
        kernel_size: odd kernel size.

    Returns:
        float32 (length, length) matrix (taps summed in float32).
    """
    kernel = gaussian_kernel1d(kernel_size).astype(np.float32)
    pad = kernel_size // 2
    src = reflect101_indices(length, pad)
    matrix = np.zeros((length, length), np.float32)
    for i in range(length):
        for t in range(kernel_size):
            matrix[i, src[i + t]] += kernel[t]
    return matrix


def gaussian_blur_delta(heatmap_size, x, y, kernel_size):
    """``cv2.GaussianBlur`` of a unit impulse at (x, y), in float32.

    Args:
        heatmap_size: (W, H).
        x: column of the impulse.
        y: row of the impulse.
        kernel_size: odd kernel size.

    Returns:
        (H, W) float32 blurred map.
    """
    W, H = heatmap_size
    col = blur_matrix(W, kernel_size)[:, x]  # row pass: (W,)
    row = blur_matrix(H, kernel_size)[:, y]  # column pass: (H,)
    return (row[:, None] * col[None, :]).astype(np.float32)


def check_blur_kernel_size(kernel_size, name):
    """Validates an odd positive kernel size (OpenCV's requirement)."""
    if (
        isinstance(kernel_size, bool)
        or not isinstance(kernel_size, int | np.integer)
        or kernel_size <= 0
        or kernel_size % 2 != 1
    ):
        raise ValueError(
            f"Expected `{name}` as an odd positive integer (OpenCV's "
            f"Gaussian kernel size). Received: {name}={kernel_size!r}"
        )
    return int(kernel_size)
