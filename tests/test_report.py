"""spacy_cvt_project/report.py, record.py and results.py: recorded runs and the tables built from them.

One real run stands behind these tests: a tiny project (the repository's configs/cvt_ner.cfg with
tiny widths) trains cvt for two steps through `python -m spacy_cvt_project train` (the command
project.yml's train-cvt runs), evaluates and sizes it with the real tools, and `record` copies it
into results/. The numeric paths (mean ± sd over seeds, missing fields) then edit copies of that
record; the stale check edits copies of the project.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_cvt_project import catalog, compare, record, report, results, runs

from .conftest import PROJECT_CLI, REPO, ner_examples, require_module, run_python

TINY_WIDTHS = {"hidden_size1": 16, "projection_size1": 8, "hidden_size2": 8, "module_width": 8, "hash_rows": 500}


def tiny_config(config: str) -> str:
    """configs/cvt_ner.cfg with every width a few units: the tiny project's own config."""
    lines = config.splitlines()
    section = None
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line
        key = line.split("=")[0].strip()
        if section == "[components.cvt_ner.model]" and key in TINY_WIDTHS:
            lines[i] = f"{key} = {TINY_WIDTHS[key]}"
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, wnut_sentences, unlabeled_text_file):
    """A project folder whose results/ner/cvt holds one real recorded run."""
    require_module("codecarbon", "pip install -e .[project]")
    project = tmp_path_factory.mktemp("project")
    (project / "configs").mkdir()
    config = project / "configs" / "cvt_ner.cfg"
    config.write_text(tiny_config((REPO / "configs" / "cvt_ner.cfg").read_text(encoding="utf-8")), encoding="utf-8")
    assert config.read_text().count(" = 8\n") >= 3  # the widths were found and set
    (project / "corpus" / "ner").mkdir(parents=True)
    examples = ner_examples(spacy.blank("en"), wnut_sentences[:120])
    for name, part in (("train", examples[:60]), ("dev", examples[60:90]), ("test", examples[90:])):
        DocBin(docs=[eg.reference for eg in part]).to_disk(project / "corpus" / "ner" / f"{name}.spacy")
    (project / "corpus" / "unlabeled.txt").write_text("\n".join(unlabeled_text_file.read_text().splitlines()[:200]) + "\n")
    run_python([*PROJECT_CLI, "train", "cvt", "--task", "ner", "--seeds", "1", "--steps", "2", "--eval-frequency", "1",
                "--vectors", "null"], cwd=project, timeout=600)
    run_python([*PROJECT_CLI, "evaluate", "cvt", "--task", "ner", "--seeds", "1"], cwd=project, timeout=300)
    run_python([*PROJECT_CLI, "record", "ner", "--seeds", "1", "--systems", "cvt"], cwd=project, timeout=300)
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


@pytest.mark.slow  # its `recorded` fixture runs `python -m spacy_cvt_project train`, `evaluate` and `record`
def test_a_fresh_record_is_current_and_shows_what_the_tools_wrote(recorded):
    run = recorded / "results" / "ner" / "cvt" / "seed0"
    assert sorted(p.name for p in run.iterdir()) == ["config.cfg", "evaluate.json", "log.jsonl", "meta.json",
                                                     "train.json", "tune.json"]  # cvt_ner's decoding chosen on dev
    assert [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()] == [0, 1, 2]
    assert json.loads((run.parent / "record.json").read_text()) == {"evaluate_gpu_id": -1}
    [row] = compare.recorded_rows(recorded / "results", "ner", recorded)
    assert row["stale"] == [] and row["n"] == 1
    evaluation, meta = (json.loads((run / name).read_text()) for name in ("evaluate.json", "meta.json"))
    assert row["score"].values == [evaluation["ents_f"]] and row["recall"].values == [evaluation["ents_r"]]
    assert row["dev"].values == [meta["performance"]["ents_f"]]
    provenance = row["provenance"]
    assert provenance["budgets"] == ["2 steps"] and provenance["evaluated_on"] == ["CPU"]
    assert provenance["unlabeled"] == ["corpus/unlabeled.txt"]
    assert provenance["training_versions"] == [str(results.training_version())] and "spacy 3." in provenance["packages"][0]
    assert provenance["commits"] == ["unknown"]  # the tiny project is no git checkout
    docs = report.docs_markdown({"ner": [row]}, {"ner": "results/ner.png"})
    [line] = table_rows(docs, "cvt")
    weight = results.outside_weight(results.trained_config(run))
    assert line.startswith("| cvt | 1 | ") and line.endswith(f"| 2 steps | {weight:g} (dev) | current |")
    assert "CPUs" in docs and "trained 20" in docs


