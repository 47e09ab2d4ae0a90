"""Save and load: to_disk + spacy.load in a fresh process, to_bytes/from_bytes, config round
trips, `spacy package` into an installable package, and pipe == one by one."""

import json
import os

import pytest
import spacy

from .conftest import TINY_MODEL, make_nlp, ner_examples, run_python

TEXTS = [
    "Paul Walker was spotted in Los Angeles with Vin Diesel .",
    "Watching Game of Thrones on HBO tonight with @john !",
    "",
    "   ",
    "Emoji 🙂🙃 and ünïcödé ☃ from München to Zürich",
]


@pytest.fixture(scope="module")
def trained(wnut_sentences, tmp_path_factory):
    nlp = make_nlp("cvt_ner")
    examples = ner_examples(nlp, wnut_sentences[:200])
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(4):
        for start in range(0, len(examples), 32):
            nlp.update(examples[start : start + 32], sgd=optimizer, drop=0.1)
    path = tmp_path_factory.mktemp("pipeline") / "cvt"
    nlp.to_disk(path)
    return nlp, path


def entities(nlp, texts=TEXTS):
    return [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]


def probabilities(nlp, texts=TEXTS):
    """The primary view's scores: equal predictions with different scores would hide bugs."""
    ner = nlp.get_pipe("cvt_ner")
    return ner.model.predict([nlp.make_doc(text) for text in texts])["primary"]


@pytest.mark.slow
def test_load_in_a_fresh_process_gives_identical_predictions(trained):
    nlp, path = trained
    script = (
        "import json, sys, spacy\n"
        f"nlp = spacy.load({str(path)!r})\n"
        f"texts = {TEXTS!r}\n"
        "print(json.dumps([[(e.start, e.end, e.label_) for e in d.ents] for d in nlp.pipe(texts)]))\n"
        "scores = nlp.get_pipe('cvt_ner').model.predict([nlp.make_doc(t) for t in texts])['primary']\n"
        "print(json.dumps(scores.round(5).tolist()))\n"
    )
    # No import of spacy_cvt: spaCy finds the factory through the package's entry points.
    result = run_python(["-c", script], cwd="/")
    loaded_entities, loaded_scores = [json.loads(line) for line in result.stdout.strip().splitlines()[-2:]]
    assert loaded_entities == [[list(span) for span in doc] for doc in entities(nlp)]
    assert loaded_scores == probabilities(nlp).round(5).tolist()


def test_to_bytes_from_bytes_round_trip(trained):
    nlp, _ = trained
    clone = spacy.blank("en")
    clone.add_pipe("cvt_ner", config={"model": dict(TINY_MODEL)})
    clone.from_bytes(nlp.to_bytes())
    assert clone.get_pipe("cvt_ner").labels == nlp.get_pipe("cvt_ner").labels
    assert entities(clone) == entities(nlp)
    assert (probabilities(clone) == probabilities(nlp)).all()


def test_pipe_in_batches_equals_one_by_one(trained):
    nlp, _ = trained
    texts = TEXTS * 3
    batched = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=7)]
    assert batched == [[(e.start, e.end, e.label_) for e in nlp(text).ents] for text in texts]


def test_labels_and_shapes_live_in_the_saved_cfg(trained):
    _, path = trained
    cfg = json.loads((path / "cvt_ner" / "cfg").read_text())
    assert len(cfg["labels"]) == 6 and cfg["n_vector_dims"] == 0
    config = (path / "config.cfg").read_text()
    assert "spacy-cvt.CVTTagger.v1" in config


def test_config_round_trips_through_its_string_and_the_saved_file(trained):
    nlp, path = trained
    text = nlp.config.to_str()
    rebuilt = spacy.util.load_model_from_config(spacy.util.load_config_from_str(text), auto_fill=True, validate=True)
    assert rebuilt.config.to_str() == text
    saved = spacy.util.load_config(path / "config.cfg")
    assert saved.to_str() == text
    assert saved["components"]["cvt_ner"]["model"]["hidden_size1"] == TINY_MODEL["hidden_size1"]


