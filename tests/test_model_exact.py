"""The model's numbers pinned by hand: each expected value is written out below as arithmetic on
the inputs of data/*.csv (copied here as literals with the file they come from), never taken from
the code's output. A 1% change in any input used, or in any step of the derivation, fails a test.

Report figures S1-S6 are inputs, so checking them shows only that they pass through; these tests
check what is derived from them: the volume chain (anode x artificial share x coke per tonne),
the application paths, China's volume share and prices behind its 76% revenue share, the country
split, the anode share that makes S6 hold, capacity not yet announced, utilisation, and the
companies' volumes and revenues.
"""

from __future__ import annotations

import math

import pytest

from xl_negcoke.errors import AssumptionError
from xl_negcoke.model import load_model

REL = 1e-9  # relative tolerance: the model and this file round differently, by a few ulps

# data/assumptions.csv ---------------------------------------------------------------------------
COKE_PER_ANODE = 1.5  # coke_per_anode_t, t of coke per t of anode
ANODE = {2019: 333.6, 2020: 459.5, 2021: 905.2, 2022: 1556.0, 2023: 1688.0, 2024: 2110.0}  # kt
ANODE_GROWTH_2025 = 0.2291
ANODE_CAGR_2025_2030 = 0.2197
# artificial_graphite_share anchors 2019 0.785, 2021 0.84, 2022 0.84, 2024 0.834; linear between,
# held after 2024: 2020 = (0.785 + 0.84) / 2 and 2023 = (0.84 + 0.834) / 2
ARTIFICIAL = {2019: 0.785, 2020: 0.8125, 2021: 0.84, 2022: 0.84, 2023: 0.837, 2024: 0.834}
POWER_SHARE_2023 = 0.62  # S1
STORAGE_SHARE_2023 = 0.23  # S2
STORAGE_CAGR_2020_2023 = 0.68  # S4
STORAGE_MULTIPLE_2030 = 3.0  # S3
CONSUMER_GROWTH_HISTORY = 0.0945
CONSUMER_GROWTH_FORECAST = 0.05
PETROLEUM_SHARE_2023 = 0.894
PETROLEUM_SHARE_CHANGE = -0.005  # per year
SEABORNE = {2019: 650.0, 2020: 650.0, 2021: 1075.0, 2022: 1650.0, 2023: 725.0, 2024: 537.7}  # US$/t
PRICE_GROWTH_FORECAST = 0.02
COAL_PRICE_RATIO = 0.977
CHINA_PRICE_RATIO = 1.057
CHINA_REVENUE_SHARE_2023 = 0.76  # S5
CHINA_SHARE_CHANGE_HISTORY = 0.0255  # per year before 2023
CHINA_SHARE_CHANGE_FORECAST = -0.01  # per year after 2023
TOP5_SHARE_2023 = 0.48  # S6
CEILING = 0.85  # utilisation_ceiling

# data/countries.csv: anode material made outside China, kt in 2024 (weight) and 2030 ---------------
WEIGHTS = {"Japan": (23.0, 23.0), "South Korea": (26.0, 26.0), "United States": (0.0, 80.0),
           "Nordic Countries": (0.0, 2.0)}  # every other country 0 and 0

# data/producers.csv: (producer, type, nameplate kt/yr, anode share, first year, last year) --------
PETROLEUM, COAL = "Petroleum-based", "Coal-based"
PLANTS = {
    "baolai_bio": ("Baolai Bio", PETROLEUM, 260, 0.4795, None, None),
    "shandong_yida": ("Shandong Yida", PETROLEUM, 200, 0.4795, None, None),
    "shandong_jingyang": ("Shandong Jingyang", PETROLEUM, 200, 0.4795, None, None),
    "cnpc_jinzhou": ("China National Petroleum", PETROLEUM, 170, 0.4795, None, None),
    "yiwei": ("Yiwei", PETROLEUM, 150, 0.4795, None, None),
    "c_chem_pizhou": ("C-Chem", COAL, 60, 0.1, 2015, None),
    "other_china_oil_2021": ("Other Chinese needle-coke producers", PETROLEUM, 470, 0.4795, None, None),
    "other_china_oil_2022": ("Other Chinese needle-coke producers", PETROLEUM, 140, 0.4795, 2022, None),
    "other_china_oil_2023": ("Other Chinese needle-coke producers", PETROLEUM, 858, 0.4795, 2023, None),
    "other_china_oil_planned": ("Other Chinese needle-coke producers", PETROLEUM, 509.6, 0.4795, 2025,
                                None),
    "other_china_coal_2021": ("Other Chinese needle-coke producers", COAL, 940, 0.4795, None, None),
    "other_china_coal_2022": ("Other Chinese needle-coke producers", COAL, 130, 0.4795, 2022, None),
    "other_china_coal_2023": ("Other Chinese needle-coke producers", COAL, 220, 0.4795, 2023, None),
    "other_china_coal_planned": ("Other Chinese needle-coke producers", COAL, 420.4, 0.4795, 2025, None),
    "cnpc_refineries": ("China National Petroleum", PETROLEUM, 4064.6, 0.25, 2021, None),
    "sinopec_refineries": ("Sinopec", PETROLEUM, 11682.4, 0.06, 2021, None),
    "cnooc_refineries": ("China National Offshore Oil", PETROLEUM, 2159.3, 0.25, 2021, None),
    "independent_refiners": ("Independent refiners (China)", PETROLEUM, 15519.7, None, 2021, None),
    "p66_humber": ("Phillips 66", PETROLEUM, 150, 0.312, None, None),
    "p66_lake_charles": ("Phillips 66", PETROLEUM, 150, 0.2, None, None),
    "seadrift": ("Seadrift Coke", PETROLEUM, 100, 0.0, None, None),
    "eneos": ("ENEOS", PETROLEUM, 100, 0.2, None, None),
    "mcc_sakaide": ("Mitsubishi Chemical", COAL, 100, 0.2, None, 2027),
    "c_chem_kashima": ("C-Chem", COAL, 40, 0.0, None, 2024),
    "pmc_gwangyang": ("PMC Tech", COAL, 63, 0.2, 2015, None),
    "iocl_paradip": ("Indian Oil", PETROLEUM, 56, 0.1, 2025, None),
    "other_outside_china": ("Other needle-coke producers outside China", PETROLEUM, 347, 0.2, None,
                            None),
}
GROUPS = ("Other Chinese needle-coke producers", "Independent refiners (China)",
          "Other needle-coke producers outside China")  # in producers.csv, not companies.csv


