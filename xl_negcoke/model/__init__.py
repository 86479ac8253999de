"""The model layer: the dataset, the market numbers and scenarios. Knows nothing of Excel."""

from __future__ import annotations

from xl_negcoke.model.dataset import BASE_YEAR, FIRST_YEAR, LAST_YEAR, YEARS, Dataset, load_dataset
from xl_negcoke.model.model import Model, load_model

__all__ = ["BASE_YEAR", "FIRST_YEAR", "LAST_YEAR", "YEARS", "Dataset", "Model", "load_dataset",
           "load_model"]
