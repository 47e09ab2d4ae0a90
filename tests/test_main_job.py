"""The main job's timed record: what it keeps, when it refuses, and the README line `report` makes of it."""

import json

import pytest
from typer.testing import CliRunner

from spacy_cvt_project import main_job, report
from spacy_cvt_project.cli import app


def stat(mean, sd=None):
    return {"mean": mean, "sd": sd, "values": [mean]}


COMPARISON = {
    "task": "ner", "seeds": 1,
    "rows": [{"system": "cvt", "score": stat(0.2204)}, {"system": "trf", "score": stat(0.339)},
             {"system": "mine", "score": stat(0.5)}],
    "recorded": [{"system": "cvt", "score": stat(0.233, 0.013), "stale": False},
                 {"system": "trf", "score": stat(0.324, None), "stale": True}],
}
PROVENANCE = {"date": "2026-12-05T13:15:44+00:00", "git": {"commit": "934fe03aaaa", "dirty": False}}


def test_scores_sit_beside_their_references_and_a_system_without_one_says_so():
    scores = main_job.scores(COMPARISON)
    assert scores["cvt"] == {"score": 22.0, "reference": 23.3, "reference_sd": 1.3, "reference_stale": False}
    assert scores["trf"] == {"score": 33.9, "reference": 32.4, "reference_sd": None, "reference_stale": True}
    assert scores["mine"] == {"score": 50.0, "reference": None, "reference_sd": None, "reference_stale": None}


@pytest.mark.parametrize("args, task", [([], "ner"), (["--vars.task", "pos"], "pos"),
                                         (["--vars.seeds", "3", "--vars.task=aspect"], "aspect")])
def test_the_task_is_the_one_the_weasel_arguments_name(args, task):
    assert main_job.task_of(args) == task


def test_the_readme_line_reads_the_record(tmp_path):
    project = tmp_path / "fresh"
    project.mkdir()
    data = main_job.record(["--vars.seeds", "1"], 2437.0, project, COMPARISON, PROVENANCE)
    assert data["shared_beside"] is False and data["wall_seconds"] == 2437.0
    line = main_job.sentence(data)
    assert "took 41 min on" in line and "from a fresh clone with nothing beside it" in line
    assert "`spacy project run all --vars.seeds 1`" in line
    assert "cvt 22.0 (23.3 ± 1.3), trf 33.9 (32.4), mine 50.0" in line
    (tmp_path / "shared").mkdir()
    assert "with ../shared beside the checkout" in main_job.sentence(main_job.record([], 60.0, project, COMPARISON, PROVENANCE))


def test_report_puts_the_line_in_readmes_block_only_where_a_record_exists(tmp_path):
    readme = f"intro\n{report.BEGIN}\nold\n{report.END}\n"
    results = tmp_path / "results"
    results.mkdir()
    _, without, _ = report.render(results, tmp_path, tmp_path / "docs", readme)
    assert "The main job" not in without
    data = main_job.record([], 1800.0, tmp_path, COMPARISON, PROVENANCE)
    (results / "main-job.json").write_text(json.dumps(data), encoding="utf-8")
    _, with_record, _ = report.render(results, tmp_path, tmp_path / "docs", readme)
    assert main_job.sentence(data) in with_record


def test_a_checkout_where_weasel_would_skip_steps_is_refused_before_anything_runs(tmp_path, monkeypatch):
    (tmp_path / "project.lock").write_text("", encoding="utf-8")
    ran = []
    monkeypatch.setattr(main_job.subprocess, "run", lambda *a, **k: ran.append(a))
    result = CliRunner().invoke(app, ["main-job", "--project", str(tmp_path)])
    assert result.exit_code == 1 and ran == []
    assert "project.lock exists" in result.output and "fresh clone" in result.output
