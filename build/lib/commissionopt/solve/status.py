"""Our own solve statuses, so nothing outside solve/ knows HiGHS' codes."""
from __future__ import annotations


class Status:
    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"     # a plan, not proven optimal: flagged wherever it shows
    NO_PLAN = "no_plan"           # the time limit passed before any plan was found
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"

    HAS_PLAN = (OPTIMAL, TIME_LIMIT)
