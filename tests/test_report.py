"""scripts/report.py, scripts/record.py and scripts/results.py: recorded runs and the tables built from them.

One real run stands behind these tests: a tiny project (its own project.yml, the repository's
configs/cvt_ner.cfg) trains cvt for two steps through `spacy project run train-cvt` and
scripts/per_seed.py, evaluates and sizes it with the real tools, and scripts/record.py copies it
into results/. The numeric paths (mean ± sd over seeds, missing fields) then edit copies of that
record; the stale check edits copies of the project.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from .conftest import REPO, ner_examples, require_module, run_python

sys.path.insert(0, str(REPO / "scripts"))
import compare  # noqa: E402
import record  # noqa: E402
import report  # noqa: E402
import results  # noqa: E402

PROJECT_YML = """\
title: "report test"
vars:
  task: "ner"
  seeds: 1
  steps: 2
directories: ["configs", "corpus", "training", "metrics"]
commands:
  - name: "train-cvt"
    script:
      - >-
        python SCRIPTS/per_seed.py --seeds ${vars.seeds} --record metrics/${vars.task}/cvt/seed{seed}/train.json --
        python -m spacy train configs/cvt_${vars.task}.cfg --output training/${vars.task}/cvt/seed{seed}
        --system.seed {seed} --paths.train corpus/train.spacy --paths.dev corpus/dev.spacy --paths.raw corpus/raw.txt
        --training.max_steps ${vars.steps} --training.optimizer.learn_rate.total_steps ${vars.steps}
        --training.eval_frequency 1 --training.logger.output_file metrics/${vars.task}/cvt/seed{seed}/log.jsonl
        --components.cvt_ner.model.hidden_size1 16
        --components.cvt_ner.model.projection_size1 8 --components.cvt_ner.model.hidden_size2 8
        --components.cvt_ner.model.module_width 8 --components.cvt_ner.model.hash_rows 500
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, wnut_sentences, raw_text_file):
    """A project folder whose results/ner/cvt holds one real recorded run."""
    require_module("codecarbon", "pip install -e .[project]")
    project = tmp_path_factory.mktemp("project")
    (project / "project.yml").write_text(PROJECT_YML.replace("SCRIPTS", str(REPO / "scripts")), encoding="utf-8")
    (project / "configs").mkdir()
    shutil.copy(REPO / "configs" / "cvt_ner.cfg", project / "configs")
    (project / "corpus").mkdir()
    examples = ner_examples(spacy.blank("en"), wnut_sentences[:120])
    for name, part in (("train", examples[:60]), ("dev", examples[60:90]), ("test", examples[90:])):
        DocBin(docs=[eg.reference for eg in part]).to_disk(project / "corpus" / f"{name}.spacy")
    (project / "corpus" / "raw.txt").write_text("\n".join(raw_text_file.read_text().splitlines()[:200]) + "\n")
    model = "training/ner/cvt/seed0/model-best"
    run_python(["-m", "spacy", "project", "run", "train-cvt", "."], cwd=project, timeout=600)
    run_python(["-m", "spacy", "evaluate", model, "corpus/test.spacy", "--output",
                "metrics/ner/cvt/seed0/evaluate.json", "--gold-preproc"], cwd=project, timeout=300)
    run_python([str(REPO / "scripts" / "model_size.py"), model, "--output", "metrics/ner/cvt/size.json"],
               cwd=project, timeout=300)
    run_python([str(REPO / "scripts" / "record.py"), "ner", "--seeds", "1", "--systems", "cvt"], cwd=project, timeout=300)
    return project


def copy_project(recorded: Path, tmp_path: Path) -> Path:
    """What a test may edit: the project's files and its results/, without training/."""
    project = tmp_path / "project"
    shutil.copytree(recorded, project, ignore=shutil.ignore_patterns("training", "metrics", "corpus"))
    return project


def edit_json(path: Path, **changes) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}), encoding="utf-8")


def table_rows(markdown: str, first_cell: str) -> list:
    return [line for line in markdown.splitlines() if line.startswith(f"| {first_cell} |")]


