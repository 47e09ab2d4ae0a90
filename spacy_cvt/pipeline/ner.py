"""``cvt_ner``: named entities in ``doc.ents``, BILUO tags, constrained decoding."""

from typing import Callable, Iterable, List, Optional

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, biluo_tags_to_spans
from thinc.api import Model

from ..model.tagger import ViewScores
from ..tags import biluo_labels, transition_constraints, viterbi_decode
from .base import CVTComponent, GoldTags
from .defaults import CVT_SETTINGS, DEFAULT_MODEL


class SpanTagger(CVTComponent):
    """Span tasks: labels are span types, the model predicts their BILUO tags."""

    task = "span labels"

    @property
    def tag_names(self) -> List[str]:
        return biluo_labels(self.labels)

    def decode(self, doc: Doc, log_probs: numpy.ndarray) -> numpy.ndarray:
        """Viterbi over valid BILUO transitions; whitespace tokens are always O.

        spaCy's gold never puts whitespace inside a span (Example.get_aligned_ner
        marks it O), so neither does prediction: a whitespace-only doc has no spans.
        """
        if getattr(self, "_constraints_for", None) != self.labels:
            self._constraints = transition_constraints(self.tag_names)
            self._constraints_for = self.labels
        spaces = numpy.asarray([token.is_space for token in doc], dtype=bool)
        if spaces.any():
            log_probs = log_probs.copy()
            log_probs[spaces, 1:] = -numpy.inf  # column 0 is O
        return viterbi_decode(log_probs, *self._constraints)


class CVTEntityRecognizer(SpanTagger):
    task = "entity labels"

    def labels_from_example(self, example: Example) -> Iterable[str]:
        return (ent.label_ for ent in example.reference.ents)

    def gold_tags(self, example: Example) -> GoldTags:
        return example.get_aligned_ner()

    def write(self, doc: Doc, tags: List[str]) -> None:
        doc.ents = biluo_tags_to_spans(doc, tags)


@Language.factory(
    "cvt_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_MODEL,
        **CVT_SETTINGS,
        "scorer": {"@scorers": "spacy-cvt.entity_scorer.v1"},
    },
    default_score_weights={
        "ents_f": 1.0,
        "ents_p": 0.0,
        "ents_r": 0.0,
        "ents_per_type": None,
        "ents_seqeval_f": None,
    },
)
def make_cvt_ner(
    nlp: Language,
    name: str,
    model: Model[List[Doc], ViewScores],
    unlabeled_steps: int,
    unlabeled_batch_size: int,
    unlabeled_dropout: float,
    unlabeled_warmup_steps: int,
    label_smoothing: float,
    shuffle_window: int,
    seed: int,
    scorer: Optional[Callable],
) -> CVTEntityRecognizer:
    """Named entity recognition trained with Cross-View Training."""
    return CVTEntityRecognizer(
        nlp.vocab,
        model,
        name,
        unlabeled_steps=unlabeled_steps,
        unlabeled_batch_size=unlabeled_batch_size,
        unlabeled_dropout=unlabeled_dropout,
        unlabeled_warmup_steps=unlabeled_warmup_steps,
        label_smoothing=label_smoothing,
        shuffle_window=shuffle_window,
        seed=seed,
        scorer=scorer,
    )
