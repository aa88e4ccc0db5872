"""Sources of the genre in other layouts (tests/data/corpus/): each fixture's expected facts, from the extraction and
from the built graph; layout perturbations keep the facts; a part a source lacks is absent, never invented."""

import re
import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from opencc import OpenCC
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg.extract.article import ExtractionError, extract
from kg.paths import ROOT
from kg.pipeline import assemble
from kg.publish.validate import validate
from kg.rdf.build import DEFAULT_BASE, graph_iri, org_iri, plan_iri
from kg.rdf.iris import article_iri
from kg.rdf.namespace import ELI, PKG
from kg.rdf.provenance import stated
from kg.text.normalize import normalize

CORPUS = ROOT / "tests" / "data" / "corpus"
FIXTURES = sorted(p.stem for p in CORPUS.glob("*.txt"))
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
CST = timezone(timedelta(hours=8))

# Shapes of shapes/policykg.ttl that refuse a fixture's graph: none. A part these sources legitimately lack (a
# national task area targets no region; a plan without 十四五 in its title has no period) is no violation.
REFUSED_BY_SHAPES = {
    "guidance-six-agencies": set(),
    "guidance-six-agencies-garbled": set(),
    "plan-nine-agencies": set(),
    "notice-outline": set(),
}
# New sources have no curated English labels yet: those warnings are about translation, not about a part lacking.
UNTRANSLATED = {"label-en", "Agency-label-en"}


def raw(name: str) -> str:
    return (CORPUS / f"{name}.txt").read_text(encoding="utf-8")


def expected(name: str) -> dict:
    with (CORPUS / f"{name}.expected.toml").open("rb") as handle:
        return tomllib.load(handle)


def read(text: str):
    return extract(normalize(text), slug="fixture")


def facts(article) -> dict:
    """The facts an expected file states, as the extractor found them; None where the source has no such part."""
    plan, news = article.plan, article.news
    return {
        "kind": news.kind,
        "published": news.published.isoformat() if news.published else None,
        "published_quote": news.published_span.quote if news.published_span else None,
        "stated_source": news.source.key if news.source else None,
        "site": news.site,
        "author": news.author,
        "notice_title": plan.notice_title.quote if plan.notice_title else None,
        "document_number": plan.document_number.quote if plan.document_number else None,
        "date_signed": plan.date_signed.isoformat() if plan.date_signed else None,
        "title": plan.title,
        "short_name": plan.short_name,
        "issuers": [m.key for m in plan.issuers],
        "issuer_count_stated": plan.issuer_count_stated,
        "period": [plan.period_start, plan.period_end] if plan.period_start else None,
        "target_year": plan.target_year,
        "goal_years": [g.target_year for g in plan.goals] or None,
        "aim": plan.aim,
        "areas_stated": plan.areas_stated,
        "area_headlines": [a.headline for a in plan.areas] or None,
        "area_tasks": [len(a.tasks) for a in plan.areas] or None,
        "area_regions": [[m.key for m in a.regions] for a in plan.areas if a.regions] or None,
        "measures": len(plan.measures) or None,
        "warnings": [[w.kind, w.stated, w.found] for w in article.warnings] or None,
    }


def assert_facts(article, wanted: dict, *, ignore: tuple[str, ...] = ()) -> None:
    found = facts(article)
    assert set(wanted) <= set(found), f"unknown keys in the expected file: {set(wanted) - set(found)}"
    assert {k: v for k, v in found.items() if k not in ignore} == {k: wanted.get(k) for k in found if k not in ignore}


@pytest.fixture(scope="module")
def built():
    """Each fixture assembled as `kg build FILE` assembles it (slug from the file name), before the gate."""
    return {name: assemble(input_path=CORPUS / f"{name}.txt", build_time=WHEN) for name in FIXTURES}


def test_the_corpus_has_a_fixture_per_layout_each_with_its_expected_facts():
    assert set(FIXTURES) == set(REFUSED_BY_SHAPES)
    assert all((CORPUS / f"{name}.expected.toml").exists() for name in FIXTURES)


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_yields_its_expected_facts(name):
    assert_facts(read(raw(name)), expected(name))


