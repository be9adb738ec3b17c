import os

import keras
import numpy as np
import pytest

import keraspose
from keraspose.apis import load_config
from keraspose.apis.demo import config_path
from keraspose.datasets import SyntheticPoseDataset
from keraspose.models.backbones import KerasModelBackbone
from tests.helpers import run_layer_test
from tests.helpers import to_numpy

# A tiny keras.applications model (built in well under a second after the
# first build of a session; JAX compiles its initializers once per shape).
TINY = dict(
    type="KerasModelBackbone",
    model="keras.applications.MobileNetV3Small",
    model_kwargs=dict(alpha=0.75, minimalistic=True),
)
# (stride, channels) of each level of TINY
TINY_LEVELS = [(2, 16), (4, 72), (8, 96), (16, 240), (32, 432)]


def _images(n=2, h=64, w=48):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, size=(n, h, w, 3)).astype("float32")


def test_component(tmp_path):
    # stride 4 and 8 only: the deeper layers are not part of the backbone
    net = run_layer_test(
        dict(TINY, out_indices=(1, 2)),
        _images(),
        tmp_path,
        ((2, 16, 12, 72), (2, 8, 6, 96)),
    )
    assert net.count_params() < keraspose.build(TINY).count_params()


def test_feature_levels_and_layer_names():
    net = keraspose.build(TINY)
    levels = net.feature_levels()
    assert [(lv["stride"], lv["channels"]) for lv in levels] == TINY_LEVELS
    assert [lv["level"] for lv in levels] == ["P1", "P2", "P3", "P4", "P5"]
    # default: the deepest level, as a tuple
    (out,) = net(_images())
    assert out.shape == (2, 2, 1, 432)
    # explicit layer names give the same maps, in the order given
    # (MobileNetV3's ReLU layers have automatic names: use one model object)
    model = keras.applications.MobileNetV3Small(
        input_shape=(None, None, 3),
        include_top=False,
        weights=None,
        alpha=0.75,
        minimalistic=True,
    )
    by_index = KerasModelBackbone(model, out_indices=(-2, 1))
    names = [lv["layer"] for lv in by_index.feature_levels()]
    by_name = KerasModelBackbone(model, layer_names=[names[3], names[1]])
    a, b = to_numpy(by_name(_images())), to_numpy(by_index(_images()))
    assert [x.shape for x in a] == [(2, 4, 3, 240), (2, 16, 12, 72)]
    np.testing.assert_array_equal(a[0], b[1])
    np.testing.assert_array_equal(a[1], b[0])


def test_level_rule_on_a_functional_model():
    # the last layer of each stride wins; padded maps are not levels
    x = inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", name="c1")(x)
    x = keras.layers.ReLU(name="r1")(x)
    x = keras.layers.ZeroPadding2D(1, name="pad")(x)
    x = keras.layers.Conv2D(8, 3, strides=2, name="c2")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", name="c3")(x)
    model = keras.Model(inputs, x)
    net = KerasModelBackbone(model, out_indices=(0, 1))
    assert [
        (lv["level"], lv["stride"], lv["layer"], lv["channels"])
        for lv in net.feature_levels()
    ] == [("P1", 2, "r1", 4), ("P2", 4, "c3", 8)]
    # a model object is stored serialized and rebuilds the same backbone
    clone = keraspose.build(keraspose.to_config(net))
    assert keraspose.to_config(clone) == keraspose.to_config(net)
    clone.set_weights(net.get_weights())
    for a, b in zip(clone(_images()), net(_images())):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-6)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"Received: out_indices=\(7,\).*P5"):
        keraspose.build(dict(TINY, out_indices=(7,)))
    with pytest.raises(ValueError, match="'re_lu_999'.*Close matches"):
        keraspose.build(dict(TINY, layer_names=["re_lu_999"]))
    with pytest.raises(ValueError, match="frozen_stages"):
        keraspose.build(dict(TINY, frozen_stages=5))
    with pytest.raises(ValueError, match="distinct"):
        keraspose.build(dict(TINY, out_indices=(4, -1)))
    with pytest.raises(ValueError, match="not both"):
        keraspose.build(dict(TINY, out_indices=(0,), layer_names=["re_lu"]))
    with pytest.raises(ValueError, match="model='os.system'"):
        keraspose.build(dict(TINY, model="os.system"))
    with pytest.raises(ValueError, match="MobileNetV3Small"):
        keraspose.build(dict(TINY, model="keras.applications.MobileNetV3Smal"))
    with pytest.raises(ValueError, match="include_top=False"):
        keraspose.build(dict(TINY, model_kwargs=dict(include_top=True)))
    with pytest.raises(ValueError, match="exactly one of"):
        KerasModelBackbone()
    with pytest.raises(TypeError, match="Received: 3"):
        KerasModelBackbone(3)
    x = inputs = keras.Input((8,))
    with pytest.raises(TypeError, match=r"\(N, H, W, C\)"):
        KerasModelBackbone(keras.Model(inputs, keras.layers.Dense(2)(x)))


