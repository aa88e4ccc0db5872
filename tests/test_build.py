"""kg.build: the facts and provenance graphs of a small hand-made article, then of the real one."""

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from opencc import OpenCC
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kg.extract.model import Article, Defect, Goal, Measure, Mention, NewsItem, Plan, Span, Task, TaskArea
from kg.rdf.build import build_dataset, graph_iri, plan_iri, region_iri, span_iri, task_iri
from kg.rdf.labels import english_labels
from kg.rdf.namespace import NIF, PKG, PKG_IRI, PREFIXES
from kg.text.normalize import normalize

BASE = "https://policykg.example/"
SLUG = "mini-2022"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SHA = "0" * 63 + "1"
CST = timezone(timedelta(hours=8))
PINYIN = re.compile(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)")

MINI_RAW = """科技部等兩部門印發(fā)《“十四五”示例合作方案》
2022年03月07日 09:48:19 來源:科技部 作者:張三

支持新疆技術攻關。

  【示例網(wǎng)】近日,科技部、教育部等兩部門印發(fā)了《“十四五”示例合作方案》(以下簡(jiǎn)稱《方案》)。

  《方案》明確,到 2025 年,西部地區(qū)創(chuàng)新能力顯著提升,有力支撐構(gòu)建新發(fā)展格局。

  一是實施“科技援疆”,塑造新疆創(chuàng)新優(yōu)勢。支持新疆技術攻關;支持新疆技術攻關。

  在保障措施中,《方案》指出,要健全協(xié)調(diào)機制。
"""


def at(clean: str, quote: str, nth: int = 1) -> Span:
    """The nth occurrence of quote in the clean text, as a Span."""
    start = -1
    for _ in range(nth):
        start = clean.index(quote, start + 1)
    return Span(start, start + len(quote), quote)


def mention(clean: str, kind: str, key: str, surface: str, nth: int = 1) -> Mention:
    return Mention(kind, key, surface, at(clean, surface, nth))


@pytest.fixture(scope="module")
def mini():
    """A hand-made Article over a small garbled text that exercises every part of the model."""
    text = normalize(MINI_RAW)
    c = text.clean
    xinjiang = mention(c, "region", "650000", "新疆", 2)
    task = Task(1, 1, "支持新疆技术攻关", at(c, "支持新疆技术攻关", 2), (mention(c, "region", "650000", "新疆", 3),))
    area = TaskArea(1, "一是", "科技援疆", at(c, "科技援疆"), "塑造新疆创新优势", at(c, "塑造新疆创新优势"),
                    at(c, "一是实施“科技援疆”，塑造新疆创新优势。支持新疆技术攻关；支持新疆技术攻关。"),
                    (xinjiang,), (xinjiang,), (task,))
    plan = Plan(
        title="“十四五”示例合作方案", title_span=at(c, "“十四五”示例合作方案"), short_name="方案",
        short_name_span=at(c, "方案", 3), issuers=(mention(c, "agency", "most", "科技部", 3), mention(c, "agency", "moe", "教育部")),
        issuer_count_stated=2, period_name="十四五", period_start=2021, period_end=2025, period_span=at(c, "十四五"),
        target_year=2025, aim="构建新发展格局", aim_span=at(c, "构建新发展格局"),
        goals=(Goal(1, "西部地区创新能力显著提升", at(c, "西部地区创新能力显著提升"), 2025,
                    (mention(c, "macro-region", "western-china", "西部地区"),)),),
        areas_stated=1, areas_stated_span=at(c, "一是"), areas=(area,),
        measures=(Measure(1, "健全协调机制", at(c, "健全协调机制")),),
    )
    news = NewsItem(
        title=c.splitlines()[0], title_span=at(c, c.splitlines()[0]),
        published=datetime(2022, 3, 7, 9, 48, 19, tzinfo=CST), published_span=at(c, "2022年03月07日 09:48:19"),
        source=mention(c, "agency", "most", "科技部", 2), author="张三", author_span=at(c, "张三"),
        site="示例网", site_span=at(c, "示例网"), lede=at(c, "支持新疆技术攻关。"), context=at(c, "近日"),
    )
    defect = Defect("repeated-sentence", at(c, "支持新疆技术攻关", 3), at(c, "支持新疆技术攻关", 2), 1, 2,
                    "repeats task 1.1 word for word")
    article = Article(SLUG, news, plan, (), (defect,))
    return article, text, build_dataset(article, text, base=BASE, build_time=WHEN, input_sha256=SHA)


