"""ResNet backbone (He et al., CVPR 2016), MMPose's layout."""

import keras
from keras import ops

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.norm import build_norm_layer
from keraspose.models.utils.symbolic_build import build_by_symbolic_call
from keraspose.registry import register


@register
class ResidualBlock(keras.layers.Layer):
    """MMPose's ``BasicBlock`` (``bottleneck=False``) or ``Bottleneck``.

    Sublayers carry MMPose's module names (``conv1``, ``bn1``, ...,
    ``downsample_0``, ``downsample_1``): MMPose's module paths with
    ``.`` written ``_`` (PyTorch forbids dots in parameter names).

    Args:
        out_channels: output channels of the block.
        expansion: ratio of output to middle channels (1 basic, 4 bottleneck).
        stride: stride of the block.
        dilation: dilation of the 3x3 convolution.
        bottleneck: Bottleneck (1x1-3x3-1x1) instead of BasicBlock (3x3-3x3).
        style: "pytorch" (stride on the 3x3 conv) or "caffe" (on the 1x1).
        downsample: whether the identity path has a projection.
        avg_down: project with AvgPool + 1x1 conv instead of a strided conv.
        norm_cfg: MMPose norm config.
        zero_init_residual: initialise the last norm's gamma to zero.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> block = ResidualBlock(16, expansion=4, bottleneck=True, downsample=True)
    >>> block(np.zeros((1, 8, 8, 4), "float32")).shape
    (1, 8, 8, 16)
    """

    def __init__(
        self,
        out_channels,
        expansion=1,
        stride=1,
        dilation=1,
        bottleneck=False,
        style="pytorch",
        downsample=False,
        avg_down=False,
        norm_cfg=None,
        zero_init_residual=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if style not in ("pytorch", "caffe"):
            raise ValueError(
                "Expected style 'pytorch' or 'caffe'. "
                f"Received: style={style!r}"
            )
        if out_channels % expansion:
            raise ValueError(
                "Expected out_channels divisible by expansion. Received: "
                f"out_channels={out_channels}, expansion={expansion}"
            )
        self.out_channels = out_channels
        self.expansion = expansion
        self.stride = stride
        self.dilation = dilation
        self.bottleneck = bottleneck
        self.style = style
        self.downsample = downsample
        self.avg_down = avg_down
        self.norm_cfg = norm_cfg
        self.zero_init_residual = zero_init_residual
        mid = out_channels // expansion
        dt = self.dtype_policy
        convs = []
        if bottleneck:
            s1, s2 = (1, stride) if style == "pytorch" else (stride, 1)
            convs.append((mid, 1, s1, 0, 1))
            convs.append((mid, 3, s2, dilation, dilation))
            convs.append((out_channels, 1, 1, 0, 1))
        else:
            convs.append((mid, 3, stride, dilation, dilation))
            convs.append((out_channels, 3, 1, 1, 1))
        self.convs = []
        self.norms = []
        for i, (filters, k, s, p, d) in enumerate(convs, start=1):
            self.convs.append(
                Conv2d(
                    filters,
                    k,
                    strides=s,
                    padding=p,
                    dilation_rate=d,
                    use_bias=False,
                    name=f"conv{i}",
                    dtype=dt,
                )
            )
            last = i == len(convs)
            self.norms.append(
                build_norm_layer(
                    norm_cfg,
                    f"bn{i}",
                    dt,
                    gamma_zero=last and zero_init_residual,
                )
            )
        self.down_layers = []
        if downsample:
            index = 0
            if avg_down and stride != 1:
                self.down_layers.append(
                    keras.layers.AveragePooling2D(
                        stride,
                        stride,
                        padding="same",
                        name="downsample_0",
                        dtype=dt,
                    )
                )
                index = 1
            self.down_layers.append(
                Conv2d(
                    out_channels,
                    1,
                    strides=1 if avg_down else stride,
                    use_bias=False,
                    name=f"downsample_{index}",
                    dtype=dt,
                )
            )
            self.down_layers.append(
                build_norm_layer(norm_cfg, f"downsample_{index + 1}", dt)
            )

    def build(self, input_shape):
        build_by_symbolic_call(self, input_shape)

    def call(self, x, training=None, norm_training=None):
        norm_training = training if norm_training is None else norm_training
        identity = x
        out = x
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            out = norm(conv(out), training=norm_training)
            if i < len(self.convs) - 1:
                out = ops.relu(out)
        for layer in self.down_layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                identity = layer(identity, training=norm_training)
            else:
                identity = layer(identity)
        return ops.relu(out + identity)

    def get_config(self):
        config = super().get_config()
        config.update(
            out_channels=self.out_channels,
            expansion=self.expansion,
            stride=self.stride,
            dilation=self.dilation,
            bottleneck=self.bottleneck,
            style=self.style,
            downsample=self.downsample,
            avg_down=self.avg_down,
            norm_cfg=self.norm_cfg,
            zero_init_residual=self.zero_init_residual,
        )
        return config


_ARCH = {
    18: (False, (2, 2, 2, 2)),
    34: (False, (3, 4, 6, 3)),
    50: (True, (3, 4, 6, 3)),
    101: (True, (3, 4, 23, 3)),
    152: (True, (3, 8, 36, 3)),
}


@register
class ResNet(BaseBackbone):
    """ResNet backbone with MMPose's arguments and defaults.

    Reference: He et al., "Deep Residual Learning for Image Recognition",
    CVPR 2016. The layer names follow MMPose/torchvision (``conv1``, ``bn1``,
    ``layer1`` ... ``layer4``, blocks ``layerN_i`` for MMPose's ``layerN.i``),
    so converted weights map one-to-one and the trainable parameter count
    equals MMPose's.

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: input image channels.
        stem_channels: stem output channels.
        base_channels: middle channels of the first stage.
        expansion: block expansion (1 for 18/34, 4 for 50+ by default).
        num_stages: number of residual stages (1-4).
        strides: stride of the first block of each stage.
        dilations: dilation of each stage.
        out_indices: stages whose outputs are returned (tuple).
        style: "pytorch" or "caffe".
        deep_stem: three 3x3 convs instead of the 7x7 stem (ResNetV1d).
        avg_down: AvgPool in the projection shortcut (ResNetV1d).
        frozen_stages: freeze the stem and stages up to this index (-1: none).
        conv_cfg: accepted for MMPose compatibility.
        norm_cfg: MMPose norm config (BN / SyncBN).
        norm_eval: keep BatchNorm in inference mode during training.
        with_cp: accepted for MMPose compatibility (no checkpointing).
        zero_init_residual: zero gamma of each block's last norm.
        init_cfg: MMPose init config; ``Pretrained`` warns (not loaded).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> net = keraspose.build(dict(type="ResNet", depth=18, base_channels=8,
    ...                            stem_channels=8, out_indices=(2, 3)))
    >>> [f.shape for f in net(np.zeros((1, 64, 64, 3), "float32"))]
    [(1, 4, 4, 32), (1, 2, 2, 64)]
    """

    def __init__(
        self,
        depth,
        in_channels=3,
        stem_channels=64,
        base_channels=64,
        expansion=None,
        num_stages=4,
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(3,),
        style="pytorch",
        deep_stem=False,
        avg_down=False,
        frozen_stages=-1,
        conv_cfg=None,
        norm_cfg=None,
        norm_eval=False,
        with_cp=False,
        zero_init_residual=True,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(norm_eval=norm_eval, init_cfg=init_cfg, **kwargs)
        if depth not in _ARCH:
            raise ValueError(
                f"Expected depth in {sorted(_ARCH)}. Received: depth={depth!r}"
            )
        if not 1 <= num_stages <= 4:
            raise ValueError(
                "Expected 1 <= num_stages <= 4. "
                f"Received: num_stages={num_stages}"
            )
        strides, dilations = tuple(strides), tuple(dilations)
        if not len(strides) == len(dilations) == num_stages:
            raise ValueError(
                "Expected len(strides) == len(dilations) == num_stages. "
                f"Received: strides={strides}, dilations={dilations}, "
                f"num_stages={num_stages}"
            )
        norm_cfg = dict(norm_cfg or {"type": "BN", "requires_grad": True})
        bottleneck, stage_blocks = _ARCH[depth]
        self.depth = depth
        self.in_channels = in_channels
        self.stem_channels = stem_channels
        self.base_channels = base_channels
        self.expansion = expansion or (4 if bottleneck else 1)
        self.num_stages = num_stages
        self.strides = strides
        self.dilations = dilations
        self.out_indices = self._check_indices(out_indices, num_stages)
        self.style = style
        self.deep_stem = deep_stem
        self.avg_down = avg_down
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual
        dt = self.dtype_policy

        if deep_stem:
            half = stem_channels // 2
            self.stem = [
                ConvModule(
                    in_channels if i == 0 else half,
                    stem_channels if i == 2 else half,
                    3,
                    stride=2 if i == 0 else 1,
                    padding=1,
                    norm_cfg=norm_cfg,
                    name=f"stem_{i}",
                    dtype=dt,
                )
                for i in range(3)
            ]
        else:
            self.stem = [
                Conv2d(
                    stem_channels,
                    7,
                    strides=2,
                    padding=3,
                    use_bias=False,
                    name="conv1",
                    dtype=dt,
                ),
                build_norm_layer(norm_cfg, "bn1", dt),
            ]
        self.maxpool = keras.layers.MaxPooling2D(
            3, 2, padding="valid", name="maxpool", dtype=dt
        )
        self.res_layers = []
        in_ch = stem_channels
        for i in range(num_stages):
            out_ch = base_channels * 2**i * self.expansion
            blocks = []
            for j in range(stage_blocks[i]):
                stride = strides[i] if j == 0 else 1
                blocks.append(
                    ResidualBlock(
                        out_ch,
                        expansion=self.expansion,
                        stride=stride,
                        dilation=dilations[i],
                        bottleneck=bottleneck,
                        style=style,
                        downsample=j == 0 and (stride != 1 or in_ch != out_ch),
                        avg_down=avg_down,
                        norm_cfg=norm_cfg,
                        zero_init_residual=zero_init_residual,
                        name=f"layer{i + 1}_{j}",
                        dtype=dt,
                    )
                )
            self.res_layers.append(blocks)
            in_ch = out_ch
        self.feat_dim = in_ch
        self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            for layer in self.stem:
                layer.trainable = False
        for i in range(1, self.frozen_stages + 1):
            for block in self.res_layers[i - 1]:
                block.trainable = False

    def call(self, x, training=None):
        norm_training = self.norm_training(training)
        if self.deep_stem:
            for layer in self.stem:
                x = layer(x, training=training, norm_training=norm_training)
        else:
            conv, norm = self.stem
            x = ops.relu(norm(conv(x), training=norm_training))
        # PyTorch pads max-pooling with -inf; after ReLU zero padding is equal.
        x = ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        x = self.maxpool(x)
        outs = []
        for i, blocks in enumerate(self.res_layers):
            for block in blocks:
                x = block(x, training=training, norm_training=norm_training)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def get_config(self):
        config = super().get_config()
        config.update(
            depth=self.depth,
            in_channels=self.in_channels,
            stem_channels=self.stem_channels,
            base_channels=self.base_channels,
            expansion=self.expansion,
            num_stages=self.num_stages,
            strides=self.strides,
            dilations=self.dilations,
            out_indices=self.out_indices,
            style=self.style,
            deep_stem=self.deep_stem,
            avg_down=self.avg_down,
            frozen_stages=self.frozen_stages,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            norm_eval=self.norm_eval,
            with_cp=self.with_cp,
            zero_init_residual=self.zero_init_residual,
        )
        return config


@register
class ResNetV1d(ResNet):
    """ResNetV1d: ResNet with a deep stem and average-pool shortcuts.

    Reference: He et al., "Bag of Tricks for Image Classification with
    Convolutional Neural Networks", CVPR 2019.

    Example:

    >>> import keraspose
    >>> net = keraspose.build(dict(type="ResNetV1d", depth=18, base_channels=8,
    ...                            stem_channels=8))
    >>> net.deep_stem, net.avg_down
    (True, True)
    """

    def __init__(self, **kwargs):
        kwargs["deep_stem"] = True
        kwargs["avg_down"] = True
        super().__init__(**kwargs)
