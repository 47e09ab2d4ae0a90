"""A teacher corpus: unlabeled text annotated by another pipeline with `spacy apply`, learned in CVT steps."""

import random

import numpy
import pytest
import spacy
import srsly
import torch
from spacy.tokens import DocBin
from spacy.training import Example
from thinc.api import SGD

from spacy_cvt.pipeline.distributions import aligned_targets, teacher_entry, write_distributions

from .conftest import PRIMARY, changed, make_nlp, run_python, weights

CITIES = ["Paris", "Berlin", "Rome", "Madrid", "Tokyo", "Lisbon", "Vienna", "Oslo", "Dublin", "Prague", "Athens", "Cairo"]
TEMPLATES = ["I flew to {} yesterday .", "{} is lovely in spring .", "We met in {} last week .", "the trains in {} were late ."]
GOLD_CITIES, TEACHER_CITIES, HELD_OUT_CITIES = CITIES[:2], CITIES[2:8], CITIES[8:]


def city_examples(nlp, cities):
    examples = []
    for city in cities:
        for template in TEMPLATES:
            words = template.format(city).split()
            doc = spacy.tokens.Doc(nlp.vocab, words=words)
            start = words.index(city)
            examples.append(Example.from_dict(doc, {"entities": [(doc[start].idx, doc[start].idx + len(city), "LOC")]}))
    return examples


def city_corpus(path, distributions: bool = False):
    """What a teacher writes, made by hand: the teacher cities' sentences with their cities as LOC
    entities, and, with ``distributions``, the label distributions a CVT teacher would store."""
    nlp = spacy.blank("en")
    tag_names = ["O", "B-LOC", "I-LOC", "L-LOC", "U-LOC"]
    docs = []
    for example in city_examples(nlp, TEACHER_CITIES):
        doc = example.reference
        if distributions:
            tags = [f"U-{token.ent_type_}" if token.ent_type_ else "O" for token in doc]
            probs = numpy.full((len(doc), len(tag_names)), 0.025)
            probs[numpy.arange(len(doc)), [tag_names.index(tag) for tag in tags]] = 0.9
            write_distributions(doc, "cvt_ner", tag_names, probs)
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


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
def teacher_corpus_path(teacher_path, tmp_path_factory):
    """Raw sentences about the teacher cities' annotated by the teacher with `spacy apply`."""
    folder = tmp_path_factory.mktemp("teacher_corpus")
    unlabeled = folder / "unlabeled.jsonl"  # spacy apply reads a .txt file as one text, a .jsonl line as one
    srsly.write_jsonl(unlabeled, [{"text": t.format(city)} for city in TEACHER_CITIES for t in TEMPLATES * 4])
    teacher_corpus = folder / "teacher_corpus.spacy"
    run_python(["-m", "spacy", "apply", str(teacher_path), str(unlabeled), str(teacher_corpus)], timeout=300)
    return teacher_corpus


def with_corpus(nlp, path, key):
    nlp.config["corpora"] = {"teacher": {"@readers": "spacy.Corpus.v1", "path": str(path), "gold_preproc": False}}
    nlp.config["initialize"]["components"]["cvt_ner"] = {key: "corpora.teacher"}
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
    texts = [t.format(city) for city in HELD_OUT_CITIES + TEACHER_CITIES for t in TEMPLATES]
    return sum(any(ent.text in CITIES and ent.label_ == "LOC" for ent in doc.ents) for doc in nlp.pipe(texts))


@pytest.mark.slow  # trains a teacher, runs `spacy apply`
def test_the_teacher_annotated_the_unlabeled_text(teacher_corpus_path, teacher_path):
    docs = list(DocBin().from_disk(teacher_corpus_path).get_docs(spacy.blank("en").vocab))
    assert len(docs) == len(TEACHER_CITIES) * len(TEMPLATES) * 4
    assert sum(any(ent.label_ == "LOC" for ent in doc.ents) for doc in docs) > len(docs) * 0.9


