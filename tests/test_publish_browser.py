"""The published site in Chromium: self-contained, search finds the term first, a styled 404.

Built from the real cards (the queries are the ones learners type) and served on
127.0.0.1 with a 404 handler like GitHub's and GitLab's Pages: the site's 404.html for
any missing path. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_browser import ARTIFACTS, browser  # noqa: F401  (the shared chromium fixture)

from conftest import ROOT, VENDOR, make_project
from konspekt import load_glossary
from konspekt.site.build import build_site, history_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PREFIX = "elsewhere/"  # not the path of site_url (/konspekt/): the 404 must still be styled


class _PagesHandler(http.server.SimpleHTTPRequestHandler):
    """Static files; a missing one gets the site's 404.html, as Pages hosts do."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / PREFIX / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (ROOT / VENDOR / "mermaid.min.js").is_file():
        pytest.fail(f"{VENDOR}/mermaid.min.js is missing: run `make test` (it fetches it)")
    project = make_project(tmp_path_factory.mktemp("published"), ROOT / "cards")
    served = tmp_path_factory.mktemp("served")
    build_site(
        load_glossary(project / "cards"),
        project / "mkdocs.yml",
        None,
        history=history_of(project / "cards"),
        site_dir=served / PREFIX,
    )
    handler = functools.partial(_PagesHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{PREFIX}"
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(served, ignore_errors=True)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    # Anything leaving the origin is recorded above, then refused: no waiting on a network.
    page.route(lambda url: not url.startswith("http://127.0.0.1"), lambda route: route.abort())
    try:
        yield page
    finally:
        context.close()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_no_request_leaves_the_origin_and_diagrams_render(page: Any, site_url: str) -> None:
    from playwright.sync_api import expect

    for path in ("", "topics/kubernetes/", "glossary/pod/", "index-az/", "changes/"):
        page.goto(site_url + path)
        page.wait_for_load_state("networkidle")
    foreign = [url for url in page.requests if origin(url) != origin(site_url)]
    assert foreign == []
    assert any(url.endswith("assets/vendor/mermaid.min.js") for url in page.requests)

    page.goto(site_url + "topics/kubernetes/")
    page.wait_for_load_state("networkidle")
    diagrams = page.locator(".mermaid")
    expect(diagrams.first).to_be_visible()
    # Material draws each diagram into a closed shadow root in place of the source: no
    # <pre> with Mermaid text is left, and each diagram has the height of a drawing.
    expect(page.locator("pre.mermaid")).to_have_count(0)
    shapes = diagrams.evaluate_all(
        "els => els.map(e => [e.tagName, e.textContent.trim(), e.getBoundingClientRect().height])"
    )
    assert len(shapes) >= 3
    for tag, text, height in shapes:
        assert (tag, text) == ("DIV", "") and height > 50
    page.locator("#topic-diagram").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('#topic-diagram').scrollIntoView()")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "diagrams-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("document.querySelector('#topic-diagram').scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "diagrams-phone.png"))


SEARCHES = {
    "подах": "pod",
    "поды": "pod",
    "базового образа": "base-image",
    "образа": "image",
    "мастер-ноды": "control-plane-node",
    "воркер-нодах": "worker-node",
    "деплоймента": "k8s-deployment",
    "докер-файла": "dockerfile",
    "ReplicaSet": "replicaset",
}


@pytest.mark.parametrize(("query", "entry_id"), SEARCHES.items())
def test_search_finds_the_term_first(page: Any, site_url: str, query: str, entry_id: str) -> None:
    from playwright.sync_api import expect

    page.goto(site_url)
    page.wait_for_load_state("networkidle")  # the search index is loaded by a worker
    page.locator("input.md-search__input").click()
    page.keyboard.type(query, delay=30)  # real key events: Material searches on keyup
    # Material drops the first query typed after its search worker is ready (it searches
    # on the next keystroke), so type the last letter once more, as people do.
    page.wait_for_timeout(300)
    page.keyboard.press("Backspace")
    page.keyboard.type(query[-1], delay=30)
    expect(page.locator("input.md-search__input")).to_have_value(query)
    page.wait_for_timeout(500)  # the worker answers the last keyup
    first = page.locator(".md-search-result__item").first
    expect(first).to_be_visible(timeout=15_000)
    link = first.locator("a").first
    href = urlsplit(link.get_attribute("href"))
    assert href.path.endswith(f"/glossary/{entry_id}/"), link.inner_text()
    text = first.locator("article").first.inner_text()
    assert "Словоформы" not in text
    expect(first.locator(".md-tags").first).to_be_hidden()  # the word forms are search-only
    assert len(text.split("\n", 1)[-1].strip()) > 20  # a snippet of the page's own text


def test_404_is_russian_and_styled_under_another_path(page: Any, site_url: str) -> None:
    from playwright.sync_api import expect

    response = page.goto(site_url + "glossary/no-such-term/deeper/")
    assert response is not None and response.status == 404
    expect(page.locator("article h1")).to_have_text("Страница не найдена")
    expect(page).to_have_title("Страница не найдена — Конспект DevOps")
    # Styled: Material's stylesheet from this site, not from /konspekt/ (site_url's path).
    header = page.locator(".md-header")
    assert header.evaluate("e => getComputedStyle(e).position") == "sticky"
    assert origin(site_url) + "/" + PREFIX + "assets/konspekt.css" in page.requests
    page.locator("article a", has_text="главной страницы").click()
    page.wait_for_url(site_url)
    expect(page.locator("h1")).to_contain_text("Конспект DevOps")
    assert all(origin(url) == origin(site_url) for url in page.requests)
