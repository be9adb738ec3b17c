from keraspose.models.heads.regression_heads.dsnt_head import DSNTHead
from keraspose.models.heads.regression_heads.integral_regression_head import (
    IntegralRegressionHead,
)
from keraspose.models.heads.regression_heads.regression_head import (
    RegressionHead,
)
from keraspose.models.heads.regression_heads.rle_head import RLEHead

__all__ = ["DSNTHead", "IntegralRegressionHead", "RLEHead", "RegressionHead"]
