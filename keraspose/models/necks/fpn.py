"""Feature Pyramid Network neck (MMPose's own ``FPN``)."""

import keras
import numpy as np
from keras import ops

from keraspose.models.necks._utils import apply_conv_init_cfg
from keraspose.models.necks._utils import check_feature_sequence
from keraspose.models.necks._utils import check_in_channels
from keraspose.models.necks._utils import check_upsample_cfg
from keraspose.models.necks._utils import with_channels
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.resize import interpolate
from keraspose.registry import register

_EXTRA_MODES = ("on_input", "on_lateral", "on_output")
_XAVIER = dict(type="Xavier", layer="Conv2d", distribution="uniform")


@register
class FPN(keras.layers.Layer):
    """Feature Pyramid Network.

    Reference: Lin et al., "Feature Pyramid Networks for Object Detection",
    CVPR 2017. MMPose's copy of mmdet's FPN: 1x1 lateral convs
    (``lateral_convs_i``) map levels ``start_level..end_level`` to
    ``out_channels``; from the coarsest level down, each lateral is
    upsampled (``upsample_cfg``: PyTorch-exact ``interpolate``; without
    ``scale_factor`` to the finer lateral's size) and added to the finer
    one; 3x3 convs (``fpn_convs_i``) smooth every level. Extra levels up to
    ``num_outs`` come from stride-2 max pooling with kernel 1 (i.e. taking
    every other pixel) or, with ``add_extra_convs``, from stride-2 3x3
    convs on the last input (``"on_input"``, also ``True``), lateral
    (``"on_lateral"``) or output (``"on_output"``). As in MMPose,
    ``relu_before_extra_convs`` applies a ReLU before every extra conv but
    the first.

    Every convolution is Xavier-uniform initialised with zero bias (MMPose's
    ``FPN.init_weights``). MMPose's ``FPN`` has no ``init_cfg``; here a
    ``Pretrained`` one warns, others may change the conv init.

    Args:
        in_channels: list of input channels per level.
        out_channels: channels of every output level.
        num_outs: number of outputs.
        start_level: first input level used.
        end_level: last input level used (-1: the last).
        add_extra_convs: False, True or one of ``"on_input"``,
            ``"on_lateral"``, ``"on_output"``.
        relu_before_extra_convs: ReLU before the 2nd.. extra convs.
        no_norm_on_lateral: no normalization in the lateral convs.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config of the convs (None: no norm).
        act_cfg: MMPose activation config of the convs (None: none).
        upsample_cfg: ``interpolate`` arguments (``mode``, optionally
            ``scale_factor``, ``align_corners``).
        init_cfg: see above.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> neck = FPN([2, 4], 8, num_outs=3)
    >>> feats = (np.ones((1, 8, 6, 2), "float32"),
    ...          np.ones((1, 4, 3, 4), "float32"))
    >>> [tuple(f.shape) for f in neck(feats)]
    [(1, 8, 6, 8), (1, 4, 3, 8), (1, 2, 2, 8)]
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        num_outs,
        start_level=0,
        end_level=-1,
        add_extra_convs=False,
        relu_before_extra_convs=False,
        no_norm_on_lateral=False,
        conv_cfg=None,
        norm_cfg=None,
        act_cfg=None,
        upsample_cfg=dict(mode="nearest"),  # noqa: B006 (MMPose default)
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        in_channels = check_in_channels(in_channels, "FPN")
        num_ins = len(in_channels)
        if not isinstance(start_level, int) or not 0 <= start_level < num_ins:
            raise ValueError(
                f"FPN expects 0 <= start_level < {num_ins}. "
                f"Received: start_level={start_level!r}"
            )
        if end_level in (-1, num_ins - 1):
            backbone_end_level = num_ins
            if num_outs < num_ins - start_level:
                raise ValueError(
                    f"FPN expects num_outs >= {num_ins - start_level} (the "
                    f"levels {start_level}..{num_ins - 1}). "
                    f"Received: num_outs={num_outs!r}"
                )
        else:
            if not isinstance(end_level, int) or not (
                start_level <= end_level < num_ins
            ):
                raise ValueError(
                    f"FPN expects -1 or start_level <= end_level < {num_ins}."
                    f" Received: end_level={end_level!r}"
                )
            backbone_end_level = end_level + 1
            if num_outs != end_level - start_level + 1:
                raise ValueError(
                    "FPN expects num_outs == end_level - start_level + 1 = "
                    f"{end_level - start_level + 1} when end_level is set. "
                    f"Received: num_outs={num_outs!r}"
                )
        if isinstance(add_extra_convs, str):
            if add_extra_convs not in _EXTRA_MODES:
                raise ValueError(
                    f"FPN expects add_extra_convs in {_EXTRA_MODES} or a "
                    f"bool. Received: add_extra_convs={add_extra_convs!r}"
                )
        elif not isinstance(add_extra_convs, bool):
            raise ValueError(
                f"FPN expects add_extra_convs in {_EXTRA_MODES} or a bool. "
                f"Received: add_extra_convs={add_extra_convs!r}"
            )
        self.in_channels = in_channels
        self.out_channels = int(out_channels)
        self.num_outs = int(num_outs)
        self.start_level = start_level
        self.end_level = end_level
        self.add_extra_convs = add_extra_convs
        self.relu_before_extra_convs = bool(relu_before_extra_convs)
        self.no_norm_on_lateral = bool(no_norm_on_lateral)
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.upsample_cfg = check_upsample_cfg(
            upsample_cfg,
            ("mode", "scale_factor", "align_corners", "recompute_scale_factor"),
            "FPN",
        )
        self._extra_mode = (
            "on_input" if add_extra_convs is True else add_extra_convs
        )
        self._backbone_end_level = backbone_end_level
        dt = self.dtype_policy
        self.lateral_convs = []
        self.fpn_convs = []
        for j, i in enumerate(range(start_level, backbone_end_level)):
            self.lateral_convs.append(
                ConvModule(
                    in_channels[i],
                    self.out_channels,
                    1,
                    conv_cfg=conv_cfg,
                    norm_cfg=None if no_norm_on_lateral else norm_cfg,
                    act_cfg=act_cfg,
                    name=f"lateral_convs_{j}",
                    dtype=dt,
                )
            )
            self.fpn_convs.append(
                ConvModule(
                    self.out_channels,
                    self.out_channels,
                    3,
                    padding=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg,
                    name=f"fpn_convs_{j}",
                    dtype=dt,
                )
            )
        extra_levels = num_outs - backbone_end_level + start_level
        if self._extra_mode and extra_levels >= 1:
            for k in range(extra_levels):
                if k == 0 and self._extra_mode == "on_input":
                    ch = in_channels[backbone_end_level - 1]
                else:
                    ch = self.out_channels
                self.fpn_convs.append(
                    ConvModule(
                        ch,
                        self.out_channels,
                        3,
                        stride=2,
                        padding=1,
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg,
                        name=f"fpn_convs_{len(self.fpn_convs)}",
                        dtype=dt,
                    )
                )
        apply_conv_init_cfg(self, _XAVIER, "FPN")
        self.init_cfg = apply_conv_init_cfg(self, init_cfg, "FPN")

    def _check(self, inputs):
        check_feature_sequence(inputs, len(self.in_channels), "FPN")

    def _upsample(self, x, target):
        cfg = dict(self.upsample_cfg)
        if "scale_factor" not in cfg:
            cfg["size"] = tuple(target.shape[1:3])
        return interpolate(x, **cfg)

    @staticmethod
    def _max_pool_1x1_s2(x):
        # F.max_pool2d(x, 1, stride=2): every other pixel from the first.
        for axis in (1, 2):
            idx = np.arange(0, x.shape[axis], 2)
            x = ops.take(x, ops.convert_to_tensor(idx, "int32"), axis=axis)
        return x

    def call(self, inputs, training=None):
        self._check(inputs)
        kw = dict(training=training)
        laterals = [
            conv(inputs[i + self.start_level], **kw)
            for i, conv in enumerate(self.lateral_convs)
        ]
        used = len(laterals)
        for i in range(used - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + self._upsample(
                laterals[i], laterals[i - 1]
            )
        outs = [self.fpn_convs[i](laterals[i], **kw) for i in range(used)]
        if self.num_outs > used:
            if not self._extra_mode:
                for _ in range(self.num_outs - used):
                    outs.append(self._max_pool_1x1_s2(outs[-1]))
            else:
                source = {
                    "on_input": lambda: inputs[self._backbone_end_level - 1],
                    "on_lateral": lambda: laterals[-1],
                    "on_output": lambda: outs[-1],
                }[self._extra_mode]()
                outs.append(self.fpn_convs[used](source, **kw))
                for i in range(used + 1, self.num_outs):
                    x = outs[-1]
                    if self.relu_before_extra_convs:
                        x = ops.relu(x)
                    outs.append(self.fpn_convs[i](x, **kw))
        return tuple(outs)

    def _shapes(self, input_shape, build=False):
        input_shape = [tuple(s) for s in input_shape]
        self._check(input_shape)
        laterals = []
        for i, conv in enumerate(self.lateral_convs):
            shape = input_shape[i + self.start_level]
            if build:
                conv.build(shape)
            laterals.append(conv.compute_output_shape(shape))
        used = len(laterals)
        outs = []
        for i in range(used):
            if build:
                self.fpn_convs[i].build(laterals[i])
            outs.append(self.fpn_convs[i].compute_output_shape(laterals[i]))
        if self.num_outs > used:
            if not self._extra_mode:
                for _ in range(self.num_outs - used):
                    n, h, w, c = outs[-1]
                    half = [None if s is None else (s + 1) // 2 for s in (h, w)]
                    outs.append((n, *half, c))
            else:
                source = {
                    "on_input": input_shape[self._backbone_end_level - 1],
                    "on_lateral": laterals[-1],
                    "on_output": outs[-1],
                }[self._extra_mode]
                for i in range(used, self.num_outs):
                    if build:
                        self.fpn_convs[i].build(source)
                    source = self.fpn_convs[i].compute_output_shape(source)
                    outs.append(with_channels(source, self.out_channels))
        return tuple(outs)

    def build(self, input_shape):
        # Explicit builds (nested symbolic builds are slow).
        self._shapes(input_shape, build=True)

    def compute_output_shape(self, input_shape):
        return self._shapes(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            num_outs=self.num_outs,
            start_level=self.start_level,
            end_level=self.end_level,
            add_extra_convs=self.add_extra_convs,
            relu_before_extra_convs=self.relu_before_extra_convs,
            no_norm_on_lateral=self.no_norm_on_lateral,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            upsample_cfg=self.upsample_cfg,
            init_cfg=self.init_cfg,
        )
        return config
