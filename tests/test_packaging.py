"""An installed kg (a wheel in a fresh venv outside the checkout) builds and serves: its ontology, shapes, queries
and sources are package data, and its output goes to the current folder, never into the installation."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from serverkit import ROOT, kg_serve

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
# What a source distribution holds: the packages, the top-level data folders the package links to, the metadata.
SOURCE = ("pyproject.toml", "README.md", "kg", "server", "ontology", "shapes", "queries")
ASK = "ASK { ?plan a <https://policykg.example/def/Plan> }"


def _run(command, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with policykg installed from a wheel built from a copy of the checkout; its dependencies are the
    test venv's (a .pth line: nothing downloaded, and the checkout's editable finder is not loaded)."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    source.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    wheel = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source), "-w", str(tmp / "dist")],
                 cwd=tmp)
    assert wheel.returncode == 0, wheel.stderr
    venv = tmp / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp).returncode == 0
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--quiet", *map(str, (tmp / "dist").glob("policykg-*.whl"))], cwd=tmp)
    assert install.returncode == 0, install.stderr
    return venv


def test_the_installed_package_is_imported_from_the_venv_not_the_checkout(installed, tmp_path):
    where = _run([str(installed / "bin" / "python"), "-c", "import kg, server; print(kg.__file__, server.__file__)"],
                 cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert all(Path(f).is_relative_to(installed) for f in where.stdout.split()), where.stdout


def test_the_installed_kg_builds_serves_and_writes_nothing_into_the_installation(installed, tmp_path):
    kg, site = installed / "bin" / "kg", next(installed.glob("lib/python*/site-packages"))
    before = _files(site)
    out = tmp_path / "build"  # the default output folder, ./build, given explicitly
    build = _run([str(kg), "build", "--out", str(out)], cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    assert "SHACL: conforms" in build.stdout
    assert (out / "store" / "CURRENT").is_file() and (out / "store" / "DATASET_VERSION").is_file()
    assert _run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out / "dumps").returncode == 0
    kg_ttl = (out / "dumps" / "kg.ttl").read_bytes()
    dump = _run([str(kg), "dump"], cwd=tmp_path)  # defaults: ./build/store and ./build/dumps, in the current folder
    assert dump.returncode == 0, dump.stderr
    assert (out / "dumps" / "kg.ttl").read_bytes() == kg_ttl
    assert _files(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]
    with kg_serve("--workers", 1, "--store", out / "store", kg=[str(kg)], cwd=tmp_path) as (url, _):
        query = urllib.parse.urlencode({"query": ASK})
        request = urllib.request.Request(f"{url}/sparql?{query}", headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
            assert json.load(answer) == {"head": {}, "boolean": True}
    assert _files(site) == before
