"""One standalone HTML report per run, plus a Markdown twin with PNGs beside it.

The HTML file needs no network: styles and the explorer's script are inline, its data is
a JSON document in a ``<script type="application/json">`` element, and plots are base64
PNGs. The Markdown file (same name, ``.md``) references the PNGs written next to it as
``<stem>_<plot>.png`` and has no explorer. Text that comes from models is escaped in
both (the explorer's script only ever sets it as text). Records carry no API keys, and
nothing here adds any.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.experiments.plots import figure_png
from promptlab.experiments.report._explorer import embedded_json, explorer_data, run_label
from promptlab.experiments.report._sections import (
    VERDICT_COLUMNS,
    Section,
    diff_section,
    report_sections,
)
from promptlab.experiments.report._tables import html_table, markdown_table

if TYPE_CHECKING:
    from promptlab.experiments.analysis import Run

__all__ = ["write_report"]

# Label columns kept in view while a wide table scrolls sideways.
_FROZEN = ("arm", "provider", "arm_a", "arm_b", "provider_a", "provider_b")
# Placeholder for the file's own size, filled in once the page is assembled.
_SIZE = "\x00size\x00"


def write_report(
    run: Run, path: str | Path, *, scorer: str | None = None, against: Run | None = None
) -> Path:
    """Write ``path`` (HTML) and its Markdown twin; return the HTML path.

    Args:
        run: The run to report on.
        path: The HTML file to write, e.g. ``runs/demo/report.html``.
        scorer: The main score; default: the run's first scorer.
        against: Another run to diff this one against (``Run.diff``): the report then
            opens with the diff, and the explorer shows both runs side by side.
    """
    html_path = Path(path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    sections = report_sections(run, scorer)
    explorer: dict[str, Any] | None = None
    this_label = run_label(run, "this run")
    if run.scorers:
        name = run.scorer_name(scorer)
        if against is None:
            explorer = explorer_data(run, name)
        else:
            diff = run.diff(against, scorer=name)
            changes = run.diff_tasks(against, scorer=name)
            other_label = run_label(against, "other run")
            if other_label == this_label:
                this_label, other_label = f"{this_label} (this)", f"{other_label} (other)"
            sections.insert(0, diff_section(diff, this_label, other_label))
            explorer = explorer_data(run, name, against=against, diff=diff, changes=changes)
    images: dict[str, bytes] = {}
    for section in sections:
        for name, figure, _ in section.figures:
            images[name] = figure_png(figure)
    title = f"promptlab report: {run.experiment.get('name') or html_path.parent.name}"
    if against is not None:
        title += f" (against {run_label(against, 'the other run')})"
    meta = _meta(run)
    # The explorer goes right below the summary, or below the diff when there is one.
    at = min(len(sections), 1)
    page = _html(title, meta, sections, images, explorer, at)
    size = _size_text(page, explorer)
    html_path.write_text(page.replace(_SIZE, size), encoding="utf-8")
    stem = html_path.stem
    for name, png in images.items():
        (html_path.parent / f"{stem}_{name}.png").write_bytes(png)
    markdown = _markdown(title, meta, sections, stem).replace(_SIZE, size)
    html_path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    return html_path


def _size_text(page: str, explorer: dict[str, Any] | None) -> str:
    size = len(page.encode("utf-8"))
    text = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
    if explorer is not None:
        text += f", {len(explorer['cells'])} cells in the explorer"
    return text


def _meta(run: Run) -> list[tuple[str, str]]:
    frame = run.cells
    errors = int((~frame["ok"]).sum()) if "ok" in frame else 0
    ok = frame[frame["ok"]] if "ok" in frame else frame.iloc[0:0]
    samples = int(ok["n_samples"].sum()) if "n_samples" in ok else 0
    truncated = int(ok["truncated"].sum()) if "truncated" in ok else 0
    experiment = run.experiment
    tasks = experiment.get("tasks") or {}
    return [
        ("Tasks", str(tasks.get("count", frame["task_id"].nunique() if len(frame) else 0))),
        ("Arms", ", ".join(run.arms)),
        ("Providers", ", ".join(run.providers)),
        ("Scorers", ", ".join(run.scorers)),
        ("Cells", f"{len(frame)} ({errors} errored)"),
        ("Truncated samples", _truncated_text(truncated, samples)),
        ("Repeats", str(experiment.get("repeats", "–"))),
        ("Seed", str(run.seed)),
        ("promptlab", str(experiment.get("promptlab_version", "–"))),
        ("Generated", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("HTML report size", _SIZE),
    ]


def _truncated_text(truncated: int, samples: int) -> str:
    if not truncated:
        return f"0 of {samples}"
    return (
        f"{truncated} of {samples} cut off by the token limit (max_tokens); they have no "
        "answer unless they finished a final-answer line"
    )


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _html(
    title: str,
    meta: list[tuple[str, str]],
    sections: list[Section],
    images: dict[str, bytes],
    explorer: dict[str, Any] | None,
    explorer_at: int,
) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_asset('report.css')}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<ul class="meta">'
        + "".join(f"<li><b>{html.escape(k)}:</b> {html.escape(v)}</li>" for k, v in meta)
        + "</ul>",
    ]
    for number, section in enumerate(sections):
        if number == explorer_at and explorer is not None:
            parts += _explorer_html(explorer)
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.intro:
            parts.append(f"<p>{html.escape(section.intro)}</p>")
        for caption, table in section.tables:
            if caption:
                parts.append(f"<h3>{html.escape(caption)}</h3>")
            shown = html_table(table, frozen=_FROZEN, verdict=VERDICT_COLUMNS, note_column="note")
            parts.append(f'<div class="scroll">{shown}</div>')
        for name, _, caption in section.figures:
            data = base64.b64encode(images[name]).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    if explorer_at >= len(sections) and explorer is not None:
        parts += _explorer_html(explorer)
    # The script comes last, once the summary tables it freezes columns of are in the page;
    # its two files share one function scope, so it adds no global name.
    code = f"{_asset('explorer_details.js')}\n{_asset('explorer.js')}"
    parts.append(f'<script>"use strict";\n(function () {{\n{code}}})();</script>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _explorer_html(explorer: dict[str, Any]) -> list[str]:
    return [
        '<h2 id="explorer-title">Explorer</h2>',
        '<div id="explorer"><noscript><p>The explorer needs JavaScript; the tables '
        "around it need none.</p></noscript></div>",
        f'<script type="application/json" id="explorer-data">{embedded_json(explorer)}</script>',
    ]


def _markdown(title: str, meta: list[tuple[str, str]], sections: list[Section], stem: str) -> str:
    lines = [f"# {_md(title)}", ""]
    lines += [f"- **{k}:** {_md(v)}" for k, v in meta]
    for section in sections:
        lines += ["", f"## {_md(section.title)}", ""]
        if section.intro:
            lines += [_md(section.intro), ""]
        for caption, table in section.tables:
            if caption:
                lines += [f"### {_md(caption)}", ""]
            lines += [markdown_table(table), ""]
        for name, _, caption in section.figures:
            lines += [f"![{_md(caption)}]({stem}_{name}.png)", ""]
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    # Markdown renderers pass raw HTML through, so model text is escaped here too.
    return html.escape(text, quote=False)
