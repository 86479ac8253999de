"""Reading and validating a data folder: the embedded dataset loads with provenance on every row,
and a bad folder raises one DataError naming file, row and column."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from xl_negcoke.errors import DataError
from xl_negcoke.model import load_dataset
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR, PROVENANCE_PREFIXES

DATA_FILES = ("assumptions.csv", "countries.csv", "companies.csv", "scenarios.csv",
              "company_news.csv", "claims.csv", "years.csv", "producers.csv")
OPTIONAL_FILES = ("uncertainty.csv", "correlations.csv",  # ranges for simulations (test_simulation.py)
                  "conflicts.csv")  # disagreements between sources (test_conflicts.py)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of the embedded data folder to corrupt."""
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    return folder


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def set_cell(folder: Path, file: str, match: tuple[str, str], column: str, value: str) -> int:
    """Set `column` of the row whose `match[0]` column equals `match[1]`; return its row number
    as a spreadsheet shows it (header = row 1)."""
    path = folder / file
    rows = read_rows(path)
    key_index, column_index = rows[0].index(match[0]), rows[0].index(column)
    for number, row in enumerate(rows[1:], start=2):
        if row and row[key_index] == match[1]:
            row[column_index] = value
            write_rows(path, rows)
            return number
    raise AssertionError(f"no row with {match} in {file}")


