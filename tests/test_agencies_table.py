"""The agency fact table kg/sources/agencies.csv: well-formed, unambiguous for issuer lists, faithful to what it replaces."""

import csv
import dataclasses
import re

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS, SKOS

from kg.extract import gazetteer
from kg.extract.agencies import TABLE, agencies, candidates, resolve, unknown_agency_message
from kg.extract.model import Mention, Span
from kg.paths import ROOT, SOURCES
from kg.rdf.build import DEFAULT_BASE, fact_triples, org_iri
from kg.rdf.labels import names
from kg.rdf.namespace import PKG

# The keys already published as {base}id/org/{key}: they must survive any change of the table.
PUBLISHED_KEYS = ("most", "moe", "miit", "mnr", "mee", "sasac", "cas", "cae", "cast")
CATEGORIES = {"国务院组成部门", "国务院直属特设机构", "国务院直属机构", "国务院直属事业单位", "国务院部委管理的国家局",
              "部委管理的事业单位", "人民团体"}

# Issuer lists as reports of the genre print them (the six-agency guidance and the nine-agency plan of issue 12).
SIX_AGENCY_GUIDANCE = "科技部、教育部、工业和信息化部、交通运输部、农业农村部、国家卫生健康委"
NINE_AGENCY_PLAN = "科技部、国家发展改革委、工业和信息化部、生态环境部、住房城乡建设部、交通运输部、中国科学院、中国工程院、国家能源局"


