"""A teacher corpus: raw text annotated by another pipeline with `spacy apply`, learned in CVT steps."""

import random

import pytest
import spacy
import srsly
import torch
from spacy.tokens import DocBin
from spacy.training import Example

from .conftest import make_nlp, run_python

CITIES = ["Paris", "Berlin", "Rome", "Madrid", "Tokyo", "Lisbon", "Vienna", "Oslo", "Dublin", "Prague", "Athens", "Cairo"]
TEMPLATES = ["I flew to {} yesterday .", "{} is lovely in spring .", "We met in {} last week .", "the trains in {} were late ."]
GOLD_CITIES, SILVER_CITIES, HELD_OUT_CITIES = CITIES[:2], CITIES[2:8], CITIES[8:]


def city_examples(nlp, cities):
    examples = []
    for city in cities:
        for template in TEMPLATES:
            words = template.format(city).split()
            doc = spacy.tokens.Doc(nlp.vocab, words=words)
            start = words.index(city)
            examples.append(Example.from_dict(doc, {"entities": [(doc[start].idx, doc[start].idx + len(city), "LOC")]}))
    return examples


@pytest.fixture(scope="module")
def teacher_path(tmp_path_factory):
    """spaCy's transition-based ner, trained here on every city: the teacher knows them all."""
    random.seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    examples = city_examples(nlp, CITIES)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        random.shuffle(examples)
        for start in range(0, len(examples), 8):
            nlp.update(examples[start : start + 8], sgd=optimizer, drop=0.1)
    path = tmp_path_factory.mktemp("teacher") / "pipeline"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def silver_path(teacher_path, tmp_path_factory):
    """Raw sentences about the silver cities, annotated by the teacher with `spacy apply`."""
    folder = tmp_path_factory.mktemp("silver")
    raw = folder / "raw.jsonl"  # spacy apply reads a .txt file as one text, a .jsonl line as one
    srsly.write_jsonl(raw, [{"text": t.format(city)} for city in SILVER_CITIES for t in TEMPLATES * 4])
    silver = folder / "silver.spacy"
    run_python(["-m", "spacy", "apply", str(teacher_path), str(raw), str(silver)], timeout=300)
    return silver


def with_corpus(nlp, path, key):
    nlp.config["corpora"] = {"silver": {"@readers": "spacy.Corpus.v1", "path": str(path), "gold_preproc": False}}
    nlp.config["initialize"]["components"]["cvt_ner"] = {key: "corpora.silver"}
    return nlp


def train(nlp, steps=60):
    torch.manual_seed(0)
    examples = city_examples(nlp, GOLD_CITIES)
    optimizer = nlp.initialize(lambda: examples)
    losses = {}
    for step in range(steps):
        losses = nlp.update(examples[(step * 4) % len(examples) :][:4], sgd=optimizer, drop=0.1)
    return losses


def found_cities(nlp):
    texts = [t.format(city) for city in HELD_OUT_CITIES + SILVER_CITIES for t in TEMPLATES]
    return sum(any(ent.text in CITIES and ent.label_ == "LOC" for ent in doc.ents) for doc in nlp.pipe(texts))


def test_the_teacher_annotated_the_raw_text(silver_path, teacher_path):
    docs = list(DocBin().from_disk(silver_path).get_docs(spacy.blank("en").vocab))
    assert len(docs) == len(SILVER_CITIES) * len(TEMPLATES) * 4
    assert sum(any(ent.label_ == "LOC" for ent in doc.ents) for doc in docs) > len(docs) * 0.9


def test_a_teacher_corpus_moves_the_model_towards_the_teacher(silver_path, tmp_path):
    settings = {"unlabeled_warmup_steps": 1, "unlabeled_batch_size": 16}
    plain = with_corpus(make_nlp(**settings), silver_path, "unlabeled_corpus")  # the same text, labels unused
    taught = with_corpus(make_nlp(**settings), silver_path, "teacher_corpus")
    plain_losses, taught_losses = train(plain), train(taught)
    assert "cvt_ner_teacher" not in plain_losses
    assert taught_losses["cvt_ner_teacher"] > 0 and taught_losses["cvt_ner_unlabeled"] > 0
    assert found_cities(taught) > found_cities(plain) + 10
    taught.to_disk(tmp_path / "taught")
    loaded = spacy.load(tmp_path / "taught")
    assert found_cities(loaded) == found_cities(taught)
    assert loaded.get_pipe("cvt_ner").cfg["teacher_weight"] == 1.0


def test_teacher_weight_zero_leaves_the_primary_module_to_gold(silver_path):
    nlp = with_corpus(make_nlp(unlabeled_warmup_steps=1, unlabeled_batch_size=16, teacher_weight=0.0), silver_path, "teacher_corpus")
    assert train(nlp, steps=5)["cvt_ner_teacher"] == 0.0


def test_a_teacher_corpus_without_annotation_is_an_error(tmp_path):
    nlp = spacy.blank("en")
    path = tmp_path / "plain.spacy"
    DocBin(docs=[nlp.make_doc(t.format(c)) for c in SILVER_CITIES for t in TEMPLATES]).to_disk(path)
    with pytest.raises(ValueError, match="teacher corpus 'corpora.silver' has no entity labels"):
        train(with_corpus(make_nlp(), path, "teacher_corpus"), steps=1)


def test_teacher_labels_outside_the_label_set_are_named(silver_path):
    nlp = with_corpus(make_nlp(), silver_path, "teacher_corpus")
    nlp.config["initialize"]["components"]["cvt_ner"]["labels"] = ["PER"]
    with pytest.raises(ValueError, match=r"entity labels \['LOC'\] that are not among the component's labels \['PER'\]"):
        train(nlp, steps=1)


def test_a_teacher_corpus_needs_unlabeled_steps_and_excludes_plain_raw_text(silver_path):
    with pytest.raises(ValueError, match="unlabeled_steps = 0: the teacher's labels are learned"):
        train(with_corpus(make_nlp(unlabeled_steps=0), silver_path, "teacher_corpus"), steps=1)
    nlp = with_corpus(make_nlp(), silver_path, "teacher_corpus")
    nlp.config["initialize"]["components"]["cvt_ner"]["unlabeled_corpus"] = "corpora.silver"
    with pytest.raises(ValueError, match="sets both unlabeled_corpus"):
        train(nlp, steps=1)
