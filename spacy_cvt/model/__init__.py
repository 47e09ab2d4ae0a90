"""The ``spacy-cvt.CVTTagger.v1`` architecture and its torch parts."""

from .tagger import ViewScores, build_cvt_tagger, clear_gradients, torch_network

__all__ = ["ViewScores", "build_cvt_tagger", "clear_gradients", "torch_network"]
