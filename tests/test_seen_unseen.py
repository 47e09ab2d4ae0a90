"""spacy_cvt_project/seen_unseen.py: each gold span lands in the bucket its train data puts it in, recall per
bucket counts what a rule-based pipeline finds by construction, and `all` is spacy evaluate's."""

import sys

import pytest
import spacy
import srsly
from spacy.cli.evaluate import evaluate
from spacy.tokens import Doc, DocBin, Span

from .conftest import PROJECT_CLI, REPO, run_python, usage_error

from spacy_cvt_project import seen_unseen

SCRIPT = [*PROJECT_CLI, "seen-unseen"]
# (words, gold spans as (start, end, label))
TRAIN = [(["Apple", "makes", "the", "iPhone"], [(0, 1, "ORG"), (3, 4, "PRODUCT")]),
         (["I", "like", "banana", "bread"], [])]
TEST = [(["apple", "sells", "Banana", "phones"], [(0, 1, "ORG"), (2, 3, "ORG")]),
        (["Zorb", "bought", "Apple"], [(0, 1, "ORG"), (2, 3, "PRODUCT")])]
# what the rule-based pipeline tags: right: apple ORG (seen, other case), Zorb (new word);
# wrong: phones (no gold span) and Apple as ORG (gold PRODUCT); missed: Banana (known words)
PATTERNS = [{"label": "ORG", "pattern": [{"LOWER": word}]} for word in ("apple", "zorb", "phones")]


def write_corpus(path, docs, spans_key=None):
    nlp = spacy.blank("en")
    db = DocBin()
    for words, spans in docs:
        doc = Doc(nlp.vocab, words=words)
        spans = [Span(doc, start, end, label=label) for start, end, label in spans]
        if spans_key is None:
            doc.ents = spans
        else:
            doc.spans[spans_key] = spans
        db.add(doc)
    db.to_disk(path)
    return path


def ruler_pipeline(path, spans_key=None):
    nlp = spacy.blank("en")
    if spans_key is None:
        nlp.add_pipe("entity_ruler").add_patterns(PATTERNS)
    else:
        nlp.add_pipe("span_ruler", config={"spans_key": spans_key}).add_patterns(PATTERNS)
    nlp.to_disk(path)
    return path


@pytest.mark.slow
def test_buckets_and_recall_match_construction_and_spacy_evaluate(tmp_path):
    train = write_corpus(tmp_path / "train.spacy", TRAIN)
    test = write_corpus(tmp_path / "test.spacy", TEST)
    model = ruler_pipeline(tmp_path / "ruler")
    run_python([*SCRIPT, str(train), str(test), str(model), "--output", str(tmp_path / "out.json")])
    scores = srsly.read_json(tmp_path / "out.json")[str(model)]
    assert {name: (scores[name]["found"], scores[name]["gold"]) for name in seen_unseen.BUCKETS} == {
        "seen": (1, 1), "known words": (0, 2), "new words": (1, 1)}
    assert scores["new words"]["recall"] == 1.0 and scores["known words"]["recall"] == 0.0
    spacy_scores = evaluate(str(model), test, gold_preproc=True)
    assert scores["all"] == pytest.approx({"precision": spacy_scores["ents_p"], "recall": spacy_scores["ents_r"],
                                           "f": spacy_scores["ents_f"]})
    assert scores["all"]["f"] == pytest.approx(0.5)


def test_span_group(tmp_path):
    """--spans-key scores doc.spans[KEY] (the chunker's `chunks`), not doc.ents."""
    train = write_corpus(tmp_path / "train.spacy", TRAIN, spans_key="chunks")
    test = write_corpus(tmp_path / "test.spacy", TEST, spans_key="chunks")
    model = ruler_pipeline(tmp_path / "ruler", spans_key="chunks")
    seen_unseen.main(train, test, [model], spans_key="chunks", output=tmp_path / "out.json")
    scores = srsly.read_json(tmp_path / "out.json")[str(model)]
    assert (scores["seen"]["found"], scores["known words"]["gold"], scores["new words"]["found"]) == (1, 2, 1)
    assert scores["all"]["precision"] == pytest.approx(0.5) and scores["all"]["recall"] == pytest.approx(0.5)


@pytest.mark.slow
def test_missing_model_is_a_usage_error(tmp_path):
    train = write_corpus(tmp_path / "train.spacy", TRAIN)
    message = usage_error([*SCRIPT, str(train), str(train), str(tmp_path / "no-such-model")])
    assert "no-such-model" in message and "doesnotexist" in message.lower()


@pytest.mark.slow
def test_test_set_without_spans_is_a_usage_error(tmp_path):
    """A POS corpus, or chunks read from doc.ents: there is nothing to split, and it says where it looked."""
    train = write_corpus(tmp_path / "train.spacy", TRAIN)
    test = write_corpus(tmp_path / "test.spacy", TEST, spans_key="chunks")
    message = usage_error([*SCRIPT, str(train), str(test), str(ruler_pipeline(tmp_path / "ruler"))])
    assert "nogoldspansindoc.ents" in message and "--spans-keychunks" in message


@pytest.mark.slow
def test_a_pipeline_that_writes_elsewhere_is_named(tmp_path):
    """A chunker writes doc.spans['chunks'], not doc.ents: read from doc.ents it finds nothing, and
    the script says so (a model that learnt nothing looks the same, so it warns and goes on)."""
    train = write_corpus(tmp_path / "train.spacy", TRAIN)
    test = write_corpus(tmp_path / "test.spacy", TEST)
    model = ruler_pipeline(tmp_path / "ruler", spans_key="chunks")
    output = run_python([*SCRIPT, str(train), str(test), str(model)]).stdout
    flat = "".join(output.split())  # wasabi wraps the warning
    assert "putnospansindoc.entsonanyofthe2testdocs" in flat and "--spans-keyKEY" in flat
    assert f"{model}: recall seen 0.0 (0/1)" in output
