"""Writes the shape fixtures: valid/minimal.trig, valid/{case}.ttl per part a source may lack, and one
invalid/{Shape}--{case}.ttl per mutation of the minimal graph.

Run `.venv/bin/python tests/data/shapes/generate.py` after changing the shapes or this file, and commit the output.
Each invalid file is the minimal valid graph with one small change, so that it fails on exactly the shape its name
starts with (tests/test_shapes.py checks that against sh:sourceShape); each valid variant leaves out one part and
conforms without any result.
"""

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS as DCT
from rdflib.namespace import OWL, RDF, RDFS, SDO, SKOS, TIME, XSD

from kg.rdf.namespace import ADMS, ELI, NIF, PPLAN, WD

HERE = Path(__file__).parent
B = "https://policykg.example/"
PKG = Namespace(f"{B}def/")  # open: mutations may name terms the vocabulary lacks

TEXT = "科技部印发方案。一是科技援疆，支持新疆碳中和攻关，打造丝路创新高地。目标是西部创新能力提升。保障措施：健全机制。健全机制。"
P = URIRef(f"{B}id/plan/test")
A1, T1, T2 = URIRef(f"{P}/area/1"), URIRef(f"{P}/task/1.1"), URIRef(f"{P}/task/1.2")
A2, T3 = URIRef(f"{P}/area/2"), URIRef(f"{P}/task/2.1")  # only in mutations: a second area, a third task
G1, M1, AIM, C1 = URIRef(f"{P}/goal/1"), URIRef(f"{P}/measure/1"), URIRef(f"{P}/aim"), URIRef(f"{P}/claim/1")
MOST, R, R2 = URIRef(f"{B}id/org/most"), URIRef(f"{B}id/region/650000"), URIRef(f"{B}id/region/620400")
NA, MR = URIRef(f"{B}id/area/silk-road-economic-belt"), URIRef(f"{B}id/area/western-china")
ID1, ID2 = URIRef(f"{B}id/identifier/gbt2260/650000"), URIRef(f"{B}id/identifier/iso3166-2/CN-XJ")
N, OFFICIAL = URIRef(f"{B}doc/article/test"), URIRef(f"{B}doc/article/test-official")
TITLE = Literal("“十四五”测试方案", lang="zh")  # names a five-year plan, so the plan has its period
CTX = URIRef(f"{N}#char=0,{len(TEXT)}")
D1, REP = URIRef(f"{N}/defect/1.3"), URIRef(f"{N}/repair/pinyin/0-5")


def span(quote: str, occurrence: int = 0) -> tuple[URIRef, list[tuple]]:
    """The IRI and triples of the n-th occurrence of `quote` in TEXT."""
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(quote, start + 1)
    s = URIRef(f"{N}#char={start},{start + len(quote)}")
    return s, [(s, RDF.type, NIF.OffsetBasedString), (s, NIF.beginIndex, Literal(start)),
               (s, NIF.endIndex, Literal(start + len(quote))), (s, NIF.anchorOf, Literal(quote)),
               (s, NIF.referenceContext, CTX)]


SPANS = {name: span(quote, n) for name, quote, n in (
    ("plan", "方案", 0), ("area", "一是科技援疆", 0), ("t1", "支持新疆碳中和攻关", 0), ("t2", "打造丝路创新高地", 0),
    ("goal", "西部创新能力提升", 0), ("aim", "目标是西部创新能力提升", 0), ("measure", "健全机制", 0),
    ("claim", "打造丝路创新高地", 0), ("dup", "健全机制", 1))}


def labelled(s: URIRef, zh: str, en: str | None) -> list[tuple]:
    return [(s, RDFS.label, Literal(zh, lang="zh"))] + ([(s, RDFS.label, Literal(en, lang="en"))] if en else [])


