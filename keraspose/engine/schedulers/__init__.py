"""Learning-rate schedules built from MMEngine ``param_scheduler`` lists."""

from keraspose.engine.schedulers.param_scheduler_schedule import (
    ParamSchedulerSchedule,
)

__all__ = ["ParamSchedulerSchedule"]
