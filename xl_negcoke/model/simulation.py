"""Uncertainty: many draws of the base scenario at once, their percentiles and a tornado.

`Model.simulate(draws, seed)` draws every driver of `uncertainty.csv` (data/README.md gives each
range and its source) and computes the whole market for all draws at once: the arithmetic of
`market.py` on arrays of shape (draws, years), with no loop over draws.

* Draws: one numpy Generator stream per driver, seeded by (seed, the driver's key), so a
  driver's draws depend only on the seed, its key and its range, and adding a driver changes
  no other driver's draws. Triangular ranges use numpy's triangular sampler; a normal range cut
  to low..high is drawn by inverse transform (a uniform between the normal's CDF at low and at
  high), so no draw ever falls outside its range.
* Impossible markets: draws are never resampled. The ranges are truncated so that no draw can
  break a constraint of the model (a negative Power Battery volume, a share outside 0-1, listed
  companies above the global total). Each constraint is monotone in each driver (volume and
  prices scale the company and application splits alike), so it holds for every draw when it
  holds at every corner of the ranges (each driver at its low or its high end): the simulation
  computes the 2^n corners first and raises AssumptionError when one breaks a constraint.
* Ranges follow the model's base value: when overrides (the Assumptions sheet) move a driver's
  base, its range moves with it (levels scale by new base / file base; rates, shares and
  changes shift by the difference) and is cut to the values the key allows.
* Memory: the totals and share paths (about twenty arrays of draws x years, float64) are
  computed at once and kept (about 150 MiB for 100,000 draws); every other segment is computed
  when asked, with its metrics together, and the recently used ones are kept up to
  SEGMENT_CACHE_BYTES. Percentiles are computed on request and remembered.
* Simulations are memoized per (model, draws, seed), the last SIMULATION_CACHE_SIZE of them.
"""

from __future__ import annotations

import math
import numbers
import threading
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xl_negcoke.errors import AssumptionError, InvalidArgumentError, NotAvailableError
from xl_negcoke.model.dataset import FIRST_YEAR, YEARS, Dataset, Uncertainty, input_kind
from xl_negcoke.model.market import OTHERS, MarketRecipes, market_recipes

if TYPE_CHECKING:
    from xl_negcoke.model.model import Model

DEFAULT_DRAWS = 100_000
DEFAULT_SEED = 0
MAX_DRAWS = 2_000_000  # about 6 GiB; 1,000,000 draws peak near 3 GiB (benchmarks/bench_simulation.py)
#: The tornado moves each driver between these percentiles of its range.
SENSITIVITY_PERCENTILES = (10.0, 90.0)
SENSITIVITY_COLUMNS = ("driver", "low_value", "high_value", "output_at_low", "output_at_high",
                       "swing")
SIMULATION_CACHE_SIZE = 4  # simulations kept (per model, draws and seed)
SEGMENT_CACHE_BYTES = 64 * 2**20  # recently used segments kept per simulation (at least one)
PERCENTILE_CACHE_SIZE = 100_000  # remembered percentiles per simulation


# -------------------------------------------------------------------------------------------
# one driver's range


