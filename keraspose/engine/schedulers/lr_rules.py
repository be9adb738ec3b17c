"""Host-side replay of MMEngine's learning-rate schedulers.

MMEngine's schedulers are *chained*: each ``step()`` maps the optimizer's
current learning rate to a new one (``lr <- f(lr, k)``), several schedulers
act on the same value in list order, and the runner steps iteration-based
schedulers after every training iteration and epoch-based ones after every
epoch. Overlapping schedulers (a linear warm-up inside a cosine decay with a
non-zero ``eta_min``, say) therefore do not reduce to a closed form. This
module replays that process exactly, in float64 like MMEngine's Python
floats, and returns the learning rate as a step function of the iteration:
``starts`` (iterations where the value changes) and ``values``.

Each rule mirrors one MMEngine 0.10.7 scheduler (plus MMPose's
``ConstantLR`` and ``QuadraticWarmupLR``) after MMEngine's epoch-to-iteration
conversion. The learning rate of iteration ``t`` is the value after

* constructing the schedulers in list order (each steps once, at step 0),
* for every ``s`` in ``1..t``: stepping the iteration-based schedulers (list
  order) to step ``s``, then, when ``s`` is a multiple of the epoch length,
  the epoch-based schedulers (list order) to step ``s // steps_per_epoch``.

A scheduler is active at steps ``begin <= step < end``; its ``k`` below is
``step - begin``.
"""

import math
from collections import Counter

import numpy as np

# MMEngine's "no end" (``mmengine.optim.scheduler.param_scheduler.INF``).
INF = int(1e9)

# Replays whose learning rate changes at more iterations than this are
# refused: their table would not fit in a jit-compiled step anyway.
MAX_CHANGE_POINTS = 10_000_000

_COMMON_ARGS = ("begin", "end", "by_epoch", "convert_to_iter_based", "verbose")


class _Rule:
    """One scheduler: its arguments, conversion and chained update."""

    # Type-specific arguments and their MMEngine defaults (None for the
    # required ones; `validate` checks them).
    defaults = {}
    # Arguments multiplied by the epoch length by `convert_to_iter_based`.
    epoch_scaled = ()
    # Whether the value may change at every active step (else see `_ks`).
    changes_every_step = True

    def __init__(self, type_name, begin, end, by_epoch, **kwargs):
        self.type_name = type_name
        self.begin = begin
        self.end = end
        self.by_epoch = by_epoch
        for key, value in kwargs.items():
            setattr(self, key, value)
        if self.end <= self.begin:
            raise ValueError(
                f"{type_name}: `end` must be larger than `begin`. Received: "
                f"begin={self.begin}, end={self.end}"
            )
        self.base = None
        self.validate()

    # --- configuration -----------------------------------------------------

    def validate(self):
        """Checks the arguments as MMEngine's constructor does."""

    def attach(self, group):
        """Records the base value the way `_ParamScheduler.__init__` does."""
        self.base = group.setdefault("initial_lr", group["lr"])

    # --- stepping ----------------------------------------------------------

    def step(self, global_step, group):
        """Applies MMEngine's `step()` for the given global step."""
        if self.begin <= global_step < self.end:
            group["lr"] = self.new_lr(global_step - self.begin, group)

    def new_lr(self, k, group):
        """The chained update at active step ``k``."""
        raise NotImplementedError

    def change_ks(self):
        """Active steps ``k`` at which the value may change (sorted int64).

        Steps outside this set leave the learning rate untouched, so the
        replay skips them. ``k`` values at or beyond `INF` are unreachable
        in any real run and dropped.
        """
        span = self.end - self.begin
        if self.changes_every_step:
            if self.end >= INF:
                raise ValueError(
                    f"{self.type_name} changes the learning rate at every "
                    "step and has no `end`; set its `end` or pass "
                    "`max_epochs` (MMEngine's runner defaults `end` to the "
                    "training length)."
                )
            return np.arange(span, dtype=np.int64)
        ks = np.asarray(self._ks(), dtype=np.int64).reshape(-1)
        return np.unique(ks[(ks >= 0) & (ks < min(span, INF))])

    def _ks(self):
        raise NotImplementedError


