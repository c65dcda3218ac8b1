"""One standalone HTML report per run, plus a Markdown twin with PNGs beside it.

The HTML file needs no network: styles are inline and plots are base64 PNGs. The
Markdown file (same name, ``.md``) references the PNGs written next to it as
``<stem>_<plot>.png``. Text that comes from models is escaped in both. Records carry no
API keys, and nothing here adds any.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from promptlab.experiments.report._plots import figure_png
from promptlab.experiments.report._sections import Section, report_sections
from promptlab.experiments.report._tables import html_table, markdown_table

if TYPE_CHECKING:
    from promptlab.experiments.analysis import Run

__all__ = ["write_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222;
       padding: 0 1em; }
.scroll { overflow-x: auto; margin: 0.6em 0 1.4em; }
table { border-collapse: collapse; font-size: 0.86em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.55em; text-align: left; vertical-align: top; }
th { background: #f0f3f7; white-space: nowrap; }
td { max-width: 32em; overflow-wrap: break-word; }
img { max-width: 100%; }
.meta { color: #555; }
"""


def write_report(run: Run, path: str | Path, *, scorer: str | None = None) -> Path:
    """Write ``path`` (HTML) and its Markdown twin; return the HTML path.

    Args:
        run: The run to report on.
        path: The HTML file to write, e.g. ``runs/demo/report.html``.
        scorer: The main score; default: the run's first scorer.
    """
    html_path = Path(path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    sections = report_sections(run, scorer)
    images: dict[str, bytes] = {}
    for section in sections:
        for name, figure, _ in section.figures:
            images[name] = figure_png(figure)
    title = f"promptlab report: {run.experiment.get('name') or html_path.parent.name}"
    meta = _meta(run)
    html_path.write_text(_html(title, meta, sections, images), encoding="utf-8")
    stem = html_path.stem
    for name, png in images.items():
        (html_path.parent / f"{stem}_{name}.png").write_bytes(png)
    markdown = _markdown(title, meta, sections, stem)
    html_path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    return html_path


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
    ]


def _truncated_text(truncated: int, samples: int) -> str:
    if not truncated:
        return f"0 of {samples}"
    return (
        f"{truncated} of {samples} cut off by the token limit (max_tokens); they have no "
        "answer unless they finished a final-answer line"
    )


def _html(
    title: str, meta: list[tuple[str, str]], sections: list[Section], images: dict[str, bytes]
) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<ul class="meta">'
        + "".join(f"<li><b>{html.escape(k)}:</b> {html.escape(v)}</li>" for k, v in meta)
        + "</ul>",
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.intro:
            parts.append(f"<p>{html.escape(section.intro)}</p>")
        for caption, table in section.tables:
            if caption:
                parts.append(f"<h3>{html.escape(caption)}</h3>")
            parts.append(f'<div class="scroll">{html_table(table)}</div>')
        for name, _, caption in section.figures:
            data = base64.b64encode(images[name]).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)


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
