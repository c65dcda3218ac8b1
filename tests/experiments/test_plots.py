"""Run.plot: each figure drawn from a hand-written run, checked by what is on its axes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from promptlab.errors import ConfigurationError
from promptlab.experiments.analysis import Run
from promptlab.experiments.plots import FRONT_LABEL, SIGNIFICANT_LABEL, forest_figure


def only_axes(figure: Figure) -> Axes:
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 1
    return figure.axes[0]


def tick_labels(axes: Axes) -> list[str]:
    return [label.get_text() for label in axes.get_yticklabels()]


def errorbar_points(axes: Axes) -> dict[str, list[tuple[float, float]]]:
    """Legend label -> the (x, y) points of each error-bar series on the axes."""
    points: dict[str, list[tuple[float, float]]] = {}
    for container in axes.containers:
        if isinstance(container, ErrorbarContainer):
            line = container.lines[0]
            assert line is not None
            xy = zip(line.get_xdata(), line.get_ydata(), strict=True)
            points[container.get_label()] = [(float(x), float(y)) for x, y in xy]
    return points


def legend_texts(axes: Axes) -> list[str]:
    legend = axes.get_legend()
    return [] if legend is None else [text.get_text() for text in legend.get_texts()]


# -- accuracy -------------------------------------------------------------------------


def test_accuracy_has_one_point_per_arm_and_provider_at_its_accuracy(run: Run) -> None:
    axes = only_axes(run.plot.accuracy())
    assert tick_labels(axes) == [
        "plain · local",
        "plain · api",
        "cot · local",
        "cot · api",
        "sc · local",
        "single · local",
    ]
    points = errorbar_points(axes)
    assert sorted(points) == ["api", "local"]  # one colour (series) per provider
    assert legend_texts(axes) == ["local", "api"]
    assert sorted(points["local"]) == [(0.0, 5), (0.3, 0), (0.7, 2), (1.0, 4)]
    assert sorted(points["api"]) == [(0.5, 1), (0.8, 3)]
    assert axes.get_xlabel() == "mean numeric (95% CI)"
    # plain · local's Wilson interval, [0.108, 0.603], is the error bar around 0.3.
    bars = next(c for c in axes.containers if c.get_label() == "local").lines[2][0]
    segments = [s for s in bars.get_segments() if s[0][1] == 0]
    assert segments[0][:, 0] == pytest.approx([0.108, 0.603], abs=1e-3)


def test_plots_of_empty_tables_draw_empty_axes_without_warnings(run: Run) -> None:
    import warnings

    from promptlab.experiments.plots import accuracy_figure, latency_figure

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. matplotlib's "identical low and high ylims"
        axes = only_axes(accuracy_figure(run.summary().iloc[0:0], "numeric"))
        assert errorbar_points(axes) == {} and tick_labels(axes) == []
        axes = only_axes(forest_figure(run.compare_all().iloc[0:0], "numeric"))
        assert errorbar_points(axes) == {} and axes.get_legend() is None
        assert tick_labels(only_axes(latency_figure({}))) == []


def test_accuracy_with_one_provider_names_arms_only_and_has_no_legend(lopsided: Run) -> None:
    axes = only_axes(lopsided.plot.accuracy())
    assert tick_labels(axes) == ["good", "bad", "half"]
    assert axes.get_legend() is None
    assert sorted(errorbar_points(axes)["local"]) == [(0.0, 1), (0.5, 2), (1.0, 0)]


def test_a_plot_draws_on_the_axes_it_is_given(run: Run) -> None:
    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert run.plot.accuracy(ax=left) is figure
    assert run.plot.latency(ax=right) is figure
    assert len(figure.axes) == 2
    assert len(tick_labels(left)) == 6 and left.get_xlabel() == "mean numeric (95% CI)"
    assert right.get_xlabel() == "latency per cell (s)"


# -- comparisons (forest plot) --------------------------------------------------------


def test_forest_plot_marks_the_comparisons_significant_after_holm(lopsided: Run) -> None:
    axes = only_axes(lopsided.plot.comparisons())
    assert tick_labels(axes) == ["good − bad", "good − half", "bad − half"]
    points = errorbar_points(axes)
    # good vs bad: 20 discordant tasks all one way (p ~ 2e-6); good vs half and bad vs half:
    # 10 (p ~ 0.002, Holm x2 ~ 0.004). All three survive Holm at 0.05.
    assert sorted(points[SIGNIFICANT_LABEL]) == [(-0.5, 2), (0.5, 1), (1.0, 0)]
    assert "not significant" not in points
    assert axes.get_xlabel() == "difference in mean numeric, A − B (95% CI)"
    zero_lines = [line for line in axes.get_lines() if list(line.get_xdata()) == [0, 0]]
    assert len(zero_lines) == 1


def test_forest_plot_leaves_unmarked_what_holm_does_not_reject(run: Run) -> None:
    axes = only_axes(run.plot.comparisons(baseline="plain"))
    assert tick_labels(axes) == [
        "cot − plain (local)",
        "sc − plain (local)",
        "single − plain (local)",
        "cot − plain (api)",
    ]
    points = errorbar_points(axes)
    assert SIGNIFICANT_LABEL not in points  # McNemar p = 0.219 on local, 0.25 on api
    assert len(points["not significant"]) == 4
    assert legend_texts(axes) == ["not significant"]


def test_forest_plot_of_compare_applies_holm_over_its_rows(lopsided: Run) -> None:
    table = lopsided.compare("good", "half")
    assert "significant" not in table.columns
    points = errorbar_points(only_axes(forest_figure(table, "numeric")))
    assert points == {SIGNIFICANT_LABEL: [(0.5, 0.0)]}


def test_forest_plot_by_provider_and_its_errors(run: Run, lopsided: Run) -> None:
    axes = only_axes(run.plot.comparisons(by="provider"))
    assert tick_labels(axes) == ["local − api (plain)", "local − api (cot)"]
    assert axes.get_title() == "Paired differences between providers"
    with pytest.raises(ConfigurationError, match=r"need two providers; this run has \['local'\]"):
        lopsided.plot.comparisons(by="provider")
    with pytest.raises(ConfigurationError, match="scorer='nope' is not in this run"):
        run.plot.comparisons(scorer="nope")


# -- cost and the Pareto front --------------------------------------------------------


def test_cost_plot_marks_the_pareto_front_and_counts_unknown_costs(run: Run) -> None:
    axes = only_axes(run.plot.cost())
    front = [line for line in axes.get_lines() if line.get_label() == FRONT_LABEL]
    assert len(front) == 1
    # cot · local: free and 0.7 accurate, beats plain · local (free, 0.3) and plain · api.
    assert list(front[0].get_xdata()) == [0.0] and list(front[0].get_ydata()) == [0.7]
    dominated = [c for c in axes.collections if c.get_label() == "dominated"]
    offsets = sorted(map(tuple, dominated[0].get_offsets().tolist()))
    assert offsets == [(0.0, 0.3), (pytest.approx(0.001), 0.5)]
    assert "3 arm(s) with unknown cost not shown" in axes.get_title()
    assert axes.get_xlabel() == "cost per task (USD)" and axes.get_ylabel() == "accuracy"
    assert legend_texts(axes) == ["dominated", FRONT_LABEL]
    names = sorted(text.get_text() for text in axes.texts)
    assert names == ["cot · local", "plain · api", "plain · local"]


def test_cost_plot_of_free_arms_uses_tokens_per_task(lopsided: Run) -> None:
    axes = only_axes(lopsided.plot.cost())
    assert axes.get_xlabel() == "tokens per task (every arm is free)"
    front = next(line for line in axes.get_lines() if line.get_label() == FRONT_LABEL)
    # bad (15 tokens, 0.0), half (25, 0.5), good (45, 1.0): each buys accuracy with tokens.
    assert list(front.get_xdata()) == [15.0, 25.0, 45.0]
    assert list(front.get_ydata()) == [0.0, 0.5, 1.0]
    axes = only_axes(lopsided.plot.cost(x="cost"))
    assert axes.get_xlabel() == "cost per task (USD)"
    with pytest.raises(ConfigurationError, match="x='dollars' is not allowed"):
        lopsided.plot.cost(x="dollars")


# -- self-consistency -----------------------------------------------------------------


def test_vote_share_histogram_has_one_outline_per_voting_arm(run: Run) -> None:
    axes = only_axes(run.plot.vote_shares())
    assert legend_texts(axes) == ["sc · local (n=2)"]
    assert len(axes.patches) == 1  # one step outline
    heights = axes.patches[0].get_xy()[:, 1]
    assert heights.max() == 1  # the shares 1/3 and 2/3 fall in different bins
    assert axes.get_xlabel() == "winning answer's share of the votes"
    assert axes.get_xlim() == (0, 1)


def test_majority_at_k_curve_is_the_mean_of_the_tasks_exact_curves(run: Run) -> None:
    axes = only_axes(run.plot.majority_at_k())
    (line,) = axes.get_lines()
    assert line.get_label() == "sc · local"
    assert list(line.get_xdata()) == [1, 2, 3]
    # t01: 2/3, 2/3, 1; t02: 1/3, 1/2, 1/2 (see run_fixtures.sc_records).
    assert np.asarray(line.get_ydata()) == pytest.approx([1 / 2, 7 / 12, 3 / 4])
    assert axes.get_ylabel() == "expected accuracy (maj@k)"


def test_vote_plots_of_a_run_without_voting_arms_say_so(lopsided: Run) -> None:
    with pytest.raises(ConfigurationError, match="no arm of this run votes"):
        lopsided.plot.vote_shares()
    with pytest.raises(ConfigurationError, match="no arm of this run votes"):
        lopsided.plot.majority_at_k()


# -- latency --------------------------------------------------------------------------


def test_latency_plot_draws_every_measured_cell_and_leaves_out_cache_hits(run: Run) -> None:
    axes = only_axes(run.plot.latency())
    labels = tick_labels(axes)
    assert labels[:3] == ["plain · local", "plain · api", "cot · local"]
    dots = {labels[round(c.get_offsets()[:, 1].mean())]: c.get_offsets() for c in axes.collections}
    # plain · local: t01..t10 at 1..10 s (t11 errored); cot · local: t01 was a cache hit.
    assert sorted(dots["plain · local"][:, 0]) == [float(i) for i in range(1, 11)]
    assert sorted(dots["cot · local"][:, 0]) == [float(i) for i in range(2, 11)]
    assert "2 cache hit(s) or errored cell(s) left out" in axes.get_title()


def test_plot_accessor_lists_its_plots(run: Run, tmp_path: Path) -> None:
    assert "accuracy()" in repr(run.plot) and "latency()" in repr(run.plot)
    path = tmp_path / "accuracy.png"
    run.plot.accuracy().savefig(path)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_a_new_figure_shows_itself_as_png_in_jupyter_without_pyplot(run: Run) -> None:
    from IPython.core.formatters import DisplayFormatter

    figure = run.plot.cost()
    data, _ = DisplayFormatter().format(figure)  # what a notebook cell's value shows
    assert data["image/png"].startswith(b"\x89PNG")
