"""spacy_cvt_project/grid.py (`python -m spacy_cvt_project grid`): the experiment grid on a local
Ray of 2 CPUs: two systems x two seeds with budgets of two steps, on a slice of WNUT-17 (the copy
data/ ships), recorded in results/ as `record` records, skipped when asked again, and equal to
what the serial `train` and `evaluate` make of the same seed."""

import json
import shutil
import sys
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import DocBin

from spacy_cvt_project import compare, grid

from .conftest import REPO, ner_examples, no_processes, require_module, run_python

SYSTEMS, SEEDS, BUDGETS = ("cnn", "bilstm"), 2, {"cnn_steps": 2, "bilstm_steps": 2}
EVAL_FREQUENCY = 2
SPLITS = {"train": (0, 120), "dev": (120, 150), "test": (150, 180)}  # of WNUT-17 train's sentences


def make_project(folder: Path, sentences) -> Path:
    """A project folder with the configs, corpus/ner/ from WNUT-17 sentences and small random word
    vectors for their words (corpus/vectors), as `convert` and `vectors` would leave it."""
    shutil.copytree(REPO / "configs", folder / "configs")
    nlp = spacy.blank("en")
    for split, (start, end) in SPLITS.items():
        path = folder / "corpus" / "ner" / f"{split}.spacy"
        path.parent.mkdir(parents=True, exist_ok=True)
        DocBin(docs=[eg.reference for eg in ner_examples(nlp, sentences[start:end])]).to_disk(path)
    words = sorted({columns[0] for sentence in sentences[:180] for columns in sentence})
    rng = numpy.random.default_rng(0)
    vectors = spacy.blank("en")
    vectors.vocab.reset_vectors(width=16)
    for word in words:
        vectors.vocab.set_vector(word, rng.normal(size=16).astype("float32"))
    vectors.to_disk(folder / "corpus" / "vectors")
    return folder


def planned(budgets=BUDGETS):
    return grid.plan(["ner"], SYSTEMS, SEEDS, budgets, EVAL_FREQUENCY, "corpus/vectors", "assets/minilm", "minilm")


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs for the module; the grid joins it (ray_cluster.ray_session)."""
    ray = require_module("ray", 'pip install -e ".[ray]"')
    require_module("codecarbon", "pip install -e .[project]")
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def grid_run(local_ray, wnut_sentences, tmp_path_factory):
    """(project, outcome) after the 2x2 grid ran there, each run asking for one CPU."""
    project = make_project(tmp_path_factory.mktemp("grid"), wnut_sentences)
    patch = pytest.MonkeyPatch()
    patch.chdir(project)
    try:
        outcome = grid.run_grid(planned(), cpus=1)
    finally:
        patch.undo()
    return project, outcome


def scores(path: Path) -> dict:
    """spacy evaluate's scores but its speed."""
    return {key: value for key, value in json.loads(path.read_text()).items() if key != "speed"}


@pytest.mark.slow  # Ray's workers, spacy train and spacy evaluate are processes
def test_the_grid_records_every_run_as_record_does(grid_run):
    project, outcome = grid_run
    names = [f"ner/{system}/seed{seed}" for system in SYSTEMS for seed in range(SEEDS)]
    assert sorted(outcome.recorded) == sorted(names) and outcome.skipped == [] and outcome.failed == {}
    results = project / "results" / "ner"
    for system in SYSTEMS:
        for seed in range(SEEDS):
            run = results / system / f"seed{seed}"
            expected = ["config.cfg", "evaluate.json", "log.jsonl", "meta.json", *compare.own_records("ner", system)]
            assert sorted(p.name for p in run.iterdir()) == sorted(expected)  # a span tagger's tune.json too
            train = json.loads((run / "train.json").read_text())
            assert train["returncode"] == 0 and "provenance" in train
            assert train["command"][train["command"].index("--training.max_steps") + 1] == "2"
            assert scores(run / "evaluate.json") == scores(project / "metrics" / "ner" / system / f"seed{seed}" /
                                                           "evaluate.json")
        assert json.loads((results / system / "record.json").read_text()) == {"evaluate_gpu_id": -1}
        row = compare.system_row(results, "ner", system, SEEDS)  # what compare and report read
        assert len(row["score"].values) == SEEDS and row["params"] > 0


@pytest.mark.slow
def test_a_second_grid_skips_the_recorded_runs_and_starts_nothing(grid_run):
    project, _ = grid_run
    trained = {path: path.stat().st_mtime_ns for path in (project / "metrics").rglob("train.json")}
    patch = pytest.MonkeyPatch()
    patch.chdir(project)
    try:
        with no_processes("the second grid"):  # no Ray, no training, no evaluation
            outcome = grid.run_grid(planned(), cpus=1)
        # another budget is another run: the recorded seeds do not count for it
        assert not any(grid.is_recorded(run, Path("results")) for run in planned({"cnn_steps": 4, "bilstm_steps": 4}))
        # nor does a span tagger's seed recorded without its decoding's tuning (before `train` tuned it)
        bilstm = next(run for run in planned() if run.system == "bilstm" and run.seed == 0)
        tune = Path("results") / "ner" / "bilstm" / "seed0" / "tune.json"
        tuned = tune.read_bytes()
        tune.unlink()
        try:
            assert not grid.is_recorded(bilstm, Path("results"))
        finally:
            tune.write_bytes(tuned)
    finally:
        patch.undo()
    assert outcome.recorded == [] and outcome.failed == {} and len(outcome.skipped) == len(SYSTEMS) * SEEDS
    assert {path: path.stat().st_mtime_ns for path in trained} == trained


@pytest.mark.slow
def test_a_run_on_ray_equals_the_serial_train_and_evaluate_of_its_seed(grid_run, wnut_sentences, tmp_path):
    project, _ = grid_run
    serial = make_project(tmp_path / "serial", wnut_sentences)
    common = ["--task", "ner", "--seeds", "1"]  # seed 0
    run_python(["-m", "spacy_cvt_project", "train", "bilstm", *common, "--steps", "2", "--eval-frequency", "2",
                "--vectors", "corpus/vectors"], cwd=serial, timeout=600)
    run_python(["-m", "spacy_cvt_project", "evaluate", "bilstm", *common], cwd=serial, timeout=600)
    run = Path("ner") / "bilstm" / "seed0"
    assert scores(project / "metrics" / run / "evaluate.json") == scores(serial / "metrics" / run / "evaluate.json")
    weights = [(folder / "training" / run / "model-best" / "cvt_ner" / "model").read_bytes() for folder in (project, serial)]
    assert weights[0] == weights[1]


def test_without_ray_the_grid_says_how_to_install_it(monkeypatch):
    from spacy_cvt.ray_cluster import ray_session

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: importing it fails
    with pytest.raises(SystemExit, match=r'grid: Ray is not installed: pip install -e "\.\[ray\]"'):
        with ray_session("grid"):
            pass


def test_the_grid_refuses_a_taught_system_and_a_missing_budget():
    import typer

    with pytest.raises(typer.BadParameter, match="train it with `spacy project run teacher`"):
        grid.plan(["ner"], ["cvt-teacher"], 1, {"cvt_steps": 2}, 2, "v", "t", "minilm")
    with pytest.raises(typer.BadParameter, match="cnn trains with cnn_steps: add cnn_steps=STEPS"):
        grid.plan(["ner"], ["cnn"], 1, {"cvt_steps": 2}, 2, "v", "t", "minilm")
    with pytest.raises(typer.BadParameter, match="unknown system 'nope'"):
        grid.plan(["ner"], ["nope"], 1, {}, 2, "v", "t", "minilm")