def graph(dataset, name: str) -> Graph:
    return dataset.graph(graph_iri(BASE, name))


def assert_contains(g: Graph, turtle: str) -> None:
    """The RDF should contain every triple of the Turtle snippet (prefixes and @base supplied)."""
    head = "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in PREFIXES.items()) + f"@base <{BASE}> .\n"
    expected = Graph().parse(data=head + turtle, format="turtle")
    missing = [t for t in expected if t not in g]
    assert not missing, "missing triples:\n" + "\n".join(" ".join(x.n3() for x in t) for t in sorted(missing))


def test_plan_is_described_in_the_kg_graph(mini):
    assert_contains(graph(mini[2], "kg"), """
        <id/plan/mini-2022> a pkg:Plan, eli:LegalResource, schema:Legislation, prov:Plan ;
            rdfs:label "“十四五”示例合作方案"@zh ; eli:title "“十四五”示例合作方案"@zh ; pkg:shortName "方案"@zh ;
            eli:passed_by <id/org/most>, <id/org/moe> ; pkg:statedIssuerCount 2 ; pkg:statedAreaCount 1 ;
            pkg:targetYear "2025"^^xsd:gYear ; pkg:period <id/period/2021-2025> ;
            pkg:aim <id/plan/mini-2022/aim> ; pkg:goal <id/plan/mini-2022/goal/1> ;
            pkg:taskArea <id/plan/mini-2022/area/1> ; pkg:measure <id/plan/mini-2022/measure/1> .
        <id/period/2021-2025> a time:Interval ; time:hasBeginning <id/year/2021> ; time:hasEnd <id/year/2025> .
        <id/year/2021> a time:Instant ; time:inXSDgYear "2021"^^xsd:gYear .
        <id/plan/mini-2022/goal/1> a pkg:Goal ; rdfs:label "西部地区创新能力显著提升"@zh ; pkg:ordinal 1 ;
            pkg:targetYear "2025"^^xsd:gYear ; pkg:supports <id/plan/mini-2022/aim> ; pkg:mentions <id/area/western-china> .
        <id/plan/mini-2022/aim> a pkg:Aim ; rdfs:label "构建新发展格局"@zh .
        <id/plan/mini-2022/measure/1> a pkg:Measure ; rdfs:label "健全协调机制"@zh ; pkg:ordinal 1 .
    """)


def test_task_area_and_its_task_are_described(mini):
    assert_contains(graph(mini[2], "kg"), """
        <id/plan/mini-2022/area/1> a pkg:TaskArea, eli:LegalResourceSubdivision ; rdfs:label "科技援疆"@zh ;
            pkg:ordinal 1 ; pkg:shortName "科技援疆"@zh ; pkg:headline "塑造新疆创新优势"@zh ;
            pkg:targetsRegion <id/region/650000> ; pkg:task <id/plan/mini-2022/task/1.1> .
        <id/plan/mini-2022/task/1.1> a pkg:Task, pplan:Step ; rdfs:label "支持新疆技术攻关"@zh ; pkg:ordinal 1 ;
            pplan:isStepOfPlan <id/plan/mini-2022> ;
            pkg:mentions <id/region/650000> .
    """)


