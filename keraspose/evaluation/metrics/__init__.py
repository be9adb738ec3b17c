"""Metric objects: ``process(predictions, inputs)`` per batch, then evaluate."""

from keraspose.evaluation.metrics.auc import AUC
from keraspose.evaluation.metrics.base_metric import BaseMetric
from keraspose.evaluation.metrics.coco_metric import CocoMetric
from keraspose.evaluation.metrics.epe import EPE
from keraspose.evaluation.metrics.jhmdb_pck_accuracy import JhmdbPCKAccuracy
from keraspose.evaluation.metrics.mpii_pck_accuracy import MpiiPCKAccuracy
from keraspose.evaluation.metrics.mpjpe import MPJPE
from keraspose.evaluation.metrics.nme import NME
from keraspose.evaluation.metrics.pck_accuracy import PCKAccuracy

__all__ = [
    "AUC",
    "CocoMetric",
    "EPE",
    "JhmdbPCKAccuracy",
    "MPJPE",
    "MpiiPCKAccuracy",
    "NME",
    "PCKAccuracy",
    "BaseMetric",
]
