from keraspose.models.heads.regression_heads.dsnt_head import DSNTHead
from keraspose.models.heads.regression_heads.integral_regression_head import (
    IntegralRegressionHead,
)
from keraspose.models.heads.regression_heads.regression_head import (
    RegressionHead,
)
from keraspose.models.heads.regression_heads.rle_head import RLEHead
from keraspose.models.heads.regression_heads.temporal_regression_head import (
    TemporalRegressionHead,
)
from keraspose.models.heads.regression_heads.trajectory_regression_head import (
    TrajectoryRegressionHead,
)

__all__ = ["DSNTHead", "IntegralRegressionHead", "RLEHead", "RegressionHead"]
__all__ += ["TemporalRegressionHead", "TrajectoryRegressionHead"]
