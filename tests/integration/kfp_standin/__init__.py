"""Kubeflow Pipelines API stand-in (v2beta1 REST), see README.md."""
from .server import KfpStandIn, ir_problem

__all__ = ["KfpStandIn", "ir_problem"]
