"""Token representations: static word vectors, learned hashed features and a character CNN.

Everything here is computed from one token alone (an optional thinc ``tok2vec``
layer's output is appended as is; see ``spacy-cvt.CVTTagger.v1``). That matters for CVT: the
forward and future views may only see tokens up to t, and a token embedding that
mixed in its neighbours (like spaCy's window encoders) would leak later tokens
into them. The character CNN therefore always pads to ``max_chars``, so a token's
vector never depends on the longest token in the batch.
"""

from typing import List, Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .settings import ModelSettings

CHAR_PADDING = 0
DIRECT_CODEPOINTS = 256  # code points below this get their own row; others are hashed


class CharCNN(nn.Module):
    """Character embeddings, one convolution per kernel width, ReLU, max over positions."""

    def __init__(self, n_chars: int, width: int, n_filters: int, kernel_sizes: Sequence[int]):
        super().__init__()
        self.embed = nn.Embedding(n_chars, width, padding_idx=CHAR_PADDING)
        self.convolutions = nn.ModuleList(
            nn.Conv1d(width, n_filters, kernel_size) for kernel_size in kernel_sizes
        )
        self.output_width = n_filters * len(kernel_sizes)

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """char_ids: (n_tokens, max_chars) -> (n_tokens, output_width)."""
        chars = self.embed(char_ids).transpose(1, 2)
        pooled = [F.relu(conv(chars)).max(dim=2).values for conv in self.convolutions]
        return torch.cat(pooled, dim=1)


class TokenEmbedding(nn.Module):
    """Concatenates static vectors, one learned table per hashed attribute, and the char CNN."""

    def __init__(self, settings: ModelSettings, *, n_vector_dims: int, n_extra_dims: int = 0):
        super().__init__()
        self.hash_tables = nn.ModuleList(
            nn.Embedding(settings.hash_rows, settings.hash_width) for _ in settings.hash_attrs
        )
        self.chars = CharCNN(settings.n_chars, settings.char_width, settings.char_filters, settings.char_kernel_sizes)
        self.output_width = (
            n_vector_dims + len(settings.hash_attrs) * settings.hash_width + self.chars.output_width + n_extra_dims
        )

    def forward(
        self,
        vectors: torch.Tensor,
        hash_ids: torch.Tensor,
        char_ids: torch.Tensor,
        extra: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """vectors: (n, n_vector_dims); hash_ids: (n, n_hash_attrs); char_ids: (n, max_chars);
        extra: (n, n_extra_dims) features from a thinc ``tok2vec`` layer, if the model has one."""
        parts: List[torch.Tensor] = [vectors]
        parts.extend(table(hash_ids[:, i]) for i, table in enumerate(self.hash_tables))
        parts.append(self.chars(char_ids))
        if extra is not None:
            parts.append(extra)
        return torch.cat(parts, dim=1)