def minimal() -> dict[str, list[tuple]]:
    """Graph name → triples of the smallest graph with one resource of every class, conforming to the shapes."""
    kg = [
        (P, RDF.type, PKG.Plan), *labelled(P, "测试方案", "Test plan"), (P, ELI.title, TITLE), (P, PKG.taskArea, A1),
        (P, ELI.passed_by, MOST),
        (P, PKG.period, URIRef(f"{B}id/period/2021-2025")), (P, PKG.targetYear, Literal("2025", datatype=XSD.gYear)),
        (P, PKG.goal, G1), (P, PKG.measure, M1), (P, PKG.aim, AIM),
        (P, PKG.statedIssuerCount, Literal(1)), (P, PKG.statedAreaCount, Literal(1)),
        (URIRef(f"{B}id/period/2021-2025"), RDF.type, TIME.Interval),
        (A1, RDF.type, PKG.TaskArea), *labelled(A1, "科技援疆", "S&T aid to Xinjiang"), (A1, PKG.ordinal, Literal(1)),
        (A1, PKG.headline, Literal("科技援疆", lang="zh")), (A1, PKG.task, T1), (A1, PKG.task, T2),
        (A1, PKG.targetsRegion, R), (A1, PKG.mentions, R), (A1, PKG.mentions, NA),
        (T1, RDF.type, PKG.Task), *labelled(T1, "支持新疆碳中和攻关", "Carbon neutrality research in Xinjiang"),
        (T1, PKG.ordinal, Literal(1)), (T1, PPLAN.isStepOfPlan, P),
        (T2, RDF.type, PKG.Task), *labelled(T2, "打造丝路创新高地", "A Silk Road innovation hub"), (T2, PKG.ordinal, Literal(2)),
        (T2, PPLAN.isStepOfPlan, P),
        (G1, RDF.type, PKG.Goal), *labelled(G1, "西部创新能力提升", "Western innovation capacity rises"),
        (G1, PKG.ordinal, Literal(1)), (G1, PKG.supports, AIM), (G1, PKG.mentions, MR),
        (AIM, RDF.type, PKG.Aim), *labelled(AIM, "目标是西部创新能力提升", "The aim"),
        (M1, RDF.type, PKG.Measure), *labelled(M1, "健全机制", "Sound mechanisms"), (M1, PKG.ordinal, Literal(1)),
        (MOST, RDF.type, PKG.Agency), *labelled(MOST, "科学技术部", "Ministry of Science and Technology"),
        (R, RDF.type, PKG.Region), *labelled(R, "新疆维吾尔自治区", "Xinjiang"), (R, PKG.divisionCode, Literal("650000")),
        (R, PKG.adminLevel, PKG.ProvinceLevel),
        (NA, RDF.type, PKG.NamedArea), *labelled(NA, "丝绸之路经济带", "Silk Road Economic Belt"),
        (MR, RDF.type, PKG.MacroRegion), (MR, RDF.type, PKG.NamedArea), *labelled(MR, "西部地区", "Western China"),
        (N, RDF.type, PKG.NewsItem), *labelled(N, "测试新闻", None), (N, PKG.reports, P),
        (N, SDO.datePublished, Literal("2022-03-07T09:48:19+08:00", datatype=XSD.dateTime)),
        (C1, RDF.type, PKG.Claim), *labelled(C1, "打造丝路创新高地", "A Silk Road innovation hub"), (C1, PKG.attachedTo, T2),
        (OFFICIAL, RDF.type, ELI.LegalExpression), *labelled(OFFICIAL, "关于印发测试方案的通知", None), (OFFICIAL, ELI.realizes, P),
        (OFFICIAL, ELI.date_publication, Literal("2022-03-04", datatype=XSD.date)),
    ]
    provenance = [
        (CTX, RDF.type, NIF.Context), (CTX, RDF.type, NIF.OffsetBasedString), (CTX, NIF.isString, Literal(TEXT)),
        (CTX, NIF.beginIndex, Literal(0)), (CTX, NIF.endIndex, Literal(len(TEXT))),
        (D1, RDF.type, PKG.SourceDefect), *labelled(D1, "重复的句子", None), (D1, PKG.defectKind, Literal("repeated-sentence")),
        (D1, PKG.span, SPANS["dup"][0]), (D1, PKG.duplicates, SPANS["measure"][0]),
        (REP, RDF.type, PKG.Repair), *labelled(REP, "删除拼音注音", None), (REP, PKG.repairKind, Literal("pinyin")),
        (REP, PKG.rawStart, Literal(0)), (REP, PKG.rawEnd, Literal(5)), (REP, PKG.span, SPANS["plan"][0]),
    ]
    for subject, name in ((P, "plan"), (A1, "area"), (T1, "t1"), (T2, "t2"), (G1, "goal"), (AIM, "aim"),
                          (M1, "measure"), (C1, "claim")):
        provenance.append((subject, PKG.span, SPANS[name][0]))
    for _iri, triples in SPANS.values():
        provenance += triples
    links = [
        (R, OWL.sameAs, WD.Q34800), (MR, SDO.containsPlace, R), (R, ADMS.identifier, ID1), (R, ADMS.identifier, ID2),
        (ID1, RDF.type, ADMS.Identifier), (ID1, SKOS.notation, Literal("650000")),
        (ID1, DCT.conformsTo, URIRef(f"{B}id/standard/gbt-2260")),
        (ID2, RDF.type, ADMS.Identifier), (ID2, SKOS.notation, Literal("CN-XJ")),
        (ID2, DCT.conformsTo, URIRef(f"{B}id/standard/iso-3166-2")),
    ]
    divisions = [(R2, RDF.type, PKG.Region), *labelled(R2, "白银市", None), (R2, PKG.divisionCode, Literal("620400")),
                 (R2, PKG.adminLevel, PKG.PrefectureLevel)]
    return {"kg": kg, "provenance": provenance, "links": links, "divisions": divisions}


