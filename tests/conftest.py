"""Options of the test suite."""
from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("fuzz", "the fuzz campaign (tests/fuzz)")
    group.addoption("--fuzz-cases", type=int, default=300,
                    help="Mutated inputs to run (default 300, about 3 minutes; thousands for a campaign).")
    group.addoption("--fuzz-seed", type=int, default=13, help="Seed of the mutation generator (same seed, same cases).")
