"""Read and validate a data folder (the embedded default dataset or an analyst's own).

Every problem is raised as one `DataError` naming file, row (as a spreadsheet shows it: the
header is row 1) and column. The dataset is plain text on purpose: CSV with a header row and a
provenance column, so a reviewer reads every change in a diff.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from xl_negcoke.errors import DataError, shorten
from xl_negcoke.model.inputs import MAX_SCENARIOS, parse_number, scenario_problem
from xl_negcoke.model.names import Namespace

# The embedded dataset: data/ at the top of the repository, shipped inside the package as
# xl_negcoke/_data (a link to data/ in the repository, a copy in an installed wheel).
DEFAULT_DATA_DIR = (Path(__file__).resolve().parents[1] / "_data").resolve()
DATA_ENVIRONMENT_VARIABLE = "XL_NEGCOKE_DATA"  # an analyst's own data folder, for Excel and CLI

FIRST_YEAR = 2019
BASE_YEAR = 2023
LAST_YEAR = 2030
YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))

TYPES = ("Petroleum-based", "Coal-based")
APPLICATIONS = ("Power Battery", "Consumer Battery", "Energy Storage")
REGIONS = ("North America", "Europe", "Asia", "South America", "Middle East & Africa")

PROVENANCE_PREFIXES = ("report:", "source:", "derived:", "assumption:")

MAX_CSV_BYTES = 10_000_000  # a data file larger than this is refused before it is read
MAX_FIELD_CHARS = 32_767  # Excel's limit for the text of one cell
MAX_CSV_ROWS = 5_000  # rows of one data file (the embedded files have under 50)
# control characters cannot be written to a workbook (tab and line breaks can)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

UNCERTAINTY_FILE = "uncertainty.csv"  # optional: ranges of the drivers for simulations
DISTRIBUTIONS = ("triangular", "normal")
PRODUCERS_FILE = "producers.csv"  # plants: capacity, years, anode share (model/supply.py)
PRODUCTS = ("needle coke", "anode-grade petcoke")
CALIBRATED = "calibrated"  # producers.csv anode_share of the plants that close report S6
PLANT_YEARS = (1950, 2100)  # plants may start before the model's first year
YEARS_FILE = "years.csv"  # the status of every year: actual, estimate or forecast
YEAR_STATUSES = ("actual", "estimate", "forecast")
MAX_UNCERTAIN_DRIVERS = 16  # simulate() checks the 2^n corners of the ranges
CORRELATIONS_FILE = "correlations.csv"  # optional: correlations between drivers of uncertainty.csv
CONFLICTS_FILE = "conflicts.csv"  # disagreements between sources: both values and the side taken
CONFLICT_SIDES = ("source_a", "source_b", "both", "neither")

# Every scalar input of the model: key -> (kind, unit). Kinds: "share" must lie in 0..1,
# "level" must be >= 0, "rate" is any finite number above -1, "change" any finite number.
# Yearly series list every year they need, so a missing year is reported as a year gap.
_SCALARS: dict[str, tuple[str, str]] = {
    "coke_per_anode_t": ("level", "t/t"),
    "power_battery_share_2023": ("share", "share"),
    "energy_storage_share_2023": ("share", "share"),
    "energy_storage_cagr_2020_2023": ("rate", "rate"),
    "energy_storage_multiple_2030": ("level", "x"),
    "anode_growth_2025": ("rate", "rate"),
    "anode_cagr_2025_2030": ("rate", "rate"),
    "consumer_battery_growth_history": ("rate", "rate"),
    "consumer_battery_growth_forecast": ("rate", "rate"),
    "petroleum_share_2023": ("share", "share"),
    "petroleum_share_change_per_year": ("change", "share/yr"),
    "petroleum_price_growth_forecast": ("rate", "rate"),
    "coal_price_ratio": ("level", "x"),
    "china_price_ratio": ("level", "x"),
    "china_revenue_share_2023": ("share", "share"),
    "china_share_change_per_year_history": ("change", "share/yr"),
    "china_share_change_per_year_forecast": ("change", "share/yr"),
    "top5_capacity_share_2023": ("share", "share"),
    "utilisation_ceiling": ("share", "share"),
}
SERIES: dict[str, tuple[tuple[int, ...], str, str]] = {
    # series -> (anchor years, kind, unit); years between anchors are interpolated by the model.
    "anode_world_kt": ((2019, 2020, 2021, 2022, 2023, 2024), "level", "kt"),
    "artificial_graphite_share": ((2019, 2021, 2022, 2024), "share", "share"),
    "petroleum_price_usd_per_t": ((2019, 2020, 2021, 2022, 2023, 2024), "level", "US$/t"),
}


def _expected_keys() -> dict[str, tuple[str, str]]:
    keys = dict(_SCALARS)
    for name, (years, kind, unit) in SERIES.items():
        for year in years:
            keys[f"{name}_{year}"] = (kind, unit)
    return keys


ASSUMPTION_KEYS = _expected_keys()


PLANT_CAPACITY_PREFIX = "capacity_kt_"
PLANT_ANODE_SHARE_PREFIX = "anode_share_"


def input_kind(key: str) -> str:
    """The kind of any model input key: an assumption's, "level" for a country weight or a plant
    capacity, "share" for a plant's anode share."""
    if key in ASSUMPTION_KEYS:
        return ASSUMPTION_KEYS[key][0]
    if key.startswith(PLANT_ANODE_SHARE_PREFIX):
        return "share"
    return "level"