def _clone(g: Graph, node: URIRef) -> BNode:
    """Add a blank-node twin of `node` with the same outgoing triples (fails sh:nodeKind sh:IRI only)."""
    twin = BNode()
    for p, o in list(g.predicate_objects(node)):
        g.add((twin, p, o))
    return twin


def _replace(g: Graph, s, p, new) -> None:
    g.remove((s, p, None))
    g.add((s, p, new))


def _replace_label(g: Graph, s, new: Literal) -> None:
    """Replace the label of `s` in the language of `new`, keeping its other labels."""
    for old in [o for o in g.objects(s, RDFS.label) if o.language == new.language]:
        g.remove((s, RDFS.label, old))
    g.add((s, RDFS.label, new))


def _task(g: Graph, task: URIRef, zh: Literal, en: Literal) -> None:
    """Add a complete task of the plan (a pplan:Step of it, with labels, ordinal and span) that no area lists yet."""
    for t in ((task, RDF.type, PKG.Task), (task, RDFS.label, zh), (task, RDFS.label, en), (task, PKG.ordinal, Literal(1)),
              (task, PKG.span, SPANS["t2"][0]), (task, PPLAN.isStepOfPlan, P)):
        g.add(t)


def _area(g: Graph, tasks: tuple[URIRef, ...], *, of_plan: bool = True) -> None:
    """Add a complete second task area listing `tasks`; of the plan (which then states two areas) unless told not."""
    for t in ((A2, RDF.type, PKG.TaskArea), *labelled(A2, "科技援藏", "S&T aid to Tibet"), (A2, PKG.ordinal, Literal(2)),
              (A2, PKG.headline, Literal("科技援藏", lang="zh")), (A2, PKG.targetsRegion, R), (A2, PKG.mentions, R),
              (A2, PKG.span, SPANS["area"][0]),
              *((A2, PKG.task, task) for task in tasks)):
        g.add(t)
    if of_plan:
        g.add((P, PKG.taskArea, A2))
        _replace(g, P, PKG.statedAreaCount, Literal(2))


def _blank_area(g: Graph) -> None:
    """A blank-node twin of the area that lists a task of its own (so each task still has exactly one area)."""
    twin = _clone(g, A1)
    g.remove((twin, PKG.task, None))
    _task(g, T3, ZH_T3, EN_T3)
    g.add((twin, PKG.task, T3))