@pytest.mark.parametrize("name", FIXTURES)
def test_every_span_of_a_fixture_quotes_its_clean_text(name, built):
    text, article, _, _ = built[name]
    spans = [s for _, s in stated(article, base=DEFAULT_BASE)] + [d.span for d in article.defects]
    assert len(spans) > 20
    for span in spans:
        assert text.clean[span.start : span.end] == span.quote, span


def test_the_garbled_copy_normalises_to_the_clean_fixture():
    garbled = normalize(raw("guidance-six-agencies-garbled"))
    assert garbled.clean == normalize(raw("guidance-six-agencies")).clean
    assert {r.kind for r in garbled.repairs} >= {"traditional", "pinyin", "punctuation"}


def test_mojibake_is_repaired_in_a_source_that_is_not_the_seed():
    # two GBK byte losses in a traditional-character reprint of the nine-agency plan, read out of step as the seed's
    # are: 力支 → χ?, 發 → l (each made by dropping one byte of the GBK encoding and decoding the rest)
    traditional = OpenCC("s2t").convert(raw("plan-nine-agencies"))
    garbled = traditional.replace("有力支撐", "有χ?撐", 1).replace("研發新型", "研l新型", 1)
    text = normalize(garbled)
    assert [(r.raw, r.result) for r in text.repairs if r.kind == "mojibake"] == [("χ?", "力支"), ("l", "發")]
    assert text.clean == normalize(raw("plan-nine-agencies")).clean


# ---------------------------------------------------------------------------------------------------------------
# Layout perturbations: each keeps every fact (a tag changes only the site it names)
# ---------------------------------------------------------------------------------------------------------------

HALF = {"，": ",", "；": ";", "：": ":", "（": "(", "）": ")"}


def half_width(text: str) -> str:
    return text.translate(str.maketrans(HALF))


def windows_line_ends(text: str) -> str:
    return text.replace("\n", "\r\n")


def no_blank_lines(text: str) -> str:
    return re.sub(r"\n\s*\n", "\n", text)


def indented(text: str) -> str:
    return re.sub(r"(?m)^(?=\S)", "\u3000\u3000", text)


def inline_to_paragraphs(text: str) -> str:
    return re.sub(r"；(?=[二三四五六七八九十]是)", "；\n\n", text)


def paragraphs_to_inline(text: str) -> str:
    return re.sub(r"。\n\n(?=[二三四五六七八九十]是)", "。", text)


def ordinals_to_dashes(text: str) -> str:
    """一是实施X行动。A；B。 → ——实施X行动，主要内容包括A、B等。"""
    def dash(match: re.Match) -> str:
        return f"——{match.group(1)}，主要内容包括{'、'.join(match.group(2).split('；'))}等。"
    return re.sub(r"(?m)^[一二三四五六七八九十]+是([^。\n]+)。([^\n]+)。$", dash, text)


def add_site_tag(text: str) -> str:
    return text.replace("\n近日，", "\n【科技观察网 政策】近日，", 1)


def remove_site_tag(text: str) -> str:
    return re.sub(r"【[^】]*】", "", text)


PERTURBATIONS = [
    ("guidance-six-agencies", half_width), ("guidance-six-agencies", windows_line_ends),
    ("guidance-six-agencies", no_blank_lines), ("guidance-six-agencies", indented),
    ("guidance-six-agencies", inline_to_paragraphs), ("guidance-six-agencies", add_site_tag),
    ("plan-nine-agencies", half_width), ("plan-nine-agencies", no_blank_lines), ("plan-nine-agencies", indented),
    ("plan-nine-agencies", paragraphs_to_inline), ("plan-nine-agencies", ordinals_to_dashes),
    ("plan-nine-agencies", remove_site_tag),
    ("notice-outline", half_width), ("notice-outline", windows_line_ends), ("notice-outline", no_blank_lines),
    ("notice-outline", indented),
]


@pytest.mark.parametrize(("name", "change"), PERTURBATIONS, ids=[f"{n}-{c.__name__}" for n, c in PERTURBATIONS])
def test_a_layout_perturbation_keeps_the_facts(name, change):
    changed = change(raw(name))
    assert changed != raw(name)
    article = read(changed)
    assert_facts(article, expected(name), ignore=("site",))
    if change is add_site_tag:
        assert article.news.site == "科技观察网"
    elif change is remove_site_tag:
        assert article.news.site is None
    else:
        assert article.news.site == expected(name).get("site")


