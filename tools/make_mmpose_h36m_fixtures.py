"""Fixtures: MMPose 1.3.2's Human3.6M lifting dataset, pipeline and MPJPE.

Run from the repository root with the MMPose reference environment::

    /work/mmpose-ref/bin/python tools/make_mmpose_h36m_fixtures.py

Writes ``tests/fixtures/mmpose_h36m.npz``:

- ``ann_*``: a small synthetic annotation (``imgname``, ``S``, ``part``,
  ``center``, ``scale``; three interleaved videos of two subjects plus a
  two-frame video whose 2D keypoints are all zero), ``det`` (2D
  detections) and ``factor`` (projection factors); the tests write them to
  files again. Invisible and out-of-image keypoints are included.
- ``<case>/seq``: MMPose's ``sequence_indices``; ``<case>/<field>``: the
  fields of every data sample (``keypoints``, ``keypoints_visible``,
  ``lifting_target``, ``lifting_target_visible``, ``center``, ``scale``,
  ``id``, ``img_ids``, ``factor``, ``camera_c``), stacked over samples.
- ``pipe_<case>/<field>``: MMPose's pipeline output per sample
  (``RandomFlipAroundRoot(flip_prob=1)`` and/or ``GenerateTarget`` and
  ``PackPoseInputs``): ``inputs`` (as (T, K, C)), the gt labels, the
  ``target_root`` meta and the flipped camera.
- ``metric_<mode>``: MMPose's ``MPJPE`` on fixed predictions against the
  ``pipe_video`` ground truth (per action too).
"""

import os
import pickle
import sys
import tempfile

import numpy as np