@functools.lru_cache(maxsize=4096)
def slug(name: str) -> str:
    """Turn a display name into a key fragment: 'U.K.' -> 'u_k', 'Middle East & Africa' -> ..."""
    text = name.lower().replace("&", " and ")
    parts = "".join(ch if ch.isalnum() else " " for ch in text).split()
    return "_".join(parts)


@dataclass(frozen=True)
class Country:
    """One country or sub-region of the report's §6, with its weight in the non-China remainder:
    the anode material made there (kt) in 2024 (held back to 2019) and by 2030 (linear between)."""

    name: str
    region: str
    aliases: tuple[str, ...]
    weight: float
    source: str
    weight_2030: float = 0.0


@dataclass(frozen=True)
class Conflict:
    """Two sources that disagree on one claim: both values, the side the model takes, and why."""

    id: str
    topic: str
    claim: str
    source_a: str
    value_a: str
    source_b: str
    value_b: str
    side_taken: str
    why: str

    def text(self) -> str:
        """One line: the claim, both sides and the one taken."""
        taken = {"source_a": "A", "source_b": "B", "both": "both", "neither": "neither"}[self.side_taken]
        return (f"{self.id} ({self.topic}) {self.claim}: A {self.value_a} [{self.source_a}]; "
                f"B {self.value_b} [{self.source_b}]; taken: {taken}, {self.why}")


@dataclass(frozen=True)
class Correlation:
    """The correlation (Gaussian copula) between two drivers of uncertainty.csv."""

    key: str
    with_key: str
    correlation: float
    source: str


@dataclass(frozen=True)
class Company:
    """One named producer: who it is. Its plants (producers.csv) give its capacity and the
    years it produces (first_year..last_year: the model years in which a plant of it runs)."""

    name: str
    aliases: tuple[str, ...]
    hq_country: str
    type: str
    first_year: int
    last_year: int
    source: str
    overview: str = ""  # what the company does, from its sources (companies.csv, optional column)


@dataclass(frozen=True)
class Plant:
    """One plant (or one dated stage of a plant, or a named group of plants) of producers.csv:
    nameplate capacity of its product from first_year to last_year, and the share of that
    capacity that serves anode material. `anode_share` None: calibrated to report S6 (the
    range low..high is then its plausible span)."""

    plant: str
    producer: str
    site: str
    country: str
    type: str
    product: str
    capacity_kt: float
    capacity_low: float
    capacity_high: float
    first_year: int
    last_year: int
    anode_share: float | None
    anode_share_low: float
    anode_share_high: float
    capacity_source: str
    anode_share_source: str


@dataclass(frozen=True)
class Assumption:
    """One scalar input: its value, unit, what it means and where it comes from."""

    key: str
    value: float
    unit: str
    description: str
    source: str


@dataclass(frozen=True)
class Uncertainty:
    """The range of one assumption for simulations: triangular (low, mode = base, high) or
    normal (mean = base, sd) cut to low..high. `base` is the assumption's value the range was
    set around (equal to assumptions.csv in the embedded dataset)."""

    key: str
    distribution: str
    low: float
    base: float
    high: float
    sd: float | None
    description: str
    source: str


@dataclass(frozen=True)
class YearStatus:
    """What a year's numbers are: `actual` (published for that year), `estimate` (that year's
    figure built from a partial or other-family figure) or `forecast`, and on what basis."""

    year: int
    status: str
    basis: str
    source: str


