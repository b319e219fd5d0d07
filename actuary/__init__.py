"""actuary: actuarial valuation engine for social insurance pension schemes."""

from .validation import InputError

__version__ = "0.1.0"
__all__ = ["InputError", "__version__"]