@dataclass(frozen=True)
class Driver(Uncertainty):
    """One uncertain input: a range of uncertainty.csv centred on the model's base value, with
    its quantiles and draws."""

    @classmethod
    def centred_on(cls, item: Uncertainty, value: float) -> Driver:
        """The range of `item` moved to a new base `value` (an override) and cut to the values
        its key allows; unchanged when `value` is the file's base."""
        low, high, sd = item.low, item.high, item.sd
        if value != item.base:
            kind = input_kind(item.key)
            if kind == "level" and item.base != 0:
                factor = value / item.base
                low, high = low * factor, high * factor
                sd = None if sd is None else sd * factor
            else:
                low, high = low + (value - item.base), high + (value - item.base)
            lowest, highest = _DOMAINS.get(kind, (-math.inf, math.inf))
            low, high = max(low, lowest), min(high, highest)
        return cls(item.key, item.distribution, low, value, high, sd, item.description, item.source)

    def quantile(self, q: float) -> float:
        """The value below which a share `q` (0-1) of draws falls."""
        if self.low == self.high or q <= 0:
            return self.low
        if q >= 1:
            return self.high
        if self.distribution == "triangular":
            low, mode, high = self.low, self.base, self.high
            if q <= (mode - low) / (high - low):
                return low + math.sqrt(q * (high - low) * (mode - low))
            return high - math.sqrt((1.0 - q) * (high - low) * (high - mode))
        normal = NormalDist(self.base, self.sd or 0.0)
        lower, upper = normal.cdf(self.low), normal.cdf(self.high)
        return min(max(normal.inv_cdf(lower + q * (upper - lower)), self.low), self.high)

    def cdf(self, values: np.ndarray) -> np.ndarray:
        """The share of draws at or below each of `values` (elementwise)."""
        x = np.asarray(values, dtype=float)
        if self.low == self.high:
            return (x >= self.low).astype(float)
        if self.distribution == "triangular":
            low, mode, high = self.low, self.base, self.high
            with np.errstate(divide="ignore", invalid="ignore"):
                rising = (x - low) ** 2 / ((high - low) * (mode - low))
                falling = 1.0 - (high - x) ** 2 / ((high - low) * (high - mode))
            result = np.where(x <= mode, rising, falling)
        else:
            lower, upper = (_standard_normal_cdf(np.array([(v - self.base) / self.sd]))[0]
                            for v in (self.low, self.high))
            result = (_standard_normal_cdf((x - self.base) / self.sd) - lower) / (upper - lower)
        return np.clip(np.where(x <= self.low, 0.0, np.where(x >= self.high, 1.0, result)), 0.0, 1.0)

    def quantiles(self, q: np.ndarray) -> np.ndarray:
        """`quantile` elementwise: the value below which a share q (0-1) of draws falls."""
        q = np.clip(np.asarray(q, dtype=float), 0.0, 1.0)
        if self.low == self.high:
            return np.full(q.shape, self.low)
        if self.distribution == "triangular":
            low, mode, high = self.low, self.base, self.high
            split = (mode - low) / (high - low)
            return np.where(q <= split, low + np.sqrt(q * (high - low) * (mode - low)),
                            high - np.sqrt((1.0 - q) * (high - low) * (high - mode)))
        normal = NormalDist(self.base, self.sd or 0.0)
        lower, upper = normal.cdf(self.low), normal.cdf(self.high)
        inner = np.clip(lower + q * (upper - lower), 1e-300, 1.0 - 1e-16)
        return np.clip(self.base + self.sd * _standard_normal_quantile(inner), self.low, self.high)

    def sample_with(self, partner: Driver, partner_draws: np.ndarray, correlation: float,
                    seed: int) -> np.ndarray:
        """Draws of this range correlated with `partner_draws` (a Gaussian copula): the partner's
        draws become normal scores, mixed with this driver's own normal stream at `correlation`,
        and mapped back through this range's quantiles. Reproducible for (seed, key)."""
        generator = np.random.default_rng([seed, zlib.crc32(self.key.encode("utf-8"))])
        own = generator.standard_normal(len(partner_draws))
        ranks = np.clip(partner.cdf(partner_draws), 1e-12, 1.0 - 1e-12)
        scores = correlation * _standard_normal_quantile(ranks) + math.sqrt(1.0 - correlation**2) * own
        return self.quantiles(_standard_normal_cdf(scores))

    def sample(self, draws: int, seed: int) -> np.ndarray:
        """`draws` values from the range, reproducible for (seed, key)."""
        generator = np.random.default_rng([seed, zlib.crc32(self.key.encode("utf-8"))])
        if self.low == self.high or (self.distribution == "normal" and not self.sd):
            return np.full(draws, self.base)
        if self.distribution == "triangular":
            return generator.triangular(self.low, self.base, self.high, draws)
        normal = NormalDist(self.base, self.sd)
        uniform = generator.uniform(normal.cdf(self.low), normal.cdf(self.high), draws)
        with np.errstate(divide="ignore"):  # a CDF of exactly 0 maps to -inf, then to low
            values = self.base + self.sd * _standard_normal_quantile(uniform)
        return np.clip(values, self.low, self.high)


_DOMAINS = {"share": (0.0, 1.0), "level": (0.0, math.inf), "rate": (math.nextafter(-1.0, 0.0), math.inf)}

