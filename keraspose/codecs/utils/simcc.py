"""SimCC maths: 1-D label encoding (host NumPy) and decoding (keras.ops).

SimCC represents a keypoint by two 1-D classification vectors, one over the
``Wx = w * simcc_split_ratio`` x bins and one over the ``Wy`` y bins.
Encoding (:func:`generate_simcc_gaussian_labels`,
:func:`generate_simcc_standard_labels`) runs on the host for one sample's
instances, vectorised over instances and keypoints. Decoding
(:func:`get_simcc_maximum`, :func:`refine_simcc_dark`,
:func:`get_simcc_normalized`) takes batched (B, K, W) tensors and runs on the
device. Numbers follow MMPose 1.3.2 (see each function for its quirks).

Reference: Li et al., "SimCC: a Simple Coordinate Classification
Perspective for Human Pose Estimation", ECCV 2022.
"""

import math

import numpy as np
from keras import ops

from keraspose.codecs.utils.post_processing import gaussian_kernel1d


def simcc_label_size(input_size, simcc_split_ratio):
    """Numbers of x and y bins of the codec's labels, ``round(size * r)``.

    Note that MMPose's heads size their classifiers with ``int(size * r)``
    (truncation); both agree when ``size * r`` is an integer.
    """
    w, h = input_size
    return (
        int(np.around(w * simcc_split_ratio)),
        int(np.around(h * simcc_split_ratio)),
    )


def simcc_bins(keypoints, simcc_split_ratio):
    """Bin indices ``round(kpt * r)``: float32 product, half to even."""
    scaled = keypoints.astype(np.float32) * np.float32(simcc_split_ratio)
    return np.around(scaled).astype(np.int64)


def generate_simcc_gaussian_labels(
    label_size, keypoints, keypoints_visible, sigma, normalize=True
):
    """Gaussian-smoothed SimCC labels.

    Each labelled keypoint (visibility >= 0.5) gets ``exp(-(i - mu)^2 /
    (2 sigma^2))`` over all bins ``i``, with ``mu`` its rounded bin. A
    keypoint whose 3-sigma window misses the label range on either axis gets
    weight 0 and zero labels; weights are otherwise the visibilities (values
    in (0, 0.5) keep their weight but get no label, as in MMPose).

    Args:
        label_size: (Wx, Wy) numbers of bins.
        keypoints: (N, K, 2) keypoints in bins (already multiplied by the
            split ratio and rounded), int64.
        keypoints_visible: (N, K) visibility.
        sigma: (sigma_x, sigma_y) in bins.
        normalize: divide by ``sigma * sqrt(2 pi)``.

    Returns:
        ``(x_labels (N, K, Wx), y_labels (N, K, Wy), weights (N, K))``,
        float32.
    """
    wx, wy = label_size
    sx, sy = float(sigma[0]), float(sigma[1])
    weights = keypoints_visible.astype(np.float32).copy()
    labelled = keypoints_visible >= 0.5
    mu_x = keypoints[..., 0].astype(np.float64)
    mu_y = keypoints[..., 1].astype(np.float64)
    outside = (
        (mu_x - 3 * sx >= wx)
        | (mu_y - 3 * sy >= wy)
        | (mu_x + 3 * sx + 1 < 0)
        | (mu_y + 3 * sy + 1 < 0)
    )
    weights = np.where(labelled & outside, 0.0, weights).astype(np.float32)
    active = (labelled & ~outside)[..., None]
    # float32 throughout, like MMPose's NumPy arithmetic on float32 bins
    bins_x = np.arange(wx, dtype=np.float32)
    bins_y = np.arange(wy, dtype=np.float32)
    dx = bins_x - mu_x[..., None].astype(np.float32)
    dy = bins_y - mu_y[..., None].astype(np.float32)
    gx = np.exp(-(dx**2) / np.float32(2 * sx**2))
    gy = np.exp(-(dy**2) / np.float32(2 * sy**2))
    x_labels = np.where(active, gx, 0.0).astype(np.float32)
    y_labels = np.where(active, gy, 0.0).astype(np.float32)
    if normalize:
        x_labels = x_labels / np.float32(sx * math.sqrt(2 * math.pi))
        y_labels = y_labels / np.float32(sy * math.sqrt(2 * math.pi))
    return x_labels, y_labels, weights


