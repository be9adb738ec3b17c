"""Lite-HRNet backbone (Yu et al., CVPR 2021), MMPose's layout."""

import copy

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.init_cfg import normal_initializer
from keraspose.models.utils.init_cfg import unpretrained
from keraspose.models.utils.iterative_head import IterativeHead
from keraspose.models.utils.lite_hr_module import MODULE_TYPES
from keraspose.models.utils.lite_hr_module import LiteHRModule
from keraspose.models.utils.lite_hr_module import apply_sequence
from keraspose.models.utils.lite_hr_module import build_sequence
from keraspose.models.utils.lite_hr_module import depthwise_pointwise
from keraspose.models.utils.stem import Stem
from keraspose.registry import register

_SPEC_KEYS = (
    "num_modules",
    "num_branches",
    "num_blocks",
    "module_type",
    "with_fuse",
    "reduce_ratios",
    "num_channels",
)
_DEFAULT_INIT = [
    dict(type="Normal", std=0.001, layer=["Conv2d"]),
    dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"]),
]


def _check_extra(extra):
    """Validates MMPose's ``extra`` dict; returns a normalised deep copy."""
    if not isinstance(extra, dict):
        raise ValueError(f"Expected `extra` to be a dict. Received: {extra=}")
    extra = copy.deepcopy(dict(extra))
    for key in ("stem", "num_stages", "stages_spec", "with_head"):
        if key not in extra:
            raise ValueError(
                f"Expected extra[{key!r}]. Received keys: {sorted(extra)}"
            )
    stem = dict(extra["stem"])
    for key in ("stem_channels", "out_channels", "expand_ratio"):
        if key not in stem:
            raise ValueError(
                f"Expected extra['stem'][{key!r}]. Received: {stem}"
            )
    num_stages = extra["num_stages"]
    if not isinstance(num_stages, int) or num_stages < 1:
        raise ValueError(
            "Expected extra['num_stages'] to be a positive int. "
            f"Received: {num_stages!r}"
        )
    spec = dict(extra["stages_spec"])
    for key in _SPEC_KEYS:
        value = spec.get(key)
        if not isinstance(value, list | tuple) or len(value) < num_stages:
            raise ValueError(
                f"Expected stages_spec[{key!r}] to have one entry per stage "
                f"({num_stages}). Received: {key}={value!r}"
            )
        spec[key] = list(value)
    for i in range(num_stages):
        branches = spec["num_branches"][i]
        channels = spec["num_channels"][i]
        if not isinstance(channels, list | tuple) or len(channels) != branches:
            raise ValueError(
                f"Stage {i}: expected stages_spec['num_channels'][{i}] to "
                f"have num_branches={branches} entries. "
                f"Received: num_channels={channels!r}"
            )
        spec["num_channels"][i] = [int(c) for c in channels]
        module_type = spec["module_type"][i]
        if (
            not isinstance(module_type, str)
            or module_type.upper() not in MODULE_TYPES
        ):
            raise ValueError(
                f"Stage {i}: expected stages_spec['module_type'][{i}] in "
                f"{MODULE_TYPES}. Received: module_type={module_type!r}"
            )
    extra["stem"] = stem
    extra["stages_spec"] = spec
    return extra


