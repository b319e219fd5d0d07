"""actuary: actuarial valuation engine for social insurance pension schemes."""

from .change import analysis_of_change
from .inputs import accrual_schedule
from .validation import InputError
from .io.workbook import load_workbook
from .tables import single_ages, stable_actives
from .valuation import Results, Valuation

__version__ = "0.1.0"
__all__ = ["InputError", "Results", "Valuation", "accrual_schedule", "analysis_of_change", "load_workbook",
           "single_ages", "stable_actives", "__version__"]