def test_the_dash_layout_reads_each_action_and_its_contents():
    areas = read(ordinals_to_dashes(raw("plan-nine-agencies"))).plan.areas
    assert [a.ordinal for a in areas] == ["——"] * 10
    assert [t.text for t in areas[0].tasks] == ["研发新型储能关键技术", "推进氢能制储运技术示范", "提升可再生能源并网消纳能力"]


# ---------------------------------------------------------------------------------------------------------------
# Dates, issuers, counts and absent parts
# ---------------------------------------------------------------------------------------------------------------

DATE_LINES = [
    ("2022-08-15 10:20", datetime(2022, 8, 15, 10, 20, tzinfo=CST)),
    ("2022-08-15 10:20:05", datetime(2022, 8, 15, 10, 20, 5, tzinfo=CST)),
    ("2022年08月15日 10:20", datetime(2022, 8, 15, 10, 20, tzinfo=CST)),
    ("发布时间：2022年08月15日 10:20", datetime(2022, 8, 15, 10, 20, tzinfo=CST)),
    ("发布时间：2022-08-15 10:20", datetime(2022, 8, 15, 10, 20, tzinfo=CST)),
    ("2022年08月15日", date(2022, 8, 15)),
    ("2022年8月15日", date(2022, 8, 15)),
]


@pytest.mark.parametrize(("line", "when"), DATE_LINES, ids=[line for line, _ in DATE_LINES])
def test_the_publication_date_is_read_in_each_common_layout_with_its_span(line, when):
    text = raw("guidance-six-agencies").replace("2022-08-15 10:20", line, 1)
    news = read(text).news
    assert news.published == when
    assert news.published_span.quote == line.removeprefix("发布时间：")


def test_a_date_alone_is_published_as_a_date_not_an_invented_midnight(tmp_path):
    source = tmp_path / "dated.txt"
    source.write_text(raw("guidance-six-agencies").replace("2022-08-15 10:20", "2022年08月15日", 1), encoding="utf-8")
    _, _, dataset, _ = assemble(input_path=source, build_time=WHEN)
    published = set(dataset.objects(article_iri(DEFAULT_BASE, "dated"), URIRef("https://schema.org/datePublished")))
    assert published == {Literal("2022-08-15", datatype=XSD.date)}


@pytest.mark.parametrize("sentence", ["近日，科技部印发", "日前，科技部正式印发了", "科技部近日印发", "近日，科技部关于印发"])
def test_one_agency_issuing_alone_is_read_without_a_count(sentence):
    text = re.sub(r"近日，[^《]+印发", sentence, raw("guidance-six-agencies"), count=1)
    article = read(text)
    assert [m.key for m in article.plan.issuers] == ["most"]
    assert article.plan.issuer_count_stated is None and article.warnings == ()


def test_issuers_with_deng_and_a_count_are_read():
    text = raw("guidance-six-agencies").replace("国家卫生健康委六部门联合印发", "国家卫生健康委等六部门印发", 1)
    assert [m.key for m in read(text).plan.issuers] == expected("guidance-six-agencies")["issuers"]


def test_a_stated_count_that_differs_from_the_named_agencies_is_a_warning_with_both_numbers():
    text = raw("guidance-six-agencies").replace("国家卫生健康委六部门", "国家卫生健康委七部门", 1)
    article = read(text)
    (warning,) = article.warnings
    assert (warning.kind, warning.stated, warning.found, warning.span.quote) == ("issuer-count", 7, 6, "七")
    assert len(article.plan.issuers) == 6


def test_the_graph_keeps_a_differing_count_as_stated_and_the_shapes_warn_with_both_numbers(tmp_path):
    source = tmp_path / "miscounted.txt"
    source.write_text(raw("notice-outline").replace("等五部门", "等六部门", 1), encoding="utf-8")
    _, article, dataset, _ = assemble(input_path=source, build_time=WHEN)
    plan = plan_iri(DEFAULT_BASE, "miscounted")
    kg = dataset.graph(graph_iri(DEFAULT_BASE, "kg"))
    assert set(kg.objects(plan, PKG.statedIssuerCount)) == {Literal(6)}
    assert len(set(kg.objects(plan, ELI.passed_by))) == 5
    validation = validate(dataset)
    assert validation.conforms
    (warning,) = [r for r in validation.results if r.source_shape.endswith("StatedIssuerCount")]
    assert warning.severity == "Warning" and "6" in warning.message_en and "5" in warning.message_en


