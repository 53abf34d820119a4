"""The built book, opened in a real browser: a copy of the project is built with the smoke
preset (`mu-book build`) and every page of `_toc.yml` is opened in headless Chromium
(Debian's `chromium`, driven by Playwright) at 1400 px. Marked `browser`: the suite leaves
it out and `.ci/run` runs it after the suite (`pytest -m browser`), with Chromium
installed."""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MU_CHROMIUM", "/usr/bin/chromium")
# Chromium as root in a closed network: no sandbox, and no background connections (they are
# refused here, many at a time).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
WIDTH = 1400
PHONE = 390  # a phone's viewport: claims tables must fit it too
# Errors of the theme's own scripts, not of our content: Jupyter Book 1.x loads
# sphinx-thebe's script twice, and the pydata theme logs its unset colour mode.
THEME_NOISE = ("Identifier 'THEBE_JS_URL' has already been declared",
               "Got invalid theme mode")
OWN = "/_static/"  # the theme's assets; our content is the pages and /_images/
PROJECT_FILES = ("_config.yml", "_toc.yml", "book", "notebooks", "mu_core")


def toc_pages() -> list[str]:
    """Every page of `_toc.yml` (its root first), as paths relative to the book root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def chapter_pages() -> list[str]:
    return [page for page in toc_pages() if page.startswith("notebooks/")]


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The HTML book of a copy of the project, built with the smoke preset (or the one
    already built in `$MU_BOOK_HTML`), served on a loopback port: yields its base URL."""
    missing = ([f"no Chromium at {CHROMIUM} (apt-get install chromium, or set MU_CHROMIUM)"]
               * (not Path(CHROMIUM).exists())
               + ["no playwright (pip install playwright)"] * (not _importable("playwright")))
    if missing:
        (pytest.fail if os.environ.get("MU_REQUIRE_BROWSER") == "1" else pytest.skip)(
            "; ".join(missing))
    html = Path(os.environ["MU_BOOK_HTML"]) if os.environ.get("MU_BOOK_HTML") else \
        build_smoke_book(tmp_path_factory.mktemp("book"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def build_smoke_book(project: Path) -> Path:
    """Copy the project's book files to `project`, build them with the smoke preset, and
    return the HTML folder."""
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns(
                "*.results.json", "*.failed.ipynb", ".running-*", ".runs", "figures",
                "__pycache__"))
        else:
            shutil.copy(source, project / name)
    for executed in (project / "book" / "notebooks").glob("*.ipynb"):
        executed.unlink()  # built from this run's chapters only
    built = subprocess.run([sys.executable, "-m", "mu_core.cli", "build", "--preset", "smoke"],
                           cwd=project, capture_output=True, text=True, timeout=3600)
    assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
    return project / "_build" / "html"


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page, opened: its console errors from our own origin, and failed requests."""

    def __init__(self, browser, site: str, page_path: str, width: int = WIDTH):
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        origin = urlparse(site).netloc
        self.page.on("console", lambda m: self._console(m, origin))
        self.page.on("pageerror", self._page_error)
        self.page.on("requestfailed", lambda r: self._failed(r, origin))
        self.url = urljoin(site, page_path + ".html")
        response = self.page.goto(self.url, wait_until="load")
        assert response is not None and response.ok, f"{self.url}: {response and response.status}"

    def _page_error(self, error) -> None:
        if not any(noise in str(error) for noise in THEME_NOISE):
            self.errors.append(f"page error: {error}")

    def _console(self, message, origin: str) -> None:
        where = urlparse(message.location.get("url", ""))
        ours = where.netloc == origin and OWN not in where.path and \
            not where.path.endswith("favicon.ico")
        if message.type == "error" and ours and \
                not any(noise in message.text for noise in THEME_NOISE):
            self.errors.append(f"console: {message.text} ({where.geturl()})")

    def _failed(self, request, origin: str) -> None:
        if urlparse(request.url).netloc == origin and not request.url.endswith("favicon.ico"):
            self.errors.append(f"request failed: {request.url} ({request.failure})")

    def evaluate(self, script: str):
        return self.page.evaluate(script)


@pytest.mark.parametrize("page_path", toc_pages())
def test_every_page_loads_whole_without_errors(browser, site, page_path):
    visit = Visit(browser, site, page_path)
    broken = visit.evaluate("""[...document.images]
        .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)""")
    assert not broken, f"{page_path}: images that did not load: {broken}"
    error_outputs = visit.evaluate("""[...document.querySelectorAll(
        '.output.error, .output.traceback, .cell_output .stderr')]
        .map(e => e.innerText.slice(0, 300))""")
    assert not error_outputs, f"{page_path}: error outputs: {error_outputs}"
    text = visit.evaluate("document.querySelector('main, article, body').innerText")
    assert "Traceback (most recent call last)" not in text, f"{page_path} shows a traceback"
    assert "{glue" not in text, f"{page_path} shows a glue role that was not filled in"
    assert not visit.errors, f"{page_path}: {visit.errors}"
    visit.page.close()


@pytest.mark.parametrize("page_path", chapter_pages())
def test_colab_link_opens_the_committed_notebook(browser, site, page_path):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    repository = urlparse(config["url"]).path.strip("/")
    visit = Visit(browser, site, page_path)
    links = visit.evaluate("""[...document.querySelectorAll('a')].map(a => a.href)
        .filter(h => h.startsWith('https://colab.research.google.com/'))""")
    expected = (f"https://colab.research.google.com/github/{repository}/blob/"
                f"{config['branch']}/{page_path}.ipynb")
    assert links == [expected]
    assert (ROOT / f"{page_path}.ipynb").is_file()
    visit.page.close()


def test_table_of_contents_lists_every_chapter(browser, site):
    visit = Visit(browser, site, toc_pages()[0])
    linked = visit.evaluate("""[...document.querySelectorAll('nav.bd-links a')]
        .map(a => new URL(a.href).pathname)""")
    for page_path in toc_pages()[1:]:
        assert any(path.endswith(f"/{page_path}.html") for path in linked), \
            f"the table of contents has no link to {page_path}"
    visit.page.close()


WIDER_THAN_COLUMN = """(selector => {
    const column = document.querySelector('article.bd-article') || document.body;
    const width = column.getBoundingClientRect().width;
    return [...column.querySelectorAll(selector)]
        .filter(t => t.getBoundingClientRect().width > width + 1)
        .map(t => (t.querySelector('th') || t).innerText.slice(0, 60)
                  + ' (' + Math.round(t.getBoundingClientRect().width) + ' > '
                  + Math.round(width) + ' px)');
})"""


def test_the_verdicts_page_links_each_chapters_claims_and_fits_a_phone(browser, site):
    visit = Visit(browser, site, "verdicts", width=PHONE)
    links = set(visit.evaluate("""[...document.querySelectorAll('article a')]
        .map(a => a.href).filter(h => h.includes('#claims-'))"""))
    for page_path in chapter_pages()[1:]:  # every chapter after the foundations has claims
        slug = page_path.split("/")[-1]
        target = urljoin(site, f"{page_path}.html#claims-{slug.replace('_', '-')}")
        assert target in links, f"the verdicts page has no link to {slug}'s claims"
        chapter = Visit(browser, site, page_path)
        assert chapter.evaluate(f"!!document.getElementById('claims-{slug.replace('_', '-')}')")
        chapter.page.close()
    assert not visit.evaluate(WIDER_THAN_COLUMN + "('table')")
    visit.page.close()


# page -> why it is still wider than a phone (measured 2026-12-07; not strict: the CSS
# rule for inline code below was added after that build and is not yet checked)
WIDER_THAN_A_PHONE: dict[str, str] = {}  # page -> why it is a known, non-strict failure


@pytest.mark.parametrize("page_path", [
    pytest.param(page, marks=pytest.mark.xfail(reason=WIDER_THAN_A_PHONE[page], strict=False))
    if page in WIDER_THAN_A_PHONE else page for page in toc_pages()])
def test_no_page_is_wider_than_a_phone(browser, site, page_path):
    # long identifiers wrap and wide tables scroll inside themselves: the page itself
    # never scrolls sideways at 390 px
    visit = Visit(browser, site, page_path, width=PHONE)
    width = visit.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE + 1, f"{page_path} is {width} px wide on a {PHONE} px phone"
    visit.page.close()


@pytest.mark.parametrize("page_path", chapter_pages()[1:])
def test_claims_tables_fit_a_phone_whole(browser, site, page_path):
    visit = Visit(browser, site, page_path, width=PHONE)
    assert visit.evaluate("document.querySelectorAll('table.mu-claims').length") >= 1
    assert not visit.evaluate(WIDER_THAN_COLUMN + "('table.mu-claims')")
    assert not visit.evaluate("""[...document.querySelectorAll('table.mu-claims td')]
        .some(td => td.innerText.endsWith('...'))"""), "a claims cell is cut"
    visit.page.close()


# chapter -> why a table of it is still wider than the column (strict: it fails once fixed)
@pytest.mark.parametrize("page_path", chapter_pages())
def test_no_table_is_wider_than_the_content_column(browser, site, page_path):
    visit = Visit(browser, site, page_path)
    too_wide = visit.evaluate("""(() => {
        const column = document.querySelector('article.bd-article') || document.body;
        const width = column.getBoundingClientRect().width;
        return [...column.querySelectorAll('table')]
            .filter(t => t.getBoundingClientRect().width > width + 1)
            .map(t => (t.querySelector('th') || t).innerText.slice(0, 60)
                      + ' (' + Math.round(t.getBoundingClientRect().width) + ' > '
                      + Math.round(width) + ' px)');
    })()""")
    assert not too_wide, f"{page_path}: tables wider than the page's column: {too_wide}"
    visit.page.close()


@pytest.mark.parametrize("page_path", chapter_pages())
def test_every_chapter_opens_with_its_findings_box(browser, site, page_path):
    # the box "What this chapter found" (findings.Findings) comes before the first figure,
    # and links to the chapter's claims section where it has claims
    visit = Visit(browser, site, page_path)
    box = visit.evaluate("""(() => {
        const box = document.querySelector('article .mu-findings');
        if (!box) return null;
        const figure = document.querySelector('article .cell_output img');
        const link = box.querySelector('a[href^="#claims-"]');
        return {before: !figure || !!(box.compareDocumentPosition(figure)
                                      & Node.DOCUMENT_POSITION_FOLLOWING),
                text: box.innerText,
                target: link && !!document.getElementById(link.getAttribute('href').slice(1))};
    })()""")
    assert box is not None, f"{page_path} shows no findings box"
    assert box["before"], f"{page_path}: the findings box comes after a figure"
    assert box["text"].startswith("What this chapter found")
    if page_path != chapter_pages()[0]:  # the foundations check no claim
        assert box["target"], f"{page_path}: the box's link finds no claims section"
    visit.page.close()


LEGIBLE_SCALE = 0.5  # a figure drawn smaller than half its size has text under ~9 px


@pytest.mark.parametrize("page_path", chapter_pages())
def test_figures_stay_legible_on_a_phone(browser, site, page_path):
    # at 390 px a figure is drawn at no less than half its natural size (wide ones scroll
    # inside their output), and the page itself still fits the phone
    visit = Visit(browser, site, page_path, width=PHONE)
    shrunk = visit.evaluate(f"""[...document.querySelectorAll('article .cell_output img')]
        .filter(i => i.getBoundingClientRect().width < {LEGIBLE_SCALE} * i.naturalWidth - 1)
        .map(i => i.src.split('/').pop().slice(0, 12) + ': '
                  + Math.round(i.getBoundingClientRect().width) + ' px of ' + i.naturalWidth)""")
    assert not shrunk, f"{page_path}: figures shrunk below legibility at {PHONE} px: {shrunk}"
    if page_path not in WIDER_THAN_A_PHONE:  # known wide: test_no_page_is_wider_than_a_phone
        width = visit.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE + 1, f"{page_path} is {width} px wide on a {PHONE} px phone"
    visit.page.close()
