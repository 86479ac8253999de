"""Model v2 (issue 10): demand, price, mix and country figures derived by hand from the CSV rows.

Every expected value below is computed in the test from the rows of data/*.csv, with the
arithmetic written out, never copied from the model's output. `row(key)` reads one value of
data/assumptions.csv; `country(name)` one country's weights (kt of anode made there).
"""

from __future__ import annotations

import csv

import pytest

from xl_negcoke.model import load_model
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR

RELATIVE = 1e-12

with (DEFAULT_DATA_DIR / "assumptions.csv").open(newline="", encoding="utf-8") as _handle:
    ASSUMPTIONS = {r["key"]: float(r["value"]) for r in csv.DictReader(_handle)}
with (DEFAULT_DATA_DIR / "countries.csv").open(newline="", encoding="utf-8") as _handle:
    COUNTRIES = {r["country"]: (float(r["weight"]), float(r["weight_2030"]))
                 for r in csv.DictReader(_handle)}


def row(key: str) -> float:
    return ASSUMPTIONS[key]


def country(name: str) -> tuple[float, float]:
    return COUNTRIES[name]


@pytest.fixture(scope="module")
def model():
    return load_model()


# -- the hand arithmetic, step by step ---------------------------------------------------------

COKE = row("coke_per_anode_t")  # 1.5 t of coke per t of artificial-graphite anode
ART_2019, ART_2021 = row("artificial_graphite_share_2019"), row("artificial_graphite_share_2021")
ART_2022, ART_2024 = row("artificial_graphite_share_2022"), row("artificial_graphite_share_2024")
ART_2020 = (ART_2019 + ART_2021) / 2  # linear between the 2019 and 2021 anchors: 0.8125
ART_2023 = (ART_2022 + ART_2024) / 2  # linear between the 2022 and 2024 anchors: 0.837

# world anode (kt): published to 2024; 2025 = 2024 x (1 + 22.91%); then x (1 + 21.97%) a year
ANODE_2025 = row("anode_world_kt_2024") * (1 + row("anode_growth_2025"))
ANODE_2030 = ANODE_2025 * (1 + row("anode_cagr_2025_2030")) ** 5

V2019 = row("anode_world_kt_2019") * ART_2019 * COKE  # 333.6 x 0.785 x 1.5
V2020 = row("anode_world_kt_2020") * ART_2020 * COKE  # 459.5 x 0.8125 x 1.5
V2021 = row("anode_world_kt_2021") * ART_2021 * COKE  # 905.2 x 0.84 x 1.5
V2022 = row("anode_world_kt_2022") * ART_2022 * COKE  # 1,556 x 0.84 x 1.5
V2023 = row("anode_world_kt_2023") * ART_2023 * COKE  # 1,688 x 0.837 x 1.5
V2024 = row("anode_world_kt_2024") * ART_2024 * COKE  # 2,110 x 0.834 x 1.5
V2025 = ANODE_2025 * ART_2024 * COKE  # the 2024 share is held to 2030
V2030 = ANODE_2030 * ART_2024 * COKE


def china_revenue_share(year: int) -> float:
    """76% in 2023 (S5); +2.55 points a year back to 2019 (so lower before), -1 point a year after."""
    if year <= 2023:
        return row("china_revenue_share_2023") + row("china_share_change_per_year_history") * (
            year - 2023)
    return row("china_revenue_share_2023") + row("china_share_change_per_year_forecast") * (
        year - 2023)


def china_volume_share(year: int) -> float:
    """s / (s + (1 - s) x k): China's revenue share s at China's price k x the seaborne price."""
    s, k = china_revenue_share(year), row("china_price_ratio")
    return s / (s + (1 - s) * k)


def petroleum_share(year: int) -> float:
    return row("petroleum_share_2023") + row("petroleum_share_change_per_year") * (year - 2023)


def seaborne(year: int) -> float:
    """The petroleum-based seaborne price: annual values to 2024, then +2% a year."""
    if year <= 2024:
        return row(f"petroleum_price_usd_per_t_{year}")
    return row("petroleum_price_usd_per_t_2024") * (1 + row("petroleum_price_growth_forecast")) ** (
        year - 2024)


