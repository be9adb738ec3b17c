"""SPR codec configurations shared by the codec and graph-encoder tests.

The same cases as ``tools/make_mmpose_spr_fixtures.py`` (which wrote
``tests/fixtures/mmpose_spr.npz``).
"""

import keraspose

INPUT = (128, 96)
HEATMAP = (32, 24)
K = 5
ENC_CASES = {
    "kpt_center": dict(sigma=(2, 1), generate_keypoint_heatmaps=True),
    "bbox_center": dict(
        sigma=(2.5, 1.5),
        generate_keypoint_heatmaps=True,
        root_type="bbox_center",
        minimal_diagonal_length=32**0.5,
    ),
    "root_only": dict(sigma=3),
    "auto_sigma": dict(),
    "bbox_bg": dict(sigma=1.7, root_type="bbox_center", background_weight=0.25),
}
DEC_CASES = {
    "default": dict(sigma=(2, 1), generate_keypoint_heatmaps=True),
    "top4_k3": dict(
        sigma=(2, 1),
        generate_keypoint_heatmaps=True,
        decode_max_instances=4,
        decode_nms_kernel=3,
    ),
    "thr_k7": dict(
        sigma=(2, 1),
        generate_keypoint_heatmaps=True,
        decode_thr=0.3,
        decode_nms_kernel=7,
    ),
    "root_only": dict(sigma=2),
}


def spr_codec(**kwargs):
    """An SPR codec of the test sizes with ``kwargs``."""
    return keraspose.build(
        dict(type="SPR", input_size=INPUT, heatmap_size=HEATMAP, **kwargs)
    )
