"""`kg build`'s summary counts only the parts a source gave its plan: a part it lacks is not printed, not even as 0."""

import re

from kg.commands.build import parts
from kg.extract.article import extract
from kg.paths import ROOT
from kg.text.normalize import normalize

GUIDANCE = ROOT / "tests" / "data" / "corpus" / "guidance-six-agencies.txt"
SEED = ROOT / "kg" / "sources" / "article-east-west-st-2022.txt"


def _parts(text: str) -> str:
    return parts(extract(normalize(text), slug="fixture"))


def test_a_source_without_goals_aim_or_measures_prints_none_of_them():
    bare = re.sub(r"\n《意见》提出，到2025年[^\n]+\n|\n在保障措施中[^\n]+\n", "\n", GUIDANCE.read_text(encoding="utf-8"))
    line = _parts(bare)
    assert "goal" not in line and "aim" not in line and "measure" not in line and " 0 " not in f" {line} "
    assert re.fullmatch(r"6 issuing agencies · 4 task areas · \d+ tasks", line), line


def test_the_seed_prints_its_goals_its_one_aim_and_every_other_part():
    line = _parts(SEED.read_text(encoding="utf-8"))
    assert re.fullmatch(r"9 issuing agencies · 4 goals · 1 aim · 7 task areas · \d+ tasks · \d+ measures · 1 claim", line), line