def test_an_unknown_agency_is_an_error_naming_it_and_its_candidates():
    text = raw("guidance-six-agencies").replace("交通运输部", "交通运输总局", 1)
    with pytest.raises(ExtractionError, match=r"交通运输总局.*交通运输部 \(mot\)"):
        read(text)


def test_a_signature_line_that_names_no_agency_is_an_error_naming_it():
    text = raw("notice-outline").replace("\n水利部\n", "\n水利总部\n", 1)
    with pytest.raises(ExtractionError, match="水利总部"):
        read(text)


def test_a_source_without_goals_or_measures_has_none_and_nothing_is_invented(tmp_path):
    text = re.sub(r"\n《意见》提出，到2025年[^\n]+\n|\n在保障措施中[^\n]+\n", "\n", raw("guidance-six-agencies"))
    article = read(text)
    assert (article.plan.goals, article.plan.measures, article.plan.target_year, article.plan.aim) == ((), (), None, None)
    source = tmp_path / "bare.txt"
    source.write_text(text, encoding="utf-8")
    _, _, dataset, _ = assemble(input_path=source, build_time=WHEN)
    plan = plan_iri(DEFAULT_BASE, "bare")
    for predicate in (PKG.goal, PKG.measure, PKG.aim, PKG.targetYear):
        assert not set(dataset.objects(plan, predicate)), predicate


def test_the_shipped_official_outline_reads_with_its_number_signatories_date_and_twenty_tasks():
    # kg/sources/official-east-west-st-2022.txt (issue 12, item 4) is in the official layout: 发布日期 line, notice
    # title, number, signature block, 一、/（一）/1. outline
    article = read((ROOT / "kg" / "sources" / "official-east-west-st-2022.txt").read_text(encoding="utf-8"))
    plan = article.plan
    assert (article.news.kind, article.news.published, plan.date_signed) == ("official", date(2022, 3, 4), date(2022, 3, 3))
    assert plan.document_number.quote == "国科发区〔2022〕25号"
    assert [m.key for m in plan.issuers] == ["most", "moe", "miit", "mnr", "mee", "sasac", "cas", "cae", "cast"]
    assert [len(a.tasks) for a in plan.areas] == [3, 3, 3, 3, 3, 3, 2]
    assert {g.target_year for g in plan.goals} == {2025} and article.defects == ()


# ---------------------------------------------------------------------------------------------------------------
# The graphs
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FIXTURES)
def test_the_graph_of_each_fixture_holds_its_plan_issuers_areas_tasks_and_goal_years(name, built):
    want, kg = expected(name), built[name][2].graph(graph_iri(DEFAULT_BASE, "kg"))
    plan = plan_iri(DEFAULT_BASE, name)
    assert (plan, RDF.type, PKG.Plan) in kg
    assert set(kg.objects(plan, ELI.title)) == {Literal(want["title"], lang="zh")}
    assert set(kg.objects(plan, ELI.passed_by)) == {org_iri(DEFAULT_BASE, key) for key in want["issuers"]}
    areas = sorted(kg.objects(plan, PKG.taskArea), key=lambda a: int(str(a).rsplit("/", 1)[1]))
    assert [len(set(kg.objects(a, PKG.task))) for a in areas] == want["area_tasks"]
    years = sorted(int(str(y)) for g in kg.objects(plan, PKG.goal) for y in kg.objects(g, PKG.targetYear))
    assert years == sorted(want.get("goal_years", []))


@pytest.mark.parametrize("name", FIXTURES)
def test_the_graph_of_each_fixture_has_no_part_its_source_lacks(name, built):
    want, kg = expected(name), built[name][2].graph(graph_iri(DEFAULT_BASE, "kg"))
    plan, document = plan_iri(DEFAULT_BASE, name), article_iri(DEFAULT_BASE, name)
    present = {
        "site": set(kg.objects(document, PKG.siteName)), "author": set(kg.objects(document, PKG.byline)),
        "published": set(kg.objects(document, URIRef("https://schema.org/datePublished"))),
        "period": set(kg.objects(plan, PKG.period)), "aim": set(kg.objects(plan, PKG.aim)),
        "areas_stated": set(kg.objects(plan, PKG.statedAreaCount)), "target_year": set(kg.objects(plan, PKG.targetYear)),
        "document_number": set(kg.objects(plan, ELI.id_local)), "date_signed": set(kg.objects(plan, ELI.date_document)),
        "stated_source": set(kg.objects(document, PKG.statedSource)),
    }
    assert {part for part, values in present.items() if values} == {part for part in present if part in want}


