"""spacy_cvt_project/compare.py, on files with the layout the real tools write.

The evaluation file comes from one real `spacy evaluate --gold-preproc --output` run (rule-based
components), the training record from a real spacy_cvt_project/per_seed.py run and the size from a real
spacy_cvt_project/model_size.py run, so a change in any of them breaks these tests instead of the table.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span

from spacy_cvt_project import catalog, compare

from .conftest import PROJECT_CLI, REPO, require_module

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BERT_BASE = {"model_type": "bert", "num_hidden_layers": 12, "hidden_size": 768}
MINILM = {"model_type": "bert", "num_hidden_layers": 6, "hidden_size": 384}


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=cwd)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """One real file of each kind: spacy evaluate's, per_seed.py's record and model_size.py's."""
    require_module("codecarbon", "pip install -e .[project]")
    root = tmp_path_factory.mktemp("real")
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PER", "pattern": "Alice"}, {"label": "LOC", "pattern": "Paris"}])
    nlp.add_pipe("attribute_ruler").add(patterns=[[{"LOWER": "lives"}]], attrs={"TAG": "VBZ", "POS": "VERB"})
    nlp.add_pipe("span_ruler", config={
        "spans_key": "chunks",
        "scorer": {"@scorers": "spacy.overlapping_labeled_spans_scorer.v1", "spans_key": "chunks"},
    }).add_patterns([{"label": "NP", "pattern": "Alice"}, {"label": "VP", "pattern": "lives"}])
    nlp.to_disk(root / "pipeline")
    doc = Doc(nlp.vocab, words=["Alice", "lives", "in", "Paris", "and", "Bob", "too"],
              tags=["NNP", "VBZ", "IN", "NNP", "CC", "NNP", "RB"])
    doc.ents = [Span(doc, 0, 1, "PER"), Span(doc, 3, 4, "LOC"), Span(doc, 5, 6, "PER")]
    doc.spans["chunks"] = [Span(doc, 0, 1, "NP"), Span(doc, 1, 2, "VP"), Span(doc, 3, 4, "NP")]
    DocBin(docs=[doc]).to_disk(root / "test.spacy")
    run("-m", "spacy", "evaluate", str(root / "pipeline"), str(root / "test.spacy"),
        "--output", str(root / "evaluate.json"), "--gold-preproc")
    run(*PROJECT_CLI, "per-seed", "--seeds", "1", "--record", str(root / "train.json"), "--", "true")
    run(*PROJECT_CLI, "model-size", str(root / "pipeline"), "--output", str(root / "size.json"))
    return {name: json.loads((root / f"{name}.json").read_text()) for name in ("evaluate", "train", "size")}


@pytest.fixture(autouse=True)
def away_from_the_repositorys_results(tmp_path, monkeypatch):
    """compare shows the runs recorded in ./results beside each system: each test runs in its own
    folder, so that the repository's recorded runs stay out of its tables."""
    monkeypatch.chdir(tmp_path)


def write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


TUNE_SECONDS, TUNE_KWH = 6, 0.0001  # each seed's choice of outside_weight on dev, where train makes one


def metrics_tree(root: Path, real: dict, task: str, runs: dict, encoders: dict = None) -> Path:
    """runs: {system: [(score, words/s, seconds, kWh) per seed]}, in the files' real layout; a span
    tagger's seeds also have the tune.json of `train`'s choice of outside_weight."""
    for system, seeds in runs.items():
        for seed, (score, speed, seconds, kwh) in enumerate(seeds):
            folder = root / task / system / f"seed{seed}"
            key = compare.score_key(task, system)
            write(folder / "evaluate.json", {**real["evaluate"], key: score, "speed": speed})
            write(folder / "train.json", {**real["train"], "seed": seed, "seconds": seconds, "energy_kwh": kwh})
            if "tune.json" in compare.own_records(task, system):
                write(folder / "tune.json", {**real["train"], "seed": seed, "seconds": TUNE_SECONDS, "energy_kwh": TUNE_KWH})
        size = {**real["size"], "params": 2_100_000, "vectors": 5_000_000, "encoder": (encoders or {}).get(system)}
        write(root / task / system / "size.json", size)
    return root