# The derivation, by hand, one year at a time ------------------------------------------------------

def anode_kt(year: int) -> float:
    """World anode: published to 2024, then +22.91% in 2025 and +21.97% a year after."""
    if year <= 2024:
        return ANODE[year]
    return ANODE[2024] * (1 + ANODE_GROWTH_2025) * (1 + ANODE_CAGR_2025_2030) ** (year - 2025)


def volume_kt(year: int) -> float:
    """Global volume = world anode x artificial-graphite share x coke per tonne of anode."""
    return anode_kt(year) * ARTIFICIAL[min(year, 2024)] * COKE_PER_ANODE


V2023 = 1688.0 * 0.837 * 1.5  # 2,119.284 kt


def storage_kt(year: int) -> float:
    """Energy Storage: 23% of 2023, 68% a year before it, x3.0 over 2023-2030 (evenly compounded)."""
    if year <= 2023:
        return V2023 * 0.23 / 1.68 ** (2023 - year)
    return V2023 * 0.23 * 3.0 ** ((year - 2023) / 7)


def consumer_kt(year: int) -> float:
    """Consumer Battery: 1 - 62% - 23% = 15% of 2023, 9.45% a year before, 5% a year after."""
    share = 1 - 0.62 - 0.23
    if year <= 2023:
        return V2023 * share / 1.0945 ** (2023 - year)
    return V2023 * share * 1.05 ** (year - 2023)


def petroleum_share(year: int) -> float:
    return PETROLEUM_SHARE_2023 + PETROLEUM_SHARE_CHANGE * (year - 2023)


def seaborne(year: int) -> float:
    """Petroleum-based price outside China: published to 2024, then +2% a year."""
    return SEABORNE[year] if year <= 2024 else SEABORNE[2024] * 1.02 ** (year - 2024)


def china_revenue_share(year: int) -> float:
    change = CHINA_SHARE_CHANGE_HISTORY if year <= 2023 else CHINA_SHARE_CHANGE_FORECAST
    return CHINA_REVENUE_SHARE_2023 + change * (year - 2023)


def china_volume_share(year: int) -> float:
    """China's share of volume: its revenue share s at 1.057 x the seaborne price gives
    s / (s + (1 - s) x 1.057) of the volume."""
    s = china_revenue_share(year)
    return s / (s + (1 - s) * CHINA_PRICE_RATIO)


def petroleum_price(year: int) -> float:
    """Mix average over China (at 1.057 x) and outside China (x 1)."""
    c = china_volume_share(year)
    return seaborne(year) * (c * CHINA_PRICE_RATIO + (1 - c))


def coal_price(year: int) -> float:
    return petroleum_price(year) * COAL_PRICE_RATIO


def revenue_musd(year: int) -> float:
    """Revenue (US$ million) = volume (kt) x price (US$/t) / 1,000, summed over the types."""
    p = petroleum_share(year)
    return (volume_kt(year) * p * petroleum_price(year)
            + volume_kt(year) * (1 - p) * coal_price(year)) / 1000


def type_factor(year: int) -> float:
    """A region's price relative to the seaborne petroleum price: the mix of the types."""
    p = petroleum_share(year)
    return p + (1 - p) * COAL_PRICE_RATIO


def outside_weight(country: str, year: int) -> float:
    """A country's share of the volume outside China: its anode kt, linear from 2024 to 2030."""
    ramp = min(max((year - 2024) / 6, 0.0), 1.0)

    def weight(name: str) -> float:
        start, end = WEIGHTS.get(name, (0.0, 0.0))
        return start + (end - start) * ramp

    return weight(country) / sum(weight(name) for name in WEIGHTS)


def runs(plant: str, year: int) -> bool:
    first, last = PLANTS[plant][4], PLANTS[plant][5]
    return (first is None or first <= year) and (last is None or year <= last)


