import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from keraspose.datasets import load_metainfo  # noqa: E402
from keraspose.datasets import parse_pose_metainfo  # noqa: E402
from keraspose.visualization import draw_pose  # noqa: E402
from keraspose.visualization import render_batch  # noqa: E402
from keraspose.visualization.batch import CAPTION_HEIGHT  # noqa: E402
from keraspose.visualization.batch import GAP  # noqa: E402
from keraspose.visualization.batch import decode_heatmaps_argmax  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "browse_dataset.py"

# RGB colours, all channels distinct so that a channel swap shows.
KPT_A = (200, 10, 20)
KPT_B = (30, 40, 220)
LINK = (10, 200, 100)


@pytest.fixture
def two_point_meta():
    return parse_pose_metainfo(
        dict(
            keypoint_info={
                0: dict(name="a", id=0, color=list(KPT_A), swap=""),
                1: dict(name="b", id=1, color=list(KPT_B), swap=""),
            },
            skeleton_info={0: dict(link=("a", "b"), id=0, color=list(LINK))},
        )
    )


def _draw(meta, vis=None, order="bgr", kpts=((20.0, 50.0), (80.0, 50.0))):
    img = np.zeros((100, 100, 3), np.uint8)
    out = draw_pose(
        img,
        np.array(kpts),
        vis,
        meta,
        radius=4,
        thickness=3,
        channel_order=order,
    )
    assert not img.any(), "the input image must not be modified"
    return out


def test_colours_bgr(two_point_meta):
    out = _draw(two_point_meta)
    assert out.dtype == np.uint8 and out.shape == (100, 100, 3)
    # Metainfo colours are RGB (MMPose); a BGR image gets them reversed.
    assert out[50, 20].tolist() == list(KPT_A[::-1])
    assert out[50, 80].tolist() == list(KPT_B[::-1])
    assert out[50, 50].tolist() == list(LINK[::-1])
    assert not out[10, 50].any() and not out[90, 50].any()


def test_colours_rgb(two_point_meta):
    out = _draw(two_point_meta, order="rgb")
    assert out[50, 20].tolist() == list(KPT_A)
    assert out[50, 80].tolist() == list(KPT_B)
    assert out[50, 50].tolist() == list(LINK)


def test_keypoint_disc_on_top_of_link(two_point_meta):
    out = _draw(two_point_meta)
    # The link passes through the keypoint centres; the disc covers it.
    assert out[50, 22].tolist() == list(KPT_A[::-1])


def test_coco_right_side_is_orange_in_bgr():
    meta = load_metainfo("coco")
    kpts = np.zeros((17, 2))
    kpts[6] = (30, 30)  # right_shoulder
    kpts[8] = (30, 90)  # right_elbow
    kpts[5] = (90, 30)  # left_shoulder
    vis = np.zeros(17)
    vis[[5, 6, 8]] = 1
    img = np.zeros((120, 120, 3), np.uint8)
    out = draw_pose(img, kpts, vis, meta, thickness=3)
    assert out[30, 30].tolist() == [0, 128, 255]  # orange (255, 128, 0)
    assert out[60, 30].tolist() == [0, 128, 255]  # right upper arm link
    assert out[30, 90].tolist() == [0, 255, 0]  # left: green
    assert out[30, 60].tolist() == [255, 153, 51]  # shoulders: blue link
    assert not out[100, 100].any()


def test_invisible_keypoints_and_links_are_skipped(two_point_meta):
    out = _draw(two_point_meta, vis=[1.0, 0.0])
    assert out[50, 20].tolist() == list(KPT_A[::-1])
    assert not out[50, 80].any(), "invisible keypoint drawn"
    assert not out[50, 50].any(), "link to an invisible keypoint drawn"
    out = _draw(two_point_meta, vis=[0.9, 0.4])  # below kpt_thr=0.5
    assert not out[50, 80].any() and not out[50, 50].any()
    out = _draw(two_point_meta, vis=[0.0, 0.0])
    assert not out.any()


