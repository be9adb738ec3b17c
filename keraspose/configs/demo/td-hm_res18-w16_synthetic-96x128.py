# The embedded default of `keraspose demo`: a small SimpleBaseline trained on
# the procedural SyntheticPoseDataset, written to a COCO-style folder first
# (so the real pipeline, augmentation and COCO evaluation all run). The demo
# sets data_root to that folder.
_base_ = ["../_base_/default_runtime.py"]

randomness = dict(seed=0)
train_cfg = dict(max_epochs=30, val_interval=10)

optim_wrapper = dict(optimizer=dict(type="Adam", lr=4e-3))
param_scheduler = [
    dict(type="LinearLR", begin=0, end=30, start_factor=0.01, by_epoch=False),
    dict(
        type="CosineAnnealingLR",
        begin=0,
        end=30,
        T_max=30,
        eta_min=4e-5,
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
    type="MSRAHeatmap", input_size=(96, 128), heatmap_size=(24, 32), sigma=2
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
        out_channels=8,
        deconv_out_channels=(64, 64, 64),
        loss=dict(type="KeypointMSELoss", use_target_weight=True),
        decoder=codec,
    ),
    test_cfg=dict(flip_test=True, flip_mode="heatmap", shift_heatmap=True),
)

dataset_type = "CocoDataset"
data_root = "work_dirs/demo/data/"
metainfo = dict(from_file=data_root + "metainfo.json")

train_pipeline = [
    dict(type="LoadImage"),
    dict(type="GetBBoxCenterScale"),
    dict(type="RandomFlip", direction="horizontal"),
    dict(
        type="RandomBBoxTransform",
        shift_factor=0.1,
        scale_factor=(0.8, 1.2),
        rotate_factor=15,
    ),
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
    batch_size=32,
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file="train.json",
        data_prefix=dict(img=""),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=64,
    sampler=dict(type="DefaultSampler", shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file="val.json",
        data_prefix=dict(img=""),
        test_mode=True,
        pipeline=val_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = [
    dict(type="CocoMetric", ann_file=data_root + "val.json"),
    dict(type="PCKAccuracy", thr=0.05),
]
test_evaluator = val_evaluator
