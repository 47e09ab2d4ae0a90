"""The whole CVT tagger as one torch module: embedding -> BiLSTM encoder -> views.

Tokens travel as one flat batch in document order (doc 0's tokens, then doc 1's,
...), which is also the layout the spaCy component reads its scores in. The
module packs them for the LSTMs and puts every output row back in that order.

A pass computes only what its caller reads: the labeled step the primary view,
a CVT step the teacher (primary view, no dropout, no graph) and the auxiliary
views from one embedding of the batch, without running layer 2 for them.
"""

from typing import Dict, Iterable, List, Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence, pack_sequence

from .embed import TokenEmbedding
from .encoder import BiLSTMEncoder
from .model_settings import ModelSettings
from .views import PRIMARY, PredictionModules, reads_layer2

TEACHER = "teacher"  # key of the teacher's logits in a CVT pass's outputs


class CVTNetwork(nn.Module):
    def __init__(self, settings: ModelSettings, *, n_labels: int, n_vector_dims: int, n_extra_dims: int = 0):
        super().__init__()
        self.embedding = TokenEmbedding(settings, n_vector_dims=n_vector_dims, n_extra_dims=n_extra_dims)
        self.encoder = BiLSTMEncoder(
            self.embedding.output_width,
            settings.hidden_size1,
            settings.projection_size1,
            settings.hidden_size2,
            settings.projection_size2,
        )
        self.prediction_modules = PredictionModules(
            self.encoder.direction_width1,
            self.encoder.output_width2,
            settings.module_width,
            n_labels,
            settings.include_full,
        )

    @property
    def views(self) -> Sequence[str]:
        return self.prediction_modules.views

    def forward(
        self,
        vectors: torch.Tensor,
        hash_ids: torch.Tensor,
        char_ids: torch.Tensor,
        extra: Optional[torch.Tensor] = None,
        word_keys: Optional[torch.Tensor] = None,
        *,
        lengths: List[int],
        views: Iterable[str],
        dropout: float,
        teacher: bool = False,
    ) -> Dict[str, torch.Tensor]:
        """Inputs are flat over all tokens; ``lengths`` (all > 0) splits them into docs.

        Returns ``{view: logits}``, each (n_tokens, n_labels) in document order. With
        ``teacher``, also ``TEACHER``: the primary view's logits without dropout and
        without an autograd graph, from the same embedding (one char CNN pass for both).
        """
        views = tuple(views)
        embedded = self.embedding(vectors, hash_ids, char_ids, extra, word_keys)
        packing = _packing_order(lengths, embedded.device)
        logits: Dict[str, torch.Tensor] = {}
        if teacher:
            with torch.no_grad():
                states = self.encoder(_pack(embedded, packing), 0.0)
                logits[TEACHER] = self.prediction_modules(states, (PRIMARY,))[PRIMARY]
        embedded = F.dropout(embedded, p=dropout, training=dropout > 0)
        states = self.encoder(_pack(embedded, packing), dropout, run_layer2=reads_layer2(views))
        logits.update(self.prediction_modules(states, views))
        doc_order = torch.empty_like(packing.data)
        doc_order[packing.data] = torch.arange(len(packing.data), device=embedded.device)
        return {key: rows[doc_order] for key, rows in logits.items()}


def _pack(rows: torch.Tensor, packing: PackedSequence) -> PackedSequence:
    """Flat per-token rows in document order, packed as ``packing`` says."""
    return PackedSequence(rows[packing.data], packing.batch_sizes, packing.sorted_indices, packing.unsorted_indices)


def _packing_order(lengths: List[int], device: torch.device) -> PackedSequence:
    """Pack the flat token indices: ``.data[i]`` is the flat row of packed row i."""
    flat_indices = torch.arange(sum(lengths), device=device)
    return pack_sequence(list(torch.split(flat_indices, lengths)), enforce_sorted=False)
