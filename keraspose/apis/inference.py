"""Top-down inference on whole images (MMPose's ``inference_topdown``)."""

import numpy as np

from keraspose.utils.lazy_import import tf


def load_image(img):
    """(H, W, 3) uint8 BGR from a path or an array (returned as is)."""
    from keraspose.datasets.transforms.load_image import LoadImage

    if isinstance(img, np.ndarray):
        if img.ndim != 3 or img.shape[-1] != 3:
            raise ValueError(
                f"Expected an (H, W, 3) BGR image. Received shape {img.shape}"
            )
        return img
    results = LoadImage(lazy_decode=False)(
        {"img_path": tf.constant(str(img))}, tf.constant([0, 0], tf.int64)
    )
    return results["img"].numpy()


def write_png(path, image_bgr):
    """Writes an (H, W, 3) uint8 BGR image as PNG."""
    rgb = np.ascontiguousarray(np.asarray(image_bgr)[..., ::-1])
    tf.io.write_file(str(path), tf.io.encode_png(rgb))
    return path


def _as_xyxy(bboxes, bbox_format, shape):
    h, w = shape
    if bboxes is None or len(bboxes) == 0:
        return np.array([[0, 0, w, h]], np.float32), np.ones(1, np.float32)
    boxes = np.asarray(bboxes, np.float32)
    if boxes.ndim == 1:
        boxes = boxes[None]
    if boxes.ndim != 2 or boxes.shape[1] not in (4, 5):
        raise ValueError(
            "Expected bboxes of shape (N, 4) or (N, 5) (with a score). "
            f"Received shape {boxes.shape}"
        )
    scores = boxes[:, 4] if boxes.shape[1] == 5 else np.ones(len(boxes))
    boxes = boxes[:, :4].copy()
    if bbox_format == "xywh":
        boxes[:, 2:] += boxes[:, :2]
    elif bbox_format != "xyxy":
        raise ValueError(
            f"Expected bbox_format 'xyxy' or 'xywh'. Received: {bbox_format!r}"
        )
    return boxes, scores.astype(np.float32)


def inference_topdown(
    model, img, bboxes=None, bbox_format="xyxy", padding=1.25
):
    """Estimates the pose of each box of one image with a top-down model.

    Each box is padded (``GetBBoxCenterScale``), warped to the model input
    (``TopdownAffine`` with the head codec's ``input_size``), predicted
    (with the model's ``test_cfg``, e.g. flip test) and mapped back to the
    image.

    Args:
        model: a keraspose ``TopdownPoseEstimator`` (e.g. loaded with
            ``keras.saving.load_model(path, compile=False)``).
        img: image path, or an (H, W, 3) uint8 BGR array (OpenCV order).
        bboxes: (N, 4) or (N, 5) boxes (a 5th column is the box score);
            None or empty uses the whole image as one box, like MMPose.
        bbox_format: ``"xyxy"`` or ``"xywh"``.
        padding: box padding of ``GetBBoxCenterScale``.

    Returns:
        dict of NumPy arrays: ``keypoints`` (N, K, 2) image pixels,
        ``keypoint_scores`` (N, K), ``bboxes`` (N, 4) xyxy,
        ``bbox_scores`` (N,) and, with a ``VisPredictHead``,
        ``keypoints_visible`` (N, K).

    Example:

    >>> # model = keras.saving.load_model("model.keras", compile=False)
    >>> # out = inference_topdown(model, "person.jpg", [[10, 20, 110, 260]])
    >>> # out["keypoints"].shape  -> (1, 17, 2)
    """
    from keraspose.datasets.transforms.compose import Compose
    from keraspose.datasets.transforms.get_bbox_center_scale import (
        GetBBoxCenterScale,
    )
    from keraspose.datasets.transforms.topdown_affine import TopdownAffine

    decoder = getattr(getattr(model, "head", None), "decoder", None)
    if decoder is None:
        raise ValueError(
            "inference_topdown needs a top-down model whose head has a "
            "decoder (codec) with an input_size."
        )
    image = load_image(img)
    boxes, scores = _as_xyxy(bboxes, bbox_format, image.shape[:2])
    pipeline = Compose(
        [
            GetBBoxCenterScale(padding=padding),
            TopdownAffine(input_size=tuple(decoder.input_size)),
        ]
    )
    img_t = tf.constant(image)
    shape = tf.constant(image.shape[:2], tf.int32)
    crops, centers, scales = [], [], []
    for box in boxes:
        out = pipeline(
            {"img": img_t, "img_shape": shape, "bbox": tf.constant(box)},
            tf.constant([0, 0], tf.int64),
        )
        crops.append(out["img"].numpy())
        centers.append(out["input_center"].numpy())
        scales.append(out["input_scale"].numpy())
    x = {
        "images": np.stack(crops),
        "input_center": np.stack(centers).astype(np.float32),
        "input_scale": np.stack(scales).astype(np.float32),
    }
    preds = model.predict_on_batch(x)
    preds = {k: np.asarray(v) for k, v in preds.items()}
    preds["bboxes"] = boxes
    preds["bbox_scores"] = scores
    return preds
