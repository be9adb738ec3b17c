# RTMPose-l (Jiang et al., 2023), COCO 256x192: MMPose's
# rtmpose-l_8xb256-420e_coco-256x192 (75.8 AP on val2017 with its
# detections, 27.66M parameters). Everything but the model width and depth
# is RTMPose-m's (this file's base). Point data_root at a COCO folder:
#   keraspose train <this file> --cfg-options data_root=/data/coco/
_base_ = ["./rtmpose-m_8xb256-420e_coco-256x192.py"]

model = dict(
    backbone=dict(
        deepen_factor=1.0,
        widen_factor=1.0,
        init_cfg=dict(
            checkpoint="https://download.openmmlab.com/mmpose/v1/projects/"
            "rtmposev1/cspnext-l_udp-aic-coco_210e-256x192-273b7631_20230130.pth",
        ),
    ),
    head=dict(in_channels=1024),
)
