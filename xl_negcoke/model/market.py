"""The numbers: every segment, metric and year of one scenario, from a flat set of inputs.

The driver structure (data/README.md explains each input and its source):

* volume (kt) is the anode-derived total: world anode x artificial-graphite share x tonnes of
  coke per tonne of anode. Energy Storage and Consumer Battery follow their own growth paths
  from their 2023 shares; Power Battery closes to the total.
* type is a share path (petroleum-based share in 2023 plus a yearly change); price (US$/t) is
  per type; revenue (US$ million) = volume x price / 1,000. Applications, regions and countries
  carry the global average price, so their revenue is their volume share of global revenue.
* region and country are share paths: China's share, the rest split by fixed country weights.
* capacity (kt/yr): global capacity 2023 = top-5 capacity / their share (report S6); global
  utilisation holds at its 2023 level; each listed company keeps its 2023 share of global
  capacity while it produces; "Others" closes every company metric to the global total.

Every closing row is computed as total minus the rest, so each dimension reconciles exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xl_negcoke.errors import AssumptionError
from xl_negcoke.model.dataset import (
    APPLICATIONS,
    BASE_YEAR,
    FIRST_YEAR,
    LAST_YEAR,
    REGIONS,
    SERIES,
    TYPES,
    YEARS,
    Dataset,
)

YEAR_ARRAY = np.arange(FIRST_YEAR, LAST_YEAR + 1, dtype=float)
BASE = BASE_YEAR - FIRST_YEAR  # index of the base year
OTHERS = "Others"
GLOBAL = "Global"

Series = dict[str, np.ndarray]  # metric -> one value per year


@dataclass(frozen=True)
class Market:
    """Every number of one scenario: segment -> metric -> array over YEARS."""

    values: dict[str, Series]
    utilisation: np.ndarray  # global (and every company's) capacity utilisation per year


def fill_series(params: dict[str, float], name: str) -> np.ndarray:
    """Fill a yearly series from its anchor years.

    Levels are interpolated at a constant growth rate between anchors, shares linearly; the
    last anchor is held to the end of the timeline.
    """
    years, kind, _unit = SERIES[name]
    anchors = np.array(years, dtype=float)
    values = np.array([params[f"{name}_{y}"] for y in years], dtype=float)
    if kind == "level" and np.all(values > 0):
        filled = np.exp(np.interp(YEAR_ARRAY, anchors, np.log(values)))
    else:
        filled = np.interp(YEAR_ARRAY, anchors, values)
    # np.interp reproduces anchors only to rounding; put them back exactly (and the held tail).
    filled[(anchors - FIRST_YEAR).astype(int)] = values
    filled[int(anchors[-1]) - FIRST_YEAR :] = values[-1]
    return filled


def _growth_path(base_value: float, back_rate: float, forward: np.ndarray) -> np.ndarray:
    """A path through base_value at the base year: constant `back_rate` before it, then the
    given forward growth factors (one per year after the base year, cumulative)."""
    path = np.empty(len(YEARS))
    path[: BASE + 1] = base_value / (1.0 + back_rate) ** (BASE_YEAR - YEAR_ARRAY[: BASE + 1])
    path[BASE + 1 :] = base_value * forward
    return path


def _require(condition: np.ndarray | bool, message: str) -> None:
    if not np.all(condition):
        raise AssumptionError(message)


def _first_bad_year(bad: np.ndarray) -> int:
    return int(YEAR_ARRAY[np.argmax(bad)])


def compute_market(dataset: Dataset, params: dict[str, float]) -> Market:
    """Compute one scenario.

    Args:
        dataset: the validated data folder (names, countries, companies).
        params: every assumption key -> value (defaults with overrides and scenario applied).

    Raises:
        AssumptionError: when the inputs imply an impossible market (a negative segment).
    """
    after = YEAR_ARRAY[BASE + 1 :] - BASE_YEAR  # 1..7
    values: dict[str, Series] = {}

    # volume -------------------------------------------------------------------------------
    anode = fill_series(params, "anode_world_kt")
    artificial = fill_series(params, "artificial_graphite_share")
    volume = anode * artificial * params["coke_per_anode_t"]
    _require(volume > 0, f"the assumptions give a global volume of 0 in {_first_bad_year(volume <= 0)}"
             ": coke_per_anode_t, anode_world_kt and artificial_graphite_share must be above 0")
    base_volume = volume[BASE]
    storage_share = params["energy_storage_share_2023"]
    consumer_share = 1.0 - params["power_battery_share_2023"] - storage_share
    _require(consumer_share >= 0, "power_battery_share_2023 + energy_storage_share_2023 exceed 1 "
             f"({params['power_battery_share_2023']:g} + {storage_share:g}); they must leave "
             "Consumer Battery a share of 0 or more")
    storage_growth = params["energy_storage_multiple_2030"] ** (after / (LAST_YEAR - BASE_YEAR))
    storage = _growth_path(base_volume * storage_share, params["energy_storage_cagr_2020_2023"],
                           storage_growth)
    consumer = _growth_path(base_volume * consumer_share, params["consumer_battery_growth_history"],
                            (1.0 + params["consumer_battery_growth_forecast"]) ** after)
    power = volume - storage - consumer
    _require(power >= 0, "the assumptions leave Power Battery a negative volume in "
             f"{_first_bad_year(power < 0)}: Energy Storage and Consumer Battery exceed the "
             "anode-derived total; lower their growth or raise anode_world_kt")

    # type and price -----------------------------------------------------------------------
    petroleum_share = params["petroleum_share_2023"] + params["petroleum_share_change_per_year"] * (
        YEAR_ARRAY - BASE_YEAR)
    _require((petroleum_share >= 0) & (petroleum_share <= 1), "petroleum_share_2023 with "
             "petroleum_share_change_per_year takes the petroleum-based share outside 0-1 in "
             f"{_first_bad_year((petroleum_share < 0) | (petroleum_share > 1))}")
    petroleum_volume = volume * petroleum_share
    coal_volume = volume - petroleum_volume
    petroleum_price = fill_series(params, "petroleum_price_usd_per_t")
    petroleum_price[BASE + 2 :] = petroleum_price[BASE + 1] * (
        1.0 + params["petroleum_price_growth_forecast"]) ** (after[1:] - 1)
    coal_price = petroleum_price * params["coal_price_ratio"]
    petroleum_revenue = petroleum_volume * petroleum_price / 1000.0
    coal_revenue = coal_volume * coal_price / 1000.0
    revenue = petroleum_revenue + coal_revenue
    price = revenue * 1000.0 / volume

    # capacity (companies set the global level through the top-5 share) -------------------
    companies = dataset.companies
    capacity_2023 = np.array(
        [params[dataset.company_capacity_key(c)] if c.first_year <= BASE_YEAR <= c.last_year else 0.0
         for c in companies])
    top5 = np.sort(capacity_2023)[::-1][:5].sum()
    _require(top5 > 0, "the five largest companies have no 2023 capacity; top-5 share is undefined")
    global_capacity_2023 = top5 / params["top5_capacity_share_2023"] if params[
        "top5_capacity_share_2023"] > 0 else np.inf
    _require(np.isfinite(global_capacity_2023), "top5_capacity_share_2023 must be above 0")
    utilisation_2023 = base_volume / global_capacity_2023
    utilisation = np.full(len(YEARS), utilisation_2023)
    capacity = volume / utilisation

    values[GLOBAL] = {"volume": volume, "revenue": revenue, "price": price, "capacity": capacity}
    values[TYPES[0]] = {"volume": petroleum_volume, "revenue": petroleum_revenue,
                        "price": petroleum_price}
    values[TYPES[1]] = {"volume": coal_volume, "revenue": revenue - petroleum_revenue,
                        "price": coal_price}
    for name, app_volume in zip(APPLICATIONS, (power, consumer, storage), strict=False):
        values[name] = {"volume": app_volume, "revenue": revenue * (app_volume / volume),
                        "price": price}

    # regions and countries ----------------------------------------------------------------
    china_share = np.full(len(YEARS), params["china_revenue_share_2023"])
    china_share[BASE + 1 :] += params["china_share_change_per_year_forecast"] * after
    _require((china_share >= 0) & (china_share <= 1), "china_revenue_share_2023 with "
             "china_share_change_per_year_forecast takes China's share outside 0-1 in "
             f"{_first_bad_year((china_share < 0) | (china_share > 1))}")
    weights = {c.name: params[dataset.country_weight_key(c)] for c in dataset.countries
               if c.name != "China"}
    weight_total = sum(weights.values())
    _require(weight_total > 0, "every country weight outside China is 0; at least one must be "
             "above 0 to split the non-China share")
    for region in REGIONS:
        values[region] = {m: np.zeros(len(YEARS)) for m in ("volume", "revenue", "capacity")}
    for country in dataset.countries:
        share = china_share if country.name == "China" else (
            (1.0 - china_share) * (weights[country.name] / weight_total))
        series = {"volume": volume * share, "revenue": revenue * share,
                  "capacity": capacity * share, "price": price}
        values[country.name] = series
        for metric in ("volume", "revenue", "capacity"):
            values[country.region][metric] += series[metric]
    for region in REGIONS:
        values[region]["price"] = price

    # companies ----------------------------------------------------------------------------
    capacity_index = capacity / capacity[BASE]
    price_by_type = {TYPES[0]: petroleum_price, TYPES[1]: coal_price}
    rest = {m: values[GLOBAL][m].copy() for m in ("volume", "revenue", "capacity")}
    for company, base_capacity in zip(companies, capacity_2023, strict=False):
        raw = params[dataset.company_capacity_key(company)]
        active = (company.first_year <= YEAR_ARRAY) & (company.last_year >= YEAR_ARRAY)
        company_capacity = np.where(active, (base_capacity or raw) * capacity_index, 0.0)
        company_volume = company_capacity * utilisation
        company_revenue = company_volume * price_by_type[company.type] / 1000.0
        with np.errstate(invalid="ignore", divide="ignore"):
            company_price = np.where(company_volume > 0,
                                     company_revenue * 1000.0 / company_volume, np.nan)
        values[company.name] = {"capacity": company_capacity, "volume": company_volume,
                                "revenue": company_revenue, "price": company_price}
        for metric in rest:
            rest[metric] -= values[company.name][metric]
    for metric, remainder in rest.items():
        _require(remainder >= -1e-9 * np.abs(values[GLOBAL][metric]), "the listed companies exceed "
                 f"the global {metric} in {_first_bad_year(remainder < 0)}; lower company capacities "
                 "or raise top5_capacity_share_2023")
    rest["price"] = rest["revenue"] * 1000.0 / rest["volume"]
    values[OTHERS] = rest
    return Market(values=values, utilisation=utilisation)
