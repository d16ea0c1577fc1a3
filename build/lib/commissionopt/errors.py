"""Errors the library raises; the CLI turns each into a message and an exit code."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in an input, said where the analyst will look."""
    file: str
    row: int | str | None  # CSV line / Excel row as the analyst sees it, or a key
    column: str | None
    value: object
    expected: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = self.file
        if self.row not in (None, ""):
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        shown = "" if self.value is None else f": value {self.value!r}"
        return f"{self.severity}: {where}{shown}: {self.expected}"


class CommissionoptError(Exception):
    """Base of every error the library raises on purpose."""
    exit_code = 1


class InputError(CommissionoptError):
    """Bad input: carries every problem found, not only the first."""
    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("input", None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} problem(s) in the input"
        super().__init__(head + "\n" + "\n".join(str(p) for p in errors))


class InfeasibleError(CommissionoptError):
    """No plan meets every hard constraint; `conflicts` says which, in the analyst's words."""
    exit_code = 3

    def __init__(self, message: str, conflicts: list[str] | None = None):
        self.conflicts = conflicts or []
        super().__init__(message + ("\n" + "\n".join(f"- {c}" for c in self.conflicts) if self.conflicts else ""))


class NoPlanError(CommissionoptError):
    """The time limit passed before any plan was found."""
    exit_code = 4


class PlanCheckError(CommissionoptError):
    """The solver returned a plan that the independent check rejects."""
    exit_code = 5

    def __init__(self, violations: list[str]):
        self.violations = violations
        super().__init__("the plan failed the independent check:\n" + "\n".join(f"- {v}" for v in violations[:50]))