@pytest.mark.slow
def test_spacy_package_builds_a_package_that_requires_spacy_cvt_and_loads(trained, tmp_path):
    nlp, path = trained
    run_python(["-m", "spacy", "package", str(path), str(tmp_path), "--name", "cvt_pkg", "--version", "0.0.1"])
    package = tmp_path / "en_cvt_pkg-0.0.1"
    meta = json.loads((package / "meta.json").read_text())
    assert any(requirement.startswith("spacy-cvt") for requirement in meta["requirements"])
    # Install the sdist as a user would (its dependencies are already here) and load it by name.
    target = tmp_path / "site"
    sdist = package / "dist" / "en_cvt_pkg-0.0.1.tar.gz"
    run_python(["-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(sdist)])
    script = (
        "import json, spacy\n"
        "nlp = spacy.load('en_cvt_pkg')\n"
        f"print(json.dumps([[(e.start, e.end, e.label_) for e in d.ents] for d in nlp.pipe({TEXTS!r})]))\n"
    )
    result = run_python(["-c", script], cwd="/", env={**os.environ, "PYTHONPATH": str(target)})
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[list(span) for span in doc] for doc in entities(nlp)]


def test_a_pipeline_saved_by_an_earlier_version_loads_and_predicts_the_same():
    """tests/data/saved_pipeline was saved by spacy-cvt 610ddc8, when the model's settings were a
    dict and each factory listed the training settings (tests/data/make_saved_pipeline.py)."""
    import numpy

    from spacy_cvt.model.model_settings import ModelSettings
    from spacy_cvt.pipeline.component_settings import CVTSettings

    path = os.path.join(os.path.dirname(__file__), "data", "saved_pipeline")
    with open(os.path.join(path, "expected.json"), encoding="utf-8") as file:
        expected = json.load(file)
    nlp = spacy.load(path)
    docs = list(nlp.pipe(expected["texts"]))
    assert [[[e.text, e.label_] for e in doc.ents] for doc in docs] == expected["ents"]
    assert [[t.tag_ for t in doc] for doc in docs] == expected["tags"]
    for name in nlp.pipe_names:
        component = nlp.get_pipe(name)
        numpy.testing.assert_allclose(component.model.predict(docs)["primary"], expected["scores"][name], atol=1e-5)
        assert isinstance(component.model.attrs["settings"], ModelSettings)
        # its cfg counts raw_docs_seen, read under today's name (RENAMED_CFG_KEYS)
        assert "raw_docs_seen" not in component.cfg and component.cfg["unlabeled_docs_seen"] == 0
        assert component.model.attrs["settings"].hidden_size1 == 16
        assert component.cfg["unlabeled_steps"] == 0
        # every training setting, with its default; store_distributions is an attribute, read from the config
        assert set(CVTSettings.__dataclass_fields__) - {"store_distributions"} <= set(component.cfg)
        assert component.cfg["teacher_targets"] == "labels" and component.cfg["learn_rate_scale"] == 1.0
        assert component.store_distributions is False


def test_a_load_time_config_value_for_a_training_setting_wins(trained, tmp_path):
    """spacy.load(path, config=...) used to leave every training setting as the saved cfg had it
    (only outside_weight, overwrite_ents and store_distributions escaped); the config a user
    passes is what the pipeline uses, and what a further save keeps. Learned state (labels,
    shapes, unlabeled_docs_seen) still comes from the saved cfg."""
    _, path = trained
    overrides = {"unlabeled_steps": 3, "label_smoothing": 0.0, "teacher_weight": 0.5}
    loaded = spacy.load(path, config={"components": {"cvt_ner": overrides}})
    ner = loaded.get_pipe("cvt_ner")
    assert {key: ner.cfg[key] for key in overrides} == overrides
    assert ner.labels and ner.cfg["n_tok2vec_dims"] is not None
    loaded.to_disk(tmp_path / "again")
    again = spacy.load(tmp_path / "again").get_pipe("cvt_ner")
    assert {key: again.cfg[key] for key in overrides} == overrides
    assert again.labels == ner.labels
    assert entities(spacy.load(tmp_path / "again")) == entities(spacy.load(path))