@pytest.mark.slow  # trains a teacher, runs `spacy apply`
def test_a_teacher_corpus_moves_the_model_towards_the_teacher(teacher_corpus_path, tmp_path):
    settings = {"unlabeled_warmup_steps": 1, "unlabeled_batch_size": 16}
    plain = with_corpus(make_nlp(**settings), teacher_corpus_path, "unlabeled_corpus")  # the same text, labels unused
    taught = with_corpus(make_nlp(**settings), teacher_corpus_path, "teacher_corpus")
    plain_losses, taught_losses = train(plain), train(taught)
    assert "cvt_ner_teacher" not in plain_losses
    assert taught_losses["cvt_ner_teacher"] > 0 and taught_losses["cvt_ner_unlabeled"] > 0
    assert found_cities(taught) > found_cities(plain) + 10
    taught.to_disk(tmp_path / "taught")
    loaded = spacy.load(tmp_path / "taught")
    assert found_cities(loaded) == found_cities(taught)
    assert loaded.get_pipe("cvt_ner").cfg["teacher_weight"] == 1.0


@pytest.mark.parametrize("targets", ["labels", "distributions"])
def test_teacher_weight_zero_leaves_the_primary_module_to_gold(targets, tmp_path):
    """In a CVT step on a teacher corpus, the teacher's gradient reaches the primary module times
    teacher_weight: at 0 its weights stay as they were (plain SGD without weight decay: no gradient,
    no change); at 1 they move, so the check can fail."""
    corpus = city_corpus(tmp_path / "teacher_corpus.spacy", distributions=True)
    moved = {}
    for weight in (0.0, 1.0):
        nlp = with_corpus(make_nlp(teacher_weight=weight, teacher_targets=targets, unlabeled_warmup_steps=1),
                          corpus, "teacher_corpus")
        nlp.initialize(lambda: city_examples(nlp, GOLD_CITIES))
        component = nlp.get_pipe("cvt_ner")
        before = weights(component)
        losses = component.unlabeled_step(SGD(0.1, L2=0.0, grad_clip=0.0))
        assert losses["cvt_ner_unlabeled"] > 0 and (losses["cvt_ner_teacher"] > 0) == (weight > 0)
        moved[weight] = changed(before, weights(component), PRIMARY)
    assert moved == {0.0: False, 1.0: True}


def test_a_teacher_corpus_without_annotation_is_an_error(tmp_path):
    nlp = spacy.blank("en")
    path = tmp_path / "plain.spacy"
    DocBin(docs=[nlp.make_doc(t.format(c)) for c in TEACHER_CITIES for t in TEMPLATES]).to_disk(path)
    with pytest.raises(ValueError, match="teacher corpus 'corpora.teacher' has no entity labels"):
        train(with_corpus(make_nlp(), path, "teacher_corpus"), steps=1)


def test_teacher_labels_outside_the_label_set_are_named(tmp_path):
    nlp = with_corpus(make_nlp(), city_corpus(tmp_path / "teacher_corpus.spacy"), "teacher_corpus")
    nlp.config["initialize"]["components"]["cvt_ner"]["labels"] = ["PER"]
    with pytest.raises(ValueError, match=r"entity labels \['LOC'\] that are not among the component's labels \['PER'\]"):
        train(nlp, steps=1)


def late_label_corpus(path, distributions: bool = False):
    """The teacher cities' docs, then one doc (index 24) whose city is an ORG: a label the
    student, trained on LOC, does not know, far beyond the first batch and window."""
    city_corpus(path, distributions=distributions)
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    late = Example.from_dict(nlp.make_doc("I work at Acme now ."), {"entities": [(10, 14, "ORG")]}).reference
    if distributions:
        tag_names = ["O", "B-ORG", "I-ORG", "L-ORG", "U-ORG"]
        write_distributions(late, "cvt_ner", tag_names, numpy.full((len(late), len(tag_names)), 0.2))
    DocBin(docs=docs + [late], store_user_data=True).to_disk(path)
    return path


