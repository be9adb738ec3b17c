"""The preset table: MMPose 1.3.2 model-zoo entries that keraspose ships.

Each preset is named exactly as MMPose's config (and model-zoo entry) and
records:

* ``config``: the shipped keraspose config, relative to
  ``keraspose/configs``;
* ``weights``: the URL of MMPose's released checkpoint for that config,
  as listed in the model-zoo metafiles (``configs/**/*.yml``) of MMPose
  1.3.2;
* ``coco_ap``: the COCO val2017 AP MMPose reports there (top-down: person
  detections from its detector, flip test; bottom-up: whole images; the
  CrowdPose preset gives CrowdPose test AP);
* ``description``: one line about the model.

The URLs and AP values are data copied from MMPose's metafiles.
"""

_DL = "https://download.openmmlab.com/mmpose"
_HM = f"{_DL}/v1/body_2d_keypoint/topdown_heatmap/coco"
_REG = f"{_DL}/v1/body_2d_keypoint/topdown_regression/coco"
_RTM = f"{_DL}/v1/projects/rtmposev1"
_CFG_HM = "body_2d_keypoint/topdown_heatmap/coco"
_CFG_REG = "body_2d_keypoint/topdown_regression/coco"
_CFG_RTM = "body_2d_keypoint/rtmpose/coco"


def _entry(config, weights, coco_ap, description):
    return dict(
        config=config,
        weights=weights,
        coco_ap=coco_ap,
        description=description,
    )


