"""The report's structure as data: which sheets, in which order, with which blocks.

One writer (`build.py`) turns these specs into cells, so the report's layout lives here and
only here. Blocks name what they show (a dimension and metric, a company field, a claim),
never cell addresses; the writer places them on one timeline (2019 in column B on every sheet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xl_negcoke.model import BASE_YEAR, FIRST_YEAR, LAST_YEAR, Model

COMPANY_LAST_YEAR = 2024  # the report's company tables stop at 2024
RISK_SHEET = "Scenarios & Risk"  # not a section of the report: after §12

UNITS = {"revenue": "US$ million", "volume": "kt", "price": "US$/t", "capacity": "kt/yr"}
#: What a dimension's price is, said where the price is shown.
PRICE_NOTES = {
    "type": "each type's price is the mix average of China's domestic and the seaborne price",
    "application": "every application carries the global mix average",
    "region": "China's domestic or the seaborne price, the mix average of the types; a region "
              "without volume shows the seaborne price",
}
LABEL_LIMIT = 60  # characters of a driver's name before it is cut at its first comma
EXPLANATION_LIMIT = 40  # characters after ":" kept in a driver's name ("share of ... anodes")
METRIC_TITLES = {"revenue": "Revenue", "volume": "Sales volume", "price": "Average price",
                 "capacity": "Capacity"}


@dataclass(frozen=True)
class Table:
    """One NEGCOKE_TABLE array formula; optionally a native share block and a YoY growth row."""

    key: str
    title: str
    dimension: str
    metric: str
    start: int = FIRST_YEAR
    end: int = LAST_YEAR
    share: bool = False
    growth: bool = False
    chart: str | None = None  # "line", "stacked" or "bar"


@dataclass(frozen=True)
class Size:
    """2023 and 2030 of every row of a table, with the CAGR: native references (x.1 blocks)."""

    title: str
    table: str
    pie: bool = False


@dataclass(frozen=True)
class Headline:
    """One single-cell figure: `kind` is forecast, share or cagr (a NEGCOKE_* call)."""

    label: str
    kind: str
    segment: str
    metric: str
    year: int = BASE_YEAR
    end_year: int | None = None
    name: str | None = None  # a defined name for key outputs


@dataclass(frozen=True)
class Headlines:
    """A block of single-cell figures, each on its own row with the value in its year's column."""

    title: str
    rows: tuple[Headline, ...]


@dataclass(frozen=True)
class Text:
    """Label and text rows (definitions, methodology, supply chain, disclaimer)."""

    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Segments:
    """A NEGCOKE_SEGMENTS list for each named dimension, side by side."""

    title: str
    dimensions: tuple[str, ...]


@dataclass(frozen=True)
class CompanyFacts:
    """Companies x facts (NEGCOKE_COMPANY single cells), with the 2023 revenue rank."""

    title: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Ranking:
    """Companies ordered by 2023 revenue: native INDEX/MATCH on the ranks of CompanyFacts; equal
    ranks are shown as ties, in the order of CompanyFacts (a helper column orders them)."""

    title: str
    table: str


@dataclass(frozen=True)
class Concentration:
    """Top-n shares of a table's year (native LARGE over the company rows)."""

    title: str
    table: str
    year: int
    counts: tuple[int, ...] = (3, 5)


@dataclass(frozen=True)
class Profiles:
    """Per company: facts and its rows of the company tables (native references)."""

    title: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class Ratio:
    """Row-by-row ratio of two tables with the same rows (e.g. utilisation = volume/capacity)."""

    title: str
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Claims:
    """The report's claims S7-S17 with figures, notes and sources (text from the dataset)."""

    title: str


@dataclass(frozen=True)
class Scenarios:
    """One figure in each named scenario, a row per scenario (NEGCOKE_FORECAST cells naming
    the scenario, so the rows do not follow the scenario selector)."""

    title: str
    segment: str
    metric: str
    scenarios: tuple[str, ...] = ("base", "high", "low")


@dataclass(frozen=True)
class Fan:
    """Percentiles of the simulated figure for each year from `start` (NEGCOKE_RANGE cells),
    the base line and the P10-P90 band: the data of a fan chart."""

    title: str
    segment: str
    metric: str
    percentiles: tuple[int, int, int] = (10, 50, 90)
    start: int = BASE_YEAR