@pytest.mark.parametrize("targets", ["labels", "distributions"])
def test_a_label_the_student_lacks_late_in_the_teacher_corpus_fails_at_initialize(targets, tmp_path):
    """The whole teacher corpus is checked before step 1, not its first batch only."""
    corpus = late_label_corpus(tmp_path / "teacher_corpus.spacy", distributions=targets == "distributions")
    nlp = with_corpus(make_nlp(teacher_targets=targets, unlabeled_batch_size=4, shuffle_window=8), corpus, "teacher_corpus")
    with pytest.raises(ValueError, match=r"doc 24 \('I work at Acme now \.'\) of the teacher corpus 'corpora.teacher' has .*ORG"):
        nlp.initialize(lambda: city_examples(nlp, GOLD_CITIES))


def test_a_teacher_corpus_needs_unlabeled_steps_and_excludes_plain_unlabeled_text(tmp_path):
    corpus = city_corpus(tmp_path / "teacher_corpus.spacy")
    with pytest.raises(ValueError, match="unlabeled_steps = 0: the teacher's labels are learned"):
        train(with_corpus(make_nlp(unlabeled_steps=0), corpus, "teacher_corpus"), steps=1)
    nlp = with_corpus(make_nlp(), corpus, "teacher_corpus")
    nlp.config["initialize"]["components"]["cvt_ner"]["unlabeled_corpus"] = "corpora.teacher"
    with pytest.raises(ValueError, match="sets both unlabeled_corpus"):
        train(nlp, steps=1)


# --- soft targets: a CVT teacher stores its distributions, a student learns them ----------


@pytest.fixture(scope="module")
def cvt_teacher_path(tmp_path_factory):
    """A CVT teacher trained on every city, saved without store_distributions, then switched
    on in its config.cfg as a user would: the saved cfg must not switch it off again."""
    torch.manual_seed(0)
    nlp = make_nlp(unlabeled_steps=0)
    examples = city_examples(nlp, CITIES)
    optimizer = nlp.initialize(lambda: examples)
    for step in range(120):
        nlp.update(examples[(step * 8) % len(examples) :][:8], sgd=optimizer, drop=0.1)
    path = tmp_path_factory.mktemp("cvt_teacher") / "pipeline"
    nlp.to_disk(path)
    config = spacy.util.load_config(path / "config.cfg")
    config["components"]["cvt_ner"]["store_distributions"] = True
    config.to_disk(path / "config.cfg")
    return path


