"""``keraspose demo``: the embedded default, end to end with no download."""

import json
import os
import time

import numpy as np

#: The demo's config, shipped inside the package.
DEMO_CONFIG = "demo/td-hm_res18-w16_synthetic-96x128.py"


def config_path(name):
    """Path of a config: an existing file, or one shipped in
    ``keraspose/configs`` (e.g. ``"body_2d_keypoint/topdown_heatmap/coco/
    td-hm_res50_8xb64-210e_coco-256x192.py"``)."""
    if os.path.isfile(name):
        return name
    shipped = os.path.join(os.path.dirname(__file__), "..", "configs", name)
    shipped = os.path.normpath(shipped)
    if os.path.isfile(shipped):
        return shipped
    raise FileNotFoundError(
        f"Config {name!r} is neither a file nor a config shipped in "
        f"{os.path.dirname(shipped)!r}."
    )


def save_prediction_grid(model, images, boxes, metainfo, path, columns=4):
    """Draws the predicted poses of ``images`` (paths) into one PNG.

    Small discs and thin links, so the image's own content (for the
    synthetic data: the joints' coloured discs) stays visible around them.
    """
    from keraspose.apis.inference import inference_topdown
    from keraspose.apis.inference import load_image
    from keraspose.apis.inference import write_png
    from keraspose.visualization import draw_pose

    tiles = []
    for image, box in zip(images, boxes):
        preds = inference_topdown(model, image, [box])
        canvas = load_image(image)
        scale = max(1, 256 // max(canvas.shape[:2]))
        canvas = np.repeat(np.repeat(canvas, scale, 0), scale, 1)
        tiles.append(
            draw_pose(
                canvas,
                (preds["keypoints"] + 0.5) * scale - 0.5,
                preds.get("keypoints_visible", preds["keypoint_scores"]),
                metainfo=metainfo,
                kpt_thr=0.3,
                radius=max(2, scale + 1),
                thickness=1,
            )
        )
    h = max(t.shape[0] for t in tiles)
    w = max(t.shape[1] for t in tiles)
    tiles = [
        np.pad(t, ((0, h - t.shape[0]), (0, w - t.shape[1]), (0, 0)))
        for t in tiles
    ]
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [
        np.concatenate(tiles[i : i + columns], axis=1)
        for i in range(0, len(tiles), columns)
    ]
    grid = np.concatenate(rows, axis=0)
    return write_png(path, grid)


def run_demo(
    work_dir="work_dirs/demo",
    epochs=None,
    num_train=1024,
    num_val=64,
    verbose=1,
):
    """Trains, evaluates, saves and draws a small model on synthetic data.

    1. Writes the procedural ``SyntheticPoseDataset`` (8 joints, 96x128
       crops) as a COCO-style folder (``work_dir/data``: PNG images, COCO
       json, metainfo json with OKS sigmas).
    2. Trains the shipped demo config (SimpleBaseline ResNet-18 at a quarter
       width, flip/shift/scale/rotate augmentation, LR warm-up + cosine)
       with ``model.fit`` through the tf.data pipeline, evaluating COCO AP
       and PCK on the validation split during training.
    3. Saves ``demo.keras``, reloads it and evaluates the reloaded model.
    4. Draws its predictions on validation images to ``predictions.png``.

    Args:
        work_dir: output folder.
        epochs: override the config's ``max_epochs``.
        num_train: synthetic training images.
        num_val: synthetic validation images.
        verbose: Keras verbosity.

    Returns:
        dict with ``metrics`` of the reloaded model and the written
        ``model`` / ``predictions`` paths.
    """
    import keras

    from keraspose.apis.runner import test
    from keraspose.apis.runner import train
    from keraspose.datasets import SyntheticPoseDataset

    start = time.time()
    data_root = os.path.join(work_dir, "data") + "/"
    size = (96, 128)
    SyntheticPoseDataset(num_train, 8, size, seed=0).export_coco(
        data_root, "train"
    )
    SyntheticPoseDataset(num_val, 8, size, seed=1).export_coco(data_root, "val")
    options = {"data_root": data_root}
    if epochs is not None:
        options["train_cfg.max_epochs"] = int(epochs)
    cfg = config_path(DEMO_CONFIG)
    if verbose:
        print(
            f"keraspose demo on {keras.backend.backend()}: {num_train} "
            f"synthetic training images in {data_root}"
        )
    model, _ = train(cfg, work_dir=work_dir, cfg_options=options, verbose=2)
    model_path = os.path.join(work_dir, "demo.keras")
    model.save(model_path)
    reloaded = keras.saving.load_model(model_path, compile=False)
    metrics = test(cfg, reloaded, cfg_options=options, verbose=verbose)
    with open(os.path.join(data_root, "val.json")) as f:
        val = json.load(f)
    shown = val["annotations"][:8]
    files = {im["id"]: im["file_name"] for im in val["images"]}
    images = [os.path.join(data_root, files[a["image_id"]]) for a in shown]
    boxes = [
        [a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2]]
        + [a["bbox"][1] + a["bbox"][3]]
        for a in shown
    ]
    png = save_prediction_grid(
        reloaded,
        images,
        boxes,
        reloaded.metainfo,
        os.path.join(work_dir, "predictions.png"),
    )
    with open(os.path.join(work_dir, "demo_metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    if verbose:
        text = "  ".join(f"{k}: {v:.3f}" for k, v in metrics.items())
        print(f"reloaded {model_path}: {text}")
        print(
            f"predictions drawn to {png}; done in {time.time() - start:.0f} s"
        )
    return dict(metrics=metrics, model=model_path, predictions=png)