def load_error(folder: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------------------------
# the embedded dataset


def test_embedded_dataset_loads():
    """The embedded data folder loads with every file, country, company and scenario."""
    dataset = load_dataset()
    assert dataset.files == DATA_FILES
    assert dataset.dataset_id.startswith("negcoke-")
    assert len(dataset.countries) == 25
    assert len(dataset.companies) == 14
    assert len(dataset.plants) == 27
    assert set(dataset.scenarios) == {"high", "low"}
    assert [c["id"] for c in dataset.claims] == [f"S{n}" for n in range(1, 18)]


def test_embedded_dataset_is_the_default():
    """load_dataset() and load_dataset(data/) read the same folder and give the same id."""
    assert load_dataset().dataset_id == load_dataset(DEFAULT_DATA_DIR).dataset_id


@pytest.mark.parametrize("file", DATA_FILES + OPTIONAL_FILES)
def test_every_row_names_its_source(file):
    """Every row of every data file has a source (conflicts.csv: both sources) whose first ';'
    part starts with a prefix.

    Later parts may be prose (e.g. "assumption: no public figure; calcination ... 1.5"), so
    only the first item of the list is required to carry a prefix."""
    with (DEFAULT_DATA_DIR / file).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    columns = [c for c in rows[0] if c in ("source", "source_a", "source_b")
               or c.endswith("_source")]  # producers.csv: one per number
    assert columns, f"{file} has no source column"
    for number, row in enumerate(rows, start=2):
        for column in columns:
            source = (row.get(column) or "").strip()
            assert source, f"{file} row {number}: empty {column}"
            first = source.split(";")[0].strip()
            assert first.startswith(PROVENANCE_PREFIXES), f"{file} row {number}: {first!r}"
            assert first.partition(":")[2].strip(), f"{file} row {number}: a prefix without text"


def test_every_data_file_is_known():
    """data/ holds exactly the files the dataset reads (plus its README)."""
    assert sorted(p.name for p in DEFAULT_DATA_DIR.glob("*.csv")) == sorted(DATA_FILES + OPTIONAL_FILES)


def test_dataset_id_follows_the_content(data):
    """Changing a number changes the dataset id."""
    set_cell(data, "assumptions.csv", ("key", "coke_per_anode_t"), "value", "1.6")
    assert load_dataset(data).dataset_id != load_dataset().dataset_id


def test_blank_lines_are_skipped_and_rows_keep_their_numbers(data):
    """A blank line is ignored, and a later error still names the file's own row number."""
    path = data / "company_news.csv"
    rows = read_rows(path)
    rows.insert(2, [])
    write_rows(path, rows)
    assert len(load_dataset(data).news) == len(rows) - 2
    number = set_cell(data, "company_news.csv", ("company", "Yiwei"), "company", "Nobody")
    assert number == 7
    assert "company_news.csv, row 7, column company" in load_error(data)


# ---------------------------------------------------------------------------------------------
# bad data folders


def test_missing_folder():
    """A folder that does not exist is named in the error."""
    message = load_error(Path("/no/such/folder"))
    assert "/no/such/folder" in message and "not a folder" in message


@pytest.mark.parametrize("file", DATA_FILES)
def test_missing_file(data, file):
    """A missing data file is named."""
    (data / file).unlink()
    message = load_error(data)
    assert message.startswith(f"{file}: missing file")


@pytest.mark.parametrize(
    ("file", "column"),
    [("countries.csv", "weight"), ("assumptions.csv", "value"), ("companies.csv", "type"),
     ("claims.csv", "source")],
)
def test_missing_column(data, file, column):
    """A missing column is named with the file and row 1 (the header)."""
    path = data / file
    rows = read_rows(path)
    index = rows[0].index(column)
    write_rows(path, [row[:index] + row[index + 1 :] for row in rows])
    message = load_error(data)
    assert message.startswith(f"{file}, row 1: missing column {column!r}")


def test_non_numeric_value(data):
    """A value that is not a number names file, row and column."""
    row = set_cell(data, "assumptions.csv", ("key", "coke_per_anode_t"), "value", "one and a half")
    message = load_error(data)
    assert row == 2
    assert message == ("assumptions.csv, row 2, column value: 'one and a half' is not a number; "
                       "write digits with a point for decimals and no separators, e.g. 1650, 1.65 or 15%")


def test_non_numeric_capacity(data):
    """A plant capacity that is not a number names file, row and column."""
    row = set_cell(data, "producers.csv", ("plant", "yiwei"), "capacity_kt", "n/a")
    assert load_error(data) == (f"producers.csv, row {row}, column capacity_kt: 'n/a' is not a "
                                "number; write digits with a point for decimals and no separators, "
                                "e.g. 1650, 1.65 or 15%")


def test_negative_level(data):
    """A negative volume level (anode_world_kt_2023 = -5) names file, row, column and why."""
    row = set_cell(data, "assumptions.csv", ("key", "anode_world_kt_2023"), "value", "-5")
    message = load_error(data)
    assert message.startswith(f"assumptions.csv, row {row}, column value: ")
    assert "anode_world_kt_2023" in message and "negative" in message


def test_negative_capacity(data):
    """A negative plant capacity names file, row and column."""
    row = set_cell(data, "producers.csv", ("plant", "pmc_gwangyang"), "capacity_kt", "-63")
    assert load_error(data).startswith(f"producers.csv, row {row}, column capacity_kt: ")


def test_anode_share_outside_its_range(data):
    """An anode share outside its own low..high range names the row and both ends."""
    row = set_cell(data, "producers.csv", ("plant", "sinopec_refineries"), "anode_share", "0.2")
    assert load_error(data) == (f"producers.csv, row {row}, column anode_share: anode_share 0.2 "
                                "lies outside its range 0.03 to 0.1")


def test_calibrated_share_of_a_listed_company_is_refused(data):
    """Only a group in Others may close report S6: a listed company's calibrated share is refused."""
    row = set_cell(data, "producers.csv", ("plant", "yiwei"), "anode_share", "calibrated")
    assert load_error(data).startswith(f"producers.csv, row {row}, column anode_share: a "
                                       "calibrated anode share closes report S6")


def test_unknown_product(data):
    """A product other than needle coke or anode-grade petcoke names the valid ones."""
    row = set_cell(data, "producers.csv", ("plant", "seadrift"), "product", "pitch")
    assert load_error(data) == (f"producers.csv, row {row}, column product: unknown product "
                                "'pitch'; valid: needle coke, anode-grade petcoke")


def test_company_without_a_plant(data):
    """A company of companies.csv with no plant in producers.csv is named."""
    set_cell(data, "producers.csv", ("plant", "seadrift"), "producer", "Someone Else")
    assert load_error(data) == ("producers.csv, column producer: company 'Seadrift Coke' "
                                "(companies.csv) has no plant producing in 2019-2030")


def test_share_outside_zero_to_one(data):
    """A share above 1 names file, row and column."""
    row = set_cell(data, "assumptions.csv", ("key", "power_battery_share_2023"), "value", "1.2")
    message = load_error(data)
    assert message.startswith(f"assumptions.csv, row {row}, column value: ")
    assert "between 0 and 1" in message


@pytest.mark.parametrize("column", ["weight", "weight_2030"])
def test_country_weights_all_zero_outside_china(data, column):
    """Weights (kt of anode made) that are all 0 outside China name the file and the column:
    they could not split the non-China share."""
    for country in ("Japan", "South Korea", "United States", "Nordic Countries"):
        set_cell(data, "countries.csv", ("country", country), column, "0")
    message = load_error(data)
    assert message.startswith(f"countries.csv, column {column}: every {column} outside China is 0")


def test_duplicate_assumption_key(data):
    """A key given twice names both rows."""
    path = data / "assumptions.csv"
    rows = read_rows(path)
    rows.append(list(rows[1]))
    write_rows(path, rows)
    message = load_error(data)
    assert message == (f"assumptions.csv, row {len(rows)}, column key: duplicate key "
                       "'coke_per_anode_t' (also row 2)")


def test_duplicate_country(data):
    """A country given twice names both rows."""
    path = data / "countries.csv"
    rows = read_rows(path)
    rows.insert(3, list(rows[1]))
    write_rows(path, rows)
    assert load_error(data) == ('countries.csv, row 4, column country: country "United States" is '
                                'the same name as country "United States" (countries.csv row 2) once '
                                "case, spaces and punctuation are ignored; every segment name and "
                                "alias must be unique")


def test_duplicate_claim_id(data):
    """A claim id given twice names the second row."""
    set_cell(data, "claims.csv", ("id", "S8"), "id", "S7")
    assert load_error(data) == "claims.csv, row 9, column id: duplicate id 'S7'"


def test_year_gap(data):
    """A missing year of a yearly series (petroleum_price_usd_per_t_2022) is a year gap."""
    path = data / "assumptions.csv"
    rows = [row for row in read_rows(path) if row[0] != "petroleum_price_usd_per_t_2022"]
    write_rows(path, rows)
    message = load_error(data)
    assert message.startswith("assumptions.csv, column key: year gap: "
                              "petroleum_price_usd_per_t_2022 is missing")


def test_missing_scalar_key(data):
    """A missing scalar assumption is named."""
    path = data / "assumptions.csv"
    write_rows(path, [row for row in read_rows(path) if row[0] != "coal_price_ratio"])
    assert load_error(data) == "assumptions.csv, column key: missing key 'coal_price_ratio'"


def test_unknown_assumption_key(data):
    """A key the model does not use names file, row and column."""
    row = set_cell(data, "assumptions.csv", ("key", "coal_price_ratio"), "key", "coal_ratio")
    assert load_error(data) == f"assumptions.csv, row {row}, column key: unknown key 'coal_ratio'"


def test_unknown_region(data):
    """A country in an unknown region names file, row, column and the valid regions."""
    row = set_cell(data, "countries.csv", ("country", "Canada"), "region", "Atlantis")
    message = load_error(data)
    assert message.startswith(f"countries.csv, row {row}, column region: unknown region "
                              "'Atlantis'; valid: North America, Europe")


def test_unknown_company_in_news(data):
    """News about a company not in companies.csv names file, row and column."""
    row = set_cell(data, "company_news.csv", ("company", "ENEOS"), "company", "Acme Coke")
    assert load_error(data) == (f"company_news.csv, row {row}, column company: unknown company "
                                "'Acme Coke' (see companies.csv)")


def test_unknown_hq_country(data):
    """A company in a country not in countries.csv names file, row and column."""
    row = set_cell(data, "companies.csv", ("company", "ENEOS"), "hq_country", "Atlantis")
    assert load_error(data).startswith(f"companies.csv, row {row}, column hq_country: unknown "
                                       "country 'Atlantis'")


@pytest.mark.parametrize(
    ("file", "match"),
    [("assumptions.csv", ("key", "coke_per_anode_t")), ("countries.csv", ("country", "Japan")),
     ("companies.csv", ("company", "Yiwei")), ("scenarios.csv", ("key", "coal_price_ratio")),
     ("company_news.csv", ("company", "Yiwei")), ("claims.csv", ("id", "S9"))],
)
def test_provenance_without_a_valid_prefix(data, file, match):
    """A source that starts with none of report:/source:/derived:/assumption: is an error."""
    if file == "scenarios.csv":
        path = data / file
        rows = read_rows(path)
        rows.append(["stress", "coal_price_ratio", "0.8", "cheaper coal", "x"])
        write_rows(path, rows)
    row = set_cell(data, file, match, "source", "wikipedia, 2024")
    message = load_error(data)
    assert message.startswith(f"{file}, row {row}, column source: provenance 'wikipedia, 2024' "
                              "must start with report:, source:, derived: or assumption:")


@pytest.mark.parametrize(
    ("file", "match"),
    [("assumptions.csv", ("key", "coal_price_ratio")), ("countries.csv", ("country", "Italy")),
     ("companies.csv", ("company", "ENEOS")), ("company_news.csv", ("company", "ENEOS")),
     ("claims.csv", ("id", "S12"))],
)
def test_empty_provenance(data, file, match):
    """An empty source names file, row and column."""
    row = set_cell(data, file, match, "source", "")
    assert load_error(data) == f"{file}, row {row}, column source: empty value"


def test_row_with_too_many_fields(data):
    """A row with more fields than the header names file and row."""
    path = data / "countries.csv"
    rows = read_rows(path)
    rows[5].append("extra")
    write_rows(path, rows)
    assert load_error(data) == "countries.csv, row 6: 7 fields but the header has 6"


def test_invalid_scenario_name(data):
    """A scenario named base (or with punctuation) in scenarios.csv names file, row and column."""
    path = data / "scenarios.csv"
    rows = read_rows(path)
    rows[1][0] = "base"
    write_rows(path, rows)
    assert load_error(data).startswith("scenarios.csv, row 2, column scenario: invalid scenario")


def test_data_error_carries_file_row_and_column(data):
    """DataError exposes file, row and column as attributes as well as in its text."""
    row = set_cell(data, "countries.csv", ("country", "Canada"), "weight", "heavy")
    with pytest.raises(DataError) as caught:
        load_dataset(data)
    assert (caught.value.file, caught.value.row, caught.value.column) == ("countries.csv", row,
                                                                         "weight")


def test_every_year_has_a_status_in_order():
    """years.csv gives each year 2019-2030 one status: 2019-2020 estimates (no world figure),
    2021-2024 actuals (world figures or stated growth), 2025-2030 forecasts."""
    from xl_negcoke.model.model import load_model

    model = load_model()
    statuses = [model.status(year) for year in model.years]
    assert statuses == ["estimate"] * 2 + ["actual"] * 4 + ["forecast"] * 6
    assert model.first_forecast_year() == 2025


def test_years_file_refuses_a_status_going_back(tmp_path):
    """An actual year after a forecast year is refused with the file, row and column."""
    import shutil

    from xl_negcoke.errors import DataError
    from xl_negcoke.model.dataset import DEFAULT_DATA_DIR, load_dataset

    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    path = folder / "years.csv"
    path.write_text(path.read_text().replace("2026,forecast", "2026,actual"))
    with pytest.raises(DataError, match=r"years.csv.*2026 is actual after a forecast year"):
        load_dataset(folder)
