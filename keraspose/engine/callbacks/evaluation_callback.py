"""Evaluation during ``model.fit`` (MMEngine's validation loop)."""

import keras

from keraspose.evaluation.evaluator import Evaluator
from keraspose.evaluation.evaluator import evaluate_model
from keraspose.evaluation.evaluator import pack_metric_keys


class EvaluationCallback(keras.callbacks.Callback):
    """Evaluates the model on a validation dataset every ``interval`` epochs.

    The metrics go into the epoch's ``logs`` (``coco/AP``, ``PCK``, ...), so
    later callbacks see them: put this callback *before*
    ``keras.callbacks.ModelCheckpoint(monitor="coco/AP", mode="max",
    save_best_only=True)``, ``EarlyStopping`` or ``CSVLogger`` in the
    ``callbacks`` list. Like MMPose's ``val_interval``, epochs that are not
    evaluated carry no metric (Keras' checkpoint then warns and skips).

    Args:
        dataset: a keraspose dataset with a test pipeline (e.g.
            ``CocoDataset(..., test_mode=True)``).
        evaluator: an ``Evaluator``, a metric or metric config(s), e.g.
            ``dict(type="CocoMetric")``.
        interval: evaluate after every ``interval``-th epoch (and after the
            last one when ``evaluate_last`` is set).
        batch_size: prediction batch size.
        verbose: show a progress bar and print the metrics.
        evaluate_last: also evaluate after the final epoch.

    Example:

    >>> # model.fit(train, epochs=210, callbacks=[
    >>> #     EvaluationCallback(val_set, dict(type="CocoMetric"), interval=10),
    >>> #     keras.callbacks.ModelCheckpoint("best.keras", monitor="coco/AP",
    >>> #                                     mode="max", save_best_only=True)])
    """

    def __init__(
        self,
        dataset,
        evaluator,
        interval=1,
        batch_size=32,
        verbose=1,
        evaluate_last=True,
    ):
        super().__init__()
        if int(interval) < 1:
            raise ValueError(f"Expected interval >= 1. Received: {interval}")
        self.dataset = dataset
        self.evaluator = Evaluator(evaluator)
        self.interval = int(interval)
        self.batch_size = int(batch_size)
        self.verbose = verbose
        self.evaluate_last = evaluate_last
        self.history = []
        pack_metric_keys(dataset, self.evaluator.required_keys)
        self._loader = None

    def _due(self, epoch):
        if (epoch + 1) % self.interval == 0:
            return True
        epochs = (self.params or {}).get("epochs")
        return bool(self.evaluate_last and epochs and epoch + 1 == epochs)

    def on_epoch_end(self, epoch, logs=None):
        if not self._due(epoch):
            return
        if self._loader is None:
            self._loader = self.dataset.to_tf_dataset(
                batch_size=self.batch_size, shuffle=False, seed=0
            )
        metrics = evaluate_model(
            self.model,
            self.dataset,
            self.evaluator,
            batch_size=self.batch_size,
            verbose=1 if self.verbose else 0,
            loader=self._loader,
        )
        if logs is not None:
            logs.update(metrics)
        self.history.append(dict(epoch=epoch + 1, **metrics))
        if self.verbose:
            text = "  ".join(f"{k}: {v:.4f}" for k, v in metrics.items())
            print(f"Epoch {epoch + 1} evaluation: {text}")