def global_price(year: int) -> float:
    """seaborne x (type mix: p + (1 - p) x coal ratio) x (region mix: c x k + (1 - c))."""
    p, c = petroleum_share(year), china_volume_share(year)
    type_mix = p + (1 - p) * row("coal_price_ratio")
    region_mix = c * row("china_price_ratio") + (1 - c)
    return seaborne(year) * type_mix * region_mix


VOLUMES = {2019: V2019, 2020: V2020, 2021: V2021, 2022: V2022, 2023: V2023, 2024: V2024,
           2025: V2025, 2030: V2030}


# -- volume -----------------------------------------------------------------------------------


@pytest.mark.parametrize("year", sorted(VOLUMES))
def test_global_volume_is_world_anode_x_artificial_share_x_coke(model, year):
    """Global volume (kt) = world anode x artificial-graphite share x 1.5 t/t, each year; after
    2024 world anode grows at EVTank's latest outlook (22.91% in 2025, 21.97% a year after)."""
    assert model.value("Global", year, "volume") == pytest.approx(VOLUMES[year], rel=RELATIVE)


def test_volume_2024_by_hand(model):
    """2024 volume = 2,110 kt x 0.834 x 1.5 = 2,639.61 kt (SNE world shipments, SNE share)."""
    assert model.value("Global", 2024, "volume") == pytest.approx(2110 * 0.834 * 1.5, rel=RELATIVE)
    assert pytest.approx(2639.61, abs=1e-9) == 2110 * 0.834 * 1.5


def test_the_forecast_starts_from_the_latest_actual_year(model):
    """2025 volume / 2024 volume = 1 + 22.91% exactly: no jump from an older forecast."""
    ratio = model.value("Global", 2025, "volume") / model.value("Global", 2024, "volume")
    assert ratio == pytest.approx(1 + row("anode_growth_2025"), rel=RELATIVE)
    assert model.status(2024) == "actual" and model.status(2025) == "forecast"


# -- price and revenue ------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2019, 2020, 2021, 2022, 2023, 2024, 2027, 2030])
def test_global_price_is_the_mix_average_of_types_and_regions(model, year):
    """Global price = seaborne price x type mix x region mix (see global_price)."""
    assert model.value("Global", year, "price") == pytest.approx(global_price(year), rel=RELATIVE)


def test_revenue_2023_by_hand(model):
    """2023: c = 0.76 / (0.76 + 0.24 x 1.057); price = 725 x (0.894 + 0.106 x 0.977) x
    (c x 1.057 + 1 - c); revenue = 2,119.284 kt x price / 1,000."""
    c = 0.76 / (0.76 + 0.24 * 1.057)
    price = 725 * (0.894 + 0.106 * 0.977) * (c * 1.057 + 1 - c)
    volume = 1688 * 0.837 * 1.5
    assert model.value("Global", 2023, "revenue") == pytest.approx(volume * price / 1000,
                                                                     rel=1e-9)


def test_revenue_2024_falls_with_the_annual_average_price(model):
    """2024: seaborne 537.7 US$/t (725 x the -25.83% annual-average change), China 75% of
    revenue, petroleum 88.9% of volume: revenue = volume x price < 2023's despite +24.6% volume."""
    c = 0.75 / (0.75 + 0.25 * 1.057)
    price = 537.7 * (0.889 + 0.111 * 0.977) * (c * 1.057 + 1 - c)
    expected = 2110 * 0.834 * 1.5 * price / 1000
    assert model.value("Global", 2024, "revenue") == pytest.approx(expected, rel=1e-9)
    assert model.value("Global", 2024, "revenue") < model.value("Global", 2023, "revenue")


def test_revenue_2030_by_hand(model):
    """2030: volume V2030; seaborne 537.7 x 1.02^6; China 69% of revenue; petroleum 85.9%."""
    c = 0.69 / (0.69 + 0.31 * 1.057)
    price = 537.7 * 1.02**6 * (0.859 + 0.141 * 0.977) * (c * 1.057 + 1 - c)
    assert model.value("Global", 2030, "revenue") == pytest.approx(V2030 * price / 1000, rel=1e-9)


