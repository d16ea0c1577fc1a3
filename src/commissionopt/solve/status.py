"""Our own solve statuses, so nothing outside solve/ knows HiGHS' codes."""
from __future__ import annotations


class Status:
    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"     # a plan, not proven optimal: flagged wherever it shows
    SUBOPTIMAL = "suboptimal"     # a plan, but a step of its solve failed: flagged, with its measured gap
    NO_PLAN = "no_plan"           # the time limit passed before any plan was found
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"

    HAS_PLAN = (OPTIMAL, TIME_LIMIT, SUBOPTIMAL)
    FLAGGED = (TIME_LIMIT, SUBOPTIMAL)  # a plan, not proven optimal