def anode_capacity(plant: str, year: int) -> float:
    """Nameplate x anode share while the plant runs (independent refiners: the S6 share)."""
    _producer, _kind, nameplate, share, _first, _last = PLANTS[plant]
    if share is None:
        share = CALIBRATED_SHARE
    return nameplate * share if runs(plant, year) else 0.0


def company_capacity_2023(producer: str) -> float:
    return sum(anode_capacity(p, 2023) for p, row in PLANTS.items() if row[0] == producer)


# Report S6, by hand: the 2023 anode capacity of the listed companies.
#   China National Petroleum 170 x 0.4795 + 4,064.6 x 0.25 = 81.515 + 1,016.15 = 1,097.665
#   Sinopec 11,682.4 x 0.06 = 700.944;  China National Offshore Oil 2,159.3 x 0.25 = 539.825
#   Baolai Bio 260 x 0.4795 = 124.67;  Shandong Yida and Shandong Jingyang 200 x 0.4795 = 95.9
#   Yiwei 150 x 0.4795 = 71.925;  Phillips 66 150 x 0.312 + 150 x 0.2 = 76.8;  ENEOS 20;
#   Mitsubishi Chemical 20;  PMC Tech 63 x 0.2 = 12.6;  C-Chem 60 x 0.1 + 40 x 0 = 6;
#   Seadrift Coke 0;  Indian Oil 0 (from 2025)
TOP5_2023 = 1097.665 + 700.944 + 539.825 + 124.67 + 95.9  # 2,559.004 kt
CAPACITY_2023 = TOP5_2023 / 0.48  # 5,331.258333 kt: what the top five must be 48% of
# every plant but the independent refiners in 2023: the listed companies (2,862.229 kt together),
# Other Chinese needle-coke producers (470 + 140 + 858 + 940 + 130 + 220) x 0.4795 = 1,322.461 and
# other producers outside China 347 x 0.2 = 69.4
LISTED_2023 = 1097.665 + 700.944 + 539.825 + 124.67 + 95.9 + 95.9 + 71.925 + 76.8 + 20 + 20 + 12.6 + 6
OTHER_PLANTS_2023 = LISTED_2023 + (470 + 140 + 858 + 940 + 130 + 220) * 0.4795 + 347 * 0.2
CALIBRATED_SHARE = (CAPACITY_2023 - OTHER_PLANTS_2023) / 15519.7  # independent refiners' nameplate


def announced(kind: str, year: int) -> float:
    return sum(anode_capacity(p, year) for p, row in PLANTS.items() if row[1] == kind)


def type_volume(kind: str, year: int) -> float:
    p = petroleum_share(year)
    return volume_kt(year) * (p if kind == PETROLEUM else 1 - p)


def unannounced(kind: str, year: int) -> float:
    """Capacity added so the type's utilisation stays at 85% at most (none in 2023: S6 sets it)."""
    if year == 2023:
        return 0.0
    return max(type_volume(kind, year) / CEILING - announced(kind, year), 0.0)


def type_utilisation(kind: str, year: int) -> float:
    return type_volume(kind, year) / (announced(kind, year) + unannounced(kind, year))


def company_volume(producer: str, year: int) -> float:
    """A producer sells each plant's anode capacity x the utilisation of the plant's type."""
    return sum(anode_capacity(p, year) * type_utilisation(row[1], year)
               for p, row in PLANTS.items() if row[0] == producer)


def company_revenue(producer: str, year: int) -> float:
    price = {PETROLEUM: petroleum_price(year), COAL: coal_price(year)}
    return sum(anode_capacity(p, year) * type_utilisation(row[1], year) * price[row[1]] / 1000
               for p, row in PLANTS.items() if row[0] == producer)


@pytest.fixture(scope="module")
def model():
    return load_model()


def close(expected: float):
    return pytest.approx(expected, rel=REL, abs=0)


YEARS_TESTED = (2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026, 2027, 2029, 2030)

# volume ----------------------------------------------------------------------------------------


def test_2023_volume_is_anode_times_artificial_share_times_coke_per_anode(model):
    """2023: 1,688 kt of anode x 0.837 artificial (2021-2024 midpoint) x 1.5 t/t = 2,119.284 kt."""
    assert model.value("Global", 2023, "volume") == close(2119.284)
    assert model.value("Global", 2020, "volume") == close(459.5 * 0.8125 * 1.5)  # 560.015625
    assert model.value("Global", 2024, "volume") == close(2110 * 0.834 * 1.5)  # 2,639.61


def test_2025_and_2030_volume_grow_from_the_2024_anode_at_the_outlooks_rates(model):
    """2025: 2,110 x 1.2291 kt of anode; 2030: that x 1.2197^5; both x 0.834 x 1.5."""
    assert model.value("Global", 2025, "volume") == close(2110 * 1.2291 * 0.834 * 1.5)
    assert model.value("Global", 2030, "volume") == close(2110 * 1.2291 * 1.2197 ** 5 * 0.834 * 1.5)


@pytest.mark.parametrize("year", YEARS_TESTED)
def test_global_volume_follows_the_anode_chain_every_year(model, year):
    """Every year: Global volume = world anode x artificial-graphite share x 1.5."""
    assert model.value("Global", year, "volume") == close(volume_kt(year))