@pytest.mark.slow  # its `real` fixture runs per_seed.py (a process that runs one), and git
def test_real_files_have_what_compare_reads(real):
    for task in catalog.TASKS:
        for system in compare.SYSTEMS:
            assert isinstance(real["evaluate"][compare.score_key(task, system)], float), (task, system)
    assert real["evaluate"]["speed"] > 0
    assert compare.score_key("chunk", "cvt") == "spans_chunks_f" and compare.score_key("chunk", "trf") == "ents_f"
    assert real["train"]["returncode"] == 0 and real["train"]["energy_kwh"] > 0
    assert real["size"]["encoder"] is None and real["size"]["params"] == 0  # rules only


@pytest.mark.slow
def test_mean_and_sd_over_seeds(real, tmp_path):
    runs = {
        "cvt": [(0.30, 20_000, 300, 0.010), (0.32, 22_000, 330, 0.011), (0.34, 24_000, 360, 0.012)],
        "trf": [(0.40, 1_000, 600, 0.020), (0.40, 1_000, 600, 0.020), (0.40, 1_000, 600, 0.020)],
    }
    metrics = metrics_tree(tmp_path, real, "ner", runs, {"trf": BERT_BASE})
    compare.compare("ner", 3, metrics, ["cvt", "trf"])
    table = (metrics / "ner" / "comparison.md").read_text()
    assert "mean ± sample sd over seeds 0..2" in table
    # cvt's own cost is its training and its choice of outside_weight (6 s, 0.0001 kWh a seed)
    assert "| cvt | 32.0 ± 2.0 | – | 5.6 ± 0.5 min | 0.0111 ± 0.0010 (est.) | 22,000 ± 2,000 | 2.10 | 5.00 |" in table
    assert ("- Decoding: `outside_weight` chosen on dev after training (`spacy cvt-tune-decoding`, its time in train "
            "time) for cvt; the others have no such setting.") in table
    assert "| trf | 40.0 ± 0.0 | – | 10.0 ± 0.0 min |" in table and "| 1,507 kWh [1] |" in table
    assert "[1] BERT-base: 79 hours on 64 V100 GPUs, 1,507 kWh" in table and "Strubell" in table
    rows = {row["system"]: row for row in json.loads((metrics / "ner" / "comparison.json").read_text())["rows"]}
    assert rows["cvt"]["score"] == {"mean": pytest.approx(0.32), "sd": pytest.approx(0.02), "values": [0.30, 0.32, 0.34]}
    assert rows["trf"]["pretraining"]["kwh"] == 1507.0 and rows["cvt"]["pretraining"] is None
    png = (metrics / "ner" / "comparison.png").read_bytes()
    assert png[:8] == PNG_MAGIC and len(png) > 10_000


@pytest.mark.slow
def test_one_seed_is_n_1_without_a_spread(real, tmp_path):
    runs = {system: [(0.3, 10_000, 60, 0.001)] for system in compare.SYSTEMS}
    metrics = metrics_tree(tmp_path, real, "pos", runs, {"trf": MINILM})
    compare.compare("pos", 1, metrics)
    table = (metrics / "pos" / "comparison.md").read_text()
    assert "one seed (n = 1): single runs, no spread" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "system" not in line]
    assert [row.split(" | ")[0] for row in rows] == [f"| {s}" for s in compare.SYSTEMS]
    assert not any("±" in row for row in rows)
    assert "| 30.0 | – | 60 s | 0.00100 (est.) | 10,000 |" in rows[0]
    assert "| not published [1] |" in rows[3] and "all-MiniLM-L6-v2" in table
    assert json.loads((metrics / "pos" / "comparison.json").read_text())["rows"][0]["score"]["sd"] is None


