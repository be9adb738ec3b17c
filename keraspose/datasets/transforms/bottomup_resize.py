"""Resize of the whole image to the bottom-up model input."""

import math

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.bottomup_random_affine import check_size
from keraspose.datasets.transforms.geometry import invert_affine
from keraspose.datasets.transforms.load_image import materialize_image
from keraspose.datasets.transforms.opencv_warp import get_warp_matrix
from keraspose.datasets.transforms.opencv_warp import warp_affine_opencv
from keraspose.registry import register
from keraspose.utils.lazy_import import tf

_MODES = ("fit", "expand")

#: Sample keys of the extra pyramid levels (``aug_images_0``, ...), the
#: ``x`` keys ``BottomupPoseEstimator`` reads in a multi-scale test.
AUG_IMAGE_PREFIX = "aug_images_"


def aug_image_key(index):
    """The sample / ``x`` key of the ``index``-th extra pyramid level."""
    return f"{AUG_IMAGE_PREFIX}{index}"


def warp_affine_dynamic(image, warp_mat, output_hw, pad_val=(0, 0, 0)):
    """``cv2.warpAffine`` (bilinear) to a size known only in the graph.

    Args:
        image: (H, W, C) image.
        warp_mat: (2, 3) image -> output matrix.
        output_hw: (2,) int32 tensor (h, w).
        pad_val: ``cv2``'s ``borderValue`` (three numbers).
    """
    inv, t = invert_affine(warp_mat)
    transform = tf.concat(
        [inv[0], t[:1], inv[1], t[1:], tf.zeros([2], tf.float64)], axis=0
    )
    transform = tf.cast(transform, tf.float32)[None]

    def run(img):
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=img[None],
            transforms=transform,
            output_shape=tf.cast(output_hw, tf.int32),
            fill_value=tf.constant(0.0, tf.float32),
            interpolation="BILINEAR",
            fill_mode="CONSTANT",
        )[0]

    out = run(tf.cast(image, tf.float32))
    if any(float(v) != 0.0 for v in pad_val):
        cover = run(tf.ones_like(image[..., :1], tf.float32))
        out = out + (1.0 - cover) * tf.constant(
            [float(v) for v in pad_val], tf.float32
        )
    if image.dtype.is_integer:
        return tf.saturate_cast(tf.round(out), image.dtype)
    return tf.cast(out, image.dtype)