@pytest.mark.parametrize("year", YEARS_TESTED)
def test_application_volumes_follow_their_paths(model, year):
    """Energy Storage and Consumer Battery follow their growth paths from 2023; Power Battery is
    the rest of the anode-derived total."""
    storage, consumer = storage_kt(year), consumer_kt(year)
    assert model.value("Energy Storage", year, "volume") == close(storage)
    assert model.value("Consumer Battery", year, "volume") == close(consumer)
    assert model.value("Power Battery", year, "volume") == close(volume_kt(year) - storage - consumer)


def test_energy_storage_2020_and_2030_by_hand(model):
    """2020: 2,119.284 x 0.23 / 1.68^3 = 102.8888...; 2030: 2,119.284 x 0.23 x 3 = 1,462.30596."""
    assert model.value("Energy Storage", 2020, "volume") == close(2119.284 * 0.23 / 1.68 ** 3)
    assert model.value("Energy Storage", 2030, "volume") == close(1462.30596)


def test_consumer_battery_2019_and_2030_by_hand(model):
    """2019: 2,119.284 x 0.15 / 1.0945^4; 2030: 2,119.284 x 0.15 x 1.05^7."""
    assert model.value("Consumer Battery", 2019, "volume") == close(2119.284 * 0.15 / 1.0945 ** 4)
    assert model.value("Consumer Battery", 2030, "volume") == close(2119.284 * 0.15 * 1.05 ** 7)


@pytest.mark.parametrize("year", YEARS_TESTED)
def test_type_volumes_split_by_the_petroleum_share_path(model, year):
    """Petroleum-based = volume x (0.894 - 0.005 per year from 2023); Coal-based the rest."""
    share = petroleum_share(year)
    assert model.value("Petroleum-based", year, "volume") == close(volume_kt(year) * share)
    assert model.value("Coal-based", year, "volume") == close(volume_kt(year) * (1 - share))


def test_petroleum_share_2019_and_2030_by_hand(model):
    """0.894 + 0.005 x 4 = 0.914 in 2019; 0.894 - 0.005 x 7 = 0.859 in 2030."""
    assert model.share("Petroleum-based", 2019, "volume") == close(0.914)
    assert model.share("Petroleum-based", 2030, "volume") == close(0.859)


# prices and revenue ------------------------------------------------------------------------------


def test_2023_petroleum_price_is_the_china_and_seaborne_mix(model):
    """2023: China buys 0.76 / (0.76 + 0.24 x 1.057) = 74.97% of the volume at 1.057 x 725 US$/t,
    the rest at 725 US$/t: (0.76 x 1.057 / 1.01368 + 0.25368 / 1.01368) x 725."""
    china_volume = 0.76 / (0.76 + 0.24 * 1.057)
    expected = 725 * (china_volume * 1.057 + (1 - china_volume))
    assert model.value("Petroleum-based", 2023, "price") == close(expected)
    assert model.value("Coal-based", 2023, "price") == close(expected * 0.977)


@pytest.mark.parametrize("year", YEARS_TESTED)
def test_type_prices_follow_the_seaborne_price(model, year):
    """Petroleum-based: seaborne x the China/outside mix; Coal-based: that x 0.977."""
    assert model.value("Petroleum-based", year, "price") == close(petroleum_price(year))
    assert model.value("Coal-based", year, "price") == close(coal_price(year))


def test_seaborne_price_grows_two_percent_a_year_after_2024(model):
    """Outside China the price is 537.7 US$/t in 2024 and 537.7 x 1.02^6 in 2030 (x the types)."""
    assert model.value("United States", 2024, "price") == close(537.7 * type_factor(2024))
    assert model.value("United States", 2030, "price") == close(537.7 * 1.02 ** 6 * type_factor(2030))


@pytest.mark.parametrize("year", YEARS_TESTED)
def test_revenue_is_volume_times_price_by_type(model, year):
    """Revenue = petroleum kt x its price / 1,000 + coal kt x its price / 1,000; price =
    revenue x 1,000 / volume."""
    p = petroleum_share(year)
    petroleum_revenue = volume_kt(year) * p * petroleum_price(year) / 1000
    coal_revenue = volume_kt(year) * (1 - p) * coal_price(year) / 1000
    assert model.value("Petroleum-based", year, "revenue") == close(petroleum_revenue)
    assert model.value("Coal-based", year, "revenue") == close(coal_revenue)
    assert model.value("Global", year, "revenue") == close(revenue_musd(year))
    assert model.value("Global", year, "price") == close(revenue_musd(year) * 1000 / volume_kt(year))


def test_2023_global_revenue_by_hand(model):
    """2023: 2,119.284 kt x (0.894 + 0.106 x 0.977) x the 2023 petroleum price / 1,000."""
    china_volume = 0.76 / (0.76 + 0.24 * 1.057)
    price = 725 * (china_volume * 1.057 + 1 - china_volume)
    assert model.value("Global", 2023, "revenue") == close(2119.284 * (0.894 + 0.106 * 0.977) * price
                                                           / 1000)


