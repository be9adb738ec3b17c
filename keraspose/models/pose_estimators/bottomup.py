"""Bottom-up pose estimator: every person of a whole image at once."""

import inspect

import keras
import numpy as np
from keras import ops

from keraspose.models.pose_estimators.base import BasePoseEstimator
from keraspose.registry import register

#: ``x`` entries that carry the back-projection of each image.
_META_KEYS = ("input_center", "input_scale", "input_size")


def aug_image_key(index):
    """The ``x`` key of the ``index``-th extra scale of a multi-scale test."""
    return f"aug_images_{index}"


@register
class BottomupPoseEstimator(BasePoseEstimator):
    """Bottom-up pose estimation (MMPose's ``BottomupPoseEstimator``).

    The model sees whole images (resized and padded by ``BottomupResize``
    or ``BottomupRandomAffine``) and its head finds every person in them,
    e.g. associative embedding (Newell et al., "Associative Embedding:
    End-to-End Learning for Joint Detection and Grouping", NeurIPS 2017)
    or DEKR (Geng et al., "Bottom-Up Human Pose Estimation Via
    Disentangled Keypoint Regression", CVPR 2021).

    Prediction runs in two stages:

    1. on the device, inside the compiled predict step
       (``model(x, mode="predict")``): backbone, head and the head's
       ``predict`` (heatmap NMS, top-k, gathering...) with fixed shapes.
       The result is the head's dict of tensors plus ``input_center``,
       ``input_scale`` (B, 2) and ``input_size`` (B, 2) passed through;
    2. on the host, in NumPy: the head's ``postprocess`` (grouping,
       refinement, pose NMS) and MMPose's back-projection
       ``kpt / input_size * input_scale + input_center - 0.5 *
       input_scale`` into original-image pixels.

    ``model.predict(x)`` and ``model.predict_on_batch(x)`` run both and
    return a dict of NumPy arrays padded to the codec's
    ``decode_max_instances`` M: ``keypoints`` (B, M, K, 2) float32,
    ``keypoint_scores`` (B, M, K), ``keypoints_visible`` (B, M, K) (the
    scores, as MMPose sets them), ``instance_mask`` (B, M) bool (valid
    instances first; padded rows are zeros) and the head's other
    instance fields (e.g. ``bbox_scores`` (B, M); ``bboxes`` (B, M, 4)
    are back-projected too). ``predict`` runs one batch at a time (so
    images of different sizes, as ``resize_mode='expand'`` gives them, may
    come in different batches) and concatenates the padded results.

    ``x`` is a dict with ``images`` (B, H, W, 3) raw pixels (BGR uint8 as
    loaded; the data preprocessor normalises them) and, from the pipeline,
    ``input_center``, ``input_scale`` (B, 2) and ``input_size`` (B, 2)
    (w, h); without them keypoints stay in model-input pixels.

    Test-time augmentation (``test_cfg``, MMPose's keys):

    * ``flip_test``: the preprocessed images are also run flipped
      horizontally and the head merges the two feature sets
      (``head.predict([feats, feats_flipped], ...)``) with the metainfo's
      ``flip_indices``.
    * ``multiscale_test``: MMPose feeds an image pyramid made by
      ``BottomupResize(aug_scales=...)``. Here the extra scales are the
      ``x`` entries ``aug_images_0``, ``aug_images_1``, ... (one per
      scale, see :func:`aug_image_key`) and the scales come from
      ``test_cfg["aug_scales"]`` (MMPose reads them from the samples'
      ``aug_scales`` meta; copy the pipeline's list into ``test_cfg``).
      The head receives a list with one entry per scale, the original
      scale first.

    The head's ``predict`` also receives, when its signature accepts them,
    ``input_size`` (the (w, h) of the main-scale images, MMPose's
    ``input_size`` / ``img_shape`` meta, as Python ints when static),
    ``aug_scales`` and the metainfo's ``skeleton_links`` (DEKR's rescore
    net; MMPose reads them from the samples' meta).

    See :class:`BasePoseEstimator` for the arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> from keraspose.models.pose_estimators.bottomup import (
    ...     BottomupPoseEstimator)
    >>> BottomupPoseEstimator.input_keys[:2]
    ('images', 'input_center')
    """

    #: ``x`` entries the model reads (``evaluate_model`` feeds these).
    input_keys = ("images", *_META_KEYS)

    def get_input_keys(self):
        """``input_keys`` plus the extra scales of a multi-scale test."""
        keys = list(self.input_keys)
        if self.test_cfg.get("multiscale_test", False):
            keys += [aug_image_key(i) for i in range(len(self._aug_scales()))]
        return tuple(keys)

    # --- device stage -----------------------------------------------------

    def predict_from_inputs(self, inputs):
        images = self._images(inputs)
        multiscale = self.test_cfg.get("multiscale_test", False)
        flip_test = self.test_cfg.get("flip_test", False)
        pyramid = [images]
        aug_scales = None
        if multiscale:
            aug_scales = self._aug_scales()
            pyramid += self._aug_images(inputs, len(aug_scales))
        feats = []
        for level in pyramid:
            x = self.data_preprocessor(level)
            if flip_test:
                feats.append(
                    [
                        self.extract_feat(x, False),
                        self.extract_feat(ops.flip(x, axis=2), False),
                    ]
                )
            else:
                feats.append(self.extract_feat(x, False))
        if not multiscale:
            feats = feats[0]
        image_size = self._image_size(images)
        kwargs = self._head_kwargs(image_size, aug_scales)
        flip_indices = self.flip_indices if flip_test else None
        preds = dict(
            self.head.predict(feats, self.test_cfg, flip_indices, **kwargs)
        )
        clash = sorted(set(preds) & set(_META_KEYS))
        if clash:
            raise ValueError(
                f"The head's predict returned {clash}, which the estimator "
                "passes through from the inputs."
            )
        preds.update(self._meta(inputs, images, image_size))
        return preds

    def _aug_scales(self):
        scales = self.test_cfg.get("aug_scales")
        if not isinstance(scales, list | tuple) or not scales:
            raise ValueError(
                "test_cfg['multiscale_test'] needs test_cfg['aug_scales'], "
                "the extra scales of the image pyramid (MMPose's "
                "BottomupResize(aug_scales=[...]), e.g. [2.0]). Received: "
                f"aug_scales={scales!r}"
            )
        return [float(s) for s in scales]

    @staticmethod
    def _aug_images(inputs, n):
        keys = [aug_image_key(i) for i in range(n)]
        if not isinstance(inputs, dict) or any(k not in inputs for k in keys):
            received = sorted(inputs) if isinstance(inputs, dict) else "an "
            raise ValueError(
                f"A multi-scale test over {n} extra scale(s) needs the x "
                f"entries {keys} (the image pyramid of BottomupResize with "
                f"aug_scales). Received: {received}"
                + ("array" if not isinstance(inputs, dict) else "")
            )
        images = [inputs[k] for k in keys]
        for key, value in zip(keys, images):
            shape = tuple(value.shape)
            if len(shape) != 4 or shape[-1] != inputs["images"].shape[-1]:
                raise ValueError(
                    f"Expected x[{key!r}] of shape (N, H, W, C) like "
                    f"'images'. Received shape {shape}"
                )
        return images

    @staticmethod
    def _image_size(images):
        """(w, h) of the images: Python ints when static, else tensors."""
        shape = images.shape
        dynamic = ops.shape(images)
        h = shape[1] if shape[1] is not None else dynamic[1]
        w = shape[2] if shape[2] is not None else dynamic[2]
        return w, h

    def _head_kwargs(self, image_size, aug_scales):
        try:
            params = inspect.signature(self.head.predict).parameters
        except (TypeError, ValueError):  # pragma: no cover
            return {}
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        kwargs = {}
        if var_kw or "input_size" in params:
            kwargs["input_size"] = image_size
        if aug_scales is not None and (var_kw or "aug_scales" in params):
            kwargs["aug_scales"] = aug_scales
        # MMPose's DEKR head reads the samples' `skeleton_links` meta (for
        # its rescore net); here they come from the model's metainfo.
        links = (self.metainfo or {}).get("skeleton_links")
        if links and (var_kw or "skeleton_links" in params):
            kwargs["skeleton_links"] = [
                [int(i) for i in link] for link in links
            ]
        return kwargs

    @staticmethod
    def _meta(inputs, images, image_size):
        """``input_center`` / ``input_scale`` / ``input_size`` (B, 2) from
        ``x``, defaulting to the identity back-projection."""
        batch = ops.shape(images)[0]
        w = ops.cast(image_size[0], "float32")
        h = ops.cast(image_size[1], "float32")
        size = ops.stack([w, h])[None, :] * ops.ones((batch, 1), "float32")
        given = inputs if isinstance(inputs, dict) else {}
        if ("input_center" in given) != ("input_scale" in given):
            raise ValueError(
                "Back-projection needs both 'input_center' and "
                "'input_scale'; the input dict has only one of them: "
                f"{sorted(k for k in _META_KEYS if k in given)}."
            )
        out = {}
        for key, default in (
            ("input_center", size * 0.5),
            ("input_scale", size),
            ("input_size", size),
        ):
            if key in given:
                value = ops.cast(given[key], "float32")
                if len(value.shape) != 2 or value.shape[-1] != 2:
                    raise ValueError(
                        f"Expected x[{key!r}] of shape (B, 2). Received "
                        f"shape {tuple(value.shape)}"
                    )
                out[key] = value
            else:
                out[key] = default
        return out

    # --- host stage -------------------------------------------------------

    def postprocess(self, device_preds):
        """Host stage: the head's ``postprocess`` and back-projection.

        Args:
            device_preds: dict of NumPy arrays, the output of the compiled
                predict step (``model(x, mode="predict")``).

        Returns:
            dict of NumPy arrays: ``keypoints`` (B, M, K, 2) float32 in
            original-image pixels, ``keypoint_scores`` (B, M, K),
            ``keypoints_visible`` (B, M, K), ``instance_mask`` (B, M) and
            the head's other instance fields.
        """
        device_preds = {k: np.asarray(v) for k, v in device_preds.items()}
        missing = [k for k in _META_KEYS if k not in device_preds]
        if missing:
            raise ValueError(
                f"postprocess expects the predict step's output with "
                f"{list(_META_KEYS)}; missing {missing}. Received keys: "
                f"{sorted(device_preds)}"
            )
        preds = self.head.postprocess(device_preds, self.test_cfg)
        preds = {k: np.asarray(v) for k, v in preds.items()}
        for key in ("keypoints", "keypoint_scores", "instance_mask"):
            if key not in preds:
                raise ValueError(
                    f"{type(self.head).__name__}.postprocess must return "
                    f"{key!r} (B, M, ...). Received keys: {sorted(preds)}"
                )
        mask = preds["instance_mask"].astype(bool)
        size = device_preds["input_size"].astype(np.float64)[:, None, None]
        center = device_preds["input_center"].astype(np.float64)
        center = center[:, None, None]
        scale = device_preds["input_scale"].astype(np.float64)[:, None, None]
        # MMPose's add_pred_to_datasample (computed in float64 there too:
        # its input_size is a tuple of ints).
        kpts = preds["keypoints"].astype(np.float64)
        kpts = kpts / size * scale + center - 0.5 * scale
        kpts = np.where(mask[..., None, None], kpts, 0.0)
        preds["keypoints"] = kpts.astype(np.float32)
        preds["instance_mask"] = mask
        if "keypoints_visible" not in preds:
            preds["keypoints_visible"] = preds["keypoint_scores"].copy()
        if "bboxes" in preds:
            b = preds["bboxes"].astype(np.float64)
            corners = b.reshape(b.shape[0], b.shape[1], 2, 2)
            corners = corners / size * scale + center - 0.5 * scale
            corners = np.where(mask[..., None, None], corners, 0.0)
            preds["bboxes"] = corners.reshape(b.shape).astype(np.float32)
        return preds

    def predict_on_batch(self, x):
        """Compiled device stage on one batch, then :meth:`postprocess`.

        Of a dict ``x`` only the entries the model reads
        (:meth:`get_input_keys`) go to the device: a packed validation
        batch also carries meta (``img_path`` strings, ``flip_indices``,
        ...), which JAX and PyTorch cannot take.
        """
        x = self._model_inputs(x)
        if self.test_cfg.get("multiscale_test", False):
            # checked before tracing (TF hides errors raised while tracing)
            self._aug_images(x, len(self._aug_scales()))
        if keras.backend.backend() == "tensorflow":
            self._use_shape_specific_predict_function(x)
        device = super().predict_on_batch(x)
        return self.postprocess(keras.tree.map_structure(np.asarray, device))

    def _model_inputs(self, x):
        """The :meth:`get_input_keys` entries of a dict ``x``, as NumPy
        arrays (``x`` itself when it is not a dict)."""
        if not isinstance(x, dict):
            return x
        keys = self.get_input_keys()
        return {k: np.asarray(x[k]) for k in keys if k in x}

    def _use_shape_specific_predict_function(self, x):
        """One traced predict function per input shape (TensorFlow).

        Keras traces TensorFlow's predict step with ``reduce_retracing``,
        which turns image sizes into unknown dimensions after a few sizes
        (``resize_mode='expand'`` gives each image its own); the heads'
        decoding needs static sizes, so each shape keeps its own trace.
        """
        shapes = tuple(
            (k, tuple(np.shape(v)))
            for k, v in sorted((x if isinstance(x, dict) else {"": x}).items())
        )
        key = (shapes, repr(sorted(self.test_cfg.items())))
        cache = self.__dict__.get("_predict_fn_cache")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_predict_fn_cache", cache)
        if self.predict_function is not None and not any(
            fn is self.predict_function for fn in cache.values()
        ):
            cache.clear()  # reset from outside (e.g. a new test_cfg)
        if key not in cache:
            self.predict_function = None
            cache[key] = self.make_predict_function()
        self.predict_function = cache[key]

    def predict(
        self, x, batch_size=None, verbose="auto", steps=None, callbacks=None
    ):
        """Predicts batch by batch (device stage, then host stage).

        Args:
            x: a dict of arrays (or an image array), a ``tf.data.Dataset``
                or another iterable of batches (``x`` or ``(x, y, ...)``).
            batch_size: batch size for arrays (32 when None).
            verbose: 0 silent, 1 progress bar ("auto" = 1).
            steps: number of batches to run (all when None).
            callbacks: Keras callbacks (``on_predict_*`` hooks).

        Returns:
            dict of NumPy arrays (see the class docstring), concatenated
            over the batches.
        """
        batches, total = _batches(x, batch_size)
        if steps is not None:
            total = steps if total is None else min(total, steps)
        cbs = keras.callbacks.CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, steps=total
        )
        cbs.on_predict_begin()
        outputs = []
        for step, batch in enumerate(batches):
            if steps is not None and step >= steps:
                break
            cbs.on_predict_batch_begin(step)
            out = self.predict_on_batch(batch)
            outputs.append(out)
            cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError(
                "BottomupPoseEstimator.predict received no batches: the "
                "input is empty."
            )
        keys = outputs[0].keys()
        return {k: np.concatenate([o[k] for o in outputs]) for k in keys}


def _batches(x, batch_size):
    """An iterator over the ``x`` entries of ``x``'s batches, and its
    length when known."""
    if isinstance(x, dict) or hasattr(x, "shape"):
        arrays = x if isinstance(x, dict) else {"images": x}
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        sizes = {len(v) for v in arrays.values()}
        if len(sizes) != 1:
            raise ValueError(
                "Expected x entries with one row per image. Received "
                f"lengths { {k: len(v) for k, v in arrays.items()} }"
            )
        n = sizes.pop()
        bs = int(batch_size or 32)

        def sliced():
            for start in range(0, n, bs):
                yield {k: v[start : start + bs] for k, v in arrays.items()}

        return sliced(), -(-n // bs)
    if isinstance(x, list | tuple):
        raise TypeError(
            "Expected x as a dict of arrays, an image array, a "
            "tf.data.Dataset or an iterable of batches. Received a "
            f"{type(x).__name__}; pass dict(images=...)."
        )
    try:
        total = len(x)
    except TypeError:
        total = None

    def unpacked():
        for batch in x:
            if isinstance(batch, tuple | list):
                batch = batch[0]
            yield batch

    return unpacked(), total
