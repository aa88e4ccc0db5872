"""The linker's curated tables: every code exists in the division table, every area is accounted for, nothing invented."""

import csv

import pycountry

from kg.extract.gazetteer import entries
from kg.link.divisions import by_code
from kg.link.linkdata import iso_codes
from kg.paths import SOURCES


def read(name: str) -> list[dict]:
    with (SOURCES / name).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, f"{name} is empty"
    return rows


def test_every_code_in_the_area_table_is_a_division():
    for row in read("areas.csv"):
        assert row["relation"] in ("within", "member", "overlaps", "none")
        assert (row["code"] in by_code()) == (row["relation"] != "none"), row
        assert row["basis"], row


def test_every_named_area_of_the_gazetteer_is_placed_or_declared_unbounded():
    keys = {row["key"] for row in read("areas.csv")}
    assert keys == {e.key for e in entries() if e.kind == "area"}


def test_the_macro_regions_are_the_nbs_lists_with_official_names():
    rows = read("macro-regions.csv")
    assert sum(r["key"] == "western-china" for r in rows) == 12
    assert sum(r["key"] == "eastern-china" for r in rows) == 10
    for r in rows:
        assert by_code()[r["code"]].name == r["name"] and by_code()[r["code"]].level == "province"


def test_every_province_level_unit_has_one_iso_code_that_pycountry_knows():
    provinces = {d for d, division in by_code().items() if division.level == "province"}
    assert set(iso_codes()) == provinces
    assert len(set(iso_codes().values())) == 34
    assert {s.code for s in pycountry.subdivisions.get(country_code="CN")} == set(iso_codes().values())


def test_the_iso_codes_agree_with_the_curated_identifiers():
    for row in read("identifiers.csv"):
        if row["iso3166_2"]:
            assert iso_codes()[row["gbt2260"]] == row["iso3166_2"]
