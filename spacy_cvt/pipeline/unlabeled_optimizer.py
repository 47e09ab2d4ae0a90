"""How a CVT component uses the pipeline's optimizer: the unlabeled steps' own state, scaled rates.

The paper alternates a labeled and an unlabeled step with one SGD-with-momentum
optimizer. spaCy trains with Adam, and two things matter there:

- **Own moment estimates.** Adam divides each step by a running estimate of the
  gradient's scale. Shared between the phases, that estimate is dominated by the
  unlabeled loss (a sum over four views, on more tokens), which shrinks the
  labeled steps. The unlabeled steps therefore keep their own Adam state: the
  same parameters, learning-rate schedule and settings, under their own keys.
- **A ramp.** Early on the primary module predicts the majority label almost
  everywhere (``O`` for ~97% of WNUT-17's tokens); learning from that teacher at
  full strength pulls the shared encoder towards it. The unlabeled steps'
  learning rate ramps linearly from 0 over ``unlabeled_warmup_steps``, the usual
  consistency ramp-up of semi-supervised learning, applied to the learning rate
  because Adam would undo a loss weight.

A component's ``learn_rate_scale`` multiplies the rate of both phases: a BiLSTM head
trained from scratch on a transformer that is fine-tuned at 5e-5 learns next to nothing
at that rate (dev F1 0.0 at step 200 of SemEval-14 aspects with the default model), and
the cvt configs train the same network at 2e-3, 40 times more.

Measured on WNUT-17 (small config, GloVe, dev F1, same seed): supervised 30.1 at
step 450; CVT with shared Adam state 0.0 at 450; own state without the ramp 0.0
at 450; shared state with the ramp 0.0 at 900; own state with a 500-step ramp
18.4 at 450 and 36.4 at 900.
"""

from typing import Tuple

from thinc.api import Optimizer
from thinc.types import FloatsXd

STATE_SUFFIX = "#unlabeled"


def warmup_scale(step: int, warmup_steps: int) -> float:
    """Learning-rate multiplier for the ``step``-th unlabeled step (1-based): linear 0 -> 1."""
    if warmup_steps <= 0:
        return 1.0
    return min(1.0, step / warmup_steps)


class ScaledOptimizer:
    """The pipeline's optimizer with every learning rate multiplied by ``scale``.

    With a ``state_suffix``, parameter keys get it appended, so Adam keeps separate
    moments (and averages, which spaCy never reads: it evaluates with the plain keys'
    averages) under them. Only ``__call__`` is needed: it is all that thinc's
    ``Model.finish_update`` and ``PyTorchShim.finish_update`` use.
    """

    def __init__(self, optimizer: Optimizer, scale: float, state_suffix: str = ""):
        self.optimizer = optimizer
        self.scale = scale
        self.state_suffix = state_suffix

    def __call__(
        self, key: Tuple[int, str], weights: FloatsXd, gradient: FloatsXd, *, lr_scale: float = 1.0
    ) -> Tuple[FloatsXd, FloatsXd]:
        model_id, name = key
        return self.optimizer(
            (model_id, f"{name}{self.state_suffix}"), weights, gradient, lr_scale=lr_scale * self.scale
        )


def unlabeled_phase(optimizer: Optimizer, scale: float) -> ScaledOptimizer:
    """The pipeline's optimizer as the unlabeled steps use it: own Adam state, rate times ``scale``."""
    return ScaledOptimizer(optimizer, scale, STATE_SUFFIX)