def generate_simcc_standard_labels(
    label_size, keypoints, keypoints_visible, label_smooth_weight=0.0
):
    """One-hot SimCC labels with optional standard label smoothing.

    A labelled keypoint (visibility >= 0.5) whose bin lies outside the label
    range gets weight 0 and zero labels. Otherwise its vector is
    ``1 - label_smooth_weight`` at its bin and
    ``label_smooth_weight / (W - 1)`` elsewhere.

    Args:
        label_size: (Wx, Wy) numbers of bins.
        keypoints: (N, K, 2) int64 bins.
        keypoints_visible: (N, K) visibility.
        label_smooth_weight: smoothing weight in [0, 1).

    Returns:
        ``(x_labels (N, K, Wx), y_labels (N, K, Wy), weights (N, K))``,
        float32.
    """
    wx, wy = label_size
    weights = keypoints_visible.astype(np.float32).copy()
    labelled = keypoints_visible >= 0.5
    mu_x, mu_y = keypoints[..., 0], keypoints[..., 1]
    outside = (mu_x >= wx) | (mu_y >= wy) | (mu_x < 0) | (mu_y < 0)
    weights = np.where(labelled & outside, 0.0, weights).astype(np.float32)
    active = (labelled & ~outside)[..., None]
    lsw = float(label_smooth_weight)
    labels = []
    for size, mu in ((wx, mu_x), (wy, mu_y)):
        fill = np.float32(lsw / (size - 1)) if lsw > 0 else np.float32(0)
        hit = np.arange(size) == mu[..., None]
        values = np.where(hit, np.float32(1.0 - lsw), fill)
        labels.append(np.where(active, values, 0.0).astype(np.float32))
    return labels[0], labels[1], weights


# --- decoding (keras.ops, batched) --------------------------------------


def get_simcc_maximum(simcc_x, simcc_y, apply_softmax=False):
    """Bins and values of the SimCC maxima, batched.

    As MMPose's ``get_simcc_maximum``: the score is the smaller of the two
    axes' maxima, and the location is (-1, -1) where that score is <= 0.

    Args:
        simcc_x: (B, K, Wx).
        simcc_y: (B, K, Wy).
        apply_softmax: take the maxima of the softmax over the bins.

    Returns:
        ``(locs (B, K, 2) float32 as (x, y) bins, vals (B, K) float32)``.
    """
    simcc_x = ops.cast(simcc_x, "float32")
    simcc_y = ops.cast(simcc_y, "float32")
    x_locs = ops.cast(ops.argmax(simcc_x, axis=-1), "float32")
    y_locs = ops.cast(ops.argmax(simcc_y, axis=-1), "float32")
    if apply_softmax:
        # The maximum of a softmax is 1 / sum(exp(s - max s)).
        max_x = 1.0 / ops.sum(
            ops.exp(simcc_x - ops.max(simcc_x, axis=-1, keepdims=True)), -1
        )
        max_y = 1.0 / ops.sum(
            ops.exp(simcc_y - ops.max(simcc_y, axis=-1, keepdims=True)), -1
        )
    else:
        max_x = ops.max(simcc_x, axis=-1)
        max_y = ops.max(simcc_y, axis=-1)
    vals = ops.where(max_x > max_y, max_y, max_x)
    locs = ops.stack([x_locs, y_locs], axis=-1)
    locs = ops.where(ops.expand_dims(vals <= 0, -1), -1.0, locs)
    return locs, vals


def get_simcc_normalized(simcc, sigma=None):
    """MMPose's ``get_simcc_normalized`` (SimCC -> [0, 1] for display).

    Divides by ``sigma * sqrt(2 pi)`` when ``sigma`` is given, clamps at 0,
    and rescales each vector whose maximum exceeds 1 to a maximum of 1.

    Args:
        simcc: (B, K, W).
        sigma: optional Gaussian sigma of the labels.

    Returns:
        (B, K, W) float32.
    """
    simcc = ops.cast(simcc, "float32")
    if sigma is not None:
        simcc = simcc / float(sigma * np.sqrt(np.pi * 2))
    simcc = ops.maximum(simcc, 0.0)
    peak = ops.max(simcc, axis=-1, keepdims=True)
    safe = ops.where(peak > 1, peak, 1.0)
    return ops.where(peak > 1, simcc / safe, simcc)


