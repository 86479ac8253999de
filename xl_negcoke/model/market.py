"""The numbers: every segment, metric and year of one scenario, from a flat set of inputs.

The driver structure (data/README.md explains each input and its source):

* volume (kt) is the anode-derived total: world anode x artificial-graphite share x tonnes of
  coke per tonne of anode. World anode is the published series to the latest actual year (2024)
  and grows after it at the latest published outlook's rates. Energy Storage and Consumer
  Battery follow their own growth paths from their 2023 shares; Power Battery closes to the total.
* price (US$/t) is by type and region: the seaborne (outside-China) petroleum-based price, China's
  domestic price at `china_price_ratio` times it, coal-based at `coal_price_ratio` times either.
  A type's price is the mix average over the regions, a region's the mix average over the types;
  revenue (US$ million) = volume x price / 1,000, so both reconcile. Applications carry the
  global average price.
* region and country: China's share of revenue is a path through report S5's 76% (its share of
  volume follows from the two regions' prices); the rest is split by where anode material is
  made (countries.csv: kt made in 2024 and by 2030, linear between, held before 2024).
* capacity (kt/yr) and companies come from the plants of producers.csv (supply.py): anode
  capacity by plant and year, report S6 closed by one calibrated group, capacity not yet
  announced added above a ceiling utilisation, utilisation = volume / capacity by type; a
  producer sells its capacity x its type's utilisation at its type's price; region and country
  capacity = the plants located there; "Others" closes every company metric to the total.

Every closing row is computed as total minus the rest, so each dimension reconciles exactly.

One implementation serves a single scenario and many draws of it (`simulation.py`): an input
is a number, or an array with one value per draw. Arrays then carry a leading draw axis, shape
(draws, years), and broadcast with the yearly paths; with numbers only, the arithmetic is
exactly that of one scenario. `market_recipes` computes the totals and share paths at once and
leaves each derived segment (applications, regions, countries, companies, Others) as a recipe
that computes its series when asked, so 100,000 draws hold a few arrays, not every segment's.
"""

from __future__ import annotations

from collections.abc import Callable
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
from xl_negcoke.model.supply import Supply, company_recipe, compute_supply

YEAR_ARRAY = np.arange(FIRST_YEAR, LAST_YEAR + 1, dtype=float)
BASE = BASE_YEAR - FIRST_YEAR  # index of the base year
LATEST_ACTUAL_YEAR = SERIES["anode_world_kt"][0][-1]  # the forecast starts after this year
LATEST_ACTUAL = LATEST_ACTUAL_YEAR - FIRST_YEAR
OTHERS = "Others"
GLOBAL = "Global"

Series = dict[str, np.ndarray]  # metric -> one value per year (or an array (draws, years))
Recipe = Callable[[], Series]  # computes one segment's series when called
Input = float | np.ndarray  # a number, or one value per draw


@dataclass(frozen=True)
class Market:
    """Every number of one scenario: segment -> metric -> array over YEARS."""

    values: dict[str, Series]
    utilisation: np.ndarray  # Global capacity utilisation per year (volume / capacity)
    supply: Supply | None = None  # capacity by plant and type, utilisation by type (supply.py)


@dataclass(frozen=True)
class MarketRecipes:
    """Every number of one scenario, for one set of inputs or many draws of them: segment ->
    its series, or a recipe that computes them on request (and keeps nothing)."""

    segments: dict[str, Series | Recipe]
    utilisation: np.ndarray  # years, or (draws, years) when utilisation varies by draw
    supply: Supply | None = None

    def series(self, segment: str) -> Series:
        """Every metric of one segment (computed now when it is a recipe)."""
        item = self.segments[segment]
        return item() if callable(item) else item

    def materialise(self) -> Market:
        """Compute every segment: the Market of one scenario."""
        values = {name: self.series(name) for name in self.segments}
        return Market(values=values, utilisation=np.array(self.utilisation), supply=self.supply)


