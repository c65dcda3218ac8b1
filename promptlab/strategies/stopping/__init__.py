"""Stopping rules for self-consistency: after each batch of samples, stop or draw more?

A rule looks at the ordered answers extracted so far (``None`` = nothing extractable; a
``None`` costs a sample but never counts as a vote) and returns a `StopDecision`. The
sampler owns the budget: it draws batches planned by `plan_batches` and asks the rule after
each one; if the rule never says stop, sampling ends at ``max_n``. `SamplingLoop` is that
loop's state, with no drawing of its own; `sample_until_stop` runs it with an async draw and
`sample_until_stop_sync` with a blocking one, as `SelfConsistency` does.

Rules:
    * `FixedN`: never stops early (plain self-consistency, Wang et al. 2022).
    * `BetaStop`: Adaptive-Consistency's Beta criterion (Aggarwal et al. 2023, arXiv
      2305.11860, their default). Compares the two most frequent answers: stops when
      P(p > 1/2) for p ~ Beta(lead + 1, runner_up + 1) reaches a threshold.
    * `DirichletStop`: the paper's Dirichlet criterion, over *all* answers seen: stops when
      the posterior probability that the leading answer is the true mode reaches a
      threshold. With three or more answers it is more cautious than `BetaStop` (more
      samples); with one or two answers the two rules agree.
    * `WindowStop`: Early-Stopping Self-Consistency (Li et al. 2024, arXiv 2401.10480).
      Stops when the last ``window`` samples agree.
    * `UnbeatableStop`: stops when the leader can no longer be overtaken within the
      sample budget, so the answer is always the one the full budget would give (zero
      accuracy change by construction).
    * `PredictiveStop`: stops when the posterior predictive probability that the leader
      is still ahead once the whole budget is drawn reaches a threshold.
    * `FinalVoteStop`: stops when the exact posterior predictive probability that the vote
      now is also the vote of the whole budget (every answer, unseen answers, ties as the
      vote breaks them) reaches a threshold; it includes `UnbeatableStop`.
    * `AnyStop`: combines rules; stops as soon as one of them says stop, e.g.
      ``AnyStop(UnbeatableStop(), BetaStop(0.95))``.

Budget-aware rules (`UnbeatableStop`, `PredictiveStop`, `FinalVoteStop`, and `AnyStop`
holding one) need the sample budget. `sample_until_stop` gives it to them through
``for_budget(max_n)``, an optional method of a rule that returns a copy bound to that
budget; `SelfConsistency` passes its ``n``, so
``SelfConsistency(..., n=16, stopping=UnbeatableStop())`` just works.

Every reason starts with the rule's tag (``"beta:"``, ``"dirichlet:"``, ``"window:"``,
``"fixed:"``, ``"unbeatable:"``, ``"predictive:"``, ``"final_vote:"``); the loop's own reasons are
``"max n=N reached"`` and ``"fixed n=N"``. Logs can be parsed.
"""

from promptlab.strategies.stopping._budget import (
    FinalVoteStop,
    PredictiveStop,
    UnbeatableStop,
    final_vote_probability,
    lead_holds_probability,
)
from promptlab.strategies.stopping._loop import (
    SamplingLoop,
    plan_batches,
    sample_until_stop,
    sample_until_stop_sync,
)
from promptlab.strategies.stopping._posterior import (
    BetaStop,
    DirichletStop,
    beta_lead_probability,
    dirichlet_lead_probability,
)
from promptlab.strategies.stopping._rule import (
    AnyStop,
    FixedN,
    StopDecision,
    StoppingParameterError,
    StoppingRule,
    WindowStop,
    with_budget,
)

__all__ = [
    "AnyStop",
    "BetaStop",
    "DirichletStop",
    "FinalVoteStop",
    "FixedN",
    "PredictiveStop",
    "SamplingLoop",
    "StopDecision",
    "StoppingParameterError",
    "StoppingRule",
    "UnbeatableStop",
    "WindowStop",
    "beta_lead_probability",
    "dirichlet_lead_probability",
    "final_vote_probability",
    "lead_holds_probability",
    "plan_batches",
    "sample_until_stop",
    "sample_until_stop_sync",
    "with_budget",
]
