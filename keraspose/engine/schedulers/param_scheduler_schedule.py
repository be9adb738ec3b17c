"""MMEngine ``param_scheduler`` lists as a Keras learning-rate schedule."""

import copy

import keras
import numpy as np
from keras import ops

from keraspose.engine.schedulers.lr_rules import replay
from keraspose.registry import register


def _plain(value):
    """Tuples to lists, recursively (what a JSON round trip gives back)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@register
class ParamSchedulerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate of an MMEngine ``param_scheduler`` list.

    Gives, for a Keras optimizer iteration, the learning rate MMEngine
    0.10.7's runner uses at that training iteration: schedulers are chained
    in list order, iteration-based ones (``by_epoch=False``, or
    ``convert_to_iter_based=True``) step after every iteration and
    epoch-based ones after every epoch, so the latter change the rate only at
    epoch boundaries. Supported types: ``LinearLR``, ``MultiStepLR``,
    ``StepLR``, ``ConstantLR`` (MMPose's, without the factor range check),
    ``ExponentialLR``, ``CosineAnnealingLR``, ``PolyLR``, ``OneCycleLR``,
    ``CosineRestartLR`` and MMPose's ``QuadraticWarmupLR``.

    The schedule is replayed once on the host in float64 (MMEngine's
    chained form, so overlapping schedulers give MMEngine's numbers, not a
    closed form's) and stored as a step function; calling the schedule
    looks the iteration up with ``keras.ops`` and works inside
    ``jit``-compiled train steps on every backend. Past the last change the
    rate stays at its final value.

    Args:
        base_lr: the optimizer's learning rate (MMEngine's ``initial_lr``,
            after ``auto_scale_lr``).
        param_scheduler: MMEngine's ``param_scheduler``: a list of scheduler
            dicts (or one dict).
        steps_per_epoch: training iterations per epoch (MMEngine's
            ``len(train_dataloader)``).
        max_epochs: ``train_cfg.max_epochs``; MMEngine's runner uses it as
            the default ``end`` (in iterations for ``by_epoch=False``). None:
            every scheduler that keeps changing the rate needs an ``end``.

    Example:

    >>> schedule = ParamSchedulerSchedule(
    ...     base_lr=5e-4,
    ...     param_scheduler=[
    ...         dict(type="LinearLR", begin=0, end=500, start_factor=0.001,
    ...              by_epoch=False),
    ...         dict(type="MultiStepLR", begin=0, end=210,
    ...              milestones=[170, 200], gamma=0.1, by_epoch=True),
    ...     ],
    ...     steps_per_epoch=100,
    ... )
    >>> [round(float(x), 10) for x in schedule.lr_at([0, 499, 17000])]
    [5e-07, 0.0005, 5e-05]
    >>> round(float(schedule(499)), 6)
    0.0005
    """

    def __init__(
        self, base_lr, param_scheduler, steps_per_epoch, max_epochs=None
    ):
        if int(steps_per_epoch) != steps_per_epoch or steps_per_epoch < 1:
            raise ValueError(
                "`steps_per_epoch` must be a positive integer. Received: "
                f"steps_per_epoch={steps_per_epoch}"
            )
        if max_epochs is not None and (
            int(max_epochs) != max_epochs or max_epochs < 1
        ):
            raise ValueError(
                "`max_epochs` must be a positive integer or None. Received: "
                f"max_epochs={max_epochs}"
            )
        if isinstance(param_scheduler, dict):
            param_scheduler = [param_scheduler]
        self.base_lr = float(base_lr)
        self.param_scheduler = _plain(copy.deepcopy(list(param_scheduler)))
        self.steps_per_epoch = int(steps_per_epoch)
        self.max_epochs = None if max_epochs is None else int(max_epochs)
        self.starts, self.values = replay(
            self.base_lr,
            self.param_scheduler,
            self.steps_per_epoch,
            self.max_epochs,
        )
        self._starts32 = self.starts.astype("int32")
        self._values32 = self.values.astype("float32")
        self._torch_tables = None

    def _tables(self):
        if keras.backend.backend() != "torch":
            # Constants of the traced step (JAX, TensorFlow graphs).
            return self._starts32, self._values32
        # Eager PyTorch: keep the tables on the device between steps.
        if self._torch_tables is None:
            self._torch_tables = (
                ops.convert_to_tensor(self._starts32),
                ops.convert_to_tensor(self._values32),
            )
        return self._torch_tables

    def __call__(self, step):
        """The learning rate (float32) at optimizer iteration(s) ``step``."""
        starts, values = self._tables()
        step = ops.cast(step, "int32")
        shape = ops.shape(step)
        # 1-D lookups: TensorFlow's searchsorted rejects scalars.
        flat = ops.reshape(step, (-1,))
        index = ops.searchsorted(starts, flat, side="right") - 1
        return ops.reshape(ops.take(values, index), shape)

    def lr_at(self, iterations):
        """The learning rate at training iterations, in NumPy (float64).

        Args:
            iterations: an int or array of ints (0 is the first iteration).

        Returns:
            float64 values shaped like ``iterations`` (a NumPy scalar for an
            int).
        """
        iterations = np.asarray(iterations)
        if np.any(iterations < 0):
            raise ValueError("Iterations must be non-negative.")
        index = np.searchsorted(self.starts, iterations, side="right") - 1
        return self.values[index]

    def lr_at_epoch(self, epochs):
        """The learning rate at the first iteration of (fractional) epochs.

        Args:
            epochs: a number or array; iteration ``floor(epochs *
                steps_per_epoch)`` is looked up.

        Returns:
            A float64 array shaped like ``epochs``.
        """
        epochs = np.asarray(epochs, dtype=np.float64)
        return self.lr_at(np.floor(epochs * self.steps_per_epoch).astype(int))

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "param_scheduler": copy.deepcopy(self.param_scheduler),
            "steps_per_epoch": self.steps_per_epoch,
            "max_epochs": self.max_epochs,
        }
