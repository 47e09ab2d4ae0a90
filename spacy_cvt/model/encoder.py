"""The 2-layer BiLSTM encoder over packed sequences, with layer 1's directions exposed.

CVT's auxiliary views read layer 1's forward states (tokens <= t) and backward
states (tokens >= t) separately, so they must come out of the encoder as two
tensors. Sequences are packed rather than zero-padded: a padded backward LSTM
starts from the padding, so a short doc's states would change with the length of
the longest doc in its batch (the case with thinc's PyTorchLSTM and spaCy's
TorchBiLSTMEncoder).

All tensors here are "packed data": the rows of a ``PackedSequence``, one row per
token, in the time-major order torch packs them.
"""

from typing import NamedTuple, Optional

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence


class EncoderStates(NamedTuple):
    """Packed rows of the encoder's states, one per token."""

    forward1: torch.Tensor  # layer 1, left-to-right: sees tokens <= t
    backward1: torch.Tensor  # layer 1, right-to-left: sees tokens >= t
    layer2: Optional[torch.Tensor]  # layer 2, both directions: sees the whole sentence (None: not run)


def _bilstm(input_width: int, hidden_size: int, projection_size: int) -> nn.LSTM:
    if projection_size >= hidden_size:
        raise ValueError(
            f"An LSTM projection ({projection_size}) must be smaller than its hidden size "
            f"({hidden_size}); set the projection to 0 for no projection."
        )
    return nn.LSTM(
        input_width, hidden_size, proj_size=projection_size, bidirectional=True, batch_first=True
    )


class BiLSTMEncoder(nn.Module):
    def __init__(
        self,
        input_width: int,
        hidden_size1: int,
        projection_size1: int,
        hidden_size2: int,
        projection_size2: int,
    ):
        super().__init__()
        self.layer1 = _bilstm(input_width, hidden_size1, projection_size1)
        self.direction_width1 = projection_size1 or hidden_size1
        self.layer2 = _bilstm(2 * self.direction_width1, hidden_size2, projection_size2)
        self.output_width2 = 2 * (projection_size2 or hidden_size2)

    def forward(self, embedded: PackedSequence, dropout: float, run_layer2: bool = True) -> EncoderStates:
        """``run_layer2=False`` stops after layer 1: all the auxiliary views read."""
        layer1, _ = self.layer1(embedded)
        layer1_rows = F.dropout(layer1.data, p=dropout, training=dropout > 0)
        layer2_rows = None
        if run_layer2:
            layer2, _ = self.layer2(layer1._replace(data=layer1_rows))
            layer2_rows = F.dropout(layer2.data, p=dropout, training=dropout > 0)
        return EncoderStates(
            forward1=layer1_rows[:, : self.direction_width1],
            backward1=layer1_rows[:, self.direction_width1 :],
            layer2=layer2_rows,
        )
