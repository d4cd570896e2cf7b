"""The report printed: the PDF foncier writes with Chromium, and the print layout in Chromium.

The PDF is read back with pypdf (pages, orientation, text of page 1); the
print layout is measured in Playwright with print media emulated: no table
may be wider than the page it prints on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from foncier.outputs import read_manifest
from foncier.report import write_pdf, write_report
from foncier.scenarios import ScenarioResult
from tests.test_browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Width inside the margins of an A4 page in portrait and landscape (report.css), in CSS px.
_PX_PER_MM = 96 / 25.4
PORTRAIT_MM, LANDSCAPE_MM = 210 - 24, 297 - 24
#: What the sample's report may take once printed, annexes included.
MAX_PAGES = 12


@pytest.fixture(scope="module")
def report_page(scenario_dir: Path, sample) -> Path:
    return write_report(scenario_dir, sample)


@pytest.fixture(scope="module")
def pdf(report_page: Path) -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package")
    return write_pdf(report_page, force=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def test_pdf_is_written_beside_the_report_through_the_output_policy(pdf, report_page):
    assert pdf == report_page.with_suffix(".pdf").resolve()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert read_manifest(pdf.parent).files[pdf.name]["kind"] == "report"


def test_pdf_pages(pdf, scenario_dir):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(pdf)
    pages = reader.pages
    assert 1 < len(pages) <= MAX_PAGES
    first = pages[0].extract_text()
    assert "Synthèse pour décision" in first
    result = ScenarioResult.from_folder(scenario_dir)
    n = len(result.unmatched)
    assert f"{n} {'projet' if n <= 1 else 'projets'} sur {result.totals['projects']}" in first
    assert "Hypothèses" in first  # the assumptions box ends page 1
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages}
    assert sizes <= {(595, 842), (842, 595)}  # A4, portrait or landscape
    text = "".join(p.extract_text() for p in pages)
    assert "Carte du scénario" in text and "Annexe : projets placés" in text
    for pid in result.assignments["project_id"]:
        assert pid in text  # the annex lists every placed project


def test_no_table_is_wider_than_its_page_in_print(browser, report_page):
    width = math.floor(PORTRAIT_MM * _PX_PER_MM)
    page = browser.new_page(viewport={"width": width, "height": 1100})
    try:
        page.route(
            "**/*", lambda r: r.abort() if r.request.url.startswith("http") else r.continue_()
        )
        page.goto(report_page.resolve().as_uri())
        page.emulate_media(media="print")
        tables = page.evaluate(
            """() => [...document.querySelectorAll('table')].map(t => ({
                 heading: (t.closest('section') || document.body).querySelector('h2')?.textContent,
                 landscape: !!t.closest('.landscape'),
                 scroll: t.scrollWidth, right: t.getBoundingClientRect().right,
                 fixed: getComputedStyle(t).tableLayout === 'fixed'}))"""
        )
        assert len(tables) >= 5
        for t in tables:
            limit = (LANDSCAPE_MM if t["landscape"] else PORTRAIT_MM) * _PX_PER_MM
            assert t["scroll"] <= limit + 1 and t["right"] <= limit + 1, t
            assert t["fixed"], t
        printed = page.evaluate(
            """() => ({map: getComputedStyle(document.querySelector('.static-map')).display,
                       svg: document.querySelector('.static-map svg').getBoundingClientRect().width,
                       iframe: getComputedStyle(document.querySelector('iframe.map')).display})"""
        )
        assert printed["map"] == "block" and printed["svg"] > 0.8 * width
        assert printed["iframe"] == "none"  # the interactive map is for the screen
        page.emulate_media(media="screen")
        assert (
            page.evaluate("() => getComputedStyle(document.querySelector('iframe.map')).display")
            != "none"
        )
    finally:
        page.close()