def fill_series(params: dict[str, Input], name: str) -> np.ndarray:
    """Fill a yearly series from its anchor years.

    Levels are interpolated at a constant growth rate between anchors, shares linearly; the
    last anchor is held to the end of the timeline. An anchor given per draw gives one row per
    draw, shape (draws, years).
    """
    years, kind, _unit = SERIES[name]
    anchors = np.array(years, dtype=float)
    raw = [params[f"{name}_{y}"] for y in years]
    if any(np.ndim(value) for value in raw):
        return _fill_draws(raw, anchors, kind)
    values = np.array(raw, dtype=float)
    if kind == "level" and np.all(values > 0):
        filled = np.exp(np.interp(YEAR_ARRAY, anchors, np.log(values)))
    else:
        filled = np.interp(YEAR_ARRAY, anchors, values)
    # np.interp reproduces anchors only to rounding; put them back exactly (and the held tail).
    filled[(anchors - FIRST_YEAR).astype(int)] = values
    filled[int(anchors[-1]) - FIRST_YEAR :] = values[-1]
    return filled


def _fill_draws(raw: list[Input], anchors: np.ndarray, kind: str) -> np.ndarray:
    """fill_series for anchors of which some are given per draw: the same interpolation, as
    weights on the anchors (only the anchors that vary are computed per draw)."""
    varying = [j for j, value in enumerate(raw) if np.ndim(value)]
    fixed = np.array([0.0 if np.ndim(value) else value for value in raw], dtype=float)
    columns = np.stack([np.asarray(raw[j], dtype=float) for j in varying], axis=-1)  # (draws, k)
    # weights[j, year]: how much anchor j contributes to a year (np.interp of a unit vector)
    weights = np.array([np.interp(YEAR_ARRAY, anchors, unit) for unit in np.eye(len(anchors))])

    def interpolate(fixed_values: np.ndarray, column_values: np.ndarray) -> np.ndarray:
        return fixed_values @ weights + column_values @ weights[varying]

    filled = None
    if kind == "level":  # constant growth between anchors for the draws whose anchors are all > 0
        fixed_positive = all(fixed[j] > 0 for j in range(len(raw)) if j not in varying)
        positive = np.all(columns > 0, axis=-1, keepdims=True) & fixed_positive
        if positive.all():
            filled = np.exp(interpolate(np.log(np.where(fixed > 0, fixed, 1.0)), np.log(columns)))
        elif positive.any():
            logged = np.exp(interpolate(np.log(np.where(fixed > 0, fixed, 1.0)),
                                        np.log(np.where(positive, columns, 1.0))))
            filled = np.where(positive, logged, interpolate(fixed, columns))
    if filled is None:
        filled = interpolate(fixed, columns)
    index = (anchors - FIRST_YEAR).astype(int)
    filled[:, index] = np.where(np.isin(np.arange(len(raw)), varying), 0.0, fixed)
    filled[:, index[varying]] = columns
    filled[:, index[-1] :] = filled[:, index[-1], None]
    return filled


def _column(value: Input) -> Input:
    """An input as it enters the arithmetic: a number unchanged, per-draw values as a column
    (draws, 1) that broadcasts against the years."""
    if np.ndim(value) == 0:
        return value
    return np.asarray(value, dtype=float)[:, None]


