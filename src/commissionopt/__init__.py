"""commissionopt: salami slicing against whole-system redesign, on one accounting."""
__version__ = "0.1.0"