@pytest.mark.parametrize("application", ["Power Battery", "Consumer Battery", "Energy Storage"])
@pytest.mark.parametrize("year", [2019, 2023, 2030])
def test_applications_carry_the_global_average_price(model, application, year):
    """An application's revenue = its volume x the Global price / 1,000."""
    price = revenue_musd(year) * 1000 / volume_kt(year)
    volume = model.value(application, year, "volume")
    assert model.value(application, year, "price") == close(price)
    assert model.value(application, year, "revenue") == close(volume * price / 1000)


# China, countries and regions --------------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS_TESTED)
def test_china_volume_price_and_revenue(model, year):
    """China: volume share s / (s + (1 - s) x 1.057) of the volume, at seaborne x 1.057 x the
    type mix; so its revenue share is s (0.76 in 2023, + 0.0255 a year before, - 0.01 after)."""
    volume = volume_kt(year) * china_volume_share(year)
    price = seaborne(year) * 1.057 * type_factor(year)
    assert model.value("China", year, "volume") == close(volume)
    assert model.value("China", year, "price") == close(price)
    assert model.value("China", year, "revenue") == close(volume * price / 1000)
    assert model.share("China", year, "revenue") == close(china_revenue_share(year))


def test_china_revenue_share_2019_and_2030_by_hand(model):
    """0.76 - 4 x 0.0255 = 0.658 in 2019; 0.76 - 7 x 0.01 = 0.69 in 2030."""
    assert model.share("China", 2019) == close(0.658)
    assert model.share("China", 2030) == close(0.69)


def test_china_2023_volume_share_by_hand(model):
    """0.76 / (0.76 + 0.24 x 1.057) = 0.76 / 1.01368 of the 2023 volume."""
    assert model.share("China", 2023, "volume") == close(0.76 / 1.01368)


@pytest.mark.parametrize("year", YEARS_TESTED)
@pytest.mark.parametrize("country", ["Japan", "South Korea", "United States", "Nordic Countries"])
def test_countries_outside_china_split_by_anode_made_there(model, country, year):
    """Outside China the volume and revenue split by anode kt made there (2024, ramping linearly
    to 2030), at the seaborne price x the type mix."""
    outside_volume = volume_kt(year) * (1 - china_volume_share(year))
    outside_revenue = revenue_musd(year) - model.value("China", year, "revenue")
    part = outside_weight(country, year)
    assert model.value(country, year, "volume") == close(outside_volume * part)
    assert model.value(country, year, "revenue") == close(outside_revenue * part)
    if part:
        assert model.value(country, year, "price") == close(seaborne(year) * type_factor(year))


def test_country_weights_2027_by_hand(model):
    """2027 is halfway from 2024 to 2030: the United States weighs 40 kt, Japan 23, Korea 26,
    Nordic 1, of 90 kt."""
    outside = model.value("Global", 2027, "volume") - model.value("China", 2027, "volume")
    assert model.value("United States", 2027, "volume") == close(outside * 40 / 90)
    assert model.value("Japan", 2027, "volume") == close(outside * 23 / 90)
    assert model.value("Nordic Countries", 2027, "volume") == close(outside * 1 / 90)
    assert model.value("United States", 2024, "volume") == 0.0


@pytest.mark.parametrize("year", [2019, 2023, 2027, 2030])
def test_region_totals_and_average_price(model, year):
    """Asia = China + Japan + South Korea; its price = its revenue / its volume; a region without
    volume (South America) shows the price outside China."""
    members = ("China", "Japan", "South Korea")
    volume = sum(model.value(c, year, "volume") for c in members)
    revenue = sum(model.value(c, year, "revenue") for c in members)
    assert model.value("Asia", year, "volume") == close(volume)
    assert model.value("Asia", year, "revenue") == close(revenue)
    assert model.value("Asia", year, "price") == close(revenue * 1000 / volume)
    assert model.value("South America", year, "volume") == 0.0
    assert model.value("South America", year, "price") == close(seaborne(year) * type_factor(year))


# supply: report S6, capacity, utilisation, companies ---------------------------------------------


def test_independent_refiners_anode_share_closes_report_s6(model):
    """(2,559.004 / 0.48 - 4,254.09 kt of other plants) / 15,519.7 kt of nameplate = 0.0694..."""
    assert pytest.approx(2862.229 + 1322.461 + 69.4, abs=1e-9) == OTHER_PLANTS_2023  # summed above
    assert model.markets["base"].supply.calibrated_share == close(CALIBRATED_SHARE)
    assert model.value("Global", 2023, "capacity") == close(CAPACITY_2023)


@pytest.mark.parametrize("year", [2019, 2021, 2022, 2023, 2024, 2025, 2027, 2028, 2030])
@pytest.mark.parametrize("kind", [PETROLEUM, COAL])
def test_type_capacity_is_plants_plus_capacity_not_yet_announced(model, kind, year):
    """A type's capacity = its plants' anode capacity + whatever keeps utilisation <= 85%."""
    expected = announced(kind, year) + unannounced(kind, year)
    assert model.value(kind, year, "capacity") == close(expected)
    supply = model.markets["base"].supply
    assert supply.unannounced[kind][year - 2019] == pytest.approx(unannounced(kind, year), rel=REL,
                                                                   abs=1e-9)
    assert supply.type_utilisation[kind][year - 2019] == close(type_utilisation(kind, year))


