"""kg.extract on the article: the news item, the plan, goals, task areas, tasks, measures, claims and defects."""

from datetime import datetime, timedelta, timezone

import pytest

from kg.extract.article import ExtractionError, extract
from kg.paths import ARTICLE
from kg.text.normalize import normalize


@pytest.fixture(scope="module")
def text():
    return normalize(ARTICLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def article(text):
    return extract(text, slug="east-west-st-2022")


def all_spans(article):
    """Every span the extractor produced, with where it came from."""
    plan, news = article.plan, article.news
    yield from (news.title_span, news.published_span, news.source.span, news.author_span, news.site_span, news.lede, news.context)
    yield from (plan.title_span, plan.short_name_span, plan.period_span, plan.aim_span, plan.areas_stated_span)
    yield from (m.span for m in plan.issuers)
    for goal in plan.goals:
        yield goal.span
        yield from (m.span for m in goal.mentions)
    for area in plan.areas:
        yield from (area.span, area.headline_span, area.short_name_span)
        yield from (m.span for m in area.mentions + area.regions)
        for task in area.tasks:
            yield task.span
            yield from (m.span for m in task.mentions)
    yield from (m.span for m in plan.measures)
    for claim in article.claims:
        yield from claim.spans
    for defect in article.defects:
        yield from (defect.span, defect.duplicates)


def test_every_span_quotes_the_clean_text_exactly(text, article):
    spans = [s for s in all_spans(article) if s is not None]
    assert len(spans) > 100
    for span in spans:
        assert text.clean[span.start : span.end] == span.quote, span


def test_the_news_item(article):
    news = article.news
    assert news.title == "科技部等九部门印发《“十四五” 东西部科技合作实施方案》"
    assert news.published == datetime(2022, 3, 7, 9, 48, 19, tzinfo=timezone(timedelta(hours=8)))
    assert (news.source.kind, news.source.key, news.source.surface) == ("agency", "most", "科技部")
    assert news.author == "吴吴吴"
    assert news.site == "化工仪器网"
    assert news.lede.quote == "建设滇中清洁能源创新高地，支撑云南打造“世界光伏之都”。"


def test_the_plan_and_its_nine_issuers(article):
    plan = article.plan
    assert plan.title == "“十四五”东西部科技合作实施方案"
    assert plan.short_name == "方案"
    assert [m.key for m in plan.issuers] == ["most", "moe", "miit", "mnr", "mee", "sasac", "cas", "cae", "cast"]
    assert plan.issuer_count_stated == 9
    assert (plan.period_name, plan.period_start, plan.period_end, plan.target_year) == ("十四五", 2021, 2025, 2025)


def test_a_report_gives_the_plan_no_date_of_its_own(article):
    # only an official notice's signature dates the plan; the reprint's date stays on the news item
    assert article.plan.date_signed is None and article.plan.date_signed_span is None
    assert article.plan.document_number is None and article.plan.notice_title is None


def test_goals_are_one_per_clause_and_support_the_aim(article):
    plan = article.plan
    assert [g.text for g in plan.goals] == [
        "西部地区科技创新能力显著提升",
        "东部地区科技创新外溢效应更加明显",
        "创新链产业链跨区域双向融合更加紧密",
        "科技创新对经济社会高质量发展的引领作用显著增强",
    ]
    assert {g.target_year for g in plan.goals} == {2025}
    assert plan.aim == "构建以国内大循环为主体、国内国际双循环相互促进的新发展格局"
    assert [m.key for m in plan.goals[0].mentions] == ["western-china"]


def test_seven_task_areas_agree_with_the_summary(article):
    areas = article.plan.areas
    assert article.plan.areas_stated == len(areas) == 7
    assert [a.short_name for a in areas] == ["科技援疆", "科技援藏", "科技援青", "科技入滇", "科技支宁", "科技兴蒙", "深化跨区域结对合作"]
    assert [a.ordinal for a in areas] == ["一是", "二是", "三是", "四是", "五是", "六是", "七是"]
    assert areas[0].headline == "塑造新疆创新发展优势"
    assert areas[4].headline == "建设东西部科技合作引领区"


def test_each_area_targets_its_province_level_regions(article):
    targets = [[m.key for m in area.regions] for area in article.plan.areas]
    assert targets == [["650000"], ["540000"], ["630000"], ["530000"], ["640000"], ["150000"], ["520000", "620000", "310000"]]


def test_named_sub_regions_are_recognised(article):
    keys = {m.key for area in article.plan.areas for m in area.mentions if m.kind == "area"}
    assert keys == {"dianzhong", "sanjiangyuan", "qinghai-tibet-plateau", "silk-road-economic-belt", "southwest-border",
                    "lanbai", "zhangjiang"}


def test_tasks_are_unique_and_the_fifth_area_reads_correctly(article):
    tasks = [t for area in article.plan.areas for t in area.tasks]
    assert len(tasks) == len({t.text for t in tasks}) == 16
    fifth = article.plan.areas[4].tasks
    assert fifth[0].text == "科技支撑宁夏重点产业提质增效"
    assert [(t.area_number, t.number) for t in article.plan.areas[0].tasks] == [(1, 1), (1, 3)]


def test_source_defects_are_recorded_not_turned_into_tasks(article):
    found = [(d.kind, d.area_number, d.position) for d in article.defects]
    assert found == [("repeated-sentence", 1, 2), ("repeated-sentence", 4, 3), ("repeats-headline", 6, 1),
                     ("repeated-sentence", 6, 3)]
    headline_repeat = article.defects[2]
    assert headline_repeat.duplicates.quote == "实施“科技兴蒙”，支撑内蒙古走生态优先绿色发展道路"


def test_the_yunnan_claim_is_attached_to_the_clean_energy_task(article):
    (claim,) = article.claims
    assert claim.text == "支撑云南打造“世界光伏之都”"
    assert claim.task == (4, 2)
    assert article.plan.areas[3].tasks[1].text == "建设滇中清洁能源创新高地"
    assert len(claim.spans) == 2  # the lede and the body
    assert [m.key for m in claim.mentions] == ["530000"]


def test_guarantee_measures(article):
    assert [m.text for m in article.plan.measures] == ["健全协调推进机制", "落实地方主体责任", "建立东西部科技合作绩效评估制度"]


def test_a_summary_that_disagrees_with_the_body_is_an_error(text):
    broken = text.clean.replace("等七个方面", "等八个方面")
    with pytest.raises(ExtractionError, match="says 8 task areas but the body has 7"):
        extract(normalize(broken), slug="x")


def test_text_without_a_plan_is_an_error():
    with pytest.raises(ExtractionError):
        extract(normalize("今天天气很好。\n\n我们去公园散步。\n\n晚上回家吃饭。"), slug="x")
