"""kg.normalize on the article as received: pinyin, mojibake, traditional characters, boilerplate, offsets."""

import re

import pytest

from kg.paths import ARTICLE
from kg.text.chinese import to_simplified
from kg.text.mojibake import mojibake_edits
from kg.text.normalize import PINYIN, normalize


@pytest.fixture(scope="module")
def raw():
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def text(raw):
    return normalize(raw)


def test_every_pinyin_annotation_is_removed(raw, text):
    assert len(PINYIN.findall(raw)) > 150  # the article is full of them
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", text.clean)
    assert not re.search("[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]", text.clean)


def test_genuine_parentheses_are_kept(text):
    assert "（以下简称《方案》）" in text.clean


def test_clean_text_is_simplified_chinese(text):
    assert to_simplified(text.clean) == text.clean
    assert "实施方案" in text.clean and "實" not in text.clean


def test_fifth_area_mojibake_is_repaired_by_redecoding(text):
    assert "科技支撑宁夏重点产业提质增效" in text.clean
    assert "萍贾" not in text.clean and "\ue758" not in text.clean
    (repair,) = [r for r in text.repairs if r.kind == "mojibake"]
    assert repair.raw.startswith("??萍贾") and repair.result.endswith("科技支撐寧夏重點")


def test_a_lost_character_is_kept_and_flagged(text):
    (position,) = text.unrepaired
    assert text.clean[position] == "?"
    assert text.clean[position - 3 : position + 3] == "引领区?科技"


def test_boilerplate_is_cut(text):
    assert [cut.section for cut in text.cuts] == ["navigation", "keywords", "related-reading", "copyright"]
    for words in ("首页", "资讯中心", "相关阅读", "查看更多", "宁夏医科大学", "版权", "免责", "浙江兴旺宝"):
        assert words not in text.clean
    assert text.clean.startswith("科技部等九部门印发")
    assert text.clean.endswith("为经济社会高质量发展做出贡献。")


def test_no_repair_is_reported_from_cut_text(text):
    for repair in text.repairs:
        assert not any(cut.raw_start <= repair.raw_start < cut.raw_end for cut in text.cuts)


def test_every_clean_span_traces_back_to_the_raw_text(raw, text):
    start = text.clean.index("科技援疆")
    raw_start, raw_end = text.raw_span(start, start + 4)
    assert raw[raw_start:raw_end] == "科技援疆"
    start = text.clean.index("实施方案")
    raw_start, raw_end = text.raw_span(start, start + 4)
    assert raw[raw_start:raw_end] == "實(shí)施方案"
    for i in range(len(text.clean)):
        assert 0 <= text.starts[i] < text.ends[i] <= len(raw)


def test_every_repair_names_its_raw_text(raw, text):
    kinds = {r.kind for r in text.repairs}
    assert {"pinyin", "traditional", "mojibake", "punctuation"} <= kinds
    for repair in text.repairs:
        assert raw[repair.raw_start : repair.raw_end] == repair.raw


def test_the_copyright_mojibake_is_repaired_by_the_same_method(raw):
    stripped = PINYIN.sub("", raw)  # the copyright notice is cut from the body, so check the repair step itself
    assert [e.result for e in mojibake_edits(stripped)] == ["?科技支撐寧夏重點", "在作品發"]
