"""The validation gate's machinery: union of graphs, severities, bilingual messages, renderings, the CLI."""

import json
from pathlib import Path

import pytest
import rdflib

from kg.cli import main
from kg.publish.validate import validate
from kg.rdf.oxi import to_dataset
from kg.rdf.rdffile import RdfSyntaxError, load

DATA = Path(__file__).parent / "data" / "validate"
SHAPES = DATA / "shapes.ttl"
TASK_1_2 = "https://policykg.example/id/plan/p/task/1.2"


@pytest.fixture
def validation():
    assert (DATA / "data.trig").is_file() and SHAPES.is_file()
    return validate(DATA / "data.trig", shapes=SHAPES)


def test_a_violation_fails_the_gate(validation):
    assert not validation.conforms
    assert [r.focus for r in validation.results if r.severity == "Violation"] == [TASK_1_2]


def test_rules_see_every_named_graph_at_once(validation):
    # task 1.1 targets its region in the links graph, not in the facts graph
    assert "https://policykg.example/id/plan/p/task/1.1" not in {r.focus for r in validation.results if r.severity == "Violation"}


def test_warnings_and_infos_alone_do_not_fail_the_gate(tmp_path):
    data = to_dataset(q for q in load(DATA / "data.trig") if q.graph_name.value != "https://policykg.example/graph/provenance")
    result = validate(data, shapes=SHAPES)
    assert result.conforms
    assert (result.count("Violation"), result.count("Warning"), result.count("Info")) == (0, 1, 1)


def test_results_carry_label_path_messages_and_source_shape(validation):
    warning = next(r for r in validation.results if r.severity == "Warning")
    assert warning.focus_label == "任务一"
    assert warning.path == "rdfs:label"
    assert warning.message_zh == "任务的标签少于两个" and warning.message_en == "the task has fewer than two labels"
    assert warning.source_shape == "https://policykg.example/test-shapes/TaskShape-label"


def test_sparql_messages_keep_both_languages(validation):
    violation = validation.results[0]
    assert violation.message_zh == "任务没有针对地区" and violation.message_en == "the task targets no region"


def test_text_report_puts_the_terminal_language_first(validation):
    zh, en = validation.text(lang="zh"), validation.text(lang="en")
    assert zh.startswith("不符合") and en.startswith("Does not conform")
    assert zh.index("任务没有针对地区") < zh.index("the task targets no region")
    assert en.index("the task targets no region") < en.index("任务没有针对地区")
    assert "任务二" in en and "rdfs:label" in en


def test_json_and_turtle_reports_parse(validation):
    document = json.loads(validation.json())
    assert document["conforms"] is False and len(document["results"]) == 3
    report = rdflib.Graph().parse(data=validation.turtle(), format="turtle")
    assert (None, rdflib.SH.conforms, None) in report


def test_data_that_conforms_has_no_results(tmp_path):
    plain = tmp_path / "plain.ttl"
    plain.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    result = validate(plain, shapes=SHAPES)
    assert result.conforms and result.results == ()


def test_malformed_file_names_line_and_column():
    with pytest.raises(RdfSyntaxError) as caught:
        load(DATA / "malformed.ttl")
    assert (caught.value.line, caught.value.column) == (3, 8)
    assert str(caught.value).endswith("malformed.ttl, line 3, column 8: A dot is expected at the end of statements")


def test_cli_exit_codes_mean_conforms_does_not_conform_usage(capsys, tmp_path):
    plain = tmp_path / "plain.ttl"
    plain.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    assert main(["validate", str(plain), "--shapes", str(SHAPES)]) == 0
    assert main(["validate", str(DATA / "data.trig"), "--shapes", str(SHAPES), "--lang", "en"]) == 1
    assert "Does not conform: 1 violation(s)" in capsys.readouterr().out
    assert main(["validate", str(DATA / "malformed.ttl"), "--shapes", str(SHAPES)]) == 2
    assert "line 3, column 8" in capsys.readouterr().err
    assert main(["validate", str(plain), "--shapes", str(DATA / "malformed.ttl")]) == 2
    assert main(["validate", str(tmp_path / "missing.ttl")]) == 2


def test_cli_json_format(capsys):
    assert main(["validate", str(DATA / "data.trig"), "--shapes", str(SHAPES), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["conforms"] is False


def test_text_report_follows_the_terminal_language_by_default(validation, monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert validation.text().startswith("不符合")
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert validation.text().startswith("Does not conform")