@dataclass(frozen=True)
class Dataset:
    """A validated data folder: every input of the model with its provenance."""

    directory: Path
    dataset_id: str
    assumptions: dict[str, Assumption]
    countries: tuple[Country, ...]
    companies: tuple[Company, ...]
    scenarios: dict[str, dict[str, Assumption]]
    news: tuple[dict[str, str], ...]
    claims: tuple[dict[str, str], ...]
    files: tuple[str, ...] = field(default=())
    uncertainty: dict[str, Uncertainty] = field(default_factory=dict)  # empty: no uncertainty.csv
    year_status: dict[int, YearStatus] = field(default_factory=dict)  # every year of YEARS
    plants: tuple[Plant, ...] = field(default=())
    conflicts: tuple[Conflict, ...] = field(default=())  # empty: no conflicts.csv
    correlations: tuple[Correlation, ...] = field(default=())  # empty: no correlations.csv

    def country_weight_key(self, country: Country) -> str:
        return f"weight_{slug(country.name)}"

    def country_weight_2030_key(self, country: Country) -> str:
        return f"weight_2030_{slug(country.name)}"

    def plant_capacity_key(self, plant: Plant) -> str:
        return f"{PLANT_CAPACITY_PREFIX}{plant.plant}"

    def plant_anode_share_key(self, plant: Plant) -> str:
        return f"{PLANT_ANODE_SHARE_PREFIX}{plant.plant}"

    def plant_input_keys(self) -> dict[str, str]:
        """Every plant input key -> its kind ("level" for capacities, "share" for anode
        shares). A plant whose share report S6 calibrates has no input: its anode capacity is
        what S6 leaves, and its nameplate only shows the share that implies."""
        keys = {self.plant_capacity_key(p): "level" for p in self.plants if p.anode_share is not None}
        keys.update({self.plant_anode_share_key(p): "share" for p in self.plants
                     if p.anode_share is not None})
        return keys


# ---------------------------------------------------------------------------------------------
# reading


class _Table:
    """Rows of one CSV file with helpers that raise DataError naming file, row and column."""

    def __init__(self, directory: Path, name: str, columns: tuple[str, ...]) -> None:
        self.name = name
        path = directory / name
        if not path.is_file():
            raise DataError(name, f"missing file (expected in {directory})")
        try:
            size = path.stat().st_size
            if size > MAX_CSV_BYTES:
                raise DataError(name, f"{size / 1e6:.1f} MB is larger than the "
                                f"{MAX_CSV_BYTES / 1e6:.1f} MB a data file may have")
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(name, f"cannot read the file as UTF-8 text ({exc.__class__.__name__})") from None
        self.raw = text.encode("utf-8")
        # records end at line breaks only (splitlines would also end them inside a field at
        # \x85, \x0c or U+2028)
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError(name, "empty file; expected a header row: " + ",".join(columns)) from None
        except csv.Error as exc:
            raise DataError(name, f"not a readable CSV file ({exc})", 1) from None
        missing = [c for c in columns if c not in header]
        if missing:
            raise DataError(
                name, f"missing column {missing[0]!r}; expected columns: {', '.join(columns)}", 1
            )
        self.rows: list[tuple[int, dict[str, str]]] = []
        number = 1
        while True:
            number += 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):  # the csv module stops at 128 KiB
                    raise DataError(name, f"a field holds more than {MAX_FIELD_CHARS:,} characters "
                                    "(the text of one Excel cell)", number) from None
                raise DataError(name, f"not a readable CSV row ({exc})", number) from None
            if not any(v.strip() for v in values):
                continue
            if len(self.rows) == MAX_CSV_ROWS:
                raise DataError(name, f"more than {MAX_CSV_ROWS:,} rows; a data file holds at most "
                                f"{MAX_CSV_ROWS:,}", number)
            if len(values) > len(header):
                raise DataError(name, f"{len(values)} fields but the header has {len(header)}", number)
            for column, value in zip(header, values, strict=False):
                if len(value) > MAX_FIELD_CHARS:
                    raise DataError(name, f"{len(value):,} characters; a field holds at most "
                                    f"{MAX_FIELD_CHARS:,} (the text of one Excel cell)", number, column)
                control = _CONTROL.search(value)
                if control:
                    raise DataError(name, f"control character U+{ord(control.group()):04X} in the "
                                    "text; remove it (tabs and line breaks are allowed)", number, column)
            values += [""] * (len(header) - len(values))
            self.rows.append((number, {h: v.strip() for h, v in zip(header, values, strict=False)}))

    def text(self, row: int, values: dict[str, str], column: str, required: bool = True) -> str:
        value = values[column]
        if required and not value:
            raise DataError(self.name, "empty value", row, column)
        return value

    def number(self, row: int, values: dict[str, str], column: str) -> float:
        value = self.text(row, values, column)
        try:
            return parse_number(value)
        except ValueError as error:
            raise DataError(self.name, str(error), row, column) from None

    def year(self, row: int, values: dict[str, str], column: str, default: int) -> int:
        value = values[column]
        if not value:
            return default
        if not re.fullmatch(r"[0-9]{4}", value, re.ASCII):
            raise DataError(self.name, f"{shorten(value)!r} is not a year", row, column)
        year = int(value)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise DataError(self.name, f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}", row, column)
        return year

    def source(self, row: int, values: dict[str, str], column: str = "source") -> str:
        value = self.text(row, values, column)
        if not any(part.strip().startswith(PROVENANCE_PREFIXES) for part in value.split(";")):
            raise DataError(
                self.name,
                f"provenance {value[:40]!r} must start with report:, source:, derived: or assumption:",
                row,
                column,
            )
        return value