def _blank_task(g: Graph) -> None:
    """A complete task named by a blank node, with labels of its own, that the area lists."""
    _task(g, T3, ZH_T3, EN_T3)
    twin = _clone(g, T3)
    g.remove((T3, None, None))
    g.add((A1, PKG.task, twin))


T1_SPAN = SPANS["t1"][0]
PERIOD2 = URIRef(f"{B}id/period/2026-2030")
ZH_T1 = Literal("支持新疆碳中和攻关", lang="zh")
EN_T1 = Literal("Carbon neutrality research in Xinjiang", lang="en")
ZH_T3, EN_T3 = Literal("建设高原科技平台", lang="zh"), Literal("A plateau S&T platform", lang="en")

# shape local name, case, what is wrong, the change
MUTATIONS: list[tuple[str, str, str, Callable[[Graph], None]]] = [
    ("label", "two-chinese-labels", "a task with two @zh labels", lambda g: g.add((T1, RDFS.label, Literal("另一个", lang="zh")))),
    ("label-zh", "task-without-chinese-label", "a task without a @zh label", lambda g: g.remove((T1, RDFS.label, ZH_T1))),
    ("label-en", "untranslated-task", "a task without an @en label (a warning)", lambda g: g.remove((T1, RDFS.label, EN_T1))),
    ("span", "task-without-span", "a task without a text span", lambda g: g.remove((T1, PKG.span, None))),
    ("span", "aim-without-span", "the aim without a text span", lambda g: g.remove((AIM, PKG.span, None))),
    ("ordinal", "task-ordinal-zero", "a task numbered 0", lambda g: _replace(g, T1, PKG.ordinal, Literal(0))),
    ("Plan", "blank-node-plan", "a plan without an IRI", lambda g: _clone(g, P)),
    ("Plan-taskArea", "area-that-is-a-task", "a plan listing a task as one of its task areas",
     lambda g: (g.add((P, PKG.taskArea, T1)), _replace(g, P, PKG.statedAreaCount, Literal(2)))),
    ("Plan-taskArea-known", "plan-without-areas", "a plan whose source lists no task area (a warning)",
     lambda g: (g.remove((P, PKG.taskArea, None)), g.remove((P, PKG.statedAreaCount, None)))),
    ("Plan-period", "two-periods", "a plan with two periods",
     lambda g: (g.add((P, PKG.period, PERIOD2)), g.add((PERIOD2, RDF.type, TIME.Interval)))),
    ("PlanPeriodInTitle", "five-year-plan-title-without-period", "a plan whose title names 十四五 but has no period",
     lambda g: g.remove((P, PKG.period, None))),
    ("Plan-targetYear", "target-year-integer", "a target year typed xsd:integer",
     lambda g: _replace(g, P, PKG.targetYear, Literal(2025))),
    ("PlanIssuedByAgency", "plan-without-issuer", "a plan no agency issued", lambda g: g.remove((P, ELI.passed_by, None))),
    ("UniqueTaskLabels", "two-tasks-same-label", "two tasks of the plan with the same label",
     lambda g: (g.remove((T2, RDFS.label, Literal("打造丝路创新高地", lang="zh"))), g.add((T2, RDFS.label, ZH_T1)))),
    ("UniqueTaskLabels", "same-english-label", "two tasks of the plan with the same @en label (their @zh labels differ)",
     lambda g: _replace_label(g, T2, EN_T1)),
    ("UniqueTaskLabels", "same-label-in-two-areas", "a task of a second area with the @zh label of a task of the first",
     lambda g: (_task(g, T3, ZH_T1, EN_T3), _area(g, (T3,)))),
    ("UniqueTaskLabels", "step-of-plan-in-an-area-of-no-plan",
     "a step of the plan, listed by an area the plan does not list, with the @zh label of a task of the plan",
     lambda g: (_task(g, T3, ZH_T1, EN_T3), _area(g, (T3,), of_plan=False))),
    ("StatedIssuerCount", "nine-stated-one-found", "nine issuers stated, one found (a warning)",
     lambda g: _replace(g, P, PKG.statedIssuerCount, Literal(9))),
    ("StatedAreaCount", "seven-stated-one-found", "seven areas stated, one found (a warning)",
     lambda g: _replace(g, P, PKG.statedAreaCount, Literal(7))),
    ("Aim", "blank-node-aim", "an aim without an IRI", lambda g: _clone(g, AIM)),
    ("Goal", "blank-node-goal", "a goal without an IRI", lambda g: _clone(g, G1)),
    ("Goal-supports", "goal-supports-plan", "a goal supporting the plan instead of the aim",
     lambda g: _replace(g, G1, PKG.supports, P)),
    ("TaskArea", "blank-node-area", "a task area without an IRI, listing a task of its own", lambda g: _blank_area(g)),
    ("TaskArea-headline", "area-without-headline", "a task area without a headline", lambda g: g.remove((A1, PKG.headline, None))),
    ("TaskArea-task", "area-lists-a-goal", "a task area listing a goal as one of its tasks",
     lambda g: g.add((A1, PKG.task, G1))),
    ("TaskAreaTargetsRegion", "names-a-province-it-does-not-target", "a task area naming Xinjiang that targets no region",
     lambda g: g.remove((A1, PKG.targetsRegion, None))),
    ("TaskAreaTargetsRegion", "targets-a-province-it-does-not-name", "a task area targeting Xinjiang without naming it",
     lambda g: g.remove((A1, PKG.mentions, R))),
    ("Task", "blank-node-task", "a task without an IRI, listed by the area", lambda g: _blank_task(g)),
    ("Task-area", "task-outside-any-area", "a step of the plan with a label of its own that no task area lists",
     lambda g: _task(g, T3, ZH_T3, EN_T3)),
    ("Task-area", "task-in-two-areas", "a task that a second area of the plan lists too", lambda g: _area(g, (T1,))),
    ("Task-area", "task-listed-by-a-plan", "a task that the plan lists with pkg:task instead of an area",
     lambda g: (_task(g, T3, ZH_T3, EN_T3), g.add((P, PKG.task, T3)))),
    ("Measure", "blank-node-measure", "a measure without an IRI", lambda g: _clone(g, M1)),
    ("Agency", "blank-node-agency", "an agency without an IRI", lambda g: _clone(g, MOST)),
    ("label-zh", "agency-without-chinese-label", "an agency without a @zh label",
     lambda g: g.remove((MOST, RDFS.label, Literal("科学技术部", lang="zh")))),
    ("Agency-label-en", "agency-without-english-label", "an agency whose official English name is not known (a warning)",
     lambda g: g.remove((MOST, RDFS.label, Literal("Ministry of Science and Technology", lang="en")))),
    ("Region", "area-targets-untyped-region", "a task area targeting a resource that is not a pkg:Region",
     lambda g: (g.add((A1, PKG.targetsRegion, URIRef(f"{B}id/region/640000"))),
                g.add((A1, PKG.mentions, URIRef(f"{B}id/region/640000"))),
                [g.add(t) for t in labelled(URIRef(f"{B}id/region/640000"), "宁夏回族自治区", "Ningxia")],
                g.add((URIRef(f"{B}id/region/640000"), PKG.divisionCode, Literal("640000"))),
                g.add((URIRef(f"{B}id/region/640000"), PKG.adminLevel, PKG.ProvinceLevel)))),
    ("Region-code", "code-typed-integer", "a targeted region whose code is an integer",
     lambda g: _replace(g, R, PKG.divisionCode, Literal(650000))),
    ("Region-level", "unknown-level", "a targeted region with an unknown level",
     lambda g: _replace(g, R, PKG.adminLevel, PKG.TownshipLevel)),
    ("RegionCode", "five-digit-code", "a region of the reference table with a five-digit code",
     lambda g: _replace(g, R2, PKG.divisionCode, Literal("62040"))),
    ("NamedArea", "blank-node-area", "a named area without an IRI", lambda g: _clone(g, NA)),
    ("MacroRegion-containsPlace", "macro-region-without-members", "a macro-region listing no region (a warning)",
     lambda g: g.remove((MR, SDO.containsPlace, None))),
    ("GBT2260Identifier", "five-digit-notation", "a GB/T 2260 identifier with five digits",
     lambda g: _replace(g, ID1, SKOS.notation, Literal("65000"))),
    ("ISO3166Identifier", "lower-case-notation", "an ISO 3166-2 code in lower case",
     lambda g: _replace(g, ID2, SKOS.notation, Literal("CN-xj"))),
    ("SameAsOutsideBase", "same-as-own-iri", "owl:sameAs pointing inside the dataset",
     lambda g: g.add((R, OWL.sameAs, URIRef(f"{B}id/region/650001")))),
    ("NewsItem", "blank-node-news", "a news item without an IRI", lambda g: _clone(g, N)),
    ("NewsItem-published", "date-as-plain-string", "a news item whose date is a plain string",
     lambda g: _replace(g, N, SDO.datePublished, Literal("2022-03-07"))),
    ("NewsItem-published", "two-publication-times", "a news item with two publication times",
     lambda g: g.add((N, SDO.datePublished, Literal("2022-03-08", datatype=XSD.date)))),
    ("NewsItem-dated", "news-item-without-date", "a news item whose source prints no date (a warning)",
     lambda g: g.remove((N, SDO.datePublished, None))),
    ("NewsItem-reports", "reports-a-region", "a news item reporting a region instead of a plan",
     lambda g: _replace(g, N, PKG.reports, R)),
    ("OfficialText", "blank-node-official-text", "an official text without an IRI", lambda g: _clone(g, OFFICIAL)),
    ("OfficialText-realizes", "realizes-nothing", "an official text that realizes no plan",
     lambda g: g.remove((OFFICIAL, ELI.realizes, None))),
    ("OfficialText-published", "date-as-year", "an official text whose date online is a year",
     lambda g: _replace(g, OFFICIAL, ELI.date_publication, Literal("2022", datatype=XSD.gYear))),
    ("Claim", "blank-node-claim", "a claim without an IRI", lambda g: _clone(g, C1)),
    ("Claim-attachedTo", "claim-attached-to-nothing", "a claim attached to no task", lambda g: g.remove((C1, PKG.attachedTo, None))),
    ("Span", "blank-node-span", "a task whose span is a blank node",
     lambda g: (_replace(g, T1, PKG.span, BNode("span")),
                [g.add((BNode("span"), p, o)) for p, o in list(g.predicate_objects(T1_SPAN))])),
    ("Span-begin", "span-without-begin", "a span without a begin index", lambda g: g.remove((T1_SPAN, NIF.beginIndex, None))),
    ("Span-end", "span-without-end", "a span without an end index", lambda g: g.remove((T1_SPAN, NIF.endIndex, None))),
    ("Span-anchor", "quote-with-language-tag", "a span quote tagged @zh instead of a plain string",
     lambda g: _replace(g, T1_SPAN, NIF.anchorOf, Literal("支持新疆碳中和攻关", lang="zh"))),
    ("Span-context", "span-without-context", "a span without its context",
     lambda g: g.remove((T1_SPAN, NIF.referenceContext, None))),
    ("SpanQuote", "quote-not-in-text", "a span whose quote is not the text at its offsets",
     lambda g: _replace(g, T1_SPAN, NIF.anchorOf, Literal("支持西藏碳中和攻关"))),
    ("SourceDefect", "blank-node-defect", "a source defect without an IRI", lambda g: _clone(g, D1)),
    ("SourceDefect-kind", "unknown-kind", "a source defect of an unknown kind", lambda g: _replace(g, D1, PKG.defectKind, Literal("typo"))),
    ("SourceDefect-duplicates", "duplicates-nothing", "a source defect that repeats nothing",
     lambda g: g.remove((D1, PKG.duplicates, None))),
    ("Repair", "blank-node-repair", "a repair without an IRI", lambda g: _clone(g, REP)),
    ("Repair-kind", "repair-without-kind", "a repair without a kind", lambda g: g.remove((REP, PKG.repairKind, None))),
    ("Repair-rawStart", "start-after-end", "a repair starting after it ends", lambda g: _replace(g, REP, PKG.rawStart, Literal(9))),
    ("Repair-rawEnd", "two-ends", "a repair with two raw ends", lambda g: g.add((REP, PKG.rawEnd, Literal(6)))),
    ("Repair-span", "two-spans", "a repair that produced two spans", lambda g: g.add((REP, PKG.span, SPANS["area"][0]))),
]


