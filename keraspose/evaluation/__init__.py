"""Evaluation: metrics on decoded predictions."""

from keraspose.evaluation import functional

__all__ = ["functional"]
