"""Scorers: spaCy's own, plus seqeval's strict IOBES scores for span tasks.

spaCy's numbers (``ents_f``, ``spans_chunks_f``, ``tag_acc``, ``pos_acc``) are
what ``spacy train`` and ``spacy evaluate`` print and what the comparison uses.
The seqeval scores (``*_seqeval_p/r/f``) come from the tag sequences the way the
CoNLL literature and the CVT paper compute them, so a user can check that both
views agree.
"""

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.pipeline.spancat import spancat_score
from spacy.scorer import Scorer, get_ner_prf
from spacy.tokens import Doc, Span
from spacy.training import Example, offsets_to_biluo_tags
from spacy.util import registry

from .tags import to_iobes

TagSequences = Tuple[List[List[str]], List[List[str]]]


def spans_to_biluo(doc: Doc, spans: Iterable[Span]) -> List[str]:
    """BILUO tags of ``doc`` for non-overlapping spans; unannotated tokens are ``O``."""
    return offsets_to_biluo_tags(doc, [(s.start_char, s.end_char, s.label_) for s in spans])


def seqeval_scores(gold: List[List[str]], predicted: List[List[str]], prefix: str) -> Dict[str, Optional[float]]:
    """Micro precision, recall and F1 over entities, strict IOBES matching."""
    # imported here: seqeval brings scikit-learn (about 1 s), which every `python -m spacy` call
    # would pay, since spaCy's CLI imports this package for its spacy_cli entry point
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOBES

    if not any(gold) and not any(predicted):
        return {f"{prefix}_seqeval_p": None, f"{prefix}_seqeval_r": None, f"{prefix}_seqeval_f": None}
    gold_iobes = [to_iobes(tags) for tags in gold]
    predicted_iobes = [to_iobes(tags) for tags in predicted]
    settings = {"mode": "strict", "scheme": IOBES, "zero_division": 0}
    return {
        f"{prefix}_seqeval_p": float(precision_score(gold_iobes, predicted_iobes, **settings)),
        f"{prefix}_seqeval_r": float(recall_score(gold_iobes, predicted_iobes, **settings)),
        f"{prefix}_seqeval_f": float(f1_score(gold_iobes, predicted_iobes, **settings)),
    }


def entity_tag_sequences(examples: Iterable[Example]) -> TagSequences:
    """Gold (aligned to the predicted tokens) and predicted BILUO tags per example."""
    gold, predicted = [], []
    for eg in examples:
        if not eg.reference.has_annotation("ENT_IOB"):
            continue
        gold.append([tag if tag not in (None, "-") else "O" for tag in eg.get_aligned_ner()])
        predicted.append(spans_to_biluo(eg.predicted, eg.predicted.ents))
    return gold, predicted


def span_tag_sequences(examples: Iterable[Example], spans_key: str) -> TagSequences:
    gold, predicted = [], []
    for eg in examples:
        if spans_key not in eg.reference.spans:
            continue
        aligned = eg.get_aligned_spans_y2x(eg.reference.spans[spans_key], allow_overlap=True)
        gold.append(spans_to_biluo(eg.predicted, aligned))
        predicted.append(spans_to_biluo(eg.predicted, eg.predicted.spans.get(spans_key, [])))
    return gold, predicted


def score_entities(examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
    """spaCy's NER scores (``ents_p/r/f``, ``ents_per_type``) plus ``ents_seqeval_*``."""
    examples = list(examples)
    scores = get_ner_prf(examples)
    scores.update(seqeval_scores(*entity_tag_sequences(examples), prefix="ents"))
    return scores


def score_chunks(examples: Iterable[Example], *, spans_key: str, **kwargs: Any) -> Dict[str, Any]:
    """spaCy's span scores (``spans_<key>_p/r/f``) plus ``spans_<key>_seqeval_*``."""
    examples = list(examples)
    scores = spancat_score(examples, spans_key=spans_key)
    scores.update(seqeval_scores(*span_tag_sequences(examples, spans_key), prefix=f"spans_{spans_key}"))
    return scores


def score_tags(examples: Iterable[Example], *, attr: str = "tag", **kwargs: Any) -> Dict[str, Any]:
    """Token accuracy of ``token.tag_`` (``tag_acc``) or ``token.pos_`` (``pos_acc``)."""
    return Scorer.score_token_attr(examples, attr)


@registry.scorers("spacy-cvt.entity_scorer.v1")
def make_entity_scorer():
    return score_entities


@registry.scorers("spacy-cvt.chunk_scorer.v1")
def make_chunk_scorer():
    return score_chunks


@registry.scorers("spacy-cvt.tag_scorer.v1")
def make_tag_scorer():
    return score_tags


__all__: Sequence[str] = ["score_entities", "score_chunks", "score_tags", "seqeval_scores"]
