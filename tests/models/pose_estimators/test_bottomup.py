"""BottomupPoseEstimator: the two prediction stages, TTA, fit/save/load.

A tiny stub head (registered here) follows the bottom-up head contract:
``predict`` returns a device dict, ``postprocess`` a padded host dict.
"""

import os

import keras
import numpy as np
import pytest
from keras import ops

import keraspose
from keraspose.evaluation.evaluator import model_input_keys
from keraspose.models.heads.base_head import BaseHead
from keraspose.models.pose_estimators.bottomup import aug_image_key
from keraspose.registry import register
from tests.helpers import imagenet_preprocessor
from tests.helpers import tiny_resnet
from tests.helpers import to_numpy

K = 3
M = 2
SIZE = 64


@register
class BottomupStubHeadForTests(BaseHead):
    """One 1x1 conv to K heatmaps; instance 0 = per-keypoint argmax."""

    def __init__(self, in_channels=64, num_keypoints=K, **kwargs):
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.num_keypoints = num_keypoints
        self.final_layer = keras.layers.Conv2D(
            num_keypoints, 1, name="final_layer", dtype=self.dtype_policy
        )
        self.seen = {}

    def call(self, feats, training=None):
        return self.final_layer(feats[-1])

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        diff = ops.cast(outputs, "float32") - targets["heatmaps"]
        return {"loss_kpt": ops.mean(diff * diff)}

    def log_names(self, train_cfg=None):
        return ["loss_kpt"]

    def predict(self, feats, test_cfg=None, flip_indices=None, **kwargs):
        self.seen = dict(kwargs, flip_indices=flip_indices)
        test_cfg = test_cfg or {}
        if test_cfg.get("multiscale_test"):
            feats = feats[0]
        if test_cfg.get("flip_test"):
            hm = self(feats[0])
            flipped = ops.flip(self(feats[1]), axis=2)
            flipped = ops.take(flipped, flip_indices, axis=3)
            hm = (hm + flipped) / 2
        else:
            hm = self(feats)
        w, h = kwargs["input_size"]
        b = ops.shape(hm)[0]
        size = ops.convert_to_tensor([[float(w), float(h)]]) * ops.ones((b, 1))
        return {"heatmaps": ops.cast(hm, "float32"), "model_size": size}

    def postprocess(self, preds, test_cfg=None):
        hm = preds["heatmaps"]
        b, h, w, k = hm.shape
        flat = hm.reshape(b, h * w, k)
        idx = flat.argmax(1)
        xy = np.stack([idx % w, idx // w], -1).astype(np.float32)
        xy = (xy + 0.5) * preds["model_size"][:, None] / np.array([w, h])
        kpts = np.zeros((b, M, k, 2), np.float32)
        kpts[:, 0] = xy
        scores = np.zeros((b, M, k), np.float32)
        scores[:, 0] = flat.max(1)
        mask = np.zeros((b, M), bool)
        mask[:, 0] = True
        return dict(
            keypoints=kpts,
            keypoint_scores=scores,
            instance_mask=mask,
            bbox_scores=scores.mean(-1),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels, num_keypoints=self.num_keypoints
        )
        return config


def tiny_model(test_cfg=None, metainfo=None):
    return keraspose.build(
        dict(
            type="BottomupPoseEstimator",
            data_preprocessor=imagenet_preprocessor(),
            backbone=tiny_resnet(),
            head=dict(type="BottomupStubHeadForTests", in_channels=64),
            test_cfg=test_cfg or {},
            metainfo=metainfo,
        )
    )


def images(n, size=SIZE, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (n, size, size, 3)).astype("uint8")


def test_fit_predict_save_reload(tmp_path):
    model = tiny_model()
    x = {"images": images(8)}
    y = {"heatmaps": np.random.default_rng(1).random((8, 2, 2, K), "float32")}
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    hist = model.fit(x, y, batch_size=4, epochs=3, verbose=0).history
    assert {"loss", "loss_kpt"} <= set(hist)
    assert hist["loss"][-1] < hist["loss"][0]
    preds = model.predict(x, batch_size=4, verbose=0)
    assert preds["keypoints"].shape == (8, M, K, 2)
    assert preds["keypoints"].dtype == np.float32
    assert preds["keypoint_scores"].shape == (8, M, K)
    assert preds["instance_mask"].dtype == bool
    assert preds["bbox_scores"].shape == (8, M)
    np.testing.assert_array_equal(
        preds["keypoints_visible"], preds["keypoint_scores"]
    )
    # padded instances are zeros
    assert not preds["keypoints"][:, 1].any()
    path = os.path.join(tmp_path, "bu.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    again = loaded.predict(x, batch_size=4, verbose=0)
    for key in preds:
        np.testing.assert_allclose(again[key], preds[key], atol=1e-5)
    clone = keraspose.build(keraspose.to_config(model))
    assert keraspose.to_config(clone) == keraspose.to_config(model)


def test_back_projection_and_device_stage():
    model = tiny_model()
    imgs = images(2)
    raw = model.predict_on_batch({"images": imgs})
    center = np.array([[100.0, 50.0], [30.0, 40.0]], "float32")
    scale = np.array([[200.0, 100.0], [64.0, 128.0]], "float32")
    x = {
        "images": imgs,
        "input_center": center,
        "input_scale": scale,
        "input_size": np.full((2, 2), SIZE, "float32"),
    }
    full = model.predict_on_batch(x)
    c, s = center[:, None, None], scale[:, None, None]
    expected = raw["keypoints"] / SIZE * s + c - 0.5 * s
    expected[:, 1] = 0.0  # padded instance
    np.testing.assert_allclose(full["keypoints"], expected, rtol=1e-6)
    # the device stage passes the meta through (B, 2)
    device = to_numpy(model(x, mode="predict"))
    np.testing.assert_allclose(device["input_center"], center)
    np.testing.assert_allclose(device["input_size"], x["input_size"])
    assert model.head.seen["input_size"] == (SIZE, SIZE)
    eager = model.postprocess(device)
    np.testing.assert_allclose(eager["keypoints"], full["keypoints"], atol=1e-4)
    with pytest.raises(ValueError, match="both 'input_center'"):
        model.predict_on_batch({"images": imgs, "input_center": center})


def test_flip_test_merges_flipped_features():
    meta = dict(flip_indices=[0, 2, 1], num_keypoints=K)
    model = tiny_model(dict(flip_test=True), metainfo=meta)
    imgs = images(2)
    out = to_numpy(model({"images": imgs}, mode="predict"))
    x = model.data_preprocessor(imgs)
    plain = model.head(model.extract_feat(x))
    flipped = model.head(model.extract_feat(ops.flip(x, axis=2)))
    flipped = ops.take(ops.flip(flipped, axis=2), [0, 2, 1], axis=3)
    np.testing.assert_allclose(
        out["heatmaps"], to_numpy((plain + flipped) / 2), atol=1e-5
    )
    assert model.head.seen["flip_indices"] == [0, 2, 1]
    with pytest.raises(ValueError, match="flip_indices"):
        tiny_model(dict(flip_test=True))({"images": imgs}, mode="predict")


def test_multiscale_test_needs_scales_and_pyramid():
    cfg = dict(multiscale_test=True, aug_scales=[2.0])
    model = tiny_model(cfg)
    assert model.get_input_keys() == (
        "images",
        "input_center",
        "input_scale",
        "input_size",
        aug_image_key(0),
    )
    assert model_input_keys(model)[-1] == "aug_images_0"
    imgs = images(1)
    with pytest.raises(ValueError, match="aug_images_0"):
        model.predict_on_batch({"images": imgs})
    out = model.predict_on_batch(
        {"images": imgs, "aug_images_0": images(1, 2 * SIZE)}
    )
    assert out["keypoints"].shape == (1, M, K, 2)
    assert model.head.seen["aug_scales"] == [2.0]
    with pytest.raises(ValueError, match="aug_scales"):
        tiny_model(dict(multiscale_test=True)).predict_on_batch(
            {"images": imgs}
        )


def test_predict_batches_of_different_image_sizes():
    # resize_mode='expand' gives each image its own size (batch size 1)
    model = tiny_model()
    batches = [{"images": images(1, 64)}, {"images": images(1, 96)}]
    out = model.predict(batches.__iter__(), verbose=0)
    assert out["keypoints"].shape == (2, M, K, 2)
    assert model.head.seen["input_size"] == (96, 96)
    # x entries must agree in length
    with pytest.raises(ValueError, match="one row per image"):
        model.predict(
            {"images": images(2), "input_size": np.zeros((3, 2))}, verbose=0
        )


def _people(rng, n_img, n_people, size, k):
    """Random keypoints (B, N, K, 2) in [4, size - 4) and visibility."""
    kpts = rng.uniform(4, size - 4, (n_img, n_people, k, 2)).astype("float32")
    vis = np.ones((n_img, n_people, k), "float32")
    vis[:, :, -1] = 0.0  # an invisible keypoint per person
    return kpts, vis


def _stack(encoded):
    return {k: np.stack([e[k] for e in encoded]) for k in encoded[0]}


REAL_HEADS = {
    "ae": dict(
        type="AssociativeEmbeddingHead",
        in_channels=64,
        num_keypoints=K,
        tag_dim=1,
        deconv_out_channels=None,
        keypoint_loss=dict(type="KeypointMSELoss", use_target_weight=True),
        tag_loss=dict(type="AssociativeEmbeddingLoss", loss_weight=0.001),
        decoder=dict(
            type="AssociativeEmbedding",
            input_size=(SIZE, SIZE),
            heatmap_size=(16, 16),
            sigma=2,
            decode_topk=4,
            decode_max_instances=M,
            decode_keypoint_order=[0, 1, 2],
        ),
    ),
    "dekr": dict(
        type="DEKRHead",
        in_channels=64,
        num_keypoints=K,
        num_heatmap_filters=8,
        num_displacement_filters_per_keypoint=2,
        decoder=dict(
            type="SPR",
            input_size=(SIZE, SIZE),
            heatmap_size=(16, 16),
            sigma=(4, 2),
            minimal_diagonal_length=32**0.5,
            generate_keypoint_heatmaps=True,
            decode_max_instances=M,
        ),
    ),
}


@pytest.mark.heavy
@pytest.mark.parametrize("kind", sorted(REAL_HEADS))
def test_real_bottomup_heads_fit_predict_reload(kind, tmp_path):
    # registers the heads even before the package exports them
    import keraspose.models.heads.heatmap_heads.ae_head  # noqa: F401
    import keraspose.models.heads.hybrid_heads.dekr_head  # noqa: F401

    head = REAL_HEADS[kind]
    model = keraspose.build(
        dict(
            type="BottomupPoseEstimator",
            backbone=dict(
                type="ResNet",
                depth=18,
                base_channels=8,
                stem_channels=8,
                strides=(1, 1, 1, 1),
            ),
            head=head,
            test_cfg=dict(flip_test=True, shift_heatmap=True),
            metainfo=dict(flip_indices=[0, 2, 1], num_keypoints=K),
        )
    )
    codec = keraspose.build(head["decoder"])
    rng = np.random.default_rng(3)
    kpts, vis = _people(rng, 4, 2, SIZE, K)
    y = _stack([codec.encode(p, v) for p, v in zip(kpts, vis)])
    if kind == "ae":
        y["heatmap_mask"] = np.ones((4, 16, 16), "float32")
    x = {"images": images(4)}
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    hist = model.fit(x, y, batch_size=2, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in hist.values())
    x["input_center"] = np.full((4, 2), 100.0, "float32")
    x["input_scale"] = np.full((4, 2), 200.0, "float32")
    x["input_size"] = np.full((4, 2), SIZE, "float32")
    preds = model.predict(x, batch_size=2, verbose=0)
    assert preds["keypoints"].shape == (4, M, K, 2)
    assert preds["instance_mask"].shape == (4, M)
    path = os.path.join(tmp_path, f"{kind}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    again = loaded.predict(x, batch_size=2, verbose=0)
    for key in preds:
        np.testing.assert_allclose(again[key], preds[key], atol=1e-4)
