# RTMPose-s (Jiang et al., 2023), COCO 256x192: MMPose's
# rtmpose-s_8xb256-420e_coco-256x192 (71.6 AP on val2017 with its
# detections, 5.47M parameters). Everything but the model width and depth
# is RTMPose-m's (this file's base). Point data_root at a COCO folder:
#   keraspose train <this file> --cfg-options data_root=/data/coco/
_base_ = ["./rtmpose-m_8xb256-420e_coco-256x192.py"]

# no weight decay for the small model (as MMPose)
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))

model = dict(
    backbone=dict(
        deepen_factor=0.33,
        widen_factor=0.5,
        init_cfg=dict(
            checkpoint="https://download.openmmlab.com/mmpose/v1/projects/"
            "rtmposev1/cspnext-s_udp-aic-coco_210e-256x192-92f5a029_20230130.pth",
        ),
    ),
    head=dict(in_channels=512),
)
