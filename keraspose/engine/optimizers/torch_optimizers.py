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
* A Keras optimizer has one learning rate and one weight decay; MMEngine's
  optim-wrapper constructors give every parameter its own (parameter groups
  from ``paramwise_cfg``).

``TorchAdam``, ``TorchAdamW`` and ``TorchSGD`` are the Keras optimizers with
torch's rules and MMEngine's parameter groups: ``paramwise_cfg`` and the
``constructor`` whose rules it follows are part of their config (so they
survive ``.keras`` reloads), and ``build`` evaluates them once into a
learning-rate and a weight-decay multiplier per variable, from the
variable's MMEngine parameter name and its layer's type
(:mod:`keraspose.engine.optimizers.param_names`). They run the per-variable
``update_step`` on every backend (on PyTorch, Keras' fused multi-tensor path
is only used by its own classes).
"""

import copy
import math

import keras
import numpy as np
from keras import ops

from keraspose.engine.optimizers.param_names import parameter_info
from keraspose.engine.optimizers.paramwise import check_paramwise_cfg
from keraspose.engine.optimizers.paramwise import constructor_name
from keraspose.engine.optimizers.paramwise import paramwise_multipliers
from keraspose.engine.schedulers.param_scheduler_schedule import (
    ParamSchedulerSchedule,
)
from keraspose.registry import register


def _log(beta):
    return math.log(beta) if beta > 0 else -math.inf


def _group_schedule(schedule, lr_mult):
    """The schedule of a group whose base rate is ``lr_mult`` times
    ``schedule``'s, or None when it is just ``lr_mult`` times the schedule.

    MMEngine's schedulers run per parameter group from the group's initial
    rate, and some targets are absolute (``eta_min`` of
    ``CosineAnnealingLR``, ``PolyLR``...): such a group's rate is not
    ``lr_mult`` times the base rate and gets its own table.
    """
    config = schedule.get_config()
    config["base_lr"] = schedule.base_lr * lr_mult
    group = ParamSchedulerSchedule(**config)
    if np.array_equal(group.starts, schedule.starts) and np.allclose(
        group.values, schedule.values * lr_mult, rtol=1e-12, atol=0.0
    ):
        return None
    return group


class _TorchRulesMixin:
    """Shared pieces: per-variable multipliers, update counting."""

    def _set_paramwise(self, paramwise_cfg, constructor):
        self.constructor = constructor_name(constructor)
        # `build_optimizer` passes checked configs (unchanged by a second
        # check); a hand-written one is checked as if the optimizer config
        # set `lr` and `weight_decay`.
        self.paramwise_cfg = check_paramwise_cfg(
            self.constructor,
            copy.deepcopy(paramwise_cfg),
            base_lr=1.0,
            base_wd=1.0,
        )
        self.parameter_names = ()
        self._lr_multipliers = None
        self._decay_values = None
        self._lr_schedules = None

    def build(self, var_list):
        super().build(var_list)
        self._build_multipliers(var_list)

    def _build_multipliers(self, var_list):
        """Evaluates the paramwise rules once per variable.

        Stores, by optimizer variable index, the learning-rate multiplier,
        the weight decay (``weight_decay * decay_mult``; 0 for variables
        excluded with ``exclude_from_weight_decay``) and, where the
        learning-rate schedule does not scale with the base rate, the
        group's own schedule.
        """
        variables = list(var_list)
        infos = parameter_info(variables)
        multipliers = paramwise_multipliers(
            infos, self.constructor, self.paramwise_cfg
        )
        wd = float(self.weight_decay or 0.0)
        count = len(self._trainable_variables_indices)
        names = [""] * count
        lr_mults = [1.0] * count
        decays = [0.0] * count
        for variable, info, (lr_mult, decay_mult) in zip(
            variables, infos, multipliers
        ):
            index = self._get_variable_index(variable)
            names[index] = info.name
            lr_mults[index] = lr_mult
            if wd and decay_mult and self._use_weight_decay(variable):
                decays[index] = wd * decay_mult
        schedules = [None] * count
        if isinstance(self._learning_rate, ParamSchedulerSchedule):
            scaled = {}
            for index, lr_mult in enumerate(lr_mults):
                if lr_mult == 1.0:
                    continue
                if lr_mult not in scaled:
                    scaled[lr_mult] = _group_schedule(
                        self._learning_rate, lr_mult
                    )
                schedules[index] = scaled[lr_mult]
        self.parameter_names = tuple(names)
        self._lr_multipliers = tuple(lr_mults)
        self._decay_values = tuple(decays)
        self._lr_schedules = tuple(schedules)

    def multipliers(self):
        """The built optimizer's ``{parameter name: (lr_mult, decay_mult)}``.

        ``decay_mult`` is relative to ``weight_decay`` (0 for variables
        without decay, and for every variable when ``weight_decay`` is 0).
        """
        if self._lr_multipliers is None:
            raise ValueError(
                "The optimizer is not built yet: call `build(variables)`."
            )
        wd = float(self.weight_decay or 0.0)
        return {
            name: (lr_mult, decay / wd if wd else 0.0)
            for name, lr_mult, decay in zip(
                self.parameter_names, self._lr_multipliers, self._decay_values
            )
        }

    def _variable_lr_and_decay(self, variable, learning_rate):
        """This step's learning rate and weight decay of ``variable``."""
        index = self._get_variable_index(variable)
        decay = self._decay_values[index]
        schedule = self._lr_schedules[index]
        if schedule is not None:
            return schedule(self._iterations), decay
        lr_mult = self._lr_multipliers[index]
        if lr_mult != 1.0:
            learning_rate = ops.multiply(learning_rate, lr_mult)
        return learning_rate, decay

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
        return {
            "paramwise_cfg": copy.deepcopy(self.paramwise_cfg),
            "constructor": self.constructor,
        }


