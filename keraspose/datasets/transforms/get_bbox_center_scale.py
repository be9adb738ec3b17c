"""Box centre and size from the box, with padding."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.registry import register
from keraspose.utils.lazy_import import tf


@register
class GetBBoxCenterScale(BaseTransform):
    """Adds ``bbox_center`` and ``bbox_scale`` (w, h) from ``bbox`` (xyxy).

    As in MMPose, ``bbox_scale`` is the box size times ``padding``; samples
    that already carry a centre and scale (MPII) only get the padding. The
    aspect ratio is fixed later, by :class:`TopdownAffine`.

    Args:
        padding: box enlargement factor (MMPose default 1.25).

    Example:

    >>> import tensorflow as tf
    >>> out = GetBBoxCenterScale()({"bbox": tf.constant([0., 0., 10., 20.])})
    >>> out["bbox_center"].numpy().tolist(), out["bbox_scale"].numpy().tolist()
    ([5.0, 10.0], [12.5, 25.0])
    """

    def __init__(self, padding=1.25):
        if not isinstance(padding, int | float) or padding <= 0:
            raise ValueError(
                "GetBBoxCenterScale expects a positive padding. Received: "
                f"padding={padding!r}"
            )
        self.padding = float(padding)

    def transform(self, results, seed):
        if "bbox_center" in results and "bbox_scale" in results:
            results["bbox_scale"] = results["bbox_scale"] * self.padding
        else:
            bbox = tf.cast(results["bbox"], tf.float32)
            results["bbox_center"] = (bbox[..., 2:] + bbox[..., :2]) * 0.5
            results["bbox_scale"] = (bbox[..., 2:] - bbox[..., :2]) * (
                self.padding
            )
        return results

    def get_config(self):
        return {"padding": self.padding}
