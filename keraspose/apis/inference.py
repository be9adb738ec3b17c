"""Top-down inference on whole images (MMPose's ``inference_topdown``)."""

import importlib.util

import numpy as np

from keraspose.apis.topdown_crop import crop_instances
from keraspose.utils.lazy_import import tf


def _has_cv2():
    return importlib.util.find_spec("cv2") is not None


def load_image(img):
    """(H, W, 3) uint8 BGR from a path or an array (returned as is).

    Decodes like MMPose's ``LoadImage`` (``cv2.imdecode`` with
    ``IMREAD_COLOR``, which applies a JPEG's EXIF orientation) when OpenCV
    is installed, otherwise with keraspose's ``tf.io`` ``LoadImage`` (the
    same pixels for JPEG and PNG files without an orientation tag).

    Example:

    >>> load_image(np.zeros((4, 5, 3), np.uint8)).shape
    (4, 5, 3)
    """
    if isinstance(img, np.ndarray):
        if img.ndim != 3 or img.shape[-1] != 3:
            raise ValueError(
                f"Expected an (H, W, 3) BGR image. Received shape {img.shape}"
            )
        return img
    if _has_cv2():
        import cv2

        with open(str(img), "rb") as f:
            data = np.frombuffer(f.read(), np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if image is None:
            raise ValueError(
                "Expected a readable image file (JPEG, PNG, ...). Could not "
                f"decode: {img}"
            )
        return image
    from keraspose.datasets.transforms.load_image import LoadImage

    results = LoadImage(lazy_decode=False)(
        {"img_path": tf.constant(str(img))}, tf.constant([0, 0], tf.int64)
    )
    return results["img"].numpy()


def write_png(path, image_bgr):
    """Writes an (H, W, 3) uint8 BGR image as PNG (OpenCV or tf.io)."""
    image = np.ascontiguousarray(np.asarray(image_bgr, np.uint8))
    if _has_cv2():
        import cv2

        ok, data = cv2.imencode(".png", image)
        if not ok:
            raise ValueError(f"Could not encode the image as PNG: {path}")
        with open(str(path), "wb") as f:
            f.write(data.tobytes())
        return path
    rgb = np.ascontiguousarray(image[..., ::-1])
    tf.io.write_file(str(path), tf.io.encode_png(rgb))
    return path


def _as_xyxy(bboxes, bbox_format, shape):
    """(N, 4) xyxy boxes in MMPose's dtype (float32 kept, else float64)."""
    h, w = shape
    if bboxes is None or len(bboxes) == 0:
        return np.array([[0, 0, w, h]], np.float32), np.ones(1, np.float32)
    boxes = np.asarray(bboxes)
    if boxes.dtype != np.float32:
        boxes = boxes.astype(np.float64)
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


def _refresh_predict_function(model):
    """Retraces the compiled predict step when ``test_cfg`` has changed.

    MMPose reads ``model.test_cfg`` on every call (e.g. toggling
    ``flip_test``); Keras compiles ``predict_on_batch`` once and would keep
    the options of its first call.
    """
    key = repr(sorted(getattr(model, "test_cfg", {}).items()))
    if getattr(model, "_inference_test_cfg", None) != key:
        model.predict_function = None
        model._inference_test_cfg = key


def _uses_udp(decoder):
    # MMPose's configs pair the UDP codec with TopdownAffine(use_udp=True).
    return type(decoder).__name__ == "UDPHeatmap"


def inference_topdown(
    model, img, bboxes=None, bbox_format="xyxy", padding=1.25, use_udp=None
):
    """Estimates the pose of each box of one image with a top-down model.

    Reproduces MMPose's ``inference_topdown`` with its test pipeline: each
    box is padded (``GetBBoxCenterScale``) and grown to the input aspect
    ratio, warped to the head codec's ``input_size`` (``TopdownAffine``),
    predicted with the model's ``test_cfg`` (e.g. flip test) and mapped
    back to the image (``add_pred_to_datasample``). The crops are made on
    the host by :func:`keraspose.apis.topdown_crop.crop_instances`, which
    matches MMPose's OpenCV 4 crops bit for bit (no TensorFlow or OpenCV
    needed for arrays), and box, matrix and back-projection arithmetic keep
    MMPose's dtypes: float32 boxes stay float32, other boxes (e.g. a Python
    list) are float64, as ``np.array`` makes them in MMPose.

    Args:
        model: a keraspose ``TopdownPoseEstimator`` (e.g. loaded with
            ``keras.saving.load_model(path, compile=False)`` or
            ``keraspose.convert_mmpose_checkpoint``).
        img: image path, or an (H, W, 3) uint8 BGR array (OpenCV order).
        bboxes: (N, 4) or (N, 5) boxes (a 5th column is the box score);
            None or empty uses the whole image as one box, like MMPose.
        bbox_format: ``"xyxy"`` or ``"xywh"``.
        padding: box padding of ``GetBBoxCenterScale``.
        use_udp: UDP warp of ``TopdownAffine``; None picks it for a
            ``UDPHeatmap`` codec, as MMPose's UDP configs do.

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
    decoder = getattr(getattr(model, "head", None), "decoder", None)
    if decoder is None:
        raise ValueError(
            "inference_topdown needs a top-down model whose head has a "
            "decoder (codec) with an input_size."
        )
    image = load_image(img)
    boxes, scores = _as_xyxy(bboxes, bbox_format, image.shape[:2])
    if use_udp is None:
        use_udp = _uses_udp(decoder)
    input_size = tuple(int(v) for v in decoder.input_size)
    crops, centers, scales = crop_instances(
        image, boxes, input_size, padding=padding, use_udp=use_udp
    )
    _refresh_predict_function(model)
    preds = model.predict_on_batch(crops)
    preds = {k: np.asarray(v) for k, v in preds.items()}
    # add_pred_to_datasample: float64 arithmetic (the int input size
    # promotes it), stored back into the float32 keypoints.
    kpts = preds["keypoints"]
    size = np.array(input_size)
    image_kpts = (
        kpts / size * scales[:, None] + centers[:, None] - 0.5 * scales[:, None]
    )
    preds["keypoints"] = image_kpts.astype(kpts.dtype)
    preds["bboxes"] = boxes
    preds["bbox_scores"] = scores
    return preds
