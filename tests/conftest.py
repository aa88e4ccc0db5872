"""Shared fixtures, chained text → article → built (a full build into a temporary folder)."""

from datetime import UTC, datetime

import pytest

from kg.paths import ARTICLE

BUILD_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def article_text():
    """The bundled article, normalised."""
    from kg.text.normalize import normalize

    return normalize(ARTICLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def extracted(article_text):
    """The bundled article, extracted."""
    from kg.extract.article import extract

    return extract(article_text, slug="east-west-st-2022")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """A full build (store and dumps) of the bundled article into a temporary folder, at a fixed build time."""
    from kg.pipeline import build

    return build(out_dir=tmp_path_factory.mktemp("build"), build_time=BUILD_TIME)


@pytest.fixture(scope="session")
def assembled():
    """(text, article, dataset) of the bundled article before the SHACL gate, at a fixed build time; nothing written."""
    from kg.pipeline import assemble

    return assemble(build_time=BUILD_TIME)


def pytest_addoption(parser):
    parser.addoption("--update-snapshots", action="store_true", help="rewrite tests/data/snapshots/ from a fresh build")


@pytest.fixture(scope="session")
def site_build(tmp_path_factory, assembled):
    """Store and dumps for the web pages' tests, written like `kg build` writes them but without the SHACL gate:
    the pages are tested on the assembled data whatever the gate says (the gate has its own tests)."""
    from kg.publish.step import publish

    out = tmp_path_factory.mktemp("site")
    publish(assembled[2], base="https://policykg.example/", build_time=BUILD_TIME, out=out)
    return out


@pytest.fixture(scope="module")
def app(request):
    """The endpoint on tests/data/server/sample.trig, with the test module's APP_CONFIG; one per module."""
    from serverkit import make_app

    app = make_app(**getattr(request.module, "APP_CONFIG", {}))
    yield app
    app.extensions["kg"].close()


@pytest.fixture()
def client(app):
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture()
def canary():
    """A loopback listener that records every connection (tests/canary.py): point IRIs at canary.url, then
    assert canary.received() == []."""
    from canary import Canary

    with Canary() as listening:
        yield listening