def check_value(key: str, value: float) -> str | None:
    """Return why `value` is invalid for assumption `key`, or None when it is fine."""
    kind = input_kind(key)
    if not math.isfinite(value):
        return "must be a finite number"
    if kind == "share" and not 0.0 <= value <= 1.0:
        return f"is a share and must lie between 0 and 1, not {value:g}"
    if kind == "level" and value < 0:
        return f"must not be negative, not {value:g}"
    if kind == "rate" and value <= -1:
        return f"is a growth rate and must be above -1 (-100%), not {value:g}"
    return None


def _read_assumptions(directory: Path) -> tuple[dict[str, Assumption], bytes]:
    table = _Table(directory, "assumptions.csv", ("key", "value", "unit", "description", "source"))
    found: dict[str, Assumption] = {}
    first_row: dict[str, int] = {}
    for row, values in table.rows:
        key = table.text(row, values, "key")
        if key in found:
            raise DataError(table.name, f"duplicate key {key!r} (also row {first_row[key]})", row, "key")
        first_row[key] = row
        if key not in ASSUMPTION_KEYS:
            raise DataError(table.name, f"unknown key {key!r}", row, "key")
        value = table.number(row, values, "value")
        problem = check_value(key, value)
        if problem:
            raise DataError(table.name, f"{key} {problem}", row, "value")
        found[key] = Assumption(
            key, value, values["unit"] or ASSUMPTION_KEYS[key][1], values["description"],
            table.source(row, values),
        )
    for name, (years, _kind, _unit) in SERIES.items():
        have = [y for y in years if f"{name}_{y}" in found]
        gaps = [y for y in years if f"{name}_{y}" not in found]
        if gaps:
            have_text = ", ".join(str(y) for y in have) or "none"
            raise DataError(
                table.name, f"year gap: {name}_{gaps[0]} is missing (have years {have_text}; "
                f"needed {', '.join(str(y) for y in years)})", None, "key",
            )
    for key in _SCALARS:
        if key not in found:
            raise DataError(table.name, f"missing key {key!r}", None, "key")
    return found, table.raw


def _fixed_names() -> Namespace:
    """The namespace of the built-in segments and dimensions, before any data row."""
    return Namespace({"the whole market": ("Global",), "type": TYPES, "application": APPLICATIONS,
                      "region": REGIONS, "the rest of the companies": ("Others",)})


def _read_countries(directory: Path, names: Namespace | None = None
                    ) -> tuple[tuple[Country, ...], bytes]:
    table = _Table(directory, "countries.csv", ("country", "region", "aliases", "weight", "weight_2030",
                                                "source"))
    names = names or _fixed_names()
    countries: list[Country] = []
    seen: set[str] = set()
    for row, values in table.rows:
        name = table.text(row, values, "country")
        names.claim(name, "country", table.name, row, "country", name)
        if name.casefold() in seen:
            raise DataError(table.name, f"duplicate country {name!r}", row, "country")
        seen.add(name.casefold())
        region = table.text(row, values, "region")
        if region not in REGIONS:
            raise DataError(
                table.name, f"unknown region {region!r}; valid: {', '.join(REGIONS)}", row, "region"
            )
        weights = []
        for column in ("weight", "weight_2030"):
            weight = table.number(row, values, column)
            if weight < 0:
                raise DataError(table.name, f"{column} must not be negative, not {weight:g}", row, column)
            weights.append(weight)
        aliases = tuple(a.strip() for a in values["aliases"].split("|") if a.strip())
        for alias in aliases:
            names.claim(alias, "alias", table.name, row, "aliases", name)
        countries.append(Country(name, region, aliases, weights[0], table.source(row, values),
                                 weights[1]))
    if "china" not in seen:
        raise DataError(table.name, "China is missing; its share is set by china_revenue_share_2023")
    missing_regions = [r for r in REGIONS if not any(c.region == r for c in countries)]
    if missing_regions:
        raise DataError(table.name, f"region {missing_regions[0]!r} has no country", None, "region")
    for column in ("weight", "weight_2030"):
        total = math.fsum(getattr(c, column) for c in countries if c.name.casefold() != "china")
        if not total > 0:
            raise DataError(table.name, f"every {column} outside China is 0; at least one must be "
                            "above 0 (the weights split the non-China share)", None, column)
    return tuple(countries), table.raw


