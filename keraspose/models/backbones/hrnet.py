"""HRNet backbone (Sun et al., CVPR 2019), MMPose's layout."""

import copy
import math

import keras
import numpy as np
from keras import ops

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.backbones.resnet import ResidualBlock
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.hr_module import _UPSAMPLE_MODES
from keraspose.models.utils.hr_module import BLOCKS
from keraspose.models.utils.hr_module import HRModule
from keraspose.models.utils.init_cfg import unpretrained
from keraspose.models.utils.norm import build_norm_layer
from keraspose.registry import register

_STAGES = ("stage1", "stage2", "stage3", "stage4")
_STAGE_KEYS = ("num_modules", "num_branches", "block", "num_blocks")

_DEFAULT_INIT = [
    dict(type="Normal", std=0.001, layer=["Conv2d"]),
    dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"]),
]
_CONV_NAMES = ("Conv2d", "Conv", "_ConvNd")
_NORM_NAMES = ("_BatchNorm", "BatchNorm2d", "BN", "SyncBatchNorm")


def _is_int(value, low=1):
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (value >= low)
    )


def _check_extra(extra):
    """Validates HRNet's ``extra``; returns a normalised deep copy."""
    if not isinstance(extra, dict):
        raise ValueError(
            "Expected `extra` to be a dict with keys 'stage1'..'stage4'. "
            f"Received: extra={extra!r}"
        )
    extra = copy.deepcopy(dict(extra))
    for stage in _STAGES:
        cfg = extra.get(stage)
        if not isinstance(cfg, dict):
            raise ValueError(
                f"Expected extra['{stage}'] to be a dict of "
                f"{_STAGE_KEYS + ('num_channels',)}. Received: "
                f"extra['{stage}']={cfg!r}"
            )
        cfg = dict(cfg)
        if stage == "stage1":
            # MMPose builds stage 1 as one residual layer and reads only
            # block, num_blocks[0] and num_channels[0].
            cfg.setdefault("num_modules", 1)
            cfg.setdefault("num_branches", 1)
        for key in (*_STAGE_KEYS, "num_channels"):
            if key not in cfg:
                raise ValueError(
                    f"extra['{stage}'] is missing the key {key!r}. "
                    f"Received: extra['{stage}']={cfg!r}"
                )
        if cfg["block"] not in BLOCKS:
            raise ValueError(
                f"Expected extra['{stage}']['block'] in {sorted(BLOCKS)}. "
                f"Received: {cfg['block']!r}"
            )
        for key in ("num_modules", "num_branches"):
            if not _is_int(cfg[key]):
                raise ValueError(
                    f"Expected extra['{stage}']['{key}'] to be a positive "
                    f"int. Received: {cfg[key]!r}"
                )
        if stage == "stage1" and cfg["num_branches"] != 1:
            raise ValueError(
                "Expected extra['stage1']['num_branches'] == 1 (stage 1 is "
                f"a single residual layer). Received: {cfg['num_branches']!r}"
            )
        for key in ("num_blocks", "num_channels"):
            value = cfg[key]
            if isinstance(value, list | tuple) and all(
                _is_int(v) for v in value
            ):
                value = tuple(value)
            else:
                raise ValueError(
                    f"Expected extra['{stage}']['{key}'] to be a sequence "
                    f"of positive ints. Received: {value!r}"
                )
            if len(value) != cfg["num_branches"]:
                raise ValueError(
                    f"Expected len(extra['{stage}']['{key}']) == "
                    f"num_branches ({cfg['num_branches']}). Received: "
                    f"extra['{stage}']['{key}']={value}"
                )
            cfg[key] = value
        if "multiscale_output" in cfg:
            cfg["multiscale_output"] = bool(cfg["multiscale_output"])
        extra[stage] = cfg
    upsample = extra.get("upsample", dict(mode="nearest", align_corners=None))
    if (
        not isinstance(upsample, dict)
        or upsample.get("mode", "nearest") not in _UPSAMPLE_MODES
    ):
        raise ValueError(
            f"Expected extra['upsample'] to be a dict with mode in "
            f"{_UPSAMPLE_MODES}. Received: {upsample!r}"
        )
    return extra


