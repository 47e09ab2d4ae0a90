"""A run that sources a trained CVT component reads unlabeled text on from where the earlier run stopped."""

import json
from pathlib import Path

from spacy.tokens import DocBin
from spacy.training.initialize import init_nlp
from thinc.api import Config

from .conftest import make_nlp, ner_examples

BATCH = 8


def trained(unlabeled_text_file, wnut_sentences, steps: int):
    nlp = make_nlp(unlabeled_path=unlabeled_text_file, unlabeled_batch_size=BATCH, shuffle_window=50)
    examples = ner_examples(nlp, wnut_sentences[:32])
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples[:8], sgd=optimizer)
    return nlp, examples


def sourcing_config(nlp, source, train_path, callback: bool, name: str = "spacy-cvt.resume_unlabeled.v1") -> Config:
    """The trained pipeline's own config, with its component taken from `source`."""
    config = nlp.config.copy()
    config["paths"].update(train=str(train_path), dev=str(train_path))
    config["corpora"].update(
        train={"@readers": "spacy.Corpus.v1", "path": "${paths.train}"},
        dev={"@readers": "spacy.Corpus.v1", "path": "${paths.dev}"},
    )
    config["components"]["cvt_ner"] = {"source": str(source)}
    if callback:
        config["initialize"]["after_init"] = {"@callbacks": name}
    return config


def test_sourced_component_continues_the_unlabeled_stream(tmp_path, unlabeled_text_file, wnut_sentences):
    nlp, examples = trained(unlabeled_text_file, wnut_sentences, steps=7)
    component = nlp.get_pipe("cvt_ner")
    assert component.cfg["unlabeled_docs_seen"] == 6 * BATCH + 2  # the 50-doc shuffle window ends in a batch of 2
    nlp.to_disk(tmp_path / "model")
    uninterrupted = [eg.predicted.text for eg in component.unlabeled.next_batch()]
    train_path = tmp_path / "train.spacy"
    DocBin(docs=[eg.reference for eg in examples]).to_disk(train_path)

    resumed = init_nlp(sourcing_config(nlp, tmp_path / "model", train_path, callback=True))
    sourced = resumed.get_pipe("cvt_ner")
    assert sourced.trains_on_unlabeled
    assert [eg.predicted.text for eg in sourced.unlabeled.next_batch()] == uninterrupted

    # spaCy resumes sourced components without initializing them: no callback, no unlabeled text
    plain = init_nlp(sourcing_config(nlp, tmp_path / "model", train_path, callback=False))
    assert not plain.get_pipe("cvt_ner").trains_on_unlabeled


def test_a_pipeline_saved_before_the_rename_resumes_under_the_old_names(tmp_path, unlabeled_text_file, wnut_sentences):
    """Before 2026-12 (issue 46) the callback was spacy-cvt.resume_raw_text.v1 and the saved cfg
    counted raw_docs_seen: a pipeline saved then, and a config naming the old callback, resume
    where the earlier run stopped."""
    nlp, examples = trained(unlabeled_text_file, wnut_sentences, steps=7)
    nlp.to_disk(tmp_path / "model")
    uninterrupted = [eg.predicted.text for eg in nlp.get_pipe("cvt_ner").unlabeled.next_batch()]
    cfg_path = tmp_path / "model" / "cvt_ner" / "cfg"
    cfg = json.loads(cfg_path.read_text())
    cfg["raw_docs_seen"] = cfg.pop("unlabeled_docs_seen")
    cfg_path.write_text(json.dumps(cfg))
    train_path = tmp_path / "train.spacy"
    DocBin(docs=[eg.reference for eg in examples]).to_disk(train_path)

    config = sourcing_config(nlp, tmp_path / "model", train_path, callback=True, name="spacy-cvt.resume_raw_text.v1")
    sourced = init_nlp(config).get_pipe("cvt_ner")
    assert "raw_docs_seen" not in sourced.cfg and sourced.cfg["unlabeled_docs_seen"] == 6 * BATCH + 2
    assert sourced.trains_on_unlabeled
    assert [eg.predicted.text for eg in sourced.unlabeled.next_batch()] == uninterrupted


def test_the_callback_is_registered_under_its_earlier_name_too():
    """In code (what importing spacy_cvt registers) and as an entry point (what spaCy finds
    without the import), both names give the same callback."""
    import importlib
    import tomllib

    import catalogue
    from spacy.util import registry

    from spacy_cvt.pipeline.resume import make_resume_unlabeled

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    entry_points = pyproject["project"]["entry-points"]["spacy_callbacks"]
    for name in ("spacy-cvt.resume_unlabeled.v1", "spacy-cvt.resume_raw_text.v1"):
        assert catalogue._get((*registry.callbacks.namespace, name)) is make_resume_unlabeled, name
        module, function = entry_points[name].split(":")
        assert getattr(importlib.import_module(module), function) is make_resume_unlabeled, name


def test_initialize_starts_the_unlabeled_text_again(unlabeled_text_file, wnut_sentences):
    nlp, examples = trained(unlabeled_text_file, wnut_sentences, steps=3)
    first = [eg.predicted.text for eg in make_nlp_stream(unlabeled_text_file, wnut_sentences).next_batch()]
    nlp.initialize(lambda: examples)
    assert nlp.get_pipe("cvt_ner").cfg["unlabeled_docs_seen"] == 0
    assert [eg.predicted.text for eg in nlp.get_pipe("cvt_ner").unlabeled.next_batch()] == first


def make_nlp_stream(unlabeled_text_file, wnut_sentences):
    nlp, _ = trained(unlabeled_text_file, wnut_sentences, steps=0)
    return nlp.get_pipe("cvt_ner").unlabeled