def test_visibility_in_keypoint_array_and_nan(two_point_meta):
    out = _draw(two_point_meta, kpts=((20, 50, 1), (80, 50, 0)))
    assert out[50, 20].any() and not out[50, 80].any()
    out = _draw(two_point_meta, kpts=((20, 50), (np.nan, 50)))
    assert out[50, 20].any() and not out[50, 50].any()


def test_link_leaving_the_image_is_skipped(two_point_meta):
    out = _draw(two_point_meta, kpts=((20.0, 50.0), (140.0, 50.0)))
    assert out[50, 20].tolist() == list(KPT_A[::-1])
    assert not out[50, 60].any()


def test_no_metainfo_defaults_and_instances():
    kpts = np.array([[[10.0, 10.0], [50.0, 10.0]], [[10.0, 50.0], [50, 50]]])
    out = draw_pose(np.zeros((64, 64, 3), np.uint8), kpts, radius=3)
    for y, x in ((10, 10), (10, 50), (50, 10), (50, 50)):
        assert out[y, x].tolist() == [0, 0, 255]  # red, BGR
    assert not out[10, 30].any(), "no links without metainfo"
    rgb = draw_pose(np.zeros((64, 64), np.float32), kpts, channel_order="rgb")
    assert rgb.shape == (64, 64, 3) and rgb[10, 10].tolist() == [255, 0, 0]


def test_default_radius_scales_with_image():
    kpt = np.array([[100.0, 100.0]])
    small = draw_pose(np.zeros((200, 200, 3), np.uint8), kpt)
    big = draw_pose(np.zeros((1000, 1000, 3), np.uint8), kpt * 5)
    assert (big.any(-1).sum()) > 10 * (small.any(-1).sum())


def test_bad_inputs(two_point_meta):
    img = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match="channel_order"):
        draw_pose(img, [[1.0, 1.0]], channel_order="bgra")
    with pytest.raises(ValueError, match="keypoint colours"):
        draw_pose(img, [[1.0, 1.0]] * 3, metainfo=two_point_meta)
    with pytest.raises(ValueError, match="keypoints_visible"):
        draw_pose(img, [[1.0, 1.0]] * 2, [1, 1, 1], two_point_meta)


def _batch(b=5, h=32, w=24, k=17, hm=(8, 6)):
    rng = np.random.default_rng(0)
    x = {
        "images": rng.integers(0, 255, (b, h, w, 3), dtype=np.uint8),
        "transformed_keypoints": rng.uniform(2, 20, (b, k, 2)),
        "id": np.arange(100, 100 + b),
        "flip": np.arange(b) % 2 == 1,
    }
    y = {
        "heatmaps": rng.uniform(0, 1, (b, *hm, k)).astype(np.float32),
        "keypoint_weights": np.ones((b, k), np.float32),
    }
    return x, y


def test_render_batch_grid_shape_and_png(tmp_path):
    x, y = _batch()
    path = tmp_path / "sub" / "grid.png"
    grid = render_batch((x, y), "coco", path=path, cols=4, scale=2)
    tile_h, tile_w = CAPTION_HEIGHT + 64, 2 * 48
    assert grid.dtype == np.uint8
    assert grid.shape == (2 * tile_h + GAP, 4 * tile_w + 3 * GAP, 3)
    back = cv2.imread(str(path))
    np.testing.assert_array_equal(back, grid)
    # The flipped sample (index 1) gets a yellow caption, others do not.
    band = grid[:CAPTION_HEIGHT]
    yellow = (band[..., 2] > 200) & (band[..., 0] < 80)
    assert yellow[:, tile_w + GAP : 2 * tile_w + GAP].any()
    assert not yellow[:, :tile_w].any()

    grid = render_batch((x, y), None, max_samples=3, heatmap_overlay=False)
    assert grid.shape == (tile_h, 3 * 48 + 2 * GAP, 3)
    assert render_batch(x, "coco", cols=2, scale=1).shape == (
        3 * (CAPTION_HEIGHT + 32) + 2 * GAP,
        2 * 24 + GAP,
        3,
    )


