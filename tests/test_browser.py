"""The real pages in headless Chromium (Debian's), served by gunicorn: language switch, tile map, plan page, YASGUI,
SHACL.

Screenshots go to build/screenshots/. Any request to a host other than the service fails the test.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from serverkit import kg_serve

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("KG_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "build" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INVALID = ('@prefix pkg: <https://policykg.example/def/> .\n'
           '<https://policykg.example/id/plan/x/task/1.1> a pkg:Task .\n')


@pytest.fixture(scope="module")
def service(site_build):
    """`kg serve` (gunicorn) on the test build, on a free loopback port."""
    env = {"KG_DUMPS": str(site_build / "dumps"), "KG_EXECUTORS": "1"}
    with kg_serve("--workers", "1", "--store", site_build / "store", env=env) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, service):
    """A fresh page (Chinese locale) that aborts and records any request leaving the service."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    own = urlsplit(service).netloc

    def elsewhere(url: str) -> bool:
        return urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != own

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    # Only foreign requests are intercepted (intercepting our own would drop multipart upload bodies in Chromium).
    context.route(elsewhere, refuse)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()
    assert outside == [], f"requests to other hosts: {outside}"


def shot(page, name: str, *, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def test_landing_page_switches_language_and_a_tile_leads_to_its_region(page, service):
    page.goto(service + "/")
    assert "方案 (1)" in page.inner_text("#plans-h")
    page.keyboard.press("Tab")  # keyboard users first meet the skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    page.wait_for_function("document.querySelector('#chart-regions') && "
                           "document.querySelector('#chart-regions').parentElement.classList.contains('charted')")
    shot(page, "landing-zh")
    page.click("#lang-switch")
    page.wait_for_selector("html[lang=en]")
    assert "Plans (1)" in page.inner_text("#plans-h")
    page.goto(service + "/")  # the choice is remembered
    assert page.get_attribute("html", "lang") == "en"
    shot(page, "landing-en")
    page.click('a.tile[data-code="650000"]')
    page.wait_for_url("**/id/region/650000")
    assert "Xinjiang" in page.inner_text("h1")
    shot(page, "region-650000")


def test_a_plan_leads_from_the_landing_page_to_its_page_with_diagram_charts_and_sources(page, service):
    page.goto(service + "/?lang=en")
    issuers, areas = (page.inner_text(f'tr.plan-row td[data-count="{name}"]') for name in ("issuers", "areas"))
    page.click("a.plan-link")
    page.wait_for_url("**/id/plan/east-west-st-2022")
    assert f"Task areas ({areas})" in page.inner_text("#areas-h")
    assert page.inner_text('.plan-counts li[data-count="issuers"] strong') == issuers
    page.wait_for_function("document.querySelector('#chart-themes') && "
                           "document.querySelector('#chart-themes').parentElement.classList.contains('charted')")
    assert page.locator("table.sources tr.source").count() == 2
    assert page.locator("ul.lacks li a.defect").count() == 4
    shot(page, "plan-east-west")


def test_landing_and_plan_pages_fit_a_phone_screen(browser, service):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    widths = {}
    for name, path in (("landing-phone", "/"), ("plan-phone", "/id/plan/east-west-st-2022")):
        page.goto(service + path)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
        shot(page, name)
    context.close()
    assert all(width <= 390 for width in widths.values()), widths


def test_example_query_runs_in_yasgui_and_shows_rows(page, service):
    page.goto(service + "/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.click('a[role=tab]:has-text("tasks-for-xinjiang")')
    page.click(".yasqe_queryButton:visible")
    rows = page.wait_for_selector(".yasr .dataTable tbody tr:visible")
    assert rows is not None
    text = page.inner_text(".yasr:visible")
    assert "task/1.1" in text or "1.1" in text
    shot(page, "sparql-yasgui")


def test_invalid_turtle_file_on_the_shacl_page_shows_the_violation(page, service, tmp_path):
    bad = tmp_path / "invalid.ttl"
    bad.write_text(INVALID, encoding="utf-8")
    page.goto(service + "/shacl")
    page.set_input_files("#data_file", str(bad))
    with page.expect_navigation():
        page.click("#validate")
    page.wait_for_selector("#report .sev-Violation")
    assert "不符合" in page.inner_text("#verdict")
    shot(page, "shacl-violation")


def test_pages_work_without_scripts_and_the_article_highlights_spans(browser, service):
    context = browser.new_context(locale="en", java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(service + "/doc/article/east-west-st-2022?span=470,490#char=470,490")
    assert page.locator(".clean a.hl").count() > 40
    assert page.locator(".clean a.hl.selected").count() >= 1
    assert page.locator(".raw mark").count() > 100
    shot(page, "article", full=False)
    page.goto(service + "/")  # pictures are server-side SVG and HTML: only the bar charts need scripts
    assert page.locator("svg.tilemap a.tile").count() >= 31 and page.locator("a.plan-link").count() >= 1
    page.goto(service + "/id/plan/east-west-st-2022")
    assert page.locator("svg.tilemap a.tile").count() >= 31 and page.locator(".tree a.node.task").count() >= 10
    assert page.locator("table.states td.no").count() >= 4
    page.goto(service + "/sparql")  # without scripts the plain query form is there instead of YASGUI
    assert page.locator("#plain-form").is_visible()
    context.close()

