from keraspose.evaluation.functional.keypoint_eval import keypoint_pck_accuracy

__all__ = ["keypoint_pck_accuracy"]
