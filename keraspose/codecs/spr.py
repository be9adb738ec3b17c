"""Structured Pose Representation codec (SPR, used by DEKR)."""

import numpy as np
from keras import ops

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.base import check_keypoints
from keraspose.codecs.utils.gaussian_heatmap import generate_gaussian_heatmaps
from keraspose.codecs.utils.heatmap_nms import batch_heatmap_nms
from keraspose.codecs.utils.instance_property import ROOT_TYPES
from keraspose.codecs.utils.instance_property import get_diagonal_lengths
from keraspose.codecs.utils.instance_property import get_instance_root
from keraspose.codecs.utils.offset_heatmap import generate_displacement_heatmap
from keraspose.registry import register
from keraspose.utils.checks import positive_int
from keraspose.utils.checks import size_pair

#: Keys of the device-stage dict of :meth:`SPR.decode_device`.
DEVICE_KEYS = ("keypoints", "root_scores", "keypoint_scores", "instance_mask")


def _number(value, name, positive=False):
    if isinstance(value, bool) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"Expected `{name}` as a number. Received: {name}={value!r}"
        )
    if positive and not value > 0:
        raise ValueError(f"Expected `{name}` > 0. Received: {name}={value!r}")
    return value


def _resolve_sigma(sigma, heatmap_size, generate_keypoint_heatmaps):
    """MMPose's sigmas: ``(root,)`` or ``(root, keypoint)``."""
    if sigma is None:
        sigma = (heatmap_size[0] * heatmap_size[1]) ** 0.5 / 32
        sigmas = (sigma, sigma // 2) if generate_keypoint_heatmaps else (sigma,)
    else:
        sigmas = tuple(sigma) if isinstance(sigma, (tuple, list)) else (sigma,)
        if generate_keypoint_heatmaps and len(sigmas) != 2:
            raise ValueError(
                "SPR with generate_keypoint_heatmaps=True needs two sigmas, "
                "(root, keypoint), e.g. sigma=(4, 2). Received: "
                f"sigma={sigma!r}"
            )
        if not sigmas:
            raise ValueError(
                f"Expected at least one sigma. Received: sigma={sigma!r}"
            )
    for s in sigmas:
        _number(s, "sigma")
    used = sigmas[:2] if generate_keypoint_heatmaps else sigmas[:1]
    if min(used) <= 0:
        raise ValueError(
            "Expected sigmas > 0 (the keypoint sigma defaults to "
            "root_sigma // 2, which is 0 for heatmaps smaller than 64x64 "
            f"pixels: pass sigma explicitly). Received: sigma={sigma!r} -> "
            f"{used} for heatmap_size={tuple(heatmap_size)}"
        )
    return tuple(float(s) for s in sigmas)


@register
class SPR(BaseKeypointCodec):
    """Structured Pose Representation: root heatmaps plus displacements.

    Reference: Nie et al., "Single-Stage Multi-Person Pose Machines",
    ICCV 2019 (https://arxiv.org/abs/1908.09220); used by DEKR (Geng et
    al., "Bottom-Up Human Pose Estimation Via Disentangled Keypoint
    Regression", CVPR 2021).

    Each instance is a root (the mean, or box centre, of its visible
    keypoints) drawn as a Gaussian on a root heatmap, and a displacement
    field: pixels around the root store the vectors to the instance's
    keypoints. Numbers follow MMPose 1.3.2, quirks included:

    * ``sigma=None`` gives a root sigma of ``sqrt(W * H) / 32`` and, with
      keypoint heatmaps, a keypoint sigma of ``root_sigma // 2`` (floor);
      a sigma that comes out as 0 raises here instead of NaN heatmaps.
    * Instances whose keypoint box diagonal is below
      ``minimal_diagonal_length`` get no root and no displacements (their
      keypoints still get keypoint heatmaps).
    * The displacement window around a root is ``[int(r - sigma),
      int(r + sigma))`` (truncation, no ``+ 1``); overlaps keep the
      smaller instance through a size map shared by all keypoints (see
      :func:`~keraspose.codecs.utils.offset_heatmap.generate_displacement_heatmap`).
    * Decoding samples the keypoint heatmaps at the decoded keypoints with
      ``grid_sample(align_corners=False, padding_mode='border')`` after
      normalising by ``(w - 1)``, so scores are read about half a pixel
      off; we reproduce it.
    * Without keypoint heatmaps MMPose's keypoint scores are None; ours are
      ones (so ``root_score * keypoint_score`` is the root score).

    Encoded (channels-last, MMPose's channel order): ``heatmaps`` (H, W, C)
    with C = 1 (root) or K + 1 (K keypoints then the root),
    ``heatmap_weights`` (H, W, C) (1 where the heatmap is > 0, else
    ``background_weight``), ``displacements`` (H, W, 2K) (channel ``2k``:
    x, ``2k + 1``: y) and ``displacement_weights`` (H, W, 2K)
    (``1 / diagonal_length`` where set).

    Decoding is split for compiled prediction: :meth:`decode_device`
    (``keras.ops``, fixed shapes: root NMS, top
    ``decode_max_instances`` roots, keypoints from the displacements,
    keypoint scores) and :meth:`decode_host` (NumPy: valid instances
    first, padding zeroed). :meth:`decode` runs both.

    Args:
        input_size: model input size (w, h).
        heatmap_size: heatmap size (W, H).
        sigma: root sigma, or ``(root, keypoint)`` sigmas; None computes
            them from the heatmap size (see above).
        generate_keypoint_heatmaps: also encode K keypoint heatmaps.
        root_type: ``'kpt_center'`` or ``'bbox_center'``.
        minimal_diagonal_length: smaller instances are not trained on
            (heatmap pixels).
        background_weight: heatmap weight of background pixels.
        decode_nms_kernel: odd window of the root heatmap NMS.
        decode_max_instances: instances decoded per image (M).
        decode_thr: minimal root score of a decoded instance.

    Example:

    >>> import numpy as np
    >>> codec = SPR(input_size=(64, 64), heatmap_size=(16, 16), sigma=(2, 1),
    ...             generate_keypoint_heatmaps=True)
    >>> kpts = np.array([[[20.0, 20.0], [40.0, 28.0], [28.0, 44.0]]])
    >>> enc = codec.encode(kpts, np.ones((1, 3)))
    >>> enc["heatmaps"].shape, enc["displacements"].shape
    ((16, 16, 4), (16, 16, 6))
    >>> out = codec.decode(enc["heatmaps"][None], enc["displacements"][None])
    >>> out["keypoints"].shape, int(out["instance_mask"].sum())
    ((1, 30, 3, 2), 1)
    >>> out["keypoints"][0, 0].round(2).tolist()
    [[20.0, 20.0], [40.0, 28.0], [28.0, 44.0]]
    """

    label_keys = ()
    field_keys = (
        "heatmaps",
        "heatmap_weights",
        "displacements",
        "displacement_weights",
    )

    def __init__(
        self,
        input_size,
        heatmap_size,
        sigma=None,
        generate_keypoint_heatmaps=False,
        root_type="kpt_center",
        minimal_diagonal_length=5,
        background_weight=0.1,
        decode_nms_kernel=5,
        decode_max_instances=30,
        decode_thr=0.01,
    ):
        self.input_size = size_pair(input_size, "input_size")
        self.heatmap_size = size_pair(heatmap_size, "heatmap_size")
        self.generate_keypoint_heatmaps = bool(generate_keypoint_heatmaps)
        self.sigma = _resolve_sigma(
            sigma, self.heatmap_size, self.generate_keypoint_heatmaps
        )
        if root_type not in ROOT_TYPES:
            raise ValueError(
                f"Expected root_type in {ROOT_TYPES}. Received: "
                f"root_type={root_type!r}"
            )
        self.root_type = root_type
        self.minimal_diagonal_length = float(
            _number(minimal_diagonal_length, "minimal_diagonal_length")
        )
        self.background_weight = float(
            _number(background_weight, "background_weight")
        )
        self.decode_nms_kernel = positive_int(
            decode_nms_kernel, "decode_nms_kernel", odd=True
        )
        self.decode_max_instances = positive_int(
            decode_max_instances, "decode_max_instances"
        )
        self.decode_thr = float(_number(decode_thr, "decode_thr"))
        self.scale_factor = (
            np.array(self.input_size) / self.heatmap_size
        ).astype(np.float32)

    # --- encode (host, NumPy) ---------------------------------------------

    def _heatmap_weights(self, heatmaps):
        bg = np.float32(self.background_weight)
        return np.where(heatmaps > 0, np.float32(1.0), bg).astype(np.float32)

    def encode(self, keypoints, keypoints_visible=None):
        """Encodes one image's instances into SPR targets.

        Args:
            keypoints: (N, K, 2) keypoints in model-input pixels (N may be
                0).
            keypoints_visible: (N, K) visibility, or None for all visible.

        Returns:
            dict with ``heatmaps`` and ``heatmap_weights`` (H, W, C),
            ``displacements`` and ``displacement_weights`` (H, W, 2K),
            float32 (see the class docstring).
        """
        keypoints, keypoints_visible = check_keypoints(
            keypoints, keypoints_visible, "SPR"
        )
        kpts = keypoints / self.scale_factor
        roots, roots_visible = get_instance_root(
            kpts, keypoints_visible, self.root_type
        )
        diagonal_lengths = get_diagonal_lengths(kpts, keypoints_visible)
        small = diagonal_lengths < np.float32(self.minimal_diagonal_length)
        roots_visible[small] = 0
        heatmaps, _ = generate_gaussian_heatmaps(
            self.heatmap_size,
            roots[:, None],
            roots_visible[:, None],
            self.sigma[0],
        )
        heatmap_weights = self._heatmap_weights(heatmaps)
        if self.generate_keypoint_heatmaps:
            kpt_heatmaps, _ = generate_gaussian_heatmaps(
                self.heatmap_size, kpts, keypoints_visible, self.sigma[1]
            )
            heatmaps = np.concatenate([kpt_heatmaps, heatmaps], axis=-1)
            heatmap_weights = np.concatenate(
                [self._heatmap_weights(kpt_heatmaps), heatmap_weights],
                axis=-1,
            )
        displacements, displacement_weights = generate_displacement_heatmap(
            self.heatmap_size,
            kpts,
            keypoints_visible,
            roots,
            roots_visible,
            diagonal_lengths,
            self.sigma[0],
        )
        return dict(
            heatmaps=heatmaps,
            heatmap_weights=heatmap_weights,
            displacements=displacements,
            displacement_weights=displacement_weights,
        )

    # --- decode: device stage (keras.ops) ---------------------------------

    def decode_device(self, heatmaps, displacements):
        """Device stage of decoding, in ``keras.ops`` with fixed shapes.

        Args:
            heatmaps: (B, h, w, C) heatmaps, the root heatmap last (C = 1 or
                K + 1).
            displacements: (B, h, w, 2K) displacement fields.

        Returns:
            dict of tensors: ``keypoints`` (B, M, K, 2) float32 in
            model-input pixels, ``root_scores`` (B, M), ``keypoint_scores``
            (B, M, K) (ones without keypoint heatmaps) and
            ``instance_mask`` (B, M) bool (root score > ``decode_thr``),
            instances by decreasing root score; M =
            ``decode_max_instances``.
        """
        heatmaps = ops.cast(ops.convert_to_tensor(heatmaps), "float32")
        displacements = ops.cast(
            ops.convert_to_tensor(displacements), "float32"
        )
        if len(heatmaps.shape) != 4 or len(displacements.shape) != 4:
            raise ValueError(
                "SPR.decode_device expects heatmaps (B, h, w, C) and "
                "displacements (B, h, w, 2K). Received shapes "
                f"{tuple(heatmaps.shape)} and {tuple(displacements.shape)}"
            )
        h, w = heatmaps.shape[1], heatmaps.shape[2]
        channels, two_k = heatmaps.shape[3], displacements.shape[3]
        if None in (h, w, channels, two_k) or two_k % 2:
            raise ValueError(
                "SPR.decode_device needs static map sizes and an even number "
                "of displacement channels. Received shapes "
                f"{tuple(heatmaps.shape)} and {tuple(displacements.shape)}"
            )
        k = two_k // 2
        batch = ops.shape(heatmaps)[0]
        m = self.decode_max_instances
        top = min(m, h * w)
        peaks = batch_heatmap_nms(heatmaps[..., -1:], self.decode_nms_kernel)
        root_scores, index = ops.top_k(
            ops.reshape(peaks, (batch, h * w)), top, sorted=True
        )
        index = ops.cast(index, "int32")
        flat = ops.reshape(displacements, (batch, h * w, two_k))
        gather = ops.broadcast_to(index[..., None], (batch, top, two_k))
        disp = ops.reshape(
            ops.take_along_axis(flat, gather, axis=1), (batch, top, k, 2)
        )
        grid = ops.stack(
            [
                ops.cast(index % w, "float32"),
                ops.cast(index // w, "float32"),
            ],
            axis=-1,
        )
        keypoints = grid[:, :, None, :] + disp  # heatmap pixels
        if self.generate_keypoint_heatmaps and channels == k + 1:
            keypoint_scores = _sample_scores(heatmaps[..., :k], keypoints)
        else:
            keypoint_scores = ops.ones((batch, top, k), "float32")
        keypoints = keypoints * ops.convert_to_tensor(self.scale_factor)
        if top < m:  # fewer heatmap pixels than instances: pad
            pad = m - top
            keypoints = ops.pad(keypoints, ((0, 0), (0, pad), (0, 0), (0, 0)))
            root_scores = ops.pad(root_scores, ((0, 0), (0, pad)))
            keypoint_scores = ops.pad(
                keypoint_scores, ((0, 0), (0, pad), (0, 0))
            )
        instance_mask = ops.logical_and(
            ops.greater(root_scores, self.decode_thr),
            ops.arange(m)[None] < top,
        )
        return dict(
            keypoints=keypoints,
            root_scores=root_scores,
            keypoint_scores=keypoint_scores,
            instance_mask=instance_mask,
        )

    # --- decode: host stage (NumPy) ----------------------------------------

    def decode_host(self, preds):
        """Host stage of decoding: valid instances first, padding zeroed.

        Args:
            preds: dict of NumPy arrays with the keys of
                :meth:`decode_device` (``keypoints`` (B, M, K, 2),
                ``root_scores`` (B, M), ``keypoint_scores`` (B, M, K),
                ``instance_mask`` (B, M)); other keys are passed through.

        Returns:
            dict of NumPy arrays with the same keys: ``keypoints`` float32
            in model-input pixels, ``root_scores`` and ``keypoint_scores``
            float32 (MMPose's ``(root_scores, keypoint_scores)``), and
            ``instance_mask`` bool, valid instances first in their decoded
            order, invalid entries zero.
        """
        missing = [key for key in DEVICE_KEYS if key not in preds]
        if missing:
            raise ValueError(
                f"SPR.decode_host expects a dict with keys {DEVICE_KEYS}. "
                f"Missing: {missing}; received keys: {sorted(preds)}"
            )
        mask = np.asarray(preds["instance_mask"]).astype(bool)
        order = np.argsort(~mask, axis=1, kind="stable")
        mask = np.take_along_axis(mask, order, axis=1)
        out = dict(preds)
        for key in DEVICE_KEYS[:3]:
            value = np.asarray(preds[key], np.float32)
            idx = order.reshape(order.shape + (1,) * (value.ndim - 2))
            value = np.take_along_axis(value, idx, axis=1)
            keep = mask.reshape(mask.shape + (1,) * (value.ndim - 2))
            out[key] = np.where(keep, value, 0).astype(np.float32)
        out["instance_mask"] = mask
        return out

    def decode(self, heatmaps, displacements):
        """Decodes heatmaps and displacements (both stages).

        Args:
            heatmaps: (B, h, w, C) heatmaps, or (h, w, C) for one image.
            displacements: (B, h, w, 2K), or (h, w, 2K).

        Returns:
            The dict of :meth:`decode_host` (batched; B = 1 for one image).
        """
        heatmaps = ops.convert_to_tensor(heatmaps)
        displacements = ops.convert_to_tensor(displacements)
        if len(heatmaps.shape) == 3:
            heatmaps = heatmaps[None]
        if len(displacements.shape) == 3:
            displacements = displacements[None]
        device = self.decode_device(heatmaps, displacements)
        host = {key: ops.convert_to_numpy(v) for key, v in device.items()}
        return self.decode_host(host)

    def get_config(self):
        return dict(
            input_size=self.input_size,
            heatmap_size=self.heatmap_size,
            sigma=self.sigma,
            generate_keypoint_heatmaps=self.generate_keypoint_heatmaps,
            root_type=self.root_type,
            minimal_diagonal_length=self.minimal_diagonal_length,
            background_weight=self.background_weight,
            decode_nms_kernel=self.decode_nms_kernel,
            decode_max_instances=self.decode_max_instances,
            decode_thr=self.decode_thr,
        )


def _sample_scores(heatmaps, keypoints):
    """Keypoint heatmaps read at the keypoints as MMPose's
    ``get_keypoint_scores``: coordinates normalised by ``(size - 1)``, then
    ``grid_sample`` (bilinear, ``align_corners=False``, border padding).

    Args:
        heatmaps: (B, h, w, K) float32.
        keypoints: (B, M, K, 2) float32 in heatmap pixels.

    Returns:
        (B, M, K) float32 scores.
    """
    h, w, k = heatmaps.shape[1], heatmaps.shape[2], heatmaps.shape[3]

    def source(coord, size):
        norm = coord / float(size - 1) * 2.0 - 1.0
        pixel = (norm + 1.0) * (size / 2.0) - 0.5
        return ops.clip(pixel, 0.0, float(size - 1))

    x = source(keypoints[..., 0], w)  # (B, M, K)
    y = source(keypoints[..., 1], h)
    x0, y0 = ops.floor(x), ops.floor(y)
    wx, wy = x - x0, y - y0
    ex, sy = 1.0 - wx, 1.0 - wy
    xi, yi = ops.cast(x0, "int32"), ops.cast(y0, "int32")
    # maps as (B, K, h * w); corners gathered per keypoint channel
    flat = ops.reshape(ops.transpose(heatmaps, (0, 3, 1, 2)), (-1, k, h * w))

    def corner(dy, dx):
        yy, xx = yi + dy, xi + dx
        inside = (yy < h) & (xx < w)
        idx = ops.minimum(yy, h - 1) * w + ops.minimum(xx, w - 1)
        idx = ops.transpose(idx, (0, 2, 1))  # (B, K, M)
        val = ops.transpose(ops.take_along_axis(flat, idx, axis=2), (0, 2, 1))
        return ops.where(inside, val, 0.0)

    return (
        corner(0, 0) * (sy * ex)
        + corner(0, 1) * (sy * wx)
        + corner(1, 0) * (wy * ex)
        + corner(1, 1) * (wy * wx)
    )
