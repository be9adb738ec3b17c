"""Keras optimizers with PyTorch's update rules (``torch.optim`` 2.x).

Keras' stock optimizers differ from ``torch.optim`` in ways that matter for
reproducing MMPose trainings:

* ``weight_decay`` of torch ``Adam`` and ``SGD`` is an L2 term added to the
  gradient (it then goes through the moment estimates); Keras'
  ``weight_decay`` is always decoupled (``p -= lr * wd * p``, AdamW's rule).
* Keras ``SGD`` keeps ``-lr * g`` in its velocity, so a learning-rate change
  reaches the momentum only gradually; torch keeps the raw gradient sum and
  multiplies it by the current rate.
* Keras ``Adam`` adds ``epsilon`` to ``sqrt(v)`` before bias correction;
  torch adds it to ``sqrt(v_hat)`` after (a relative difference of order
  ``eps / sqrt(v)``: negligible unless gradients are as small as ``eps``).
* ``exclude_from_weight_decay`` is not part of a Keras optimizer's config,
  so it is lost when a ``.keras`` file is reloaded.

``TorchAdam``, ``TorchAdamW`` and ``TorchSGD`` are the Keras optimizers with
torch's rules and a serializable ``no_weight_decay_names``. They run the
per-variable ``update_step`` on every backend (on PyTorch, Keras' fused
multi-tensor path is only used by its own classes).
"""

import math
import re

import keras
from keras import ops

from keraspose.registry import register


def _name_pattern(names):
    """A regex matching variables whose own name is one of ``names``.

    Keras matches ``exclude_from_weight_decay(var_names=...)`` against
    ``variable.name``: the short name (``"bias"``) on JAX and PyTorch, the
    full path with a suffix (``"model/fc/bias:0"``) on TensorFlow.
    """
    alternatives = "|".join(re.escape(n) for n in names)
    return rf"(?:^|/)(?:{alternatives})(?::\d+)?$"


def _log(beta):
    return math.log(beta) if beta > 0 else -math.inf


class _TorchRulesMixin:
    """Shared pieces: excluded names in the config, update counting."""

    def _set_no_weight_decay_names(self, names):
        names = tuple(str(n) for n in (names or ()))
        self.no_weight_decay_names = names
        if names:
            self.exclude_from_weight_decay(var_names=[_name_pattern(names)])

    def _decays(self, variable):
        if not self.weight_decay:
            return False
        # Parameters that merely share a norm layer's name (RTMCCBlock's
        # `gamma`/`beta` scale-offsets) are marked by their layer: MMEngine
        # exempts only normalization layers' parameters.
        if getattr(variable, "decay_like_weight", False):
            return True
        return self._use_weight_decay(variable)

    def _update_count(self, dtype):
        """Torch's per-parameter ``step``: updates so far, this one included.

        Counted from the micro-batch counter ``_iterations`` so that it does
        not depend on what ``iterations`` reports under gradient
        accumulation (``update_step`` runs on the last micro-batch of each
        accumulation window).
        """
        accumulation = self.gradient_accumulation_steps
        if accumulation:
            return ops.cast(
                ops.floor_divide(self._iterations, accumulation) + 1, dtype
            )
        return ops.cast(self._iterations + 1, dtype)

    def _torch_adam_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        step = self._update_count(dtype)
        beta_1, beta_2 = float(self.beta_1), float(self.beta_2)
        # `1 - beta` in float64 as torch does: float32(1) - float32(0.999)
        # is 1.3e-5 off in relative terms.
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - beta_1))
        self.assign(
            v,
            ops.add(
                ops.multiply(v, beta_2),
                ops.multiply(ops.square(gradient), 1 - beta_2),
            ),
        )
        if self.amsgrad:
            v_max = self._velocity_hats[index]
            self.assign(v_max, ops.maximum(v_max, v))
            v = v_max
        # 1 - beta ** step without cancellation: -expm1(step * log(beta)).
        correction_1 = -ops.expm1(step * _log(beta_1))
        correction_2 = ops.sqrt(-ops.expm1(step * _log(beta_2)))
        denominator = ops.add(
            ops.divide(ops.sqrt(v), correction_2),
            ops.cast(self.epsilon, dtype),
        )
        self.assign_sub(
            variable,
            ops.multiply(lr / correction_1, ops.divide(m, denominator)),
        )

    def _config_extra(self):
        return {"no_weight_decay_names": list(self.no_weight_decay_names)}


