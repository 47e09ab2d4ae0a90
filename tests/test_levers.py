"""spacy_cvt_project/levers.py: one change to a taught system's recipe, trained and kept for the
lever table of docs/experiments.md.

A lever's run must be the taught system's `train` run with exactly its change, in its own folder
(so that a lever never overwrites the system's recorded runs); `lever` must refuse what it cannot
measure; and one real tiny project trains two levers through the command project.yml runs and
`report`'s table shows their dev scores against each other.
"""

import json
import shutil

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_cvt_project import catalog, compare, levers, report, runs
from spacy_cvt_project.cli import app

from .conftest import PROJECT_CLI, REPO, ner_examples, require_module, run_python
from .test_report import TINY_WIDTHS, tiny_config


def as_overrides(command):
    """`spacy train`'s command line as {option: value} (the config path and flags aside)."""
    args = command[command.index("train") + 2:]
    return {args[i][2:]: args[i + 1] for i in range(0, len(args), 2)}


@pytest.mark.parametrize("task,system", [("ner", "cvt-teacher"), ("aspect", "cvt-teacher-base")])
def test_a_levers_run_is_the_systems_train_run_with_only_its_change_in_its_own_folder(task, system):
    choices = runs.Choices(task, 800, 100)
    recipe = as_overrides(runs.train_command(system, choices, runs.SEED, -1))
    folder = f"levers/{task}/{system}"
    teacher = catalog.teacher_of(system)
    component = catalog.component(task, system)
    expected_changes = {
        "recipe": {},
        "converged": {"training.max_steps": "3000", "training.optimizer.learn_rate.total_steps": "3000"},
        "wider": {f"components.{component}.model.{key}": str(value) for key, value in levers.WIDER.items()},
        "vectors-128": {"paths.vectors": f"corpus/{task}/{teacher}_teacher_vectors_128"},
        "in-domain": {"paths.teacher_corpus": f"corpus/{task}/{teacher}_reviews_teacher_corpus.spacy"},
    }
    assert set(expected_changes) == set(levers.LEVERS)  # a new lever gets its expected change here
    for name, changes in expected_changes.items():
        if levers.LEVERS[name].tasks and task not in levers.LEVERS[name].tasks:
            continue  # refused before a command is made (test_lever_refuses_what_it_cannot_measure)
        command = levers.lever_command(name, choices, system, -1)
        assert command[:5] == runs.train_command(system, choices, runs.SEED, -1)[:5]  # the system's config
        lever = as_overrides(command)
        moved = {"output": f"training/{folder}/{name}/seed{{seed}}",
                 "training.logger.output_file": f"metrics/{folder}/{name}/seed{{seed}}/log.jsonl"}
        assert {k: v for k, v in lever.items() if recipe.get(k) != v} == {**moved, **changes}
        assert set(recipe) - set(lever) == set()


def lever_cli(*args):
    """`python -m spacy_cvt_project lever ARGS` in this process; its exit code and output without line wraps."""
    result = CliRunner().invoke(app, ["lever", *args])
    return result.exit_code, "".join(result.output.replace("│", "").split())


def test_lever_refuses_what_it_cannot_measure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, output = lever_cli("nope", "--steps", "10")
    assert code == 2 and "unknownlever'nope'" in output
    # an untaught system, or a task without a teacher: nothing to measure the levers of
    code, output = lever_cli("recipe", "--system", "cvt", "--steps", "10")
    assert code == 2 and "gotcvtonner" in output
    code, output = lever_cli("recipe", "--task", "pos", "--steps", "10")
    assert code == 2 and "gotcvt-teacheronpos" in output
    # inputs not made yet: the commands that make them, and nothing trained
    code, output = lever_cli("vectors-128", "--steps", "10")
    assert code == 1 and "--dims128" in output and "corpus/ner/trf_teacher_vectors_128" in output
    # a lever of another task's domain
    code, output = lever_cli("in-domain", "--steps", "10")
    assert code == 2 and "leverin-domainismeasuredonaspect,notner" in output
    code, output = lever_cli("in-domain", "--task", "aspect", "--steps", "10")
    assert code == 1 and "../shared/data/reviews/tripadvisor_restaurants.txt" in output
    assert "corpus/aspect/trf_reviews_teacher_corpus.spacy" in output
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_recorded_lever_is_an_error_that_names_it(tmp_path):
    (tmp_path / "levers" / "ner" / "cvt-teacher" / "gone" / "seed0").mkdir(parents=True)
    with pytest.raises(ValueError, match="gone, which spacy_cvt_project/levers.py no longer defines"):
        levers.levers_markdown(tmp_path)
    assert "No lever recorded yet" in levers.levers_markdown(tmp_path / "nothing")


