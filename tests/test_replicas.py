"""Replicas: two `kg serve` processes serving copies of one build answer with the same bytes and the same ETags,
because the dataset version is the build's content digest (issue 13, item 4; issue 11, finding 13)."""

import shutil
import urllib.parse
import urllib.request

import pytest
from serverkit import kg_serve

pytestmark = pytest.mark.slow
QUERIES = ("SELECT ?task ?label WHERE { ?task a <https://policykg.example/def/Task> ; "
           "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?task ?label",
           "DESCRIBE <https://policykg.example/id/plan/east-west-st-2022>")


def ask(base: str, query: str) -> tuple[bytes, str]:
    url = f"{base}/sparql?{urllib.parse.urlencode({'query': query})}"
    # Behind one front every replica sees the same Host: the endpoint URL is part of the answer (relative IRIs).
    headers = {"Accept": "text/turtle, text/csv", "Host": "data.policykg.example"}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as answer:
        return answer.read(), answer.headers["ETag"]


def test_two_replicas_of_one_build_give_the_same_bytes_and_etags(built, tmp_path):
    copies = []
    for name in ("a", "b"):
        copy = tmp_path / name / "store"
        shutil.copytree(built.store, copy)  # new files, new mtimes: only the content is the same
        copies.append(copy)
    with kg_serve("--store", copies[0], "--workers", 1) as (first, _), \
            kg_serve("--store", copies[1], "--workers", 1) as (second, _):
        for query in QUERIES:
            body_a, etag_a = ask(first, query)
            body_b, etag_b = ask(second, query)
            assert body_a and body_a == body_b
            assert etag_a and etag_a == etag_b
