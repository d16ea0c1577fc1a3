"""commissionopt: salami slicing against whole-system redesign, on one accounting.

The library's front door: `load_instance`, `solve`, `compare`, `Engine` (build once,
solve many). Results are pandas DataFrames; nothing here prints.
"""
__version__ = "0.1.0"

from .data.load import load_instance  # noqa: E402
from .runs.compare import compare  # noqa: E402
from .runs.engine import Engine, solve  # noqa: E402

__all__ = ["load_instance", "solve", "compare", "Engine", "__version__"]
