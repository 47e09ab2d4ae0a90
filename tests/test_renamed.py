"""Old names keep working (spacy_cvt/renamed.py; issue 46 renamed 'raw text' to unlabeled text and
'silver' to the teacher corpus): a user's config copied from a shipped one before the rename, an
old `--paths.raw` override on today's config, an old student config for cvt-distill."""

import logging
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training.initialize import init_nlp
from thinc.api import Config

from spacy_cvt.cli import distill as cli
from spacy_cvt.cli.heads import Head
from spacy_cvt.renamed import today_key, today_value

from .conftest import REPO, ner_examples

TINY = {
    "components.cvt_ner.model.hidden_size1": 16, "components.cvt_ner.model.projection_size1": 8,
    "components.cvt_ner.model.hidden_size2": 8, "components.cvt_ner.model.module_width": 8,
    "components.cvt_ner.model.hash_rows": 500, "components.cvt_ner.model.char_filters": 4,
    "components.cvt_ner.unlabeled_batch_size": 8, "components.cvt_ner.shuffle_window": 50,
}
# today's text in the shipped configs -> what it was before the rename
BEFORE = {
    "cvt_ner.cfg": {"\nunlabeled = null": "\nraw = null", "${paths.unlabeled}": "${paths.raw}"},
    "cvt-teacher_ner.cfg": {"\nteacher_corpus = null": "\nsilver = null", "${paths.teacher_corpus}": "${paths.silver}",
                            "[corpora.teacher]": "[corpora.silver]", '"corpora.teacher"': '"corpora.silver"'},
}


@pytest.fixture(scope="module")
def corpus(wnut_sentences, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    nlp = spacy.blank("en")
    for name, sentences in [("train", wnut_sentences[:40]), ("dev", wnut_sentences[40:80])]:
        DocBin(docs=[eg.reference for eg in ner_examples(nlp, sentences)]).to_disk(folder / f"{name}.spacy")
    return folder


def config_before_the_rename(name: str) -> Config:
    text = (REPO / "configs" / name).read_text(encoding="utf-8")
    for today, before in BEFORE[name].items():
        assert today in text, today
        text = text.replace(today, before)
    assert "unlabeled = null" not in text and "teacher_corpus = null" not in text
    return Config().from_str(text, interpolate=False)


def initialized(config: Config, corpus: Path, **paths) -> spacy.Language:
    """init_nlp (what `spacy train` runs first) of ``config`` with the data and ``paths`` overridden."""
    overrides = {"paths.train": str(corpus / "train.spacy"), "paths.dev": str(corpus / "dev.spacy"), **TINY,
                 **{f"paths.{key}": str(value) for key, value in paths.items()}}
    return init_nlp(spacy.util.load_config_from_str(config.to_str(), overrides=overrides, interpolate=False))


def test_a_cvt_config_copied_before_the_rename_still_trains(corpus, unlabeled_text_file):
    """[paths] raw and [corpora.unlabeled] path = ${paths.raw}: plain interpolation, no name needed."""
    nlp = initialized(config_before_the_rename("cvt_ner.cfg"), corpus, raw=unlabeled_text_file)
    component = nlp.get_pipe("cvt_ner")
    assert component.trains_on_unlabeled and not component.learns_from_teacher
    first_lines = set(unlabeled_text_file.read_text(encoding="utf-8").splitlines()[:50])
    assert {eg.predicted.text for eg in component.unlabeled.peek()} <= first_lines
    assert component.unlabeled_step(nlp.create_optimizer())["cvt_ner_unlabeled"] > 0


def test_a_teacher_config_copied_before_the_rename_still_trains(corpus):
    """[paths] silver, [corpora.silver], teacher_corpus = "corpora.silver"."""
    nlp = initialized(config_before_the_rename("cvt-teacher_ner.cfg"), corpus, silver=corpus / "dev.spacy")
    component = nlp.get_pipe("cvt_ner")
    assert component.learns_from_teacher and component.unlabeled.corpus_name == "corpora.silver"
    assert component.unlabeled_step(nlp.create_optimizer())["cvt_ner_teacher"] > 0


def test_an_old_paths_override_on_todays_config_fills_todays_key(corpus, unlabeled_text_file, caplog):
    """`spacy train configs/cvt_ner.cfg --paths.raw FILE`, as the README said before the rename:
    spaCy adds the unknown key silently; the component reads it as [paths] unlabeled, and says so.
    (`--paths.silver` on today's cvt-teacher_ner.cfg cannot be rescued so: spaCy resolves every
    [corpora] block before any component, and stops at the teacher corpus's null path, E913.)"""
    config = Config().from_disk(REPO / "configs" / "cvt_ner.cfg", interpolate=False)
    with caplog.at_level(logging.WARNING, logger="spacy_cvt"):
        nlp = initialized(config, corpus, raw=unlabeled_text_file)
    assert nlp.get_pipe("cvt_ner").trains_on_unlabeled
    assert "[paths] raw is the earlier name of [paths] unlabeled" in caplog.text


def test_a_student_config_written_before_the_rename_still_distills(tmp_path):
    """cvt-distill --config with [paths] silver (a copy of an earlier student_ner.cfg): the
    teacher corpus's path goes there."""
    text = cli.CONFIGS["cvt_ner"].read_text(encoding="utf-8")
    for today, before in BEFORE["cvt-teacher_ner.cfg"].items():
        text = text.replace(today, before)
    (tmp_path / "student.cfg").write_text(text, encoding="utf-8")
    config = cli.student_config(Head("ents"), ["LOC"], train=Path("t.spacy"), dev=Path("d.spacy"),
                                teacher_corpus=Path("s.spacy"), vectors=None, config=tmp_path / "student.cfg")
    assert config["paths"]["silver"] == "s.spacy" and "teacher_corpus" not in config["paths"]
    assert config.interpolate()["corpora"]["silver"]["path"] == "s.spacy"


def test_old_config_keys_and_values_read_as_todays():
    """What the project's stale check applies to a recorded run's config and command."""
    assert today_key("paths.raw") == "paths.unlabeled" and today_key("paths.silver") == "paths.teacher_corpus"
    assert today_key("corpora.silver.path") == "corpora.teacher.path" and today_key("corpora.silver") == "corpora.teacher"
    assert today_key("corpora.silverware.path") == "corpora.silverware.path"
    assert today_key("paths.train") == "paths.train" and today_key("components.raw") == "components.raw"
    assert today_value("corpora.silver") == "corpora.teacher" and today_value("corpus/ner/trf_silver.spacy") == "corpus/ner/trf_silver.spacy"
    assert today_value("spacy-cvt.resume_raw_text.v1") == "spacy-cvt.resume_unlabeled.v1" and today_value(3) == 3