def test_the_best_step_is_the_first_of_the_best_dev_scores(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps({"step": s, "seconds": s / 10, "score": v}) + "\n" for s, v in
                           [(0, 0.0), (100, 0.4), (200, 0.5), (300, 0.5), (400, 0.45)]))
    assert levers.best_and_last_step(log) == (0.5, 200, 400)
    log.write_text("")
    with pytest.raises(ValueError, match="holds no dev evaluation: train the lever again"):
        levers.best_and_last_step(log)


def test_a_gap_in_a_levers_seeds_is_an_error_that_says_how_to_fill_it(tmp_path):
    for seed in (0, 2):
        (tmp_path / "levers" / "ner" / "cvt-teacher" / "wider" / f"seed{seed}").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"seeds \[0, 2\], not 0 .. n-1: train the missing seeds "
                                         r"\(`python -m spacy_cvt_project lever wider --task ner --system cvt-teacher --seed K`\)"):
        levers.levers_markdown(tmp_path)


def test_the_lever_table_names_each_machine_once_with_its_commits():
    def row(lever, dev, where):
        return {"lever": lever, "n": 1, "dev": compare.stat([dev]), "untuned": compare.stat([dev - 0.01]),
                "steps": [(700, 800)], "outside_weight": [0.5], "seconds": compare.stat([600]), "where": where}

    amd = "AMD EPYC, 2 CPUs, no GPU"
    table = levers.lever_table("ner", "cvt-teacher", [
        row("recipe", 0.497, {(amd, "2198830f36")}),
        row("wider", 0.499, {(amd, "21255a262e (tracked files edited)")}),
        row("converged", 0.4, {("Intel Xeon, 2 CPUs, no GPU", "2198830f36")})])
    assert table[-2] == (f"Trained on {amd}, commits 21255a262e (tracked files edited), 2198830f36; "
                         "Intel Xeon, 2 CPUs, no GPU, commit 2198830f36.")
    assert "| wider |" in table[5] and "| +0.2 |" in table[5] and "| -9.7 |" in table[6]


@pytest.fixture(scope="module")
def lever_project(tmp_path_factory, wnut_sentences):
    """A tiny project (configs/cvt-teacher_ner.cfg with tiny widths, silver from the gold's
    annotation, a 5-word vector table) where `lever` trained wider for two steps."""
    require_module("codecarbon", "pip install -e .[project]")
    project = tmp_path_factory.mktemp("levers")
    (project / "configs").mkdir()
    # its model section names no width (ModelSettings' defaults): the tiny ones written in, for tiny_config
    architecture = '@architectures = "spacy-cvt.CVTTagger.v1"\n'
    config = (REPO / "configs" / "cvt-teacher_ner.cfg").read_text(encoding="utf-8")
    assert config.count(architecture) == 1
    config = tiny_config(config.replace(architecture, architecture + "".join(f"{k} = 0\n" for k in TINY_WIDTHS)))
    (project / "configs" / "cvt-teacher_ner.cfg").write_text(config, encoding="utf-8")
    corpus = project / "corpus" / "ner"
    corpus.mkdir(parents=True)
    examples = ner_examples(spacy.blank("en"), wnut_sentences[:150])
    for name, part in (("train", examples[:60]), ("dev", examples[60:90]), ("trf_teacher_corpus", examples[90:])):
        DocBin(docs=[eg.reference for eg in part]).to_disk(corpus / f"{name}.spacy")
    words = corpus / "words.txt"
    words.write_text("5 4\n" + "".join(f"{w} 0.1 0.2 0.3 0.4\n" for w in ("the", "a", "of", "to", "in")))
    run_python(["-m", "spacy", "init", "vectors", "en", str(words), str(corpus / "trf_teacher_vectors")], timeout=120)
    run_python([*PROJECT_CLI, "lever", "wider", "--steps", "2", "--eval-frequency", "1"], cwd=project, timeout=600)
    return project


