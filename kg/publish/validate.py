"""SHACL validation as a gate: the union of every graph checked against shapes/policykg.ttl, with a readable report."""

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pyshacl
import rdflib
from rdflib import RDFS, SH, SKOS

from kg import paths
from kg.rdf.oxi import Data, union_graph
from kg.rdf.prefixes import VOCABULARIES
from kg.rdf.rdffile import load

SEVERITY = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
_LABELS = (RDFS.label, SKOS.prefLabel)
_WORDS = {
    "zh": {"Violation": "违规", "Warning": "警告", "Info": "提示", "path": "路径", "value": "值", "shape": "约束"},
    "en": {"Violation": "Violation", "Warning": "Warning", "Info": "Info", "path": "path", "value": "value", "shape": "shape"},
}


def terminal_language() -> str:
    """zh when the locale the terminal asks for (LC_ALL, LC_MESSAGES, LANG, LANGUAGE) is Chinese, otherwise en."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        if value := os.environ.get(name):
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


@dataclass(frozen=True)
class Result:
    """One sh:ValidationResult, flattened for people and machines."""

    severity: str  # Violation | Warning | Info
    focus: str  # IRI (or blank node id) of the focus node
    focus_label: str  # its label in the data ("" when it has none)
    path: str  # compact property path ("" for node-level results)
    value: str  # the offending value ("" when none)
    value_label: str  # its label in the data, when it is a resource that has one
    message_zh: str
    message_en: str
    source_shape: str  # IRI of the shape that produced the result
    component: str  # the constraint component, compacted (sh:MinCountConstraintComponent)


@dataclass(frozen=True)
class Validation:
    """The outcome: conforms means no Violation (warnings and infos do not fail the gate)."""

    conforms: bool
    report_graph: rdflib.Graph
    results: tuple[Result, ...]

    def count(self, severity: str) -> int:
        """How many results have this severity."""
        return sum(1 for r in self.results if r.severity == severity)

    def text(self, *, lang: str | None = None) -> str:
        """The report for a terminal, messages in `lang` (default: the terminal's language) first, then the other."""
        lang = lang or terminal_language()
        summary = {
            "zh": f"{'符合' if self.conforms else '不符合'}：{self.count('Violation')} 个违规，{self.count('Warning')} 个警告，{self.count('Info')} 个提示",
            "en": f"{'Conforms' if self.conforms else 'Does not conform'}: {self.count('Violation')} violation(s), "
            f"{self.count('Warning')} warning(s), {self.count('Info')} info",
        }
        first, second = ("zh", "en") if lang.startswith("zh") else ("en", "zh")
        words = _WORDS[first]
        lines = [summary[first]]
        for r in self.results:
            focus = f"{r.focus_label} <{r.focus}>" if r.focus_label else f"<{r.focus}>"
            lines.append(f"{words[r.severity]}: {focus}")
            if r.path:
                lines.append(f"  {words['path']}: {r.path}")
            if r.value:
                lines.append(f"  {words['value']}: {r.value_label + ' ' if r.value_label else ''}{r.value}")
            for message in dict.fromkeys(m for m in (getattr(r, f"message_{first}"), getattr(r, f"message_{second}")) if m):
                lines.append(f"  {message}")
            lines.append(f"  {words['shape']}: <{r.source_shape}> ({r.component})")
        return "\n".join(lines) + "\n"

    def turtle(self) -> str:
        """The W3C SHACL validation report as Turtle."""
        return self.report_graph.serialize(format="turtle")

    def json(self) -> str:
        """The results as JSON: {"conforms": …, "results": [{severity, focus, …}]}."""
        document = {"conforms": self.conforms, "results": [asdict(r) for r in self.results]}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _as_graph(source: Data | Path | str) -> rdflib.Graph:
    if isinstance(source, str | Path):
        return union_graph(load(Path(source)))
    return union_graph(source)


def _label(graph: rdflib.Graph, node: rdflib.term.Node) -> str:
    labels = [o for p in _LABELS for o in graph.objects(node, p) if isinstance(o, rdflib.Literal)]
    for lang in ("zh", "en", None):
        for label in sorted(labels):
            if label.language == lang:
                return str(label)
    return str(sorted(labels)[0]) if labels else ""


def _text(graph: rdflib.Graph, node: rdflib.term.Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, rdflib.Literal):
        return node.n3(graph.namespace_manager)
    if isinstance(node, rdflib.BNode):
        # a complex property path: render sequences and inverses the SHACL way, in brief
        inverse = graph.value(node, SH.inversePath)
        if inverse is not None:
            return f"^{_text(graph, inverse)}"
        items = list(rdflib.collection.Collection(graph, node)) if graph.value(node, rdflib.RDF.first) else []
        return "/".join(_text(graph, i) for i in items) if items else f"_:{node}"
    return node.n3(graph.namespace_manager)


def _language(message: rdflib.Literal, templates: list[rdflib.Literal]) -> str:
    """The language of a result message: its tag, or, since pySHACL drops the tag of SPARQL messages once it has
    filled in {?var}, the tag of the shape's message that it was made from."""
    if message.language:
        return message.language.split("-")[0]
    for template in templates:
        pattern = re.sub(r"\\\{\\[?$]\w+\\\}", ".*", re.escape(str(template)))
        if template.language and re.fullmatch(pattern, str(message), re.S):
            return template.language.split("-")[0]
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in str(message)) else "en"


