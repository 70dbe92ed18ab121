"""The concordance report's HTML in Chromium, as a researcher opens it: the answer first, offline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.report import ReportSettings, build_report
from analysis.report_html import render_html
from tests.analysis.test_report_verdicts import SCALE, _ratings

COLOURS = {  # the CSS of analysis.report_html, as Chromium computes it
    "v-better": "rgb(27, 120, 55)",
    "v-same": "rgb(166, 219, 160)",
    "v-worse": "rgb(214, 96, 77)",
    "v-withheld": "rgb(217, 217, 217)",
}


def test_overview_first_matrix_coloured_by_verdict_no_network(browser, tmp_path: Path) -> None:
    reliable = _ratings(1, 150, noise=0.05, domains=("news",), judge_noise=0.05)
    unreliable = _ratings(2, 150, noise=0.8, domains=("stories",))
    report = build_report(
        pd.concat([reliable, unreliable]),
        title="two domains",
        settings=ReportSettings(n_resamples=200, scales=SCALE),
    )
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.goto(path.as_uri())
    # The first heading after the title is the overview, and it is on the first screen.
    headings = page.locator("h1, h2").all_inner_texts()
    assert headings[:2] == ["two domains", "Overview: can the judges replace people here?"]
    overview = page.locator("#overview")
    assert overview.bounding_box()["y"] < 200
    # The long tables are folded.
    assert page.locator("details.domain").count() == 2
    assert not page.locator("details.domain").first.evaluate("d => d.open")
    cells = page.locator("table.matrix td[data-verdict]")
    seen = {}
    for i in range(cells.count()):
        cell = cells.nth(i)
        verdict = cell.get_attribute("data-verdict")
        seen[verdict] = cell.evaluate("c => getComputedStyle(c).backgroundColor")
    assert "v-withheld" in seen and len(seen) >= 2
    for verdict, colour in seen.items():
        assert colour == COLOURS[verdict]
    # The grey cell is the unreliable domain's, and says why.
    stories = page.locator("h3", has_text="stories").locator("xpath=following-sibling::table[2]")
    assert stories.locator("td").first.get_attribute("data-verdict") == "v-withheld"
    assert "unreliable reference" in stories.locator("td").first.inner_text()
    assert page.locator("svg[aria-label^='news: gap in α']").count() == 1
    page.screenshot(path=str(tmp_path / "overview.png"))
    assert [u for u in requests if not u.startswith("file:")] == []
    context.close()