@register
class TorchAdam(_TorchRulesMixin, keras.optimizers.Adam):
    """Keras Adam with ``torch.optim.Adam``'s update.

    ``weight_decay`` is torch's L2 penalty: ``wd * p`` is added to the
    gradient (after clipping) before the moment updates; variables named in
    ``no_weight_decay_names`` are left out. ``epsilon`` is added after bias
    correction, as in torch.

    Args:
        learning_rate: float or a ``LearningRateSchedule``.
        beta_1: torch ``betas[0]``.
        beta_2: torch ``betas[1]``.
        epsilon: torch ``eps``.
        amsgrad: torch ``amsgrad``.
        weight_decay: L2 coefficient (torch semantics), or None.
        no_weight_decay_names: variable names (``"bias"``, ``"gamma"``)
            without weight decay.
        **kwargs: Keras optimizer arguments (``global_clipnorm``,
            ``clipvalue``, ``gradient_accumulation_steps``, ``name``...).

    Example:

    >>> import keras
    >>> opt = TorchAdam(learning_rate=0.1)
    >>> w = keras.Variable([1.0, -1.0])
    >>> opt.apply([keras.ops.convert_to_tensor([0.5, -2.0])], [w])
    >>> [round(float(x), 4) for x in w.numpy()]
    [0.9, -0.9]
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        amsgrad=False,
        weight_decay=None,
        no_weight_decay_names=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )
        self._set_no_weight_decay_names(no_weight_decay_names)

    def _apply_weight_decay(self, variables):
        # L2 enters the gradient in `update_step`; nothing decoupled.
        return

    def update_step(self, gradient, variable, learning_rate):
        if self._decays(variable):
            gradient = ops.add(
                ops.cast(gradient, variable.dtype),
                ops.multiply(
                    ops.cast(self.weight_decay, variable.dtype), variable
                ),
            )
        self._torch_adam_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.update(self._config_extra())
        return config


@register
class TorchAdamW(_TorchRulesMixin, keras.optimizers.AdamW):
    """Keras AdamW with ``torch.optim.AdamW``'s update.

    Decoupled decay ``p *= 1 - lr * wd`` before the Adam step (Keras and
    torch agree on it) skipping ``no_weight_decay_names``; ``epsilon`` is
    added after bias correction, as in torch. The defaults are torch's
    (``weight_decay=0.01``, ``epsilon=1e-8``), not Keras'.

    Args:
        learning_rate: float or a ``LearningRateSchedule``.
        weight_decay: decoupled decay coefficient.
        beta_1: torch ``betas[0]``.
        beta_2: torch ``betas[1]``.
        epsilon: torch ``eps``.
        amsgrad: torch ``amsgrad``.
        no_weight_decay_names: variable names without weight decay.
        **kwargs: Keras optimizer arguments.

    Example:

    >>> opt = TorchAdamW(learning_rate=4e-3, weight_decay=0.05,
    ...                  no_weight_decay_names=["bias", "gamma", "beta"])
    >>> opt.get_config()["no_weight_decay_names"]
    ['bias', 'gamma', 'beta']
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.01,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        amsgrad=False,
        no_weight_decay_names=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            **kwargs,
        )
        self._set_no_weight_decay_names(no_weight_decay_names)

    def update_step(self, gradient, variable, learning_rate):
        self._torch_adam_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.update(self._config_extra())
        return config


@register
class TorchSGD(_TorchRulesMixin, keras.optimizers.SGD):
    """Keras SGD with ``torch.optim.SGD``'s update (``dampening=0``).

    ``buf = momentum * buf + g`` and ``p -= lr * buf`` (Nesterov: ``p -= lr *
    (g + momentum * buf)``), so the current learning rate scales the whole
    momentum buffer as in torch; ``weight_decay`` is the L2 term ``wd * p``
    added to the gradient, skipping ``no_weight_decay_names``.

    Args:
        learning_rate: float or a ``LearningRateSchedule``.
        momentum: torch ``momentum``.
        nesterov: torch ``nesterov`` (needs ``momentum > 0``).
        weight_decay: L2 coefficient (torch semantics), or None.
        no_weight_decay_names: variable names without weight decay.
        **kwargs: Keras optimizer arguments.

    Example:

    >>> import keras
    >>> opt = TorchSGD(learning_rate=0.1, momentum=0.9)
    >>> w = keras.Variable([1.0])
    >>> for _ in range(2):
    ...     opt.apply([keras.ops.convert_to_tensor([1.0])], [w])
    >>> round(float(w.numpy()[0]), 4)  # 1 - 0.1 * (1 + 1.9)
    0.71
    """

    def __init__(
        self,
        learning_rate=0.001,
        momentum=0.0,
        nesterov=False,
        weight_decay=None,
        no_weight_decay_names=None,
        **kwargs,
    ):
        if nesterov and momentum <= 0:
            raise ValueError(
                "Nesterov momentum requires `momentum > 0` (as in torch). "
                f"Received: momentum={momentum}"
            )
        super().__init__(
            learning_rate=learning_rate,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
            **kwargs,
        )
        self._set_no_weight_decay_names(no_weight_decay_names)

    def _apply_weight_decay(self, variables):
        return

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        if self._decays(variable):
            gradient = ops.add(
                gradient,
                ops.multiply(ops.cast(self.weight_decay, dtype), variable),
            )
        if self.momentum != 0:
            momentum = ops.cast(self.momentum, dtype)
            buf = self.momentums[self._get_variable_index(variable)]
            # Zero-initialised, so the first update gives buf = g as torch.
            self.assign(buf, ops.add(ops.multiply(buf, momentum), gradient))
            if self.nesterov:
                gradient = ops.add(gradient, ops.multiply(buf, momentum))
            else:
                gradient = buf
        self.assign_sub(variable, ops.multiply(gradient, lr))

    def get_config(self):
        config = super().get_config()
        config.update(self._config_extra())
        return config
