"""`kg build`: bad input gives one clear line and exit code 2, never a traceback."""

import subprocess
import sys

import pytest


def kg(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        ("科技部印发方案".encode("gbk"), "not UTF-8"),
        ("今天天气很好。\n\n我们去公园散步。\n\n晚上回家吃饭。".encode(), "no "),
    ],
    ids=["missing", "empty", "blank", "not-utf8", "no-plan"],
)
def test_bad_input_is_a_one_line_error_with_exit_code_2(tmp_path, content, message):
    path = tmp_path / "article.txt"
    if content is not None:
        path.write_bytes(content)
    result = kg("build", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("kg build: error: ") and message in line
    assert not (tmp_path / "out").exists()