def _conv_bn_net():
    x = inputs = keras.Input((None, None, 3))
    for i in (1, 2):
        x = keras.layers.Conv2D(4, 3, strides=2, padding="same", name=f"c{i}")(
            x
        )
        x = keras.layers.BatchNormalization(name=f"bn{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
    return keras.Model(inputs, x)


def _train_step(net):
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, net(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = {w.path: w.numpy().copy() for w in net.weights}
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3))
    loss = model.train_on_batch(x, np.ones((2, 4, 4, 4)))
    assert np.isfinite(loss)
    after = {w.path: w.numpy() for w in net.weights}
    return {p for p in after if not np.array_equal(before[p], after[p])}


@pytest.mark.filterwarnings("ignore:The model does not have any trainable")
def test_frozen_stages_and_norm_eval():
    frozen = KerasModelBackbone(_conv_bn_net(), frozen_stages=0)
    assert [w.path for w in frozen.trainable_weights] == [
        "c2/kernel",
        "c2/bias",
        "bn2/gamma",
        "bn2/beta",
    ]
    # frozen BatchNorm layers run in inference mode (Keras' rule)
    assert _train_step(frozen) == {
        "c2/kernel",
        "c2/bias",
        "bn2/gamma",
        "bn2/beta",
        "bn2/moving_mean",
        "bn2/moving_variance",
    }
    # norm_eval: statistics stay, scale and offset train
    changed = _train_step(KerasModelBackbone(_conv_bn_net(), norm_eval=True))
    assert {"bn1/gamma", "bn2/gamma", "bn1/beta"} <= changed
    assert not any("moving" in p for p in changed)
    changed = _train_step(KerasModelBackbone(_conv_bn_net()))
    assert {"bn1/moving_mean", "bn2/moving_variance"} <= changed
    # the whole backbone freezes with Keras' trainable=False
    assert not _train_step(KerasModelBackbone(_conv_bn_net(), trainable=False))


def test_preprocessing_table_and_check():
    cfg = KerasModelBackbone.preprocessor_config
    assert cfg("keras.applications.ResNet50")["mean"] == [
        103.939,
        116.779,
        123.68,
    ]
    assert cfg("keras.applications.MobileNetV2")["std"] == [127.5] * 3
    assert cfg("keras.applications.DenseNet121")["std"][0] == 58.395
    assert cfg("keras.applications.EfficientNetB0")["mean"] is None
    assert cfg("keras.applications.MobileNetV3Small")["mean"] is None
    no_pre = dict(include_preprocessing=False)
    assert cfg("keras.applications.MobileNetV3Small", no_pre)["mean"] == (
        [127.5] * 3
    )
    assert cfg("keras.applications.ConvNeXtTiny", no_pre)["bgr_to_rgb"]
    assert cfg("keras_hub.models.ResNetBackbone") is None

    net = keraspose.build(TINY)
    imagenet = keraspose.build(
        dict(
            type="PoseDataPreprocessor",
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
        )
    )
    net.check_data_preprocessor(imagenet)  # random weights: anything goes
    net.pretrained = True  # as with weights="imagenet" (not downloaded here)
    with pytest.raises(ValueError, match="check_preprocessing=False"):
        net.check_data_preprocessor(imagenet)
    net.check_data_preprocessor(keraspose.build(net.expected_preprocessor))
    net.check_data_preprocessor(dict(type="PoseDataPreprocessor", bgr_to_rgb=1))
    # the estimator runs the check when it is built
    net.pretrained = True
    with pytest.raises(ValueError, match="pretrained weights expect"):
        keraspose.build(
            dict(
                type="TopdownPoseEstimator",
                data_preprocessor=imagenet,
                backbone=net,
                head=dict(
                    type="HeatmapHead",
                    in_channels=8,
                    out_channels=2,
                    decoder=dict(
                        type="MSRAHeatmap",
                        input_size=(32, 32),
                        heatmap_size=(8, 8),
                        sigma=2,
                    ),
                ),
            )
        )
    # the config records the architecture; weights come from .keras files
    pretrained_cfg = dict(TINY, model_kwargs=dict(weights="imagenet"))
    assert keraspose.to_config(net)["model_kwargs"].get("weights") is None
    assert pretrained_cfg["model_kwargs"]["weights"] == "imagenet"