class _Linear(_Rule):
    defaults = dict(start_factor=1.0 / 3, end_factor=1.0)

    def validate(self):
        for name in ("start_factor", "end_factor"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"LinearLR: `{name}` must be in [0, 1] (MMEngine). "
                    f"Received: {name}={value}"
                )
        self.total_iters = self.end - self.begin - 1
        if self.start_factor == 0 and self.total_iters >= 1:
            raise ValueError(
                "LinearLR: `start_factor=0` makes MMEngine's chained update "
                "divide by zero at its second step; use a small positive "
                "factor."
            )

    def new_lr(self, k, group):
        s, e = self.start_factor, self.end_factor
        if k == 0:
            return group["lr"] * s
        ratio = (e - s) / (self.total_iters * s + (k - 1) * (e - s))
        return group["lr"] * (1.0 + ratio)


class _MultiStep(_Rule):
    defaults = dict(milestones=None, gamma=0.1)
    epoch_scaled = ("milestones",)
    changes_every_step = False

    def validate(self):
        if self.milestones is None:
            raise ValueError("MultiStepLR: `milestones` is required.")
        self.counts = Counter(int(m) for m in self.milestones)

    def new_lr(self, k, group):
        if k not in self.counts:
            return group["lr"]
        return group["lr"] * self.gamma ** self.counts[k]

    def _ks(self):
        return sorted(self.counts)


class _Step(_Rule):
    defaults = dict(step_size=None, gamma=0.1)
    epoch_scaled = ("step_size",)
    changes_every_step = False

    def validate(self):
        if self.step_size is None or self.step_size < 1:
            raise ValueError(
                "StepLR: `step_size` must be a positive integer. Received: "
                f"step_size={self.step_size}"
            )

    def new_lr(self, k, group):
        if k == 0 or k % self.step_size != 0:
            return group["lr"]
        return group["lr"] * self.gamma

    def _ks(self):
        if self.end >= INF:
            raise ValueError(
                "StepLR decays forever without an `end`; set its `end` or "
                "pass `max_epochs`."
            )
        span = self.end - self.begin
        return np.arange(self.step_size, span, self.step_size)


class _Constant(_Rule):
    # MMPose's ConstantLR (the one MMPose configs resolve to): MMEngine's
    # without the 0 <= factor <= 1 restriction.
    defaults = dict(factor=1.0 / 3)
    changes_every_step = False

    def validate(self):
        self.total_iters = self.end - self.begin - 1
        if self.factor == 0 and 0 < self.total_iters < INF:
            raise ValueError(
                "ConstantLR: `factor=0` cannot be undone at `end` (MMEngine "
                "divides by the factor there)."
            )

    def new_lr(self, k, group):
        if k == 0:
            return group["lr"] * self.factor
        if k == self.total_iters:
            return group["lr"] * (1.0 / self.factor)
        return group["lr"]

    def _ks(self):
        return [0, self.total_iters] if self.total_iters > 0 else [0]


class _Exponential(_Rule):
    defaults = dict(gamma=None)

    def validate(self):
        if self.gamma is None:
            raise ValueError("ExponentialLR: `gamma` is required.")

    def new_lr(self, k, group):
        if k == 0:
            return group["lr"]
        return group["lr"] * self.gamma


