"""How a :class:`Run` shows itself: a short ``repr`` and, in a notebook, an HTML card.

The card holds the experiment's name, the cells done and errored, the summary (the
verdict columns first) and the verdicts of the comparisons. Every name and note in it is
HTML-escaped: arm names, provider names and notes are data, never markup.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from promptlab.experiments.analysis._readable import readable_table

if TYPE_CHECKING:
    from promptlab.experiments.analysis._run import Run

__all__ = ["MAX_CARD_COMPARISONS", "run_card_html", "run_repr"]

#: Comparisons listed on a card; the rest are counted (``run.compare_all()`` has them all).
MAX_CARD_COMPARISONS = 8


def _names(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _counts(run: Run) -> tuple[int, int, int | None]:
    """(cells done, cells errored, cells planned or None)."""
    done, cells = run._cell_counts()  # counted at load: the records are not read for this
    planned = run.experiment.get("cells")
    return done, cells - done, planned if isinstance(planned, int) else None


def _progress(run: Run) -> str:
    done, errored, planned = _counts(run)
    text = f"{done} cells done" + (f" of {planned}" if planned is not None else "")
    return text + f", {errored} errored"


def run_repr(run: Run) -> str:
    """``Run('demo': 40 cells done of 40, 0 errored; arms ...; providers ...; scorers ...)``."""
    name = run.experiment.get("name")
    head = f"{name!r}: " if name else ""
    where = f"; at {str(run.run_dir)!r}" if run.run_dir else ""
    return (
        f"Run({head}{_progress(run)}; arms {_names(run.arms)}; providers "
        f"{_names(run.providers)}; scorers {_names(run.scorers) or 'none yet'}{where})"
    )


def run_card_html(run: Run) -> str:
    """The notebook card: name, progress, the summary table, the comparisons' verdicts."""
    name = str(run.experiment.get("name") or "run")
    parts = [
        '<div class="promptlab-run" style="border:1px solid #ccc;border-radius:6px;'
        'padding:8px 12px;max-width:100%;overflow-x:auto">',
        f"<strong>{html.escape(name)}</strong> · {html.escape(_progress(run))}",
    ]
    facts = [f"arms: {_names(run.arms, 8)}", f"providers: {_names(run.providers, 8)}"]
    if run.run_dir is not None:
        facts.append(f"at {run.run_dir}")
    parts.append(f'<div style="color:#555">{html.escape(" · ".join(facts))}</div>')
    if not run.scorers:
        parts.append("<p>No scored cells yet.</p></div>")
        return "".join(parts)
    scorer = run.scorers[0]
    parts.append(f"<p><b>Summary</b> ({html.escape(scorer)}, 95% intervals)</p>")
    parts.append(_html_table(readable_table(run.summary(), wide=False)))
    if len(run.arms) >= 2:
        parts.append(_verdicts(run))
    parts.append(
        '<div style="color:#555">More: run.summary(), run.compare_all(), run.plot.accuracy(), '
        "run.report()</div></div>"
    )
    return "".join(parts)


def _verdicts(run: Run) -> str:
    table = readable_table(run.compare_all(), wide=False)
    extra = len(table) - MAX_CARD_COMPARISONS
    title = "<p><b>Comparisons</b> (paired on task id; Holm-corrected)</p>"
    shown = table.head(MAX_CARD_COMPARISONS)
    note = f"<div>{extra} more in run.compare_all()</div>" if extra > 0 else ""
    return title + _html_table(shown) + note


def _html_table(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
