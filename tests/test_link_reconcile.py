"""Reconciling names with the division table by rules: whole names only, never a substring of running text."""

import pytest

from kg.extract.model import Mention, Span
from kg.link.reconcile import Match, NoMatch, reconcile, reconcile_mention


@pytest.mark.parametrize(
    ("name", "code", "level", "official", "rule"),
    [
        ("四川", "510000", "province", "四川省", "province-short-name"),
        ("广西壮族自治区", "450000", "province", "广西壮族自治区", "official-name"),
        ("重庆市", "500000", "province", "重庆市", "official-name"),
        ("内蒙古", "150000", "province", "内蒙古自治区", "province-short-name"),
        ("白银", "620400", "prefecture", "白银市", "prefecture-short-name"),
        ("兰州", "620100", "prefecture", "兰州市", "prefecture-short-name"),
        ("白银区", "620402", "county", "白银区", "official-name"),
        ("楚雄", "532300", "prefecture", "楚雄彝族自治州", "prefecture-short-name"),
        ("海南", "460000", "province", "海南省", "province-short-name"),
        ("蘭州", "620100", "prefecture", "兰州市", "prefecture-short-name"),
        ("北京市朝阳区", "110105", "county", "朝阳区", "qualified-name"),
        ("合作市", "623001", "county", "合作市", "official-name"),
    ],
)
def test_names_resolve_to_the_right_division_by_a_named_rule(name, code, level, official, rule):
    assert reconcile(name) == Match(name, "division", code, official, level, rule)


@pytest.mark.parametrize("word", ["合作", "资源", "东方", "平安", "振兴", "科技合作"])
def test_ordinary_words_that_are_short_names_of_county_level_units_match_nothing(word):
    found = reconcile(word)
    assert isinstance(found, NoMatch)


def test_a_county_level_near_miss_is_reported_with_the_unit_as_candidate():
    found = reconcile("合作")
    assert found.reason == "county-level units match only by their full official name"
    assert found.candidates[0] == "623001 合作市"


@pytest.mark.parametrize(("name", "key"), [("张江", "zhangjiang"), ("上海张江", "zhangjiang"), ("兰白", "lanbai"), ("甘肃兰白", "lanbai")])
def test_named_areas_are_areas_not_divisions(name, key):
    found = reconcile(name)
    assert (found.kind, found.key, found.level) == ("area", key, "area")


def test_an_area_qualified_by_a_province_it_is_not_in_does_not_match():
    assert isinstance(reconcile("上海兰白"), NoMatch)


def test_macro_regions_resolve_to_the_gazetteer_key():
    assert reconcile("西部地区").key == "western-china"


def test_an_ambiguous_official_name_lists_every_candidate():
    found = reconcile("朝阳区")
    assert isinstance(found, NoMatch) and set(found.candidates) == {"110105 朝阳区", "220104 朝阳区"}


def test_an_unknown_name_gets_close_candidates():
    found = reconcile("兰洲")
    assert isinstance(found, NoMatch) and "620100 兰州市" in found.candidates


def mention(kind: str, key: str, surface: str) -> Mention:
    return Mention(kind, key, surface, Span(0, len(surface), surface))


def test_a_one_character_abbreviation_is_accepted_only_as_its_own_provinces():
    assert reconcile_mention(mention("region", "650000", "疆")).rule == "province-abbreviation"
    assert isinstance(reconcile_mention(mention("region", "540000", "疆")), NoMatch)


def test_a_mention_whose_surface_the_rules_resolve_elsewhere_is_not_linked():
    found = reconcile_mention(mention("region", "620402", "白银"))
    assert isinstance(found, NoMatch) and "620400" in found.reason


def test_a_mention_of_an_ordinary_word_is_not_linked_even_if_the_extractor_keyed_it():
    assert isinstance(reconcile_mention(mention("region", "623001", "合作")), NoMatch)


def test_a_mention_with_a_code_outside_the_table_is_not_linked():
    assert "not in the division table" in reconcile_mention(mention("region", "999999", "某地")).reason