PRESETS = {
    # --- heatmap: SimpleBaseline, MobileNetV2, HRNet, Lite-HRNet, ViTPose --
    "td-hm_res50_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_res50_8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_res50_8xb64-210e_coco-256x192-04af38ce_20220923.pth",
        0.718,
        "SimpleBaseline: ResNet-50 + 3 deconvolutions, heatmaps, 256x192.",
    ),
    "td-hm_mobilenetv2_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_mobilenetv2_8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_mobilenetv2_8xb64-210e_coco-256x192-55a04c35_20221016"
        ".pth",
        0.648,
        "MobileNetV2 + SimpleBaseline deconvolution head, heatmaps, 256x192.",
    ),
    "td-hm_hrnet-w32_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40_20220909.pth",
        0.746,
        "HRNet-W32, heatmaps, 256x192.",
    ),
    "td-hm_hrnet-w32_8xb64-210e_coco-384x288": _entry(
        f"{_CFG_HM}/td-hm_hrnet-w32_8xb64-210e_coco-384x288.py",
        f"{_HM}/td-hm_hrnet-w32_8xb64-210e_coco-384x288-ca5956af_20220909.pth",
        0.760,
        "HRNet-W32, heatmaps, 384x288.",
    ),
    "td-hm_hrnet-w32_dark-8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_hrnet-w32_dark-8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_hrnet-w32_dark-8xb64-210e_coco-256x192-0e00bf12_20220914"
        ".pth",
        0.757,
        "HRNet-W32 with DARK heatmap encoding / decoding, 256x192.",
    ),
    "td-hm_hrnet-w32_udp-8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_hrnet-w32_udp-8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_hrnet-w32_udp-8xb64-210e_coco-256x192-73ede547_20220914"
        ".pth",
        0.762,
        "HRNet-W32 with UDP (unbiased data processing) heatmaps, 256x192.",
    ),
    "td-hm_hrnet-w48_8xb32-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_hrnet-w48_8xb32-210e_coco-256x192.py",
        f"{_HM}/td-hm_hrnet-w48_8xb32-210e_coco-256x192-0e67c616_20220913.pth",
        0.756,
        "HRNet-W48, heatmaps, 256x192.",
    ),
    "td-hm_hrnet-w48_8xb32-210e_coco-384x288": _entry(
        f"{_CFG_HM}/td-hm_hrnet-w48_8xb32-210e_coco-384x288.py",
        f"{_HM}/td-hm_hrnet-w48_8xb32-210e_coco-384x288-c161b7de_20220915.pth",
        0.767,
        "HRNet-W48, heatmaps, 384x288.",
    ),
    "td-hm_litehrnet-18_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_litehrnet-18_8xb64-210e_coco-256x192.py",
        f"{_DL}/top_down/litehrnet/litehrnet18_coco_256x192-6bace359_20211230"
        ".pth",
        0.642,
        "Lite-HRNet-18 (1.1M parameters), heatmaps, 256x192.",
    ),
    "td-hm_litehrnet-30_8xb32-210e_coco-384x288": _entry(
        f"{_CFG_HM}/td-hm_litehrnet-30_8xb32-210e_coco-384x288.py",
        f"{_DL}/top_down/litehrnet/litehrnet30_coco_384x288-a3aef5c4_20210626"
        ".pth",
        0.700,
        "Lite-HRNet-30 (1.8M parameters), heatmaps, 384x288.",
    ),
    "td-hm_ViTPose-small_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_ViTPose-small_8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_ViTPose-small_8xb64-210e_coco-256x192-62d7a712_20230314"
        ".pth",
        0.739,
        "ViTPose-S: plain ViT-Small + classic deconvolution head, 256x192.",
    ),
    "td-hm_ViTPose-small-simple_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_ViTPose-small-simple_8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_ViTPose-small-simple_8xb64-210e_coco-256x192-4c101a76"
        "_20230314.pth",
        0.736,
        "ViTPose-S: plain ViT-Small + simple upsampling head, 256x192.",
    ),
    "td-hm_ViTPose-base_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_ViTPose-base_8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_ViTPose-base_8xb64-210e_coco-256x192-216eae50_20230314"
        ".pth",
        0.757,
        "ViTPose-B: plain ViT-Base + classic deconvolution head, 256x192.",
    ),
    "td-hm_ViTPose-base-simple_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_HM}/td-hm_ViTPose-base-simple_8xb64-210e_coco-256x192.py",
        f"{_HM}/td-hm_ViTPose-base-simple_8xb64-210e_coco-256x192-0b8234ea"
        "_20230407.pth",
        0.756,
        "ViTPose-B: plain ViT-Base + simple upsampling head, 256x192.",
    ),
    # --- SimCC / RTMPose ---------------------------------------------------
    "simcc_res50_8xb64-210e_coco-256x192": _entry(
        "body_2d_keypoint/simcc/coco/simcc_res50_8xb64-210e_coco-256x192.py",
        f"{_DL}/v1/body_2d_keypoint/simcc/coco/"
        "simcc_res50_8xb64-210e_coco-256x192-8e0f5b59_20220919.pth",
        0.721,
        "SimCC: ResNet-50 + 1-D coordinate classification, 256x192.",
    ),
    "rtmpose-t_8xb256-420e_coco-256x192": _entry(
        f"{_CFG_RTM}/rtmpose-t_8xb256-420e_coco-256x192.py",
        f"{_RTM}/rtmpose-tiny_simcc-coco_pt-aic-coco_420e-256x192-e613ba3f"
        "_20230127.pth",
        0.682,
        "RTMPose-t: CSPNeXt-tiny + RTMCC SimCC head, 256x192.",
    ),
    "rtmpose-s_8xb256-420e_coco-256x192": _entry(
        f"{_CFG_RTM}/rtmpose-s_8xb256-420e_coco-256x192.py",
        f"{_RTM}/rtmpose-s_simcc-coco_pt-aic-coco_420e-256x192-8edcf0d7"
        "_20230127.pth",
        0.716,
        "RTMPose-s: CSPNeXt-s + RTMCC SimCC head, 256x192.",
    ),
    "rtmpose-m_8xb256-420e_coco-256x192": _entry(
        f"{_CFG_RTM}/rtmpose-m_8xb256-420e_coco-256x192.py",
        f"{_RTM}/rtmpose-m_simcc-coco_pt-aic-coco_420e-256x192-d8dd5ca4"
        "_20230127.pth",
        0.746,
        "RTMPose-m: CSPNeXt-m + RTMCC SimCC head, 256x192.",
    ),
    "rtmpose-l_8xb256-420e_coco-256x192": _entry(
        f"{_CFG_RTM}/rtmpose-l_8xb256-420e_coco-256x192.py",
        f"{_RTM}/rtmpose-l_simcc-coco_pt-aic-coco_420e-256x192-1352a4d2"
        "_20230127.pth",
        0.758,
        "RTMPose-l: CSPNeXt-l + RTMCC SimCC head, 256x192.",
    ),
    # --- regression --------------------------------------------------------
    "td-reg_res50_8xb64-210e_coco-256x192": _entry(
        f"{_CFG_REG}/td-reg_res50_8xb64-210e_coco-256x192.py",
        f"{_REG}/td-reg_res50_8xb64-210e_coco-256x192-72ef04f3_20220913.pth",
        0.541,
        "DeepPose: ResNet-50 + fully connected coordinate regression.",
    ),
    "td-reg_res50_rle-8xb64-210e_coco-256x192": _entry(
        f"{_CFG_REG}/td-reg_res50_rle-8xb64-210e_coco-256x192.py",
        f"{_REG}/td-reg_res50_rle-8xb64-210e_coco-256x192-d37efd64_20220913"
        ".pth",
        0.706,
        "ResNet-50 regression with RLE (residual log-likelihood) loss.",
    ),
    "ipr_res50_dsnt-8xb64-210e_coco-256x256": _entry(
        "body_2d_keypoint/integral_regression/coco/"
        "ipr_res50_dsnt-8xb64-210e_coco-256x256.py",
        f"{_DL}/v1/body_2d_keypoint/integral_regression/coco/"
        "ipr_res50_dsnt-8xb64-210e_coco-256x256-441eedc0_20220913.pth",
        0.674,
        "Integral regression (DSNT): ResNet-50 soft-argmax heatmaps, 256x256.",
    ),
    # --- bottom-up ---------------------------------------------------------
    "ae_hrnet-w32_8xb24-300e_coco-512x512": _entry(
        "body_2d_keypoint/associative_embedding/coco/"
        "ae_hrnet-w32_8xb24-300e_coco-512x512.py",
        f"{_DL}/bottom_up/hrnet_w32_coco_512x512-bcb8c247_20200816.pth",
        0.656,
        "Associative Embedding on HRNet-W32, bottom-up, 512x512 (an MMPose "
        "0.x checkpoint).",
    ),
    "dekr_hrnet-w32_8xb10-140e_coco-512x512": _entry(
        "body_2d_keypoint/dekr/coco/dekr_hrnet-w32_8xb10-140e_coco-512x512.py",
        f"{_DL}/v1/body_2d_keypoint/dekr/coco/"
        "dekr_hrnet-w32_8xb10-140e_coco-512x512_ac7c17bf-20221228.pth",
        0.686,
        "DEKR (disentangled keypoint regression) on HRNet-W32, bottom-up, "
        "512x512.",
    ),
    "dekr_hrnet-w32_8xb10-300e_crowdpose-512x512": _entry(
        "body_2d_keypoint/dekr/crowdpose/"
        "dekr_hrnet-w32_8xb10-300e_crowdpose-512x512.py",
        f"{_DL}/v1/body_2d_keypoint/dekr/crowdpose/"
        "dekr_hrnet-w32_8xb10-300e_crowdpose-512x512_147bae97-20221228.pth",
        0.663,
        "DEKR on HRNet-W32 for CrowdPose (14 keypoints; CrowdPose test AP), "
        "bottom-up, 512x512.",
    ),
}