def test_the_official_text_dates_the_plan_and_gives_its_document_number(built):
    kg = built["notice-outline"][2].graph(graph_iri(DEFAULT_BASE, "kg"))
    plan, document = plan_iri(DEFAULT_BASE, "notice-outline"), article_iri(DEFAULT_BASE, "notice-outline")
    assert set(kg.objects(plan, ELI.date_document)) == {Literal("2022-03-03", datatype=XSD.date)}
    assert [str(n) for n in kg.objects(plan, ELI.id_local)] == ["国科发区〔2022〕77号"]
    assert (document, ELI.realizes, plan) in kg and (document, RDF.type, PKG.NewsItem) not in kg


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_conforms_but_for_the_shapes_that_refuse_a_part_it_lacks(name, built):
    validation = validate(built[name][2])
    refused = {r.source_shape.rsplit("#", 1)[-1] for r in validation.results if r.severity == "Violation"}
    assert refused == REFUSED_BY_SHAPES[name]
    assert validation.conforms == (not REFUSED_BY_SHAPES[name])


# A part a source may legitimately lack, and the shapes that report its absence: none refuses the graph; a warning
# only where a reader should know something is missing (a news item without a date, a plan no source gives task
# areas for). A date alone, a one-clause area and a plan without a five-year plan in its title are no result at all.
ABSENT_PARTS = [
    ("a-date-alone", "guidance-six-agencies", lambda t: t.replace("2022-08-15 10:20", "2022年08月15日", 1), set()),
    ("no-date", "guidance-six-agencies", lambda t: t.replace("2022-08-15 10:20  ", "", 1), {"NewsItem-dated"}),
    ("an-area-without-tasks", "guidance-six-agencies", lambda t: re.sub(r"(一是强化成果供给)[^；]*；", r"\1；", t), set()),
    ("no-task-areas", "guidance-six-agencies", lambda t: re.sub(r"\n《意见》部署了[^\n]+\n", "\n", t),
     {"Plan-taskArea-known"}),
    ("no-period", "notice-outline", lambda t: t.replace("“十四五”", ""), set()),
]


@pytest.mark.parametrize(("case", "name", "change", "warned"), ABSENT_PARTS, ids=[c[0] for c in ABSENT_PARTS])
def test_a_legitimately_absent_part_is_left_out_and_the_graph_conforms_with_a_warning_only_where_named(
        case, name, change, warned, tmp_path):
    source = tmp_path / f"{case}.txt"
    source.write_text(change(raw(name)), encoding="utf-8")
    _, _, dataset, _ = assemble(input_path=source, build_time=WHEN)
    validation = validate(dataset)
    reported = [r for r in validation.results if r.source_shape.rsplit("#", 1)[-1] not in UNTRANSLATED]
    assert validation.conforms, validation.text()
    assert {r.source_shape.rsplit("#", 1)[-1] for r in reported} == warned
    assert all(r.severity == "Warning" for r in reported)


def test_a_stated_source_that_is_no_agency_is_left_out():
    news = read(raw("plan-nine-agencies").replace("来源：科技部", "来源：科技观察网", 1)).news
    assert news.source is None and news.author == "林晓"


def test_kg_build_writes_a_conforming_graph_from_the_official_notice(tmp_path, capsys):
    from kg.cli import main

    assert main(["build", str(CORPUS / "notice-outline.txt"), "--out", str(tmp_path / "out")]) == 0
    assert "“十四五”黄河流域科技协同创新行动方案" in capsys.readouterr().out
    assert (tmp_path / "out" / "store").is_dir()


def test_kg_text_holds_no_word_of_any_source():
    """The repairs are general: no line of kg/text's code (docstrings aside) quotes Chinese text."""
    for path in Path(ROOT / "kg" / "text").glob("*.py"):
        code = re.sub(r'"""[\s\S]*?"""', "", path.read_text(encoding="utf-8"))
        code = "\n".join(line.split("#", 1)[0] for line in code.splitlines())
        assert not re.search(r"[\u4e00-\u9fff]", code), path.name
