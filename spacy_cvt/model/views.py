"""CVT's prediction modules: the primary one and the auxiliary views.

| view     | reads                          | predicts    |
|----------|--------------------------------|-------------|
| primary  | [forward1; backward1; layer2]  | label at t  |
| forward  | forward1  (tokens <= t)        | label at t  |
| backward | backward1 (tokens >= t)        | label at t  |
| future   | forward1  (tokens <= t)        | label t + 1 |
| past     | backward1 (tokens >= t)        | label t - 1 |
| full     | [forward1; backward1; layer2]  | label at t (optional, linear) |

Only the primary module is used for prediction; the others learn from unlabeled
text to agree with it, and in doing so train the shared encoder. The auxiliary
views read layer 1 only, so a CVT step on unlabeled text never runs layer 2 for them.
"""

from typing import Dict, Iterable, Tuple

import torch
from torch import nn

from .encoder import EncoderStates

PRIMARY = "primary"
AUXILIARY_VIEWS: Tuple[str, ...] = ("forward", "backward", "future", "past")
FULL = "full"


class PredictionModule(nn.Module):
    """``logits = W2 · ReLU(W1 · inputs)``, the paper's prediction module (no CRF)."""

    def __init__(self, input_width: int, hidden_width: int, n_labels: int):
        super().__init__()
        self.hidden = nn.Linear(input_width, hidden_width)
        self.output = nn.Linear(hidden_width, n_labels)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.output(torch.relu(self.hidden(inputs)))


def view_inputs(view: str, states: EncoderStates) -> torch.Tensor:
    """What each view is allowed to read. The view property rests on this function."""
    if view in ("forward", "future"):
        return states.forward1
    if view in ("backward", "past"):
        return states.backward1
    if states.layer2 is None:
        raise ValueError(f"The '{view}' view reads layer 2, which was not computed.")
    return torch.cat([states.forward1, states.backward1, states.layer2], dim=1)


def reads_layer2(views: Iterable[str]) -> bool:
    """Whether any of ``views`` needs the encoder's second layer (see ``view_inputs``)."""
    return any(view not in AUXILIARY_VIEWS for view in views)


class PredictionModules(nn.Module):
    def __init__(
        self,
        direction_width1: int,
        layer2_width: int,
        hidden_width: int,
        n_labels: int,
        include_full: bool,
    ):
        super().__init__()
        full_width = 2 * direction_width1 + layer2_width
        modules: Dict[str, nn.Module] = {
            PRIMARY: PredictionModule(full_width, hidden_width, n_labels)
        }
        for view in AUXILIARY_VIEWS:
            modules[view] = PredictionModule(direction_width1, hidden_width, n_labels)
        if include_full:
            modules[FULL] = nn.Linear(full_width, n_labels)
        # Keys get a suffix: "forward" as a key would shadow nn.Module.forward.
        self.modules_by_view = nn.ModuleDict({_key(view): module for view, module in modules.items()})
        self.views: Tuple[str, ...] = tuple(modules)

    def forward(self, states: EncoderStates, views: Iterable[str]) -> Dict[str, torch.Tensor]:
        return {view: self.modules_by_view[_key(view)](view_inputs(view, states)) for view in views}


def _key(view: str) -> str:
    return f"{view}_module"