def _read_companies(
    directory: Path, countries: tuple[Country, ...], names: Namespace | None = None
) -> tuple[tuple[Company, ...], bytes]:
    """companies.csv: the named producers (who they are); their years come from their plants."""
    columns = ("company", "aliases", "hq_country", "type", "source")
    table = _Table(directory, "companies.csv", columns)
    country_names = {c.name for c in countries}
    if names is None:
        names = _fixed_names()
        for country in countries:
            for alias in (country.name, *country.aliases):
                names.claim(alias, "country", "countries.csv", 0, "aliases", country.name)
    companies: list[Company] = []
    seen: set[str] = set()
    for row, values in table.rows:
        name = table.text(row, values, "company")
        names.claim(name, "company", table.name, row, "company", name)
        if name.casefold() in seen or name.casefold() in ("others", "global"):
            raise DataError(table.name, f"duplicate or reserved company name {name!r}", row, "company")
        seen.add(name.casefold())
        hq = table.text(row, values, "hq_country")
        if hq not in country_names:
            raise DataError(table.name, f"unknown country {hq!r} (see countries.csv)", row, "hq_country")
        kind = table.text(row, values, "type")
        if kind not in TYPES:
            raise DataError(table.name, f"unknown type {kind!r}; valid: {', '.join(TYPES)}", row, "type")
        aliases = tuple(a.strip() for a in values["aliases"].split("|") if a.strip())
        for alias in aliases:
            names.claim(alias, "alias", table.name, row, "aliases", name)
        companies.append(Company(name, aliases, hq, kind, FIRST_YEAR, LAST_YEAR,
                                 table.source(row, values), values.get("overview", "")))
    if len(companies) < 5:
        raise DataError(table.name, f"{len(companies)} companies; the top-5 calibration needs 5 or more")
    return tuple(companies), table.raw


def _plant_year(table: _Table, row: int, values: dict[str, str], column: str, default: int) -> int:
    value = values[column]
    if not value:
        return default
    if not re.fullmatch(r"[0-9]{4}", value, re.ASCII):  # int() would read "20_25" and " 2025"
        raise DataError(table.name, f"{shorten(value)!r} is not a year", row, column)
    year = int(value)
    if not PLANT_YEARS[0] <= year <= PLANT_YEARS[1]:
        raise DataError(table.name, f"year {year} is outside {PLANT_YEARS[0]}-{PLANT_YEARS[1]}",
                        row, column)
    return year


def _range(table: _Table, row: int, values: dict[str, str], column: str, value: float | None,
           bounds: tuple[float, float]) -> tuple[float, float]:
    """The low and high columns of `column` (both empty: the value itself), checked to hold it."""
    low_text, high_text = values[f"{column}_low"], values[f"{column}_high"]
    if not low_text and not high_text:
        if value is None:
            raise DataError(table.name, f"a calibrated {column} needs {column}_low and "
                            f"{column}_high (its plausible range)", row, f"{column}_low")
        return value, value
    low = table.number(row, values, f"{column}_low")
    high = table.number(row, values, f"{column}_high")
    if not bounds[0] <= low <= high <= bounds[1]:
        raise DataError(table.name, f"{column}_low {low:g} and {column}_high {high:g} must satisfy "
                        f"{bounds[0]:g} <= low <= high <= {bounds[1]:g}", row, f"{column}_low")
    if value is not None and not low <= value <= high:
        raise DataError(table.name, f"{column} {value:g} lies outside its range {low:g} to {high:g}",
                        row, column)
    return low, high


def _read_producers(
    directory: Path, countries: tuple[Country, ...], companies: tuple[Company, ...]
) -> tuple[tuple[Plant, ...], tuple[Company, ...], bytes]:
    """producers.csv: every plant with dated capacity and anode share; also sets each named
    company's first and last producing year from its plants."""
    columns = ("plant", "producer", "site", "country", "type", "product", "capacity_kt",
               "capacity_low", "capacity_high", "first_year", "last_year", "anode_share",
               "anode_share_low", "anode_share_high", "capacity_source", "anode_share_source")
    table = _Table(directory, PRODUCERS_FILE, columns)
    country_names = {c.name for c in countries}
    company_types = {c.name: c.type for c in companies}
    plants: list[Plant] = []
    seen: set[str] = set()
    for row, values in table.rows:
        plant = table.text(row, values, "plant")
        if plant in seen or plant != slug(plant):
            raise DataError(table.name, f"plant id {plant!r} must be unique and written like "
                            f"{slug(plant)!r} (lower case, digits, _)", row, "plant")
        seen.add(plant)
        producer = table.text(row, values, "producer")
        if producer.casefold() in ("others", "global"):
            raise DataError(table.name, f"reserved producer name {producer!r}", row, "producer")
        country = table.text(row, values, "country")
        if country not in country_names:
            raise DataError(table.name, f"unknown country {country!r} (see countries.csv)", row, "country")
        kind = table.text(row, values, "type")
        if kind not in TYPES:
            raise DataError(table.name, f"unknown type {kind!r}; valid: {', '.join(TYPES)}", row, "type")
        product = table.text(row, values, "product")
        if product not in PRODUCTS:
            raise DataError(table.name, f"unknown product {product!r}; valid: {', '.join(PRODUCTS)}",
                            row, "product")
        capacity = table.number(row, values, "capacity_kt")
        if capacity < 0:
            raise DataError(table.name, f"capacity must not be negative, not {capacity:g}", row,
                            "capacity_kt")
        capacity_low, capacity_high = _range(table, row, values, "capacity", capacity, (0.0, math.inf))
        first = _plant_year(table, row, values, "first_year", PLANT_YEARS[0])
        last = _plant_year(table, row, values, "last_year", PLANT_YEARS[1])
        if first > last:
            raise DataError(table.name, f"first_year {first} is after last_year {last}", row, "first_year")
        share_text = table.text(row, values, "anode_share")
        share: float | None = None
        if share_text.lower() != CALIBRATED:
            share = table.number(row, values, "anode_share")
            if not 0.0 <= share <= 1.0:
                raise DataError(table.name, f"anode_share is a share and must lie between 0 and 1, "
                                f"not {share:g} (or {CALIBRATED!r})", row, "anode_share")
        elif producer in company_types:
            raise DataError(table.name, f"a calibrated anode share closes report S6, so it must "
                            f"belong to a group in Others, not to the listed company {producer!r}",
                            row, "anode_share")
        share_low, share_high = _range(table, row, values, "anode_share", share, (0.0, 1.0))
        plants.append(Plant(plant, producer, table.text(row, values, "site"), country, kind, product,
                            capacity, capacity_low, capacity_high, first, last, share, share_low,
                            share_high, table.source(row, values, "capacity_source"),
                            table.source(row, values, "anode_share_source")))
    if sum(p.anode_share is None for p in plants) == 0:
        raise DataError(table.name, f"no plant has anode_share {CALIBRATED!r}; one group in Others "
                        "must close report S6 (top-5 share of 2023 capacity)", None, "anode_share")
    dated: list[Company] = []
    for company in companies:
        own = [p for p in plants if p.producer == company.name]
        years = [y for y in YEARS if any(p.first_year <= y <= p.last_year for p in own)]
        if not years:
            raise DataError(table.name, f"company {company.name!r} (companies.csv) has no plant "
                            f"producing in {FIRST_YEAR}-{LAST_YEAR}", None, "producer")
        dated.append(Company(company.name, company.aliases, company.hq_country, company.type,
                             years[0], years[-1], company.source, company.overview))
    return tuple(plants), tuple(dated), table.raw


