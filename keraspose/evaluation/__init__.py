"""Evaluation: metrics on decoded predictions."""

from keraspose.evaluation import functional
from keraspose.evaluation.evaluator import Evaluator
from keraspose.evaluation.evaluator import evaluate_model
from keraspose.evaluation.metrics import AUC
from keraspose.evaluation.metrics import EPE
from keraspose.evaluation.metrics import MPJPE
from keraspose.evaluation.metrics import NME
from keraspose.evaluation.metrics import CocoMetric
from keraspose.evaluation.metrics import JhmdbPCKAccuracy
from keraspose.evaluation.metrics import MpiiPCKAccuracy
from keraspose.evaluation.metrics import PCKAccuracy

__all__ = [
    "AUC",
    "CocoMetric",
    "EPE",
    "Evaluator",
    "JhmdbPCKAccuracy",
    "MPJPE",
    "MpiiPCKAccuracy",
    "NME",
    "PCKAccuracy",
    "evaluate_model",
    "functional",
]
