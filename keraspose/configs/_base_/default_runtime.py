# Runtime defaults shared by the configs (MMPose's default_runtime.py).
# keraspose reads default_hooks.checkpoint (interval, save_best, rule,
# max_keep_ckpts), train_cfg and randomness; the other entries are kept so
# that MMPose configs inheriting them load unchanged.
default_scope = "mmpose"

default_hooks = dict(
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=50),
    param_scheduler=dict(type="ParamSchedulerHook"),
    checkpoint=dict(type="CheckpointHook", interval=10),
    sampler_seed=dict(type="DistSamplerSeedHook"),
    visualization=dict(type="PoseVisualizationHook", enable=False),
)
custom_hooks = []
log_level = "INFO"
load_from = None
resume = False
backend_args = dict(backend="local")
train_cfg = dict(by_epoch=True)
val_cfg = dict()
test_cfg = dict()
