"""Runs a model over a validation dataset and reduces its metrics."""

import keras
import numpy as np

from keraspose.registry import build

#: ``x`` entries the model itself reads by default; the rest is meta for
#: the metrics. Models may say otherwise (see :func:`model_input_keys`).
MODEL_KEYS = ("images", "input_center", "input_scale")


def model_input_keys(model):
    """The ``x`` entries ``model`` reads.

    ``model.get_input_keys()`` when it has one (e.g. a bottom-up model with
    a multi-scale test), else ``model.input_keys`` (e.g. a pose lifter's
    ``("keypoints", ...)``), else :data:`MODEL_KEYS`.

    Example:

    >>> model_input_keys(object())
    ('images', 'input_center', 'input_scale')
    """
    getter = getattr(model, "get_input_keys", None)
    if callable(getter):
        return tuple(getter())
    return tuple(getattr(model, "input_keys", MODEL_KEYS))


class Evaluator:
    """A list of metrics evaluated together (MMEngine's ``Evaluator``).

    Args:
        metrics: a metric, a metric config dict (``dict(type="CocoMetric",
            ...)``) or a list of them (MMPose's ``val_evaluator``).

    Example:

    >>> evaluator = Evaluator([dict(type="PCKAccuracy", thr=0.05)])
    >>> [type(m).__name__ for m in evaluator.metrics]
    ['PCKAccuracy']
    """

    def __init__(self, metrics):
        if isinstance(metrics, Evaluator):
            metrics = metrics.metrics
        if not isinstance(metrics, list | tuple):
            metrics = [metrics]
        if not metrics:
            raise ValueError("Expected at least one metric. Received: []")
        self.metrics = [build(m) for m in metrics]

    @property
    def required_keys(self):
        """Ground-truth / meta keys the metrics need in the packed inputs."""
        keys = []
        for metric in self.metrics:
            for key in getattr(metric, "required_keys", ()):
                if key not in keys:
                    keys.append(key)
        return tuple(keys)

    def set_dataset(self, dataset):
        for metric in self.metrics:
            metric.set_dataset(dataset)

    def reset(self):
        for metric in self.metrics:
            metric.reset()

    def process(self, predictions, inputs):
        for metric in self.metrics:
            metric.process(predictions, inputs)

    def evaluate(self):
        results = {}
        for metric in self.metrics:
            out = metric.evaluate()
            clash = set(out) & set(results)
            if clash:
                raise ValueError(
                    f"Two metrics report the same keys {sorted(clash)}; give "
                    "one of them another prefix=..."
                )
            results.update(out)
        return results


def pack_metric_keys(dataset, keys):
    """Adds ``keys`` to the ``meta_keys`` of the dataset's ``PackPoseInputs``.

    Returns the dataset (changed in place).
    """
    from keraspose.datasets.transforms.pack_pose_inputs import PackPoseInputs

    transforms = getattr(getattr(dataset, "pipeline", None), "transforms", [])
    packs = [t for t in transforms if isinstance(t, PackPoseInputs)]
    if not packs:
        raise ValueError(
            f"The evaluated dataset's pipeline has no PackPoseInputs step; "
            f"its transforms are {[type(t).__name__ for t in transforms]}."
        )
    for pack in packs:
        pack.meta_keys = tuple(pack.meta_keys) + tuple(
            k for k in keys if k not in pack.meta_keys
        )
    return dataset


def evaluate_model(
    model, dataset, evaluator, batch_size=32, verbose="auto", loader=None
):
    """Predicts over a dataset and returns the evaluator's metrics.

    Runs ``model.predict_on_batch`` on the model's input keys of each batch
    (:func:`model_input_keys`; the compiled predict function is reused),
    feeds predictions and the batch's meta/ground truth to the metrics,
    and shows a progress bar.

    Args:
        model: a keraspose pose estimator.
        dataset: a keraspose dataset (test pipeline; its ``PackPoseInputs``
            gets the metrics' ``required_keys``).
        evaluator: an :class:`Evaluator`, or what it accepts.
        batch_size: batch size of prediction.
        verbose: 0 silent, 1 progress bar ("auto" = 1).
        loader: an already built ``tf.data`` loader of ``dataset`` (it must
            pack the required keys); built from ``dataset`` when None.

    Returns:
        dict ``{"coco/AP": ..., "PCK": ...}`` of floats.
    """
    if not isinstance(evaluator, Evaluator):
        evaluator = Evaluator(evaluator)
    evaluator.set_dataset(dataset)
    evaluator.reset()
    if loader is None:
        pack_metric_keys(dataset, evaluator.required_keys)
        loader = dataset.to_tf_dataset(
            batch_size=batch_size, shuffle=False, seed=0
        )
    total = -(-len(dataset) // batch_size) if batch_size else None
    bar = keras.utils.Progbar(
        total,
        verbose=0 if verbose == 0 else 1,
        unit_name="batch",
    )
    keys = model_input_keys(model)
    for step, batch in enumerate(loader):
        inputs = batch[0] if isinstance(batch, tuple) else batch
        inputs = {k: np.asarray(v) for k, v in inputs.items()}
        missing = [k for k in evaluator.required_keys if k not in inputs]
        if missing:
            raise ValueError(
                f"The validation batches lack {missing}, which the metrics "
                "need; add them to PackPoseInputs(meta_keys=...) of the "
                f"validation pipeline. Batch keys: {sorted(inputs)}"
            )
        feed = {k: inputs[k] for k in keys if k in inputs}
        if not feed:
            raise ValueError(
                f"The validation batches have none of the model's input "
                f"keys {list(keys)}. Batch keys: {sorted(inputs)}"
            )
        preds = model.predict_on_batch(feed)
        preds = {k: np.asarray(v) for k, v in preds.items()}
        evaluator.process(preds, inputs)
        bar.update(step + 1)
    return evaluator.evaluate()
