"""Supply: the capacity of every plant and producer by year, and what each produces.

Every number starts from a plant of data/producers.csv (data/README.md explains each row):

* **Anode capacity** (kt/yr) of a plant in a year = its nameplate capacity x its anode share
  (the part of its output that serves anode material) while it runs (first_year..last_year).
  The model's `capacity` metric is this anode capacity, for plants, producers, countries,
  regions and Global.
* **Report S6 holds exactly.** One group of plants (the independent refiners) has no published
  anode share; its share is the one number that makes the five largest named producers hold
  `top5_capacity_share_2023` (S6: 48%) of 2023 capacity:
  share = (top-5 capacity / 0.48 - every other plant's 2023 capacity) / the group's 2023
  nameplate. It is held in every year the group runs.
* **Capacity not yet announced** (or, before the base year, not identified). Demand by type
  (the market's Petroleum-based and Coal-based volumes) can outgrow the plants of
  producers.csv. In a year in which a type's utilisation would pass `utilisation_ceiling`,
  capacity is added to bring it back to the ceiling: unannounced = max(0, volume / ceiling -
  announced). It belongs to no named producer (it is in Others) and is located pro rata to the
  type's announced capacity by country. The base year is the exception: report S6 sets its
  capacity, so there the plants alone must make the volume.
* **Utilisation** of a type = its volume / its capacity: in (0, ceiling], and in the base year
  in (0, 1] (a volume the plants cannot make is an AssumptionError); Global utilisation =
  Global volume / Global capacity.
* **Companies.** A producer's volume = the anode capacity of each of its plants x the
  utilisation of the plant's type; its revenue = that volume x the price of the type. So no
  producer ever makes more than its capacity, and the named producers with the groups and the
  unannounced capacity add up to each type's volume exactly.
* **Countries and regions**: capacity = the plants located there + their part of the
  unannounced capacity.

Inputs may be numbers or arrays of one value per draw (simulation.py): every array then has a
leading draw axis, shape (draws, years), and nothing here loops over draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from xl_negcoke.errors import AssumptionError
from xl_negcoke.model.dataset import BASE_YEAR, FIRST_YEAR, LAST_YEAR, TYPES, Dataset, Plant

YEAR_ARRAY = np.arange(FIRST_YEAR, LAST_YEAR + 1, dtype=float)
BASE = BASE_YEAR - FIRST_YEAR
TOP_N = 5  # report S6: the top five producers
# capacity not identified is added in every year but the base year, whose capacity report S6 sets
TOPPED_UP = (YEAR_ARRAY != BASE_YEAR).astype(float)
Input = float | np.ndarray
Series = dict[str, np.ndarray]


def _column(value: Input) -> Input:
    """A number unchanged; per-draw values as a column (draws, 1) that broadcasts over years."""
    if np.ndim(value) == 0:
        return float(value)
    return np.asarray(value, dtype=float)[:, None]


def _sum(arrays: list[np.ndarray]) -> np.ndarray:
    """The sum of yearly arrays, some per draw (zeros for none): the yearly ones first, so each
    per-draw array costs one addition. A single array is returned as it is (callers never
    write into a sum in place)."""
    total: np.ndarray | None = None
    for array in sorted(arrays, key=np.ndim):
        total = array if total is None else total + array
    return np.zeros(len(YEAR_ARRAY)) if total is None else total


def _fail(message: str) -> None:
    raise AssumptionError(message)


@dataclass(frozen=True)
class Supply:
    """The supply side of one scenario (or of many draws): capacity, utilisation, producers."""

    dataset: Dataset
    plant_capacity: dict[str, np.ndarray]  # plant id -> anode capacity per year
    announced: dict[str, np.ndarray]  # type -> capacity of its plants per year
    unannounced: dict[str, np.ndarray]  # type -> capacity not yet announced per year
    type_utilisation: dict[str, np.ndarray]  # type -> volume / capacity per year
    capacity: np.ndarray  # Global anode capacity per year
    utilisation: np.ndarray  # Global volume / Global capacity
    calibrated_share: Input  # the anode share that closes report S6
    prices: Mapping[str, np.ndarray] = field(repr=False)  # type -> price (US$/t) per year

    by_producer: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, repr=False)
    by_country: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, repr=False)

    def plants_of(self, producer: str) -> list[Plant]:
        return [p for p in self.dataset.plants if p.producer == producer]

    def company(self, producer: str, with_price: bool = True) -> Series:
        """A producer's capacity, volume, revenue (and price, NaN in a year without volume):
        each type's capacity x that type's utilisation, at that type's price."""
        by_type = {kind: self.by_producer[(producer, kind)] for kind in TYPES
                   if (producer, kind) in self.by_producer}
        volumes = {kind: capacity * self.type_utilisation[kind] for kind, capacity in by_type.items()}
        capacity = _sum(list(by_type.values()))
        volume = _sum(list(volumes.values()))
        revenue = _sum([v * (self.prices[kind] / 1000.0) for kind, v in volumes.items()])
        series = {"capacity": capacity, "volume": volume, "revenue": revenue}
        if with_price:
            with np.errstate(invalid="ignore", divide="ignore"):
                price = revenue * 1000.0 / volume
            series["price"] = price if np.all(volume > 0) else np.where(volume > 0, price, np.nan)
        return series

    def country_capacity(self, country: str) -> np.ndarray:
        """Capacity located in `country`: its plants and its pro-rata part of the unannounced
        capacity of each type."""
        total: np.ndarray = np.zeros(len(YEAR_ARRAY))
        for kind in TYPES:
            local = self.by_country.get((country, kind))
            if local is None:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                part = np.where(self.announced[kind] > 0, local / self.announced[kind], 0.0)
            total = total + local + self.unannounced[kind] * part
        return total


