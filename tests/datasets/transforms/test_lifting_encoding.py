import numpy as np
import pytest

import keraspose
from tests.codecs import lifting_fixture as lf

tf = pytest.importorskip("tensorflow")

from keraspose.datasets.transforms import generate_target  # noqa: E402
from keraspose.datasets.transforms import graph_encoding  # noqa: E402

TARGET_KEYS = generate_target.TARGET_KEYS
graph_encode = graph_encoding.graph_encode

CASES = lf.cases("img") + lf.cases("vid")


def _aux(args):
    aux = {
        k: v
        for k, v in args.items()
        if k not in ("keypoints", "keypoints_visible") and v is not None
    }
    return {
        k: (
            {n: tf.constant(x) for n, x in v.items()}
            if isinstance(v, dict)
            else tf.constant(v)
        )
        for k, v in aux.items()
    }


def _to_numpy(tree):
    return {
        k: (
            {n: x.numpy() for n, x in v.items()}
            if isinstance(v, dict)
            else v.numpy()
        )
        for k, v in tree.items()
    }


@pytest.mark.parametrize("name", CASES)
def test_graph_encoder_equals_encode(name):
    cfg, inputs, expected = lf.case(name)
    video = name.startswith("vid")
    codec = keraspose.build(cfg)
    args = lf.encode_args(inputs, video=video)
    ref = codec.encode(**args)
    vis = args["keypoints_visible"]
    aux = _aux(args)

    @tf.function
    def run(keypoints, visible, aux):
        return graph_encode(codec, keypoints, visible, **aux)

    ours = _to_numpy(
        run(
            tf.constant(args["keypoints"]),
            None if vis is None else tf.constant(vis),
            aux,
        )
    )
    lf.assert_encoded_equal(ours, expected, cfg)
    assert set(ours) == set(ref)
    for key, value in ref.items():
        if key == "camera_param":
            for n in ("f", "c"):
                np.testing.assert_array_equal(ours[key][n], value[n])
            continue
        np.testing.assert_array_equal(ours[key], value, err_msg=key)


def test_generate_target_in_tf_data():
    cfg, inputs, expected = lf.case("vid_remove_root")
    args = lf.encode_args(inputs, video=True)
    sample = dict(
        keypoints=args["keypoints"],
        keypoints_visible=args["keypoints_visible"],
        lifting_target=args["lifting_target"],
        lifting_target_visible=args["lifting_target_visible"],
        camera_param={
            k: np.asarray(v) for k, v in args["camera_param"].items()
        },
    )
    transform = keraspose.build(dict(type="GenerateTarget", encoder=cfg))
    ds = tf.data.Dataset.from_tensors(sample).map(
        lambda s: transform.transform(dict(s), seed=tf.constant([0, 0]))
    )
    out = next(iter(ds))
    assert out[TARGET_KEYS] == (
        "lifting_target_label",
        "lifting_target_weight",
        "trajectory_weights",
    ) or tuple(x.decode() for x in out[TARGET_KEYS].numpy()) == (
        "lifting_target_label",
        "lifting_target_weight",
        "trajectory_weights",
    )
    for key in ("lifting_target_label", "lifting_target_weight", "target_root"):
        np.testing.assert_allclose(
            out[key].numpy(), expected[key], rtol=1e-6, atol=1e-6
        )
    np.testing.assert_allclose(
        lf.to_mmpose_layout(out["keypoint_labels"].numpy(), cfg),
        expected["keypoint_labels"],
        rtol=1e-6,
        atol=1e-6,
    )


def test_graph_encoder_errors():
    codec = keraspose.build(dict(type="VideoPoseLifting", num_keypoints=3))
    with pytest.raises(ValueError, match="lifting_target"):
        graph_encode(codec, tf.zeros((1, 3, 2)), tf.ones((1, 3)))
    with pytest.raises(ValueError, match="'w' and 'h'"):
        graph_encode(
            codec,
            tf.zeros((1, 3, 2)),
            tf.ones((1, 3)),
            lifting_target=tf.ones((1, 3, 3)),
        )
