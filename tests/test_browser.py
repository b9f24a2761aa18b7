"""The built site in a real browser: links between pages, backlinks, Russian search.

Drives Debian's chromium through playwright against the fixture site served on
127.0.0.1. Screenshots go to tests/artifacts/ for people to look at.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_site import FIXTURE, make_project

from konspekt import load_glossary
from konspekt.deck.preview import CHROMIUM, CHROMIUM_ARGS
from konspekt.site.build import build_site

ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    project = make_project(tmp_path_factory.mktemp("browser-site"), FIXTURE)
    build_site(load_glossary(project / "cards"), project / "mkdocs.yml", None)
    handler = functools.partial(_QuietHandler, directory=str(project / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium; "
            "run `make chromium` (or `apt-get install chromium`)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    # No network here: Mermaid's CDN script fails at once instead of timing out.
    page.route("https://**/*", lambda route: route.abort())
    try:
        yield page
    finally:
        context.close()


def shot(page: Any, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_topic_link_term_page_backlinks_and_search(page: Any, site_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{site_url}topics/kubernetes/")
    expect(page.locator("h1")).to_contain_text("Kubernetes")
    shot(page, "topic", full_page=True)

    # An inline term link in a definition: «контейнеров» in the definition of Под.
    link = page.locator("#pod ~ p a[href$='glossary/container/']").first
    expect(link).to_have_text("контейнеров")
    expect(link).to_have_attribute(
        "title",
        "Изолированный процесс, запущенный из образа: "
        "своя файловая система и сеть, но общее с хостом ядро.",
    )
    link.click()

    page.wait_for_url("**/glossary/container/")
    expect(page.locator("h1")).to_contain_text("Контейнер")
    backlinks = page.locator("#backlinks + p a")
    expect(backlinks).to_contain_text(["Образ", "Под"])
    expect(page.locator("article .md-tags")).to_be_hidden()  # word forms: search only
    shot(page, "term", full_page=True)

    # Material's tooltip for a term link shows its short definition.
    page.locator("article p a[href='../pod/']").first.hover()
    page.wait_for_timeout(600)
    shot(page, "tooltip")

    # Search understands an inflected form the page never spells out: «подах».
    page.wait_for_load_state("networkidle")  # the search index is loaded by a worker
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("подах", delay=50)
    # Material drops the first query typed after its search worker is ready (it
    # searches on the next keystroke), so type the last letter once more, as people do.
    page.wait_for_timeout(300)
    search.press("Backspace")
    search.press_sequentially("х", delay=50)
    first = page.locator(".md-search-result__item").first
    expect(first).to_be_visible(timeout=15_000)
    expect(first.locator("h1, h2").first).to_have_text("Под")
    shot(page, "search")
    expect(first.locator("a").first).to_have_attribute("href", re.compile(r"glossary/pod/"))


def test_home_index_and_dark_theme(page: Any, site_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(site_url)
    expect(page.locator("h1")).to_contain_text("Конспект DevOps")
    expect(page.locator("article")).to_contain_text("make deck")  # no deck in this build
    shot(page, "home", full_page=True)

    page.locator("article a[href='index-az/']").first.click()
    page.wait_for_url("**/index-az/")
    expect(page.locator("article")).to_contain_text("Ё стоит вместе с Е")
    shot(page, "index", full_page=True)

    page.goto(f"{site_url}glossary/pod/")
    page.locator("label[for='__palette_1']").click()
    expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "slate")
    page.locator("summary", has_text="Из конспекта").click()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    shot(page, "term-dark", full_page=True)