@dataclass(frozen=True)
class Tornado:
    """NEGCOKE_SENSITIVITY: the figure with each driver at its P10 and P90, the rest at base."""

    title: str
    segment: str
    year: int
    metric: str


Block = Scenarios | Fan | Tornado | Table | Size | Headlines | Text | Segments | CompanyFacts | \
    Ranking | Concentration | \
    Profiles | Ratio | Claims


@dataclass(frozen=True)
class Sheet:
    """One sheet of the template: a report section and its blocks, in order."""

    name: str
    title: str
    blocks: tuple[Block, ...] = field(default=())


def _by_dimension(number: int, dimension: str, label: str, chart_metric: str = "revenue"
                  ) -> tuple[Block, ...]:
    """The four blocks of §4 and §5 (size, revenue + share, volume + share, price)."""
    return (
        Size(f"{number}.1 Size by {label}, 2023 and 2030 (US$ million)", f"{dimension}.revenue",
             pie=True),
        Table(f"{dimension}.revenue", f"{number}.2 Revenue by {label} (US$ million)", dimension,
              "revenue", share=True, chart="stacked" if chart_metric == "revenue" else None),
        Table(f"{dimension}.volume", f"{number}.3 Sales volume by {label} (kt)", dimension, "volume",
              share=True),
        Table(f"{dimension}.price", f"{number}.4 Average price by {label} (US$/t; {PRICE_NOTES[dimension]})",
              dimension, "price"),
    )


_SIDES = {"source_a": "A", "source_b": "B", "both": "both", "neither": "neither"}


