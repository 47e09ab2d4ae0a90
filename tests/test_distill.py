"""`python -m spacy cvt-distill`: a trained pipeline in, a small CVT student out (spacy_cvt/cli/distill.py).

The teacher is a rule-based entity_ruler saved to disk: deterministic, fast, and with labels
of its own (TITLE: runs of title-case words, NUM: numbers), so that what the student learns
can only have come from it. TRAIN and DEV are WNUT-17 sentences it annotated (a user's gold
agrees with their teacher), so the student's dev score is its agreement with the teacher on
sentences the transfer set never showed.
"""
import random
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
import spacy
import typer
from spacy.scorer import Scorer
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from wasabi import Printer

from spacy_cvt.cli import distill as cli
from spacy_cvt.cli.heads import Head, component_heads, parse_head, teacher_head

from .conftest import REPO, TINY_MODEL, spacy_command

STEPS = ["transfer set", "annotate", "train", "tune", "compare"]
PATTERNS = [{"label": "TITLE", "pattern": [{"IS_TITLE": True, "OP": "+"}]},
            {"label": "NUM", "pattern": [{"LIKE_NUM": True}]}]
# a student that trains in seconds on 2 cores
TINY = {**{f"components.cvt_ner.model.{key}": value for key, value in TINY_MODEL.items() if key != "@architectures"},
        "training.max_steps": 80, "training.eval_frequency": 40, "training.optimizer.learn_rate.total_steps": 80,
        "training.optimizer.learn_rate.warmup_steps": 10, "training.optimizer.learn_rate.initial_rate": 0.01,
        "components.cvt_ner.unlabeled_warmup_steps": 10, "training.batcher.size": 16}


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(PATTERNS)
    path = tmp_path_factory.mktemp("teacher") / "ruler"
    nlp.to_disk(path)
    return path


def annotated(teacher: Path, sentences, path: Path) -> Path:
    """WNUT sentences (their words) as the teacher annotates them, written to ``path``."""
    nlp = spacy.load(teacher)
    docs = nlp.pipe(Doc(nlp.vocab, words=[columns[0] for columns in sentence]) for sentence in sentences)
    DocBin(docs=docs).to_disk(path)
    return path


