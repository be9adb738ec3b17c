# HRNet (Sun et al., CVPR 2019) HRNet-W48, COCO 256x192: MMPose's
# td-hm_hrnet-w48_8xb32-210e_coco-256x192 (75.6 AP on val2017 with its
# detections). Everything but the branch widths and the batch size is
# HRNet-W32's (this file's base). Point data_root at a COCO folder:
#   keraspose train <this file> --cfg-options data_root=/data/coco/
_base_ = ["./td-hm_hrnet-w32_8xb64-210e_coco-256x192.py"]

# MMPose trained on 8 GPUs x 32 images
train_dataloader = dict(batch_size=32)

model = dict(
    backbone=dict(
        extra=dict(
            stage2=dict(num_channels=(48, 96)),
            stage3=dict(num_channels=(48, 96, 192)),
            stage4=dict(num_channels=(48, 96, 192, 384)),
        ),
        init_cfg=dict(
            checkpoint="https://download.openmmlab.com/mmpose/"
            "pretrain_models/hrnet_w48-8ef0771d.pth",
        ),
    ),
    head=dict(in_channels=48),
)