# Wichura's algorithm AS241 (Applied Statistics 37(3), 1988), as in Python's NormalDist.inv_cdf:
# numerator and denominator polynomials, highest power first.
_CENTRAL = (
    (2509.0809287301226727, 33430.575583588128105, 67265.770927008700853, 45921.953931549871457,
     13731.693765509461125, 1971.5909503065514427, 133.14166789178437745, 3.387132872796366608),
    (5226.495278852545561, 28729.085735721942674, 39307.89580009271061, 21213.794301586595867,
     5394.1960214247511077, 687.1870074920579083, 42.313330701600911252, 1.0),
)
_NEAR_TAIL = (
    (7.7454501427834140764e-4, 0.0227238449892691845833, 0.24178072517745061177,
     1.27045825245236838258, 3.64784832476320460504, 5.7694972214606914055,
     4.6303378461565452959, 1.42343711074968357734),
    (1.05075007164441684324e-9, 5.475938084995344946e-4, 0.0151986665636164571966,
     0.14810397642748007459, 0.68976733498510000455, 1.6763848301838038494,
     2.05319162663775882187, 1.0),
)
_FAR_TAIL = (
    (2.01033439929228813265e-7, 2.71155556874348757815e-5, 0.0012426609473880784386,
     0.026532189526576123093, 0.29656057182850489123, 1.7848265399172913358,
     5.4637849111641143699, 6.6579046435011037772),
    (2.04426310338993978564e-15, 1.4215117583164458887e-7, 1.8463183175100546818e-5,
     7.868691311456132591e-4, 0.0148753612908506148525, 0.13692988092273580531,
     0.59983220655588793769, 1.0),
)


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def _standard_normal_cdf(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF, elementwise (math.erfc: full double precision in both tails)."""
    return _ERFC(-np.asarray(x, dtype=float) / math.sqrt(2.0)).astype(float) / 2.0


def _standard_normal_quantile(p: np.ndarray) -> np.ndarray:
    """The inverse of the standard normal CDF, elementwise (AS241: about 16 digits)."""
    p = np.asarray(p, dtype=float)
    q = p - 0.5
    result = np.empty_like(p)
    central = np.abs(q) <= 0.425
    r = 0.180625 - q[central] ** 2
    result[central] = q[central] * np.polyval(_CENTRAL[0], r) / np.polyval(_CENTRAL[1], r)
    tail = ~central
    q_tail = q[tail]
    r = np.sqrt(-np.log(np.where(q_tail <= 0.0, p[tail], 1.0 - p[tail])))
    near, far = r - 1.6, r - 5.0
    x = np.where(r <= 5.0, np.polyval(_NEAR_TAIL[0], near) / np.polyval(_NEAR_TAIL[1], near),
                 np.polyval(_FAR_TAIL[0], far) / np.polyval(_FAR_TAIL[1], far))
    result[tail] = np.where(q_tail < 0.0, -x, x)
    return result


# -------------------------------------------------------------------------------------------
# the simulation


class Simulation:
    """`draws` draws of the base scenario: every segment, year and metric for every draw, its
    percentiles, and the tornado of the drivers (the output at each driver's P10 and P90)."""

    def __init__(self, model: Model, base_inputs: Mapping[str, float], draws: int, seed: int) -> None:
        dataset = model.dataset
        if not dataset.uncertainty:
            raise NotAvailableError(f"no uncertainty ranges: the data folder {dataset.directory} "
                                    "has no uncertainty.csv (see data/README.md)")
        self.model = model
        self.draws = draws
        self.seed = seed
        self.drivers = tuple(Driver.centred_on(item, base_inputs[key])
                             for key, item in dataset.uncertainty.items())
        self._base_inputs = dict(base_inputs)
        _check_corners(dataset, self._base_inputs, self.drivers)
        self.inputs: dict[str, np.ndarray] = {}
        self.correlations = {pair.with_key: pair for pair in dataset.correlations}
        by_key = {driver.key: driver for driver in self.drivers}
        for driver in self.drivers:
            if driver.key not in self.correlations:
                self.inputs[driver.key] = driver.sample(draws, seed)
        for key, pair in self.correlations.items():  # after their partners
            self.inputs[key] = by_key[key].sample_with(by_key[pair.key], self.inputs[pair.key],
                                                       pair.correlation, seed)
        self.inputs = {driver.key: self.inputs[driver.key] for driver in self.drivers}
        for values in self.inputs.values():
            values.setflags(write=False)
        self._market = market_recipes(dataset, {**self._base_inputs, **self.inputs})
        self._lock = threading.Lock()
        self._segments: OrderedDict[str, tuple[dict[str, np.ndarray], int]] = OrderedDict()
        self._percentiles: dict[tuple[str, int, str, float], float] = {}
        self._tornado: tuple[MarketRecipes, list[tuple[float, float]]] | None = None
        self._sensitivities: dict[tuple[str, int, str], pd.DataFrame] = {}

    def __repr__(self) -> str:
        return (f"<Simulation {self.draws:,} draws, seed {self.seed}, "
                f"{len(self.drivers)} drivers: {', '.join(d.key for d in self.drivers)}>")

    # ---------------------------------------------------------------------------------------

    def series(self, segment: str, metric: str = "revenue") -> np.ndarray:
        """Every draw of one segment and metric: a read-only array (draws, years)."""
        name, metric_name = self._resolve(segment, metric)
        return self._draws_of(name, metric_name)

    def percentile(self, segment: str, year: int, p: float, metric: str = "revenue") -> float:
        """The `p`-th percentile (0-100) over the draws of `segment` in `year` for `metric`
        (numpy's linear interpolation between draws).

        Raises:
            UnknownNameError, InvalidArgumentError (a year or percentile out of range),
            NotAvailableError (a metric the segment does not have, a year without volume).
        """
        percent = _percent(p)
        name, metric_name = self._resolve(segment, metric)
        self.model.value(name, year, metric_name)  # the model's checks and messages for year
        key = (name, int(year), metric_name, percent)
        number = self._percentiles.get(key)
        if number is None:
            column = self._draws_of(name, metric_name)[:, int(year) - FIRST_YEAR]
            number = float(np.percentile(column, percent))
            if math.isnan(number):
                raise NotAvailableError(f"{name} has no {metric_name} in {int(year)} in some draws")
            with self._lock:
                if len(self._percentiles) >= PERCENTILE_CACHE_SIZE:
                    self._percentiles.clear()
                self._percentiles[key] = number
        return number

    def base_percentile(self, segment: str, year: int, metric: str = "revenue") -> float:
        """Where the base case sits in the distribution: the percentage (0-100) of draws of
        `segment` in `year` for `metric` at or below the base scenario's value."""
        name, metric_name = self._resolve(segment, metric)
        base = self.model.value(name, year, metric_name)
        column = self._draws_of(name, metric_name)[:, int(year) - FIRST_YEAR]
        return float(np.count_nonzero(column <= base * (1.0 + 1e-12)) * 100.0 / len(column))

    def sensitivity(self, segment: str = "Global", year: int = 2030, metric: str = "revenue"
                    ) -> pd.DataFrame:
        """The tornado: for each driver, `segment`'s `metric` in `year` with that driver at its
        P10 and at its P90 and every other input at base, and the swing |high - low|; largest
        swing first (ties keep the order of uncertainty.csv). A driver that does not move this
        output (a swing of 0) is left out. `attrs` holds the base value.

        Columns: driver (the assumption key), low_value, high_value (the driver's P10 and P90),
        output_at_low, output_at_high, swing.
        """
        name, metric_name = self._resolve(segment, metric)
        base_output = self.model.value(name, year, metric_name)
        key = (name, int(year), metric_name)
        frame = self._sensitivities.get(key)
        if frame is None:
            market, settings = self._tornado_market()
            outputs = np.broadcast_to(market.series(name)[metric_name],
                                      (2 * len(self.drivers), len(YEARS)))[:, int(year) - FIRST_YEAR]
            rows = [(driver.key, low, high, float(outputs[2 * i]), float(outputs[2 * i + 1]),
                     abs(float(outputs[2 * i + 1]) - float(outputs[2 * i])))
                    for i, (driver, (low, high)) in enumerate(zip(self.drivers, settings, strict=True))]
            scale = max(abs(base_output), 1e-300)
            rows = [row for row in rows if row[-1] > 1e-12 * scale]
            frame = pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))
            frame = frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
            frame.attrs.update({"segment": name, "year": int(year), "metric": metric_name,
                                "base": base_output, "percentiles": SENSITIVITY_PERCENTILES})
            with self._lock:
                self._sensitivities[key] = frame
        return frame.copy()

    # ---------------------------------------------------------------------------------------

    def _resolve(self, segment: str, metric: str) -> tuple[str, str]:
        name = self.model.resolve_segment(segment)
        metric_name = self.model.resolve_metric(metric)
        self.model.series(name, metric_name)  # NotAvailableError: a metric the segment lacks
        return name, metric_name

    def _draws_of(self, name: str, metric: str) -> np.ndarray:
        """Every draw of one segment's metric; the segment's other metrics are kept with it,
        since its recipe computes them together (recently used segments, SEGMENT_CACHE_BYTES)."""
        with self._lock:
            found = self._segments.get(name)
            if found is not None:
                self._segments.move_to_end(name)
                return found[0][metric]
        computed, held = {}, {}
        for key, values in self._market.series(name).items():
            held[id(values)] = values.nbytes  # arrays shared with other segments count too
            array = np.broadcast_to(values, (self.draws, len(YEARS)))
            if array.flags.writeable:
                array.setflags(write=False)
            computed[key] = array
        with self._lock:
            self._segments[name] = (computed, sum(held.values()))
            while (len(self._segments) > 1
                   and sum(size for _, size in self._segments.values()) > SEGMENT_CACHE_BYTES):
                self._segments.popitem(last=False)
        return computed[metric]

    def _tornado_market(self) -> tuple[MarketRecipes, list[tuple[float, float]]]:
        """The market with one driver at a time at its P10 (even rows) and P90 (odd rows)."""
        if self._tornado is None:
            low_q, high_q = (p / 100.0 for p in SENSITIVITY_PERCENTILES)
            settings = [(driver.quantile(low_q), driver.quantile(high_q)) for driver in self.drivers]
            params: dict[str, object] = dict(self._base_inputs)
            for i, (driver, (low, high)) in enumerate(zip(self.drivers, settings, strict=True)):
                column = np.full(2 * len(self.drivers), driver.base)
                column[2 * i], column[2 * i + 1] = low, high
                params[driver.key] = column
            self._tornado = (market_recipes(self.model.dataset, params), settings)  # type: ignore[arg-type]
        return self._tornado