def test_render_batch_accepts_tensors():
    tf = pytest.importorskip("tensorflow")
    x, y = _batch(b=2)
    batch = (
        {k: tf.constant(v) for k, v in x.items()},
        {k: tf.constant(v) for k, v in y.items()},
    )
    np.testing.assert_array_equal(
        render_batch(batch, "coco"), render_batch((x, y), "coco")
    )


def test_render_batch_decodes_heatmaps_without_keypoints():
    meta = load_metainfo("coco")
    images = np.zeros((1, 32, 24, 3), np.uint8)
    heatmaps = np.zeros((1, 8, 6, 17), np.float32)
    heatmaps[0, 2, 3, 0] = 1.0  # nose at heatmap (3, 2) -> input (12, 8)
    kpts, vis = decode_heatmaps_argmax(heatmaps, (24, 32))
    assert kpts[0, 0].tolist() == [12.0, 8.0] and vis[0].sum() == 1
    grid = render_batch(
        ({"images": images}, {"heatmaps": heatmaps}),
        meta,
        heatmap_overlay=False,
        scale=2,
    )
    crop = grid[CAPTION_HEIGHT:]
    # Input pixel 12 lands on (12 + 0.5) * 2 - 0.5 = 24.5 after upscaling.
    assert crop[16, 24].tolist() == [255, 153, 51]  # nose blue, BGR
    assert (crop.any(-1)).sum() < 200, "only the nose is drawn"


def test_heatmap_panel_peak_under_keypoint():
    images = np.zeros((1, 64, 48, 3), np.uint8)
    heatmaps = np.zeros((1, 16, 12, 1), np.float32)
    heatmaps[0, 10, 5, 0] = 1.0  # input (20, 40)
    grid = render_batch(
        ({"images": images}, {"heatmaps": heatmaps}), None, scale=2
    )
    panel = grid[CAPTION_HEIGHT:, 96:].astype(int)
    # Heatmap pixel j is input pixel 4 * j, upscaled to (4 * j + 0.5) * 2
    # - 0.5. The colour map is symmetric around the peak, and its red
    # channel is 0 on the background, so the red centroid is the peak.
    red = panel[..., 2].astype(float)
    ys, xs = np.indices(red.shape)
    assert red.sum() > 0
    assert abs((red * ys).sum() / red.sum() - 80.5) < 0.05
    assert abs((red * xs).sum() / red.sum() - 40.5) < 0.05


def _run_script(args, tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--out-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [line for line in proc.stdout.splitlines() if line.strip()]


@pytest.mark.heavy
def test_browse_script_train(shared_data, tmp_path):
    paths = _run_script(
        [
            "--data-root",
            str(shared_data / "coco"),
            "--ann-file",
            "test_coco.json",
            "--metainfo",
            "coco",
            "--num-batches",
            "1",
            "--batch-size",
            "4",
            "--input-size",
            "96",
            "128",
            "--seed",
            "0",
        ],
        tmp_path,
    )
    assert paths == [str(tmp_path / "batch_000.png")]
    img = cv2.imread(paths[0])
    tile_h, tile_w = CAPTION_HEIGHT + 256, 2 * 192
    assert img.shape == (tile_h, 4 * tile_w + 3 * GAP, 3)
    assert img.std() > 20


@pytest.mark.heavy
def test_browse_script_original(shared_data, tmp_path):
    paths = _run_script(
        [
            "--data-root",
            str(shared_data / "coco"),
            "--ann-file",
            "test_coco.json",
            "--mode",
            "original",
        ],
        tmp_path,
    )
    assert len(paths) == 4
    for path in paths:
        img = cv2.imread(path)
        assert img is not None and img.ndim == 3