@pytest.mark.slow
def test_a_changed_config_or_training_version_marks_the_rows_stale(recorded, tmp_path, monkeypatch):
    project = copy_project(recorded, tmp_path)
    config = project / "configs" / "cvt_ner.cfg"
    original_config = config.read_text()

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
    # a fixed override (what makes the system what it is) is the project's, always today's
    cvt = catalog.KINDS["cvt"]
    monkeypatch.setitem(catalog.KINDS, "cvt", catalog.System(cvt.config, cvt.head, cvt.inputs,
                                                             {"components.{component}.model.hidden_size1": 32}))
    assert stale() == ["config: components.cvt_ner.model.hidden_size1 16 → 32"]
    monkeypatch.undo()
    # `train` chooses a span tagger's outside_weight on dev (tune.json): a run that did not is stale
    trained = project / "results" / "ner" / "cvt" / "seed0" / "config.cfg"
    tune, tuned_config = (trained.parent / "tune.json").read_text(), trained.read_text()
    (trained.parent / "tune.json").unlink()  # and the default weight, so that only the tuning differs
    trained.write_text(re.sub(r"outside_weight = [0-9.]+", "outside_weight = 1.0", tuned_config))
    untuned = "decoding: `outside_weight` not chosen on dev (no tune.json), which today's `train` does after training"
    assert stale() == [untuned]
    assert table_rows(report.docs_markdown({"ner": compare.recorded_rows(project / "results", "ner", project)}, {}),
                      "cvt")[0].endswith("| untuned | stale [1] |")
    trained.write_text(re.sub(r"outside_weight = [0-9.]+", "outside_weight = 0.6", trained.read_text()))
    assert stale() == [untuned, "config: components.cvt_ner.outside_weight 0.6 → 1.0"]
    (trained.parent / "tune.json").write_text(tune)  # chosen on dev after training, as train does
    trained.write_text(tuned_config)
    assert stale() == []
    monkeypatch.setattr(catalog, "tunes_decoding", lambda task, system: False)
    assert stale() == ["decoding: `outside_weight` chosen on dev (tune.json), which today's `train` does not do"]
    monkeypatch.undo()
    monkeypatch.setattr(results, "training_version", lambda: 2)
    assert stale() == ["TRAINING_VERSION 1 → 2"]
    monkeypatch.undo()
    config.unlink()
    assert stale() == ["today's config cannot be composed: configs/cvt_ner.cfg, today's config of cvt on ner, is missing"]