def _init_entries(init_cfg, kind, names):
    cfgs = init_cfg if isinstance(init_cfg, list | tuple) else [init_cfg]
    for cfg in cfgs:
        if not isinstance(cfg, dict) or cfg.get("type") != kind:
            continue
        layers = cfg.get("layer")
        layers = [layers] if isinstance(layers, str) else list(layers or [])
        if any(name in layers for name in names):
            return cfg
    return None


_INITIALIZER_ATTRS = (
    "kernel_initializer",
    "bias_initializer",
    "gamma_initializer",
    "beta_initializer",
    "moving_mean_initializer",
    "moving_variance_initializer",
)


def _normal_stats(initializer, shape):
    """(mean, stddev) of a normal initializer for ``shape``, or None."""
    init = initializer
    if type(init) is keras.initializers.RandomNormal:
        return float(init.mean), float(init.stddev)
    if (
        isinstance(init, keras.initializers.VarianceScaling)
        and init.distribution == "untruncated_normal"
        and len(shape) > 2
    ):
        receptive = int(np.prod(shape[:-2]))
        fans = dict(fan_in=shape[-2] * receptive, fan_out=shape[-1] * receptive)
        fan = fans.get(init.mode, (fans["fan_in"] + fans["fan_out"]) / 2.0)
        return 0.0, math.sqrt(init.scale / max(1.0, fan))
    return None


class _HostInitializers:
    """Stand-ins for Keras initializers that compute values with NumPy.

    JAX compiles its random samplers (and ``zeros`` / ``ones``) once per
    shape: with HRNet's ~70 distinct kernel shapes, per-variable draws
    made building HRNet-W32 take ~13 s. Here normal kernels come from a
    NumPy generator seeded from NumPy's global state (which
    ``keras.utils.set_random_seed`` sets) and constants from NumPy; other
    initializers are kept.
    """

    def __init__(self):
        self.rng = np.random.default_rng(np.random.randint(2**31 - 1))

    @staticmethod
    def _cast(values, dtype):
        # An explicit dtype: JAX compiles a copy per shape without one.
        return ops.convert_to_tensor(values, dtype=dtype or "float32")

    def replace(self, initializer):
        """A host-side equivalent of ``initializer`` (or a call to it)."""
        init = initializer
        if type(init) in (keras.initializers.Zeros, keras.initializers.Ones):
            value = 0.0 if type(init) is keras.initializers.Zeros else 1.0
        elif type(init) is keras.initializers.Constant:
            value = float(init.value)
        else:
            value = None
        if value is not None:

            def constant(shape, dtype=None):
                values = np.full(shape, value, "float32")
                return self._cast(values, dtype)

            return constant

        def normal(shape, dtype=None):
            stats = _normal_stats(init, shape)
            if stats is None:
                return init(shape, dtype=dtype)
            mean, stddev = stats
            values = self.rng.standard_normal(shape, dtype=np.float32)
            return self._cast(mean + stddev * values, dtype)

        return normal