class _Cosine(_Rule):
    defaults = dict(T_max=None, eta_min=None, eta_min_ratio=None)
    epoch_scaled = ("T_max",)

    def validate(self):
        if self.eta_min is None and self.eta_min_ratio is None:
            self.eta_min = 0.0
        if (self.eta_min is None) == (self.eta_min_ratio is None):
            raise ValueError(
                "CosineAnnealingLR: set either `eta_min` or `eta_min_ratio`, "
                "not both."
            )
        # MMEngine: `T_max or (end - begin)` (0 also means "unset").
        self.T_max = self.T_max or (self.end - self.begin)

    def floor(self):
        if self.eta_min_ratio is None:
            return self.eta_min
        return self.base * self.eta_min_ratio

    def new_lr(self, k, group):
        lr, t_max, eta_min = group["lr"], self.T_max, self.floor()
        if k == 0:
            return lr
        if (k - 1 - t_max) % (2 * t_max) == 0:
            # Past a full half period the ratio form divides by zero;
            # MMEngine steps by the first increment instead.
            return (
                lr + (self.base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
            )
        ratio = (1 + math.cos(math.pi * k / t_max)) / (
            1 + math.cos(math.pi * (k - 1) / t_max)
        )
        return ratio * (lr - eta_min) + eta_min


class _Poly(_Rule):
    defaults = dict(eta_min=0.0, power=1.0)

    def validate(self):
        self.total_iters = self.end - self.begin - 1

    def new_lr(self, k, group):
        if k == 0:
            return group["lr"]
        decay = (1 - 1 / (self.total_iters - k + 1)) ** self.power
        return (group["lr"] - self.eta_min) * decay + self.eta_min


class _OneCycle(_Rule):
    defaults = dict(
        eta_max=0.0,
        total_steps=None,
        pct_start=0.3,
        anneal_strategy="cos",
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
    )
    epoch_scaled = ("total_steps",)

    def validate(self):
        if self.total_steps is None:
            self.total_steps = self.end - self.begin
        elif int(self.total_steps) != self.total_steps or self.total_steps < 1:
            raise ValueError(
                "OneCycleLR: `total_steps` must be a positive integer. "
                f"Received: total_steps={self.total_steps}"
            )
        if not 0.0 <= self.pct_start <= 1.0:
            raise ValueError(
                "OneCycleLR: `pct_start` must be in [0, 1]. Received: "
                f"pct_start={self.pct_start}"
            )
        if self.anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                "OneCycleLR: `anneal_strategy` must be 'cos' or 'linear'. "
                f"Received: anneal_strategy={self.anneal_strategy!r}"
            )
        if isinstance(self.eta_max, list | tuple):
            raise ValueError(
                "OneCycleLR: one `eta_max` per parameter group is not "
                "supported (Keras optimizers have one learning rate)."
            )
        if self.end - self.begin > self.total_steps + 1 and self.end < INF:
            raise ValueError(
                f"OneCycleLR: active for {self.end - self.begin} steps but "
                f"`total_steps={self.total_steps}`; MMEngine raises once it "
                "is stepped past `total_steps`. Set `end` to at most "
                f"{self.begin + self.total_steps + 1} (begin + total_steps "
                "+ 1)."
            )
        if self.end >= INF:
            # Stepping past total_steps raises in MMEngine: the run ends
            # before that, so the schedule is only defined up to there.
            self.end = self.begin + self.total_steps + 1
        total = self.total_steps
        pct = float(self.pct_start)
        if self.three_phase:
            self.phases = [
                (float(pct * total) - 1, "initial_lr", "max_lr"),
                (float(2 * pct * total) - 2, "max_lr", "initial_lr"),
                (total - 1, "initial_lr", "min_lr"),
            ]
        else:
            self.phases = [
                (float(pct * total) - 1, "initial_lr", "max_lr"),
                (total - 1, "max_lr", "min_lr"),
            ]

    def attach(self, group):
        # OneCycle overwrites the group's initial value (not setdefault), so
        # later schedulers see eta_max / div_factor as their base.
        group["initial_lr"] = self.eta_max / self.div_factor
        group["max_lr"] = self.eta_max
        group["min_lr"] = group["initial_lr"] / self.final_div_factor
        super().attach(group)

    def new_lr(self, k, group):
        start_step = 0
        for i, (end_step, start_key, end_key) in enumerate(self.phases):
            if k <= end_step or i == len(self.phases) - 1:
                pct = (k - start_step) / (end_step - start_step)
                start, end = group[start_key], group[end_key]
                if self.anneal_strategy == "cos":
                    return end + (start - end) / 2.0 * (
                        math.cos(math.pi * pct) + 1
                    )
                return (end - start) * pct + start
            start_step = end_step
        raise AssertionError("unreachable")