@pytest.mark.slow
def test_a_recorded_runs_choices_are_its_own(recorded, tmp_path):
    """A run's budget, seed and data are its choices, not the project's: the same run recorded with
    another budget and seed is still current (the table shows its budget)."""
    project = copy_project(recorded, tmp_path)
    train = project / "results" / "ner" / "cvt" / "seed0" / "train.json"
    command = json.loads(train.read_text())["command"]
    assert command[command.index("--training.max_steps") + 1] == "2"
    assert runs.chosen_overrides("cvt", runs.Choices("ner", 2, 1, vectors="null"), 0)["training.max_steps"] == 2
    edited = [("7" if previous == "--training.max_steps" else arg) for previous, arg in zip(["", *command], command)]
    edit_json(train, command=edited)
    trained = train.parent / "config.cfg"
    trained.write_text(trained.read_text().replace("max_steps = 2", "max_steps = 7"))
    assert compare.recorded_rows(project / "results", "ner", project)[0]["stale"] == []


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
        edit_json(run / "tune.json", seconds=6, energy_kwh=0.0001)  # its choice of outside_weight, in its cost
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
    assert line.startswith("| cvt | 3 | 37.0 ± 2.6 | 32.0 ± 2.0 | 44.0 ± 4.0 | 25.0 ± 5.0 | 5.6 ± 0.5 min "
                           "| 0.0111 ± 0.0010 (est.) | 22,000 ± 2,000 (CPU) | 2.10 | 37.3 | 2 steps | ")
    assert line.endswith(" (dev) | current |")
    assert "mean ± sample sd over the n seeds recorded" in docs and "![ner: " in docs
    for task in ("pos", "chunk", "aspect"):
        assert f"No recorded runs yet for {task}: `spacy project run all --vars.task {task} --vars.seeds 3`" in docs
    assert readme.startswith(f"intro\n{report.BEGIN}\n") and readme.endswith(f"{report.END}\nrest\n")
    assert "| ner | cvt | 3 | `ents_f` | 32.0 ± 2.0 | 5.6 ± 0.5 min |" in readme
    assert "spent this long in its training steps, the teacher's included: ner 5 min;" in readme  # seed 0: 306 s
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
    assert row["dev"] is None and row["energy_kwh"] is None and row["train_seconds"].values == [306, 336, 366]
    [line] = table_rows(report.docs_markdown({"ner": [row]}, {}), "cvt")
    assert line.startswith(f"| cvt | 3 | {compare.DASH} | 32.0 ± 2.0 | ") and f"| 5.6 ± 0.5 min | {compare.DASH} |" in line
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
        return subprocess.run([sys.executable, *PROJECT_CLI, "record", "ner", "--seeds", "1", "--systems", "cvt"],
                              capture_output=True, text=True, cwd=project, timeout=300)

    train = project / "metrics" / "ner" / "cvt" / "seed0" / "train.json"
    saved = train.read_text()
    without = json.loads(saved)
    del without["provenance"]
    train.write_text(json.dumps(without))
    failed = record_cvt()
    assert failed.returncode == 1 and "has no provenance (an older spacy_cvt_project/per_seed.py wrote it)" in failed.stderr
    train.write_text(saved)
    tune = train.with_name("tune.json")  # the decoding's tuning is part of the seed's cost: a failed one is refused
    tuned = tune.read_text()
    tune.write_text(json.dumps({**json.loads(tuned), "returncode": 1}))
    failed = record_cvt()
    assert failed.returncode == 1 and "seed0/tune.json: the run exited with 1; rerun `spacy project run train-cvt`" in failed.stderr
    with pytest.raises(ValueError, match=r"seed0/tune.json: the run exited with 1"):  # as the grid records, seed by seed
        record.check_seed("ner", "cvt", 0, project / "metrics", project / "training")
    tune.write_text(tuned)
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
    """A taught system's step records live partly in its teacher's folder (trf/teacher-corpus/...): recording
    both, in either order, keeps them; a shared record (augment's) that another recorded taught
    system also cost is not replaced by a different one."""
    project = tmp_path / "project"
    shutil.copytree(recorded, project)
    metrics, training, results_dir = project / "metrics" / "ner", project / "training" / "ner", project / "results"
    for system in ("trf", "cvt-teacher"):  # the real cvt run stands in for both
        shutil.copytree(metrics / "cvt", metrics / system)
        shutil.copytree(training / "cvt", training / system)
    shutil.copy(metrics / "cvt" / "seed0" / "train.json", metrics / "cvt-teacher" / "seed0" / "tune.json")
    steps = ["augment/run.json", "trf/teacher-corpus/apply.json", "trf/teacher-vectors/build.json", "trf/teacher-vectors/init.json"]
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
    assert (results_dir / "ner" / "trf" / "teacher-corpus" / "apply.json").is_file()  # nothing replaced
    kept = (results_dir / "ner" / "augment" / "run.json").read_bytes()
    edit_json(metrics / "trf" / "teacher-corpus" / "apply.json", seconds=2.0)
    record.record("ner", 1, project / "metrics", project / "training", results_dir, -1, ["trf", "cvt-teacher"],
                  keep_shared=True)  # the other taught system's augment record stays; the teacher's own are new
    assert (results_dir / "ner" / "augment" / "run.json").read_bytes() == kept != (metrics / "augment" / "run.json").read_bytes()
    assert json.loads((results_dir / "ner" / "trf" / "teacher-corpus" / "apply.json").read_text())["seconds"] == 2.0


