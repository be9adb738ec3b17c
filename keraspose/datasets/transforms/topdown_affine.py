"""Crop-and-resize of the person box to the model input."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.geometry import fix_aspect_ratio
from keraspose.datasets.transforms.geometry import get_udp_warp_matrix
from keraspose.datasets.transforms.geometry import get_warp_matrix
from keraspose.datasets.transforms.geometry import shift_warp
from keraspose.datasets.transforms.geometry import source_window
from keraspose.datasets.transforms.geometry import transform_points
from keraspose.datasets.transforms.geometry import warp_affine
from keraspose.datasets.transforms.load_image import decode_region
from keraspose.registry import register
from keraspose.utils.lazy_import import tf


@register
class TopdownAffine(BaseTransform):
    """Warps the box region to ``input_size`` (MMPose's ``TopdownAffine``).

    The box is first grown to the input aspect ratio, then warped with
    MMPose's matrix (standard, or UDP with ``use_udp=True``; Huang et al.,
    "The Devil is in the Details: Delving into Unbiased Data Processing for
    Human Pose Estimation", CVPR 2020) and bilinear interpolation.
    Adds ``transformed_keypoints``, ``input_size``, ``input_center``,
    ``input_scale``; updates ``bbox_scale``. Keypoints that leave the crop
    keep their visibility (the codec gives them zero weight), as in MMPose.

    Args:
        input_size: model input (w, h).
        use_udp: unbiased data processing warp.

    Example:

    >>> TopdownAffine(input_size=(192, 256)).get_config()
    {'input_size': (192, 256), 'use_udp': False}
    """

    def __init__(self, input_size, use_udp=False):
        size = tuple(input_size) if isinstance(input_size, list | tuple) else ()
        if len(size) != 2 or not all(
            isinstance(v, int) and v > 0 for v in size
        ):
            raise ValueError(
                "TopdownAffine expects input_size=(w, h) as two positive "
                f"ints. Received: input_size={input_size!r}"
            )
        self.input_size = size
        self.use_udp = bool(use_udp)

    def transform(self, results, seed):
        w, h = self.input_size
        scale = fix_aspect_ratio(
            tf.cast(results["bbox_scale"], tf.float32), w / h
        )
        center = tf.cast(results["bbox_center"], tf.float32)
        rot = results.get("bbox_rotation", tf.constant(0.0))
        make = get_udp_warp_matrix if self.use_udp else get_warp_matrix
        warp_mat = make(center, scale, rot, (w, h))
        shape = (
            tf.shape(results["img"])[:2]
            if "img" in results
            else results["img_shape"]
        )
        x0, y0, x1, y1 = source_window(warp_mat, (w, h), shape)
        window = decode_region(results, x0, y0, x1, y1)
        results = {
            k: v
            for k, v in results.items()
            if k not in ("img_bytes", "img_flip_h", "img_flip_v")
        }
        results["img"] = warp_affine(
            window, shift_warp(warp_mat, x0, y0), (w, h)
        )
        if "keypoints" in results:
            results["transformed_keypoints"] = transform_points(
                results["keypoints"], warp_mat
            )
        results["bbox_scale"] = scale
        results["input_size"] = tf.constant([w, h], tf.int32)
        results["input_center"] = center
        results["input_scale"] = scale
        return results

    def get_config(self):
        return {"input_size": self.input_size, "use_udp": self.use_udp}
