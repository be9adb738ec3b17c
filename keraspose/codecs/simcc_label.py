"""SimCC codec: keypoints as two 1-D classification targets (RTMPose)."""

import numpy as np
from keras import ops

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.base import check_keypoints
from keraspose.codecs.utils.simcc import generate_simcc_gaussian_labels
from keraspose.codecs.utils.simcc import generate_simcc_standard_labels
from keraspose.codecs.utils.simcc import get_simcc_maximum
from keraspose.codecs.utils.simcc import modulate_simcc_dark
from keraspose.codecs.utils.simcc import refine_simcc_dark_modulated
from keraspose.codecs.utils.simcc import simcc_bins
from keraspose.codecs.utils.simcc import simcc_dark_kernel_size
from keraspose.codecs.utils.simcc import simcc_label_size
from keraspose.registry import register
from keraspose.utils.checks import size_pair


def _sigma_pair(sigma):
    if isinstance(sigma, int | float | np.number):
        pair = (float(sigma), float(sigma))
    else:
        try:
            pair = tuple(float(s) for s in sigma)
        except (TypeError, ValueError):
            pair = None
    if pair is None or len(pair) != 2 or not min(pair) > 0:
        raise ValueError(
            "Expected `sigma` as a positive number or a positive (sigma_x, "
            f"sigma_y) pair. Received: sigma={sigma!r}"
        )
    return pair


