"""``ModelSettings``: the CVT tagger's sizes and features, stated once.

``spacy-cvt.CVTTagger.v1`` takes them as flat config keys (see ``spacy_cvt.flat_settings``)
and passes the one object down to the torch modules and the featurizer. The defaults
are the small, CPU-friendly model of the shipped configs; ``configs/*_paper.cfg`` has
the paper's sizes (1024/512 LSTM, 512-d modules, 50-d chars with 100 filters).
"""

import dataclasses
from dataclasses import dataclass, field
from typing import List

import srsly
from thinc.api import Model
from thinc.model import deserialize_attr, serialize_attr


@dataclass(frozen=True)
class ModelSettings:
    """
    hidden_size1, projection_size1: layer-1 LSTM units and projection per direction
        (0 = no projection). The paper uses 1024 and 512.
    hidden_size2, projection_size2: the same for layer 2 (paper: 512, no projection).
    module_width: hidden width of each prediction module (paper: 512).
    hash_attrs, hash_rows, hash_width: learned embeddings of hashed token attributes.
    vectors_attr: the attribute word vectors are looked up by (GloVe is lower-case).
    fine_tune_vectors: train a copy of the pipeline's word vectors, as the paper does,
        instead of reading them as constants; they are then found by the ``vectors_attr``
        string with digits mapped to 0, as in the authors' code. The copy is saved with
        the model (rows x width x 4 bytes, 20 MB for 100k 50-d GloVe rows).
    char_width, char_filters, char_kernel_sizes, max_chars, n_chars: the character CNN;
        code points from 256 up share the rows above 256 (n_chars must exceed 256).
    include_full: add the code's optional linear "full" auxiliary view.
    """

    hidden_size1: int = 256
    projection_size1: int = 128
    hidden_size2: int = 128
    projection_size2: int = 0
    module_width: int = 128
    hash_attrs: List[str] = field(default_factory=lambda: ["NORM", "PREFIX", "SUFFIX", "SHAPE"])
    hash_rows: int = 5000
    hash_width: int = 32
    vectors_attr: str = "LOWER"
    fine_tune_vectors: bool = False
    char_width: int = 32
    char_filters: int = 32
    char_kernel_sizes: List[int] = field(default_factory=lambda: [2, 3, 4])
    max_chars: int = 20
    n_chars: int = 512
    include_full: bool = False

    def __post_init__(self) -> None:
        if self.n_chars <= 256:
            raise ValueError(f"n_chars must be above 256 (one row per Latin-1 code point), got {self.n_chars}.")


@serialize_attr.register(ModelSettings)
def _serialize_settings(_: ModelSettings, value: ModelSettings, name: str, model: Model) -> bytes:
    return srsly.msgpack_dumps(dataclasses.asdict(value))


@deserialize_attr.register(ModelSettings)
def _deserialize_settings(_: ModelSettings, value: bytes, name: str, model: Model) -> ModelSettings:
    """Saved as a dict of the fields, as pipelines saved before this class were too."""
    return ModelSettings(**srsly.msgpack_loads(value))
