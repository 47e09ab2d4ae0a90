"""Token representations: word vectors, learned hashed features and a character CNN.

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

from .model_settings import ModelSettings

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


class TrainedVectors(nn.Module):
    """Word vectors the model fine-tunes, as the paper does with GloVe.

    A copy of the pipeline's vector table plus row 0 for unknown words (zeros at first,
    trained like the rest), found by word key: ``keys`` (sorted) and ``rows`` say which
    row each key uses, several keys may share one. The keys come from
    ``features.word_keys`` (the ``vectors_attr`` string with digits mapped to 0). The
    table's size is only known once the vectors are, so loading saved weights takes
    the sizes they were saved with (``_load_from_state_dict``).
    """

    def __init__(self, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, width))
        self.register_buffer("keys", torch.zeros(0, dtype=torch.int64))
        self.register_buffer("rows", torch.zeros(0, dtype=torch.int64))

    def fill(self, table: torch.Tensor, keys: torch.Tensor, rows: torch.Tensor) -> None:
        """Start from ``table`` (n_rows, width); ``keys`` sorted, ``rows`` index ``table``."""
        with torch.no_grad():
            weight = torch.zeros(len(table) + 1, self.weight.shape[1], device=self.weight.device)
            weight[1:] = table
        self.weight.data = weight
        self.keys = keys.to(self.weight.device)
        self.rows = (rows + 1).to(self.weight.device)

    def rows_of(self, word_keys: torch.Tensor) -> torch.Tensor:
        """The row each key uses: 0 (unknown) for keys not in the table."""
        if len(self.keys) == 0:
            return torch.zeros_like(word_keys)
        position = torch.searchsorted(self.keys, word_keys).clamp(max=len(self.keys) - 1)
        return torch.where(self.keys[position] == word_keys, self.rows[position], 0)

    def forward(self, word_keys: torch.Tensor) -> torch.Tensor:
        return F.embedding(self.rows_of(word_keys), self.weight)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        saved = state_dict.get(prefix + "weight")
        if saved is not None:
            self.weight.data = torch.empty_like(saved, device=self.weight.device)
        for name in ("keys", "rows"):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name], device=self.weight.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class TokenEmbedding(nn.Module):
    """Concatenates word vectors, one learned table per hashed attribute, and the char CNN.

    The word vectors are the pipeline's static ones (``vectors`` in ``forward``), or,
    with ``fine_tune_vectors``, the model's own trained copy (``words``, looked up by
    ``word_keys``).
    """

    def __init__(self, settings: ModelSettings, *, n_vector_dims: int, n_extra_dims: int = 0):
        super().__init__()
        self.words = TrainedVectors(n_vector_dims) if settings.fine_tune_vectors else None
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
        word_keys: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """vectors: (n, n_vector_dims), or (n, 0) with ``fine_tune_vectors``; hash_ids:
        (n, n_hash_attrs); char_ids: (n, max_chars); extra: (n, n_extra_dims) features from
        a thinc ``tok2vec`` layer, if the model has one; word_keys: (n,) int64, the keys the
        trained vectors are found by (``fine_tune_vectors`` only)."""
        parts: List[torch.Tensor] = [self.words(word_keys) if self.words is not None else vectors]
        parts.extend(table(hash_ids[:, i]) for i, table in enumerate(self.hash_tables))
        parts.append(self.chars(char_ids))
        if extra is not None:
            parts.append(extra)
        return torch.cat(parts, dim=1)
