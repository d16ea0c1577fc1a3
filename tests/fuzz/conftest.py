"""The fuzz campaign's figures at the end of the run: cases, outcomes by class, time."""
from __future__ import annotations

import sys
from collections import Counter, defaultdict


def pytest_terminal_summary(terminalreporter):
    module = sys.modules.get("test_fuzz")
    outcomes = getattr(module, "OUTCOMES", None)
    if not outcomes:
        return
    by_class: dict = defaultdict(Counter)
    seconds: Counter = Counter()
    for cls, code, took in outcomes:
        by_class[cls]["hang" if code is None else f"exit {code}"] += 1
        seconds[cls] += took
    tr = terminalreporter
    tr.section("fuzz campaign")
    total = sum(seconds.values())
    tr.write_line(f"{len(outcomes)} cases in {len(by_class)} classes, {total:.0f} s of runs "
                  f"({total / len(outcomes):.2f} s a case)")
    for cls in sorted(by_class):
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(by_class[cls].items()))
        tr.write_line(f"  {cls:<28} {sum(by_class[cls].values()):>5}  {shown}  ({seconds[cls]:.0f} s)")
