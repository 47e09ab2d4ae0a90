"""Dev curves from recorded logs (spacy_cvt_project/curves.py) and where report shows them."""

import json

import pytest

from spacy_cvt_project import curves, report
from .conftest import REPO


def write_log(path, points):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"epoch": 0, "step": step, "seconds": seconds, "score": score,
                                        "scores": {}, "losses": {}}) + "\n"
                            for step, seconds, score in points), encoding="utf-8")


def test_a_curve_is_each_evaluation_after_the_first_step_in_seconds_and_score_x100(tmp_path):
    log = tmp_path / "log.jsonl"
    write_log(log, [(0, 0, 0.01), (100, 40, 0.2), (200, 81, 0.3)])
    assert curves.curve(log) == [(40.0, 20.0), (81.0, 30.0)]


def test_a_line_that_is_no_evaluation_is_named_with_its_file_and_line(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 0, "seconds": 0, "score": 0}\n{"step": 100, "score": 0.2}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"log.jsonl, line 2: not an evaluation .*needs step, seconds, score"):
        curves.curve(log)


def test_a_tasks_curves_are_its_systems_with_logs_seed_by_seed(tmp_path):
    for seed, score in ((10, 0.5), (2, 0.3), (0, 0.1)):
        write_log(tmp_path / "cvt" / f"seed{seed}" / "log.jsonl", [(100, 10, score)])
    (tmp_path / "trf" / "seed0").mkdir(parents=True)  # recorded before runs kept their log
    found = curves.task_curves(tmp_path, ["trf", "cvt"])
    assert list(found) == ["cvt"]
    assert found["cvt"] == [[(10.0, 10.0)], [(10.0, 30.0)], [(10.0, 50.0)]]  # seeds 0, 2, 10


def test_report_shows_the_curves_where_runs_kept_logs_and_names_those_without(tmp_path):
    rows = report.task_rows(REPO / "results", REPO)
    with_logs = {task: [row["system"] for row in task_rows if row["curves"]] for task, task_rows in rows.items()}
    assert with_logs["aspect"] == ["cvt", "bilstm", "trf-base", "cvt-teacher-base"] and with_logs["pos"] == []
    docs = report.docs_markdown(rows, {task: f"results/{task}.png" for task in rows})
    assert "![aspect: dev score against training time](results/aspect-curves.png)" in docs
    assert "No curve for cnn, trf, cvt-teacher: recorded before" in docs
    assert "results/pos-curves.png" not in docs  # no run of pos kept its log
    report.draw({"aspect": rows["aspect"]}, tmp_path)
    png = (tmp_path / "results" / "aspect-curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
