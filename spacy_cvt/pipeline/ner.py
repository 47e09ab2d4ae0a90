"""``cvt_ner``: named entities in ``doc.ents``, BILUO tags, constrained decoding."""

import math
from typing import Callable, Iterable, List, Optional

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, biluo_tags_to_spans
from thinc.api import Model

from ..model.tagger import ViewScores
from ..tags import biluo_labels, transition_constraints, viterbi_decode
from .base import CVTComponent, GoldTags
from .component_settings import CVTSettings, cvt_factory


class SpanTagger(CVTComponent):
    """Span tasks: labels are span types, the model predicts their BILUO tags.

    ``outside_weight`` multiplies the probability of O before decoding: 1 decodes the model's
    own distribution; lower values trade precision for recall, which pays where the model is
    much more precise than it recalls (WNUT-17's rare, novel entities). Choose it on dev
    with spaCy's own sweep, ``spacy find-threshold MODEL dev.spacy NAME outside_weight
    ents_f`` (it tries 0 to 1), then set it in the pipeline's config.cfg.
    """

    task = "span labels"

    def __init__(self, *args, outside_weight: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        if not (math.isfinite(outside_weight) and outside_weight >= 0):
            raise ValueError(
                f"[components.{self.name}] outside_weight must be a finite number >= 0 (got {outside_weight}): it multiplies "
                "the probability of O before decoding; 1 leaves it as the model gives it."
            )
        # an attribute, not cfg: the saved cfg must not override the config's choice at load
        self.outside_weight = outside_weight

    @property
    def tag_names(self) -> List[str]:
        return biluo_labels(self.labels)

    def decode(self, doc: Doc, log_probs: numpy.ndarray) -> numpy.ndarray:
        """Viterbi over valid BILUO transitions, O weighted by ``outside_weight``; tokens that
        ``outside_tokens`` names are O.

        spaCy's gold never puts whitespace inside a span (Example.get_aligned_ner
        marks it O), so neither does prediction: a whitespace-only doc has no spans.
        """
        if getattr(self, "_constraints_for", None) != self.labels:
            self._constraints = transition_constraints(self.tag_names)
            self._constraints_for = self.labels
        outside = self.outside_tokens(doc)
        if outside.any() or self.outside_weight != 1.0:
            log_probs = log_probs.copy()  # column 0 is O
            with numpy.errstate(divide="ignore"):  # outside_weight 0: O only where outside_tokens says so
                log_probs[~outside, 0] += numpy.log(self.outside_weight)
            log_probs[outside, 1:] = -numpy.inf
        return viterbi_decode(log_probs, *self._constraints)

    def outside_tokens(self, doc: Doc) -> numpy.ndarray:
        """A mask of the tokens no predicted span may cover: whitespace."""
        return numpy.asarray([token.is_space for token in doc], dtype=bool)


class CVTEntityRecognizer(SpanTagger):
    """Entities in ``doc.ents``; entities already there are kept, as spaCy's ``ner`` does.

    An ``entity_ruler`` (or any component) before ``cvt_ner`` can set entities the model
    then predicts around: their tokens are decoded as O and the entities stay as they were,
    labels included, even labels the model does not know. ``overwrite_ents = true``
    replaces them with the model's entities instead.
    """

    task = "entity labels"

    def __init__(self, *args, overwrite_ents: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # an attribute, not cfg: the saved cfg must not override the config's choice at load
        self.overwrite_ents = overwrite_ents

    def outside_tokens(self, doc: Doc) -> numpy.ndarray:
        outside = super().outside_tokens(doc)
        if not self.overwrite_ents:
            for ent in doc.ents:
                outside[ent.start : ent.end] = True
        return outside

    def labels_from_example(self, example: Example) -> Iterable[str]:
        return (ent.label_ for ent in example.reference.ents)

    def gold_tags(self, example: Example) -> GoldTags:
        return example.get_aligned_ner()

    def write(self, doc: Doc, tags: List[str]) -> None:
        predicted = biluo_tags_to_spans(doc, tags)
        doc.ents = predicted if self.overwrite_ents else sorted([*doc.ents, *predicted])


@cvt_factory(
    "cvt_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "overwrite_ents": False,
        "outside_weight": 1.0,
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
    overwrite_ents: bool,
    outside_weight: float,
    scorer: Optional[Callable],
    settings: CVTSettings,
) -> CVTEntityRecognizer:
    """Named entity recognition trained with Cross-View Training.

    overwrite_ents: replace entities already on the doc (e.g. from an entity_ruler)
        instead of keeping them and predicting around them.
    outside_weight: multiplies the probability of O before decoding (see ``SpanTagger``).
    """
    return CVTEntityRecognizer(
        nlp.vocab,
        model,
        name,
        settings=settings,
        scorer=scorer,
        overwrite_ents=overwrite_ents,
        outside_weight=outside_weight,
    )
