"""The front's upstream list (server/ops/front.py, `kg front`, `kg serve --upstream`): what nginx is given, and
what is refused before anything starts. The fronts over running replicas are in tests/test_replicas.py."""

import os
import subprocess

import pytest
from serverkit import KG, ROOT, SAMPLE

from server.ops import front


def test_the_configuration_lists_every_replica_and_nginx_accepts_it(tmp_path):
    made = front.Front(listen="127.0.0.1:1", directory=tmp_path, version="v-1",
                       upstreams=("unix:/run/kg/app.sock", "10.0.0.2:8000", "[::1]:8001", "localhost:8002"))
    text = front.config_text(made)
    group = next(line for line in text.splitlines() if "upstream kg_app" in line).strip()
    assert group == ("upstream kg_app { server unix:/run/kg/app.sock; server 10.0.0.2:8000; server [::1]:8001; "
                     "server localhost:8002; keepalive 16; }")
    front.check(front.prepare(made))  # nginx itself accepts it (it resolves host names as it reads them)


@pytest.mark.parametrize("text", ["10.0.0.2", "10.0.0.2:8000; server evil:80", "host:port", "unix:relative.sock",
                                  "http://10.0.0.2:8000", "a b:80", ""])
def test_what_is_not_an_upstream_address_is_refused(text):
    with pytest.raises(ValueError, match="is not an upstream address"):
        front.address(text)


def test_an_upstreams_file_lists_one_address_a_line_with_comments(tmp_path):
    listed = tmp_path / "upstreams"
    listed.write_text("# build 2026-11\n10.0.0.2:8000  # rack a\n\n   10.0.0.3:8000\n")
    assert front.read_upstreams(listed) == ("10.0.0.2:8000", "10.0.0.3:8000")
    listed.write_text("# none yet\n")
    with pytest.raises(ValueError, match="lists no upstream"):
        front.read_upstreams(listed)


def test_install_leaves_the_configuration_in_place_when_nginx_rejects_the_new_one(tmp_path):
    good = front.Front(listen="127.0.0.1:1", upstreams=("127.0.0.1:2",), directory=tmp_path, version="v-1")
    conf = front.install(good)
    before = conf.read_bytes()
    bad = front.Front(listen="127.0.0.1:1", upstreams=("127.0.0.1:2",), directory=tmp_path, version="v-2", workers=-1)
    with pytest.raises(RuntimeError, match="nginx rejected"):
        front.install(bad)
    assert conf.read_bytes() == before


def run_kg(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*KG, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_kg_serve_upstream_without_the_front_is_a_usage_error():
    done = run_kg("serve", "--upstream", "127.0.0.1:1", "--data", str(SAMPLE), "--bind", "127.0.0.1:1")
    assert done.returncode == 2
    assert done.stderr.strip() == "kg serve: error: --upstream needs --front nginx (nginx shares the requests among " \
                                  "the replicas)"


def test_kg_serve_upstream_with_update_enabled_is_a_usage_error():
    done = run_kg("serve", "--front", "nginx", "--upstream", "127.0.0.1:1", "--data", str(SAMPLE), "--bind",
                  "127.0.0.1:1", KG_UPDATE_TOKEN="secret")
    assert done.returncode == 2
    assert "SPARQL Update" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_kg_front_needs_its_replicas_listed(tmp_path):
    assert run_kg("front").returncode == 2  # argparse: one of --upstream, --upstreams
    done = run_kg("front", "--upstreams", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"kg front: error: cannot read {tmp_path / 'missing'}: No such file or directory"