def _csv(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _keys(issuers: str) -> list[str]:
    return [resolve(name).key for name in issuers.split("、")]


def test_every_row_parses_into_an_agency_with_the_columns_agencies_md_describes():
    rows = _csv(TABLE)
    assert len(agencies()) == len(rows) > 60
    assert list(rows[0]) == ["key", "name_zh", "short_names", "name_en", "name_en_basis", "acronym", "category", "parent",
                             "valid_from", "valid_until", "wikidata", "wikidata_status", "source", "notes"]


def test_keys_are_unique_iri_slugs():
    keys = [a.key for a in agencies()]
    assert len(keys) == len(set(keys))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*", key) for key in keys), keys


def test_every_agency_of_the_snapshot_keeps_its_labels_and_acronym_in_the_table():
    published = Graph().parse(ROOT / "tests" / "data" / "snapshots" / "kg.nt", format="nt")
    table = {a.key: a for a in agencies()}
    keys = {str(s).rsplit("/", 1)[1] for s in published.subjects(RDF.type, PKG.Agency)}
    assert set(PUBLISHED_KEYS) <= keys <= set(table)
    for key in keys:
        iri, agency = org_iri(DEFAULT_BASE, key), table[key]
        labels = {Literal(agency.name_zh, lang="zh")} | ({Literal(agency.name_en, lang="en")} if agency.name_en else set())
        assert set(published.objects(iri, RDFS.label)) == labels, key
        acronyms = {o for o in published.objects(iri, SKOS.altLabel) if o.language == "en"}
        assert acronyms == ({Literal(agency.acronym, lang="en")} if agency.acronym else set()), key


def test_the_gazetteer_holds_one_agency_entry_per_row_of_the_table_and_gazetteer_csv_none():
    assert [row["kind"] for row in _csv(SOURCES / "gazetteer.csv") if row["kind"] == "agency"] == []
    entries = [e for e in gazetteer.entries() if e.kind == "agency"]
    assert [(e.key, e.name_zh, e.name_en, e.aliases, e.acronym) for e in entries] == [
        (a.key, a.name_zh, a.name_en, a.short_names, a.acronym) for a in agencies()]
    assert {(e.parent, e.abbreviations) for e in entries} == {("", ())}  # the gazetteer's parent is a region
    assert gazetteer.lookup("国家卫生健康委").key == "nhc" and gazetteer.lookup("住房城乡建设部").kind == "agency"


def test_an_agency_without_an_official_english_name_gets_no_english_label(assembled):
    _, article, _, _ = assembled
    nsfc = resolve("国家自然科学基金委员会")
    assert (nsfc.key, nsfc.name_en, names("agency", "nsfc").en) == ("nsfc", "", "")
    issuer = Mention("agency", "nsfc", "国家自然科学基金委员会", Span(0, 12, "国家自然科学基金委员会"))
    plan = dataclasses.replace(article.plan, issuers=(*article.plan.issuers, issuer))
    facts = Graph()
    for triple in fact_triples(dataclasses.replace(article, plan=plan)):
        facts.add(triple)
    iri = org_iri(DEFAULT_BASE, "nsfc")
    assert set(facts.objects(iri, RDFS.label)) == {Literal("国家自然科学基金委员会", lang="zh")}
    assert set(facts.objects(iri, SKOS.altLabel)) == {Literal("自然科学基金委", lang="zh"),
                                                      Literal("国家自然科学基金委", lang="zh"), Literal("NSFC", lang="en")}


def test_every_row_has_an_official_name_a_known_category_and_a_source():
    for agency in agencies():
        assert agency.name_zh and agency.category in CATEGORIES and agency.sources, agency.key
        assert all(s.startswith(("http://", "https://", "kg/sources/")) for s in agency.sources), agency.key


def test_no_name_belongs_to_two_agencies_so_an_issuer_resolves_to_one():
    owners: dict[str, set[str]] = {}
    for agency in agencies():
        for name in agency.names:
            owners.setdefault(name, set()).add(agency.key)
    assert {name: keys for name, keys in owners.items() if len(keys) > 1} == {}


def test_no_short_name_is_another_agencys_official_name():
    official = {a.name_zh: a.key for a in agencies()}
    clashes = [(a.key, n) for a in agencies() for n in a.short_names if official.get(n, a.key) != a.key]
    assert clashes == []


def test_names_are_single_exact_forms_without_list_punctuation():
    for agency in agencies():
        for name in agency.names:
            assert len(name) >= 2 and not re.search(r"[\s、，,;；等()（）]", name), (agency.key, name)


def test_parents_are_agencies_of_the_table():
    keys = {a.key for a in agencies()}
    for agency in agencies():
        assert agency.parent in keys | {""} and agency.parent != agency.key, agency.key
    assert {a.key: a.parent for a in agencies() if a.key in ("nea", "nda", "ndcpa")} == {"nea": "ndrc", "nda": "ndrc", "ndcpa": "nhc"}


def test_validity_years_are_ordered_and_the_2023_reform_is_recorded():
    for agency in agencies():
        assert agency.valid_from is None or agency.valid_until is None or agency.valid_from <= agency.valid_until
    assert (resolve("银保监会").key, resolve("银保监会").valid_until) == ("cbirc", 2023)
    assert (resolve("国家金融监督管理总局").key, resolve("国家金融监督管理总局").valid_from) == ("nfra", 2023)


def test_an_english_name_is_given_only_with_its_basis():
    for agency in agencies():
        assert bool(agency.name_en) == bool(agency.name_en_basis), agency.key
        assert agency.name_en_basis in {"", "official", "state media", "curated"}, agency.key


def test_wikidata_items_are_only_those_verified_in_identifiers_csv():
    verified = {row["official_name_zh"]: row["wikidata"] for row in _csv(SOURCES / "identifiers.csv")
                if row["kind"] == "agency" and row["wikidata"] and row["wikidata_status"].startswith("verified")}
    given = {a.name_zh: a.wikidata for a in agencies() if a.wikidata}
    assert given and all(verified.get(name) == item for name, item in given.items()), given


def test_the_six_agency_guidance_resolves_to_six_agencies():
    assert _keys(SIX_AGENCY_GUIDANCE) == ["most", "moe", "miit", "mot", "mara", "nhc"]


def test_the_nine_agency_plan_resolves_to_nine_agencies():
    assert _keys(NINE_AGENCY_PLAN) == ["most", "ndrc", "miit", "mee", "mohurd", "mot", "cas", "cae", "nea"]


def test_an_unknown_name_resolves_to_nothing_and_offers_the_closest_agencies():
    assert resolve("国家卫生健康委员") is None
    assert candidates("国家卫生健康委员")[0].key == "nhc"
    assert candidates("住房城乡建设厅")[0].key == "mohurd"
    assert candidates("某某协调办公室") == ()


def test_an_unknown_issuer_is_reported_by_name_with_the_closest_agency():
    assert unknown_agency_message("国家卫生健康委员") == "国家卫生健康委员: not a known agency; did you mean 国家卫生健康委员会 (nhc)?"


def test_an_unknown_issuer_close_to_two_agencies_names_both_best_first():
    assert unknown_agency_message("中国科学技术部") == (
        "中国科学技术部: not a known agency; did you mean 科学技术部 (most) or 中国科学技术协会 (cast)?")


def test_an_unknown_issuer_close_to_no_agency_says_so():
    assert unknown_agency_message("某某协调办公室") == "某某协调办公室: not a known agency, and no name in agencies.csv is close"


def test_a_candidate_far_behind_the_best_is_not_offered():
    # 国家民委 is as close to 国家卫生健康委员 as the cut-off allows, but far behind 国家卫生健康委员会
    assert [a.key for a in candidates("国家卫生健康委员")] == ["nhc"]