def test_both_cagrs_from_the_hand_revenues(model):
    """CAGR 2023-30 and 2024-30 of revenue, from the hand-derived revenues of each year."""
    revenue = {y: VOLUMES[y] * global_price(y) / 1000 for y in (2023, 2024, 2030)}
    assert model.cagr("Global", 2023, 2030) == pytest.approx(
        (revenue[2030] / revenue[2023]) ** (1 / 7) - 1, rel=1e-9)
    assert model.cagr("Global", 2024, 2030) == pytest.approx(
        (revenue[2030] / revenue[2024]) ** (1 / 6) - 1, rel=1e-9)


def test_coal_based_price_is_the_ratio_of_the_petroleum_based_price(model):
    """Coal-based price = 0.977 x petroleum-based price, each the mix average of the regions."""
    c = china_volume_share(2023)
    petroleum = 725 * (c * 1.057 + 1 - c)
    assert model.value("Petroleum-based", 2023, "price") == pytest.approx(petroleum, rel=RELATIVE)
    assert model.value("Coal-based", 2023, "price") == pytest.approx(0.977 * petroleum,
                                                                      rel=RELATIVE)


# -- regions and countries --------------------------------------------------------------------


def test_china_price_and_volume_2023(model):
    """China 2023: price = 725 x 1.057 x type mix; volume = V2023 x c; revenue share exactly 76%."""
    type_mix = 0.894 + 0.106 * 0.977
    assert model.value("China", 2023, "price") == pytest.approx(725 * 1.057 * type_mix, rel=RELATIVE)
    assert model.value("China", 2023, "volume") == pytest.approx(V2023 * china_volume_share(2023),
                                                                   rel=RELATIVE)
    assert model.share("China", 2023, "revenue") == pytest.approx(0.76, abs=1e-12)


def test_china_share_before_2023_follows_the_sne_change(model):
    """China's revenue share 2021 = 76% - 2 x 2.55 points = 70.9% (SNE's rise of Chinese firms)."""
    assert model.share("China", 2021, "revenue") == pytest.approx(0.76 - 2 * 0.0255, abs=1e-12)


def test_japan_and_korea_split_the_rest_by_anode_made_there(model):
    """2023: Japan = outside-China volume x 23 / (23 + 26) (SNE's 2024 tonnes; US and Nordic 0)."""
    japan, korea = country("Japan")[0], country("South Korea")[0]
    outside = V2023 * (1 - china_volume_share(2023))
    assert model.value("Japan", 2023, "volume") == pytest.approx(outside * japan / (japan + korea),
                                                                   rel=RELATIVE)
    assert model.value("United States", 2023, "volume") == 0.0


def test_united_states_2027_is_half_way_to_its_2030_weight(model):
    """2027 is half of 2024-2030: US weight 0 + (80 - 0) x 3/6 = 40 kt, Nordic 1 kt; Japan 23,
    Korea 26: US volume = outside-China volume x 40 / 90."""
    weights = {name: start + (end - start) * 0.5 for name, (start, end) in COUNTRIES.items()
               if name != "China"}
    assert weights["United States"] == 40 and sum(weights.values()) == 90
    volume_2027 = ANODE_2025 * (1 + row("anode_cagr_2025_2030")) ** 2 * ART_2024 * COKE
    outside = volume_2027 * (1 - china_volume_share(2027))
    assert model.value("United States", 2027, "volume") == pytest.approx(outside * 40 / 90,
                                                                           rel=1e-12)


def test_countries_outside_china_grow_at_different_rates(model):
    """The US (from 0 to 80 kt) and Japan (23 kt held) do not grow alike after 2024."""
    us = model.value("United States", 2030, "volume") / model.value("United States", 2027, "volume")
    japan = model.value("Japan", 2030, "volume") / model.value("Japan", 2027, "volume")
    assert us > japan * 1.2


# -- application mix --------------------------------------------------------------------------


