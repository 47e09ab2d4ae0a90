"""The CVT components: ``cvt_ner``, ``cvt_tagger`` and ``cvt_chunker``."""

from .base import CVTComponent
from .chunker import CVTChunker, make_cvt_chunker
from .ner import CVTEntityRecognizer, make_cvt_ner
from .resume import make_resume_unlabeled
from .tagger import CVTTagger, make_cvt_tagger

__all__ = [
    "CVTComponent",
    "CVTChunker",
    "CVTEntityRecognizer",
    "CVTTagger",
    "make_cvt_chunker",
    "make_cvt_ner",
    "make_resume_unlabeled",
    "make_cvt_tagger",
]
