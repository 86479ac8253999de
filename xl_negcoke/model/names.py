"""Name resolution: case, spacing, punctuation and common aliases, with closest-match hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from xl_negcoke.errors import UnknownNameError

METRICS = ("revenue", "volume", "price", "capacity")
METRIC_UNITS = {
    "revenue": "US$ million",
    "volume": "kt",
    "price": "US$/t",
    "capacity": "kt/yr",
}
METRIC_ALIASES = {
    "revenue": ("revenue_musd", "value", "sales value", "usd", "us$", "turnover", "market size"),
    "volume": ("volume_kt", "sales", "sales volume", "consumption", "kt", "tonnes", "demand",
               "production", "output"),
    "price": ("price_usd_per_t", "asp", "average price", "average selling price", "usd/t"),
    "capacity": ("capacity_kt", "capacity_kt_per_yr", "nameplate capacity"),
}

SEGMENT_ALIASES = {
    "Global": ("world", "total", "global market", "market", "worldwide"),
    "Petroleum-based": ("petroleum", "oil", "oil-based", "oil based", "petcoke", "petroleum coke"),
    "Coal-based": ("coal", "coal tar", "coal-tar", "pitch"),
    "Power Battery": ("power", "ev", "evs", "ev battery", "ev batteries", "power batteries",
                      "electric vehicle", "electric vehicles", "traction"),
    "Consumer Battery": ("consumer", "consumer batteries", "consumer electronics", "3c"),
    "Energy Storage": ("ess", "bess", "storage", "grid storage", "energy storage battery",
                       "stationary storage"),
    "North America": ("na", "nam", "northern america"),
    "Europe": ("eu", "emea europe"),
    "Asia": ("apac", "asia pacific", "asia-pacific"),
    "South America": ("latam", "latin america", "south and central america"),
    "Middle East & Africa": ("mea", "me&a", "middle east and africa", "middle east"),
    "Others": ("other", "other companies", "rest", "others (rest of market)"),
}

DIMENSIONS = ("type", "application", "region", "country", "company")
# The label a table shows above its segment names (a region's table lists countries).
DIMENSION_LABELS = {"type": "Type", "application": "Application", "region": "Region",
                    "country": "Country", "company": "Company", "global": "Market"}
DIMENSION_ALIASES = {
    "type": ("types", "product", "products", "product type", "by type", "feedstock"),
    "application": ("applications", "app", "apps", "end use", "end-use", "by application"),
    "region": ("regions", "by region", "geography"),
    "country": ("countries", "by country"),
    "company": ("companies", "manufacturer", "manufacturers", "producer", "producers", "player",
                "players", "by company"),
    "global": ("world", "market", "total", "global market"),
    "all": ("everything", "any", "*"),
}

SCENARIO_ALIASES = {
    "base": ("baseline", "central", "reference", "base case", "default"),
    "high": ("upside", "bull", "optimistic", "high case"),
    "low": ("downside", "bear", "pessimistic", "low case"),
}


def normalise(text: object) -> str:
    """Fold a name to its comparison form: case, spaces and punctuation removed, & as 'and'."""
    folded = str(text).casefold().replace("&", "and")
    return "".join(ch for ch in folded if ch.isalnum())


FEW_NAMES = 16  # up to this many valid names, an error lists them all


class Resolver:
    """Maps user spellings to canonical names of one kind, remembering every answer."""

    def __init__(self, kind: str, names: Iterable[str], aliases: dict[str, Iterable[str]],
                 hint: str = "") -> None:
        self.kind = kind
        self.hint = hint
        self.names = tuple(names)
        self._lookup: dict[str, str] = {}
        for name in self.names:
            self._lookup[normalise(name)] = name
        for name, extra in aliases.items():
            if name in self.names:
                for alias in extra:
                    self._lookup.setdefault(normalise(alias), name)
        self._memo: dict[object, str] = {}

    def __contains__(self, raw: object) -> bool:
        try:
            self.resolve(raw)
        except UnknownNameError:
            return False
        return True

    def resolve(self, raw: object) -> str:
        """Return the canonical name for `raw`, or raise UnknownNameError listing close names."""
        try:
            return self._memo[raw]
        except (KeyError, TypeError):
            pass
        key = normalise(raw) if isinstance(raw, str) else None
        if key is not None and key in self._lookup:
            name = self._lookup[key]
            if len(self._memo) < 10_000:
                self._memo[raw] = name
            return name
        raise UnknownNameError(self.kind, raw, self.closest(raw), self.hint,
                               complete=len(self.names) <= FEW_NAMES)

    def closest(self, raw: object, count: int = 3) -> list[str]:
        """Every valid name when there are few (FEW_NAMES or fewer); otherwise the names
        closest to `raw`, best first (none when nothing is close: the hint then says where to
        look)."""
        if len(self.names) <= FEW_NAMES:
            return list(self.names)
        key = normalise(raw)
        by_key = {normalise(n): n for n in self.names}
        matches = difflib.get_close_matches(key, list(by_key), n=count, cutoff=0.5)
        if not matches:
            alias_hits = difflib.get_close_matches(key, list(self._lookup), n=count, cutoff=0.6)
            matches = [normalise(self._lookup[a]) for a in alias_hits]
        return list(dict.fromkeys(by_key[m] for m in matches))


MAX_NAME_CHARS = 100  # a name is quoted inside formulas, which Excel caps at 8,192 characters


class Namespace:
    """One namespace for every segment name and alias: the fixed segments and dimensions and
    their aliases, then each country and company of the data folder. A name that equals
    another (after `normalise`: case, spaces and punctuation ignored) would make a lookup
    answer for the wrong thing, so it is refused, naming both.
    """

    def __init__(self, fixed: dict[str, Iterable[str]]) -> None:
        # normalised name -> (entity it names, where it was defined, how a message describes it)
        self._owners: dict[str, tuple[str, str, str]] = {}
        for kind, names in fixed.items():
            for name in names:
                self._add(name, name, f'{kind} "{name}"')
                for alias in SEGMENT_ALIASES.get(name, ()):
                    self._add(alias, name, f'"{alias}" (an alias of {name})')
        for dimension, aliases in DIMENSION_ALIASES.items():
            for name in (dimension, *aliases):
                self._add(name, dimension, f'"{name}" (a name of the {dimension} dimension)')

    def _add(self, name: str, entity: str, description: str) -> None:
        key = normalise(name)
        if key:
            self._owners.setdefault(key, (entity, "built in", description))

    def claim(self, name: str, kind: str, file: str, row: int, column: str, entity: str) -> None:
        """Add `name`: the name of `entity` (a `kind`: country, company) or one of its aliases,
        defined in `file` at `row`.

        Raises:
            DataError: the name does not start with a letter or digit (so no spreadsheet reads
                it as a formula) or equals another name; the message names both.
        """
        from xl_negcoke.errors import DataError, shorten

        alias = name != entity
        shown = (f'"{shorten(name)}" (an alias of {shorten(entity)})' if alias
                 else f'{kind} "{shorten(name)}"')
        if not name[:1].isalnum():
            raise DataError(file, f"{shown} must start with a letter or digit", row, column)
        if len(name) > MAX_NAME_CHARS:
            raise DataError(file, f"{shown} has {len(name):,} characters; a name has at most "
                            f"{MAX_NAME_CHARS}", row, column)
        where = f"{file} row {row}"
        key = normalise(name)
        owner = self._owners.get(key)
        if owner is None:
            self._owners[key] = (entity, where, shown.removesuffix(")") + f", {where})" if alias
                                 else f"{shown} ({where})")
            return
        other_entity, other_where, description = owner
        if other_entity == entity and other_where == where:
            return  # an alias that repeats its own entity's name
        raise DataError(file, f"{shown} is the same name as {description} once case, spaces and "
                        "punctuation are ignored; every segment name and alias must be unique", row,
                        column)
