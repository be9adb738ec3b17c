from keraspose.models.data_preprocessors.data_preprocessor import (
    PoseDataPreprocessor,
)

__all__ = ["PoseDataPreprocessor"]