@register
class BottomupResize(BaseTransform):
    """Resizes the image to the bottom-up model input (MMPose's rules).

    The image keeps its aspect ratio: ``resize_mode="fit"`` fits it into
    ``input_size`` (which must be a multiple of ``size_factor``) and pads
    the rest; ``"expand"`` fills ``input_size`` with the shorter side and
    lets the longer side grow, then pads it up to a multiple of
    ``size_factor`` (so the output size depends on the image: batch such
    samples one at a time, as MMPose's test loaders do, or use "fit").
    The image is placed with MMPose's warp: centred, standard warp with
    the box ``(img_w, img_h) * padded / resized``, or with ``use_udp``
    the UDP warp of the whole image onto the (fractional) resized size.
    The matrix and the bilinear warp reproduce OpenCV 4's arithmetic
    (``keraspose.datasets.transforms.opencv_warp``), so uint8 images are
    bit-identical to MMPose's for the same decoded image.

    Sets ``img_shape`` (padded h, w), ``input_size`` (padded w, h, int32),
    ``input_center`` and ``input_scale`` (float32 (2,)), so that
    ``kpt / input_size * input_scale + input_center - 0.5 * input_scale``
    maps model-input pixels back to the image. As in MMPose, with
    ``use_udp`` ``input_scale`` is the image size while the image covers
    only the resized part of the padded input (MMPose's back-projection
    quirk, kept).

    Multi-scale testing (``aug_scales``): MMPose returns a list of images,
    each warped from the original image to its own input size
    ``(int(w * s), int(h * s))`` with the rules above. Here ``img`` is the
    main-scale image and the extra levels are the sample keys
    ``aug_images_0``, ``aug_images_1``, ... (uint8 like ``img``, one per
    entry of ``aug_scales``, in order; ``PackPoseInputs`` carries them
    into ``x``, where ``BottomupPoseEstimator`` reads them);
    ``aug_scales`` (float32 (S,)) lists the scales. ``input_*`` and
    ``img_shape`` refer to the main scale, as in MMPose. With
    ``resize_mode="expand"`` every level has an image-dependent size, so
    batch such samples one at a time (MMPose's bottom-up test loaders use
    ``batch_size=1``). The model reads the scales themselves from its
    ``test_cfg["aug_scales"]``, which ``keraspose.apis.runner.build_model``
    copies from the pipeline (MMPose reads the samples' meta).

    The decoding of a deferred image happens here (the warp reads the
    whole image).

    Args:
        input_size: model input (w, h).
        aug_scales: extra scales for multi-scale testing.
        size_factor: padded sizes are multiples of it.
        resize_mode: ``"fit"`` or ``"expand"``.
        pad_val: border value (three numbers).
        use_udp: unbiased data processing warp (Huang et al., CVPR 2020).

    Example:

    >>> t = BottomupResize(input_size=(512, 512), size_factor=32,
    ...                    resize_mode="expand")
    >>> t.get_config()["resize_mode"]
    'expand'
    """

    def __init__(
        self,
        input_size,
        aug_scales=None,
        size_factor=32,
        resize_mode="fit",
        pad_val=(0, 0, 0),
        use_udp=False,
    ):
        name = type(self).__name__
        self.input_size = check_size(input_size, "input_size", name)
        if resize_mode not in _MODES:
            raise ValueError(
                f"{name} expects resize_mode in {_MODES}. Received: "
                f"resize_mode={resize_mode!r}"
            )
        if not isinstance(size_factor, int) or size_factor <= 0:
            raise ValueError(
                f"{name} expects size_factor as a positive int. Received: "
                f"size_factor={size_factor!r}"
            )
        if aug_scales is not None:
            if not isinstance(aug_scales, list | tuple) or not all(
                isinstance(s, int | float) and s > 0 for s in aug_scales
            ):
                raise ValueError(
                    f"{name} expects aug_scales as a list of positive "
                    f"numbers or None. Received: aug_scales={aug_scales!r}"
                )
            aug_scales = [float(s) for s in aug_scales]
        if isinstance(pad_val, int | float):
            pad_val = (pad_val,) * 3
        if len(tuple(pad_val)) != 3:
            raise ValueError(
                f"{name} expects pad_val as 3 numbers. Received: "
                f"pad_val={pad_val!r}"
            )
        w, h = self.input_size
        sizes = [(w, h)] + [(int(w * s), int(h * s)) for s in aug_scales or ()]
        if resize_mode == "fit":
            for size in sizes:
                if any(v % size_factor for v in size):
                    raise ValueError(
                        f"{name}: with resize_mode='fit' the input size at "
                        f"every scale must be a multiple of size_factor="
                        f"{size_factor}. Received: input size {size} "
                        f"(input_size={input_size!r}, "
                        f"aug_scales={aug_scales!r})"
                    )
        self.aug_scales = aug_scales
        self.size_factor = size_factor
        self.resize_mode = resize_mode
        self.pad_val = tuple(float(v) for v in pad_val)
        self.use_udp = bool(use_udp)

    def get_input_size(self, img_wh, input_size):
        """MMPose's ``_get_input_size``: (actual, padded) (w, h) sizes.

        ``img_wh`` is a float64 (2,) tensor; returns a float64 (2,) tensor
        (resized size) and an int32 (2,) tensor (padded size).
        """
        ratio = img_wh[0] / img_wh[1]
        base = float(self.size_factor)
        pad = [math.ceil(s / base) * base for s in input_size]
        pad_w, pad_h = (
            tf.constant(pad[0], tf.float64),
            tf.constant(pad[1], tf.float64),
        )
        if self.resize_mode == "fit":
            actual = tf.stack(
                [
                    tf.minimum(pad_w, pad_h * ratio),
                    tf.minimum(pad_h, pad_w / ratio),
                ]
            )
            padded = tf.constant(pad, tf.float64)
        else:
            actual = tf.stack(
                [
                    tf.maximum(pad_w, pad_h * ratio),
                    tf.maximum(pad_h, pad_w / ratio),
                ]
            )
            padded = tf.math.ceil(actual / base) * base
        return actual, tf.cast(padded, tf.int32)

    def transform(self, results, seed):
        results = materialize_image(results)
        img = results["img"]
        ori = results.get("ori_shape", tf.shape(img)[:2])
        ori = tf.cast(ori, tf.float64)
        img_wh = tf.stack([ori[1], ori[0]])
        out, center, scale, padded = self.resize_level(
            img, img_wh, self.input_size
        )
        results["img"] = out
        results["img_shape"] = padded[::-1]
        results["input_center"] = center
        results["input_scale"] = scale
        results["input_size"] = padded
        if self.aug_scales:
            w, h = self.input_size
            for i, s in enumerate(self.aug_scales):
                level = self.resize_level(img, img_wh, (int(w * s), int(h * s)))
                results[aug_image_key(i)] = level[0]
            results["aug_scales"] = tf.constant(self.aug_scales, tf.float32)
        return results

    def resize_level(self, img, img_wh, input_size):
        """One level of the pyramid: ``img`` warped to ``input_size``.

        Args:
            img: (H, W, C) original image.
            img_wh: float64 (2,) tensor, the original (w, h).
            input_size: (w, h) Python ints of this level.

        Returns:
            ``(image, center, scale, padded)``: the warped image, its
            float32 (2,) ``input_center`` / ``input_scale`` and its int32
            (2,) padded (w, h).
        """
        actual, padded = self.get_input_size(img_wh, input_size)
        padded_f = tf.cast(padded, tf.float64)
        if self.use_udp:
            center = tf.cast((img_wh - 1.0) / 2.0, tf.float32)
            scale = tf.cast(img_wh, tf.float32)
            c = tf.cast(center, tf.float64)
            s = tf.cast(scale, tf.float64)
            k = (actual - 1.0) / s
            mat = tf.stack(
                [
                    tf.stack([k[0], 0.0, k[0] * (-c[0] + 0.5 * s[0])]),
                    tf.stack([0.0, k[1], k[1] * (-c[1] + 0.5 * s[1])]),
                ]
            )
            warp_mat = tf.cast(tf.cast(mat, tf.float32), tf.float64)
        else:
            center = tf.cast(img_wh / 2.0, tf.float32)
            scale = tf.cast(img_wh * padded_f / actual, tf.float32)
            warp_mat = get_warp_matrix(center, scale, padded)
        out = warp_affine_opencv(img, warp_mat, padded[::-1], self.pad_val)
        if self.resize_mode == "fit":
            w, h = (int(v) for v in input_size)
            out = tf.ensure_shape(out, [h, w, None])
        return out, center, scale, padded

    def get_config(self):
        return {
            "input_size": self.input_size,
            "aug_scales": self.aug_scales,
            "size_factor": self.size_factor,
            "resize_mode": self.resize_mode,
            "pad_val": self.pad_val,
            "use_udp": self.use_udp,
        }