def test_an_encoders_systems_train_as_their_kind_with_its_rate():
    """trf-base is a trf run with MPNet-base's names and learning rate, and cvt-teacher-base a
    cvt-teacher run on trf-base's lessons (catalog.ENCODERS); the commands compare prints for them
    pass the encoder's vars."""
    choices = runs.Choices("aspect", 300, 100, transformer="assets/mpnet-base")
    command = runs.train_command("trf-base", choices, 0, -1)
    assert command[4:7] == ["configs/trf_ner.cfg", "--output", "training/aspect/trf-base/seed0"]
    assert command[command.index("--training.optimizer.learn_rate.initial_rate") + 1] == "0.0001"
    assert command[command.index("--paths.transformer") + 1] == "assets/mpnet-base"
    taught = runs.train_command("cvt-teacher-base", runs.Choices("aspect", 800, 100), 2, 0)
    assert taught[4] == "configs/cvt-teacher_ner.cfg" and taught[-2:] == ["--gpu-id", "0"]
    assert taught[taught.index("--paths.teacher_corpus") + 1] == "corpus/aspect/trf-base_teacher_corpus.spacy"
    assert taught[taught.index("--paths.vectors") + 1] == "corpus/aspect/trf-base_teacher_vectors"
    assert compare.train_command("trf-base") == (
        "train-trf --vars.encoder mpnet-base --vars.trf_system trf-base --vars.taught_system cvt-teacher-base")
    assert compare.evaluate_command("cvt-teacher") == "evaluate-cvt-teacher"
    assert compare.evaluate_command("bilstm") == "evaluate"


def test_a_transformer_run_at_another_rate_than_its_encoders_is_stale(monkeypatch):
    """The transformer's learning rate is its encoder's (catalog.ENCODERS), not a run's choice like
    the budget: the recorded trf-base (MPNet-base at 1e-4) is current, and stale once its encoder's
    rate changes."""
    require_module("spacy_transformers", "pip install -e .[transformers]")
    run = REPO / "results" / "ner" / "trf-base" / "seed0"
    rate = "training.optimizer.learn_rate.initial_rate"
    assert results.stale_reasons(REPO, "ner", "trf-base", run) == []
    encoder = catalog.ENCODERS["mpnet-base"]
    monkeypatch.setitem(catalog.ENCODERS, "mpnet-base", catalog.Encoder(*encoder.systems, 2e-4))
    assert f"config: {rate} 0.0001 → 0.0002" in results.stale_reasons(REPO, "ner", "trf-base", run)


@pytest.mark.parametrize("task, system", [("pos", "cvt"), ("pos", "bilstm"), ("ner", "cvt-teacher"), ("aspect", "cvt-teacher-base")])
def test_a_run_recorded_under_earlier_key_names_is_current(task, system):
    """These runs were trained before issue 46's rename: their config.cfg and train command say
    [paths] raw or silver and [corpora.silver]. Read under today's names (results.under_todays_names,
    spacy_cvt/renamed.py), nothing but the names changed, so they are current; read as they are,
    they would be stale."""
    run = REPO / "results" / task / system / "seed0"
    recorded = (run / "config.cfg").read_text(encoding="utf-8")
    assert ("[corpora.silver]" in recorded) if "teacher" in system else ("\nraw = " in recorded)
    assert results.stale_reasons(REPO, task, system, run) == []


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


@pytest.mark.parametrize("overrides,expected", [
    ({"training.max_steps": 3000, "training.patience": 2000}, "3,000 steps, patience 2,000"),
    ({"training.max_steps": 800, "training.patience": 2000}, "800 steps"),  # patience can never end it
    ({"training.max_steps": 800, "training.patience": 0}, "800 steps"),
])
def test_the_budget_states_the_cap_and_a_patience_that_may_end_the_run_sooner(tmp_path, overrides, expected):
    config = spacy.util.load_config(REPO / "configs" / "cvt_ner.cfg", overrides=overrides)
    config.to_disk(tmp_path / "config.cfg")
    assert results.budget(results.trained_config(tmp_path)) == expected


@pytest.mark.parametrize("overrides,expected", [
    ({"paths.unlabeled": "corpus/reviews.txt"}, "corpus/reviews.txt"),
    # bilstm: the cvt config whose component reads no unlabeled text, whatever [paths] still names
    ({"paths.unlabeled": "corpus/reviews.txt", "initialize.components.cvt_ner.unlabeled_corpus": None}, None),
])
def test_a_records_unlabeled_text_is_what_its_cvt_component_read(tmp_path, overrides, expected):
    config = spacy.util.load_config(REPO / "configs" / "cvt_ner.cfg", overrides=overrides)
    config.to_disk(tmp_path / "config.cfg")
    assert results.unlabeled_text(results.trained_config(tmp_path)) == expected