@pytest.fixture(scope="module")
def soft_teacher_corpus_path(cvt_teacher_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("soft_teacher_corpus")
    unlabeled = folder / "unlabeled.jsonl"
    srsly.write_jsonl(unlabeled, [{"text": t.format(city)} for city in TEACHER_CITIES for t in TEMPLATES * 4])
    teacher_corpus = folder / "teacher_corpus.spacy"
    run_python(["-m", "spacy", "apply", str(cvt_teacher_path), str(unlabeled), str(teacher_corpus)], timeout=300)
    return teacher_corpus


@pytest.mark.slow  # trains a teacher, runs `spacy apply`
def test_a_cvt_teacher_stores_its_distributions_through_spacy_apply(soft_teacher_corpus_path, cvt_teacher_path):
    teacher = spacy.load(cvt_teacher_path)
    assert found_cities(teacher) >= 0.9 * len(HELD_OUT_CITIES + TEACHER_CITIES) * len(TEMPLATES)
    tag_names = teacher.get_pipe("cvt_ner").tag_names
    docs = list(DocBin().from_disk(soft_teacher_corpus_path).get_docs(teacher.vocab))
    assert len(docs) == len(TEACHER_CITIES) * len(TEMPLATES) * 4
    for doc in docs:
        stored = doc._.cvt_distributions
        assert list(stored) == ["cvt_ner"]
        assert list(stored["cvt_ner"]["labels"]) == tag_names
        probs = numpy.asarray(stored["cvt_ner"]["probs"], dtype="float32")
        assert probs.shape == (len(doc), len(tag_names))
        assert numpy.allclose(probs.sum(axis=1), 1.0, atol=1e-2)
        # the distribution is what the entities were decoded from
        for ent in doc.ents:
            assert tag_names[int(probs[ent.start].argmax())] == f"U-{ent.label_}"
    # off by default: a pipeline saved without it writes none
    plain = make_nlp()
    plain.initialize(lambda: city_examples(plain, GOLD_CITIES))
    assert plain("I flew to Rome yesterday .")._.cvt_distributions is None


@pytest.mark.slow  # trains a teacher, runs `spacy apply`
def test_soft_targets_move_the_model_towards_the_teacher(soft_teacher_corpus_path, tmp_path):
    settings = {"unlabeled_warmup_steps": 1, "unlabeled_batch_size": 16}
    plain = with_corpus(make_nlp(**settings), soft_teacher_corpus_path, "unlabeled_corpus")
    soft = with_corpus(make_nlp(teacher_targets="distributions", **settings), soft_teacher_corpus_path, "teacher_corpus")
    plain_losses, soft_losses = train(plain), train(soft)
    assert soft_losses["cvt_ner_teacher"] > 0 and soft_losses["cvt_ner_unlabeled"] > 0
    assert found_cities(soft) > found_cities(plain) + 10
    soft.to_disk(tmp_path / "soft")
    loaded = spacy.load(tmp_path / "soft")
    assert found_cities(loaded) == found_cities(soft)
    assert loaded.get_pipe("cvt_ner").cfg["teacher_targets"] == "distributions"
    assert "store_distributions" not in loaded.get_pipe("cvt_ner").cfg


def test_soft_targets_from_a_corpus_without_distributions_are_an_error(tmp_path):
    nlp = with_corpus(make_nlp(teacher_targets="distributions"), city_corpus(tmp_path / "teacher_corpus.spacy"), "teacher_corpus")
    with pytest.raises(ValueError, match="teacher corpus 'corpora.teacher' has no label distributions.*store_distributions = true"):
        train(nlp, steps=1)


def test_distributions_over_unknown_tags_are_named(tmp_path):
    corpus = city_corpus(tmp_path / "teacher_corpus.spacy", distributions=True)
    nlp = with_corpus(make_nlp(teacher_targets="distributions"), corpus, "teacher_corpus")
    nlp.config["initialize"]["components"]["cvt_ner"]["labels"] = ["PER"]
    with pytest.raises(ValueError, match=r"distributions over the tags \['B-LOC', 'I-LOC', 'L-LOC', 'U-LOC'\]"):
        train(nlp, steps=1)


def test_teacher_targets_must_be_known():
    with pytest.raises(ValueError, match=r"teacher_targets must be one of \['labels', 'distributions'\], got 'soft'"):
        make_nlp(teacher_targets="soft")


def test_distributions_follow_the_students_tokens():
    """A token the two tokenizations split differently gets no target; the others get their own."""
    vocab = spacy.blank("en").vocab
    teacher_doc = spacy.tokens.Doc(vocab, words=["New-York", "is", "big"])
    student_doc = spacy.tokens.Doc(vocab, words=["New", "-", "York", "is", "big"])
    probs = numpy.asarray([[0.1, 0.9], [0.8, 0.2], [0.6, 0.4]], dtype="float16")
    write_distributions(teacher_doc, "teacher", ["U-LOC", "O"], probs)
    entry = teacher_entry(teacher_doc, "cvt_ner")  # the only entry, under another name
    targets, mask = aligned_targets(Example(student_doc, teacher_doc), entry, ["O", "U-LOC", "U-PER"])
    assert mask[:, 0].tolist() == [0, 0, 0, 1, 1]
    assert numpy.allclose(targets[3:], [[0.2, 0.8, 0.0], [0.4, 0.6, 0.0]], atol=1e-3)
    with pytest.raises(KeyError):
        aligned_targets(Example(student_doc, teacher_doc), entry, ["O"])