@pytest.fixture(scope="module")
def data(teacher, wnut_sentences, unlabeled_text_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gold")
    unlabeled = folder / "unlabeled.txt"
    unlabeled.write_text("\n".join(unlabeled_text_file.read_text(encoding="utf-8").splitlines()[:300]) + "\n", encoding="utf-8")
    return (annotated(teacher, wnut_sentences[:200], folder / "train.spacy"),
            annotated(teacher, wnut_sentences[200:300], folder / "dev.spacy"), unlabeled)


def chance_f(dev: Path, seed: int = 0) -> float:
    """Entity F-score against the teacher of each dev doc given another doc's entities (same
    count, lengths and labels, placed where the other doc has them): a chance baseline."""
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
    others = docs[:]
    random.Random(seed).shuffle(others)
    examples = []
    for doc, other in zip(docs, others):
        guess = Doc(nlp.vocab, words=[t.text for t in doc])
        guess.ents = [Span(guess, e.start, e.end, e.label_) for e in other.ents if e.end <= len(doc)]
        examples.append(Example(guess, doc))
    return Scorer.score_spans(examples, "ents")["ents_f"] or 0.0


@contextmanager
def deadline(seconds: int):
    """A TimeoutError in this (the main) thread after ``seconds``: in-process training cannot hang the suite."""
    def expired(*_):
        raise TimeoutError(f"distill ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(teacher, data, output, **kwargs):
    train, dev, unlabeled = data
    with deadline(240):
        return cli.distill(teacher, train, dev, unlabeled, output, overrides=TINY, copies=1, max_words=3000, trials=6,
                           **kwargs)


@pytest.mark.slow
@pytest.mark.e2e  # about 3.5 minutes on 2 cores: CI runs it with the other end-to-end runs
def test_the_student_learns_the_teachers_entities_and_a_rerun_resumes(teacher, data, tmp_path):
    output = tmp_path / "distilled"
    done = run(teacher, data, output)
    assert done.head == Head("ents", None, "entity_ruler") and done.ran == STEPS
    student = done.comparison["student"]
    chance = chance_f(data[1])
    # the dev score is the agreement with the teacher on sentences the transfer set never held
    assert student["dev_score"] > max(0.4, chance + 0.3), (student, chance)
    assert done.comparison["teacher"]["dev_score"] == 1.0
    assert set(spacy.load(output / "student").get_pipe("cvt_ner").labels) == {"NUM", "TITLE"}
    assert 0 < student["parameters"] and student["disk_bytes"] > 0 and student["words_per_second"] > 0
    outputs = [output / name for name in ("transfer.spacy", "teacher_corpus.spacy", "training", "student", "distill.json")]
    mtimes = [path.stat().st_mtime_ns for path in outputs]

    again = run(teacher, data, output)
    assert again.ran == [] and [path.stat().st_mtime_ns for path in outputs] == mtimes
    assert again.comparison == done.comparison

    (output / "distill.json").unlink()
    rebuilt = run(teacher, data, output)
    assert rebuilt.ran == ["compare"] and [path.stat().st_mtime_ns for path in outputs[:-1]] == mtimes[:-1]
    assert not list(output.glob("*.partial"))


def test_a_failed_step_leaves_no_output_a_rerun_takes_as_done(teacher, data, tmp_path, monkeypatch):
    output = tmp_path / "distilled"

    def killed(nlp, docs, out, **kwargs):
        out.write_bytes(b"half a DocBin")
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "annotate", killed)
    with pytest.raises(KeyboardInterrupt):
        run(teacher, data, output)
    assert (output / "transfer.spacy").exists() and (output / "teacher_corpus.spacy.partial").exists()
    assert not (output / "teacher_corpus.spacy").exists()  # so a rerun annotates again


def test_a_step_runs_when_its_output_is_missing_and_so_does_every_later_one(tmp_path):
    written = []

    def step(name):
        return (name, tmp_path / name, lambda out: (written.append(name), out.write_text(name)))

    steps = [step(name) for name in ("a", "b", "c")]
    assert cli.run_steps(steps, Printer(no_print=True)) == ["a", "b", "c"]
    assert cli.run_steps(steps, Printer(no_print=True)) == []
    (tmp_path / "b").unlink()
    assert cli.run_steps(steps, Printer(no_print=True)) == ["b", "c"]
    assert written == ["a", "b", "c", "b", "c"] and sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]


def test_help_names_the_arguments():
    text = spacy_command(["cvt-distill", "--help"])
    for name in ("{teacher} {train} {dev} {unlabeled}", "{output}", "--config", "--head", "--gpu-id", "--copies", "--max-words"):
        assert name in text, name


