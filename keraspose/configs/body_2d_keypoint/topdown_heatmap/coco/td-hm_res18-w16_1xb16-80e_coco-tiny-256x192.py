# A small SimpleBaseline (ResNet-18 at a quarter of the width, 256x192
# input) that trains on a COCO-style folder on a CPU in minutes. The default
# data_root is the 4-image sample beside a keraspose checkout; with it the
# model overfits the 14 people (COCO AP >= 0.9 on the same images with
# ground-truth boxes), which checks the whole loop. Point it at your data:
#   keraspose train <this file> --cfg-options data_root=/data/my_coco/
_base_ = ["../../../_base_/default_runtime.py"]

randomness = dict(seed=0)
train_cfg = dict(max_epochs=80, val_interval=20)

optim_wrapper = dict(optimizer=dict(type="Adam", lr=2e-3))
param_scheduler = [
    dict(type="LinearLR", begin=0, end=20, start_factor=0.01, by_epoch=False),
    dict(
        type="CosineAnnealingLR",
        begin=0,
        end=80,
        T_max=80,
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
    type="MSRAHeatmap",
    input_size=(192, 256),
    heatmap_size=(48, 64),
    sigma=2,
    unbiased=True,
)

model = dict(
    type="TopdownPoseEstimator",
    data_preprocessor=dict(
        type="PoseDataPreprocessor",
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
    ),
    backbone=dict(type="ResNet", depth=18, stem_channels=16, base_channels=16),
    head=dict(
        type="HeatmapHead",
        in_channels=128,
        out_channels=17,
        deconv_out_channels=(64, 64, 64),
        loss=dict(type="KeypointMSELoss", use_target_weight=True),
        decoder=codec,
    ),
    test_cfg=dict(flip_test=False),
)

dataset_type = "CocoDataset"
data_mode = "topdown"
data_root = "../shared/data/coco/"

# no augmentation: the point is to fit these people exactly
train_pipeline = [
    dict(type="LoadImage"),
    dict(type="GetBBoxCenterScale"),
    dict(type="TopdownAffine", input_size=codec["input_size"]),
    dict(type="GenerateTarget", encoder=codec),
    dict(type="PackPoseInputs"),
]
val_pipeline = [
    dict(type="LoadImage"),
    dict(type="GetBBoxCenterScale"),
    dict(type="TopdownAffine", input_size=codec["input_size"]),
    dict(type="PackPoseInputs"),
]

train_dataloader = dict(
    batch_size=16,
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
    batch_size=16,
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

val_evaluator = dict(type="CocoMetric", ann_file=data_root + "test_coco.json")
test_evaluator = val_evaluator
