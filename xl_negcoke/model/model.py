"""The public model: `load_model` and the `Model` every other layer asks for numbers.

All scenarios are computed once when the model loads; every question after that is a lookup.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from xl_negcoke.errors import InvalidArgumentError, NotAvailableError, UnknownNameError, shorten
from xl_negcoke.model.dataset import (
    APPLICATIONS,
    ASSUMPTION_KEYS,
    BASE_YEAR,
    FIRST_YEAR,
    LAST_YEAR,
    REGIONS,
    TYPES,
    UNDATED,
    YEARS,
    Company,
    Dataset,
    check_value,
    load_dataset,
)
from xl_negcoke.model.inputs import read_overrides
from xl_negcoke.model.market import GLOBAL, OTHERS, Market, compute_market
from xl_negcoke.model.names import (
    DIMENSION_ALIASES,
    DIMENSION_LABELS,
    DIMENSIONS,
    METRIC_ALIASES,
    METRIC_UNITS,
    METRICS,
    SCENARIO_ALIASES,
    SEGMENT_ALIASES,
    Resolver,
)
from xl_negcoke.model.simulation import DEFAULT_DRAWS, DEFAULT_SEED, Simulation, simulate

COMPANY_FIELDS = ("hq_country", "region", "type", "tier", "rank", "capacity", "volume", "revenue",
                  "price", "share", "utilisation", "first_year", "last_year", "news", "overview", "source")
COMPANY_FIELD_ALIASES = {
    "hq_country": ("hq", "country", "headquarters", "home country"),
    "type": ("product", "product type", "feedstock"),
    "capacity": ("capacity_kt", "nameplate"),
    "volume": ("sales", "volume_kt", "production", "output"),
    "revenue": ("revenue_musd", "sales value"),
    "price": ("price_usd_per_t", "asp"),
    "share": ("market share", "revenue share"),
    "utilisation": ("utilization", "utilisation rate", "utilization rate", "load factor"),
    "news": ("key news", "latest news"),
    "overview": ("business overview", "description", "profile"),
    "source": ("provenance",),
}
NUMERIC_COMPANY_FIELDS = ("capacity", "volume", "revenue", "price", "share", "utilisation")

METHODS = {
    GLOBAL: "derived: volume = world anode (published to 2024, then the latest outlook's growth) x "
            "artificial-graphite share x coke per tonne of anode; revenue = sum over types and "
            "regions of volume x price / 1,000; price = revenue / volume (the mix average); "
            "capacity = the anode capacity of every plant in producers.csv (nameplate x anode "
            "share while it runs) plus capacity not yet announced where a type's utilisation would "
            "pass utilisation_ceiling; the independent refiners' anode share makes the top five "
            "hold report:S6's 48% of 2023 capacity",
    "Petroleum-based": "derived: Global volume x petroleum-based share path; price = the seaborne "
                       "price, China's at china_price_ratio times it: the mix average of the regions",
    "Coal-based": "derived: Global volume less petroleum-based volume; price = petroleum-based "
                  "price x coal_price_ratio (the mix average of the regions)",
    "Power Battery": "derived: closes to the Global volume (Global less Energy Storage and Consumer "
                     "Battery); 62% of 2023 volume (report:S1)",
    "Consumer Battery": "derived: 2023 share 1 - S1 - S2 = 15%, then consumer_battery_growth_history"
                        " / _forecast",
    "Energy Storage": "derived: 23% of 2023 volume (report:S2), 68% CAGR 2020-2023 (report:S4), "
                      "3.0x 2023 by 2030 (report:S3)",
    OTHERS: "derived: Global less every listed company, for capacity, volume and revenue: the "
            "groups of producers.csv (other Chinese needle-coke producers, independent refiners, "
            "other producers outside China) and the capacity not yet announced",
}
#: The label of a table's last row where it is not a sum: a price table's last row is the
#: whole's revenue / volume, the mean of the rows' prices weighted by their volumes.
TOTAL_LABELS = {"price": "Average (volume-weighted)"}
METRIC_DEFINITIONS = {
    "revenue": "revenue in US$ million = volume (kt) x price (US$/t) / 1,000",
    "volume": "sales volume (consumption) in kt of negative coke",
    "price": "average price in US$/t = revenue / volume; by type the mix average of the regions, by "
             "region the mix average of the types, by application the global average",
    "capacity": "anode-coke capacity in kt/yr: nameplate x the share serving anode material "
                "(plants of producers.csv, with capacity not yet announced; types, companies, "
                "regions, countries, Global)",
}


class Model:
    """Every number of the negative coke market, for every scenario, with its provenance."""

    def __init__(self, dataset: Dataset, overrides: Mapping[str, object] | None = None) -> None:
        self.dataset = dataset
        self.base_year = BASE_YEAR
        self.years = YEARS
        defaults = self._default_inputs()
        self._overrides = read_overrides(overrides or {}, defaults, check_value)  # canonical keys
        base, scenario_inputs = self._apply_overrides(defaults, self._overrides)
        self._inputs = {"base": base}
        self._inputs.update({name: {**base, **extra} for name, extra in scenario_inputs.items()})
        self.markets: dict[str, Market] = {
            name: compute_market(dataset, inputs) for name, inputs in self._inputs.items()
        }

        # names -----------------------------------------------------------------------------
        countries = tuple(c.name for c in dataset.countries)
        companies = tuple(c.name for c in dataset.companies)
        self._members: dict[str, tuple[str, ...]] = {
            "type": TYPES,
            "application": APPLICATIONS,
            "region": REGIONS,
            "country": countries,
            "company": (*companies, OTHERS),
            "global": (GLOBAL,),
        }
        for region in REGIONS:
            self._members[region] = tuple(c.name for c in dataset.countries if c.region == region)
        self._dimension_of: dict[str, str] = {GLOBAL: "global"}
        for dimension in DIMENSIONS:
            for name in self._members[dimension]:
                self._dimension_of[name] = dimension
        segment_aliases = {k: list(v) for k, v in SEGMENT_ALIASES.items()}
        for entity in (*dataset.countries, *dataset.companies):
            segment_aliases.setdefault(entity.name, []).extend(entity.aliases)
        self._segments = Resolver("segment", self._dimension_of, segment_aliases,
                                  'see NEGCOKE_SEGMENTS("all")')
        self._companies = Resolver("company", companies, {c.name: c.aliases for c in dataset.companies},
                                   'see NEGCOKE_SEGMENTS("company")')
        self._metrics = Resolver("metric", METRICS, METRIC_ALIASES)
        self._scenarios = Resolver("scenario", tuple(self._inputs), SCENARIO_ALIASES)
        self._dimensions = Resolver("dimension", (*DIMENSIONS, "global", "all", *REGIONS),
                                    DIMENSION_ALIASES)
        self._fields = Resolver("field", COMPANY_FIELDS, COMPANY_FIELD_ALIASES)

        # every number, flat, for constant-time lookups ---------------------------------------
        self._flat: dict[tuple[str, int, str, str], float] = {}
        for scenario, market in self.markets.items():
            for segment, series in market.values.items():
                for metric, array in series.items():
                    for year, number in zip(YEARS, array.tolist(), strict=False):
                        self._flat[(segment, year, metric, scenario)] = number
        self._tables: dict[tuple, pd.DataFrame] = {}

    # ---------------------------------------------------------------------------------------
    # inputs

    def _default_inputs(self) -> dict[str, float]:
        inputs = {key: a.value for key, a in self.dataset.assumptions.items()}
        for country in self.dataset.countries:
            inputs[self.dataset.country_weight_key(country)] = country.weight
            inputs[self.dataset.country_weight_2030_key(country)] = country.weight_2030
        for plant in self.dataset.plants:
            if plant.anode_share is not None:  # a calibrated plant has no input (report S6)
                inputs[self.dataset.plant_capacity_key(plant)] = plant.capacity_kt
                inputs[self.dataset.plant_anode_share_key(plant)] = plant.anode_share
        return inputs

    def _apply_overrides(self, defaults: dict[str, float], overrides: Mapping[str, object]
                         ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        base = dict(defaults)
        scenarios = {name: {k: a.value for k, a in values.items()}
                     for name, values in self.dataset.scenarios.items()}
        for key, value in overrides.items():  # parsed and checked by read_overrides
            scenario, _, name = key.rpartition(".")
            if not scenario:
                base[name] = value
            else:
                scenarios.setdefault(scenario, {})[name] = value
        return base, scenarios

    # ---------------------------------------------------------------------------------------
    # resolution

    def _year(self, year: object, name: str = "year") -> int:
        if isinstance(year, bool) or not isinstance(year, (int, float, np.integer, np.floating)):
            raise InvalidArgumentError(f"{name} {shorten(repr(year))} is not a year; use "
                                       f"{FIRST_YEAR}-{LAST_YEAR}")
        if not math.isfinite(year) or year != int(year):
            raise InvalidArgumentError(f"{name} {year!r} is not a whole year; use "
                                       f"{FIRST_YEAR}-{LAST_YEAR}")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise InvalidArgumentError(f"{name} {int(year)} is outside {FIRST_YEAR}-{LAST_YEAR}")
        return int(year)

    def resolve_segment(self, segment: object) -> str:
        """Canonical name of a segment (type, application, region, country, company, Global)."""
        return self._segments.resolve(segment)

    def resolve_metric(self, metric: object) -> str:
        return self._metrics.resolve(metric)

    def resolve_scenario(self, scenario: object) -> str:
        return self._scenarios.resolve(scenario)

    def resolve_dimension(self, dimension: object) -> str:
        return self._dimensions.resolve(dimension)

    def dimension_of(self, segment: str) -> str:
        """The dimension a canonical segment belongs to ('global' for Global)."""
        return self._dimension_of[segment]

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(self._inputs)

    # ---------------------------------------------------------------------------------------
    # numbers

    def value(self, segment: str, year: int, metric: str = "revenue", scenario: str = "base") -> float:
        """One number: `segment` in `year` for `metric` (revenue, volume, price, capacity).

        Raises:
            UnknownNameError, InvalidArgumentError, NotAvailableError.
        """
        try:
            number = self._flat[(segment, year, metric, scenario)]
        except (KeyError, TypeError):
            return self._value_slow(segment, year, metric, scenario)
        if number != number:  # NaN: a company price in a year without volume
            return self._value_slow(segment, year, metric, scenario)
        return number

    def _value_slow(self, segment: object, year: object, metric: object, scenario: object) -> float:
        name = self.resolve_segment(segment)
        metric_name = self.resolve_metric(metric)
        scenario_name = self.resolve_scenario(scenario)
        year_number = self._year(year)
        try:
            number = self._flat[(name, year_number, metric_name, scenario_name)]
        except KeyError:
            raise NotAvailableError(self._not_available(name, metric_name)) from None
        if math.isnan(number):
            raise NotAvailableError(f"{name} has no {metric_name} in {year_number} (no volume that year)")
        return number

    def _not_available(self, segment: str, metric: str) -> str:
        dimension = self.dimension_of(segment)
        have = [m for m in METRICS if (segment, FIRST_YEAR, m, "base") in self._flat]
        return (f"{metric} is not available by {dimension} ({segment}); use "
                f"{', '.join(have)}")

    def series(self, segment: str, metric: str = "revenue", scenario: str = "base") -> np.ndarray:
        """All years of one segment and metric (a copy)."""
        name = self.resolve_segment(segment)
        metric_name = self.resolve_metric(metric)
        market = self.markets[self.resolve_scenario(scenario)]
        try:
            return market.values[name][metric_name].copy()
        except KeyError:
            raise NotAvailableError(self._not_available(name, metric_name)) from None

    def share(self, segment: str, year: int, metric: str = "revenue", scenario: str = "base") -> float:
        """Share (0-1) of `segment` in its dimension's total (Global for every dimension)."""
        metric_name = self.resolve_metric(metric)
        if metric_name == "price":
            raise NotAvailableError("price has no share; use revenue, volume or capacity")
        number = self.value(segment, year, metric_name, scenario)
        total = self.value(GLOBAL, year, metric_name, scenario)
        if total == 0:  # e.g. a price of 0 makes every revenue 0
            raise NotAvailableError(f"no share: Global {metric_name} is 0 in {self._year(year)}")
        return number / total

    def cagr(self, segment: str, start_year: int, end_year: int, metric: str = "revenue",
             scenario: str = "base") -> float:
        """Compound annual growth rate of `segment` from start_year to end_year."""
        start = self._year(start_year, "start_year")
        end = self._year(end_year, "end_year")
        if start >= end:
            raise InvalidArgumentError(f"start_year {start} must be before end_year {end}")
        first = self.value(segment, start, metric, scenario)
        last = self.value(segment, end, metric, scenario)
        if first <= 0 or last < 0:
            raise NotAvailableError(f"no growth rate from {first:g} in {start} to {last:g} in {end} "
                                    "(needs a positive start value)")
        return (last / first) ** (1.0 / (end - start)) - 1.0

    def segments(self, dimension: str) -> list[str]:
        """Valid names of a dimension: type, application, region, country, company, a region's
        name (its countries) or all (every segment, Global first)."""
        name = self.resolve_dimension(dimension)
        if name == "all":
            return [GLOBAL, *(s for d in DIMENSIONS for s in self._members[d])]
        return list(self._members[name])

    def table(self, dimension: str, metric: str = "revenue", start_year: int = FIRST_YEAR,
              end_year: int = LAST_YEAR, scenario: str = "base") -> pd.DataFrame:
        """Segments as rows, years as columns and a Total row (for price: the average price,
        labelled TOTAL_LABELS["price"]: revenue / volume of the whole, a volume-weighted mean).

        A region's name as dimension gives its countries, with the region as Total; "global"
        gives the one Global row (no Total row: it is the total).
        """
        name = self.resolve_dimension(dimension)
        if name == "all":
            raise InvalidArgumentError('dimension "all" has no table; use type, application, '
                                       "region, country, company or a region's name")
        metric_name = self.resolve_metric(metric)
        start = self._year(start_year, "start_year")
        end = self._year(end_year, "end_year")
        if start > end:
            raise InvalidArgumentError(f"start_year {start} is after end_year {end}")
        scenario_name = self.resolve_scenario(scenario)
        key = (name, metric_name, start, end, scenario_name)
        cached = self._tables.get(key)
        if cached is None:
            cached = self._build_table(*key)
            self._tables[key] = cached
        return cached.copy()

    def _build_table(self, dimension: str, metric: str, start: int, end: int, scenario: str
                     ) -> pd.DataFrame:
        values = self.markets[scenario].values
        rows = self._members[dimension]
        total_name = dimension if dimension in REGIONS else GLOBAL
        if metric not in values[rows[0]]:
            raise NotAvailableError(self._not_available(rows[0], metric))
        columns = list(range(start, end + 1))
        window = slice(start - FIRST_YEAR, end - FIRST_YEAR + 1)
        data = [values[row][metric][window] for row in rows]
        labels = list(rows)
        if dimension != "global":  # the Global table is its own total
            data.append(values[total_name][metric][window])
            labels.append(TOTAL_LABELS.get(metric, "Total"))
        frame = pd.DataFrame(np.array(data), index=labels, columns=columns)
        frame.index.name = DIMENSION_LABELS.get(dimension, DIMENSION_LABELS["country"])
        return frame

    def concentration(self, n: int, year: int, metric: str = "capacity", scenario: str = "base"
                      ) -> float:
        """Share of the top `n` listed companies (ranked in `year`) in the global `metric`."""
        if isinstance(n, bool) or not isinstance(n, (int, float)) or n != int(n) or n < 1:
            raise InvalidArgumentError(f"n {n!r} must be a whole number of companies, 1 or more")
        metric_name = self.resolve_metric(metric)
        if metric_name == "price":
            raise NotAvailableError("price has no concentration; use capacity, volume or revenue")
        year_number = self._year(year)
        scenario_name = self.resolve_scenario(scenario)
        numbers = sorted((self._flat[(c, year_number, metric_name, scenario_name)]
                          for c in self._members["company"] if c != OTHERS), reverse=True)
        return math.fsum(numbers[: int(n)]) / self._flat[(GLOBAL, year_number, metric_name,
                                                           scenario_name)]

    # ---------------------------------------------------------------------------------------
    # companies and facts

    def company(self, name: str, field: str, year: int | None = None, scenario: str = "base"
                ) -> float | int | str:
        """A company figure (capacity, volume, revenue, price, share, utilisation: `year`
        defaults to the base year) or fact (hq_country, region, type, tier, rank, news, ...)."""
        company_name = self._companies.resolve(name)
        field_name = self._fields.resolve(field)
        company = next(c for c in self.dataset.companies if c.name == company_name)
        if field_name in NUMERIC_COMPANY_FIELDS or field_name == "rank":
            year_number = BASE_YEAR if year is None else self._year(year)
            if field_name == "share":
                return self.share(company_name, year_number, "revenue", scenario)
            if field_name == "utilisation":
                capacity = self.value(company_name, year_number, "capacity", scenario)
                if capacity <= 0:
                    raise NotAvailableError(f"{company_name} does not produce in {year_number} "
                                            f"({company.first_year}-{company.last_year})")
                return self.value(company_name, year_number, "volume", scenario) / capacity
            if field_name == "rank":
                return self.rank(company_name, year_number, scenario=scenario)
            return self.value(company_name, year_number, field_name, scenario)
        facts: dict[str, Callable[[], object]] = {
            "hq_country": lambda: company.hq_country,
            "region": lambda: next(c.region for c in self.dataset.countries
                                   if c.name == company.hq_country),
            "type": lambda: company.type,
            "tier": lambda: self.tier(company_name),
            "first_year": lambda: company.first_year,
            "last_year": lambda: company.last_year,
            "news": lambda: self._latest_news(company_name),
            "overview": lambda: self._overview(company),
            "source": lambda: company.source,
        }
        return facts[field_name]()  # type: ignore[return-value]

    def ranking(self, year: int = BASE_YEAR, metric: str = "revenue", scenario: str = "base"
                ) -> list[str]:
        """Listed companies ordered by `metric` in `year`, largest first; companies with equal
        values keep the order of companies.csv (they share a rank, see `rank`)."""
        year_number = self._year(year)
        metric_name = self.resolve_metric(metric)
        scenario_name = self.resolve_scenario(scenario)
        names = [c for c in self._members["company"] if c != OTHERS]
        return sorted(names, key=lambda c: -self._flat[(c, year_number, metric_name, scenario_name)])

    def rank(self, company: str, year: int = BASE_YEAR, metric: str = "revenue",
             scenario: str = "base") -> int:
        """1 + the number of listed companies with a larger `metric` in `year`: equal values
        share a rank (a tie: 1, 2, 2, 4), within a relative 1e-12."""
        name = self._companies.resolve(company)
        year_number = self._year(year)
        metric_name = self.resolve_metric(metric)
        scenario_name = self.resolve_scenario(scenario)
        own = self._flat[(name, year_number, metric_name, scenario_name)]
        larger = sum(1 for c in self._members["company"]
                     if c != OTHERS and self._flat[(c, year_number, metric_name, scenario_name)]
                     > own + 1e-12 * abs(own))
        return larger + 1

    def tier(self, company: str) -> str:
        """Tier 1: ranked in the top five by 2023 capacity (report S6; a tie at fifth place
        counts); tier 2: other producers with 100 kt/yr of anode capacity or more in 2023;
        tier 3: the rest."""
        name = self._companies.resolve(company)
        if self.rank(name, BASE_YEAR, "capacity") <= 5:
            return "Tier 1"
        if self.value(name, BASE_YEAR, "capacity") >= 100:
            return "Tier 2"
        return "Tier 3"

    def _overview(self, company: Company) -> str:
        """What the company is, from the data alone: type and headquarters, the overview of
        companies.csv, and its plants of producers.csv (site, country, product, years)."""
        country = company.hq_country
        where = f"the {country}" if country.startswith("United ") else country
        parts = [f"{company.type} producer headquartered in {where}."]
        if company.overview:
            parts.append(company.overview if company.overview.endswith(".")
                         else f"{company.overview}.")
        plants = []
        for plant in self.dataset.plants:
            if plant.producer != company.name:
                continue
            years = (f", from {plant.first_year}" if plant.first_year > FIRST_YEAR else "") + \
                (f", to {plant.last_year}" if plant.last_year < LAST_YEAR else "")
            plants.append(f"{plant.site} ({plant.country}; {plant.product}{years})")
        if plants:
            parts.append(f"Plants: {'; '.join(plants)}.")
        return " ".join(parts)

    def _latest_news(self, company: str) -> str:
        """The latest dated news item ("date: news"); an undated one ("n/d") counts as oldest."""
        items = sorted((n for n in self.dataset.news if n["company"] == company),
                       key=lambda n: (n["date"] != UNDATED, n["date"]))
        if not items:
            raise NotAvailableError(f"no news recorded for {company}")
        return f"{items[-1]['date']}: {items[-1]['news']}"

    def source(self, key: str) -> str:
        """Provenance text of an assumption key, a claim id (S1-S17), a segment, a company, a
        country or a metric."""
        text = str(key).strip()
        assumptions = self.assumptions()
        match = assumptions[assumptions["key"].str.casefold() == text.casefold()]
        if len(match):
            row = match.iloc[0]
            return (f"{row['key']} = {row['value']:g} {row['unit']}: {row['source']}"
                    + self._conflicts_of(row["key"]))
        for claim in self.dataset.claims:
            if claim["id"].casefold() == text.casefold():
                return (f"{claim['id']} ({claim['source']}): {claim['claim']}. {claim['note']}"
                        + self._conflicts_of(claim["id"]))
        for conflict in self.dataset.conflicts:
            if conflict.id.casefold() == text.casefold():
                return conflict.text()
        if text.casefold() in (m.casefold() for m in METRICS) or text in self._metrics:
            metric = self.resolve_metric(text)
            return f"{metric}: {METRIC_DEFINITIONS[metric]}"
        if text in self._segments:
            segment = self.resolve_segment(text)
            if segment in METHODS:
                return f"{segment}: {METHODS[segment]}"
            dimension = self.dimension_of(segment)
            if dimension == "company":
                return f"{segment}: {next(c.source for c in self.dataset.companies if c.name == segment)}"
            if dimension == "country":
                country = next(c for c in self.dataset.countries if c.name == segment)
                if segment == "China":
                    return f"China: {self.dataset.assumptions['china_revenue_share_2023'].source}"
                return (f"{segment}: anode material made there {country.weight:g} kt (2024), "
                        f"{country.weight_2030:g} kt (2030), its weight in the non-China share: "
                        f"{country.source}")
            return f"{segment}: derived: sum of its countries (see NEGCOKE_SEGMENTS(\"{segment}\"))"
        raise UnknownNameError("source key", text, _closest(text, list(assumptions["key"])),
                               "an assumption key, a claim id S1-S17, a conflict id C1-C"
                               f"{len(self.dataset.conflicts)}, a segment or a metric")

    def _conflicts_of(self, key: str) -> str:
        """" Conflicts: C2, C15" for the conflicts whose text names `key` (a claim id such as S5 or
        an assumption key), or "" when none does."""
        pattern = re.compile(rf"(?<![\w]){re.escape(key)}(?![\w])", re.IGNORECASE)
        found = [c.id for c in self.dataset.conflicts
                 if any(pattern.search(part) for part in (c.source_a, c.source_b, c.claim, c.why))]
        return f" Conflicts: {', '.join(found)} (see NEGCOKE_SOURCE(\"{found[0]}\"))" if found else ""

    def conflicts(self) -> pd.DataFrame:
        """The conflicts register (data/conflicts.csv): one row per disagreement between sources."""
        columns = ["id", "topic", "claim", "source_a", "value_a", "source_b", "value_b",
                   "side_taken", "why"]
        return pd.DataFrame([[getattr(c, name) for name in columns] for c in self.dataset.conflicts],
                            columns=columns)

    def assumptions(self) -> pd.DataFrame:
        """Every input the model uses: key, value, unit, source, description (base values first,
        then each scenario's values as scenario.key)."""
        cached = self._tables.get(("assumptions",))
        if cached is None:
            cached = self._build_assumptions()
            self._tables[("assumptions",)] = cached
        return cached.copy()

    def _build_assumptions(self) -> pd.DataFrame:
        rows: list[tuple[str, float, str, str, str]] = []
        base = self._inputs["base"]
        for key, item in self.dataset.assumptions.items():
            rows.append((key, base[key], item.unit, item.source, item.description))
        for country in self.dataset.countries:
            key = self.dataset.country_weight_key(country)
            rows.append((key, base[key], "kt", country.source,
                         f"{country.name}: anode material made there in 2024, its weight in the "
                         f"non-China share ({country.region})"))
            key = self.dataset.country_weight_2030_key(country)
            rows.append((key, base[key], "kt", country.source,
                         f"{country.name}: anode material made there by 2030 (weight, linear "
                         "from 2024)"))
        for plant in self.dataset.plants:
            if plant.anode_share is not None:  # a calibrated plant has no input (report S6)
                key = self.dataset.plant_capacity_key(plant)
                rows.append((key, base[key], "kt/yr", plant.capacity_source,
                             f"{plant.producer}, {plant.site}: nameplate {plant.product} capacity "
                             f"({plant.type}, {plant.country})"))
                key = self.dataset.plant_anode_share_key(plant)
                rows.append((key, base[key], "share", plant.anode_share_source,
                             f"{plant.producer}, {plant.site}: share of its capacity serving anodes"))
        for scenario, inputs in self._inputs.items():
            if scenario == "base":
                continue
            data = self.dataset.scenarios.get(scenario, {})
            for key, value in inputs.items():
                if key in data or f"{scenario}.{key}" in self._overrides:
                    item = data.get(key)
                    source = item.source if item else "assumption: set in the workbook's Assumptions"
                    description = item.description if item else f"{scenario} scenario value"
                    rows.append((f"{scenario}.{key}", value, ASSUMPTION_KEYS.get(key, ("", ""))[1]
                                 or "x", source, description))
        frame = pd.DataFrame(rows, columns=["key", "value", "unit", "source", "description"])
        return frame

    def frame(self) -> pd.DataFrame:
        """Every number as a tidy table: dimension, segment, year, metric, scenario, value."""
        records = [(self._dimension_of[segment], segment, year, metric, scenario, number)
                   for (segment, year, metric, scenario), number in self._flat.items()]
        return pd.DataFrame(records, columns=["dimension", "segment", "year", "metric", "scenario",
                                              "value"])

    def info(self) -> dict[str, object]:
        """Version, dataset id, base year, years and scenarios."""
        from xl_negcoke import __version__

        info: dict[str, object] = {
            "version": __version__, "dataset_id": self.dataset.dataset_id, "base_year": BASE_YEAR,
            "first_year": FIRST_YEAR, "last_year": LAST_YEAR,
            "first_forecast_year": self.first_forecast_year(),
            "scenarios": ", ".join(self.scenarios), "data_dir": str(self.dataset.directory)}
        for year, item in self.dataset.year_status.items():
            info[f"status {year}"] = item.status
        return info

    def status(self, year: object) -> str:
        """What the model's numbers for `year` are: "actual", "estimate" or "forecast"
        (data/years.csv, with the basis of each year).

        Raises:
            InvalidArgumentError: a year outside the model's years.
        """
        return self.dataset.year_status[self._year(year)].status

    def first_forecast_year(self) -> int:
        """The first year whose status is "forecast" (charts mark where the forecast starts)."""
        return next((y for y, s in self.dataset.year_status.items() if s.status == "forecast"),
                    self.years[-1] + 1)

    def unit(self, metric: str) -> str:
        return METRIC_UNITS[self.resolve_metric(metric)]

    def simulate(self, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> Simulation:
        """Draw the drivers of uncertainty.csv `draws` times around the base scenario and compute
        every segment, year and metric for each draw (memoized per model, draws and seed).

        Raises:
            InvalidArgumentError (draws, seed), NotAvailableError (no uncertainty.csv),
            AssumptionError (ranges that allow an impossible market).
        """
        return simulate(self, self._inputs["base"], draws, seed)


def _closest(text: str, names: list[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(text, names, n=3, cutoff=0.5)


def load_model(data_dir: str | Path | None = None, overrides: Mapping[str, object] | None = None
               ) -> Model:
    """Load a data folder (None: the embedded dataset) and compute every scenario.

    Args:
        data_dir: a data folder; None for the embedded default dataset.
        overrides: assumption key -> value (what the workbook's Assumptions table feeds);
            `scenario.key` sets a scenario's value and defines a new scenario if needed.

    Raises:
        DataError: a bad data folder. AssumptionError: an unknown key or unusable value.
    """
    return Model(load_dataset(data_dir), overrides)