def test_2030_petroleum_capacity_not_yet_announced_by_hand(model):
    """2030: petroleum volume / 0.85 less the petroleum plants' anode capacity."""
    plants = announced(PETROLEUM, 2030)
    needed = volume_kt(2030) * 0.859 / 0.85
    assert needed > plants
    assert model.markets["base"].supply.unannounced[PETROLEUM][-1] == close(needed - plants)
    assert model.value("Petroleum-based", 2030, "capacity") == close(needed)


def test_global_utilisation_is_volume_over_capacity(model):
    """Global utilisation = volume / capacity: 2,119.284 / 5,331.2583 in 2023."""
    utilisation = model.markets["base"].utilisation
    assert utilisation[2023 - 2019] == close(2119.284 / CAPACITY_2023)
    capacity_2030 = sum(announced(k, 2030) + unannounced(k, 2030) for k in (PETROLEUM, COAL))
    assert utilisation[-1] == close(volume_kt(2030) / capacity_2030)


@pytest.mark.parametrize("producer", ["China National Petroleum", "Sinopec", "Phillips 66", "C-Chem",
                                      "Mitsubishi Chemical", "PMC Tech", "Indian Oil", "ENEOS"])
@pytest.mark.parametrize("year", [2020, 2023, 2024, 2027, 2028, 2030])
def test_company_figures_are_capacity_times_its_types_utilisation(model, producer, year):
    """A producer's volume = its plants' anode capacity x their type's utilisation; revenue at the
    type's price; capacity the plants'."""
    capacity = sum(anode_capacity(p, year) for p, row in PLANTS.items() if row[0] == producer)
    assert model.value(producer, year, "capacity") == close(capacity)
    assert model.value(producer, year, "volume") == pytest.approx(company_volume(producer, year),
                                                                  rel=REL, abs=1e-12)
    assert model.value(producer, year, "revenue") == pytest.approx(company_revenue(producer, year),
                                                                   rel=REL, abs=1e-12)


def test_phillips_66_2023_by_hand(model):
    """76.8 kt/yr of anode capacity at the 2023 petroleum utilisation, at the petroleum price."""
    utilisation = 2119.284 * 0.894 / announced(PETROLEUM, 2023)
    assert model.value("Phillips 66", 2023, "capacity") == close(150 * 0.312 + 150 * 0.2)
    assert model.value("Phillips 66", 2023, "volume") == close(76.8 * utilisation)
    assert model.value("Phillips 66", 2023, "price") == close(petroleum_price(2023))
    assert model.company("Phillips 66", "utilisation", 2023) == close(utilisation)


def test_c_chem_mixes_nothing_from_its_idle_plant(model):
    """C-Chem's Kashima plant has an anode share of 0 and closes after 2024; its Pizhou plant is
    60 x 0.1 = 6 kt/yr of coal-based anode capacity, sold at the coal price."""
    assert model.value("C-Chem", 2025, "capacity") == close(6.0)
    assert model.value("C-Chem", 2025, "price") == close(coal_price(2025))


def test_mitsubishi_chemical_closes_after_2027(model):
    """Sakaide runs to 2027: 100 x 0.2 = 20 kt/yr, then nothing, and no price without volume."""
    assert model.value("Mitsubishi Chemical", 2027, "capacity") == close(20.0)
    assert model.value("Mitsubishi Chemical", 2028, "capacity") == 0.0
    assert model.value("Mitsubishi Chemical", 2028, "volume") == 0.0
    with pytest.raises(Exception, match="no price in 2028"):
        model.value("Mitsubishi Chemical", 2028, "price")


@pytest.mark.parametrize("year", [2023, 2030])
def test_others_is_global_less_the_listed_companies(model, year):
    """Others = Global - every listed company, for capacity, volume and revenue."""
    listed = {p for p, *_ in PLANTS.values()} - set(GROUPS)
    for metric, company_value in (("volume", company_volume), ("revenue", company_revenue)):
        total = model.value("Global", year, metric)
        expected = total - sum(company_value(c, year) for c in listed)
        assert model.value("Others", year, metric) == close(expected)
    capacity = model.value("Global", year, "capacity") - sum(
        anode_capacity(p, year) for p, row in PLANTS.items() if row[0] in listed)
    assert model.value("Others", year, "capacity") == close(capacity)
    assert model.value("Others", year, "price") == close(model.value("Others", year, "revenue") * 1000
                                                         / model.value("Others", year, "volume"))


