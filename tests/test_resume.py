"""A run that sources a trained CVT component reads raw text on from where the earlier run stopped."""

from spacy.tokens import DocBin
from spacy.training.initialize import init_nlp
from thinc.api import Config

from .conftest import make_nlp, ner_examples

BATCH = 8


def trained(raw_text_file, wnut_sentences, steps: int):
    nlp = make_nlp(raw_path=raw_text_file, unlabeled_batch_size=BATCH, shuffle_window=50)
    examples = ner_examples(nlp, wnut_sentences[:32])
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples[:8], sgd=optimizer)
    return nlp, examples


def sourcing_config(nlp, source, train_path, callback: bool) -> Config:
    """The trained pipeline's own config, with its component taken from `source`."""
    config = nlp.config.copy()
    config["paths"].update(train=str(train_path), dev=str(train_path))
    config["corpora"].update(
        train={"@readers": "spacy.Corpus.v1", "path": "${paths.train}"},
        dev={"@readers": "spacy.Corpus.v1", "path": "${paths.dev}"},
    )
    config["components"]["cvt_ner"] = {"source": str(source)}
    if callback:
        config["initialize"]["after_init"] = {"@callbacks": "spacy-cvt.resume_raw_text.v1"}
    return config


def test_sourced_component_continues_the_raw_text_stream(tmp_path, raw_text_file, wnut_sentences):
    nlp, examples = trained(raw_text_file, wnut_sentences, steps=7)
    component = nlp.get_pipe("cvt_ner")
    assert component.cfg["raw_docs_seen"] == 6 * BATCH + 2  # the 50-doc shuffle window ends in a batch of 2
    nlp.to_disk(tmp_path / "model")
    uninterrupted = [eg.predicted.text for eg in component.raw_text.next_batch()]
    train_path = tmp_path / "train.spacy"
    DocBin(docs=[eg.reference for eg in examples]).to_disk(train_path)

    resumed = init_nlp(sourcing_config(nlp, tmp_path / "model", train_path, callback=True))
    sourced = resumed.get_pipe("cvt_ner")
    assert sourced.trains_on_raw_text
    assert [eg.predicted.text for eg in sourced.raw_text.next_batch()] == uninterrupted

    # spaCy resumes sourced components without initializing them: no callback, no raw text
    plain = init_nlp(sourcing_config(nlp, tmp_path / "model", train_path, callback=False))
    assert not plain.get_pipe("cvt_ner").trains_on_raw_text


def test_initialize_starts_the_raw_text_again(raw_text_file, wnut_sentences):
    nlp, examples = trained(raw_text_file, wnut_sentences, steps=3)
    first = [eg.predicted.text for eg in make_nlp_stream(raw_text_file, wnut_sentences).next_batch()]
    nlp.initialize(lambda: examples)
    assert nlp.get_pipe("cvt_ner").cfg["raw_docs_seen"] == 0
    assert [eg.predicted.text for eg in nlp.get_pipe("cvt_ner").raw_text.next_batch()] == first


def make_nlp_stream(raw_text_file, wnut_sentences):
    nlp, _ = trained(raw_text_file, wnut_sentences, steps=0)
    return nlp.get_pipe("cvt_ner").raw_text