#: Drivers that only scale every price by a positive factor (the seaborne price and its growth,
#: China's price relative to it): no constraint changes sign with them (revenues scale, volumes
#: and capacities do not move), so the corner check holds them at their base value.
PRICE_SCALES = frozenset({"petroleum_price_usd_per_t_2024", "petroleum_price_growth_forecast",
                          "china_price_ratio"})


def _check_corners(dataset: Dataset, base_inputs: dict[str, float], drivers: tuple[Driver, ...]) -> None:
    """Raise AssumptionError when a corner of the ranges (each driver at its low or high end)
    breaks a constraint of the model; every draw is then possible (the module docstring).
    Drivers in PRICE_SCALES stay at base: they cannot break a constraint."""
    drivers = tuple(d for d in drivers if d.key not in PRICE_SCALES)
    count = len(drivers)
    corners = (np.arange(2**count)[:, None] >> np.arange(count)) & 1  # one row per corner
    params: dict[str, object] = dict(base_inputs)
    for i, driver in enumerate(drivers):
        params[driver.key] = np.where(corners[:, i] == 1, driver.high, driver.low)
    try:
        market = market_recipes(dataset, params)  # type: ignore[arg-type]
        market.series(OTHERS)  # the one recipe with a constraint of its own
    except AssumptionError as error:
        ranges = ", ".join(f"{d.key} {d.low:g} to {d.high:g}" for d in drivers)
        raise AssumptionError(f"the uncertainty ranges allow an impossible market: {error} (ranges: "
                              f"{ranges}); narrow the ranges in uncertainty.csv or change the "
                              "assumptions they centre on") from None