class _CosineRestart(_Rule):
    defaults = dict(
        periods=None, restart_weights=(1,), eta_min=None, eta_min_ratio=None
    )
    epoch_scaled = ("periods",)
    changes_every_step = False

    def validate(self):
        if self.periods is None:
            raise ValueError("CosineRestartLR: `periods` is required.")
        if (self.eta_min is None) == (self.eta_min_ratio is None):
            raise ValueError(
                "CosineRestartLR: set exactly one of `eta_min` and "
                "`eta_min_ratio`."
            )
        if len(self.periods) != len(self.restart_weights):
            raise ValueError(
                "CosineRestartLR: `periods` and `restart_weights` must have "
                "the same length."
            )
        self.cumulative = list(np.cumsum(self.periods).tolist())

    def new_lr(self, k, group):
        idx = next((i for i, c in enumerate(self.cumulative) if k < c), None)
        if idx is None:
            return group["lr"]
        restart = 0 if idx == 0 else self.cumulative[idx - 1]
        period = self.periods[idx]
        step = k - restart
        eta_max = self.base * self.restart_weights[idx]
        if self.eta_min_ratio is None:
            eta_min = self.eta_min
        else:
            eta_min = self.base * self.eta_min_ratio
        if step == 0:
            return eta_max
        ratio = (1 + math.cos(math.pi * step / period)) / (
            1 + math.cos(math.pi * (step - 1) / period)
        )
        return ratio * (group["lr"] - eta_min) + eta_min

    def _ks(self):
        return np.arange(self.cumulative[-1] if self.cumulative else 0)


class _QuadraticWarmup(_Rule):
    # MMPose's QuadraticWarmupLR (YOLOX-Pose, RTMO).
    defaults = {}

    def validate(self):
        if self.end >= INF:
            raise ValueError("QuadraticWarmupLR: `end` is required.")
        self.total_iters = self.end - self.begin

    def new_lr(self, k, group):
        increment = self.base * (2 * k + 1) / self.total_iters**2
        if k == 0:
            return increment
        return group["lr"] + increment


RULES = {
    "LinearLR": _Linear,
    "MultiStepLR": _MultiStep,
    "StepLR": _Step,
    "ConstantLR": _Constant,
    "ExponentialLR": _Exponential,
    "CosineAnnealingLR": _Cosine,
    "PolyLR": _Poly,
    "OneCycleLR": _OneCycle,
    "CosineRestartLR": _CosineRestart,
    "QuadraticWarmupLR": _QuadraticWarmup,
}

_UNSUPPORTED = {
    "ReduceOnPlateauLR": "it needs validation metrics at run time",
}


def _describe_supported():
    return ", ".join(sorted(RULES))


