# ViTPose-S with the simple decoder (Xu et al., NeurIPS 2022), COCO 256x192:
# MMPose's td-hm_ViTPose-small-simple_8xb64-210e_coco-256x192 (73.6 AP on
# val2017 with its detections, 21.72M parameters). The simple decoder: the
# feature map is upsampled 4x (bilinear) after a ReLU (FeatureMapProcessor
# neck), then one 3x3 conv predicts the heatmaps. Everything else is
# ViTPose-S's (this file's base). Point data_root at a COCO folder:
#   keraspose train <this file> --cfg-options data_root=/data/coco/
_base_ = ["./td-hm_ViTPose-small_8xb64-210e_coco-256x192.py"]

model = dict(
    neck=dict(type="FeatureMapProcessor", scale_factor=4.0, apply_relu=True),
    head=dict(
        deconv_out_channels=[],
        deconv_kernel_sizes=[],
        final_layer=dict(kernel_size=3, padding=1),
    ),
)