sys.path.insert(0, "/work/shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

from mmengine.registry import init_default_scope  # noqa: E402

init_default_scope("mmpose")

from mmpose.registry import DATASETS  # noqa: E402
from mmpose.registry import METRICS  # noqa: E402

OUT = "tests/fixtures/mmpose_h36m.npz"
CAMERAS = "../shared/data/h36m/cameras.pkl"
K = 17


def synthetic_annotation(rng):
    """Interleaved frames of four Human3.6M-named videos."""
    videos = [
        ("S1", "Directions_1", "54138969", 7),
        ("S5", "Greeting", "55011271", 5),
        ("S1", "Walking", "58860488", 4),
        ("S5", "Eating_2", "54138969", 2),
    ]
    names = []
    for subj, action, cam, n in videos:
        for i in range(n):
            names.append(
                f"{subj}/{subj}_{action}.{cam}/"
                f"{subj}_{action}.{cam}_{i + 1:06d}.jpg"
            )
    order = rng.permutation(len(names))
    names = np.array(names)[order]
    num = len(names)
    part = np.zeros((num, K, 3))
    part[..., :2] = rng.uniform(-50, 1050, (num, K, 2))
    part[..., 2] = rng.uniform(0, 1, (num, K)) > 0.2
    zero = np.array(["Eating_2" in n for n in names])
    part[zero, :, :2] = 0.0
    part[zero, :, :2] -= rng.uniform(0, 5, (zero.sum(), K, 2))
    s = np.zeros((num, K, 4))
    s[..., :3] = rng.normal(0, 0.5, (num, K, 3)) + [0, 0, 5]
    s[..., 3] = rng.uniform(0, 1, (num, K)) > 0.15
    det = np.concatenate(
        [
            part[..., :2] + rng.normal(0, 3, (num, K, 2)),
            rng.uniform(0, 1, (num, K, 1)),
        ],
        axis=-1,
    )
    det[zero, :, :2] = -1.0
    return {
        "imgname": names,
        "S": s,
        "part": part,
        "center": rng.uniform(300, 700, (num, 2)),
        "scale": rng.uniform(1, 3, num),
        "det": det.astype(np.float32),
        "factor": rng.uniform(1, 10, num).astype(np.float32),
    }


CASES = {
    "single": dict(seq_len=1, causal=True),
    "pad_mid": dict(seq_len=5, seq_step=2, causal=False, pad_video_seq=True),
    "pad_causal": dict(seq_len=4, causal=True, pad_video_seq=True),
    "nopad": dict(seq_len=3, seq_step=1, causal=False),
    "nopad_step": dict(seq_len=2, seq_step=2, causal=True),
    "multi": dict(seq_len=1, multiple_target=3, multiple_target_step=2),
    "det": dict(
        seq_len=3,
        causal=False,
        pad_video_seq=True,
        keypoint_2d_src="detection",
        keypoint_2d_det_file="det.npy",
        factor_file="factor.npy",
    ),
    "subset": dict(seq_len=1, subset_frac=0.5),
}


def build_dataset(root, cfg, pipeline=()):
    cfg = dict(cfg)
    return DATASETS.build(
        dict(
            type="Human36mDataset",
            ann_file="ann.npz",
            data_root=root,
            camera_param_file="cameras.pkl",
            pipeline=list(pipeline),
            **cfg,
        )
    )


def dataset_case(out, name, root, cfg):
    np.random.seed(0)
    ds = build_dataset(root, cfg)
    out[f"{name}/seq"] = np.array(ds.sequence_indices, np.int64)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    for key in (
        "keypoints",
        "keypoints_visible",
        "lifting_target",
        "lifting_target_visible",
        "center",
        "scale",
        "id",
        "img_ids",
        "factor",
    ):
        out[f"{name}/{key}"] = np.stack([np.asarray(d[key]) for d in infos])
    out[f"{name}/camera_c"] = np.stack([d["camera_param"]["c"] for d in infos])
    out[f"{name}/target_img_path"] = np.stack(
        [np.asarray(d["target_img_path"]) for d in infos]
    )


VIDEO_CODEC = dict(
    type="VideoPoseLifting",
    num_keypoints=K,
    zero_center=True,
    root_index=0,
    remove_root=False,
)


def image_codec(rng):
    return dict(
        type="ImagePoseLifting",
        num_keypoints=K,
        root_index=0,
        remove_root=True,
        target_mean=rng.normal(0, 0.1, (K - 1, 3)).round(4).tolist(),
        target_std=rng.uniform(0.1, 0.3, (K - 1, 3)).round(4).tolist(),
        keypoints_mean=rng.uniform(400, 600, (K, 2)).round(2).tolist(),
        keypoints_std=rng.uniform(50, 120, (K, 2)).round(2).tolist(),
    )


def pipelines(rng):
    pack = dict(
        type="PackPoseInputs",
        meta_keys=(
            "id",
            "category_id",
            "target_img_path",
            "flip_indices",
            "target_root",
        ),
    )
    flip = dict(
        type="RandomFlipAroundRoot",
        keypoints_flip_cfg=dict(),
        target_flip_cfg=dict(),
        flip_prob=1.0,
    )
    root_flip = dict(
        type="RandomFlipAroundRoot",
        keypoints_flip_cfg=dict(center_mode="root", center_index=0),
        target_flip_cfg=dict(center_mode="root", center_index=[0, 1]),
        flip_prob=1.0,
        flip_camera=True,
    )
    image = image_codec(rng)
    return {
        # name: (dataset case, pipeline, codec)
        "video": (
            "pad_mid",
            [flip, dict(type="GenerateTarget", encoder=VIDEO_CODEC), pack],
            VIDEO_CODEC,
        ),
        "video_val": (
            "pad_causal",
            [dict(type="GenerateTarget", encoder=VIDEO_CODEC), pack],
            VIDEO_CODEC,
        ),
        "image": (
            "single",
            [root_flip, dict(type="GenerateTarget", encoder=image), pack],
            image,
        ),
        "flip_only": ("single", [root_flip], None),
    }


def pipeline_case(out, name, root, case, pipeline):
    np.random.seed(0)
    ds = build_dataset(root, CASES[case], pipeline)
    rows = {}
    for i in range(len(ds)):
        res = ds[i]
        if "inputs" not in res:  # a transform-only pipeline
            fields = {
                "keypoints": res["keypoints"],
                "keypoints_visible": res["keypoints_visible"],
                "lifting_target": res["lifting_target"],
                "lifting_target_visible": res["lifting_target_visible"],
                "camera_c": res["camera_param"]["c"],
                "camera_p": res["camera_param"]["p"],
            }
        else:
            sample = res["data_samples"]
            inputs = res["inputs"].numpy()  # (K * C, T)
            t = inputs.shape[-1]
            fields = {
                "inputs": inputs.reshape(K, -1, t).transpose(2, 0, 1),
                "target_root": np.asarray(sample.metainfo["target_root"]),
                "lifting_target": sample.gt_instances.lifting_target,
                "lifting_target_visible": (
                    sample.gt_instances.lifting_target_visible
                ),
            }
            for key in (
                "lifting_target_label",
                "lifting_target_weight",
                "trajectory_weights",
            ):
                fields[key] = sample.gt_instance_labels[key].numpy()
        for key, value in fields.items():
            rows.setdefault(key, []).append(np.asarray(value))
    for key, value in rows.items():
        out[f"pipe_{name}/{key}"] = np.stack(value)


def metric_cases(out, rng):
    gt = out["pipe_video/lifting_target"]  # (N, 1, K, 3)
    vis = out["pipe_video/lifting_target_visible"]
    names = out["pad_mid/target_img_path"]  # (N, 1)
    pred = gt + rng.normal(0, 0.05, gt.shape)
    out["metric_pred"] = pred
    for mode in ("mpjpe", "p-mpjpe", "n-mpjpe"):
        metric = METRICS.build(dict(type="MPJPE", mode=mode))
        samples = [
            {
                "pred_instances": {"keypoints": pred[i]},
                "gt_instances": {
                    "lifting_target": gt[i],
                    "lifting_target_visible": vis[i],
                },
                "target_img_path": list(names[i]),
            }
            for i in range(len(gt))
        ]
        metric.process([], samples)
        res = metric.compute_metrics(metric.results)
        key = mode.replace("-", "_")
        out[f"metric_{key}/keys"] = np.array(sorted(res))
        out[f"metric_{key}/values"] = np.array([res[k] for k in sorted(res)])


def main():
    rng = np.random.default_rng(20240608)
    ann = synthetic_annotation(rng)
    out = {f"ann_{k}": v for k, v in ann.items()}
    with tempfile.TemporaryDirectory() as root:
        np.savez(
            os.path.join(root, "ann.npz"),
            **{k: ann[k] for k in ("imgname", "S", "part", "center", "scale")},
        )
        np.save(os.path.join(root, "det.npy"), ann["det"])
        np.save(os.path.join(root, "factor.npy"), ann["factor"])
        with open(CAMERAS, "rb") as f:
            cameras = pickle.load(f)
        with open(os.path.join(root, "cameras.pkl"), "wb") as f:
            pickle.dump(cameras, f)
        for name, cfg in CASES.items():
            dataset_case(out, name, root, cfg)
        for name, (case, pipeline, codec) in pipelines(rng).items():
            pipeline_case(out, name, root, case, pipeline)
            if codec is not None:
                out[f"codec_{name}"] = np.array(repr(codec))
        metric_cases(out, rng)
    np.savez_compressed(OUT, **out)
    print(OUT, os.path.getsize(OUT), "bytes,", len(out), "arrays")


if __name__ == "__main__":
    main()