# --- a top-down model on the adapter ---------------------------------------

K = 5
SIZE = (64, 64)  # (w, h)
DECODER = dict(
    type="MSRAHeatmap", input_size=SIZE, heatmap_size=(16, 16), sigma=2
)


def test_topdown_with_keras_application_trains_and_reloads(tmp_path):
    ds = SyntheticPoseDataset(num_samples=8, num_keypoints=K, input_size=SIZE)
    x, y = ds.as_fit_data(keraspose.build(DECODER))
    model = keraspose.build(
        dict(
            type="TopdownPoseEstimator",
            data_preprocessor=dict(
                KerasModelBackbone.preprocessor_config(TINY["model"])
            ),
            # P3 (stride 8) keeps the compiled graph small
            backbone=dict(TINY, out_indices=(2,)),
            head=dict(
                type="HeatmapHead",
                in_channels=TINY_LEVELS[2][1],
                out_channels=K,
                deconv_out_channels=(8,),
                deconv_kernel_sizes=(4,),
                decoder=DECODER,
            ),
            metainfo=ds.metainfo,
        )
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    hist = model.fit(x, y, batch_size=4, epochs=1, verbose=0).history
    assert np.isfinite(hist["loss"][-1])
    preds = model.predict(x, batch_size=8, verbose=0)
    assert preds["keypoints"].shape == (8, K, 2)
    path = os.path.join(tmp_path, "td.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    again = loaded.predict(x, batch_size=8, verbose=0)
    np.testing.assert_allclose(
        again["keypoints"], preds["keypoints"], atol=1e-4
    )
    np.testing.assert_allclose(
        again["keypoint_scores"], preds["keypoint_scores"], atol=1e-5
    )


@pytest.mark.heavy
def test_example_config_builds():
    name = (
        "body_2d_keypoint/topdown_heatmap/coco/"
        "td-hm_keras-mobilenetv2_8xb64-210e_coco-256x192.py"
    )
    cfg = load_config(config_path(name)).to_dict()
    backbone = cfg["model"]["backbone"]
    expected = KerasModelBackbone.preprocessor_config(
        backbone["model"], backbone["model_kwargs"]
    )
    assert cfg["model"]["data_preprocessor"] == expected
    backbone["model_kwargs"]["weights"] = None  # no download in tests
    model = keraspose.build(cfg["model"])
    assert model.backbone.feature_levels()[-1]["channels"] == 1280
    model.backbone.pretrained = True
    model.backbone.check_data_preprocessor(model.data_preprocessor)


# --- optional packages -----------------------------------------------------


def test_keras_hub_backbone(tmp_path):
    keras_hub = pytest.importorskip(
        "keras_hub", reason="keras-hub (optional) is not installed"
    )
    kwargs = dict(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[7],
        stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        use_pre_activation=False,
        image_shape=(None, None, 3),
    )
    cfg = dict(
        type="KerasModelBackbone",
        model="keras_hub.models.ResNetBackbone",
        model_kwargs=kwargs,
        out_indices=(0, 1),
    )
    net = run_layer_test(
        cfg, _images(), tmp_path, ((2, 16, 12, 64), (2, 8, 6, 16))
    )
    assert [lv["level"] for lv in net.feature_levels()] == ["P2", "P3"]
    # a built keras-hub backbone is stored serialized
    obj = KerasModelBackbone(keras_hub.models.ResNetBackbone(**kwargs))
    clone = keraspose.build(keraspose.to_config(obj))
    assert keraspose.to_config(clone) == keraspose.to_config(obj)


def test_keras_cv_backbone(tmp_path):
    pytest.importorskip(
        "keras_cv", reason="keras-cv (optional) is not installed"
    )
    cfg = dict(
        type="KerasModelBackbone",
        model="keras_cv.models.ResNetBackbone",
        model_kwargs=dict(
            stackwise_filters=[8, 16],
            stackwise_blocks=[1, 1],
            stackwise_strides=[1, 2],
            include_rescaling=False,
            input_shape=(None, None, 3),
        ),
        out_indices=(0, 1),
    )
    net = run_layer_test(
        cfg, _images(), tmp_path, ((2, 16, 12, 32), (2, 8, 6, 64))
    )
    assert [lv["level"] for lv in net.feature_levels()] == ["P2", "P3"]