def report_layout(model: Model) -> tuple[Sheet, ...]:
    """The template's report sheets (§1-§12), in the report's order."""
    regions = model.segments("region")
    country_tables: list[Block] = []
    for index, region in enumerate(regions, start=4):  # one section a region, two tables each
        country_tables.append(Table(f"{region}.revenue", f"6.{index}.1 {region}: revenue by "
                                    "country (US$ million)", region, "revenue"))
        country_tables.append(Table(f"{region}.volume", f"6.{index}.2 {region}: sales volume by "
                                    "country (kt)", region, "volume"))
    return (
        Sheet("1 Introduction", "1 Introduction", (
            Text("1.1 Definition", (
                ("Negative coke", "Petroleum- or coal-derived coke (green or calcined needle coke, "
                 "low-sulphur petroleum coke, pitch coke) used as the raw material of "
                 "artificial-graphite anode (negative electrode) material for lithium-ion "
                 "batteries."),
                ("Report", "Negative Coke Market, Global Outlook and Forecast 2024-2030 "
                 "(24chemicalresearch, report 268502)"),
            )),
            Segments("1.2 Segments", ("type", "application", "region")),
            Text("1.3 Global overview", (
                ("Market", "Revenue, sales volume, price and capacity of negative coke, "
                 "2019-2030: history 2019-2023, base year 2023, forecast 2024-2030."),
                ("Drivers", "EV boom (power batteries), grid-scale storage, capacity build-out "
                 "outside China (report S17)."),
            )),
            Text("1.4 Features and benefits", (
                ("Feature", "Artificial-graphite anodes made from needle and petroleum coke give "
                 "long cycle life and stable capacity; they take about 84% of China's anode "
                 "shipments (2022, GGII)."),
            )),
            Text("1.5 Methodology and sources", (
                ("Research method", "The report's stated figures (S1-S6) are reproduced exactly; "
                 "the rest is derived from public anode, needle-coke and price data "
                 "(see Sources). Where sources disagree, both values and the side taken are in "
                 "12.2 (data/conflicts.csv)."),
                ("Process", "Volume = world anode x artificial-graphite share x coke per tonne of "
                 "anode. World anode is EVTank's world shipments (2021-2022) and SNE Research's "
                 "(2023-2024); after 2024 it grows at EVTank's latest Li-ion outlook (made "
                 "2025-01). Power Battery closes to the total. Prices are annual: the mean of "
                 "the dated quotes in a year, or a published annual-average change; by type "
                 "and by region (China domestic vs seaborne); revenue = volume x price."),
                ("Base year", f"{BASE_YEAR}; actual years to 2024, forecast from 2025 (year "
                 "headers: A actual, E estimate, F forecast)"),
                ("Assumptions", "Every input is on the Assumptions sheet with its unit and "
                 "source; edit the blue cells or switch the scenario."),
                ("Caveats", "No public source sizes negative coke itself. China's share is the "
                 "report's 76% (S5), far below the 90%+ of anode made in China (12.2, C2); "
                 "the rest is split by where anode material is made (countries.csv). Capacity "
                 "is anode-coke capacity: the part of needle-coke plants and refinery "
                 "low-sulphur coke that serves anodes (producers.csv); the independent refiners' "
                 "share is set so that report S6 holds (C50)."),
            )),
        )),
        Sheet("2 Market size", "2 Overall market size", (
            Headlines("2.1 Market size, 2023 vs 2030", (
                Headline("Revenue 2023 (US$ million)", "forecast", "Global", "revenue", BASE_YEAR,
                         name="Revenue2023"),
                Headline("Revenue 2030 (US$ million)", "forecast", "Global", "revenue", LAST_YEAR,
                         name="Revenue2030"),
                Headline("Revenue CAGR 2023-2030", "cagr", "Global", "revenue", BASE_YEAR,
                         LAST_YEAR, name="RevenueCAGR"),
                Headline("Revenue CAGR 2024-2030 (from latest actual)", "cagr", "Global",
                         "revenue", BASE_YEAR + 1, LAST_YEAR, name="RevenueCAGR2024"),
                Headline("Volume CAGR 2023-2030", "cagr", "Global", "volume", BASE_YEAR,
                         LAST_YEAR),
                Headline("Volume CAGR 2024-2030 (from latest actual)", "cagr", "Global",
                         "volume", BASE_YEAR + 1, LAST_YEAR),
            )),
            Table("global.revenue", "2.2 Revenue (US$ million)", "global", "revenue", growth=True,
                  chart="line"),
            # the template's 2.3 is "sales volume (and average price)": two tables, 2.3.1 and 2.3.2
            Table("global.volume", "2.3.1 Sales volume (kt)", "global", "volume", growth=True),
            Table("global.price", "2.3.2 Average price (US$/t; revenue / sales volume)", "global",
                  "price", growth=True),
        )),
        Sheet("3 Companies", "3 Company landscape", (
            CompanyFacts("3.1 Top players: headquarters and 2023 revenue rank",
                         ("hq_country", "rank")),
            Ranking("3.2 Companies ranked by 2023 revenue (US$ million)", "company.revenue"),
            Table("company.revenue", "3.3 Revenue by company (US$ million)", "company", "revenue",
                  end=COMPANY_LAST_YEAR, share=True, chart="bar"),
            Table("company.volume", "3.4 Sales volume by company (kt)", "company", "volume",
                  end=COMPANY_LAST_YEAR),
            Table("company.price", "3.5 Price by company (US$/t)", "company", "price",
                  end=COMPANY_LAST_YEAR),
            Concentration("3.6 Top-3 and top-5 share of 2023 revenue", "company.revenue",
                          BASE_YEAR),
            CompanyFacts("3.7 Product type by company", ("type",)),
            CompanyFacts("3.8 Tier 1 and tier 2-3 producers (tier 1: top five by 2023 capacity; "
                         "tier 2: 100 kt/yr or more)", ("tier",)),
        )),
        Sheet("4 By type", "4 By type", _by_dimension(4, "type", "type")),
        Sheet("5 By application", "5 By application", _by_dimension(5, "application",
                                                                     "application")),
        Sheet("6 By region", "6 By region", (
            Size("6.1 Size by region, 2023 and 2030 (US$ million)", "region.revenue", pie=True),
            Table("region.revenue", "6.2 Revenue by region (US$ million)", "region", "revenue",
                  share=True, chart="stacked"),
            # like 2.3, the template's 6.3 (sales) carries the average price: 6.3.1 and 6.3.2
            Table("region.volume", "6.3.1 Sales volume by region (kt)", "region", "volume",
                  share=True),
            Table("region.price", f"6.3.2 Average price by region (US$/t; {PRICE_NOTES['region']})",
                  "region", "price"),
            *country_tables,
        )),
        Sheet("7 Profiles", "7 Manufacturer profiles", (
            Profiles("7.1 Profiles: summary, business overview, key news; sales, revenue, price and "
                     "share, 2019-2024",
                     ("company.volume", "company.revenue", "company.price",
                      "company.revenue.share")),
        )),
        Sheet("8 Capacity", "8 Production capacity", (
            Table("global.capacity", "8.1 Global capacity (kt/yr)", "global", "capacity",
                  growth=True),
            Table("company.capacity", "8.2 Capacity by key manufacturer (kt/yr)", "company",
                  "capacity", chart="bar"),
            Concentration("8.3 Top-3 and top-5 share of 2023 capacity", "company.capacity",
                          BASE_YEAR),
            Table("region.capacity", "8.4 Capacity by region (kt/yr, where the plants are)",
                  "region", "capacity"),
            Table("type.capacity", "8.5 Capacity by type (kt/yr)", "type", "capacity"),
            Ratio("8.6 Utilisation by type (sales volume of 4 / capacity)", "type.volume",
                  "type.capacity"),
        )),
        Sheet("9 Trends", "9 Trends, drivers, restraints and opportunities", (
            Claims("9.1 The report's claims, with their figures and sources"),
        )),
        Sheet("10 Supply chain", "10 Supply chain", (
            Text("10.1 Value chain", (
                ("1 Feedstock", "Crude oil residues (FCC decant / slurry oil) or coal tar pitch"),
                ("2 Coking", "Delayed coking to green needle coke or low-sulphur petroleum coke"),
                ("3 Calcination", "Calcined coke (volatile matter driven off)"),
                ("4 Graphitisation", "Artificial graphite at about 3,000 C; microwave and "
                 "continuous furnaces cut energy use 35-50% (report S11)"),
                ("5 Anode", "Anode (negative electrode) material"),
                ("6 Cell", "Lithium-ion cells for power batteries, consumer batteries and energy "
                 "storage"),
            )),
            Text("10.2 Upstream suppliers", (
                ("Refiners", "Phillips 66 (Humber, Lake Charles), ENEOS, CNPC (Jinzhou "
                 "Petrochemical), Indian Oil (Paradip, planned)"),
                ("Coal-tar processors", "Mitsubishi Chemical, C-Chem, PMC Tech (POSCO Future M "
                 "JV)"),
            )),
            Text("10.3 Downstream clients and channels", (
                ("Clients", "Anode material makers and integrated cell makers: 6 of the top 10 "
                 "cell makers invest directly in anode production (report S12); 7 producer-cell "
                 "maker partnerships announced (report S13)."),
                ("Channels", "Direct long-term supply contracts and imports of anode coke (China "
                 "import quotes, Sources)."),
            )),
        )),
        Sheet("11 Conclusion", "11 Conclusion", (
            Headlines("11.1 The headline numbers, computed", (
                Headline("Revenue 2023 (US$ million)", "forecast", "Global", "revenue", BASE_YEAR),
                Headline("Revenue 2030 (US$ million)", "forecast", "Global", "revenue", LAST_YEAR),
                Headline("Revenue CAGR 2023-2030", "cagr", "Global", "revenue", BASE_YEAR,
                         LAST_YEAR),
                Headline("Revenue CAGR 2024-2030 (from latest actual)", "cagr", "Global",
                         "revenue", BASE_YEAR + 1, LAST_YEAR),
                Headline("Sales volume 2023 (kt)", "forecast", "Global", "volume", BASE_YEAR),
                Headline("Sales volume 2030 (kt)", "forecast", "Global", "volume", LAST_YEAR),
                Headline("Power Battery share of 2023 volume (S1)", "share", "Power Battery",
                         "volume", BASE_YEAR),
                Headline("Energy Storage share of 2023 volume (S2)", "share", "Energy Storage",
                         "volume", BASE_YEAR),
                Headline("Energy Storage volume CAGR 2020-2023 (S4)", "cagr", "Energy Storage",
                         "volume", 2020, BASE_YEAR),
                Headline("China share of 2023 revenue (S5)", "share", "China", "revenue",
                         BASE_YEAR),
                Headline("Petroleum-based share of 2030 revenue", "share", "Petroleum-based",
                         "revenue", LAST_YEAR),
            )),
            Concentration("11.2 Top-5 share of 2023 capacity (S6)", "company.capacity", BASE_YEAR,
                          (5,)),
        )),
        Sheet("12 Appendix", "12 Appendix", (
            Text("12.1 Assumptions, sources and disclaimer", (
                ("Assumptions", "Every input with its unit and source: see the Assumptions "
                 "sheet (blue cells are inputs)."),
                ("Sources", "The provenance of every number: see the Sources sheet."),
                ("Checks", "Every table reconciles and agrees with section 2: see the Checks "
                 "sheet; its master cell shows on Contents."),
                ("Disclaimer", "The report's stated figures are reproduced as claims of that "
                   "report. Other numbers are derived from public figures and labelled "
                   "assumptions; they are not the report's own forecasts. Not investment "
                   "advice."),
            )),
            Text("12.2 Conflicts between sources: claim, both values, the side taken and why "
                 "(data/conflicts.csv)", tuple(
                     (f"{c.id} {c.topic}", f"{c.claim}. A: {c.value_a} ({c.source_a}). "
                      f"B: {c.value_b} ({c.source_b}). Taken: {_SIDES[c.side_taken]}. {c.why}.")
                     for c in model.dataset.conflicts)),
        )),
        Sheet(RISK_SHEET, "Scenarios and risk", (
            Scenarios("R.1 Revenue by scenario (US$ million)", "Global", "revenue"),
            Fan("R.2 Revenue range: P10, P50 and P90 of the simulated market, and where the base "
                "case sits (US$ million)", "Global", "revenue"),
            Tornado(f"R.3 What moves {LAST_YEAR} revenue: each driver that moves it, from its P10 "
                    "to its P90 (US$ million)", "Global", LAST_YEAR, "revenue"),
            Tornado(f"R.4 What moves {LAST_YEAR} volume (kt)", "Global", LAST_YEAR, "volume"),
            Tornado(f"R.5 What moves {LAST_YEAR} Power Battery volume, the application that "
                    "closes the mix (kt)", "Power Battery", LAST_YEAR, "volume"),
            Tornado(f"R.6 What moves China's {LAST_YEAR} revenue (US$ million)", "China",
                    LAST_YEAR, "revenue"),
            Tornado(f"R.7 What moves {LAST_YEAR} capacity (kt/yr)", "Global", LAST_YEAR,
                    "capacity"),
            Tornado(f"R.8 What moves {BASE_YEAR + 1} capacity: the refiners' anode shares set the top "
                    "five, and report S6 the total (kt/yr)", "Global", BASE_YEAR + 1, "capacity"),
            Text("R.9 How the draws are made", (
                ("Correlation", "; ".join(f"{_driver_name(model, c.key)} and "
                                          f"{_driver_name(model, c.with_key)}: {c.correlation:g} "
                                          f"({c.source})" for c in model.dataset.correlations)
                 or "none: every driver is drawn independently"),
                ("Drivers", "Every range is in uncertainty.csv (Sources); the other drivers are "
                 "drawn independently. A driver that does not move a tornado's figure is left "
                 "out of that tornado."),
            )),
        )),
    )


def driver_label(description: str) -> str:
    """A driver's name for the tornado: its assumption's description without the parenthesised
    notes, up to the first ";", without a long explanation after ":" ("...: the growth of ...")
    and, when still long and without a colon, up to its first comma."""
    text = re.sub(r"\s*\([^()]*\)", "", description).split(";")[0].strip()
    name, colon, rest = text.partition(":")
    if colon and len(rest.strip()) > EXPLANATION_LIMIT:
        text = name.strip()
    if len(text) > LABEL_LIMIT and ", " in text and ":" not in text:
        text = text.split(", ")[0].strip()
    return text


def _driver_name(model: Model, key: str) -> str:
    """A driver's name from its assumption's description (its key when it has none)."""
    frame = model.assumptions()
    described = dict(zip(frame["key"], frame["description"], strict=True))
    return driver_label(described[key]) if key in described else key