@pytest.mark.parametrize("country", ["China", "Japan", "United States", "U.K.", "South Korea", "India"])
@pytest.mark.parametrize("year", [2023, 2030])
def test_country_capacity_is_its_plants_and_its_part_of_unannounced(model, country, year):
    """A country's capacity: its plants + the unannounced capacity of each type in proportion to
    the country's part of that type's plants."""
    country_of = {"baolai_bio": "China", "shandong_yida": "China", "shandong_jingyang": "China",
                  "cnpc_jinzhou": "China", "yiwei": "China", "c_chem_pizhou": "China",
                  "cnpc_refineries": "China", "sinopec_refineries": "China",
                  "cnooc_refineries": "China", "independent_refiners": "China",
                  "p66_humber": "U.K.", "p66_lake_charles": "United States",
                  "seadrift": "United States", "eneos": "Japan", "mcc_sakaide": "Japan",
                  "c_chem_kashima": "Japan", "pmc_gwangyang": "South Korea", "iocl_paradip": "India",
                  "other_outside_china": "Japan"}
    expected = 0.0
    for kind in (PETROLEUM, COAL):
        local = sum(anode_capacity(p, year) for p, row in PLANTS.items()
                    if row[1] == kind and country_of.get(p, "China") == country)
        expected += local + unannounced(kind, year) * local / announced(kind, year)
    assert model.value(country, year, "capacity") == close(expected)


# the model's questions: share, CAGR, tables, ranks --------------------------------------------


def test_share_is_segment_over_global(model):
    """Share = segment / Global: Energy Storage 2030 volume 1,462.30596 / the 2030 volume."""
    assert model.share("Energy Storage", 2030, "volume") == close(1462.30596 / volume_kt(2030))
    assert model.share("Coal-based", 2023, "capacity") == close(
        announced(COAL, 2023) / CAPACITY_2023)


def test_cagr_of_global_volume_2023_2030_by_hand(model):
    """(V2030 / 2,119.284)^(1/7) - 1."""
    expected = (volume_kt(2030) / 2119.284) ** (1 / 7) - 1
    assert model.cagr("Global", 2023, 2030, "volume") == close(expected)
    assert model.cagr("Energy Storage", 2023, 2030, "volume") == close(3.0 ** (1 / 7) - 1)
    assert model.cagr("Energy Storage", 2020, 2021, "volume") == close(0.68)


def test_cagr_needs_a_positive_start_value(model):
    """The United States has no volume in 2024: no growth rate from it."""
    with pytest.raises(Exception, match=r"^no growth rate from 0 in 2024 to .* in 2030 \(needs a "
                                        r"positive start value\)$"):
        model.cagr("United States", 2024, 2030, "volume")


def test_table_rows_columns_and_total(model):
    """A table of 2022-2024 volume by type: two rows and Total, three year columns."""
    frame = model.table("type", "volume", 2022, 2024)
    assert list(frame.columns) == [2022, 2023, 2024]
    assert list(frame.index) == [PETROLEUM, COAL, "Total"]
    assert frame.index.name == "Type"
    assert frame.loc["Total", 2023] == close(2119.284)
    assert frame.loc[PETROLEUM, 2022] == close(volume_kt(2022) * 0.899)
    assert frame.loc[COAL, 2024] == close(volume_kt(2024) * (1 - 0.889))


def test_table_of_a_region_lists_its_countries_with_the_region_as_total(model):
    """The Asia table's Total is Asia; the Global table has one row and no Total."""
    frame = model.table("Asia", "revenue", 2030, 2030)
    assert frame.index.name == "Country"
    assert list(frame.index)[:3] == ["China", "Japan", "South Korea"]
    assert frame.loc["Total", 2030] == close(model.value("Asia", 2030, "revenue"))
    glob = model.table("global", "volume", 2019, 2019)
    assert list(glob.index) == ["Global"] and glob.loc["Global", 2019] == close(392.814)
    assert glob.index.name == "Market"


def test_table_of_price_has_the_average_price_as_total(model):
    """By type, the price table's last row is the Global average price, labelled as the
    volume-weighted average it is (not "Total": prices do not add up)."""
    frame = model.table("type", "price", 2030, 2030)
    assert list(frame.index)[-1] == "Average (volume-weighted)"
    assert frame.loc["Average (volume-weighted)", 2030] == close(revenue_musd(2030) * 1000 / volume_kt(2030))


def test_concentration_of_the_top_three_by_2023_capacity(model):
    """(1,097.665 + 700.944 + 539.825) / 5,331.2583."""
    assert model.concentration(3, 2023) == close((1097.665 + 700.944 + 539.825) / CAPACITY_2023)
    assert model.concentration(1, 2023, "capacity") == close(1097.665 / CAPACITY_2023)


def test_ranks_and_tiers_by_2023_capacity(model):
    """By 2023 capacity: CNPC 1, Sinopec 2, CNOOC 3, Baolai 4, Yida and Jingyang tie at 5;
    Phillips 66 (76.8 kt) 7, Yiwei (71.925 kt) 8; Seadrift and Indian Oil (0 kt) tie at 13.
    Tier 1 is the top five (ties count), Tier 2 100 kt or more, else Tier 3."""
    ranks = {c: model.rank(c, 2023, "capacity") for c in
             ("China National Petroleum", "Sinopec", "China National Offshore Oil", "Baolai Bio",
              "Shandong Yida", "Shandong Jingyang", "Yiwei", "Phillips 66", "Seadrift Coke")}
    assert ranks == {"China National Petroleum": 1, "Sinopec": 2, "China National Offshore Oil": 3,
                     "Baolai Bio": 4, "Shandong Yida": 5, "Shandong Jingyang": 5, "Yiwei": 8,
                     "Phillips 66": 7, "Seadrift Coke": 13}
    assert model.tier("Shandong Jingyang") == "Tier 1"
    assert model.tier("Yiwei") == "Tier 3"  # 71.925 kt < 100
    assert model.company("Baolai Bio", "tier") == "Tier 1"
    assert model.ranking(2023, "capacity")[:4] == ["China National Petroleum", "Sinopec",
                                                   "China National Offshore Oil", "Baolai Bio"]


