"""Recall on the test set's spans split by what training saw: where a small model loses.

`spacy evaluate` gives one recall for all gold spans. A model that learns its words from the
training set and one that brings pretrained knowledge (a transformer) can score alike on spans
training held and very differently on new ones (Augenstein et al. 2017, "Generalisation in named
entity recognition"), and only the split says which lever can help: more labels, or more text and
knowledge about new words. Each gold span of the test set falls in one bucket:

- `seen`: train has a gold span with the same text (lowercased) and label;
- `known words`: not seen, but every one of its words (lowercased) occurs in train's text;
- `new words`: at least one word never occurs in train's text.

Recall per bucket counts a prediction right when its start, end and label match, as spaCy's
scorer does; `all` is spaCy's own `Scorer.score_spans` over the same predictions, so it equals
`spacy evaluate --gold-preproc`'s P, R and F (the pipelines read the gold tokens, as there).

    python -m spacy_cvt_project seen-unseen corpus/aspect/train.spacy corpus/aspect/test.spacy \\
        training/aspect/cvt-teacher/seed0/model-best training/aspect/trf/seed0/model-best
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

import typer
from wasabi import msg

BUCKETS = ("seen", "known words", "new words")
Span = Tuple[int, int, str]


def doc_spans(doc, spans_key: Optional[str]) -> Set[Span]:
    """(start, end, label) of the doc's entities, or of its span group ``spans_key``."""
    spans = doc.ents if spans_key is None else doc.spans.get(spans_key, [])
    return {(span.start, span.end, span.label_) for span in spans}


def train_vocabulary(docs: Iterable, spans_key: Optional[str]) -> Tuple[Set[Tuple[str, str]], Set[str]]:
    """The (lowercased text, label) of train's gold spans, and the lowercased words of its text."""
    spans: Set[Tuple[str, str]] = set()
    words: Set[str] = set()
    for doc in docs:
        words.update(token.lower_ for token in doc)
        spans.update((doc[start:end].text.lower(), label) for start, end, label in doc_spans(doc, spans_key))
    return spans, words


def bucket(doc, span: Span, seen_spans: Set[Tuple[str, str]], train_words: Set[str]) -> str:
    """Which of BUCKETS a gold span of a test doc falls in."""
    start, end, label = span
    if (doc[start:end].text.lower(), label) in seen_spans:
        return "seen"
    return "known words" if all(token.lower_ in train_words for token in doc[start:end]) else "new words"


def gold_buckets(references: Iterable, seen_spans: Set[Tuple[str, str]], train_words: Set[str],
                 spans_key: Optional[str]) -> List[Dict[Span, str]]:
    """Each test doc's gold spans with their bucket: computed once, whatever the number of pipelines."""
    return [{span: bucket(doc, span, seen_spans, train_words) for span in doc_spans(doc, spans_key)}
            for doc in references]


def bucket_recall(gold: List[Dict[Span, str]], predictions: List[Set[Span]]) -> Dict[str, Dict[str, float]]:
    """Gold spans, found spans and recall per bucket."""
    counts = {name: [0, 0] for name in BUCKETS}
    for doc_gold, predicted in zip(gold, predictions):
        for span, name in doc_gold.items():
            counts[name][0] += 1
            counts[name][1] += span in predicted
    return {name: {"gold": n_gold, "found": found, "recall": found / n_gold if n_gold else 0.0}
            for name, (n_gold, found) in counts.items()}


def main(
    train: Path = typer.Argument(..., exists=True, help="The training data (.spacy, or a folder of them)."),
    test: Path = typer.Argument(..., exists=True, help="The data to score on (.spacy, or a folder of them)."),
    models: List[Path] = typer.Argument(..., exists=True, file_okay=False, help="Trained pipeline folders."),
    spans_key: Optional[str] = typer.Option(None, help="Score doc.spans[KEY] (e.g. chunks) instead of doc.ents."),
    output: Optional[Path] = typer.Option(None, help="Also write the numbers as JSON."),
) -> None:
    """Per pipeline: test recall of seen spans, of unseen spans of known words and of spans with new words."""
    import spacy
    from spacy.scorer import Scorer
    from spacy.training import Corpus

    seen_spans, train_words = train_vocabulary((eg.reference for eg in Corpus(train)(spacy.blank("en"))), spans_key)
    where = "doc.ents" if spans_key is None else f"doc.spans['{spans_key}']"
    # the docs each pipeline reads below, in the same order (gold tokens, split into sentences)
    gold = gold_buckets((eg.reference for eg in Corpus(test, gold_preproc=True)(spacy.blank("en"))),
                        seen_spans, train_words, spans_key)
    if not any(gold):
        raise typer.BadParameter(f"{test} has no gold spans in {where}: nothing to split. A tagging task (pos) has "
                                 "none; a chunker's spans are --spans-key chunks.", param_hint="TEST")
    attr = "ents" if spans_key is None else f"spans_{spans_key}"
    getter = {} if spans_key is None else {"getter": lambda doc, key: doc.spans.get(spans_key, [])}
    results = {}
    for model in models:
        nlp = spacy.load(model)
        # read with the pipeline's vocab: its vectors are looked up there
        examples = list(Corpus(test, gold_preproc=True)(nlp))
        for example, doc in zip(examples, nlp.pipe(eg.predicted for eg in examples)):
            example.predicted = doc
        predictions = [doc_spans(eg.predicted, spans_key) for eg in examples]
        if not any(predictions):
            msg.warn(f"{model} put no spans in {where} on any of the {len(examples)} test docs (components: "
                     f"{nlp.pipe_names}). If it writes a span group (cvt_chunker, spancat), give its key: --spans-key KEY.")
        scores = bucket_recall(gold, predictions)
        overall = Scorer.score_spans(examples, attr, **getter)
        scores["all"] = {"precision": overall[f"{attr}_p"], "recall": overall[f"{attr}_r"], "f": overall[f"{attr}_f"]}
        results[str(model)] = scores
        buckets = ", ".join(f"{name} {100 * scores[name]['recall']:.1f} ({scores[name]['found']}/{scores[name]['gold']})"
                            for name in BUCKETS)
        print(f"{model}: recall {buckets}; all P {100 * overall[f'{attr}_p']:.1f} R {100 * overall[f'{attr}_r']:.1f} "
              f"F {100 * overall[f'{attr}_f']:.1f}")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2))
