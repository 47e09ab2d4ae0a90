"""spacy-cvt: Cross-View Training (Clark et al., 2018) for spaCy pipelines.

Importing the package registers the ``cvt_ner``, ``cvt_tagger`` and
``cvt_chunker`` factories, the ``spacy-cvt.CVTTagger.v1`` architecture, the
unlabeled-text readers, the scorers and the training logger. spaCy also finds them through
entry points, so configs and ``add_pipe`` work without importing this package.
"""

from .model import build_cvt_tagger
from .pipeline import CVTChunker, CVTComponent, CVTEntityRecognizer, CVTTagger
from .scoring import score_chunks, score_entities, score_tags
from .training_logger import cvt_console_logger
from .unlabeled import PlainTextCorpus, PretokenizedTextCorpus, RawTextCorpus

__version__ = "0.1.0"

__all__ = [
    "CVTChunker",
    "CVTComponent",
    "CVTEntityRecognizer",
    "CVTTagger",
    "PlainTextCorpus",
    "PretokenizedTextCorpus",
    "RawTextCorpus",  # PlainTextCorpus's earlier name
    "build_cvt_tagger",
    "cvt_console_logger",
    "score_chunks",
    "score_entities",
    "score_tags",
]
