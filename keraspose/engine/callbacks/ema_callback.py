"""Exponential moving average of the weights (MMEngine's ``EMAHook``)."""

import math

import keras
from keras import ops

#: ``ema_type`` values of MMEngine/MMDetection that this callback supports.
EMA_TYPES = ("ExponentialMovingAverage", "ExpMomentumEMA")


class EMACallback(keras.callbacks.Callback):
    """Keeps an averaged copy of the weights and evaluates with it.

    The Keras form of MMEngine's ``EMAHook``. After every training step the
    averaged weights move toward the model's:
    ``avg = (1 - m) * avg + m * weight`` (the first update copies). With
    ``ema_type="ExponentialMovingAverage"`` ``m`` is ``momentum``; with
    ``"ExpMomentumEMA"`` (MMDetection's, used by RTMPose and YOLOX) it is
    ``(1 - momentum) * exp(-(1 + steps) / gamma) + momentum``, large early
    and annealed to ``momentum``. ``steps`` counts updates as MMEngine does.

    At the end of every epoch the averaged weights are swapped into the
    model, so callbacks listed *after* this one (evaluation, checkpoints)
    see them, as MMEngine validates and saves the averaged weights; the
    training weights come back at the start of the next epoch. After
    training the model keeps the averaged weights.

    Differences from MMEngine, documented: a resumed run restarts the
    average from the checkpoint's (averaged) weights and training continues
    from them, because ``.keras`` checkpoints hold one set of weights.

    Args:
        ema_type: ``"ExponentialMovingAverage"`` or ``"ExpMomentumEMA"``.
        momentum: the update momentum (MMEngine's convention: the weight of
            the new value).
        gamma: ``ExpMomentumEMA``'s annealing constant in steps.
        interval: update every ``interval`` steps.
        update_buffers: also average the non-trainable float weights
            (BatchNorm statistics); otherwise they follow the model.
        begin_iter: copy instead of averaging before this iteration.
        begin_epoch: copy instead of averaging before this epoch.
        strict_load: accepted for MMEngine compatibility.
        priority: accepted for MMEngine compatibility.

    Example:

    >>> cb = EMACallback("ExpMomentumEMA", momentum=0.0002,
    ...                  update_buffers=True)
    >>> round(cb.momentum_at(0), 6)
    0.999501
    """

    def __init__(
        self,
        ema_type="ExponentialMovingAverage",
        momentum=0.0002,
        gamma=2000,
        interval=1,
        update_buffers=False,
        begin_iter=0,
        begin_epoch=0,
        strict_load=False,
        priority=None,
    ):
        super().__init__()
        ema_type = ema_type.split(".")[-1]
        if ema_type not in EMA_TYPES:
            raise ValueError(
                f"Expected ema_type in {EMA_TYPES}. Received: "
                f"ema_type={ema_type!r}"
            )
        if not 0 < float(momentum) < 1:
            raise ValueError(
                f"Expected 0 < momentum < 1. Received: momentum={momentum!r}"
            )
        if gamma <= 0:
            raise ValueError(f"Expected gamma > 0. Received: gamma={gamma!r}")
        if begin_iter and begin_epoch:
            raise ValueError(
                "`begin_iter` and `begin_epoch` cannot both be set. "
                f"Received: begin_iter={begin_iter}, begin_epoch={begin_epoch}"
            )
        self.ema_type = ema_type
        self.momentum = float(momentum)
        self.gamma = float(gamma)
        self.interval = int(interval)
        self.update_buffers = bool(update_buffers)
        self.begin_iter = int(begin_iter)
        self.begin_epoch = int(begin_epoch)
        self.steps = 0
        self._iter = 0
        self._epoch = 0
        self._pairs = None
        self._swapped = False

    def momentum_at(self, steps):
        """The update momentum of update number ``steps``."""
        if self.ema_type == "ExpMomentumEMA":
            decay = math.exp(-float(1 + steps) / self.gamma)
            return (1 - self.momentum) * decay + self.momentum
        return self.momentum

    def _variables(self):
        variables = list(self.model.trainable_weights)
        if self.update_buffers:
            variables += [
                v
                for v in self.model.non_trainable_weights
                if "float" in keras.backend.standardize_dtype(v.dtype)
            ]
        return variables

    def on_train_begin(self, logs=None):
        if self._pairs is None:
            self._pairs = [
                (
                    v,
                    keras.Variable(
                        ops.convert_to_numpy(v.value),
                        dtype=v.dtype,
                        trainable=False,
                        name=f"ema_{i}",
                    ),
                )
                for i, v in enumerate(self._variables())
            ]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._swapped:
            self._swap()

    def on_train_batch_end(self, batch, logs=None):
        # Accessing self.model syncs JAX's training state into the variables.
        self.model  # noqa: B018
        started = (
            self._epoch >= self.begin_epoch
            if self.begin_epoch
            else self._iter >= self.begin_iter
        )
        self._iter += 1
        if not started:
            for var, avg in self._pairs:
                avg.assign(ops.copy(var.value))
            return
        if self.steps == 0:
            for var, avg in self._pairs:
                avg.assign(ops.copy(var.value))
        elif self.steps % self.interval == 0:
            m = self.momentum_at(self.steps)
            for var, avg in self._pairs:
                avg.assign(avg.value + m * (var.value - avg.value))
        self.steps += 1

    def on_epoch_end(self, epoch, logs=None):
        if not self._swapped:
            self._swap()

    def _swap(self):
        # Accessing self.model syncs JAX's training state into the variables.
        self.model  # noqa: B018
        for var, avg in self._pairs:
            current = ops.copy(var.value)
            var.assign(avg.value)
            avg.assign(current)
        self._swapped = not self._swapped
