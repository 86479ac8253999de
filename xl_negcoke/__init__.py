"""xl_negcoke: the Negative Coke Market Outlook 2024-2030 as a live Excel model."""

from __future__ import annotations

__version__ = "0.1.0"

from xl_negcoke.model import Model, load_model

__all__ = ["Model", "__version__", "load_model"]
