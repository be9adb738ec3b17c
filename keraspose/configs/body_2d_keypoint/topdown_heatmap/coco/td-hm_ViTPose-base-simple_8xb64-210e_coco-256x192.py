# ViTPose-B with the simple decoder (Xu et al., NeurIPS 2022), COCO
# 256x192: MMPose's td-hm_ViTPose-base-simple_8xb64-210e_coco-256x192
# (75.6 AP on val2017 with its detections, 85.91M parameters). ViTPose-B
# (this file's base) with the FeatureMapProcessor neck (ReLU, 4x bilinear
# upsampling) and a single 3x3 conv head. Point data_root at a COCO folder:
#   keraspose train <this file> --cfg-options data_root=/data/coco/
_base_ = ["./td-hm_ViTPose-base_8xb64-210e_coco-256x192.py"]

model = dict(
    neck=dict(type="FeatureMapProcessor", scale_factor=4.0, apply_relu=True),
    head=dict(
        deconv_out_channels=[],
        deconv_kernel_sizes=[],
        final_layer=dict(kernel_size=3, padding=1),
    ),
)