def _read_scenarios(directory: Path) -> tuple[dict[str, dict[str, Assumption]], bytes]:
    table = _Table(directory, "scenarios.csv", ("scenario", "key", "value", "description", "source"))
    scenarios: dict[str, dict[str, Assumption]] = {}
    for row, values in table.rows:
        scenario = table.text(row, values, "scenario").lower()
        if scenario == "base" or not scenario.replace("_", "").isalnum():
            raise DataError(table.name, f"invalid scenario name {shorten(scenario)!r} (letters, "
                            "digits, _; not 'base')", row, "scenario")
        problem = scenario_problem(scenario)
        if problem:
            raise DataError(table.name, problem, row, "scenario")
        if scenario not in scenarios and len(scenarios) == MAX_SCENARIOS:
            raise DataError(table.name, f"scenario {scenario!r} is one more than the {MAX_SCENARIOS} "
                            "scenarios besides base a data folder may define", row, "scenario")
        key = table.text(row, values, "key")
        if key not in ASSUMPTION_KEYS:
            raise DataError(table.name, f"unknown key {key!r} (see assumptions.csv)", row, "key")
        if key in scenarios.get(scenario, {}):
            raise DataError(table.name, f"duplicate key {key!r} for scenario {scenario!r}", row, "key")
        value = table.number(row, values, "value")
        problem = check_value(key, value)
        if problem:
            raise DataError(table.name, f"{key} {problem}", row, "value")
        scenarios.setdefault(scenario, {})[key] = Assumption(
            key, value, ASSUMPTION_KEYS[key][1], values["description"], table.source(row, values)
        )
    return scenarios, table.raw


def _read_uncertainty(directory: Path, plant_keys: dict[str, str]
                      ) -> tuple[dict[str, Uncertainty], bytes]:
    """uncertainty.csv, when the folder has one: a range per driver around a base value (the
    assumption's value when the range was set; a simulation moves the range to the model's)."""
    if not (directory / UNCERTAINTY_FILE).is_file():
        return {}, b""
    columns = ("key", "distribution", "low", "base", "high", "sd", "description", "source")
    table = _Table(directory, UNCERTAINTY_FILE, columns)
    found: dict[str, Uncertainty] = {}
    for row, values in table.rows:
        key = table.text(row, values, "key")
        if key not in ASSUMPTION_KEYS and key not in plant_keys:
            raise DataError(table.name, f"unknown key {key!r} (see assumptions.csv; plant inputs "
                            "are capacity_kt_<plant> and anode_share_<plant>)", row, "key")
        if key in found:
            raise DataError(table.name, f"duplicate key {key!r}", row, "key")
        distribution = table.text(row, values, "distribution").lower()
        if distribution not in DISTRIBUTIONS:
            raise DataError(table.name, f"unknown distribution {distribution!r}; valid: "
                            f"{', '.join(DISTRIBUTIONS)}", row, "distribution")
        low, base, high = (table.number(row, values, c) for c in ("low", "base", "high"))
        if not low < high:
            raise DataError(table.name, f"low {low:g} must be below high {high:g}", row, "low")
        if not low <= base <= high:
            raise DataError(table.name, f"base {base:g} lies outside low..high ({low:g} to "
                            f"{high:g})", row, "base")
        for column, number in (("low", low), ("high", high)):
            problem = check_value(key, number)
            if problem:
                raise DataError(table.name, f"{key} {problem}", row, column)
        sd: float | None = None
        if distribution == "normal":
            sd = table.number(row, values, "sd")
            if sd <= 0:
                raise DataError(table.name, f"sd must be above 0, not {sd:g}", row, "sd")
        elif values["sd"]:
            raise DataError(table.name, "sd is for normal ranges; leave it empty for triangular",
                            row, "sd")
        found[key] = Uncertainty(key, distribution, low, base, high, sd,
                                 table.text(row, values, "description"), table.source(row, values))
    if len(found) > MAX_UNCERTAIN_DRIVERS:
        raise DataError(table.name, f"{len(found)} drivers; at most {MAX_UNCERTAIN_DRIVERS}")
    return found, table.raw


