"""Why no plan exists: the conflicting constraints of an infeasible run, in the analyst's words.

words.py says constraints, bounds and conflict members; search.py finds the first year with no
plan, its IIS, the amounts and the elastic fallback; report.py turns what was found into lines
(its docstring describes the method).
"""
from .report import explain, explain_infeasible
from .search import Explanation
from .words import Member, describe, describe_bound, family_of, money, num

__all__ = ["Explanation", "Member", "describe", "describe_bound", "explain", "explain_infeasible", "family_of",
           "money", "num"]