def test_agencies_and_places_carry_curated_names_in_chinese_and_english(mini):
    assert_contains(graph(mini[2], "kg"), """
        <id/org/most> a pkg:Agency, org:Organization, schema:GovernmentOrganization ;
            rdfs:label "中华人民共和国科学技术部"@zh, "Ministry of Science and Technology of the People's Republic of China"@en ;
            skos:altLabel "科技部"@zh, "MOST"@en .
        <id/region/650000> a pkg:Region, schema:AdministrativeArea, geo:Feature ;
            rdfs:label "新疆维吾尔自治区"@zh, "Xinjiang Uygur Autonomous Region"@en ;
            pkg:divisionCode "650000" ; pkg:adminLevel pkg:ProvinceLevel .
        <id/area/western-china> a pkg:MacroRegion, pkg:NamedArea, schema:Place ; rdfs:label "西部地区"@zh, "Western China"@en .
    """)


def test_news_item_reports_the_plan_with_its_own_date_and_time_zone(mini):
    assert_contains(graph(mini[2], "kg"), """
        <doc/article/mini-2022> a pkg:NewsItem, schema:NewsArticle ; schema:headline "科技部等两部门印发《“十四五”示例合作方案》"@zh ;
            schema:datePublished "2022-03-07T09:48:19+08:00"^^xsd:dateTime ; pkg:byline "张三"@zh ;
            pkg:siteName "示例网"@zh ; pkg:statedSource <id/org/most> ; pkg:reports <id/plan/mini-2022> .
    """)


def test_plan_is_not_given_the_news_items_date(mini):
    g = graph(mini[2], "kg")
    dated = [(p, o) for p, o in g.predicate_objects(plan_iri(BASE, SLUG)) if getattr(o, "datatype", None) is not None
             and "date" in str(o.datatype).lower()]
    assert dated == []


def test_spans_are_nif_strings_in_the_provenance_graph(mini):
    article, text, dataset = mini
    task_span = article.plan.areas[0].tasks[0].span
    assert_contains(graph(dataset, "provenance"), f"""
        <id/plan/mini-2022/task/1.1> pkg:span <doc/article/mini-2022#char={task_span.start},{task_span.end}> .
        <doc/article/mini-2022#char={task_span.start},{task_span.end}> a nif:OffsetBasedString ;
            nif:beginIndex "{task_span.start}"^^xsd:nonNegativeInteger ; nif:endIndex "{task_span.end}"^^xsd:nonNegativeInteger ;
            nif:anchorOf "支持新疆技术攻关" ; nif:referenceContext <doc/article/mini-2022#char=0,{len(text.clean)}> .
        <doc/article/mini-2022#char=0,{len(text.clean)}> a nif:Context ; nif:sourceUrl <doc/article/mini-2022> .
    """)


def test_defect_names_the_span_it_repeats(mini):
    article, _, dataset = mini
    d = article.defects[0]
    assert_contains(graph(dataset, "provenance"), f"""
        <doc/article/mini-2022/defect/1.2> a pkg:SourceDefect ; pkg:defectKind "repeated-sentence" ; pkg:ordinal 2 ;
            pkg:affects <id/plan/mini-2022/area/1> ; rdfs:comment "repeats task 1.1 word for word"@en ;
            pkg:span <doc/article/mini-2022#char={d.span.start},{d.span.end}> ;
            pkg:duplicates <doc/article/mini-2022#char={d.duplicates.start},{d.duplicates.end}> .
    """)


def test_repeated_sentence_is_not_a_second_task(mini):
    assert (None, RDF.type, PKG.Task) in graph(mini[2], "kg")
    assert task_iri(BASE, SLUG, 1, 2) not in set(graph(mini[2], "kg").subjects())


def test_repairs_record_raw_offsets_and_the_clean_span_they_produced(mini):
    _, text, dataset = mini
    g = graph(dataset, "provenance")
    repairs = list(g.subjects(RDF.type, PKG.Repair))
    assert len(repairs) == len(text.repairs) > 0
    by_raw = {(r.raw_start, r.raw_end, r.kind): r for r in text.repairs}
    for r in repairs:
        start, end = g.value(r, PKG.rawStart).toPython(), g.value(r, PKG.rawEnd).toPython()
        repair = by_raw[(start, end, str(g.value(r, PKG.repairKind)))]
        produced = g.value(r, PKG.span)
        if repair.kind in ("pinyin", "whitespace"):
            assert produced is None  # removed: nothing of the clean text comes from it
            continue
        begin, finish = g.value(produced, NIF.beginIndex).toPython(), g.value(produced, NIF.endIndex).toPython()
        assert str(g.value(produced, NIF.anchorOf)) == text.clean[begin:finish]
        assert text.raw_span(begin, finish) == (start, end)


