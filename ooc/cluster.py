"""The former name of :mod:`ooc.runtime`, kept so that ``from ooc.cluster import
scheduler_context`` (documented in ooc 0.1) keeps working."""
from .runtime import (ClusterError, Session, check_reachable, cluster_report, make_security,
                      scheduler_context)

__all__ = ["ClusterError", "Session", "check_reachable", "cluster_report", "make_security",
           "scheduler_context"]
