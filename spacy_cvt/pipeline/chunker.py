"""``cvt_chunker``: non-overlapping spans (chunks, aspect terms) in ``doc.spans[spans_key]``."""

from typing import Callable, Iterable, List, Optional

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, biluo_tags_to_spans
from thinc.api import Model

from ..model.tagger import ViewScores
from ..scoring import spans_to_biluo
from .base import GoldTags
from .component_settings import CVTSettings, cvt_factory
from .ner import SpanTagger


class CVTChunker(SpanTagger):
    task = "span labels"

    @property
    def spans_key(self) -> str:
        return self.cfg["spans_key"]

    def labels_from_example(self, example: Example) -> Iterable[str]:
        return (span.label_ for span in example.reference.spans.get(self.spans_key, []))

    def gold_tags(self, example: Example) -> GoldTags:
        if self.spans_key not in example.reference.spans:
            return [None] * len(example.predicted)
        gold_spans = example.reference.spans[self.spans_key]
        aligned = example.get_aligned_spans_y2x(gold_spans, allow_overlap=True)
        try:
            return spans_to_biluo(example.predicted, aligned)
        except ValueError:
            raise ValueError(
                f"{self.name}: doc.spans['{self.spans_key}'] of '{example.reference.text[:80]}' "
                f"has overlapping spans {[(s.start, s.end, s.label_) for s in gold_spans]}. "
                "A chunker tags each token once, so spans must not overlap; use spaCy's "
                "spancat for overlapping spans."
            ) from None

    def write(self, doc: Doc, tags: List[str]) -> None:
        doc.spans[self.spans_key] = biluo_tags_to_spans(doc, tags)


@cvt_factory(
    "cvt_chunker",
    assigns=["doc.spans"],
    default_config={
        "spans_key": "chunks",
        "outside_weight": 1.0,
        "scorer": {"@scorers": "spacy-cvt.chunk_scorer.v1"},
    },
    default_score_weights={
        "spans_chunks_f": 1.0,
        "spans_chunks_p": 0.0,
        "spans_chunks_r": 0.0,
        "spans_chunks_seqeval_f": None,
    },
)
def make_cvt_chunker(
    nlp: Language,
    name: str,
    model: Model[List[Doc], ViewScores],
    spans_key: str,
    outside_weight: float,
    scorer: Optional[Callable],
    settings: CVTSettings,
) -> CVTChunker:
    """Chunking (non-overlapping labelled spans) trained with Cross-View Training.

    outside_weight: multiplies the probability of O before decoding (see ``SpanTagger``).
    """
    return CVTChunker(
        nlp.vocab,
        model,
        name,
        spans_key=spans_key,
        outside_weight=outside_weight,
        settings=settings,
        scorer=scorer,
    )