@register
class SimCCLabel(BaseKeypointCodec):
    """SimCC labels: per-axis classification over sub-pixel bins.

    References: Li et al., "SimCC: a Simple Coordinate Classification
    Perspective for Human Pose Estimation", ECCV 2022; Jiang et al.,
    "RTMPose: Real-Time Multi-Person Pose Estimation based on MMPose", 2023.

    A keypoint at x (input pixels) falls in bin ``round(x * r)`` of
    ``Wx = round(w * r)`` bins (``r = simcc_split_ratio``; rounding is
    half-to-even, as NumPy's and MMPose's). ``encode`` returns MMPose's
    keys, all per-instance (``label_keys``):

    * ``keypoint_x_labels`` (N, K, Wx) and ``keypoint_y_labels`` (N, K, Wy):
      a Gaussian of ``sigma`` bins around the bin (``smoothing_type=
      "gaussian"``, divided by ``sigma * sqrt(2 pi)`` when ``normalize``) or
      a one-hot vector with optional label smoothing (``"standard"``);
    * ``keypoint_weights`` (N, K): the visibilities, 0 for a labelled
      keypoint outside the labels' range (Gaussian mode: whose 3-sigma window
      misses it; standard mode: whose bin is outside).

    ``decode((simcc_x, simcc_y))`` takes batched (B, K, Wx), (B, K, Wy)
    model outputs and returns keypoints (B, K, 2) in input pixels and scores
    (B, K): the argmax bins divided by ``r`` and the smaller of the two
    maxima (location -1 where that is <= 0). ``use_dark`` refines the bins
    with 1-D DARK, using MMPose's blur kernel size
    ``(20 sigma - 7) // 3`` (made odd). With ``decode_visibility`` the result
    is MMPose's ``(keypoints, (scores, visibility))``: visibility is the
    smaller per-axis maximum of ``softmax(s * decode_beta * sigma)``. MMPose
    quirk kept: with ``use_dark`` too, the visibility is computed from the
    DARK-modulated vectors ``log(clip(blur(s), 1e-3, 50))`` (MMPose's DARK
    step rewrites its input arrays in place before the visibility is taken).

    Args:
        input_size: model input size (w, h).
        smoothing_type: "gaussian" or "standard".
        sigma: Gaussian sigma in bins, a number or a (sigma_x, sigma_y)
            pair.
        simcc_split_ratio: bins per input pixel (> 0).
        label_smooth_weight: standard label smoothing weight in [0, 1)
            ("standard" mode only).
        normalize: divide Gaussian labels by ``sigma * sqrt(2 pi)``.
        use_dark: DARK refinement when decoding.
        decode_visibility: also decode a visibility (see above).
        decode_beta: softmax temperature of the visibility decoding.

    Example:

    >>> import numpy as np
    >>> codec = SimCCLabel(input_size=(192, 256), sigma=6.0)
    >>> enc = codec.encode(np.array([[[96.0, 128.0]]]))
    >>> enc["keypoint_x_labels"].shape, enc["keypoint_y_labels"].shape
    ((1, 1, 384), (1, 1, 512))
    >>> kpts, scores = codec.decode(
    ...     (enc["keypoint_x_labels"], enc["keypoint_y_labels"]))
    >>> np.asarray(kpts).tolist()
    [[[96.0, 128.0]]]
    """

    label_keys = ("keypoint_x_labels", "keypoint_y_labels", "keypoint_weights")
    field_keys = ()

    def __init__(
        self,
        input_size,
        smoothing_type="gaussian",
        sigma=6.0,
        simcc_split_ratio=2.0,
        label_smooth_weight=0.0,
        normalize=True,
        use_dark=False,
        decode_visibility=False,
        decode_beta=150.0,
    ):
        self.input_size = size_pair(input_size, "input_size")
        if smoothing_type not in ("gaussian", "standard"):
            raise ValueError(
                "Expected smoothing_type 'gaussian' or 'standard'. Received: "
                f"smoothing_type={smoothing_type!r}"
            )
        self.smoothing_type = smoothing_type
        self.sigma = _sigma_pair(sigma)
        if not float(simcc_split_ratio) > 0:
            raise ValueError(
                "Expected simcc_split_ratio > 0. Received: "
                f"simcc_split_ratio={simcc_split_ratio!r}"
            )
        self.simcc_split_ratio = float(simcc_split_ratio)
        if not 0.0 <= float(label_smooth_weight) < 1.0:
            raise ValueError(
                "Expected label_smooth_weight in [0, 1). Received: "
                f"label_smooth_weight={label_smooth_weight!r}"
            )
        if smoothing_type == "gaussian" and label_smooth_weight > 0:
            raise ValueError(
                "label_smooth_weight is only used with smoothing_type="
                "'standard'. Received: smoothing_type='gaussian', "
                f"label_smooth_weight={label_smooth_weight!r}"
            )
        self.label_smooth_weight = float(label_smooth_weight)
        self.normalize = bool(normalize)
        self.use_dark = bool(use_dark)
        self.decode_visibility = bool(decode_visibility)
        self.decode_beta = float(decode_beta)
        self.label_size = simcc_label_size(
            self.input_size, self.simcc_split_ratio
        )
        if min(self.label_size) < 2:
            raise ValueError(
                "input_size * simcc_split_ratio gives fewer than 2 bins on an "
                f"axis: {self.label_size}. Received: input_size="
                f"{self.input_size}, simcc_split_ratio={simcc_split_ratio!r}"
            )
        self.dark_kernel_sizes = tuple(
            simcc_dark_kernel_size(s) for s in self.sigma
        )
        if self.use_dark and min(self.dark_kernel_sizes) < 1:
            raise ValueError(
                "use_dark needs sigma >= 0.5 (MMPose's blur kernel size "
                f"(20 sigma - 7) // 3 is {self.dark_kernel_sizes}). "
                f"Received: sigma={sigma!r}"
            )

    def encode(self, keypoints, keypoints_visible=None):
        """Encodes one sample's instances into SimCC labels.

        Args:
            keypoints: (N, K, 2) keypoints in input pixels.
            keypoints_visible: (N, K) visibility, or None for all visible.

        Returns:
            dict with ``keypoint_x_labels`` (N, K, Wx), ``keypoint_y_labels``
            (N, K, Wy) and ``keypoint_weights`` (N, K), float32.
        """
        keypoints, keypoints_visible = check_keypoints(
            keypoints, keypoints_visible, "SimCCLabel"
        )
        bins = simcc_bins(keypoints, self.simcc_split_ratio)
        if self.smoothing_type == "gaussian":
            x, y, w = generate_simcc_gaussian_labels(
                self.label_size,
                bins,
                keypoints_visible,
                self.sigma,
                self.normalize,
            )
        else:
            x, y, w = generate_simcc_standard_labels(
                self.label_size,
                bins,
                keypoints_visible,
                self.label_smooth_weight,
            )
        return dict(
            keypoint_x_labels=x, keypoint_y_labels=y, keypoint_weights=w
        )

    def decode(self, encoded, simcc_y=None):
        """Decodes SimCC vectors into keypoints in input pixels.

        Args:
            encoded: ``(simcc_x, simcc_y)`` of shapes (B, K, Wx), (B, K, Wy)
                (or (K, W) each for one sample); or ``simcc_x`` alone with
                ``simcc_y`` given as the second argument (MMPose's
                signature).
            simcc_y: see ``encoded``.

        Returns:
            ``(keypoints (B, K, 2), scores (B, K))``, or with
            ``decode_visibility`` ``(keypoints, (scores, visibility))``.
        """
        simcc_x = encoded if simcc_y is not None else None
        if simcc_x is None:
            if not isinstance(encoded, tuple | list) or len(encoded) != 2:
                raise ValueError(
                    "SimCCLabel.decode expects a pair (simcc_x, simcc_y). "
                    f"Received: {type(encoded).__name__}"
                )
            simcc_x, simcc_y = encoded
        simcc_x = ops.cast(ops.convert_to_tensor(simcc_x), "float32")
        simcc_y = ops.cast(ops.convert_to_tensor(simcc_y), "float32")
        if len(simcc_x.shape) == 2 and len(simcc_y.shape) == 2:
            simcc_x, simcc_y = simcc_x[None], simcc_y[None]
        if len(simcc_x.shape) != 3 or len(simcc_y.shape) != 3:
            raise ValueError(
                "SimCCLabel.decode expects simcc_x (B, K, Wx) and simcc_y "
                f"(B, K, Wy). Received shapes {tuple(simcc_x.shape)} and "
                f"{tuple(simcc_y.shape)}"
            )
        keypoints, scores = get_simcc_maximum(simcc_x, simcc_y)
        if self.use_dark:
            simcc_x = modulate_simcc_dark(simcc_x, self.dark_kernel_sizes[0])
            simcc_y = modulate_simcc_dark(simcc_y, self.dark_kernel_sizes[1])
            keypoints = ops.stack(
                [
                    refine_simcc_dark_modulated(keypoints[..., 0], simcc_x),
                    refine_simcc_dark_modulated(keypoints[..., 1], simcc_y),
                ],
                axis=-1,
            )
        keypoints = keypoints / self.simcc_split_ratio
        if not self.decode_visibility:
            return keypoints, scores
        _, visibility = get_simcc_maximum(
            simcc_x * self.decode_beta * self.sigma[0],
            simcc_y * self.decode_beta * self.sigma[1],
            apply_softmax=True,
        )
        return keypoints, (scores, visibility)

    def get_config(self):
        sigma = self.sigma if self.sigma[0] != self.sigma[1] else self.sigma[0]
        return dict(
            input_size=self.input_size,
            smoothing_type=self.smoothing_type,
            sigma=sigma,
            simcc_split_ratio=self.simcc_split_ratio,
            label_smooth_weight=self.label_smooth_weight,
            normalize=self.normalize,
            use_dark=self.use_dark,
            decode_visibility=self.decode_visibility,
            decode_beta=self.decode_beta,
        )