def plant_anode_capacity(plant: Plant, capacity: Input, share: Input) -> np.ndarray:
    """Nameplate x anode share in the years the plant runs, 0 in the others."""
    running = ((plant.first_year <= YEAR_ARRAY) & (plant.last_year >= YEAR_ARRAY)).astype(float)
    return _column(capacity) * _column(share) * running


def compute_supply(dataset: Dataset, params: Mapping[str, Input], volumes: Mapping[str, np.ndarray],
                   prices: Mapping[str, np.ndarray]) -> Supply:
    """Capacity, utilisation and producers for the demand `volumes` (type -> kt per year).

    Args:
        dataset: the data folder (plants, companies).
        params: every input key -> a number, or one value per draw (plant capacities
            capacity_kt_<plant>, anode shares anode_share_<plant>, top5_capacity_share_2023,
            utilisation_ceiling).
        volumes: the market's volume of each type, per year (or draws x years).
        prices: the price of each type (US$/t), per year (or draws x years).

    Raises:
        AssumptionError: when report S6 cannot hold with an anode share in 0-1, or a share or
            ceiling makes utilisation undefined.
    """
    plant_capacity: dict[str, np.ndarray] = {}
    calibrated = [p for p in dataset.plants if p.anode_share is None]
    for plant in dataset.plants:
        if plant.anode_share is not None:
            plant_capacity[plant.plant] = plant_anode_capacity(
                plant, params[dataset.plant_capacity_key(plant)],
                params[dataset.plant_anode_share_key(plant)])

    # report S6: the calibrated group closes the top five's share of 2023 capacity -----------
    # (only the base year's column is needed: with draws, a (draws,) column per plant)
    base_capacity = {name: values[..., BASE] for name, values in plant_capacity.items()}
    by_company = [sum((base_capacity[p.plant] for p in dataset.plants if p.producer == c.name), 0.0)
                  for c in dataset.companies]
    company_2023 = np.stack(np.broadcast_arrays(*by_company), axis=-1)  # (..., companies)
    top = np.sort(company_2023, axis=-1)[..., -TOP_N:].sum(axis=-1)
    target = params["top5_capacity_share_2023"]
    if np.any(np.asarray(target) <= 0):
        _fail("top5_capacity_share_2023 must be above 0 (report S6: 0.48)")
    others_2023 = sum(base_capacity.values(), 0.0)
    # the calibrated plants' nameplate is data, not an input: S6 sets their anode capacity
    group_2023 = sum((plant_anode_capacity(p, p.capacity_kt, 1.0)[..., BASE] for p in calibrated), 0.0)
    if np.any(group_2023 <= 0):
        _fail(f"the plants with a calibrated anode share ({', '.join(p.plant for p in calibrated)}) "
              "have no 2023 capacity in producers.csv, so report S6 (top5_capacity_share_2023) "
              "cannot be met")
    share = (top / target - others_2023) / group_2023
    if np.any((share < 0) | (share > 1)):
        low, high = float(np.min(share)), float(np.max(share))
        shown = f"{low:.4g}" if low == high else f"{low:.4g} to {high:.4g}"
        _fail(f"report S6 cannot hold: the top five would hold top5_capacity_share_2023 of 2023 "
              f"capacity only with an anode share of {shown} for "
              f"{', '.join(sorted({p.producer for p in calibrated}))} (valid 0-1); change the "
              "plant capacities or anode shares, or top5_capacity_share_2023")
    for plant in calibrated:
        plant_capacity[plant.plant] = plant_anode_capacity(plant, plant.capacity_kt, share)

    # capacity and utilisation by type --------------------------------------------------------
    ceiling = params["utilisation_ceiling"]
    if np.any(np.asarray(ceiling) <= 0):
        _fail("utilisation_ceiling must be above 0 (it is a share of capacity, e.g. 0.85)")
    announced, unannounced, type_utilisation = {}, {}, {}
    for kind in TYPES:
        announced[kind] = _sum([plant_capacity[p.plant] for p in dataset.plants if p.type == kind])
        needed = volumes[kind] / _column(ceiling)
        unannounced[kind] = np.maximum(needed - announced[kind], 0.0) * TOPPED_UP
        total = announced[kind] + unannounced[kind]
        with np.errstate(invalid="ignore", divide="ignore"):
            type_utilisation[kind] = volumes[kind] / total
        if not np.all(total > 0):  # a type without volume or capacity that year
            type_utilisation[kind] = np.where(total > 0, type_utilisation[kind], 0.0)
        # every other year is topped up to the ceiling (<= 1); the base year has its plants only
        base_volume, base_total = volumes[kind][..., BASE], total[..., BASE]
        if np.any((base_volume > base_total * (1 + 1e-12)) | ((base_volume > 0) & (base_total <= 0))):
            _fail(f"the {kind} plants of producers.csv cannot make the {BASE_YEAR} volume "
                  "(utilisation above 100% in the year report S6 sets capacity); raise their "
                  "capacity_kt_ or anode_share_ inputs, or lower the volume (coke_per_anode_t, "
                  "anode_world_kt)")
        if np.any(announced[kind] <= 0) and np.any(unannounced[kind] > 0):
            _fail(f"{kind} needs capacity in a year without any {kind} plant in producers.csv, "
                  "so the capacity not yet announced has no country; add a plant of that type")
    capacity = _sum([announced[k] + unannounced[k] for k in TYPES])
    volume = _sum([volumes[k] for k in TYPES])
    by_producer: dict[tuple[str, str], list[np.ndarray]] = {}
    by_country: dict[tuple[str, str], list[np.ndarray]] = {}
    for plant in dataset.plants:
        by_producer.setdefault((plant.producer, plant.type), []).append(plant_capacity[plant.plant])
        by_country.setdefault((plant.country, plant.type), []).append(plant_capacity[plant.plant])
    return Supply(dataset=dataset, plant_capacity=plant_capacity, announced=announced,
                  unannounced=unannounced, type_utilisation=type_utilisation, capacity=capacity,
                  utilisation=volume / capacity, calibrated_share=share, prices=prices,
                  by_producer={key: _sum(arrays) for key, arrays in by_producer.items()},
                  by_country={key: _sum(arrays) for key, arrays in by_country.items()})


def company_recipe(supply: Supply, producer: str, with_price: bool = True) -> Callable[[], Series]:
    """A producer's series, computed when called (market recipes keep nothing)."""
    return lambda: supply.company(producer, with_price)