def make_rule(cfg, steps_per_epoch, max_epochs=None):
    """Builds a rule from one MMEngine ``param_scheduler`` dict.

    Args:
        cfg: the scheduler dict (``type`` and its arguments).
        steps_per_epoch: iterations per epoch (MMEngine's ``epoch_length``).
        max_epochs: training length; the default ``end`` as in MMEngine's
            runner (``max_epochs`` for epoch-based schedulers, ``max_epochs *
            steps_per_epoch`` for iteration-based ones). None: no default.

    Returns:
        The rule, in its effective (possibly converted) form.
    """
    if not isinstance(cfg, dict) or "type" not in cfg:
        raise ValueError(
            "Each param_scheduler entry must be a dict with a `type` key. "
            f"Received: {cfg!r}"
        )
    cfg = dict(cfg)
    cfg.pop("_scope_", None)
    type_name = str(cfg.pop("type")).rsplit(".", 1)[-1]
    if type_name in _UNSUPPORTED:
        raise ValueError(
            f"Scheduler type {type_name!r} is not supported: "
            f"{_UNSUPPORTED[type_name]}. Supported types: "
            f"{_describe_supported()}."
        )
    if type_name not in RULES:
        raise ValueError(
            f"Unknown learning-rate scheduler type {type_name!r}. "
            f"Supported types: {_describe_supported()}."
        )
    rule_cls = RULES[type_name]
    last_step = cfg.pop("last_step", -1)
    if last_step != -1:
        raise ValueError(
            f"{type_name}: `last_step` (resuming without a state dict) is "
            "not supported; the Keras optimizer's `iterations` drives the "
            "schedule."
        )
    allowed = set(_COMMON_ARGS) | set(rule_cls.defaults)
    unknown = sorted(set(cfg) - allowed)
    if unknown:
        raise ValueError(
            f"{type_name}: unsupported argument(s) {unknown}. Supported "
            f"arguments: {sorted(allowed)}."
        )
    cfg.pop("verbose", None)
    by_epoch = bool(cfg.pop("by_epoch", True))
    convert = bool(cfg.pop("convert_to_iter_based", False))
    # MMEngine's runner sets the default end before any conversion.
    if "end" not in cfg and max_epochs is not None:
        cfg["end"] = (
            int(max_epochs) if by_epoch else int(max_epochs) * steps_per_epoch
        )
    begin = cfg.pop("begin", 0)
    end = cfg.pop("end", INF)
    args = dict(rule_cls.defaults)
    args.update(cfg)
    if convert:
        if not by_epoch:
            raise ValueError(
                f"{type_name}: `convert_to_iter_based=True` needs "
                "`by_epoch=True` (MMEngine asserts the same)."
            )
        by_epoch = False
        begin = int(begin * steps_per_epoch)
        if end != INF:
            end = int(end * steps_per_epoch)
        for key in rule_cls.epoch_scaled:
            value = args.get(key)
            if value is None:
                continue
            if isinstance(value, list | tuple):
                args[key] = [v * steps_per_epoch for v in value]
            else:
                args[key] = value * steps_per_epoch
    return rule_cls(type_name, begin, end, by_epoch, **args)


def replay(base_lr, param_scheduler, steps_per_epoch, max_epochs=None):
    """Replays MMEngine's runner and returns the learning-rate step function.

    Args:
        base_lr: the optimizer's learning rate (after ``auto_scale_lr``).
        param_scheduler: list of MMEngine scheduler dicts.
        steps_per_epoch: iterations per epoch.
        max_epochs: training length in epochs (default ``end``), or None.

    Returns:
        ``(starts, values)``: int64 iterations (``starts[0] == 0``) at which
        the learning rate takes the float64 value of the same index.
    """
    rules = [make_rule(c, steps_per_epoch, max_epochs) for c in param_scheduler]
    group = {"lr": float(base_lr)}
    for rule in rules:
        rule.attach(group)
        rule.step(0, group)

    times = []
    for rule in rules:
        ks = rule.change_ks()
        t = rule.begin + ks
        if rule.by_epoch:
            t = t * steps_per_epoch
        times.append(t[(t > 0) & (t < INF)])
    times = np.unique(np.concatenate(times)) if times else np.zeros(0, int)
    if times.size > MAX_CHANGE_POINTS:
        raise ValueError(
            f"The schedule changes the learning rate at {times.size} "
            f"iterations (more than {MAX_CHANGE_POINTS}); check `begin`/`end`."
        )
    iter_rules = [r for r in rules if not r.by_epoch]
    epoch_rules = [r for r in rules if r.by_epoch]
    starts, values = [0], [group["lr"]]
    for t in times.tolist():
        for rule in iter_rules:
            rule.step(t, group)
        if t % steps_per_epoch == 0:
            for rule in epoch_rules:
                rule.step(t // steps_per_epoch, group)
        if group["lr"] != values[-1]:
            starts.append(t)
            values.append(group["lr"])
    return np.asarray(starts, np.int64), np.asarray(values, np.float64)