def _results(report: rdflib.Graph, data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[Result, ...]:
    for prefix, namespace in VOCABULARIES.items():
        report.bind(prefix, namespace, replace=True)
    out = []
    for node in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        sources = (report.value(node, SH.sourceConstraint), report.value(node, SH.sourceShape))
        templates = [m for source in sources if source is not None for m in shapes.objects(source, SH.message)]
        messages = {_language(m, templates): str(m) for m in report.objects(node, SH.resultMessage)
                    if isinstance(m, rdflib.Literal)}
        focus, value = report.value(node, SH.focusNode), report.value(node, SH.value)
        out.append(
            Result(
                severity=SEVERITY.get(report.value(node, SH.resultSeverity), "Violation"),
                focus=str(focus),
                focus_label=_label(data, focus),
                path=_text(report, report.value(node, SH.resultPath)),
                value=_text(report, value),
                value_label=_label(data, value) if isinstance(value, rdflib.URIRef) else "",
                message_zh=messages.get("zh", ""),
                message_en=messages.get("en", ""),
                source_shape=str(report.value(node, SH.sourceShape)),
                component=_text(report, report.value(node, SH.sourceConstraintComponent)),
            )
        )
    return tuple(sorted(out, key=lambda r: (_ORDER[r.severity], r.focus, r.path, r.source_shape, r.value)))


def validate(
    data: Data | Path | str, *, shapes: Data | Path | str | None = None, ontology: Data | Path | str | None = None
) -> Validation:
    """Validate every graph of `data` as one union graph against the shapes (default shapes/policykg.ttl).

    The ontology (default ontology/policykg.ttl when present) is mixed in so that sh:class sees rdfs:subClassOf;
    no other inference is run. Files are parsed by Oxigraph: a syntax error raises RdfSyntaxError (line, column).
    """
    data_graph = _as_graph(data)
    shapes_graph = _as_graph(paths.SHAPES if shapes is None else shapes)
    if ontology is None and paths.ONTOLOGY.exists():
        ontology = paths.ONTOLOGY
    _conforms, report, _text_report = pyshacl.validate(
        data_graph,
        shacl_graph=shapes_graph,
        ont_graph=None if ontology is None else _as_graph(ontology),
        inference="none",
        allow_warnings=True,  # warnings and infos are reported but do not fail the gate
        allow_infos=True,
        abort_on_first=False,
    )
    if isinstance(report, pyshacl.errors.ValidationFailure):
        raise report  # pySHACL returns, rather than raises, the failure of a shape it cannot run
    results = _results(report, data_graph, shapes_graph)
    return Validation(conforms=not any(r.severity == "Violation" for r in results), report_graph=report, results=results)