def test_build_is_a_prov_activity_with_version_time_and_input_digest(mini):
    import kg

    assert_contains(graph(mini[2], "provenance"), f"""
        <doc/build/mini-2022> a prov:Activity ; prov:endedAtTime "2026-01-02T03:04:05+00:00"^^xsd:dateTime ;
            prov:used <doc/article/mini-2022/raw> ; prov:wasAssociatedWith <id/software/policykg> .
        <doc/article/mini-2022/raw> a prov:Entity ; pkg:sha256 "{SHA}"^^xsd:hexBinary .
        <id/software/policykg> a prov:SoftwareAgent ; schema:softwareVersion "{kg.__version__}" .
        <graph/kg> prov:wasGeneratedBy <doc/build/mini-2022> .
    """)


def test_ontology_graph_holds_the_ontology(mini):
    assert (URIRef(PKG_IRI), RDF.type, URIRef("http://www.w3.org/2002/07/owl#Ontology")) in graph(mini[2], "ontology")


def test_a_configured_base_moves_every_minted_iri_but_not_the_vocabulary(mini):
    article, text, _ = mini
    other = "http://data.example.org/kg/"
    dataset = build_dataset(article, text, base=other, build_time=WHEN, input_sha256=SHA)
    kg = dataset.graph(graph_iri(other, "kg"))
    assert len(kg) > 0
    subjects = {s for s in kg.subjects() if not str(s).startswith(PKG_IRI)}
    assert subjects and all(str(s).startswith(other) for s in subjects)
    assert (plan_iri(other, SLUG), RDF.type, PKG.Plan) in kg


@pytest.mark.parametrize("bad", [{"build_time": datetime(2026, 1, 1)}, {"input_sha256": "abc"}])
def test_build_refuses_a_naive_time_or_a_malformed_digest(mini, bad):
    article, text, _ = mini
    with pytest.raises(ValueError):
        build_dataset(article, text, base=BASE, **{"build_time": WHEN, "input_sha256": SHA, **bad})


def test_build_refuses_a_span_whose_quote_is_not_the_text_there(mini):
    article, text, _ = mini
    wrong = Measure(1, "健全协调机制", Span(0, 6, "健全协调机制"))
    broken = Article(article.slug, article.news, Plan(**{**article.plan.__dict__, "measures": (wrong,)}))
    with pytest.raises(ValueError, match="quotes"):
        build_dataset(broken, text, base=BASE, build_time=WHEN, input_sha256=SHA)


def test_region_iris_need_a_six_digit_code():
    assert region_iri(BASE, "650000") == URIRef(BASE + "id/region/650000")
    with pytest.raises(ValueError):
        region_iri(BASE, "65000")


def test_span_iri_follows_rfc_5147():
    assert span_iri(BASE, SLUG, Span(3, 9, "")) == URIRef(BASE + "doc/article/mini-2022#char=3,9")


# --- the real article ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    from kg.extract.article import extract
    from kg.paths import ARTICLE

    assert ARTICLE.is_file(), ARTICLE
    data = ARTICLE.read_bytes()
    text = normalize(data.decode("utf-8"))
    article = extract(text, slug="east-west-st-2022")
    sha = hashlib.sha256(data).hexdigest()
    return article, text, build_dataset(article, text, build_time=WHEN, input_sha256=sha), sha


def sorted_nquads(dataset) -> list[str]:
    return sorted(line for line in dataset.serialize(format="ox-nquads").splitlines() if line.strip())


def test_two_builds_give_identical_sorted_quads(real):
    article, text, dataset, sha = real
    again = build_dataset(article, text, build_time=WHEN, input_sha256=sha)
    first, second = sorted_nquads(dataset), sorted_nquads(again)
    assert len(first) > 1000
    assert first == second