def test_company_share_and_rank_fields(model):
    """share = the company's revenue / Global revenue; rank by revenue in the year asked."""
    expected = company_revenue("Sinopec", 2030) / revenue_musd(2030)
    assert model.company("Sinopec", "share", 2030) == close(expected)
    assert model.company("China National Petroleum", "rank") == 1
    assert model.company("Phillips 66", "region") == "North America"
    assert model.company("Phillips 66", "hq_country") == "United States"
    assert model.company("PMC Tech", "type") == COAL
    assert model.company("Phillips 66", "capacity") == close(76.8)  # the base year by default


def test_tier_2_starts_at_100_kt_of_2023_anode_capacity():
    """Yida and Jingyang at 200 x 0.6 = 120 kt keep ENEOS out of the top five; ENEOS at 100 x 1.0 =
    100 kt is Tier 2, at 100 x 0.999 = 99.9 kt Tier 3."""
    lift = {"anode_share_shandong_yida": 0.6, "anode_share_shandong_jingyang": 0.6}
    at_100 = load_model(overrides={**lift, "anode_share_eneos": 1.0})
    assert at_100.value("ENEOS", 2023, "capacity") == 100.0
    assert at_100.rank("ENEOS", 2023, "capacity") == 7
    assert at_100.tier("ENEOS") == "Tier 2"
    below = load_model(overrides={**lift, "anode_share_eneos": 0.999})
    assert below.tier("ENEOS") == "Tier 3"


def test_conflicts_table_columns(model):
    """One row per conflict of data/conflicts.csv, in its column order."""
    frame = model.conflicts()
    assert list(frame.columns) == ["id", "topic", "claim", "source_a", "value_a", "source_b",
                                   "value_b", "side_taken", "why"]
    assert frame.loc[0, "id"] == "C1" and frame.loc[0, "source_a"] == "report:S8"
    assert len(frame) == len(model.dataset.conflicts)


def test_fill_series_per_draw_equals_each_draws_own_fill():
    """Anchors given per draw fill each draw as its own scalar series: geometric between positive
    anchors, linear for a draw with a 0 anchor (2024 world anode 2,110 kt or 0)."""
    import numpy as np

    from xl_negcoke.model.market import fill_series

    anchors = {f"anode_world_kt_{year}": value for year, value in ANODE.items()}
    draws = fill_series({**anchors, "anode_world_kt_2024": np.array([2110.0, 0.0, 3000.0])},
                        "anode_world_kt")
    for row, value in enumerate((2110.0, 0.0, 3000.0)):
        single = fill_series({**anchors, "anode_world_kt_2024": value}, "anode_world_kt")
        assert draws[row] == pytest.approx(single, rel=1e-12, abs=1e-9)
    assert draws[1][-1] == 0.0 and draws[2][-1] == 3000.0  # 2024 held to 2030


# scenarios: the same chain with the scenario's inputs ----------------------------------------------


def test_high_scenario_grows_anode_at_26_5_percent(model):
    """high: anode_cagr_2025_2030 = 0.265 and storage x3.5 by 2030 (data/scenarios.csv)."""
    assert model.value("Global", 2030, "volume", "high") == close(2110 * 1.2291 * 1.265 ** 5 * 0.834
                                                                  * 1.5)
    assert model.value("Energy Storage", 2030, "volume", "high") == close(2119.284 * 0.23 * 3.5)
    assert model.value("Global", 2023, "volume", "low") == close(2119.284)


# a 1% error in an input shows ----------------------------------------------------------------------


@pytest.mark.parametrize(("key", "segment", "metric", "year", "factor"), [
    ("coal_price_ratio", "Coal-based", "price", 2030, 1.01),
    ("coke_per_anode_t", "Global", "volume", 2030, 1.01),
    ("china_price_ratio", "China", "price", 2023, 1.01),
])
def test_one_percent_more_of_an_input_moves_its_figure_by_one_percent(key, segment, metric, year,
                                                                      factor, model):
    """The figure a ratio input multiplies moves by exactly that 1%."""
    base_values = {"coal_price_ratio": 0.977, "coke_per_anode_t": 1.5, "china_price_ratio": 1.057}
    moved = load_model(overrides={key: base_values[key] * factor})
    assert moved.value(segment, year, metric) == close(model.value(segment, year, metric) * factor)


def test_an_impossible_share_is_refused_with_its_arithmetic():
    """0.62 + 0.40 exceeds 1: Consumer Battery would be negative."""
    with pytest.raises(AssumptionError) as error:
        load_model(overrides={"energy_storage_share_2023": 0.4})
    assert str(error.value) == ("power_battery_share_2023 + energy_storage_share_2023 exceed 1 "
                                "(0.62 + 0.4); they must leave Consumer Battery a share of 0 or more")
    assert math.isclose(0.62 + 0.4, 1.02)
