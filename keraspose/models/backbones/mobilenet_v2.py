"""MobileNetV2 backbone (Sandler et al., CVPR 2018), MMPose's layout."""

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.inverted_residual import InvertedResidual
from keraspose.models.utils.make_divisible import make_divisible
from keraspose.registry import register

# expand_ratio, channels, num_blocks, stride of each of the 7 block stages
_ARCH_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
_NUM_OUTPUTS = len(_ARCH_SETTINGS) + 1  # layer1..layer7 and conv2


@register
class MobileNetV2(BaseBackbone):
    """MobileNetV2 backbone with MMPose's arguments and defaults.

    Reference: Sandler et al., "MobileNetV2: Inverted Residuals and Linear
    Bottlenecks", CVPR 2018.

    A stride-2 3x3 ``conv1``, seven stages ``layer1`` ... ``layer7`` of
    :class:`InvertedResidual` blocks (blocks ``layerN_i``; MMPose's
    ``layerN.i``) and a 1x1 ``conv2``; all names are MMPose's module paths
    with ``.`` written ``_``, so checkpoints map one-to-one. Output index
    ``i`` in 0..6 is ``layer{i+1}``, 7 is ``conv2``; outputs come in layer
    order whatever the order of ``out_indices``. Channels are
    ``make_divisible(c * widen_factor, 8)``; ``conv2`` has 1280 channels, or
    ``int(1280 * widen_factor)`` when ``widen_factor > 1``.

    MMPose's freezing is matched exactly, including its quirk: with
    ``frozen_stages >= 0`` the weights of ``conv1`` are frozen but its
    BatchNorm stays in training mode (MMPose sets ``requires_grad=False``
    without ``eval()``), so its moving statistics still update; the frozen
    ``layer1`` ... ``layer{frozen_stages}`` are fully frozen (inference-mode
    BatchNorm); ``conv2`` is never frozen, even with ``frozen_stages=7``.
    The default ``init_cfg`` (Kaiming normal, fan-out, for convolutions;
    BatchNorm weight 1) is the layers' default initialisation; a
    ``Pretrained`` entry warns (not loaded); init_cfg is not stored.

    Args:
        widen_factor: width multiplier of the channels (> 0).
        out_indices: outputs to return, in 0..7.
        frozen_stages: freeze ``conv1`` and ``layer1..frozen_stages``;
            -1 freezes nothing (range -1..7).
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        act_cfg: MMPose activation config (ReLU6).
        norm_eval: keep BatchNorm in inference mode during training.
        with_cp: accepted for MMPose compatibility; gradient checkpointing
            is not used.
        init_cfg: MMPose init config (see above).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> net = keraspose.build(dict(type="MobileNetV2", widen_factor=0.25,
    ...                            out_indices=(1, 7)))
    >>> [f.shape for f in net(np.zeros((1, 64, 64, 3), "float32"))]
    [(1, 16, 16, 8), (1, 2, 2, 1280)]
    """

    arch_settings = _ARCH_SETTINGS

    def __init__(
        self,
        widen_factor=1.0,
        out_indices=(7,),
        frozen_stages=-1,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006
        act_cfg=dict(type="ReLU6"),  # noqa: B006 (MMPose defaults)
        norm_eval=False,
        with_cp=False,
        init_cfg=[  # noqa: B006 (MMPose default)
            dict(type="Kaiming", layer=["Conv2d"]),
            dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"]),
        ],
        **kwargs,
    ):
        super().__init__(norm_eval=norm_eval, init_cfg=init_cfg, **kwargs)
        if (
            isinstance(widen_factor, bool)
            or not isinstance(widen_factor, int | float)
            or not widen_factor > 0
        ):
            raise ValueError(
                f"Expected a positive widen_factor. Received: {widen_factor=}"
            )
        self.out_indices = self._check_indices(out_indices, _NUM_OUTPUTS)
        if (
            isinstance(frozen_stages, bool)
            or not isinstance(frozen_stages, int)
            or not -1 <= frozen_stages < _NUM_OUTPUTS
        ):
            raise ValueError(
                f"Expected frozen_stages in [-1, {_NUM_OUTPUTS - 1}]. "
                f"Received: {frozen_stages=}"
            )
        self.widen_factor = widen_factor
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.with_cp = bool(with_cp)
        dt = self.dtype_policy
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)

        in_ch = make_divisible(32 * widen_factor, 8)
        self.conv1 = ConvModule(
            3, in_ch, 3, stride=2, padding=1, name="conv1", dtype=dt, **common
        )
        self.layers = []
        for i, (expand, channels, blocks, stride) in enumerate(_ARCH_SETTINGS):
            out_ch = make_divisible(channels * widen_factor, 8)
            stage = []
            for j in range(blocks):
                stage.append(
                    InvertedResidual(
                        in_ch,
                        out_ch,
                        stride if j == 0 else 1,
                        expand_ratio=expand,
                        with_cp=with_cp,
                        name=f"layer{i + 1}_{j}",
                        dtype=dt,
                        **common,
                    )
                )
                in_ch = out_ch
            self.layers.append(stage)
        self.out_channel = (
            int(1280 * widen_factor) if widen_factor > 1.0 else 1280
        )
        self.conv2 = ConvModule(
            in_ch, self.out_channel, 1, name="conv2", dtype=dt, **common
        )
        self.feat_dim = self.out_channel
        for stage in self.layers[: max(frozen_stages, 0)]:
            for block in stage:
                block.trainable = False

    def build(self, input_shape):
        # Explicit builds: nested symbolic builds are slow.
        shape = tuple(input_shape)
        for layer in [self.conv1, *sum(self.layers, []), self.conv2]:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        if self.frozen_stages >= 0:
            # MMPose freezes conv1's parameters without eval(): only the
            # variables are frozen, its BatchNorm keeps training mode.
            for variable in self.conv1.trainable_weights:
                variable.trainable = False

    def call(self, x, training=None):
        norm_training = self.norm_training(training)
        kw = dict(training=training, norm_training=norm_training)
        x = self.conv1(x, **kw)
        outs = []
        for i, stage in enumerate([*self.layers, [self.conv2]]):
            for layer in stage:
                x = layer(x, **kw)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def compute_output_shape(self, input_shape):
        shape = self.conv1.compute_output_shape(tuple(input_shape))
        outs = []
        for i, stage in enumerate([*self.layers, [self.conv2]]):
            for layer in stage:
                shape = layer.compute_output_shape(shape)
            if i in self.out_indices:
                outs.append(shape)
        return tuple(outs)

    def get_config(self):
        config = super().get_config()
        config.update(
            widen_factor=self.widen_factor,
            out_indices=self.out_indices,
            frozen_stages=self.frozen_stages,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            norm_eval=self.norm_eval,
            with_cp=self.with_cp,
        )
        return config
