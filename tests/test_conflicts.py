"""The conflicts register (data/conflicts.csv): loaded and validated, shown by NEGCOKE_SOURCE and
in the workbook's §12.2 as plain text."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from xl_negcoke.errors import DataError
from xl_negcoke.model import load_dataset, load_model
from xl_negcoke.model.dataset import CONFLICT_SIDES, DEFAULT_DATA_DIR

HEADER = ["id", "topic", "claim", "source_a", "value_a", "source_b", "value_b", "side_taken", "why"]


@pytest.fixture()
def data(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    return folder


def rewrite(folder, change) -> None:
    path = folder / "conflicts.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def test_the_register_has_the_shared_header_and_ids_by_side():
    """The header is the contract shared by both sides; demand's ids are C1-C49, supply's
    (topic Supply) C50 and up, in order."""
    with (DEFAULT_DATA_DIR / "conflicts.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADER
    ids = [int(r[0][1:]) for r in rows[1:]]
    assert ids == sorted(set(ids)) and all(i >= 1 for i in ids)
    assert all((i >= 50) == (r[1] == "Supply") for i, r in zip(ids, rows[1:], strict=True))


def test_the_register_covers_the_issues_conflicts():
    """S5, S8, S15, the application mix, the demand series and the 2024 price each have a row."""
    texts = [" ".join((c.claim, c.source_a, c.source_b, c.why)) for c in load_dataset().conflicts]
    for needle in ("report:S5", "report:S8", "report:S15", "report:S1", "report:S3", "report:S4",
                   "anode_world_kt_2021", "anode_world_kt_2024", "petroleum_price_usd_per_t_2024"):
        assert any(needle in text for text in texts), needle
    assert all(c.side_taken in CONFLICT_SIDES for c in load_dataset().conflicts)


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [(2, "id", "X1", "id 'X1' must be C followed by a number"),
     (3, "id", "C1", "duplicate id 'C1'"),
     (2, "side_taken", "mine", "unknown side_taken 'mine' (valid: source_a, source_b, both, "
      "neither)"),
     (2, "source_b", "a web page", "provenance 'a web page' must start with report:"),
     (2, "why", "", "empty value")],
)
def test_a_bad_row_names_file_row_and_column(data, row, column, value, message):
    """A bad value in conflicts.csv names the file, the row (as a spreadsheet shows it) and the
    column, in one line."""
    def change(rows):
        rows[row - 1][HEADER.index(column)] = value

    rewrite(data, change)
    with pytest.raises(DataError) as caught:
        load_dataset(data)
    assert str(caught.value).startswith(f"conflicts.csv, row {row}, column {column}: {message}")
    assert "\n" not in str(caught.value)


def test_a_folder_without_the_register_loads(data):
    """conflicts.csv is optional: without it the model loads with an empty register."""
    (data / "conflicts.csv").unlink()
    model = load_model(data)
    assert model.dataset.conflicts == () and model.conflicts().empty


def test_source_shows_a_conflict_and_lists_the_conflicts_of_a_key():
    """NEGCOKE_SOURCE("C3") gives both values and the side taken; S5's source lists C2."""
    model = load_model()
    text = model.source("c3")
    assert text.startswith("C3 (Companies) Type of Shandong Jingyang and CNPC's coke: A coal-based")
    assert "taken: B" in text and "report:S15" in text
    assert "Conflicts: C2" in model.source("S5")
    assert "C13" in model.source("petroleum_price_usd_per_t_2024")


def test_the_udf_shows_a_conflict():
    """The Excel face returns the same text."""
    from xl_negcoke import udfs

    assert udfs.NEGCOKE_SOURCE("C9") == load_model().source("C9")


def test_the_workbook_shows_every_conflict_as_plain_text():
    """§12.2 has one row per conflict, written as values (never formulas), each naming the side
    taken."""
    from openpyxl import load_workbook

    book = load_workbook(Path(__file__).resolve().parents[1] / "workbooks"
                         / "negative-coke-outlook-2024-2030.xlsx")
    sheet = book["12 Appendix"]
    found = {}
    for label, text in sheet.iter_rows(min_col=1, max_col=2, values_only=True):
        if isinstance(label, str) and label[:1] == "C" and label.split()[0][1:].isdigit():
            found[label.split()[0]] = text
    assert sorted(found) == sorted(c.id for c in load_dataset().conflicts)
    assert all(isinstance(t, str) and not t.startswith("=") and "Taken:" in t
               for t in found.values())