# case, what is absent (or optional) and conforms without any result, the change
ABSENT: list[tuple[str, str, Callable[[Graph], None]]] = [
    ("national-area-targets-no-region", "a national task area: it names no province and targets none",
     lambda g: (g.remove((A1, PKG.targetsRegion, None)), g.remove((A1, PKG.mentions, R)))),
    ("plan-without-period", "a plan whose title names no five-year plan, so it has no period",
     lambda g: (g.remove((P, PKG.period, None)), _replace(g, P, ELI.title, Literal("测试方案", lang="zh")))),
    ("news-item-dated-without-time", "a news item dated 2022年03月07日 (an xsd:date, no invented midnight)",
     lambda g: _replace(g, N, SDO.datePublished, Literal("2022-03-07", datatype=XSD.date))),
    ("area-of-one-clause-without-tasks", "a second task area printed as one clause, so it lists no task",
     lambda g: _area(g, ())),
    ("official-text-without-date", "an official text with no date online (the plan keeps its own date)",
     lambda g: g.remove((OFFICIAL, ELI.date_publication, None))),
]


def _mutated(change: Callable[[Graph], None]) -> Graph:
    """The union of the minimal graph with one change applied."""
    union = Graph()
    for triples in minimal().values():
        for t in triples:
            union.add(t)
    change(union)
    return union


