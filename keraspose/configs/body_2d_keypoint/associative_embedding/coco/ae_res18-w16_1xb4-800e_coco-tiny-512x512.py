# A small Associative Embedding model (Newell et al., NeurIPS 2017): ResNet-18
# at a quarter of the width with a light deconvolution head, bottom-up on
# 512x512 inputs (heatmaps 128x128), for a COCO-style folder on a CPU. The
# default data_root is the 4-image sample beside a keraspose checkout; the
# point is to overfit its 12 people (bottom-up: whole images in, grouped
# instances out, no ground-truth boxes), which checks the whole loop:
#   keraspose train <this file> --cfg-options data_root=/data/my_coco/
# Train and validation see the images at the same scale: the train warp fits
# the whole image into the input (BottomupRandomAffine scale_type="long", no
# random shift/scale/rotation) and validation uses BottomupResize "fit" (the
# AE config's "expand" scales the short side to 512, 1.5x larger than
# training here). The input is square because MMPose's RandomFlip reads
# input_size (w, h) as (h, w) (kept), which mis-flips non-square inputs.
# RandomFlip stays as augmentation.
# Decoding happens at heatmap resolution without flip test (MMPose's AE
# config restores 512x512 maps and flips; for this small model that costs AP):
# decode_center_shift=0 (MMPose's 0.5 is meant for input-size maps) and
# decode_keypoint_thr=0.2 (fewer stray keypoints joined to people).
_base_ = ["../../../_base_/default_runtime.py"]

randomness = dict(seed=0)
train_cfg = dict(max_epochs=800, val_interval=400)

optim_wrapper = dict(optimizer=dict(type="Adam", lr=2e-3))
param_scheduler = [
    dict(type="LinearLR", begin=0, end=20, start_factor=0.01, by_epoch=False),
    dict(
        type="CosineAnnealingLR",
        begin=0,
        end=800,
        T_max=800,
        eta_min=2e-5,
        by_epoch=True,
        convert_to_iter_based=True,
    ),
]

default_hooks = dict(
    checkpoint=dict(
        interval=0, save_best="coco/AP", rule="greater", max_keep_ckpts=1
    )
)

codec = dict(
    type="AssociativeEmbedding",
    input_size=(512, 512),
    heatmap_size=(128, 128),
    sigma=2,
    decode_topk=30,
    decode_center_shift=0.0,
    decode_keypoint_thr=0.2,
    decode_keypoint_order=[
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        11,
        12,
        7,
        8,
        9,
        10,
        13,
        14,
        15,
        16,
    ],
    decode_max_instances=30,
)

model = dict(
    type="BottomupPoseEstimator",
    data_preprocessor=dict(
        type="PoseDataPreprocessor",
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
    ),
    backbone=dict(type="ResNet", depth=18, stem_channels=16, base_channels=16),
    head=dict(
        type="AssociativeEmbeddingHead",
        in_channels=128,
        num_keypoints=17,
        tag_dim=1,
        tag_per_keypoint=True,
        deconv_out_channels=(64, 32, 32),
        keypoint_loss=dict(type="KeypointMSELoss", use_target_weight=True),
        tag_loss=dict(type="AssociativeEmbeddingLoss", loss_weight=0.001),
        decoder=codec,
    ),
    test_cfg=dict(
        multiscale_test=False,
        flip_test=False,
        shift_heatmap=False,
        restore_heatmap_size=False,
        align_corners=False,
    ),
)

dataset_type = "CocoDataset"
data_mode = "bottomup"
data_root = "../shared/data/coco/"

# no scale/rotation/shift augmentation: the point is to fit these people
train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="BottomupRandomAffine",
        input_size=codec["input_size"],
        shift_factor=0.0,
        scale_factor=(1.0, 1.0),
        scale_type="long",
        rotate_factor=0.0,
    ),
    dict(type="RandomFlip", direction="horizontal"),
    dict(type="GenerateTarget", encoder=codec),
    dict(type="BottomupGetHeatmapMask"),
    dict(type="PackPoseInputs"),
]
val_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="BottomupResize",
        input_size=codec["input_size"],
        size_factor=64,
        resize_mode="fit",
    ),
    dict(
        type="PackPoseInputs",
        meta_keys=(
            "id",
            "img_id",
            "img_path",
            "crowd_index",
            "ori_shape",
            "img_shape",
            "input_size",
            "input_center",
            "input_scale",
            "flip",
            "flip_direction",
            "flip_indices",
            "raw_ann_info",
            "skeleton_links",
        ),
    ),
]

train_dataloader = dict(
    batch_size=4,
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file="test_coco.json",
        data_prefix=dict(img=""),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    drop_last=False,
    sampler=dict(type="DefaultSampler", shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file="test_coco.json",
        data_prefix=dict(img=""),
        test_mode=True,
        pipeline=val_pipeline,
    ),
)
test_dataloader = val_dataloader

val_evaluator = dict(
    type="CocoMetric",
    ann_file=data_root + "test_coco.json",
    nms_mode="none",
    score_mode="bbox",
)
test_evaluator = val_evaluator