@register
class HRNet(BaseBackbone):
    """HRNet: parallel multi-resolution branches with repeated fusions.

    Reference: Sun et al., "Deep High-Resolution Representation Learning
    for Human Pose Estimation", CVPR 2019.

    A stem of two stride-2 3x3 conv + BN + ReLU (``conv1``, ``bn1``,
    ``conv2``, ``bn2``), stage 1 as one residual layer (``layer1_k``), then
    stages 2-4 of ``num_modules`` :class:`HRModule` s each (``stage2_0``
    ...), with transitions (``transition1`` .. ``transition3``) that adapt
    the channels of existing branches (3x3 conv + BN + ReLU) and open each
    new branch from the lowest resolution with stride-2 3x3 conv + BN + ReLU
    steps. Layer names are MMPose's module paths with ``.`` written ``_``
    (``stage2.0.fuse_layers.0.1.0`` is ``stage2_0/fuse_layers_0_1_0``), so
    MMPose checkpoints map one-to-one and the trainable parameter count
    equals MMPose's.

    ``extra`` holds one dict per stage (``stage1`` .. ``stage4``) with
    ``num_modules``, ``num_branches``, ``block`` (``"BASIC"`` or
    ``"BOTTLENECK"``), ``num_blocks`` and ``num_channels`` (one entry per
    branch; stage 1 has one branch and ignores ``num_modules``), optionally
    ``multiscale_output`` in ``stage4`` (False by default: only the highest
    resolution is returned) and ``extra["upsample"]`` (the fusion's
    upsampling, ``dict(mode="nearest", align_corners=None)`` by default;
    HRNetV2 configs use bilinear). Inconsistent entries raise a
    ``ValueError`` naming the stage and key. Stages 2 and 3 always return
    every resolution, as in MMPose. The output is a tuple: the stage-4
    branches (or only the first), channels-last.

    MMPose quirks kept: a transition that changes the channels of an
    existing branch is applied to the *lowest*-resolution output of the
    previous stage, which only works for the last existing branch (MMPose
    fails in the forward pass otherwise; this raises at construction).
    ``zero_init_residual`` is ignored when ``init_cfg`` is a ``Pretrained``
    dict. The default ``init_cfg`` initialises convolutions with
    N(0, 0.001) and BatchNorm with gamma 1 (``Normal`` / ``Constant``
    entries are applied; others are ignored); a ``Pretrained`` entry warns
    (not loaded) and is dropped from ``get_config``. ``frozen_stages=k``
    freezes the stem and stages 1..k with their transitions (weights not
    trained, BatchNorm in inference mode); ``norm_eval`` runs every
    BatchNorm in inference mode. Initial values are computed with NumPy
    during ``build`` (JAX would compile a sampler per kernel shape), so
    HRNet-W48 builds in seconds; ``with_cp`` and ``conv_cfg`` are accepted
    and ignored.

    Args:
        extra: per-stage configuration (see above).
        in_channels: input image channels.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        norm_eval: keep BatchNorm in inference mode during training.
        with_cp: accepted for MMPose compatibility (no checkpointing).
        zero_init_residual: zero gamma of each block's last norm.
        frozen_stages: freeze the stem and stages 1..k (-1: none, up to 4).
        init_cfg: MMPose init config (see above).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> stage = lambda n, block, ch: dict(num_modules=1, num_branches=n,
    ...     block=block, num_blocks=(1,) * n, num_channels=ch)
    >>> extra = dict(stage1=stage(1, "BOTTLENECK", (4,)),
    ...              stage2=stage(2, "BASIC", (4, 8)),
    ...              stage3=stage(3, "BASIC", (4, 8, 16)),
    ...              stage4=dict(stage(4, "BASIC", (4, 8, 16, 32)),
    ...                          multiscale_output=True))
    >>> net = keraspose.build(dict(type="HRNet", extra=extra))
    >>> [f.shape for f in net(np.zeros((1, 64, 64, 3), "float32"))]
    [(1, 16, 16, 4), (1, 8, 8, 8), (1, 4, 4, 16), (1, 2, 2, 32)]
    """

    blocks_dict = BLOCKS

    def __init__(
        self,
        extra,
        in_channels=3,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006 (MMPose's default)
        norm_eval=False,
        with_cp=False,
        zero_init_residual=False,
        frozen_stages=-1,
        init_cfg=_DEFAULT_INIT,
        **kwargs,
    ):
        super().__init__(norm_eval=norm_eval, init_cfg=init_cfg, **kwargs)
        extra = _check_extra(extra)
        if not isinstance(frozen_stages, int) or not -1 <= frozen_stages <= 4:
            raise ValueError(
                "Expected frozen_stages in [-1, 4] (stem and 4 stages). "
                f"Received: frozen_stages={frozen_stages!r}"
            )
        self.extra = extra
        self.in_channels = in_channels
        self.conv_cfg = conv_cfg
        self.norm_cfg = copy.deepcopy(norm_cfg)
        self.with_cp = with_cp
        self.zero_init_residual = bool(zero_init_residual)
        self.frozen_stages = frozen_stages
        pretrained = (
            isinstance(init_cfg, dict) and init_cfg.get("type") == "Pretrained"
        )
        self.init_cfg = unpretrained(init_cfg)
        zero_init = self.zero_init_residual and not pretrained
        self.upsample_cfg = dict(
            extra.get("upsample", dict(mode="nearest", align_corners=None))
        )
        dt = self.dtype_policy
        norm_cfg = self.norm_cfg

        self.conv1 = Conv2d(
            64, 3, strides=2, padding=1, use_bias=False, name="conv1", dtype=dt
        )
        self.bn1 = build_norm_layer(norm_cfg, "bn1", dt)
        self.conv2 = Conv2d(
            64, 3, strides=2, padding=1, use_bias=False, name="conv2", dtype=dt
        )
        self.bn2 = build_norm_layer(norm_cfg, "bn2", dt)

        cfg = extra["stage1"]
        bottleneck, expansion = BLOCKS[cfg["block"]]
        out_ch = cfg["num_channels"][0] * expansion
        self.layer1 = [
            ResidualBlock(
                out_ch,
                expansion=expansion,
                bottleneck=bottleneck,
                downsample=k == 0 and out_ch != 64,
                norm_cfg=norm_cfg,
                zero_init_residual=zero_init,
                name=f"layer1_{k}",
                dtype=dt,
            )
            for k in range(cfg["num_blocks"][0])
        ]
        pre_channels = [out_ch]

        self.transitions = []
        self.stages = []
        for n in (2, 3, 4):
            cfg = extra[f"stage{n}"]
            expansion = BLOCKS[cfg["block"]][1]
            channels = [c * expansion for c in cfg["num_channels"]]
            self.transitions.append(
                self._make_transition(n - 1, pre_channels, channels)
            )
            multiscale = n < 4 or cfg.get("multiscale_output", False)
            modules = []
            for m in range(cfg["num_modules"]):
                modules.append(
                    HRModule(
                        cfg["num_branches"],
                        cfg["block"],
                        cfg["num_blocks"],
                        channels,
                        cfg["num_channels"],
                        multiscale_output=(
                            multiscale or m < cfg["num_modules"] - 1
                        ),
                        with_cp=with_cp,
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        upsample_cfg=self.upsample_cfg,
                        zero_init_residual=zero_init,
                        name=f"stage{n}_{m}",
                        dtype=dt,
                    )
                )
                channels = list(modules[-1].out_channels)
            self.stages.append(modules)
            pre_channels = channels
        self.feat_dim = pre_channels[0]
        self._apply_init_cfg(zero_init)
        self._freeze_stages()

    def _make_transition(self, index, pre, cur):
        dt = self.dtype_policy
        prefix = f"transition{index}"
        layers = []
        for i, ch in enumerate(cur):
            if i < len(pre):
                if ch == pre[i]:
                    layers.append(None)
                    continue
                if i != len(pre) - 1:
                    raise ValueError(
                        f"extra['stage{index + 1}']['num_channels'] changes "
                        f"the channels of branch {i} ({pre[i]} -> {ch}); "
                        "MMPose feeds such a transition with the lowest "
                        "resolution of the previous stage, so only the last "
                        f"existing branch (index {len(pre) - 1}) may change."
                    )
                steps = [(ch, 1)]
            else:
                steps = [
                    (ch if s == i - len(pre) else pre[-1], 2)
                    for s in range(i + 1 - len(pre))
                ]
            branch = []
            for s, (out_ch, stride) in enumerate(steps):
                name = f"{prefix}_{i}" if stride == 1 else f"{prefix}_{i}_{s}"
                branch.append(
                    Conv2d(
                        out_ch,
                        3,
                        strides=stride,
                        padding=1,
                        use_bias=False,
                        name=f"{name}_0",
                        dtype=dt,
                    )
                )
                branch.append(build_norm_layer(self.norm_cfg, f"{name}_1", dt))
            layers.append(branch)
        return layers

    def _apply_init_cfg(self, zero_init):
        normal = _init_entries(self.init_cfg, "Normal", _CONV_NAMES)
        constant = _init_entries(self.init_cfg, "Constant", _NORM_NAMES)
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, Conv2d) and normal is not None:
                layer.kernel_initializer = keras.initializers.RandomNormal(
                    mean=float(normal.get("mean", 0.0)),
                    stddev=float(normal.get("std", 1.0)),
                )
                layer.bias_initializer = keras.initializers.Constant(
                    float(normal.get("bias", 0.0))
                )
            elif (
                isinstance(layer, keras.layers.BatchNormalization)
                and constant is not None
            ):
                layer.gamma_initializer = keras.initializers.Constant(
                    float(constant.get("val", 1.0))
                )
                layer.beta_initializer = keras.initializers.Constant(
                    float(constant.get("bias", 0.0))
                )
        if zero_init:  # after the init_cfg, as MMPose's init_weights
            for layer in self._flatten_layers(include_self=False):
                if isinstance(layer, ResidualBlock):
                    layer.norms[
                        -1
                    ].gamma_initializer = keras.initializers.Zeros()

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            for layer in (self.conv1, self.bn1, self.conv2, self.bn2):
                layer.trainable = False
        for i in range(1, self.frozen_stages + 1):
            layers = self.layer1 if i == 1 else self.stages[i - 2]
            if i < 4:
                layers = layers + [
                    layer
                    for branch in self.transitions[i - 1]
                    for layer in branch or ()
                ]
            for layer in layers:
                layer.trainable = False

    def build(self, input_shape):
        # Host-side initial values (see _HostInitializers): HRNet-W48
        # builds in seconds on JAX.
        host = _HostInitializers()
        saved = []
        for layer in self._flatten_layers(include_self=False):
            for attr in _INITIALIZER_ATTRS:
                initializer = getattr(layer, attr, None)
                if initializer is not None:
                    saved.append((layer, attr, initializer))
                    setattr(layer, attr, host.replace(initializer))
        try:
            self._build_layers(input_shape)
        finally:
            for layer, attr, initializer in saved:
                setattr(layer, attr, initializer)

    def _build_layers(self, input_shape):
        # Explicit builds: nested symbolic builds cost time exponential in
        # the nesting depth with a dynamic batch size.
        shape = tuple(input_shape)
        if shape[-1] != self.in_channels:
            raise ValueError(
                f"HRNet: expected inputs with in_channels={self.in_channels} "
                f"channels. Received input shape {shape}"
            )
        for layer in (self.conv1, self.bn1, self.conv2, self.bn2):
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        for block in self.layer1:
            block.build(shape)
            shape = (*shape[:-1], block.out_channels)
        shapes = [shape]
        for transition, modules in zip(self.transitions, self.stages):
            new_shapes = []
            for i, branch in enumerate(transition):
                if branch is None:
                    new_shapes.append(shapes[i])
                    continue
                shape = shapes[-1]
                for layer in branch:
                    layer.build(shape)
                    shape = layer.compute_output_shape(shape)
                new_shapes.append(shape)
            shapes = new_shapes
            for module in modules:
                module.build(shapes)
                shapes = module.compute_output_shape(shapes)

    def call(self, x, training=None):
        norm_training = self.norm_training(training)
        kw = dict(training=training, norm_training=norm_training)
        x = ops.relu(self.bn1(self.conv1(x), training=norm_training))
        x = ops.relu(self.bn2(self.conv2(x), training=norm_training))
        for block in self.layer1:
            x = block(x, **kw)
        ys = [x]
        for transition, modules in zip(self.transitions, self.stages):
            xs = []
            for i, branch in enumerate(transition):
                if branch is None:
                    xs.append(ys[i])
                    continue
                z = ys[-1]  # MMPose: always the lowest resolution
                for k in range(0, len(branch), 2):
                    z = branch[k + 1](branch[k](z), training=norm_training)
                    z = ops.relu(z)
                xs.append(z)
            ys = xs
            for module in modules:
                ys = module(ys, **kw)
        return tuple(ys)

    def get_config(self):
        config = super().get_config()
        config.update(
            extra=self.extra,
            in_channels=self.in_channels,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            norm_eval=self.norm_eval,
            with_cp=self.with_cp,
            zero_init_residual=self.zero_init_residual,
            frozen_stages=self.frozen_stages,
            init_cfg=self.init_cfg,
        )
        return config