def _turtle(g: Graph) -> bytes:
    from kg.publish.dump import turtle  # the project's own sorted, prefixed Turtle writer
    from kg.rdf.oxi import to_quads

    return turtle([ox.Quad(q.subject, q.predicate, q.object) for q in to_quads(g)], base=B)


def main() -> None:
    """Write valid/minimal.trig, the valid variants and every invalid/*.ttl."""
    dataset = Dataset()
    for name, triples in minimal().items():
        graph = dataset.graph(URIRef(f"{B}graph/{name}"))
        for t in triples:
            graph.add(t)
    (HERE / "valid").mkdir(exist_ok=True)
    (HERE / "invalid").mkdir(exist_ok=True)
    from kg.publish.dump import _order, _trig_prefixes, canonical  # the same writer as the dumps
    from kg.rdf.oxi import to_quads

    quads = sorted(canonical(to_quads(dataset)), key=_order)
    header = b"# The smallest graph with one resource of every class; conforms to shapes/policykg.ttl.\n"
    header += b"# Generated by tests/data/shapes/generate.py: edit that, not this.\n"
    trig = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=_trig_prefixes(quads, base=B))
    (HERE / "valid" / "minimal.trig").write_bytes(header + trig)
    for old in (HERE / "invalid").glob("*.ttl"):
        old.unlink()
    for old in (HERE / "valid").glob("*.ttl"):
        old.unlink()
    for case, why, change in ABSENT:
        note = f"# Conforms without any result: {why}.\n# Generated by tests/data/shapes/generate.py: edit that, not this.\n"
        (HERE / "valid" / f"{case}.ttl").write_bytes(note.encode() + _turtle(_mutated(change)))
    for shape, case, why, change in MUTATIONS:
        union = _mutated(change)
        note = f"# Fails on pkgsh:{shape} only: {why}.\n# Generated by tests/data/shapes/generate.py: edit that, not this.\n"
        (HERE / "invalid" / f"{shape}--{case}.ttl").write_bytes(note.encode() + _turtle(union))


if __name__ == "__main__":
    main()
