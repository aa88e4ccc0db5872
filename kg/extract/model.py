"""What the extractor recovers from an article: plain frozen dataclasses, no RDF."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Span:
    """A stretch of the clean text: [start, end) character offsets and the exact quote."""

    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class Mention:
    """A place or agency named in the text, resolved to a gazetteer entry (see kg/sources/gazetteer.csv)."""

    kind: str  # "agency" | "region" | "area" | "macro-region"
    key: str  # gazetteer key: agency acronym ("most"), GB/T 2260 code ("650000") or area slug ("sanjiangyuan")
    surface: str  # the words as written ("科技部", "疆", "新疆")
    span: Span


@dataclass(frozen=True)
class Goal:
    """One clause of the plan's target-year goal sentence."""

    number: int
    text: str
    span: Span
    target_year: int
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True)
class Task:
    """A sub-task of a task area; number is its position among the area's sub-tasks as printed."""

    area_number: int
    number: int
    text: str
    span: Span
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True)
class TaskArea:
    """One of the plan's numbered task areas (一是 … 七是)."""

    number: int
    ordinal: str  # "一是"
    short_name: str  # "科技援疆"; empty when the area has none
    short_name_span: Span | None
    headline: str  # the headline objective, e.g. "塑造新疆创新发展优势"
    headline_span: Span
    span: Span  # the whole paragraph
    regions: tuple[Mention, ...]  # target province-level regions
    mentions: tuple[Mention, ...]  # every place mention in the paragraph (regions, named areas)
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class Measure:
    """A guarantee measure (保障措施)."""

    number: int
    text: str
    span: Span


@dataclass(frozen=True)
class Claim:
    """A statement the article attaches to a task, e.g. the lede's claim about Yunnan."""

    text: str
    spans: tuple[Span, ...]  # every place the article says it (lede, body)
    task: tuple[int, int]  # (area number, task number) it is attached to
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True)
class Defect:
    """A flaw of the source text: a repeated sentence, or a sub-task that repeats its area's headline."""

    kind: str  # "repeated-sentence" | "repeats-headline"
    span: Span  # the defective statement
    duplicates: Span  # the statement it repeats
    area_number: int
    position: int  # its position among the area's sub-tasks as printed
    note: str


@dataclass(frozen=True)
class NewsItem:
    """The news article that reports the plan."""

    title: str
    title_span: Span
    published: datetime  # timezone-aware
    published_span: Span
    source: Mention  # stated source (来源), an agency
    author: str
    author_span: Span
    site: str  # the publishing website's name
    site_span: Span
    lede: Span  # the standfirst sentence under the date line
    context: Span  # the opening paragraph's statement of why the plan matters


@dataclass(frozen=True)
class Plan:
    """The policy document the article reports."""

    title: str  # without book-title marks: “十四五”东西部科技合作实施方案
    title_span: Span
    short_name: str  # 方案
    short_name_span: Span
    issuers: tuple[Mention, ...]
    issuer_count_stated: int  # "九部门" → 9
    period_name: str  # 十四五
    period_start: int
    period_end: int
    period_span: Span
    target_year: int
    aim: str  # the overall aim the goals support
    aim_span: Span
    goals: tuple[Goal, ...]
    areas_stated: int  # what the summary sentence says ("七个方面" → 7)
    areas_stated_span: Span
    areas: tuple[TaskArea, ...]
    measures: tuple[Measure, ...]
    outlook: Span | None = None  # the closing sentence on what the plan will achieve


@dataclass(frozen=True)
class Article:
    """Everything recovered from one article."""

    slug: str
    news: NewsItem
    plan: Plan
    claims: tuple[Claim, ...] = ()
    defects: tuple[Defect, ...] = field(default_factory=tuple)
