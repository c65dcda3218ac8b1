"""Statistics: pure functions on arrays of per-task scores (NumPy/SciPy, no :class:`Run`).

One arm: accuracy with a Wilson, Student-t or cluster-bootstrap interval, latency
percentiles. Two arms: paired tests (McNemar, Wilcoxon, paired bootstrap), Holm-adjusted
comparisons of every pair, and the tasks needed to detect a difference. Also the Pareto
front of cost vs accuracy, and the exact majority@k estimator for self-consistency.

SciPy and statsmodels are imported inside the functions that use them: together they take
about a second to import, which a run that only writes its cells (or a resume with nothing
to do) would otherwise pay before it starts.
"""

from promptlab.experiments.stats._accuracy import (
    ClusterLabels,
    ScoreSummary,
    StatisticsInputError,
    accuracy_summary,
    as_score_array,
    check_confidence,
    check_n_bootstrap,
    cluster_bootstrap_ci,
    is_binary,
    latency_percentiles,
    wilson_interval,
)
from promptlab.experiments.stats._arm_comparison import (
    COMPARISON_COLUMNS,
    PairedScores,
    arm_pairs,
    compare_all_pairs,
    comparison_row,
    holm_adjust,
    pair_on_task_id,
    task_clusters,
    with_holm,
)
from promptlab.experiments.stats._majority import (
    MajorityAtKError,
    exact_majority_at_k_curve,
    majority_at_k,
    majority_at_k_curve,
    mean_majority_at_k_curve,
)
from promptlab.experiments.stats._paired_tests import (
    PairedComparison,
    compare_paired,
    pair_correlation,
    paired_bootstrap_ci,
)
from promptlab.experiments.stats._pareto import pareto_front
from promptlab.experiments.stats._sample_size import (
    TasksNeeded,
    default_discordance,
    tasks_needed,
    tasks_needed_from_scores,
    tasks_needed_graded,
    tasks_needed_unpaired,
)

__all__ = [
    "COMPARISON_COLUMNS",
    "ClusterLabels",
    "MajorityAtKError",
    "PairedComparison",
    "PairedScores",
    "ScoreSummary",
    "StatisticsInputError",
    "TasksNeeded",
    "accuracy_summary",
    "arm_pairs",
    "as_score_array",
    "check_confidence",
    "check_n_bootstrap",
    "cluster_bootstrap_ci",
    "compare_all_pairs",
    "compare_paired",
    "comparison_row",
    "default_discordance",
    "exact_majority_at_k_curve",
    "holm_adjust",
    "is_binary",
    "latency_percentiles",
    "majority_at_k",
    "majority_at_k_curve",
    "mean_majority_at_k_curve",
    "pair_correlation",
    "pair_on_task_id",
    "paired_bootstrap_ci",
    "pareto_front",
    "task_clusters",
    "tasks_needed",
    "tasks_needed_from_scores",
    "tasks_needed_graded",
    "tasks_needed_unpaired",
    "wilson_interval",
    "with_holm",
]
