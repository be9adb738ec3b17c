import os

import keras
import numpy as np
import pytest

import keraspose
from keraspose.datasets import SyntheticPoseDataset
from tests.helpers import BACKEND
from tests.helpers import imagenet_preprocessor
from tests.helpers import tiny_resnet
from tests.helpers import to_numpy

K = 5
SIZE = (64, 96)  # (w, h)
DECODER = dict(
    type="MSRAHeatmap", input_size=SIZE, heatmap_size=(16, 24), sigma=2
)
HEAD = dict(
    type="HeatmapHead",
    in_channels=64,
    out_channels=K,
    deconv_out_channels=(16, 16, 16),
    decoder=DECODER,
)


def tiny_model(head=HEAD, metainfo=None, **kwargs):
    return keraspose.build(
        dict(
            type="TopdownPoseEstimator",
            data_preprocessor=imagenet_preprocessor(),
            backbone=tiny_resnet(),
            head=head,
            metainfo=metainfo,
            test_cfg=dict(
                flip_test=True, flip_mode="heatmap", shift_heatmap=True
            ),
            **kwargs,
        )
    )


@pytest.fixture(scope="module")
def data():
    ds = SyntheticPoseDataset(num_samples=48, num_keypoints=K, input_size=SIZE)
    codec = keraspose.build(DECODER)
    x, y = ds.as_fit_data(codec)
    return ds, x, y


def test_topdown_trains_saves_reloads_and_predicts(data, tmp_path):
    ds, x, y = data
    model = tiny_model(metainfo=ds.metainfo)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history
    assert {"loss", "loss_kpt", "acc_pose"} <= set(hist)
    assert hist["loss"][-1] < hist["loss"][0]
    preds = model.predict(x, batch_size=16, verbose=0)
    assert preds["keypoints"].shape == (48, K, 2)
    assert preds["keypoint_scores"].shape == (48, K)
    path = os.path.join(tmp_path, "td.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    again = loaded.predict(x, batch_size=16, verbose=0)
    np.testing.assert_allclose(
        again["keypoints"], preds["keypoints"], atol=1e-4
    )
    # the config round-trips to an identical model
    clone = keraspose.build(keraspose.to_config(model))
    assert keraspose.to_config(clone) == keraspose.to_config(model)
    clone.build({"images": (None, SIZE[1], SIZE[0], 3)})
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(
        clone.predict(x, batch_size=16, verbose=0)["keypoints"],
        preds["keypoints"],
        atol=1e-4,
    )


def test_vis_predict_head_trains_saves_and_predicts_visibility(data, tmp_path):
    ds, x, y = data
    head = dict(type="VisPredictHead", pose_cfg=HEAD)
    model = tiny_model(head=head, metainfo=ds.metainfo)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    hist = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    assert {"loss_vis", "acc_vis", "loss_kpt", "acc_pose"} <= set(hist)
    preds = model.predict(x, batch_size=16, verbose=0)
    assert preds["keypoints_visible"].shape == (48, K)
    path = os.path.join(tmp_path, "vis.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    again = loaded.predict(x, batch_size=16, verbose=0)
    for key in ("keypoints", "keypoints_visible", "keypoint_scores"):
        np.testing.assert_allclose(again[key], preds[key], atol=1e-4)


def test_back_projection_and_flip(data):
    ds, x, y = data
    model = tiny_model(metainfo=ds.metainfo)
    raw = model.predict({"images": x["images"][:4]}, verbose=0)["keypoints"]
    full = model.predict({k: v[:4] for k, v in x.items()}, verbose=0)
    center = x["input_center"][:4, None]
    scale = x["input_scale"][:4, None]
    expected = raw / np.array(SIZE, "float32") * scale + center - 0.5 * scale
    np.testing.assert_allclose(
        full["keypoints"], expected, rtol=1e-5, atol=1e-3
    )
    eager = model(x["images"][:4], mode="predict")
    np.testing.assert_allclose(to_numpy(eager["keypoints"]), raw, atol=1e-4)


def test_flip_test_without_metainfo():
    model = tiny_model()
    with pytest.raises(ValueError, match="flip_indices"):
        model.predict(np.zeros((1, 96, 64, 3), "float32"), verbose=0)
    coco = tiny_model(head=dict(HEAD, out_channels=17))
    with pytest.warns(UserWarning, match="COCO"):
        coco(np.zeros((1, 96, 64, 3), "float32"), mode="predict")


def test_all_invisible_batch_gives_finite_loss(data):
    ds, x, y = data
    model = tiny_model(metainfo=ds.metainfo)
    model.compile(optimizer="adam")
    y0 = dict(y, keypoint_weights=np.zeros_like(y["keypoint_weights"]))
    logs = model.train_on_batch(
        {k: v[:8] for k, v in x.items()},
        {k: v[:8] for k, v in y0.items()},
        return_dict=True,
    )
    assert all(np.isfinite(v) for v in logs.values())


def test_bad_inputs(data):
    ds, x, y = data
    model = tiny_model(metainfo=ds.metainfo)
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        model(np.zeros((96, 64, 3), "float32"))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        model(np.zeros((1, 96, 64, 1), "float32"))
    with pytest.raises(ValueError, match="'images'"):
        model({"img": np.zeros((1, 96, 64, 3), "float32")})
    with pytest.raises(ValueError, match="input_size"):
        model(np.zeros((1, 32, 32, 3), "float32"), mode="predict")
    with pytest.raises(ValueError, match="mode"):
        model(np.zeros((1, 96, 64, 3), "float32"), mode="loss")
    with pytest.raises(ValueError, match="dataset metainfo has 5"):
        tiny_model(head=dict(HEAD, out_channels=17), metainfo=ds.metainfo)
    wrong = tiny_model(head=dict(HEAD, out_channels=3))
    wrong.compile(optimizer="adam")
    with pytest.raises(ValueError, match="out_channels"):
        wrong.fit(x, y, batch_size=16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="do not pass `loss`"):
        model.compile(optimizer="adam", loss="mse")


def test_mixed_precision_training(data):
    if BACKEND == "torch":
        pytest.skip("bfloat16 conv training is very slow on torch/CPU")
    ds, x, y = data
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = tiny_model(metainfo=ds.metainfo)
    model.compile(optimizer="adam")
    logs = model.fit(
        {k: v[:16] for k, v in x.items()},
        {k: v[:16] for k, v in y.items()},
        batch_size=16,
        epochs=1,
        verbose=0,
    ).history
    assert np.isfinite(logs["loss"][0])
    preds = model.predict({k: v[:2] for k, v in x.items()}, verbose=0)
    assert preds["keypoints"].dtype == np.float32
