"""spaCy CLI commands of spacy-cvt: `python -m spacy cvt-augment`, `cvt-tune-decoding` and
`cvt-trf-vectors`, each also an importable function (``augment``, ``tune_decoding``,
``trf_vectors``).

Importing this package registers the commands on spaCy's typer app; spaCy imports it through
the ``spacy_cli`` entry point on every `python -m spacy` call, so these modules import only what
spaCy's CLI has loaded already, and torch or transformers where a command runs.
"""
from .augment import Augmented, augment, augment_cli
from .trf_vectors import TrfVectors, trf_vectors, trf_vectors_cli
from .tune import Tuning, tune_decoding, tune_decoding_cli

__all__ = [
    "Augmented",
    "TrfVectors",
    "Tuning",
    "augment",
    "augment_cli",
    "trf_vectors",
    "trf_vectors_cli",
    "tune_decoding",
    "tune_decoding_cli",
]