@register
class TorchAdam(_TorchRulesMixin, keras.optimizers.Adam):
    """Keras Adam with ``torch.optim.Adam``'s update.

    ``weight_decay`` is torch's L2 penalty: ``wd * p`` is added to the
    gradient (after clipping) before the moment updates. ``epsilon`` is
    added after bias correction, as in torch. ``paramwise_cfg`` scales the
    learning rate and ``weight_decay`` per variable (MMEngine's parameter
    groups).

    Args:
        learning_rate: float or a ``LearningRateSchedule``.
        beta_1: torch ``betas[0]``.
        beta_2: torch ``betas[1]``.
        epsilon: torch ``eps``.
        amsgrad: torch ``amsgrad``.
        weight_decay: L2 coefficient (torch semantics), or None.
        paramwise_cfg: MMEngine's ``paramwise_cfg`` (``custom_keys``,
            ``bias_lr_mult``, ``norm_decay_mult``..., or ``num_layers`` and
            ``layer_decay_rate`` for layer decay): per-variable learning
            rate and weight decay multipliers, evaluated at ``build``.
        constructor: the MMEngine / MMPose optim-wrapper constructor whose
            rules ``paramwise_cfg`` follows (default
            ``"DefaultOptimWrapperConstructor"``).
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
        paramwise_cfg=None,
        constructor=None,
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
        self._set_paramwise(paramwise_cfg, constructor)

    def _apply_weight_decay(self, variables):
        # L2 enters the gradient in `update_step`; nothing decoupled.
        return

    def update_step(self, gradient, variable, learning_rate):
        lr, decay = self._variable_lr_and_decay(variable, learning_rate)
        if decay:
            gradient = ops.add(
                ops.cast(gradient, variable.dtype),
                ops.multiply(ops.cast(decay, variable.dtype), variable),
            )
        self._torch_adam_step(gradient, variable, lr)

    def get_config(self):
        config = super().get_config()
        config.update(self._config_extra())
        return config


@register
class TorchAdamW(_TorchRulesMixin, keras.optimizers.AdamW):
    """Keras AdamW with ``torch.optim.AdamW``'s update.

    Decoupled decay ``p *= 1 - lr * wd`` before the Adam step, with each
    variable's own learning rate and decay (``paramwise_cfg``); ``epsilon``
    is added after bias correction, as in torch. The defaults are torch's
    (``weight_decay=0.01``, ``epsilon=1e-8``), not Keras'.

    Args:
        learning_rate: float or a ``LearningRateSchedule``.
        weight_decay: decoupled decay coefficient.
        beta_1: torch ``betas[0]``.
        beta_2: torch ``betas[1]``.
        epsilon: torch ``eps``.
        amsgrad: torch ``amsgrad``.
        paramwise_cfg: MMEngine's ``paramwise_cfg`` (``custom_keys``,
            ``bias_lr_mult``, ``norm_decay_mult``..., or ``num_layers`` and
            ``layer_decay_rate`` for layer decay): per-variable learning
            rate and weight decay multipliers, evaluated at ``build``.
        constructor: the MMEngine / MMPose optim-wrapper constructor whose
            rules ``paramwise_cfg`` follows (default
            ``"DefaultOptimWrapperConstructor"``).
        **kwargs: Keras optimizer arguments.

    Example:

    >>> opt = TorchAdamW(learning_rate=4e-3, weight_decay=0.05,
    ...                  paramwise_cfg=dict(norm_decay_mult=0,
    ...                                     bias_decay_mult=0))
    >>> opt.get_config()["paramwise_cfg"]
    {'norm_decay_mult': 0.0, 'bias_decay_mult': 0.0}
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.01,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        amsgrad=False,
        paramwise_cfg=None,
        constructor=None,
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
        self._set_paramwise(paramwise_cfg, constructor)

    def _apply_weight_decay(self, variables):
        # Per-variable decay with the variable's rate, in `update_step`.
        return

    def update_step(self, gradient, variable, learning_rate):
        lr, decay = self._variable_lr_and_decay(variable, learning_rate)
        if decay:
            dtype = variable.dtype
            shrink = 1.0 - ops.cast(lr, dtype) * ops.cast(decay, dtype)
            self.assign(variable, ops.multiply(variable, shrink))
        self._torch_adam_step(gradient, variable, lr)

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
    added to the gradient. ``paramwise_cfg`` scales the learning rate and
    ``weight_decay`` per variable.

    Args:
        learning_rate: float or a ``LearningRateSchedule``.
        momentum: torch ``momentum``.
        nesterov: torch ``nesterov`` (needs ``momentum > 0``).
        weight_decay: L2 coefficient (torch semantics), or None.
        paramwise_cfg: MMEngine's ``paramwise_cfg`` (``custom_keys``,
            ``bias_lr_mult``, ``norm_decay_mult``..., or ``num_layers`` and
            ``layer_decay_rate`` for layer decay): per-variable learning
            rate and weight decay multipliers, evaluated at ``build``.
        constructor: the MMEngine / MMPose optim-wrapper constructor whose
            rules ``paramwise_cfg`` follows (default
            ``"DefaultOptimWrapperConstructor"``).
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
        paramwise_cfg=None,
        constructor=None,
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
        self._set_paramwise(paramwise_cfg, constructor)

    def _apply_weight_decay(self, variables):
        return

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        learning_rate, decay = self._variable_lr_and_decay(
            variable, learning_rate
        )
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        if decay:
            gradient = ops.add(
                gradient, ops.multiply(ops.cast(decay, dtype), variable)
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
