"""The report of a run: a standalone HTML page and a Markdown file with PNG plots.

:func:`write_report` renders a run it is handed (``Run.report`` calls it); it reads the
run only through the run's public methods, so this room imports nothing from
:mod:`promptlab.experiments.analysis`.
"""

from promptlab.experiments.report._sections import MAX_DISAGREEMENTS, Section, report_sections
from promptlab.experiments.report._writer import write_report

__all__ = ["MAX_DISAGREEMENTS", "Section", "report_sections", "write_report"]
