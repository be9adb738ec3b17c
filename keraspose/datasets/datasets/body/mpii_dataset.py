"""The MPII Human Pose dataset (MMPose's json: centre/scale per person)."""

import os

import numpy as np

from keraspose.datasets.datasets.base_coco_style_dataset import (
    BaseCocoStyleDataset,
)
from keraspose.datasets.datasets.base_coco_style_dataset import load_json_file
from keraspose.registry import register

_PIXEL_STD = 200.0


@register
class MpiiDataset(BaseCocoStyleDataset):
    """MPII-16 (Andriluka et al., "2D Human Pose Estimation: New Benchmark
    and State of the Art Analysis", CVPR 2014), MMPose's json format.

    Each json entry has ``image``, ``center``, ``scale`` (box height / 200
    px), ``joints`` (16 x 2) and ``joints_vis``. Conversion follows MMPose
    1.3.2 exactly, quirks included: the centre moves down by
    ``15 / 200 * scale`` and then by -1 in x and y (1-based to 0-based)
    while the joints are kept as they are; the box is the square
    ``200 * scale`` around the centre, not clipped; ``bbox_center`` and
    ``bbox_scale`` are stored, so ``GetBBoxCenterScale`` only multiplies
    the scale by its padding; ``id`` counts entries and ``img_id`` is the
    integer stem of the image file name.

    Args:
        headbox_file: MPII's head boxes (``.mat``) for PCKh; not supported
            yet (PCKh arrives with the evaluation issue).
        **kwargs: see :class:`BaseCocoStyleDataset`.

    Example:

    >>> MpiiDataset.METAINFO
    'mpii'
    """

    METAINFO = "mpii"

    def __init__(self, ann_file="", headbox_file=None, **kwargs):
        if headbox_file:
            raise ValueError(
                "MpiiDataset: headbox_file (PCKh head sizes) is not "
                f"supported yet. Received: headbox_file={headbox_file!r}"
            )
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self):
        if self.bbox_file:
            raise ValueError(
                "MpiiDataset does not read detection results (bbox_file); "
                "MPII is evaluated on its annotated centre/scale."
            )
        entries = load_json_file(self.ann_file)
        if not isinstance(entries, list) or not entries:
            raise ValueError(
                f"The annotation file {self.ann_file!r} must be a non-empty "
                "json list of MPII entries (image, center, scale, joints, "
                f"joints_vis); received {type(entries).__name__} of length "
                f"{len(entries) if hasattr(entries, '__len__') else '?'}."
            )
        k = self.num_keypoints
        out = []
        for idx, ann in enumerate(entries):
            where = f"{self.ann_file}: entry {idx} ({ann.get('image')!r})"
            for field in ("image", "center", "scale", "joints", "joints_vis"):
                if field not in ann:
                    raise ValueError(f"{where} has no {field!r} field.")
            joints = np.asarray(ann["joints"], np.float32).reshape(-1)
            vis = np.asarray(ann["joints_vis"], np.float32).reshape(-1)
            if joints.size != 2 * k or vis.size != k:
                raise ValueError(
                    f"{where}, field 'joints'/'joints_vis': expected {k} "
                    f"keypoints; received {joints.size / 2:g} joints and "
                    f"{vis.size} visibilities."
                )
            center = np.asarray(ann["center"], np.float32).reshape(-1)
            scale = np.float32(ann["scale"])
            if not (
                np.isfinite(joints).all()
                and np.isfinite(center).all()
                and np.isfinite(scale)
            ):
                raise ValueError(
                    f"{where}: non-finite (NaN/inf) values in center, "
                    "scale or joints."
                )
            scale = np.array([scale, scale], np.float32) * _PIXEL_STD
            if center[0] != -1:
                center[1] = center[1] + 15.0 / _PIXEL_STD * scale[1]
            center = center - 1
            bbox = np.concatenate([center - 0.5 * scale, center + 0.5 * scale])
            x1, y1, x2, y2 = bbox
            info = {
                "id": idx,
                "img_id": int(os.path.splitext(ann["image"])[0]),
                "img_path": os.path.join(
                    self.data_prefix.get("img", ""), ann["image"]
                ),
                "bbox_center": center.astype(np.float32),
                "bbox_scale": scale,
                "bbox": bbox.astype(np.float32),
                "bbox_score": np.float32(1.0),
                "keypoints": joints.reshape(k, 2),
                "keypoints_visible": vis,
                "area": np.float32(max((x2 - x1) * (y2 - y1) * 0.53, 1.0)),
                "category_id": 1,
            }
            reason = self._invalid_reason(info)
            if reason is not None:
                self._skip(reason, idx)
                continue
            out.append(info)
        self._log_skips()
        return out