def _percent(p: object) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise InvalidArgumentError(f"percentile {p!r} is not a number; use 0-100 (e.g. 10, 50, 90)")
    number = float(p)
    if not 0.0 <= number <= 100.0:  # also NaN
        raise InvalidArgumentError(f"percentile {number:g} is outside 0-100")
    return number


def _whole(value: object, name: str, lowest: int, highest: int) -> int:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value != int(value)):
        raise InvalidArgumentError(f"{name} {value!r} is not a whole number; use {lowest:,}-{highest:,}")
    if not lowest <= value <= highest:
        raise InvalidArgumentError(f"{name} {int(value):,} is outside {lowest:,}-{highest:,}")
    return int(value)


# -------------------------------------------------------------------------------------------
# memo

_lock = threading.Lock()
_simulations: OrderedDict[tuple[int, int, int], Simulation] = OrderedDict()


def simulate(model: Model, base_inputs: Mapping[str, float], draws: int = DEFAULT_DRAWS,
             seed: int = DEFAULT_SEED) -> Simulation:
    """The simulation of `model` for (draws, seed), built once and kept while recently used.

    Raises:
        InvalidArgumentError: draws outside 1-MAX_DRAWS or a seed that is not a whole number >= 0.
        NotAvailableError: the data folder has no uncertainty.csv.
        AssumptionError: the ranges allow an impossible market.
    """
    draws_number = _whole(draws, "draws", 1, MAX_DRAWS)
    seed_number = _whole(seed, "seed", 0, 2**63 - 1)
    key = (id(model), draws_number, seed_number)
    with _lock:
        found = _simulations.get(key)
        if found is not None and found.model is model:  # a cached simulation keeps its model alive
            _simulations.move_to_end(key)
            return found
    simulation = Simulation(model, base_inputs, draws_number, seed_number)
    with _lock:
        _simulations[key] = simulation
        _simulations.move_to_end(key)
        while len(_simulations) > SIMULATION_CACHE_SIZE:
            _simulations.popitem(last=False)
    return simulation


def clear_simulations() -> None:
    """Forget every memoized simulation (and the models they keep alive)."""
    with _lock:
        _simulations.clear()
