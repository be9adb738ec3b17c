"""MMPose's ``BottomupResize`` at test time, for ``inference_bottomup``.

Run from the repository root with the MMPose reference environment::

    $REF/bin/python tools/make_mmpose_bottomup_resize_fixtures.py \\
        ../shared/reference ../shared/data

The image is ``coco/000000000785.jpg`` shrunk by ``cv2.resize`` (INTER_AREA)
to 61x47 (w x h) so the fixture stays small. Keys: ``image`` (47, 61, 3)
uint8 BGR, ``cases`` (names), and per case ``<c>``: ``<c>_kwargs`` ()
unicode json of the ``BottomupResize`` arguments, ``<c>_img<i>`` the
warped pyramid levels (uint8), ``<c>_input_center`` / ``<c>_input_scale``
(2,) float32 and ``<c>_input_size`` (2,) int64 (w, h).
"""

import json
import sys
from pathlib import Path

import cv2
import numpy as np

REF = sys.argv[1] if len(sys.argv) > 1 else "../shared/reference"
DATA = Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/data").resolve()
sys.path.insert(0, REF)
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

from mmpose.datasets.transforms import BottomupResize  # noqa: E402

OUT_PATH = (
    Path(__file__).resolve().parents[1]
    / "tests/fixtures/mmpose_bottomup_resize.npz"
)
image = cv2.imread(str(DATA / "coco/000000000785.jpg"))
image = cv2.resize(image, (61, 47), interpolation=cv2.INTER_AREA)
CASES = {
    "expand16": dict(input_size=(32, 32), size_factor=16, resize_mode="expand"),
    "expand32": dict(input_size=(48, 32), size_factor=32, resize_mode="expand"),
    "fit": dict(input_size=(32, 48), size_factor=16, resize_mode="fit"),
    "udp": dict(
        input_size=(32, 32), size_factor=16, resize_mode="expand", use_udp=True
    ),
    "multiscale": dict(
        input_size=(32, 32),
        size_factor=16,
        resize_mode="expand",
        aug_scales=[1.5, 0.5],
    ),
}
out = {"image": image, "cases": np.array(list(CASES))}
for case, kwargs in CASES.items():
    results = BottomupResize(**kwargs).transform(
        dict(img=image.copy(), ori_shape=image.shape[:2])
    )
    imgs = (
        results["img"] if isinstance(results["img"], list) else [results["img"]]
    )
    out[f"{case}_kwargs"] = np.array(json.dumps(kwargs))
    for i, img in enumerate(imgs):
        out[f"{case}_img{i}"] = img
    out[f"{case}_input_center"] = results["input_center"]
    out[f"{case}_input_scale"] = results["input_scale"]
    out[f"{case}_input_size"] = np.array(results["input_size"], np.int64)
    print(case, [i.shape for i in imgs], results["input_scale"])
np.savez_compressed(OUT_PATH, **out)
print(OUT_PATH, OUT_PATH.stat().st_size, "bytes")
