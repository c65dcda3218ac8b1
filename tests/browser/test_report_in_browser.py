"""The HTML report as a person sees it, in headless Chromium: filters, details, the run diff.

Expected numbers come from the runs themselves (``Run`` tables), not from the page, so a
filter that shows the wrong rows fails. Two screenshots, taken here, are the README's
(``PROMPTLAB_SCREENSHOTS=docs/images`` refreshes them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from promptlab.experiments.analysis import Run
from tests.browser.scenes import PAYLOADS, arithmetic_run, hostile_run, large_run

pytestmark = pytest.mark.browser

ZS, COT, SC = "zero_shot", "chain_of_thought", "self_consistency"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("browser")
    before = arithmetic_run(folder / "before", skill=0.45)
    after = arithmetic_run(folder / "after", skill=0.7)
    return {
        "before": before,
        "after": after,
        "single": after.report(folder / "after" / "report.html"),
        "diff": after.report(folder / "after" / "diff.html", against=before),
    }


def open_report(page: Any, path: Path, fragment: str = "") -> None:
    page.goto(path.as_uri() + fragment)
    page.wait_for_selector("#explorer-count")


def shown_count(page: Any) -> int:
    text = page.locator("#explorer-count").inner_text()
    match = re.search(r"(\d+) of (\d+) tasks", text)
    assert match is not None, text
    return int(match.group(1))


def click_filter(page: Any, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def scores(run: Run) -> dict[str, dict[str, float]]:
    """Task id -> arm -> score (one provider, one repeat)."""
    table: dict[str, dict[str, float]] = {}
    for record in run.records:
        table.setdefault(record.task_id, {})[record.arm] = record.scores["numeric"]
    return table


def test_filters_show_the_tasks_the_run_says(page: Any, runs: dict[str, Any]) -> None:
    run = runs["after"]
    by_task = scores(run)
    open_report(page, runs["single"])
    assert shown_count(page) == 30
    # Rows are drawn on demand: the page holds a screenful, not every task.
    assert page.locator(".grid-body .grid-row").count() < 30 + 1

    click_filter(page, "Failures")
    failing = [t for t, s in by_task.items() if min(s.values()) < 1]
    assert shown_count(page) == len(failing) > 0
    first = page.locator(".grid-body .grid-row").first
    assert first.locator(".result.fail").count() >= 1

    click_filter(page, "Passes")
    assert shown_count(page) == sum(min(s.values()) == 1 for s in by_task.values())

    click_filter(page, "Arms disagree")
    assert shown_count(page) == len(run.disagreements()) > 0

    page.select_option("#pair-a", index=0)  # zero_shot right ...
    page.select_option("#pair-b", index=1)  # ... chain_of_thought wrong
    assert page.get_by_role("button", name="A right, B wrong").get_attribute("aria-pressed")
    expected = sum(s[ZS] == 1 and s[COT] == 0 for s in by_task.values())
    assert shown_count(page) == expected

    click_filter(page, "Errors")
    assert shown_count(page) == 0
    assert page.locator(".empty").is_visible()

    click_filter(page, "All")
    page.fill("#explorer-search", "apples")
    apples = {
        r.task_id
        for r in run.records
        if any("apples" in m["content"].lower() for m in r.messages)
        or any("apples" in o.lower() for o in r.outputs)
    }
    page.wait_for_function(
        f"document.querySelector('#explorer-count').textContent.startsWith('{len(apples)} of')"
    )
    page.check("#explorer-regex")
    page.fill("#explorer-search", "^arith-0[1-5]$")
    page.wait_for_function(
        "document.querySelector('#explorer-count').textContent.startsWith('5 of')"
    )
    page.fill("#explorer-search", "(")
    page.wait_for_function(
        "document.querySelector('#explorer-count').textContent"
        ".includes('not a valid regular expression')"
    )


def test_sorting_by_an_arm_puts_its_failures_first_then_last(
    page: Any, runs: dict[str, Any]
) -> None:
    open_report(page, runs["single"])
    header = page.locator(".grid-head .grid-cell", has_text="zero_shot · model")
    header.click()
    assert "fail" in page.locator(".grid-body .grid-row").first.locator(
        ".result"
    ).first.get_attribute("class")
    header.click()
    assert "pass" in page.locator(".grid-body .grid-row").first.locator(
        ".result"
    ).first.get_attribute("class")
    assert "d=desc" in page.url


def test_a_task_opens_with_prompt_samples_votes_and_the_link_keeps_it(
    page: Any, runs: dict[str, Any], browser: Any
) -> None:
    run = runs["after"]
    record = next(r for r in run.records if r.arm == SC and r.task_id == "arith-04")
    open_report(page, runs["single"])
    click_filter(page, "Failures")
    page.locator(".grid-row[data-task='arith-04']").click()
    details = page.locator("#explorer-details")
    assert details.locator("h3").inner_text() == "Task arith-04"
    card = details.locator(".card").nth(2)
    assert card.locator("h4").inner_text().startswith("self_consistency · model")
    assert card.locator(".sample").count() == len(record.outputs) == 5
    card.locator("details.prompt > summary").click()
    assert card.locator(".message").count() == len(record.messages) >= 1
    assert record.messages[-1]["content"] in card.locator(".message pre").last.inner_text()
    facts = card.locator(".facts").inner_text()
    assert record.votes is not None
    for answer, count in record.votes.items():
        assert f"{answer}: {count}" in facts
    assert f"{record.confidence:.3f}" in facts and "stop reason" in facts
    assert "tokens" in facts and "latency" in facts and "cost" in facts

    link = page.url
    assert "f=failures" in link and "t=arith-04" in link
    other = browser.new_page(viewport={"width": 1400, "height": 900})
    open_report(other, runs["single"], "#" + link.split("#", 1)[1])
    pressed = other.locator(".filters button[aria-pressed='true']").inner_text()
    assert pressed == "Failures"
    assert other.locator("#explorer-details h3").inner_text() == "Task arith-04"
    other.close()


@pytest.mark.parametrize("width", [1280, 1400, 1920])
def test_the_comparison_verdict_is_in_view_and_notes_go_under_the_row(
    browser: Any, runs: dict[str, Any], width: int
) -> None:
    # At 1400 px the comparisons table once ran off the right edge: p_adjusted,
    # significant and the note were off-screen, and a long note made every row tall.
    page = browser.new_page(viewport={"width": width, "height": 900})
    open_report(page, runs["diff"])
    for heading in ("Comparisons (paired on task id)", "Run diff: after against before"):
        table = page.locator(f"h2:text-is('{heading}') ~ .scroll table").first
        for name in ("diff", "95% CI of diff", "p_adjusted", "significant"):
            cell = table.locator(f"th:text-is('{name}')")
            box = cell.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width, (heading, name, box)
        assert table.locator("th:text-is('note')").count() == 0
        rows = table.locator("tbody tr:not(.note)")
        heights = [rows.nth(i).bounding_box()["height"] for i in range(rows.count())]
        assert max(heights) < 40, heights  # one line each
    comparisons = page.locator(
        "h2:text-is('Comparisons (paired on task id)') ~ .scroll table"
    ).first
    assert "discordant" in comparisons.locator("tr.note").first.inner_text()
    page.close()


def test_run_diff_counts_and_side_by_side_view(
    page: Any, runs: dict[str, Any], screenshots: Path
) -> None:
    after, before = runs["after"], runs["before"]
    diff = after.diff(before)
    changes = after.diff_tasks(before)
    open_report(page, runs["diff"])
    table = page.locator("h2:text-is('Run diff: after against before') ~ .scroll table").first
    for row in diff.itertuples(index=False):
        line = table.locator("tbody tr:not(.note)", has=page.locator(f"td:text-is('{row.arm}')"))
        cells = line.locator("td").all_inner_texts()
        assert cells[3:6] == [str(row.improved), str(row.regressed), str(row.same)], cells

    click_filter(page, "Regressed")
    regressed = set(changes.loc[changes["change"] == "regressed", "task_id"])
    assert shown_count(page) == len(regressed) > 0
    click_filter(page, "Improved")
    improved = set(changes.loc[changes["change"] == "improved", "task_id"])
    assert shown_count(page) == len(improved) > 0
    rows = page.locator(".grid-body .grid-row")
    assert rows.first.locator(".change.improved").count() >= 1
    # Six result columns are wider than the page: the table scrolls in its own frame,
    # with the task column frozen at its left edge.
    grid = page.locator("#explorer-grid")
    frame = grid.bounding_box()
    assert grid.evaluate("g => g.scrollWidth > g.clientWidth")
    grid.evaluate("g => g.scrollLeft = 400")
    task_cell = rows.first.locator(".task-id").bounding_box()
    assert abs(task_cell["x"] - frame["x"]) <= 2, (task_cell, frame)
    assert frame["x"] + frame["width"] <= 1400
    grid.evaluate("g => g.scrollLeft = 0")

    click_filter(page, "Changed")
    assert shown_count(page) == len(improved | regressed)
    task = sorted(regressed)[0]
    page.locator(f".grid-row[data-task='{task}']").click()
    cards = page.locator("#explorer-details .card")
    assert cards.count() == 6  # three arms, each run beside the other
    this, other = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert this["y"] == other["y"] and this["x"] < other["x"]
    assert cards.nth(0).locator(".run-tag").inner_text() == "after"
    assert cards.nth(1).locator(".run-tag").inner_text() == "before"
    page.screenshot(
        path=str(screenshots / "report_diff.png"), full_page=True, clip=_through_details(page)
    )


def test_summary_and_explorer_screenshot(
    page: Any, runs: dict[str, Any], screenshots: Path
) -> None:
    open_report(page, runs["single"], "#f=disagree&t=arith-20")
    assert page.locator("#explorer-details h3").inner_text() == "Task arith-20"
    assert page.locator(".grid-row.selected[data-task='arith-20']").count() == 1
    path = screenshots / "report_explorer.png"
    page.screenshot(path=str(path), full_page=True, clip=_through_details(page))
    assert path.read_bytes().startswith(b"\x89PNG")


def _through_details(page: Any) -> dict[str, float]:
    """From the top of the page to the bottom of the first row of detail cards."""
    card = page.locator("#explorer-details .card").first.bounding_box()
    scroll = page.evaluate("window.scrollY")
    return {
        "x": 0,
        "y": 0,
        "width": page.viewport_size["width"],
        "height": card["y"] + scroll + min(card["height"], 560) + 16,
    }


def test_untrusted_text_is_shown_and_never_runs(page: Any, tmp_path: Path) -> None:
    run = hostile_run(tmp_path / "hostile")
    report = run.report(tmp_path / "hostile" / "report.html")
    open_report(page, report)
    assert shown_count(page) == len(PAYLOADS)
    rows = page.locator(".grid-body .grid-row")
    for i in range(rows.count()):
        rows.nth(i).click()
        page.eval_on_selector_all(
            "#explorer-details details", "ds => ds.forEach(d => d.open = true)"
        )
        shown = page.locator("#explorer-details").inner_text()
        task = rows.nth(i).get_attribute("data-task")
        payload = next(p for p in PAYLOADS if task.endswith(p))
        assert payload in shown  # shown as text, in full
        assert page.locator("#explorer-details .passage").count() == 2  # one per arm
    assert page.evaluate("window.__pwned") is None
    # The only images are the report's own plots; no markup from the data became elements.
    sources = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.getAttribute('src'))")
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert page.locator("#explorer svg, #explorer script, table script").count() == 0


def test_a_ten_thousand_cell_run_draws_only_what_is_on_screen(page: Any, tmp_path: Path) -> None:
    report = large_run(tmp_path / "large", 5000).report(tmp_path / "large" / "report.html")
    assert "10000 cells in the explorer" in report.read_text(encoding="utf-8")
    open_report(page, report)
    assert shown_count(page) == 5000
    assert page.locator(".grid-body .grid-row").count() < 60
    grid = page.locator("#explorer-grid")
    grid.evaluate("g => g.scrollTop = g.scrollHeight")
    page.wait_for_selector(".grid-row[data-task='q04999']")
    assert page.locator(".grid-body .grid-row").count() < 60
    # A long reply is cut in the table and whole in the details.
    row = page.locator(".grid-row[data-task='q04999']")
    assert len(row.locator(".snippet").first.inner_text()) <= 200
    row.click()
    assert "word " * 400 in page.locator("#explorer-details .sample pre").first.inner_text()
    click_filter(page, "Failures")
    assert shown_count(page) == sum(1 for i in range(5000) if i % 3 != 0)
