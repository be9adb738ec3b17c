# ViTPose-B (Xu et al., NeurIPS 2022), COCO 256x192: MMPose's
# td-hm_ViTPose-base_8xb64-210e_coco-256x192 (75.7 AP on val2017 with its
# detections, 89.99M parameters). mmpretrain's "base" ViT (768 wide, 12
# layers), stochastic depth 0.3, layer-wise lr decay 0.75; everything else
# is ViTPose-S's (this file's base). Point data_root at a COCO folder:
#   keraspose train <this file> --cfg-options data_root=/data/coco/
_base_ = ["./td-hm_ViTPose-small_8xb64-210e_coco-256x192.py"]

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.75))

model = dict(
    backbone=dict(
        arch="base",
        drop_path_rate=0.3,
        init_cfg=dict(
            checkpoint="https://download.openmmlab.com/mmpose/"
            "v1/pretrained_models/mae_pretrain_vit_base_20230913.pth",
        ),
    ),
    head=dict(in_channels=768),
)