def _read_years(directory: Path) -> tuple[dict[int, YearStatus], bytes]:
    """years.csv: one row per model year, in order, with its status. Statuses never go back:
    no actual after an estimate or a forecast, no estimate after a forecast."""
    table = _Table(directory, YEARS_FILE, ("year", "status", "basis", "source"))
    statuses: dict[int, YearStatus] = {}
    last_rank = 0
    for row, values in table.rows:
        year = table.year(row, values, "year", default=0)
        if year not in YEARS:
            raise DataError(table.name, f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}", row, "year")
        if year in statuses:
            raise DataError(table.name, f"duplicate year {year}", row, "year")
        status = table.text(row, values, "status").lower()
        if status not in YEAR_STATUSES:
            raise DataError(table.name, f"unknown status {status!r} (valid: {', '.join(YEAR_STATUSES)})",
                            row, "status")
        forecast = status == "forecast"
        if last_rank and not forecast:
            raise DataError(table.name, f"{year} is {status} after a forecast year (history years, "
                            "actual or estimate, come first, then forecast years)", row, "status")
        last_rank = int(forecast)
        statuses[year] = YearStatus(year, status, table.text(row, values, "basis"), table.source(row, values))
    missing = [year for year in YEARS if year not in statuses]
    if missing:
        raise DataError(table.name, f"no row for year {missing[0]} "
                        f"(every year {FIRST_YEAR}-{LAST_YEAR} needs one)")
    return dict(sorted(statuses.items())), table.raw


def _read_conflicts(directory: Path) -> tuple[tuple[Conflict, ...], bytes]:
    """conflicts.csv, when the folder has one: ids C1, C2, ... unique; both sources carry a
    provenance prefix; side_taken is source_a, source_b, both or neither."""
    if not (directory / CONFLICTS_FILE).is_file():
        return (), b""
    columns = ("id", "topic", "claim", "source_a", "value_a", "source_b", "value_b", "side_taken",
               "why")
    table = _Table(directory, CONFLICTS_FILE, columns)
    found: list[Conflict] = []
    seen: set[str] = set()
    for row, values in table.rows:
        for column in columns:
            table.text(row, values, column)
        ident = values["id"]
        if not (ident[:1] == "C" and ident[1:].isdigit()):
            raise DataError(table.name, f"id {ident!r} must be C followed by a number (C1, C2, ...)",
                            row, "id")
        if ident in seen:
            raise DataError(table.name, f"duplicate id {ident!r}", row, "id")
        seen.add(ident)
        for column in ("source_a", "source_b"):
            table.source(row, values, column)
        if values["side_taken"] not in CONFLICT_SIDES:
            raise DataError(table.name, f"unknown side_taken {values['side_taken']!r} (valid: "
                            f"{', '.join(CONFLICT_SIDES)})", row, "side_taken")
        found.append(Conflict(*(values[c] for c in columns)))
    return tuple(found), table.raw


def _read_correlations(directory: Path, uncertainty: dict[str, Uncertainty]
                       ) -> tuple[tuple[Correlation, ...], bytes]:
    """correlations.csv, when the folder has one: pairs of uncertainty.csv drivers and their
    correlation (strictly between -1 and 1); a driver is in at most one pair. Read only with an
    uncertainty.csv (the simulation then reports the missing ranges)."""
    if not (directory / CORRELATIONS_FILE).is_file() or not uncertainty:
        return (), b""  # without ranges there are no draws to correlate
    table = _Table(directory, CORRELATIONS_FILE, ("key", "with_key", "correlation", "source"))
    found: list[Correlation] = []
    used: set[str] = set()
    for row, values in table.rows:
        keys = []
        for column in ("key", "with_key"):
            key = table.text(row, values, column)
            if key not in uncertainty:
                raise DataError(table.name, f"{key!r} has no range in {UNCERTAINTY_FILE}", row, column)
            if key in used or key in keys:
                raise DataError(table.name, f"{key!r} is already in a pair (one pair per driver)",
                                row, column)
            keys.append(key)
        used.update(keys)
        rho = table.number(row, values, "correlation")
        if not -1.0 < rho < 1.0:
            raise DataError(table.name, f"correlation {rho:g} must lie strictly between -1 and 1",
                            row, "correlation")
        found.append(Correlation(keys[0], keys[1], rho, table.source(row, values)))
    return tuple(found), table.raw