@register
class LiteHRNet(BaseBackbone):
    """Lite-HRNet backbone with MMPose's ``extra`` dict.

    Reference: Yu et al., "Lite-HRNet: A Lightweight High-Resolution
    Network", CVPR 2021.

    A :class:`Stem` (1/4 resolution), then ``num_stages`` stages. Before
    stage ``i``, ``transition{i}`` adapts the branches: a branch whose
    channels change gets a depthwise 3x3 / BN / 1x1 / BN / ReLU sequence
    (``transition{i}_{j}_0`` ...), each new branch is made from the last
    previous branch by stride-2 steps of the same kind
    (``transition{i}_{j}_{k}_0`` ...). Each stage is ``num_modules``
    :class:`LiteHRModule` s (``stage{i}_{m}``, multi-scale outputs). With
    ``with_head``, an :class:`IterativeHead` (``head_layer``) refines the
    branches. The output is a 1-tuple: the highest-resolution branch
    (``num_channels[-1][0]`` channels, stride 4), as in MMPose. Names are
    MMPose's module paths with ``.`` written ``_``.

    ``extra`` has MMPose's keys: ``stem`` (``stem_channels``,
    ``out_channels``, ``expand_ratio``), ``num_stages``, ``stages_spec``
    (per-stage tuples ``num_modules``, ``num_branches``, ``num_blocks``,
    ``module_type`` ``"LITE"``/``"NAIVE"``, ``with_fuse``,
    ``reduce_ratios``, ``num_channels``) and ``with_head``. The resizes
    (adaptive average pooling, nearest and bilinear interpolation) follow
    PyTorch exactly, also for odd sizes, and need static spatial sizes;
    ``with_fuse`` needs sizes that halve exactly at every branch (MMPose
    upsamples by powers of 2), e.g. inputs divisible by ``4 * 2**(n-1)``
    for ``n`` branches. See :class:`LiteHRModule` for MMPose's fusion
    quirks, which are matched.

    The default ``init_cfg`` is MMPose's: convolutions ``Normal(0,
    0.001)`` with zero bias, except the stem's ``conv1``, ``expand_conv``,
    ``depthwise_conv`` and ``linear_conv``, which MMCV's ``ConvModule``
    re-initialises (Kaiming normal, fan-out) because mmengine calls the
    ``init_weights`` of the stem's direct children after applying
    ``init_cfg``. A ``Pretrained`` entry warns (not loaded) and is dropped
    from ``get_config``.

    Args:
        extra: MMPose's architecture dict (see above).
        in_channels: image channels.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        norm_eval: keep BatchNorm in inference mode during training.
        with_cp: accepted for MMPose compatibility; gradient checkpointing
            is not used.
        init_cfg: MMPose init config (see above).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> extra = dict(
    ...     stem=dict(stem_channels=8, out_channels=8, expand_ratio=1),
    ...     num_stages=1,
    ...     stages_spec=dict(num_modules=(1,), num_branches=(2,),
    ...                      num_blocks=(1,), module_type=("LITE",),
    ...                      with_fuse=(True,), reduce_ratios=(4,),
    ...                      num_channels=((8, 16),)),
    ...     with_head=True)
    >>> net = keraspose.build(dict(type="LiteHRNet", extra=extra))
    >>> [f.shape for f in net(np.zeros((1, 32, 24, 3), "float32"))]
    [(1, 8, 6, 8)]
    """

    def __init__(
        self,
        extra,
        in_channels=3,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006 (MMPose default)
        norm_eval=False,
        with_cp=False,
        init_cfg=_DEFAULT_INIT,
        **kwargs,
    ):
        super().__init__(norm_eval=norm_eval, init_cfg=init_cfg, **kwargs)
        extra = _check_extra(extra)
        self.extra = extra
        self.in_channels = in_channels
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.with_cp = bool(with_cp)
        self.init_cfg = unpretrained(init_cfg)
        dt = self.dtype_policy
        stem = extra["stem"]
        self.stem = Stem(
            in_channels,
            stem_channels=stem["stem_channels"],
            out_channels=stem["out_channels"],
            expand_ratio=stem["expand_ratio"],
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            with_cp=with_cp,
            name="stem",
            dtype=dt,
        )
        self.num_stages = extra["num_stages"]
        spec = extra["stages_spec"]
        self.transitions = []
        self.stages = []
        channels = [stem["out_channels"]]
        for i in range(self.num_stages):
            current = spec["num_channels"][i]
            self.transitions.append(self._make_transition(i, channels, current))
            self.stages.append(
                [
                    LiteHRModule(
                        spec["num_branches"][i],
                        spec["num_blocks"][i],
                        current,
                        spec["reduce_ratios"][i],
                        spec["module_type"][i],
                        multiscale_output=True,
                        with_fuse=spec["with_fuse"][i],
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        with_cp=with_cp,
                        name=f"stage{i}_{m}",
                        dtype=dt,
                    )
                    for m in range(spec["num_modules"][i])
                ]
            )
            channels = current
        self.with_head = bool(extra["with_head"])
        self.head_layer = (
            IterativeHead(
                channels, norm_cfg=norm_cfg, name="head_layer", dtype=dt
            )
            if self.with_head
            else None
        )
        self.feat_dim = channels[0]
        self._apply_init_cfg()

    def _make_transition(self, stage, previous, current):
        """transition{stage}[j]: the layers making branch j ([]: identity)."""
        dt = self.dtype_policy
        paths = []
        for j, cout in enumerate(current):
            prefix = f"transition{stage}_{j}"
            if j < len(previous):
                paths.append(
                    []
                    if cout == previous[j]
                    else depthwise_pointwise(
                        prefix, previous[j], cout, 1, True, self.norm_cfg, dt
                    )
                )
                continue
            cin = previous[-1]
            steps = j + 1 - len(previous)
            layers = []
            for k in range(steps):
                layers += depthwise_pointwise(
                    f"{prefix}_{k}",
                    cin,
                    cout if k == steps - 1 else cin,
                    2,
                    True,
                    self.norm_cfg,
                    dt,
                )
            paths.append(layers)
        return paths

    def _apply_init_cfg(self):
        init = normal_initializer(self.init_cfg)
        if init is None:
            return
        kernel_init, bias_init = init
        # mmengine re-initialises the stem's direct ConvModule children.
        stem = self.stem
        kaiming = {
            id(m.conv)
            for m in (
                stem.conv1,
                stem.expand_conv,
                stem.depthwise_conv,
                stem.linear_conv,
            )
        }
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, Conv2d) and id(layer) not in kaiming:
                layer.kernel_initializer = kernel_init
                layer.bias_initializer = bias_init

    def _branch_inputs(self, stage, ys, run):
        """The inputs of ``stage``: its transitions applied to ``ys``."""
        xs = []
        for j, path in enumerate(self.transitions[stage]):
            source = ys[j] if j < len(ys) else ys[-1]
            xs.append(run(path, source) if path else source)
        return xs

    def build(self, input_shape):
        # Explicit builds: nested symbolic builds are slow.
        shape = tuple(input_shape)
        self.stem.build(shape)
        shapes = [self.stem.compute_output_shape(shape)]
        for i, modules in enumerate(self.stages):
            shapes = self._branch_inputs(i, shapes, build_sequence)
            for module in modules:
                module.build(shapes)
                shapes = module.compute_output_shape(shapes)
        if self.head_layer is not None:
            self.head_layer.build(shapes)

    def call(self, x, training=None):
        norm_training = self.norm_training(training)
        kw = dict(training=training, norm_training=norm_training)
        ys = [self.stem(x, **kw)]
        for i, modules in enumerate(self.stages):
            ys = self._branch_inputs(
                i, ys, lambda p, s: apply_sequence(p, s, norm_training)
            )
            for module in modules:
                ys = list(module(ys, **kw))
        if self.head_layer is not None:
            ys = self.head_layer(ys, **kw)
        return (ys[0],)

    def compute_output_shape(self, input_shape):
        shape = self.stem.compute_output_shape(tuple(input_shape))
        return ((*shape[:-1], self.feat_dim),)

    def get_config(self):
        config = super().get_config()
        config.update(
            extra=self.extra,
            in_channels=self.in_channels,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            norm_eval=self.norm_eval,
            with_cp=self.with_cp,
            init_cfg=self.init_cfg,
        )
        return config