def test_docs_and_readme_are_what_report_generates_from_results():
    """Regenerate with `spacy project run report` when this fails."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    docs, new_readme, _ = report.render(REPO / "results", REPO, REPO / "docs", readme)
    assert (REPO / "docs" / "results.md").read_text(encoding="utf-8") == docs
    assert readme == new_readme


@pytest.mark.slow  # its `recorded` fixture runs `spacy project run train-cvt` and the scripts
def test_a_fresh_record_is_current_and_shows_what_the_tools_wrote(recorded):
    run = recorded / "results" / "ner" / "cvt" / "seed0"
    assert sorted(p.name for p in run.iterdir()) == ["config.cfg", "evaluate.json", "log.jsonl", "meta.json", "train.json"]
    assert [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()] == [0, 1, 2]
    assert json.loads((run.parent / "record.json").read_text()) == {"evaluate_gpu_id": -1}
    [row] = compare.recorded_rows(recorded / "results", "ner", recorded)
    assert row["stale"] == [] and row["n"] == 1
    evaluation, meta = (json.loads((run / name).read_text()) for name in ("evaluate.json", "meta.json"))
    assert row["score"].values == [evaluation["ents_f"]] and row["recall"].values == [evaluation["ents_r"]]
    assert row["dev"].values == [meta["performance"]["ents_f"]]
    provenance = row["provenance"]
    assert provenance["budgets"] == ["2 steps"] and provenance["evaluated_on"] == ["CPU"]
    assert provenance["training_versions"] == [str(results.training_version())] and "spacy 3." in provenance["packages"][0]
    assert provenance["commits"] == ["unknown"]  # the tiny project is no git checkout
    docs = report.docs_markdown({"ner": [row]}, {"ner": "results/ner.png"})
    [line] = table_rows(docs, "cvt")
    assert line.startswith("| cvt | 1 | ") and line.endswith("| 2 steps | current |")
    assert "CPUs" in docs and "trained 20" in docs


@pytest.mark.slow
def test_a_changed_config_or_training_version_marks_the_rows_stale(recorded, tmp_path, monkeypatch):
    project = copy_project(recorded, tmp_path)
    config, yml = project / "configs" / "cvt_ner.cfg", project / "project.yml"
    original_config, original_yml = config.read_text(), yml.read_text()

    def stale() -> list:
        return compare.recorded_rows(project / "results", "ner", project)[0]["stale"]

    config.write_text(original_config.replace("dropout = 0.3", "dropout = 0.25"))
    assert stale() == ["config: training.dropout 0.3 → 0.25"]
    rows = {"ner": compare.recorded_rows(project / "results", "ner", project)}
    docs = report.docs_markdown(rows, {})
    assert table_rows(docs, "cvt")[0].endswith("| stale [1] |")
    assert "- [1] cvt's recorded runs are stale: config: training.dropout 0.3 → 0.25." in docs
    assert "| stale (docs/results.md) |" in report.summary_block(rows)

    config.write_text(original_config.replace("console_output = true", "console_output = false"))
    assert stale() == []  # the logger does not change training
    config.write_text(original_config)
    yml.write_text(original_yml.replace("steps: 2", "steps: 7"))
    assert stale() == []  # a variable is the run's choice: its budget is in the table
    yml.write_text(original_yml.replace("hidden_size1 16", "hidden_size1 32"))
    assert stale() == ["config: components.cvt_ner.model.hidden_size1 16 → 32"]  # a fixed override is the project's
    yml.write_text(original_yml)
    trained = project / "results" / "ner" / "cvt" / "seed0" / "config.cfg"
    trained.write_text(trained.read_text().replace("outside_weight = 1.0", "outside_weight = 0.6"))
    assert stale() == ["config: components.cvt_ner.outside_weight 0.6 → 1.0"]
    (trained.parent / "tune.json").write_text("{}")  # chosen on dev after training, as train-cvt-teacher does
    assert stale() == []
    monkeypatch.setattr(results, "training_version", lambda: 2)
    assert stale() == ["TRAINING_VERSION 1 → 2"]
    monkeypatch.undo()
    config.unlink()
    assert stale() == ["today's config cannot be composed: configs/cvt_ner.cfg, today's config of `train-cvt`, is missing"]


def three_seeds(project: Path) -> Path:
    """The recorded seed copied to seeds 1 and 2, with other scores and costs; the cvt folder."""
    folder = project / "results" / "ner" / "cvt"
    for seed in (1, 2):
        shutil.copytree(folder / "seed0", folder / f"seed{seed}")
    for seed, (f, p, r, dev, seconds, kwh) in enumerate([(0.30, 0.40, 0.20, 0.35, 300, 0.010),
                                                          (0.32, 0.44, 0.25, 0.36, 330, 0.011),
                                                          (0.34, 0.48, 0.30, 0.40, 360, 0.012)]):
        run = folder / f"seed{seed}"
        edit_json(run / "evaluate.json", ents_f=f, ents_p=p, ents_r=r, speed=20_000 + 2_000 * seed)
        edit_json(run / "train.json", seconds=seconds, energy_kwh=kwh)
        meta = json.loads((run / "meta.json").read_text())
        edit_json(run / "meta.json", performance={**meta["performance"], "ents_f": dev})
    edit_json(folder / "size.json", params=2_100_000, disk_bytes=37_300_000)
    return folder


@pytest.mark.slow
def test_mean_sd_and_n_over_the_recorded_seeds(recorded, tmp_path):
    project = copy_project(recorded, tmp_path)
    three_seeds(project)
    docs, readme, rows = report.render(project / "results", project, project / "docs",
                                       f"intro\n{report.BEGIN}\nold\n{report.END}\nrest\n")
    [line] = table_rows(docs, "cvt")
    assert line.startswith("| cvt | 3 | 37.0 ± 2.6 | 32.0 ± 2.0 | 44.0 ± 4.0 | 25.0 ± 5.0 | 5.5 ± 0.5 min "
                           "| 0.0110 ± 0.0010 (est.) | 22,000 ± 2,000 (CPU) | 2.10 | 37.3 | 2 steps | current |")
    assert "mean ± sample sd over the n seeds recorded" in docs and "![ner: " in docs
    for task in ("pos", "chunk", "aspect"):
        assert f"No recorded runs yet for {task}: `spacy project run {task} --vars.seeds 3`" in docs
    assert readme.startswith(f"intro\n{report.BEGIN}\n") and readme.endswith(f"{report.END}\nrest\n")
    assert "| ner | cvt | 3 | `ents_f` | 32.0 ± 2.0 | 5.5 ± 0.5 min |" in readme
    assert "in the recorded run (seed 0 of every system, with the teacher's steps): ner 5 min;" in readme  # seed 0: 300 s
    assert "No recorded runs yet for pos, chunk, aspect" in readme
    report.draw(rows, project / "docs")
    assert (project / "docs" / "results" / "ner.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_missing_fields_are_a_dash_or_an_error_that_names_the_file(recorded, tmp_path):
    project = copy_project(recorded, tmp_path)
    folder = three_seeds(project)
    edit_json(folder / "seed1" / "meta.json", performance={})  # no dev score for one seed: no dev mean
    edit_json(folder / "seed2" / "train.json", energy_kwh=None)  # codecarbon returned no data
    [row] = compare.recorded_rows(project / "results", "ner", project)
    assert row["dev"] is None and row["energy_kwh"] is None and row["train_seconds"].values == [300, 330, 360]
    [line] = table_rows(report.docs_markdown({"ner": [row]}, {}), "cvt")
    assert line.startswith(f"| cvt | 3 | {compare.DASH} | 32.0 ± 2.0 | ") and f"| 5.5 ± 0.5 min | {compare.DASH} |" in line
    (folder / "record.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"cvt/record.json is missing: `spacy project run record` writes it"):
        compare.recorded_rows(project / "results", "ner", project)
    evaluation = json.loads((folder / "seed1" / "evaluate.json").read_text())
    del evaluation["ents_p"]
    (folder / "seed1" / "evaluate.json").write_text(json.dumps(evaluation))
    with pytest.raises(ValueError, match=r"cvt/seed1/evaluate.json has no number under 'ents_p'"):
        compare.recorded_rows(project / "results", "ner", project)
    shutil.rmtree(folder / "seed1")
    with pytest.raises(ValueError, match=r"holds seeds \[0, 2\], not 0 .. n-1: record the system again"):
        compare.recorded_rows(project / "results", "ner", project)


def test_no_recorded_runs_say_so_for_every_task(tmp_path):
    (tmp_path / "results").mkdir()
    docs, readme, _ = report.render(tmp_path / "results", tmp_path, tmp_path / "docs",
                                    f"{report.BEGIN}{report.END}")
    for task in report.TASKS:
        assert f"## {task}\n\nNo recorded runs yet for {task}: " in docs
    assert "No recorded runs yet for ner, pos, chunk, aspect: docs/results.md says how to record them." in readme
    assert "| system |" not in docs and "| task |" not in readme
    with pytest.raises(ValueError, match="README.md needs one <!-- results:begin -->"):
        report.with_block("no markers here", "block")


@pytest.mark.slow
def test_record_refuses_what_it_cannot_keep(recorded, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(recorded, project, ignore=shutil.ignore_patterns("results"))

    def record_cvt() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(REPO / "scripts" / "record.py"), "ner", "--seeds", "1",
                               "--systems", "cvt"], capture_output=True, text=True, cwd=project, timeout=300)

    train = project / "metrics" / "ner" / "cvt" / "seed0" / "train.json"
    saved = train.read_text()
    without = json.loads(saved)
    del without["provenance"]
    train.write_text(json.dumps(without))
    failed = record_cvt()
    assert failed.returncode == 1 and "has no provenance (an older scripts/per_seed.py wrote it)" in failed.stderr
    train.write_text(saved)
    (project / "training" / "ner" / "cvt" / "seed0" / "model-best" / "config.cfg").unlink()
    failed = record_cvt()
    assert failed.returncode == 1 and "model-best/config.cfg is missing: `spacy project run train-cvt`" in failed.stderr
    assert not (project / "results").exists()  # nothing is copied before everything is checked
    with pytest.raises(ValueError, match=r"cvt-teacher learned from trf: record both in one call"):
        record.check("ner", "cvt-teacher", 1, ["cvt-teacher"], project / "metrics", project / "training", project / "results")
    (project / "results" / "ner" / "cvt-teacher-base").mkdir(parents=True)  # recorded, taught by trf-base
    with pytest.raises(ValueError, match=r"cvt-teacher-base learned from the recorded trf-base, whose folder this would "
                                         r"replace: record both in one call \(--systems trf-base,cvt-teacher-base\)"):
        record.check("ner", "trf-base", 1, ["trf-base"], project / "metrics", project / "training", project / "results")


@pytest.mark.slow
def test_record_keeps_a_teachers_step_records_with_it_and_guards_the_shared_one(recorded, tmp_path):
    """A taught system's step records live partly in its teacher's folder (trf/silver/...): recording
    both, in either order, keeps them; a shared record (augment's) that another recorded taught
    system also cost is not replaced by a different one."""
    project = tmp_path / "project"
    shutil.copytree(recorded, project)
    metrics, training, results_dir = project / "metrics" / "ner", project / "training" / "ner", project / "results"
    for system in ("trf", "cvt-teacher"):  # the real cvt run stands in for both
        shutil.copytree(metrics / "cvt", metrics / system)
        shutil.copytree(training / "cvt", training / system)
    shutil.copy(metrics / "cvt" / "seed0" / "train.json", metrics / "cvt-teacher" / "seed0" / "tune.json")
    steps = ["augment/run.json", "trf/silver/apply.json", "trf/teacher-vectors/build.json", "trf/teacher-vectors/init.json"]
    for name in steps:
        (metrics / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(metrics / "cvt" / "seed0" / "train.json", metrics / name)
    record.record("ner", 1, project / "metrics", project / "training", results_dir, -1, ["cvt-teacher", "trf"])
    for name in steps:
        assert (results_dir / "ner" / name).read_bytes() == (metrics / name).read_bytes(), name
    assert (results_dir / "ner" / "trf" / "seed0" / "train.json").is_file()
    (results_dir / "ner" / "cvt-teacher-base").mkdir()  # recorded, and costs the same augment record
    edit_json(metrics / "augment" / "run.json", seconds=1.0)
    with pytest.raises(ValueError, match=r"augment/run.json, which the recorded cvt-teacher-base also cost, differs"
                                         r".* or keep the recorded one with --keep-shared"):
        record.record("ner", 1, project / "metrics", project / "training", results_dir, -1, ["trf", "cvt-teacher"])
    assert (results_dir / "ner" / "trf" / "silver" / "apply.json").is_file()  # nothing replaced
    kept = (results_dir / "ner" / "augment" / "run.json").read_bytes()
    edit_json(metrics / "trf" / "silver" / "apply.json", seconds=2.0)
    record.record("ner", 1, project / "metrics", project / "training", results_dir, -1, ["trf", "cvt-teacher"],
                  keep_shared=True)  # the other taught system's augment record stays; the teacher's own are new
    assert (results_dir / "ner" / "augment" / "run.json").read_bytes() == kept != (metrics / "augment" / "run.json").read_bytes()
    assert json.loads((results_dir / "ner" / "trf" / "silver" / "apply.json").read_text())["seconds"] == 2.0


@pytest.mark.slow
def test_a_renamed_systems_record_is_checked_against_the_command_that_trains_it(recorded, tmp_path, monkeypatch):
    """trf-base is train-trf's run under another name (results.ENCODERS): its recorded config
    is compared with train-trf's. Here, with a stand-in encoder whose names are cvt's."""
    project = copy_project(recorded, tmp_path)
    shutil.copytree(project / "results" / "ner" / "cvt", project / "results" / "ner" / "cvt-renamed")
    monkeypatch.setattr(results, "ENCODERS", {"minilm": results.EncoderRuns("cvt", "cvt-teacher", 5e-5),
                                              "other": results.EncoderRuns("cvt-renamed", "x", 1e-4)})
    assert results.command_system("cvt-renamed") == "cvt" and results.command_system("bilstm") == "bilstm"
    assert results.project_command("train-cvt", "cvt-renamed") == (
        "train-cvt --vars.encoder other --vars.trf_system cvt-renamed --vars.taught_system x --vars.trf_learn_rate 0.0001")
    rows = {row["system"]: row for row in compare.recorded_rows(project / "results", "ner", project)}
    assert rows["cvt-renamed"]["stale"] == [] and rows["cvt-renamed"]["score"].values == rows["cvt"]["score"].values
    config = project / "configs" / "cvt_ner.cfg"
    config.write_text(config.read_text().replace("dropout = 0.3", "dropout = 0.25"))
    [row] = compare.recorded_rows(project / "results", "ner", project, ["cvt-renamed"])
    assert row["stale"] == ["config: training.dropout 0.3 → 0.25"]


def test_a_transformer_run_at_another_rate_than_its_encoders_is_stale(monkeypatch):
    """The transformer's learning rate is its encoder's (results.ENCODERS), not a run's choice like
    the budget: the recorded trf-base (MPNet-base at 1e-4) is current, and stale once its encoder's
    rate changes."""
    require_module("spacy_transformers", "pip install -e .[transformers]")
    run = REPO / "results" / "ner" / "trf-base" / "seed0"
    rate = "training.optimizer.learn_rate.initial_rate"
    assert not any(rate in reason for reason in results.stale_reasons(REPO, "ner", "trf-base", run))
    runs = results.ENCODERS["mpnet-base"]
    monkeypatch.setitem(results.ENCODERS, "mpnet-base", results.EncoderRuns(*runs.systems, 2e-4))
    assert f"config: {rate} 0.0001 → 0.0002" in results.stale_reasons(REPO, "ner", "trf-base", run)


def test_the_tables_say_which_machine_each_row_trained_on():
    """Rows recorded in different sessions can come from different machines: the tables group the
    systems by machine, so a reader compares time and words/s only within one."""
    def row(system, *machines):
        return {"system": system, "provenance": {"machines": list(machines)}}

    assert report.machines([row("cvt", "Xeon, 2 CPUs"), row("trf", "Xeon, 2 CPUs")]) == "all on Xeon, 2 CPUs"
    assert report.machines([row("cvt", "Xeon"), row("bilstm", "Xeon"), row("trf", "EPYC")]) == "cvt, bilstm on Xeon; trf on EPYC"
    assert report.machines([row("cvt", "EPYC", "Xeon")]) == "all on EPYC / Xeon"  # seeds on two machines
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert report.MACHINES_NOTE in readme  # README's generated block states the machines