@pytest.mark.slow  # trains a lever through `python -m spacy_cvt_project lever`
def test_lever_keeps_its_run_and_report_sets_it_against_the_recipe(lever_project, tmp_path):
    kept = lever_project / "results" / "levers" / "ner" / "cvt-teacher"
    assert sorted(p.name for p in (kept / "wider" / "seed0").iterdir()) == sorted(
        ["train.json", "tune.json", "log.jsonl", "config.cfg", "meta.json"])
    wider = spacy.util.load_config(kept / "wider" / "seed0" / "config.cfg")["components"]["cvt_ner"]["model"]
    assert {key: wider[key] for key in levers.WIDER} == levers.WIDER
    # the system's own folders stay untouched: a lever is not a run of the system
    assert not (lever_project / "training" / "ner").exists() and not (lever_project / "metrics" / "ner").exists()

    # the recipe's row: a copy of the run with another dev score
    results = tmp_path / "results"
    shutil.copytree(lever_project / "results", results)
    recipe = results / "levers" / "ner" / "cvt-teacher" / "recipe" / "seed0"
    shutil.copytree(recipe.parent.parent / "wider" / "seed0", recipe)
    meta = json.loads((recipe / "meta.json").read_text())
    meta["performance"]["ents_f"] = 0.25
    (recipe / "meta.json").write_text(json.dumps(meta))

    rows = levers.lever_rows(results, "ner", "cvt-teacher")
    assert [row["lever"] for row in rows] == ["recipe", "wider"]  # LEVERS' order
    assert all(row["n"] == 1 and row["steps"][0][1] == 2 and row["seconds"].mean > 0
               and 0 <= row["outside_weight"][0] <= 1 for row in rows)
    lines = {line.split(" | ")[0]: line.split(" | ") for line in levers.levers_markdown(results).splitlines()
             if line.startswith("| recipe") or line.startswith("| wider")}
    assert lines["| wider"][4] == f"{100 * rows[1]['dev'].mean - 25:+.1f}" and lines["| recipe"][4] == "–"
    assert lines["| recipe"][3] == "25.0" and lines["| recipe"][5] == f"{100 * rows[0]['untuned'].mean:.1f}"
    # a second seed of a lever: its mean ± sd, and the difference of the means
    shutil.copytree(recipe, recipe.parent / "seed1")
    meta["performance"]["ents_f"] = 0.35
    (recipe.parent / "seed1" / "meta.json").write_text(json.dumps(meta))
    lines = {line.split(" | ")[0]: line.split(" | ") for line in levers.levers_markdown(results).splitlines()
             if line.startswith("| recipe") or line.startswith("| wider")}
    assert lines["| recipe"][2:4] == ["2", "30.0 ± 7.1"]
    assert lines["| wider"][4] == f"{100 * rows[1]['dev'].mean - 30:+.1f}"

    experiments = f"intro\n{report.LEVERS_BEGIN}\nold\n{report.LEVERS_END}\nrest\n"
    rewritten = report.with_levers(experiments, results)
    assert rewritten.startswith(f"intro\n{report.LEVERS_BEGIN}\nGenerated by") and "old" not in rewritten
    assert rewritten.endswith(f"{report.LEVERS_END}\nrest\n") and "| wider |" in rewritten


def test_docs_experiments_lever_tables_are_what_report_generates():
    """Regenerate with `spacy project run report` when this fails."""
    experiments = (REPO / "docs" / "experiments.md").read_text(encoding="utf-8")
    assert report.with_levers(experiments, REPO / "results") == experiments
