"""What the extractor recovers from an article: plain frozen dataclasses, no RDF."""

from dataclasses import dataclass, field
from datetime import date, datetime


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
    short_name: str  # a programme name such as "科技援X"; empty when the area has none
    short_name_span: Span | None
    headline: str  # the headline objective that opens the area
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
    """The source document: a news report of the plan, or the official text (kind "official"); every part but the
    title is optional, since sources of the genre print different parts."""

    title: str
    title_span: Span
    published: datetime | date | None = None  # a datetime (timezone-aware) when the source prints a time
    published_span: Span | None = None
    source: Mention | None = None  # stated source (来源), an agency
    author: str | None = None
    author_span: Span | None = None
    site: str | None = None  # the publishing website's name, from its tag 【…】
    site_span: Span | None = None
    lede: Span | None = None  # the standfirst sentence under the date line
    context: Span | None = None  # the opening paragraph's statement of why the plan matters
    kind: str = "news"  # "news" | "official"


@dataclass(frozen=True)
class Plan:
    """The policy document the source reports or prints; a part the source does not state is None or empty."""

    title: str  # as printed between the book-title marks 《…》, without them
    title_span: Span
    short_name: str | None = None  # 方案
    short_name_span: Span | None = None
    issuers: tuple[Mention, ...] = ()
    issuer_count_stated: int | None = None  # "九部门" → 9; None where the text states no count (A印发)
    period_name: str | None = None  # 十四五
    period_start: int | None = None
    period_end: int | None = None
    period_span: Span | None = None
    target_year: int | None = None  # the goals' year, when they all share one
    aim: str | None = None  # the overall aim the goals support
    aim_span: Span | None = None
    goals: tuple[Goal, ...] = ()
    areas_stated: int | None = None  # what the summary sentence says ("七个方面" → 7)
    areas_stated_span: Span | None = None
    areas: tuple[TaskArea, ...] = ()
    measures: tuple[Measure, ...] = ()
    outlook: Span | None = None  # the closing sentence on what the plan will achieve
    document_number: Span | None = None  # 发文字号, e.g. 国科发X〔YYYY〕N号
    notice_title: Span | None = None  # 关于印发《…》的通知, the notice that issues the plan
    date_signed: date | None = None  # the official notice's own date (its signature block); never a reprint's
    date_signed_span: Span | None = None


@dataclass(frozen=True)
class Discrepancy:
    """Something the source states that its own body contradicts, kept as a warning with both numbers."""

    kind: str  # "issuer-count"
    span: Span  # where the source states it
    stated: int
    found: int
    note: str


@dataclass(frozen=True)
class Article:
    """Everything recovered from one source document."""

    slug: str
    news: NewsItem
    plan: Plan
    claims: tuple[Claim, ...] = ()
    defects: tuple[Defect, ...] = field(default_factory=tuple)
    warnings: tuple[Discrepancy, ...] = ()
