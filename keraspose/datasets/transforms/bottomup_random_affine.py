"""Random shift, scale and rotation of the whole image (bottom-up)."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import check_probability
from keraspose.datasets.transforms.base import split_seed
from keraspose.datasets.transforms.base import truncnorm
from keraspose.datasets.transforms.base import uniform
from keraspose.datasets.transforms.geometry import get_udp_warp_matrix
from keraspose.datasets.transforms.geometry import get_warp_matrix
from keraspose.datasets.transforms.geometry import shift_warp
from keraspose.datasets.transforms.geometry import source_window
from keraspose.datasets.transforms.geometry import transform_points
from keraspose.datasets.transforms.geometry import warp_affine
from keraspose.datasets.transforms.load_image import decode_region
from keraspose.registry import register
from keraspose.utils.lazy_import import tf

_MODES = ("affine", "affine_udp", "perspective")


def check_size(value, name, owner):
    """Validates a (w, h) pair of positive ints."""
    size = tuple(value) if isinstance(value, list | tuple) else ()
    if len(size) != 2 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size
    ):
        raise ValueError(
            f"{owner} expects {name}=(w, h) as two positive ints. "
            f"Received: {name}={value!r}"
        )
    return size


def warp_image(results, warp_mat, output_size, pad_val=(0, 0, 0)):
    """Warps the sample's image (decoded or deferred) like ``cv2``.

    Only the source window the warp reads is decoded for a deferred JPEG.
    A non-zero ``pad_val`` (``cv2``'s ``borderValue``) is blended in with
    the warped coverage of the image, which is exactly OpenCV's bilinear
    mix of border and image taps.

    Returns:
        ``(image, results)`` with the deferred-decoding keys removed.
    """
    shape = (
        tf.shape(results["img"])[:2]
        if "img" in results
        else results["img_shape"]
    )
    x0, y0, x1, y1 = source_window(warp_mat, output_size, shape)
    window = decode_region(results, x0, y0, x1, y1)
    results = {
        k: v
        for k, v in results.items()
        if k not in ("img_bytes", "img_flip_h", "img_flip_v")
    }
    local = shift_warp(warp_mat, x0, y0)
    img = warp_affine(window, local, output_size)
    if any(float(v) != 0.0 for v in pad_val):
        cover = warp_affine(
            tf.ones_like(window[..., :1], tf.float32), local, output_size
        )
        pad = tf.constant([float(v) for v in pad_val], tf.float32)
        raw = warp_affine(tf.cast(window, tf.float32), local, output_size)
        mixed = raw + (1.0 - cover) * pad
        if img.dtype.is_integer:
            img = tf.saturate_cast(tf.round(mixed), img.dtype)
        else:
            img = tf.cast(mixed, img.dtype)
    return img, results


@register
class BottomupRandomAffine(BaseTransform):
    """Randomly shifts, resizes and rotates the whole image (bottom-up).

    MMPose's ``BottomupRandomAffine``: a box of the image size scaled by
    ``scale_factor`` (grown to the input aspect ratio by its ``short`` or
    ``long`` side), shifted by ``shift_factor`` of the image size and
    rotated by ``rotate_factor`` degrees is warped to ``input_size``.
    Random numbers follow MMPose: each of shift / scale / rotation is
    applied with its probability and drawn from a standard normal
    truncated to [-1, 1] (``distribution="trunc_norm"``) or uniformly in
    [-1, 1] (``"uniform"``); stateless, from the sample seed.

    Keypoints (N, K, 2) are warped in place (``keypoints``), ``bbox``
    becomes the four warped corners (N, 4, 2) with ``bbox_keep_corner``
    (MMPose's default) or their xyxy hull (N, 4), ``area`` is multiplied
    by the warp's determinant. Adds ``input_size`` (w, h) and ``warp_mat``
    (2, 3); ``img_shape`` keeps the original image size (used by
    ``BottomupGetHeatmapMask``), as in MMPose. With ``clip_border``
    keypoints outside the input get zero visibility and boxes are clipped.

    MMPose quirks kept: ``use_udp`` is stored but has no effect (the UDP
    warp is chosen by ``transform_mode="affine_udp"``); the standard warp
    centres the box at ``(img_w / 2, img_h / 2)`` and the UDP one at
    ``((img_w - 1) / 2, (img_h - 1) / 2)``. ``transform_mode="perspective"``
    (RTMO's shear/perspective warp) is not supported yet.

    Args:
        input_size: model input (w, h).
        shift_factor: shift range as a fraction of the image size.
        shift_prob: probability of shifting.
        scale_factor: (min, max) scale range.
        scale_prob: probability of scaling.
        scale_type: ``"short"`` or ``"long"`` side fits the input.
        rotate_factor: rotation range in degrees.
        rotate_prob: probability of rotating.
        shear_factor: perspective mode only (accepted).
        shear_prob: perspective mode only (accepted).
        use_udp: accepted and ignored, as in MMPose.
        pad_val: border value (one or three numbers).
        border: perspective mode only (accepted).
        distribution: ``"trunc_norm"`` or ``"uniform"``.
        transform_mode: ``"affine"`` or ``"affine_udp"``.
        bbox_keep_corner: keep boxes as four corners.
        clip_border: clip keypoints (visibility) and boxes to the input.

    Reference: Cheng et al., "HigherHRNet: Scale-Aware Representation
    Learning for Bottom-Up Human Pose Estimation", CVPR 2020.

    Example:

    >>> t = BottomupRandomAffine(input_size=(512, 512))
    >>> t.get_config()["scale_factor"]
    (0.75, 1.5)
    """

    random = True

    def __init__(
        self,
        input_size=None,
        shift_factor=0.2,
        shift_prob=1.0,
        scale_factor=(0.75, 1.5),
        scale_prob=1.0,
        scale_type="short",
        rotate_factor=30.0,
        rotate_prob=1,
        shear_factor=2.0,
        shear_prob=1.0,
        use_udp=False,
        pad_val=0,
        border=(0, 0),
        distribution="trunc_norm",
        transform_mode="affine",
        bbox_keep_corner=True,
        clip_border=False,
    ):
        name = type(self).__name__
        self.input_size = check_size(input_size, "input_size", name)
        if transform_mode not in _MODES:
            raise ValueError(
                f"{name} expects transform_mode in {_MODES}. Received: "
                f"transform_mode={transform_mode!r}"
            )
        if transform_mode == "perspective":
            raise ValueError(
                f"{name}: transform_mode='perspective' is not supported "
                "yet; use 'affine' or 'affine_udp'. Received: "
                f"transform_mode={transform_mode!r}"
            )
        if distribution not in ("trunc_norm", "uniform"):
            raise ValueError(
                f"{name} expects distribution 'trunc_norm' or 'uniform'. "
                f"Received: distribution={distribution!r}"
            )
        if scale_type not in ("short", "long"):
            raise ValueError(
                f"{name} expects scale_type 'short' or 'long'. Received: "
                f"scale_type={scale_type!r}"
            )
        scale = (
            tuple(scale_factor)
            if isinstance(scale_factor, list | tuple)
            else ()
        )
        if len(scale) != 2 or not 0 < scale[0] <= scale[1]:
            raise ValueError(
                f"{name} expects scale_factor=(min, max) with 0 < min <= "
                f"max. Received: scale_factor={scale_factor!r}"
            )
        if isinstance(pad_val, int | float):
            pad_val = (pad_val,) * 3
        if len(tuple(pad_val)) != 3:
            raise ValueError(
                f"{name} expects pad_val as a number or 3 numbers. "
                f"Received: pad_val={pad_val!r}"
            )
        for key in ("shift_factor", "rotate_factor", "shear_factor"):
            value = locals()[key]
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(
                    f"{name} expects {key} >= 0. Received: {key}={value!r}"
                )
        self.shift_factor = float(shift_factor)
        self.shift_prob = check_probability(shift_prob, "shift_prob", name)
        self.scale_factor = (float(scale[0]), float(scale[1]))
        self.scale_prob = check_probability(scale_prob, "scale_prob", name)
        self.scale_type = scale_type
        self.rotate_factor = float(rotate_factor)
        self.rotate_prob = check_probability(rotate_prob, "rotate_prob", name)
        self.shear_factor = float(shear_factor)
        self.shear_prob = check_probability(shear_prob, "shear_prob", name)
        self.use_udp = bool(use_udp)
        self.pad_val = tuple(float(v) for v in pad_val)
        self.border = tuple(border)
        self.distribution = distribution
        self.transform_mode = transform_mode
        self.bbox_keep_corner = bool(bbox_keep_corner)
        self.clip_border = bool(clip_border)

    def _random(self, seed, shape=()):
        if self.distribution == "trunc_norm":
            return truncnorm(seed, shape)
        return uniform(seed, shape, -1.0, 1.0)

    def get_transform_params(self, seed):
        """MMPose's ``_get_transform_params``: (offset (2,), scale, rot)."""
        s = split_seed(seed, 6)
        offset = tf.where(
            uniform(s[0]) < self.shift_prob,
            self._random(s[1], (2,)) * self.shift_factor,
            tf.zeros([2]),
        )
        lo, hi = self.scale_factor
        scale = tf.where(
            uniform(s[2]) < self.scale_prob,
            lo + (hi - lo) * (self._random(s[3]) + 1.0) / 2.0,
            1.0,
        )
        rotate = tf.where(
            uniform(s[4]) < self.rotate_prob,
            self._random(s[5]) * self.rotate_factor,
            0.0,
        )
        return offset, scale, rotate

    def _fix_aspect_ratio(self, scale, aspect_ratio):
        w, h = scale[0], scale[1]
        wider = w > h * aspect_ratio
        if self.scale_type == "short":
            new_w = tf.where(wider, h * aspect_ratio, w)
            new_h = tf.where(wider, h, w / aspect_ratio)
        else:
            new_w = tf.where(wider, w, h * aspect_ratio)
            new_h = tf.where(wider, w / aspect_ratio, h)
        return tf.stack([new_w, new_h])

    def warp_matrix(self, img_shape, offset_rate, scale_rate, rotate):
        """The (2, 3) warp for an image of ``img_shape`` (h, w)."""
        w, h = self.input_size
        hw = tf.cast(img_shape, tf.float32)
        size = tf.stack([hw[1], hw[0]])
        offset = offset_rate * size
        scale = self._fix_aspect_ratio(scale_rate * size, w / h)
        if self.transform_mode == "affine_udp":
            center = (size - 1.0) / 2.0
            make = get_udp_warp_matrix
        else:
            center = size / 2.0
            make = get_warp_matrix
        return make(center + offset, scale, rotate, (w, h))

    def transform(self, results, seed):
        w, h = self.input_size
        img_shape = (
            results["img_shape"]
            if "img_shape" in results
            else tf.shape(results["img"])[:2]
        )
        offset, scale, rotate = self.get_transform_params(seed)
        warp_mat = self.warp_matrix(img_shape, offset, scale, rotate)
        img, results = warp_image(results, warp_mat, (w, h), self.pad_val)
        results["img"] = img
        limit = tf.constant([w, h], tf.float32)
        if "keypoints" in results:
            kpts = transform_points(results["keypoints"], warp_mat)
            results["keypoints"] = kpts
            if self.clip_border and "keypoints_visible" in results:
                outside = tf.reduce_any((kpts > limit) | (kpts < 0), axis=-1)
                vis = results["keypoints_visible"]
                results["keypoints_visible"] = tf.where(
                    outside, tf.zeros_like(vis), vis
                )
        if "bbox" in results:
            bbox = tf.cast(results["bbox"], tf.float32)
            x1, y1, x2, y2 = tf.unstack(bbox, axis=-1)
            corners = tf.stack(
                [
                    tf.stack([x1, y1], -1),
                    tf.stack([x1, y2], -1),
                    tf.stack([x2, y1], -1),
                    tf.stack([x2, y2], -1),
                ],
                axis=-2,
            )
            corners = transform_points(corners, warp_mat)
            if self.bbox_keep_corner:
                box = corners
                if self.clip_border:
                    box = tf.clip_by_value(box, 0.0, limit)
            else:
                box = tf.concat(
                    [
                        tf.reduce_min(corners, axis=-2),
                        tf.reduce_max(corners, axis=-2),
                    ],
                    axis=-1,
                )
                if self.clip_border:
                    box = tf.clip_by_value(
                        box, 0.0, tf.concat([limit, limit], 0)
                    )
            results["bbox"] = box
        if "area" in results:
            m = tf.cast(warp_mat, tf.float64)
            det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
            area = tf.cast(results["area"], tf.float64) * det
            results["area"] = tf.cast(area, tf.float32)
        results["input_size"] = tf.constant([w, h], tf.int32)
        results["warp_mat"] = warp_mat
        return results

    def get_config(self):
        return {
            "input_size": self.input_size,
            "shift_factor": self.shift_factor,
            "shift_prob": self.shift_prob,
            "scale_factor": self.scale_factor,
            "scale_prob": self.scale_prob,
            "scale_type": self.scale_type,
            "rotate_factor": self.rotate_factor,
            "rotate_prob": self.rotate_prob,
            "shear_factor": self.shear_factor,
            "shear_prob": self.shear_prob,
            "use_udp": self.use_udp,
            "pad_val": self.pad_val,
            "border": self.border,
            "distribution": self.distribution,
            "transform_mode": self.transform_mode,
            "bbox_keep_corner": self.bbox_keep_corner,
            "clip_border": self.clip_border,
        }