#: A news date: as precise as the source is (day, month or year), or "n/d" when it gives none.
NEWS_DATE = re.compile(r"(?:[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?|n/d)",
                       re.ASCII)
UNDATED = "n/d"


def _read_text_table(
    directory: Path, name: str, columns: tuple[str, ...], unique: str | None = None,
    allowed: dict[str, tuple[set[str], str]] | None = None,
    patterns: dict[str, tuple[re.Pattern[str], str]] | None = None,
) -> tuple[tuple[dict[str, str], ...], bytes]:
    table = _Table(directory, name, columns)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for row, values in table.rows:
        for column in columns:
            if column != "note":
                table.text(row, values, column, required=column in (unique, "source"))
        table.source(row, values)
        for column, (valid, hint) in (allowed or {}).items():
            if values[column] not in valid:
                raise DataError(name, f"unknown {column} {values[column]!r} ({hint})", row, column)
        for column, (pattern, hint) in (patterns or {}).items():
            if not pattern.fullmatch(values[column]):
                raise DataError(name, f"{shorten(values[column])!r} is not {hint}", row, column)
        if unique:
            if values[unique] in seen:
                raise DataError(name, f"duplicate {unique} {values[unique]!r}", row, unique)
            seen.add(values[unique])
        rows.append({c: values[c] for c in columns})
    return tuple(rows), table.raw


def load_dataset(data_dir: str | Path | None = None) -> Dataset:
    """Read and validate every file of a data folder.

    Args:
        data_dir: the folder; None means $XL_NEGCOKE_DATA when set, else the embedded dataset.

    Raises:
        DataError: for the first problem found, naming file, row and column.
    """
    if data_dir is None:
        data_dir = os.environ.get(DATA_ENVIRONMENT_VARIABLE) or DEFAULT_DATA_DIR
    directory = Path(data_dir)
    if not directory.is_dir():
        raise DataError(str(directory), "not a folder (expected a data folder with assumptions.csv, "
                        "years.csv, countries.csv, companies.csv, producers.csv, scenarios.csv, "
                        "company_news.csv, claims.csv)")
    assumptions, raw_a = _read_assumptions(directory)
    names = _fixed_names()  # one namespace: no country or company may take another's name
    countries, raw_c = _read_countries(directory, names)
    companies, raw_co = _read_companies(directory, countries, names)
    plants, companies, raw_p = _read_producers(directory, countries, companies)
    plant_keys = Dataset(directory, "", {}, (), (), {}, (), (), plants=plants).plant_input_keys()
    scenarios, raw_s = _read_scenarios(directory)
    uncertainty, raw_u = _read_uncertainty(directory, plant_keys)
    year_status, raw_y = _read_years(directory)
    conflicts, raw_x = _read_conflicts(directory)
    correlations, raw_r = _read_correlations(directory, uncertainty)
    # checked row by row so the error names the file's own row (blank lines are skipped)
    news, raw_n = _read_text_table(
        directory, "company_news.csv", ("company", "date", "news", "source"),
        allowed={"company": ({c.name for c in companies}, "see companies.csv")},
        patterns={"date": (NEWS_DATE, 'a date: YYYY-MM-DD, YYYY-MM, YYYY, or "n/d" when the '
                           "source gives none")},
    )
    claims, raw_cl = _read_text_table(
        directory, "claims.csv", ("id", "section", "category", "claim", "figure", "note", "source"),
        unique="id",
    )
    digest = hashlib.sha256()
    for raw in (raw_a, raw_c, raw_co, raw_s, raw_n, raw_cl, raw_u, raw_y, raw_x, raw_r, raw_p):
        digest.update(raw)
    files = ("assumptions.csv", "countries.csv", "companies.csv", "scenarios.csv",
             "company_news.csv", "claims.csv", YEARS_FILE, PRODUCERS_FILE)
    return Dataset(
        directory=directory,
        dataset_id=f"negcoke-{digest.hexdigest()[:10]}",
        assumptions=assumptions,
        countries=countries,
        companies=companies,
        scenarios=scenarios,
        news=news,
        claims=claims,
        files=files,
        uncertainty=uncertainty,
        year_status=year_status,
        plants=plants,
        conflicts=conflicts,
        correlations=correlations,
    )