def test_real_article_has_one_plan_nine_issuers_seven_areas_and_distinct_tasks(real):
    g = graph(real[2], "kg")
    plans = list(g.subjects(RDF.type, PKG.Plan))
    assert len(plans) == 1
    assert len(set(g.objects(plans[0], URIRef("http://data.europa.eu/eli/ontology#passed_by")))) == 9
    assert len(set(g.objects(plans[0], PKG.taskArea))) == 7
    labels = [str(g.value(t, RDFS.label)) for t in g.subjects(RDF.type, PKG.Task)]
    assert len(labels) == len(set(labels)) > 10
    assert len(set(g.objects(plans[0], PKG.goal))) >= 2 and len(set(g.objects(plans[0], PKG.measure))) >= 1


def test_fifth_areas_first_task_reads_correctly_after_the_mojibake_repair(real):
    g = graph(real[2], "kg")
    label = g.value(task_iri(BASE, "east-west-st-2022", 5, 1), RDFS.label)
    assert label == Literal("科技支撑宁夏重点产业提质增效", lang="zh")


@pytest.mark.parametrize("which", ["mini", "real"])
def test_every_span_quotes_the_clean_text_at_its_offsets(request, which):
    built = request.getfixturevalue(which)
    text, g = built[1], graph(built[2], "provenance")
    spans = list(g.subjects(NIF.anchorOf, None))
    assert len(spans) > 5
    for s in spans:
        begin, end = g.value(s, NIF.beginIndex).toPython(), g.value(s, NIF.endIndex).toPython()
        assert str(g.value(s, NIF.anchorOf)) == text.clean[begin:end], s
        assert str(s).endswith(f"#char={begin},{end}")


@pytest.mark.parametrize("cls", [PKG.Agency, PKG.Region, PKG.NamedArea, PKG.Task, PKG.Goal, PKG.Measure, PKG.Claim,
                                 PKG.TaskArea, PKG.Plan, PKG.Aim, PKG.NewsItem])
def test_every_stated_resource_has_a_text_span(real, cls):
    kg, prov = graph(real[2], "kg"), graph(real[2], "provenance")
    members = list(kg.subjects(RDF.type, cls))
    assert members
    assert [m for m in members if (m, PKG.span, None) not in prov] == []


def test_every_described_resource_is_labelled_in_chinese(real):
    kg = graph(real[2], "kg")
    typed = set(kg.subjects(RDF.type, None))
    assert typed
    assert [s for s in typed if not any(o.language == "zh" for o in kg.objects(s, RDFS.label))] == []


@pytest.mark.parametrize("cls", [PKG.Agency, PKG.Region, PKG.NamedArea, PKG.Plan, PKG.TaskArea])
def test_curated_classes_are_labelled_in_english(real, cls):
    kg = graph(real[2], "kg")
    members = list(kg.subjects(RDF.type, cls))
    assert members
    assert [s for s in members if not any(o.language == "en" for o in kg.objects(s, RDFS.label))] == []


def test_every_curated_english_label_names_a_built_resource(assembled):
    kg = graph(assembled[2], "kg")  # the default build: some labels name the official text's tasks the article lacks
    paths = english_labels()
    assert paths
    assert [p for p in paths if (URIRef(BASE + p), RDFS.label, Literal(paths[p], lang="en")) not in kg] == []


def test_no_blank_nodes_anywhere(real):
    assert not any(isinstance(term, BNode) for quad in real[2].quads() for term in quad[:3])


def test_no_literal_holds_pinyin_or_traditional_characters(real):
    t2s = OpenCC("t2s")
    literals = [o for _, _, o, _ in real[2].quads() if isinstance(o, Literal)]
    assert len(literals) > 100
    assert [str(o) for o in literals if PINYIN.search(str(o)) or t2s.convert(str(o)) != str(o)] == []


def test_no_literal_holds_boilerplate(real):
    literals = " ".join(str(o) for _, _, o, _ in real[2].quads() if isinstance(o, Literal))
    assert "相关阅读" not in literals and "版权" not in literals and "资讯中心" not in literals
