"""Instance data: load (folder or workbook), validate, summarise, write."""
from .instance import Instance
from .load import load_instance
from .summary import base_year_spend, buildings, money, needs, spend_against_funding, statutory, workforce
from .template import blank_instance, format_markdown, write_template
from .validate import validate_instance
from .workbook import write_workbook
from .write import write_folder, write_instance

__all__ = [
    "Instance", "load_instance", "validate_instance", "write_instance", "write_folder", "write_workbook",
    "write_template", "blank_instance", "format_markdown",
    "money", "workforce", "buildings", "needs", "statutory", "base_year_spend", "spend_against_funding",
]
