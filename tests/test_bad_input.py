"""Bad input gets a clear error naming the problem, or is handled without a crash."""

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example

from spacy_cvt.model.features import static_vectors

from .conftest import TINY_MODEL, make_nlp, ner_examples


@pytest.fixture(scope="module")
def ner_nlp(wnut_sentences):
    nlp = make_nlp("cvt_ner")
    examples = ner_examples(nlp, wnut_sentences[:64])
    nlp.initialize(lambda: examples)
    return nlp


def test_unlabeled_corpus_not_in_the_config(wnut_sentences):
    nlp = make_nlp("cvt_ner")
    nlp.config["initialize"]["components"]["cvt_ner"] = {"unlabeled_corpus": "corpora.plain"}
    examples = ner_examples(nlp, wnut_sentences[:8])
    with pytest.raises(ValueError, match=r"no \[corpora.plain\] section"):
        nlp.initialize(lambda: examples)


def test_empty_unlabeled_text_fails_at_initialize(wnut_sentences, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    nlp = make_nlp("cvt_ner", empty)
    examples = ner_examples(nlp, wnut_sentences[:8])
    with pytest.raises(ValueError, match="yielded no documents"):
        nlp.initialize(lambda: examples)


def test_missing_unlabeled_text_file(wnut_sentences, tmp_path):
    nlp = make_nlp("cvt_ner", tmp_path / "missing.txt")
    examples = ner_examples(nlp, wnut_sentences[:8])
    with pytest.raises(FileNotFoundError, match="missing.txt' does not exist"):
        nlp.initialize(lambda: examples)


def test_no_labels_in_the_training_data():
    nlp = make_nlp("cvt_ner")
    docs = [Doc(nlp.vocab, words=["no", "entities", "here"])]
    examples = [Example(doc, doc.copy()) for doc in docs]
    with pytest.raises(ValueError, match="no entity labels found in the training data"):
        nlp.initialize(lambda: examples)


def test_tokens_without_gold_are_left_out_of_the_loss_not_learned_as_o(ner_nlp):
    """Partial annotation ("-"): those tokens get no gradient; annotated ones do."""
    doc = ner_nlp.make_doc("Paul lives in New York")
    example = Example.from_dict(doc, {"entities": ["U-person", "-", "-", "B-location", "L-location"]})
    component = ner_nlp.get_pipe("cvt_ner")
    scores = component.model.predict([example.predicted])
    loss, d_primary = component.get_loss([example], scores)
    touched = numpy.abs(component.model.ops.to_numpy(d_primary)).sum(axis=1) > 0
    assert loss > 0 and touched.tolist() == [True, False, False, True, True]


def test_gold_label_unknown_to_the_component(ner_nlp):
    doc = Doc(ner_nlp.vocab, words=["Frodo", "walks"])
    reference = Doc(ner_nlp.vocab, words=["Frodo", "walks"], ents=["B-HOBBIT", "O"])
    with pytest.raises(ValueError, match="'U-HOBBIT'.*not among the component's labels"):
        ner_nlp.update([Example(doc, reference)])


def test_overlapping_gold_chunks_are_an_error():
    nlp = make_nlp("cvt_chunker")
    reference = Doc(nlp.vocab, words=["the", "big", "dog", "barks"])
    reference.spans["chunks"] = [reference.char_span(0, 11, "NP"), reference.char_span(4, 11, "NP")]
    example = Example(Doc(nlp.vocab, words=[t.text for t in reference]), reference)
    with pytest.raises(ValueError, match="overlapping spans"):
        nlp.initialize(lambda: [example])


def test_empty_whitespace_long_and_unusual_docs_predict_without_crashing(ner_nlp):
    texts = ["", " ", "\n\t  \n", "🙂" * 50, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮rtl‬ z͑a͗l͌g͗o 中文 العربية"]
    docs = list(ner_nlp.pipe(texts))
    assert [len(doc.ents) for doc in docs[:3]] == [0, 0, 0]
    assert all(token.ent_iob_ == "O" for doc in docs[:3] for token in doc)
    long_doc = Doc(ner_nlp.vocab, words=["word"] * 10_000)
    ner_nlp.get_pipe("cvt_ner")(long_doc)
    assert all(token.ent_iob_ in ("B", "I", "O") for token in long_doc), "every token gets a prediction"


def test_bad_component_settings():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="attr must be one of"):
        nlp.add_pipe("cvt_tagger", config={"attr": "lemma", "model": dict(TINY_MODEL)})
    with pytest.raises(ValueError, match="unlabeled_steps and unlabeled_warmup_steps must be >= 0"):
        nlp.add_pipe("cvt_ner", config={"unlabeled_steps": -1, "model": dict(TINY_MODEL)})
    with pytest.raises(ValueError, match="unlabeled_batch_size and shuffle_window must be >= 1"):
        nlp.add_pipe("cvt_ner", config={"unlabeled_batch_size": 0, "model": dict(TINY_MODEL)})


def test_adding_a_label_after_the_model_is_built(ner_nlp):
    with pytest.raises(ValueError, match="cannot add the label"):
        ner_nlp.get_pipe("cvt_ner").add_label("NEW")


def test_vectors_of_a_different_width_than_trained_with():
    vocab = spacy.blank("en").vocab
    vocab.set_vector("hello", numpy.ones((5,), dtype="float32"))
    doc = Doc(vocab, words=["hello", "world"])
    vectors = static_vectors([doc], vocab, "LOWER", 5)
    assert vectors[0].tolist() == [1.0] * 5 and vectors[1].tolist() == [0.0] * 5  # unknown -> 0
    with pytest.raises(ValueError, match="built for 3-dimensional word vectors"):
        static_vectors([doc], vocab, "LOWER", 3)
