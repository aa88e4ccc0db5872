"""`kg link`: the article's report, and --input for users' own lists of names, with meaningful exit codes."""

import io

import pytest

from kg.cli import main


def rows(text: str) -> dict[str, list[str]]:
    return {line.split("\t")[0]: line.split("\t")[1:] for line in text.splitlines()}


@pytest.fixture
def names(tmp_path):
    def write(*lines: str):
        path = tmp_path / "names.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)
    return write


def test_input_maps_the_issues_names_to_code_level_and_official_name(names, capsys):
    code = main(["link", "--input", names("四川", "广西壮族自治区", "重庆市", "白银", "兰州")])
    out = rows(capsys.readouterr().out)
    assert code == 0
    assert out["四川"][:3] == ["510000", "province", "四川省"]
    assert out["广西壮族自治区"][:3] == ["450000", "province", "广西壮族自治区"]
    assert out["重庆市"][:3] == ["500000", "province", "重庆市"]
    assert out["白银"][:3] == ["620400", "prefecture", "白银市"]
    assert out["兰州"][:3] == ["620100", "prefecture", "兰州市"]


def test_input_reports_zhangjiang_as_an_area_inside_pudong_not_a_division(names, capsys):
    assert main(["link", "--input", names("张江", "上海张江")]) == 0
    out = rows(capsys.readouterr().out)
    for name in ("张江", "上海张江"):
        assert out[name][:2] == ["area:zhangjiang", "area"]
        assert "not a division" in out[name][-1] and "310115 浦东新区" in out[name][-1]


def test_a_name_not_found_is_listed_with_candidates_and_exits_1(names, capsys):
    assert main(["link", "--input", names("四川", "合作")]) == 1
    captured = capsys.readouterr()
    assert rows(captured.out)["合作"][0] == "not found"
    assert "623001 合作市" in rows(captured.out)["合作"][2]
    assert "1 of 2 names not found" in captured.err


def test_comments_and_blank_lines_are_skipped(names, capsys):
    assert main(["link", "--input", names("# provinces", "", "  四川  ")]) == 0
    assert list(rows(capsys.readouterr().out)) == ["四川"]


def test_names_can_come_from_standard_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("兰州\n"))
    assert main(["link", "--input", "-"]) == 0
    assert rows(capsys.readouterr().out)["兰州"][0] == "620100"


def test_a_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["link", "--input", str(tmp_path / "absent.txt")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_file_without_names_is_a_usage_error(names, capsys):
    assert main(["link", "--input", names("# nothing", "")]) == 2
    assert "no names" in capsys.readouterr().err


def test_a_file_that_is_not_utf8_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "gbk.txt"
    path.write_bytes("四川\n".encode("gbk"))
    assert main(["link", "--input", str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_without_input_the_articles_mentions_are_all_linked(capsys):
    assert main(["link"]) == 0
    out = capsys.readouterr().out
    assert "0 not linked" in out and "NOT LINKED" not in out
    assert "linked\t疆\t" in out


def test_a_bad_base_iri_is_a_usage_error(capsys):
    assert main(["link", "--base", "not-an-iri"]) == 2
    assert "base IRI" in capsys.readouterr().err