def test_a_teacher_that_sets_no_entities_or_tags_is_an_error_naming_what_it_sets(data, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "sentencizer")
    with pytest.raises(typer.BadParameter, match=r"sets no entities.*token\.is_sent_start"):
        run(tmp_path / "sentencizer", data, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_missing_unlabeled_file_or_teacher_is_an_error_naming_it(teacher, data, tmp_path):
    train, dev, _ = data
    with pytest.raises(typer.BadParameter, match="no file, folder of files or glob") as error:
        cli.distill(teacher, train, dev, tmp_path / "missing.txt", tmp_path / "out")
    assert error.value.param_hint == "UNLABELED" and "missing.txt" in str(error.value)
    with pytest.raises(typer.BadParameter, match="cannot load") as error:
        cli.distill(tmp_path / "nothing", train, dev, data[2], tmp_path / "out")
    assert error.value.param_hint == "TEACHER_MODEL"


def test_a_dev_file_without_entities_is_an_error(teacher, data, wnut_sentences, tmp_path):
    nlp = spacy.blank("en")
    DocBin(docs=[Doc(nlp.vocab, words=[c[0] for c in s]) for s in wnut_sentences[:20]]).to_disk(tmp_path / "dev.spacy")
    with pytest.raises(typer.BadParameter, match=r"no entities \(doc.ents\) in any of its 20 docs") as error:
        cli.distill(teacher, data[0], tmp_path / "dev.spacy", data[2], tmp_path / "out")
    assert error.value.param_hint == "DEV"


def test_the_command_line_reports_a_bad_input_as_a_usage_error(teacher, data, tmp_path):
    train, dev, _ = data
    text = spacy_command(["cvt-distill", teacher, train, dev, tmp_path / "none.txt", tmp_path / "out"], exit_code=2)
    assert "InvalidvalueforUNLABELED" in text and "none.txt" in text


def test_the_head_follows_what_the_teacher_sets():
    nlp = spacy.blank("en")
    nlp.add_pipe("tagger")
    assert teacher_head(nlp, "t", None) == Head("tag", None, "tagger")
    nlp.add_pipe("ner")
    with pytest.raises(typer.BadParameter, match=r"sets ents, tag.*--head ents\|tag"):
        teacher_head(nlp, "t", None)
    assert teacher_head(nlp, "t", parse_head("ents")) == Head("ents", None, "ner")
    with pytest.raises(typer.BadParameter, match="does not set pos"):
        teacher_head(nlp, "t", parse_head("pos"))
    spans = spacy.blank("en")
    spans.add_pipe("span_ruler", config={"spans_key": "chunks"})
    assert component_heads(spans, "span_ruler") == [Head("spans", "chunks", "span_ruler")]
    cvt = spacy.blank("en")
    cvt.add_pipe("cvt_tagger", config={"attr": "pos"})
    assert teacher_head(cvt, "t", None) == Head("pos", None, "cvt_tagger")
    with pytest.raises(typer.BadParameter, match="none of ents, tag, pos, spans:KEY"):
        parse_head("spans")


@pytest.mark.parametrize("head", [Head("pos"), Head("spans", "aspects"), Head("ents")])
def test_the_student_config_learns_the_head_with_the_teachers_labels(head, tmp_path):
    config = cli.student_config(head, ["A", "B"], train=Path("t.spacy"), dev=Path("d.spacy"),
                                teacher_corpus=Path("s.spacy"), vectors=None)
    name = head.factory
    assert config["initialize"]["components"][name] == {"unlabeled_corpus": None, "teacher_corpus": "corpora.teacher",
                                                        "labels": ["A", "B"]}
    assert config["paths"]["teacher_corpus"] == "s.spacy" and config["paths"]["vectors"] is None
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    weighted = {key for key, weight in nlp.config["training"]["score_weights"].items() if weight}
    assert weighted == {head.score_key}
    assert nlp.get_pipe(name).cfg.get("attr", "pos") == "pos" and nlp.get_pipe(name).cfg.get("spans_key", "aspects") == "aspects"


def filled(path: Path) -> dict:
    config = spacy.util.load_config(path, interpolate=False)
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True).config


def test_the_shipped_ner_student_is_the_projects_teacher_config_but_for_paths():
    shipped, project = filled(cli.CONFIGS["cvt_ner"]), filled(REPO / "configs" / "cvt-teacher_ner.cfg")
    del shipped["paths"], project["paths"]
    assert shipped == project


@pytest.mark.parametrize("head", ["tagger", "chunker"])
def test_the_shipped_tagger_and_chunker_students_are_the_cvt_configs_reading_the_teacher_corpus(head):
    """As configs/cvt-teacher_ner.cfg is cvt_ner.cfg (tests/test_configs.py)."""
    shipped, cvt = filled(cli.CONFIGS[f"cvt_{head}"]), filled(REPO / "configs" / f"cvt_{head}.cfg")
    assert shipped["initialize"]["components"].pop(f"cvt_{head}") == {"unlabeled_corpus": None, "teacher_corpus": "corpora.teacher"}
    assert cvt["initialize"]["components"].pop(f"cvt_{head}") == {"unlabeled_corpus": "corpora.unlabeled"}
    assert shipped["corpora"].pop("teacher")["path"] == "${paths.teacher_corpus}"
    del cvt["corpora"]["unlabeled"]
    assert shipped["paths"].pop("teacher_corpus") is None and cvt["paths"].pop("unlabeled") is None
    assert shipped == cvt