def test_storage_and_consumer_paths_by_hand(model):
    """Energy Storage 2030 = 3 x 23% x V2023 (S3); 2019 = 23% x V2023 / 1.68^4 (S4 rate held);
    Consumer 2030 = 15% x V2023 x 1.05^7; 2019 = 15% x V2023 / 1.0945^4 (MIIT consumer GWh)."""
    assert model.value("Energy Storage", 2030, "volume") == pytest.approx(3 * 0.23 * V2023,
                                                                           rel=RELATIVE)
    assert model.value("Energy Storage", 2019, "volume") == pytest.approx(
        0.23 * V2023 / 1.68**4, rel=RELATIVE)
    assert model.value("Consumer Battery", 2030, "volume") == pytest.approx(
        0.15 * V2023 * 1.05**7, rel=1e-9)
    assert model.value("Consumer Battery", 2019, "volume") == pytest.approx(
        0.15 * V2023 / 1.0945**4, rel=1e-9)


def test_storage_share_falls_to_2030_as_recorded_in_c11(model):
    """S3's tripling against ~22% a year of total growth: storage falls from 23% to 3 x 0.23 x
    V2023 / V2030 of volume, the disagreement conflict C11 records."""
    assert model.share("Energy Storage", 2030, "volume") == pytest.approx(3 * 0.23 * V2023 / V2030,
                                                                           rel=RELATIVE)
    assert "16.7%" in model.source("C11")


# -- every assumption moves a pinned figure ---------------------------------------------------

PINNED = [(segment, year, metric)
          for year in (2019, 2020, 2021, 2022, 2023, 2024, 2025, 2030)
          for segment, metric in (("Global", "volume"), ("Global", "revenue"),
                                  ("Energy Storage", "volume"), ("Consumer Battery", "volume"),
                                  ("Petroleum-based", "volume"), ("China", "revenue"),
                                  ("Japan", "volume"), ("United States", "volume"),
                                  ("Nordic Countries", "volume"), ("Global", "capacity"))]


def _pinned(changes: dict[str, float] | None = None) -> list[float]:
    market = load_model(overrides=changes)
    return [market.value(*figure) for figure in PINNED]


def test_every_assumption_moves_a_pinned_figure():
    """Each assumption of assumptions.csv, and each non-zero country weight, moved by 1% in
    turn, moves at least one figure this file pins: no dead assumption."""
    base = _pinned()
    keys = list(ASSUMPTIONS)
    for name, (start, end) in COUNTRIES.items():
        slug = name.lower().replace(" ", "_")
        keys += [f"weight_{slug}"] * (start > 0) + [f"weight_2030_{slug}"] * (end > 0)
    dead = []
    for key in keys:
        value = ASSUMPTIONS.get(key)
        if value is None:
            value = load_model().assumptions().set_index("key").loc[key, "value"]
        moved = _pinned({key: value * 1.01})
        if all(a == b for a, b in zip(base, moved, strict=True)):
            dead.append(key)
    assert dead == []


# -- the command line -------------------------------------------------------------------------


def test_summary_shows_both_cagrs_side_by_side_and_the_base_cases_place(capsys):
    """`xl-negcoke summary`: 2023, 2024 and 2030 with their statuses, CAGR 2023-30 and 2024-30
    side by side (revenue from the hand-derived revenues), and where the base case sits."""
    from xl_negcoke.cli import main

    assert main(["summary"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "2023 (A)" in lines[1] and "2024 (A)" in lines[1] and "2030 (F)" in lines[1]
    assert "CAGR 23-30" in lines[1] and "CAGR 24-30" in lines[1]
    revenue = {y: VOLUMES[y] * global_price(y) / 1000 for y in (2023, 2024, 2030)}
    cagrs = ((revenue[2030] / revenue[2023]) ** (1 / 7) - 1,
             (revenue[2030] / revenue[2024]) ** (1 / 6) - 1)
    row = next(line for line in lines if line.startswith("Revenue (US$ million)"))
    assert row.split()[-2:] == [f"{cagrs[0] * 100:.1f}%", f"{cagrs[1] * 100:.1f}%"]
    assert row.split()[-5:-2] == [f"{revenue[y]:,.1f}" for y in (2023, 2024, 2030)]
    assert "the base case sits at P" in lines[-1]
