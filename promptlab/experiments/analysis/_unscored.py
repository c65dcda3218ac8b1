"""Cells a scorer could not score: finding them, and saying so out loud.

A scorer gives NaN where it cannot score a cell (perplexity without logprobs, a judge
reply without a readable verdict, a scorer that failed). Statistics leave those cells
out, so they must be counted and named, never dropped in silence: the summary has an
``unscored`` column, comparisons an ``n_unscored`` column, and :func:`warn_unscored`
warns with the count and one example note.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["UnscoredWarning", "unscored_cells", "unscored_message", "warn_unscored"]


class UnscoredWarning(UserWarning):
    """Some successful cells have no usable score for a scorer (they were left out)."""


def unscored_cells(frame: pd.DataFrame, scorer: str) -> pd.DataFrame:
    """Successful cells whose ``score_<scorer>`` is NaN or infinite."""
    scores = frame[f"score_{scorer}"].to_numpy(dtype=np.float64)
    return frame[frame["ok"].to_numpy(dtype=bool) & ~np.isfinite(scores)]


def unscored_message(frame: pd.DataFrame, scorer: str) -> str | None:
    """``"3 of 20 cells have no 'judge' score ... e.g. task 't7' ...: <note>"``, or None."""
    missing = unscored_cells(frame, scorer)
    if missing.empty:
        return None
    ok = int(frame["ok"].sum())
    first = missing.iloc[0]
    notes = first.get("score_notes")
    note = notes.get(scorer) if isinstance(notes, dict) else None
    detail = note if note is not None else f"score {float(first[f'score_{scorer}'])!r}"
    note_text = " ".join(str(detail).split())
    if len(note_text) > 300:
        note_text = note_text[:297] + "..."
    return (
        f"{len(missing)} of {ok} successful cells have no {scorer!r} score and are left out "
        f"of its statistics (counted as 'unscored'); e.g. task {first['task_id']!r}, arm "
        f"{first['arm']!r}, provider {first['provider']!r}: {note_text}"
    )


def warn_unscored(frame: pd.DataFrame, scorer: str, *, stacklevel: int = 3) -> None:
    """Warn (:class:`UnscoredWarning`) when some successful cells have no usable score."""
    message = unscored_message(frame, scorer)
    if message is not None:
        warnings.warn(message, UnscoredWarning, stacklevel=stacklevel)