@pytest.mark.parametrize("model_type,expected", [
    # an encoder PRETRAINING lacks says where to add its cost
    ("roberta", ["| unknown [1] |", "roberta, 12 layers, width 768", "PRETRAINING"]),
    # all-mpnet-base-v2 (`--vars.encoder mpnet-base`): the paper gives hardware and steps only
    ("mpnet", ["| not published [1] |", "MPNet-base (Song et al. 2020", "no time or energy"]),
])
@pytest.mark.slow
def test_a_base_size_encoders_pretraining_cell_and_its_source(real, tmp_path, model_type, expected):
    metrics = metrics_tree(tmp_path, real, "ner", {"trf": [(0.3, 1, 1, 1)]},
                           {"trf": {"model_type": model_type, "num_hidden_layers": 12, "hidden_size": 768}})
    compare.compare("ner", 1, metrics, ["trf"])
    table = (metrics / "ner" / "comparison.md").read_text()
    for text in expected:
        assert text in table


@pytest.mark.slow
def test_missing_files_and_failed_training_are_errors_that_say_what_to_run(real, tmp_path):
    runs = {system: [(0.3, 1, 1, 1), (0.3, 1, 1, 1)] for system in compare.SYSTEMS}
    metrics = metrics_tree(tmp_path, real, "ner", runs)
    with pytest.raises(FileNotFoundError, match=r"trf/seed2/evaluate.json is missing: `spacy project run evaluate-trf`"):
        compare.compare("ner", 3, metrics, ["trf"])
    (metrics / "ner" / "trf" / "seed1" / "train.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"trf/seed1/train.json is missing: `spacy project run train-trf`"):
        compare.compare("ner", 2, metrics)
    with pytest.raises(FileNotFoundError, match=r"cvt/seed2/evaluate.json is missing: `spacy project run evaluate`"):
        compare.compare("ner", 3, metrics)
    write(metrics / "ner" / "trf" / "seed1" / "train.json", {**real["train"], "returncode": 1})
    with pytest.raises(ValueError, match=r"seed1/train.json: the run exited with 1; rerun `spacy project run train-trf`"):
        compare.compare("ner", 2, metrics)
    with pytest.raises(ValueError, match="unknown task 'ners'"):
        compare.compare("ners", 1, metrics)


def teacher_tree(root: Path, real: dict) -> Path:
    """All five systems over two seeds, and the teacher's steps' records: `augment`'s, the
    `teacher-corpus` command's spacy apply run, `teacher-vectors`'s two (building, `spacy init vectors`)."""
    runs = {system: [(0.3, 10_000, 60, 0.001), (0.3, 10_000, 60, 0.001)] for system in ("cvt", "bilstm", "cnn")}
    runs["trf"] = [(0.40, 1_000, 600, 0.020), (0.42, 1_000, 660, 0.022)]  # seed 0 is the teacher
    runs["cvt-teacher"] = [(0.34, 20_000, 300, 0.010), (0.36, 22_000, 360, 0.012)]
    metrics = metrics_tree(root, real, "ner", runs, {"trf": BERT_BASE})
    write(metrics / "ner" / "augment" / "run.json", {**real["train"], "seconds": 30, "energy_kwh": 0.001})
    write(metrics / "ner" / "trf" / "teacher-corpus" / "apply.json", {**real["train"], "seconds": 60, "energy_kwh": 0.003})
    write(metrics / "ner" / "trf" / "teacher-vectors" / "build.json", {**real["train"], "seconds": 110, "energy_kwh": 0.005})
    write(metrics / "ner" / "trf" / "teacher-vectors" / "init.json", {**real["train"], "seconds": 10, "energy_kwh": 0.001})
    for seed in (0, 1):  # train-cvt-teacher's choice of outside_weight on dev
        write(metrics / "ner" / "cvt-teacher" / f"seed{seed}" / "tune.json", {**real["train"], "seconds": 30, "energy_kwh": 0.0005})
    return metrics


@pytest.mark.slow
def test_cvt_teacher_costs_its_training_plus_the_teachers_the_annotation_and_the_vectors(real, tmp_path):
    metrics = teacher_tree(tmp_path, real)
    compare.compare("ner", 2, metrics)  # cvt-teacher joins the table because its folder exists
    table = (metrics / "ner" / "comparison.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "system" not in line]
    assert [row.split(" | ")[0] for row in rows] == ["| cvt", "| bilstm", "| cnn", "| trf", "| cvt-teacher"]
    # 300 and 360 s of its own + 30 s of tuning each + 600 s of trf seed 0 + 30 s of augment + 60 s of spacy apply
    # + 120 s of vectors
    assert rows[4].startswith("| cvt-teacher | 35.0 ± 1.4 | – | 19.5 ± 0.7 min [2] | 0.0415 ± 0.0014 (est.) [2] | 21,000")
    assert rows[4].endswith("| 1,507 kWh [1] |")  # the teacher's encoder
    assert "| trf | 41.0 ± 1.4 | – | 10.5 ± 0.7 min | 0.0210 ± 0.0014 (est.) |" in rows[3]  # trf's own, unchanged
    assert (
        "[2] cvt-teacher: train time and energy add its teacher's to each seed's own: trf seed 0's training "
        "(10.0 min, 0.0200 kWh), `augment`, rewriting the sentences it annotates (30 s, 0.00100 kWh), "
        "`teacher-corpus`, its `spacy apply` over them (60 s, 0.00300 kWh), "
        "`teacher-vectors`, its last layer's states averaged into word vectors (2.0 min, 0.00600 kWh). "
        "Its own training and `outside_weight` tuning on dev alone: 6.0 ± 0.7 min, 0.0115 ± 0.0014 kWh; its "
        "pretraining cell is the teacher's encoder's."
    ) in table
    row = json.loads((metrics / "ner" / "comparison.json").read_text())["rows"][4]
    assert row["train_seconds"]["values"] == [1140, 1200]
    assert row["energy_kwh"]["values"] == pytest.approx([0.0405, 0.0425])
    assert row["teacher"]["own_train_seconds"]["values"] == [330, 390] and row["teacher"]["teacher-corpus_kwh"] == 0.003
    assert row["teacher"]["teacher-vectors_seconds"] == 120
    assert row["words_per_second"]["values"] == [20_000, 22_000]  # its own evaluate.json: the teacher is not run

    compare.compare("ner", 2, metrics, ["cvt", "trf"])  # named systems only
    assert "cvt-teacher" not in (metrics / "ner" / "comparison.md").read_text()


@pytest.mark.slow
def test_cvt_teachers_missing_files_name_the_teacher_commands(real, tmp_path):
    metrics = teacher_tree(tmp_path, real)
    folder = metrics / "ner"
    missing = [
        ("cvt-teacher/seed1/evaluate.json", "evaluate-cvt-teacher"), ("cvt-teacher/size.json", "evaluate-cvt-teacher"),
        ("cvt-teacher/seed1/train.json", "train-cvt-teacher"), ("cvt-teacher/seed0/tune.json", "train-cvt-teacher"),
        ("trf/seed0/train.json", "train-trf"),
        ("augment/run.json", "augment"), ("trf/teacher-corpus/apply.json", "teacher-corpus"), ("trf/teacher-vectors/init.json", "teacher-vectors"),
    ]
    for name, command in missing:
        saved = (folder / name).read_bytes()
        (folder / name).unlink()
        with pytest.raises(FileNotFoundError, match=rf"{name} is missing: `spacy project run {command}` writes it"):
            compare.compare("ner", 2, metrics)
        (folder / name).write_bytes(saved)
    compare.compare("ner", 2, metrics)  # all back: no error
    write(folder / "trf" / "teacher-corpus" / "apply.json", {**real["train"], "returncode": 1})
    with pytest.raises(ValueError, match=r"teacher-corpus/apply.json: the run exited with 1; rerun `spacy project run teacher-corpus`"):
        compare.compare("ner", 2, metrics)


MPNET = {"model_type": "mpnet", "num_hidden_layers": 12, "hidden_size": 768}


@pytest.mark.slow
def test_each_teacher_teaches_its_own_system_with_its_own_steps(real, tmp_path):
    """`base` after `all`: trf-base and cvt-teacher-base join the table, and cvt-teacher-base's cost
    is trf-base's training and trf-base's teacher corpus and vectors (metrics/TASK/trf-base/...), with the
    shared `augment`; cvt-teacher's stays trf's."""
    metrics = teacher_tree(tmp_path, real)
    base = metrics_tree(tmp_path, real, "ner", {"trf-base": [(0.50, 300, 3_000, 0.100), (0.52, 300, 3_600, 0.120)],
                                                "cvt-teacher-base": [(0.44, 20_000, 300, 0.010), (0.46, 20_000, 360, 0.012)]},
                        {"trf-base": MPNET})
    write(base / "ner" / "trf-base" / "teacher-corpus" / "apply.json", {**real["train"], "seconds": 600, "energy_kwh": 0.03})
    write(base / "ner" / "trf-base" / "teacher-vectors" / "build.json", {**real["train"], "seconds": 1_000, "energy_kwh": 0.05})
    write(base / "ner" / "trf-base" / "teacher-vectors" / "init.json", {**real["train"], "seconds": 20, "energy_kwh": 0.001})
    for seed in (0, 1):
        write(base / "ner" / "cvt-teacher-base" / f"seed{seed}" / "tune.json", {**real["train"], "seconds": 30, "energy_kwh": 0.0005})
    compare.compare("ner", 2, metrics)
    rows = {row["system"]: row for row in json.loads((metrics / "ner" / "comparison.json").read_text())["rows"]}
    assert list(rows) == ["cvt", "bilstm", "cnn", "trf", "cvt-teacher", "trf-base", "cvt-teacher-base"]
    # 300/360 own + 30 tuning + 3,000 s of trf-base seed 0 + 30 augment + 600 teacher corpus + 1,020 vectors
    assert rows["cvt-teacher-base"]["train_seconds"]["values"] == [4_980, 5_040]
    assert rows["cvt-teacher-base"]["teacher"]["system"] == "trf-base"
    assert rows["cvt-teacher-base"]["pretraining"]["cell"] == "not published"  # MPNet-base's
    assert rows["cvt-teacher"]["train_seconds"]["values"] == [1_140, 1_200]  # as with trf alone
    (base / "ner" / "trf-base" / "teacher-corpus" / "apply.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"trf-base/teacher-corpus/apply.json is missing: `spacy project run teacher-corpus "
                                                 r"--vars.encoder mpnet-base --vars.trf_system trf-base"):
        compare.compare("ner", 2, metrics)
    shutil.rmtree(metrics / "ner")
    with pytest.raises(FileNotFoundError, match="holds no system's metrics: `spacy project run all`"):
        compare.compare("ner", 2, metrics)


@pytest.mark.slow
def test_cli_runs_without_torch_or_spacy_cvt(real, tmp_path):
    """As the workflow calls it, with `import torch` made to fail."""
    metrics = metrics_tree(tmp_path, real, "chunk", {s: [(0.5, 5, 5, 0.5)] for s in compare.SYSTEMS})
    code = (
        "import sys; sys.modules['torch'] = None; from spacy_cvt_project.cli import app; "
        "app(sys.argv[1:], standalone_mode=False); assert 'spacy_cvt' not in sys.modules"
    )
    result = run("-c", code, "compare", "chunk", "--seeds", "1", "--metrics", str(metrics), cwd=tmp_path)
    assert "| cvt | 50.0 | – |" in result.stdout and (metrics / "chunk" / "comparison.png").exists()
    shutil.rmtree(metrics / "chunk" / "cnn")
    failed = subprocess.run([sys.executable, *PROJECT_CLI, "compare", "chunk", "--metrics", str(metrics)],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "cnn/seed0/evaluate.json is missing" in failed.stderr


def recorded_tree(root: Path, real: dict, runs: dict) -> Path:
    """results/ as spacy_cvt_project/record.py leaves it: metrics/'s files, and per seed the config as
    trained and spacy train's dev scores, and the device evaluate ran on."""
    results_dir = metrics_tree(root, real, "ner", runs)
    for system, seeds in runs.items():
        for seed in range(len(seeds)):
            (results_dir / "ner" / system / f"seed{seed}" / "config.cfg").write_text("[training]\nmax_steps = 800\n")
            write(results_dir / "ner" / system / f"seed{seed}" / "meta.json", {"performance": {"ents_f": 0.4}})
        write(results_dir / "ner" / system / "record.json", {"evaluate_gpu_id": -1})
    return results_dir


@pytest.mark.slow
def test_each_system_is_shown_beside_its_recorded_runs(real, tmp_path, monkeypatch):
    runs = {"cvt": [(0.30, 20_000, 300, 0.010), (0.32, 22_000, 330, 0.011), (0.34, 24_000, 360, 0.012)],
            "trf": [(0.40, 1_000, 600, 0.020)] * 3}
    metrics = metrics_tree(tmp_path / "metrics", real, "ner", runs, {"trf": BERT_BASE})
    results_dir = recorded_tree(tmp_path / "results", real, {"cvt": [(0.36, 21_000, 310, 0.010), (0.38, 23_000, 320, 0.011)]})
    compare.compare("ner", 3, metrics, ["cvt", "trf"], results_dir=results_dir, project=tmp_path)
    table = (metrics / "ner" / "comparison.md").read_text()
    # tmp_path has no configs/, so nothing can say the recorded runs are what the project trains today
    assert "| cvt | 32.0 ± 2.0 | 37.0 ± 1.4 (n = 2, 800 steps) stale [2] | 5.6 ± 0.5 min |" in table
    assert ("[2] cvt's recorded runs are stale: today's config cannot be composed: configs/cvt_ner.cfg, "
            "today's config of cvt on ner, is missing.") in table
    assert "| trf | 40.0 ± 0.0 | – | 10.0 ± 0.0 min |" in table  # none recorded
    payload = json.loads((metrics / "ner" / "comparison.json").read_text())
    assert [r["system"] for r in payload["recorded"]] == ["cvt"]
    assert payload["recorded"][0]["score"]["values"] == [0.36, 0.38] and payload["recorded"][0]["n"] == 2
    assert payload["recorded"][0]["dev"]["values"] == [0.4, 0.4]

    monkeypatch.setattr(compare.results, "stale_reasons", lambda *args: [])
    compare.compare("ner", 3, metrics, ["cvt", "trf"], results_dir=results_dir, project=tmp_path)
    table = (metrics / "ner" / "comparison.md").read_text()
    assert "| cvt | 32.0 ± 2.0 | 37.0 ± 1.4 (n = 2, 800 steps) | 5.6 ± 0.5 min |" in table and "stale" not in table
    png = (metrics / "ner" / "comparison.png").read_bytes()
    assert png[:8] == PNG_MAGIC and len(png) > 10_000


@pytest.mark.parametrize("low, high, labels", [
    (3e-4, 5e-4, ["0.0003", "0.0004", "0.0005"]),  # narrow: evenly spaced, no "3×10^-4" minor labels
    (0.01, 0.012, ["0.01", "0.011", "0.012"]),  # a log locator would label 0.01 alone
    (800, 30_000, ["1,000", "2,000", "5,000", "10,000", "20,000"]),  # 1, 2, 5 a decade
    (1e-5, 1, ["1e-05", "0.0001", "0.001", "0.01", "0.1", "1"]),  # many decades: the powers of ten
])
def test_log_axes_label_plain_numbers_at_major_ticks_only(low, high, labels):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_xscale("log")
    ax.set_xlim(low * 0.99, high * 1.01)
    compare.plain_log_ticks(ax.xaxis)
    fig.canvas.draw()
    shown = [t.get_text() for t in ax.xaxis.get_majorticklabels()
             if t.get_text() and low * 0.99 <= t.get_position()[0] <= high * 1.01]
    assert shown == labels
    assert not any(t.get_text() for t in ax.xaxis.get_minorticklabels())
    plt.close(fig)