def _join(head: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Two runs of years side by side, broadcasting a single run to the draws of the other."""
    lead = np.broadcast_shapes(head.shape[:-1], tail.shape[:-1])
    return np.concatenate([np.broadcast_to(head, (*lead, head.shape[-1])),
                           np.broadcast_to(tail, (*lead, tail.shape[-1]))], axis=-1)


def _growth_path(base_value: Input, back_rate: Input, forward: np.ndarray) -> np.ndarray:
    """A path through base_value at the base year: constant `back_rate` before it, then the
    given forward growth factors (one per year after the base year, cumulative)."""
    back = base_value / (1.0 + back_rate) ** (BASE_YEAR - YEAR_ARRAY[: BASE + 1])
    return _join(back, base_value * forward)


def _accumulate(total: np.ndarray, term: np.ndarray, operation: np.ufunc) -> np.ndarray:
    """operation(total, term), in place when `total` already has the result's shape (the same
    numbers as a new array; fewer allocations with many draws)."""
    if total.flags.writeable and total.shape == np.broadcast_shapes(total.shape, term.shape):
        return operation(total, term, out=total)
    return operation(total, term)


def _require(condition: np.ndarray | bool, message: str | Callable[[], str]) -> None:
    if not np.all(condition):
        raise AssumptionError(message() if callable(message) else message)


def _first_bad_year(bad: np.ndarray) -> int:
    """The first year in which any draw is bad."""
    bad = np.asarray(bad)
    if bad.ndim > 1:
        bad = bad.any(axis=tuple(range(bad.ndim - 1)))
    return int(YEAR_ARRAY[np.argmax(bad)])


def _show(value: Input) -> str:
    """An input in a message: the number, or the range of its draws."""
    if np.ndim(value) == 0:
        return f"{value:g}"
    return f"{np.min(value):g} to {np.max(value):g}"


def _exceeds(metric: str, remainder: np.ndarray) -> Callable[[], str]:
    return lambda: (f"the listed companies exceed the global {metric} in "
                    f"{_first_bad_year(remainder < 0)}; check the plants of producers.csv")


def compute_market(dataset: Dataset, params: dict[str, float]) -> Market:
    """Compute one scenario.

    Args:
        dataset: the validated data folder (names, countries, companies).
        params: every assumption key -> value (defaults with overrides and scenario applied).

    Raises:
        AssumptionError: when the inputs imply an impossible market (a negative segment).
    """
    return market_recipes(dataset, params).materialise()


def market_recipes(dataset: Dataset, params: dict[str, Input]) -> MarketRecipes:
    """Compute one scenario, or many draws of it, leaving derived segments as recipes.

    Args:
        dataset: the validated data folder (names, countries, companies).
        params: every assumption key -> a number, or an array of one value per draw for the
            keys that vary (assumption keys only: country weights and company capacities are
            numbers).

    Raises:
        AssumptionError: when the inputs imply an impossible market for any draw (a segment
            computed on request checks its own constraint then: Others).
    """
    after = YEAR_ARRAY[BASE + 1 :] - BASE_YEAR  # 1..7
    segments: dict[str, Series | Recipe] = {}

    def value(key: str) -> Input:
        return _column(params[key])

    # volume -------------------------------------------------------------------------------
    # world anode: the published series to the latest actual year, then the latest outlook's
    # growth (anode_growth_2025 for 2025, anode_cagr_2025_2030 a year after)
    history = fill_series(params, "anode_world_kt")
    forward = (1.0 + value("anode_growth_2025")) * (1.0 + value("anode_cagr_2025_2030")) ** (
        YEAR_ARRAY[LATEST_ACTUAL + 1 :] - (LATEST_ACTUAL_YEAR + 1))
    anode = _join(history[..., : LATEST_ACTUAL + 1], history[..., LATEST_ACTUAL, None] * forward)
    artificial = fill_series(params, "artificial_graphite_share")
    volume = anode * artificial * value("coke_per_anode_t")
    _require(volume > 0, lambda: "the assumptions give a global volume of 0 in "
             f"{_first_bad_year(volume <= 0)}: coke_per_anode_t, anode_world_kt, anode growth and "
             "artificial_graphite_share must be above 0")
    base_volume = volume[..., BASE, None]
    storage_share = value("energy_storage_share_2023")
    consumer_share = 1.0 - value("power_battery_share_2023") - storage_share
    _require(consumer_share >= 0, lambda: "power_battery_share_2023 + energy_storage_share_2023 "
             f"exceed 1 ({_show(params['power_battery_share_2023'])} + {_show(storage_share)}); "
             "they must leave Consumer Battery a share of 0 or more")
    storage_growth = value("energy_storage_multiple_2030") ** (after / (LAST_YEAR - BASE_YEAR))
    storage = _growth_path(base_volume * storage_share, value("energy_storage_cagr_2020_2023"),
                           storage_growth)
    consumer = _growth_path(base_volume * consumer_share, value("consumer_battery_growth_history"),
                            (1.0 + value("consumer_battery_growth_forecast")) ** after)
    power = volume - storage - consumer
    _require(power >= 0, lambda: "the assumptions leave Power Battery a negative volume in "
             f"{_first_bad_year(power < 0)}: Energy Storage and Consumer Battery exceed the "
             "anode-derived total; lower their growth or raise anode_world_kt")

    # China's share (of revenue: report S5) and the regions' prices ------------------------
    from_base = YEAR_ARRAY - BASE_YEAR
    china_share = _join(value("china_revenue_share_2023")
                        + value("china_share_change_per_year_history") * from_base[: BASE + 1],
                        value("china_revenue_share_2023")
                        + value("china_share_change_per_year_forecast") * after)
    _require((china_share >= 0) & (china_share <= 1), lambda: "china_revenue_share_2023 with "
             "china_share_change_per_year_history and china_share_change_per_year_forecast take "
             "China's share outside 0-1 in "
             f"{_first_bad_year((china_share < 0) | (china_share > 1))}")
    china_ratio = value("china_price_ratio")
    _require(np.asarray(china_ratio) > 0, "china_price_ratio must be above 0 (China's price is the "
             "seaborne price times it)")
    # China's share of volume: its revenue share at China's price relative to the seaborne one
    china_volume_share = china_share / (china_share + (1.0 - china_share) * china_ratio)
    region_factor = china_volume_share * china_ratio + (1.0 - china_volume_share)

    # type and price -----------------------------------------------------------------------
    petroleum_share = value("petroleum_share_2023") + value("petroleum_share_change_per_year") * (
        YEAR_ARRAY - BASE_YEAR)
    _require((petroleum_share >= 0) & (petroleum_share <= 1), lambda: "petroleum_share_2023 with "
             "petroleum_share_change_per_year takes the petroleum-based share outside 0-1 in "
             f"{_first_bad_year((petroleum_share < 0) | (petroleum_share > 1))}")
    petroleum_volume = volume * petroleum_share
    coal_volume = volume - petroleum_volume
    seaborne = fill_series(params, "petroleum_price_usd_per_t")
    seaborne = _join(seaborne[..., : BASE + 2], seaborne[..., BASE + 1, None] * (
        1.0 + value("petroleum_price_growth_forecast")) ** (after[1:] - 1))
    coal_ratio = value("coal_price_ratio")
    type_factor = petroleum_share + (1.0 - petroleum_share) * coal_ratio
    petroleum_price = seaborne * region_factor  # the mix average of China and outside China
    coal_price = petroleum_price * coal_ratio
    petroleum_revenue = petroleum_volume * petroleum_price / 1000.0
    coal_revenue = coal_volume * coal_price / 1000.0
    revenue = petroleum_revenue + coal_revenue
    price = revenue * 1000.0 / volume
    china_price = seaborne * china_ratio * type_factor  # the mix average of the types
    outside_price = seaborne * type_factor

    # capacity, utilisation and producers (supply.py) -------------------------------------
    supply = compute_supply(dataset, params, {TYPES[0]: petroleum_volume, TYPES[1]: coal_volume},
                            {TYPES[0]: petroleum_price, TYPES[1]: coal_price})
    capacity = supply.capacity
    utilisation = supply.utilisation

    segments[GLOBAL] = {"volume": volume, "revenue": revenue, "price": price, "capacity": capacity}
    segments[TYPES[0]] = {"volume": petroleum_volume, "revenue": petroleum_revenue,
                          "price": petroleum_price}
    segments[TYPES[1]] = {"volume": coal_volume, "revenue": revenue - petroleum_revenue,
                          "price": coal_price}
    for kind in TYPES:  # capacity by type: its plants and its capacity not yet announced
        segments[kind]["capacity"] = supply.announced[kind] + supply.unannounced[kind]

    def application(app_volume: np.ndarray) -> Recipe:
        return lambda: {"volume": app_volume, "revenue": revenue * (app_volume / volume),
                        "price": price}

    for name, app_volume in zip(APPLICATIONS, (power, consumer, storage), strict=False):
        segments[name] = application(app_volume)

    # regions and countries: China's share, the rest split by where anode material is made --
    ramp = np.clip((YEAR_ARRAY - LATEST_ACTUAL_YEAR) / (LAST_YEAR - LATEST_ACTUAL_YEAR), 0.0, 1.0)
    weights: dict[str, np.ndarray] = {}
    for entity in dataset.countries:
        if entity.name == "China":
            continue
        start = params[dataset.country_weight_key(entity)]
        end = params[dataset.country_weight_2030_key(entity)]
        weights[entity.name] = start + (end - start) * ramp
    weight_total = sum(weights.values())
    _require(weight_total > 0, lambda: "every country weight outside China is 0 in "
             f"{_first_bad_year(np.asarray(weight_total) <= 0)}; at least one weight_ or "
             "weight_2030_ must be above 0 to split the non-China share")

    china_volume = volume * china_volume_share
    china_revenue = china_volume * china_price / 1000.0
    outside_volume = volume - china_volume
    # the rest of the world's revenue: at a China share of 100% the difference of two equal
    # sums can come out a rounding error below zero (-4.8e-14), and a revenue is never negative
    outside_revenue = np.maximum(revenue - china_revenue, 0.0)

    def country(name: str) -> Recipe:
        def series() -> Series:
            if name == "China":
                return {"volume": china_volume, "revenue": china_revenue,
                        "capacity": supply.country_capacity(name), "price": china_price}
            part = weights[name] / weight_total
            return {"volume": outside_volume * part, "revenue": outside_revenue * part,
                    "capacity": supply.country_capacity(name), "price": outside_price}
        return series

    def region(members: list[Recipe]) -> Recipe:
        def series() -> Series:
            totals: Series = {m: np.zeros(len(YEARS)) for m in ("volume", "revenue", "capacity")}
            for member in members:
                numbers = member()
                for metric in totals:
                    totals[metric] = _accumulate(totals[metric], numbers[metric], np.add)
            selling = totals["volume"] > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                average = totals["revenue"] * 1000.0 / totals["volume"]
            # a region without volume shows the price outside China (what a buyer there pays)
            totals["price"] = average if selling.all() else np.where(selling, average, outside_price)
            return totals
        return series

    countries = {c.name: country(c.name) for c in dataset.countries}
    for name in REGIONS:
        segments[name] = region([countries[c.name] for c in dataset.countries if c.region == name])
    segments.update(countries)

    # companies: named producers from their plants; Others closes to Global ------------------
    companies = dataset.companies
    sums = [company_recipe(supply, entity.name, with_price=False) for entity in companies]

    def others() -> Series:
        total = segments[GLOBAL]
        rest = {m: total[m].copy() for m in ("volume", "revenue", "capacity")}
        for recipe in sums:
            numbers = recipe()
            for metric in rest:
                rest[metric] = _accumulate(rest[metric], numbers[metric], np.subtract)
        for metric, remainder in rest.items():
            _require(remainder >= -1e-9 * np.abs(total[metric]), _exceeds(metric, remainder))
        rest["price"] = rest["revenue"] * 1000.0 / rest["volume"]
        return rest

    segments.update({entity.name: company_recipe(supply, entity.name) for entity in companies})
    segments[OTHERS] = others
    return MarketRecipes(segments=segments, utilisation=utilisation, supply=supply)