def simcc_dark_kernel_size(sigma):
    """MMPose's DARK blur kernel size for a SimCC sigma (odd).

    ``int((20 sigma - 7) // 3)``, minus one if even: 37 for sigma 6.
    """
    size = int((sigma * 20 - 7) // 3)
    size -= int(size % 2 == 0)
    return size


def gaussian_blur1d(simcc, kernel_size):
    """Zero-padded 1-D Gaussian blur of each vector, max-preserving.

    MMPose's ``gaussian_blur1d`` (OpenCV's ``GaussianBlur`` with a
    ``(kernel_size, 1)`` kernel on a zero-padded copy), rescaled so that each
    vector keeps its maximum. A vector that blurs to an all-zero maximum is
    left unscaled (MMPose divides by zero there).

    Args:
        simcc: (B, K, W).
        kernel_size: odd kernel size.

    Returns:
        Blurred (B, K, W) float32.
    """
    if kernel_size < 1 or kernel_size % 2 != 1:
        raise ValueError(
            "Expected a positive odd blur kernel size. Received: "
            f"kernel_size={kernel_size}"
        )
    simcc = ops.cast(simcc, "float32")
    shape = ops.shape(simcc)
    width = shape[-1]
    g = gaussian_kernel1d(kernel_size).astype(np.float32)
    kernel = ops.convert_to_tensor(g.reshape(kernel_size, 1, 1))
    flat = ops.reshape(simcc, (-1, width, 1))
    blurred = ops.conv(flat, kernel, strides=1, padding="same")
    blurred = ops.reshape(blurred, shape)
    origin_max = ops.max(simcc, axis=-1, keepdims=True)
    new_max = ops.max(blurred, axis=-1, keepdims=True)
    safe = ops.where(new_max == 0, 1.0, new_max)
    return blurred * (origin_max / safe)


def modulate_simcc_dark(simcc, kernel_size):
    """DARK's modulated log-likelihood: ``log(clip(blur(s), 1e-3, 50))``."""
    blurred = gaussian_blur1d(simcc, kernel_size)
    return ops.log(ops.clip(blurred, 1e-3, 50.0))


def refine_simcc_dark_modulated(keypoints, log_simcc):
    """DARK's Newton step on an already modulated (log) SimCC.

    ``x - (0.5 (s[x+1] - s[x-1])) / (1e-9 + 0.25 (s[x+2] - 2 s[x] +
    s[x-2]))`` on the edge-padded vector, at ``int(x + 2.5)`` of the padded
    vector, as MMPose's ``refine_simcc_dark``: a location of -1 (no maximum)
    reads index -1 of the padded vector, i.e. wraps to its last bin.

    Args:
        keypoints: (B, K) integer-valued locations along the axis.
        log_simcc: (B, K, W) output of :func:`modulate_simcc_dark`.

    Returns:
        Refined (B, K) float32 locations.
    """
    s = log_simcc
    first, last = s[..., :1], s[..., -1:]
    padded = ops.concatenate([first, first, s, last, last], axis=-1)
    length = ops.shape(padded)[-1]
    keypoints = ops.cast(keypoints, "float32")
    px = ops.cast(ops.trunc(keypoints + 2.5), "int32")

    def at(offset):
        index = px + offset
        index = ops.where(index < 0, index + length, index)
        index = ops.clip(index, 0, length - 1)
        return ops.squeeze(
            ops.take_along_axis(padded, ops.expand_dims(index, -1), -1), -1
        )

    dx = 0.5 * (at(1) - at(-1))
    dxx = 1e-9 + 0.25 * (at(2) - 2 * at(0) + at(-2))
    return keypoints - dx / dxx


def refine_simcc_dark(keypoints, simcc, blur_kernel_size):
    """Distribution-aware (DARK) sub-bin refinement of SimCC locations.

    Reference: Zhang et al., "Distribution-Aware Coordinate Representation
    for Human Pose Estimation", CVPR 2020 (its 1-D form, as MMPose's
    ``refine_simcc_dark``).

    Args:
        keypoints: (B, K) integer-valued maxima along one axis.
        simcc: (B, K, W) raw SimCC along that axis.
        blur_kernel_size: odd modulation kernel size.

    Returns:
        Refined (B, K) float32 locations.

    Example:

    >>> import numpy as np
    >>> s = np.exp(-(np.arange(20.0) - 7.3) ** 2 / 8)[None, None]
    >>> x = refine_simcc_dark(np.array([[7.0]]), s.astype("float32"), 5)
    >>> round(float(np.asarray(x)[0, 0]), 1)
    7.3
    """
    return refine_simcc_dark_modulated(
        keypoints, modulate_simcc_dark(simcc, blur_kernel_size)
    )
