"""Tests for spacy_cvt.compare, the step that turns metrics into the answer.

The evaluation files are built from one real ``spacy evaluate --output`` run
(rule-based components, nothing trained), so a change in spaCy's output
layout breaks these tests instead of silently emptying the table.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span
from typer.testing import CliRunner

from spacy_cvt import compare as cmp

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def real_eval(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """Output of a real ``spacy evaluate --output --gold-preproc`` run.

    entity_ruler -> ents_*, attribute_ruler -> tag_acc/pos_acc,
    span_ruler on key "chunks" -> spans_chunks_*: every key compare uses.
    """
    root = tmp_path_factory.mktemp("evaluate")
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(
        [{"label": "PER", "pattern": "Alice"}, {"label": "LOC", "pattern": "Paris"}]
    )
    nlp.add_pipe("attribute_ruler").add(
        patterns=[[{"LOWER": "lives"}]], attrs={"TAG": "VBZ", "POS": "VERB"}
    )
    nlp.add_pipe(
        "span_ruler",
        config={
            "spans_key": "chunks",
            "scorer": {"@scorers": "spacy.overlapping_labeled_spans_scorer.v1", "spans_key": "chunks"},
        },
    ).add_patterns([{"label": "NP", "pattern": "Alice"}, {"label": "VP", "pattern": "lives"}])
    nlp.to_disk(root / "pipeline")
    words = ["Alice", "lives", "in", "Paris", "and", "Bob", "too"]
    doc = Doc(
        nlp.vocab,
        words=words,
        tags=["NNP", "VBZ", "IN", "NNP", "CC", "NNP", "RB"],
        pos=["PROPN", "VERB", "ADP", "PROPN", "CCONJ", "PROPN", "ADV"],
    )
    doc.ents = [Span(doc, 0, 1, "PER"), Span(doc, 3, 4, "LOC"), Span(doc, 5, 6, "PER")]
    doc.spans["chunks"] = [Span(doc, 0, 1, "NP"), Span(doc, 1, 2, "VP"), Span(doc, 3, 4, "NP")]
    DocBin(docs=[doc]).to_disk(root / "test.spacy")
    out = root / "metrics.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "spacy", "evaluate", str(root / "pipeline"),
            str(root / "test.spacy"), "--output", str(out), "--gold-preproc",
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def test_real_evaluate_layout_has_the_keys_compare_reads(real_eval: Dict[str, Any]) -> None:
    for key in ("ents_f", "ents_p", "ents_r", "tag_acc", "pos_acc",
                "spans_chunks_f", "spans_chunks_p", "spans_chunks_r", "speed"):
        assert isinstance(real_eval[key], (int, float)), key
    assert real_eval["ents_f"] == pytest.approx(0.8)
    assert real_eval["ents_p"] == 1.0
    assert real_eval["token_acc"] is None  # gold-preproc: null, not a number
    assert cmp.pick_score("ner", real_eval)[:2] == ("ents_f", pytest.approx(0.8))
    assert cmp.pick_score("pos", real_eval)[0] == "tag_acc"
    assert cmp.pick_score("chunk", real_eval)[0] == "spans_chunks_f"


def with_score(base: Dict[str, Any], **values: Optional[float]) -> Dict[str, Any]:
    """A copy of the real layout with some scores replaced or removed (None)."""
    data = copy.deepcopy(base)
    for key, value in values.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def write(path: Path, data: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf8")


def bench(wps: float, params: int, device: str = "cpu", **extra: Any) -> Dict[str, Any]:
    return {"words_per_second": wps, "device": device, "n_words": 20000, "batch_size": 256,
            "params": params, "vectors_params": 0, "disk_bytes": params * 4,
            "train_seconds": None, "energy_kwh": None, "energy_note": "n/a", **extra}


@pytest.fixture
def full_dir(tmp_path: Path, real_eval: Dict[str, Any]) -> Path:
    """Two tasks, all four systems plus an extra one, with bench/train files."""
    d = tmp_path / "metrics"
    scores = {"cvt": 0.912, "bilstm": 0.897, "cnn": 0.854, "trf": 0.921, "zeta": 0.5}
    for i, (system, f) in enumerate(scores.items()):
        write(d / f"ner-{system}.json", with_score(real_eval, ents_f=f, ents_p=f - 0.01, ents_r=f + 0.01))
        write(d / f"pos-{system}.json", with_score(real_eval, tag_acc=f + 0.05))
        write(d / f"ner-{system}-bench.json", bench(10_000 / (i + 1), 1_000_000 * (i + 1)))
        write(d / f"ner-{system}-train.json", {
            "train_seconds": 60.0 * (i + 1), "returncode": 0,
            "energy_kwh": 0.0123, "energy_is_estimate": True, "energy_note": "estimated",
        })
    write(d / "ner-trf-bench-gpu.json", bench(55_555, 5_000_000, device="gpu:0 (NVIDIA H100)"))
    return d


def test_full_comparison_outputs(full_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = cmp.compare(full_dir, out)
    md = paths["markdown"].read_text(encoding="utf8")
    for system in ("cvt", "bilstm", "cnn", "trf", "zeta"):
        assert f"| {system} |" in md
    ner_section = md.split("## ner")[1].split("## pos")[0]
    rows = [line for line in ner_section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r.split("|")[1].strip() for r in rows] == ["cvt", "bilstm", "cnn", "trf", "zeta"]
    assert rows[0].startswith("| cvt | 91.2 | 90.2 | 92.2 | 60 s | 10,000 |")
    assert "words/s GPU" in ner_section and "| 55,555 |" in ner_section
    assert "0.0123 (est.)" in ner_section
    assert "2.0 min" in rows[1]  # 120 s
    pos_section = md.split("## pos")[1]
    assert "| cvt | 96.2 |" in pos_section
    assert "| P |" not in pos_section  # accuracy has no precision/recall
    assert "words/s GPU" not in pos_section

    data = json.loads(paths["json"].read_text(encoding="utf8"))
    ner_rows = {r["system"]: r for r in data["tasks"]["ner"]["rows"]}
    assert ner_rows["cvt"]["score"] == pytest.approx(0.912)
    assert ner_rows["cvt"]["score_key"] == "ents_f"
    assert ner_rows["trf"]["words_per_second_gpu"] == pytest.approx(55_555)
    assert ner_rows["trf"]["gpu_device"].startswith("gpu:0")
    assert ner_rows["bilstm"]["params"] == 2_000_000
    assert data["tasks"]["pos"]["rows"][0]["words_per_second_cpu"] is None

    png = paths["png"].read_bytes()
    assert png[:8] == PNG_MAGIC
    assert len(png) > 10_000


def test_missing_system_shows_dashes(tmp_path: Path, real_eval: Dict[str, Any]) -> None:
    d = tmp_path / "m"
    write(d / "ner-cvt.json", with_score(real_eval, ents_f=0.9))
    write(d / "ner-cnn.json", with_score(real_eval, ents_f=0.8))
    write(d / "ner-trf-bench.json", bench(100, 110_000_000))  # bench, no eval
    tables = cmp.build_table(cmp.load_metrics(d))
    rows = {r["system"]: r for r in tables["ner"]["rows"]}
    assert list(rows) == ["cvt", "bilstm", "cnn", "trf"]
    assert rows["bilstm"]["score"] is None and "no files" in rows["bilstm"]["notes"][0]
    assert rows["trf"]["score"] is None and rows["trf"]["params"] == 110_000_000
    md_path = cmp.write_markdown(tables, tmp_path / "c.md")
    md = md_path.read_text(encoding="utf8")
    bilstm_row = next(line for line in md.splitlines() if line.startswith("| bilstm |"))
    assert bilstm_row.count(cmp.DASH) >= 6
    assert "| trf | – |" in md and "| 110.0 |" in md
    assert "trf: no evaluation file ner-trf.json" in md
    assert cmp.plot(tables, tmp_path / "c.png").read_bytes()[:8] == PNG_MAGIC


def test_missing_score_key_is_reported_not_fatal(tmp_path: Path, real_eval: Dict[str, Any]) -> None:
    d = tmp_path / "m"
    write(d / "pos-cvt.json", with_score(real_eval, tag_acc=None, pos_acc=0.95))
    write(d / "pos-cnn.json", with_score(real_eval, tag_acc=None, pos_acc=None))
    rows = {r["system"]: r for r in cmp.build_table(cmp.load_metrics(d))["pos"]["rows"]}
    assert rows["cvt"]["score_key"] == "pos_acc" and rows["cvt"]["score"] == 0.95
    assert any("pos_acc because tag_acc is missing" in n for n in rows["cvt"]["notes"])
    assert rows["cnn"]["score"] is None
    note = " ".join(rows["cnn"]["notes"])
    assert "tag_acc" in note and "pos_acc" in note and "ents_f" in note  # lists what exists


def test_null_score_counts_as_missing(tmp_path: Path, real_eval: Dict[str, Any]) -> None:
    d = tmp_path / "m"
    data = with_score(real_eval)
    data["ents_f"] = None
    write(d / "aspect-cvt.json", data)
    row = cmp.build_table(cmp.load_metrics(d))["aspect"]["rows"][0]
    assert row["score"] is None and "no score" in row["notes"][0]


def test_score_key_override_and_seqeval_column(tmp_path: Path, real_eval: Dict[str, Any]) -> None:
    d = tmp_path / "m"
    write(d / "ner-cvt.json", with_score(real_eval, ents_f=0.9, ents_seqeval_f=0.88))
    tables = cmp.build_table(cmp.load_metrics(d))
    row = tables["ner"]["rows"][0]
    assert row["score_key"] == "ents_f" and row["seqeval_f"] == 0.88
    assert "F1 (seqeval)" in cmp.render_task(tables["ner"])
    overrides = cmp.parse_score_keys(["ner=ents_seqeval_f"])
    row = cmp.build_table(cmp.load_metrics(d), score_keys=overrides)["ner"]["rows"][0]
    assert row["score_key"] == "ents_seqeval_f" and row["score"] == 0.88
    with pytest.raises(ValueError, match="TASK=KEY"):
        cmp.parse_score_keys(["ents_f"])


def test_corrupt_file_and_failed_training_are_notes(tmp_path: Path, real_eval: Dict[str, Any]) -> None:
    d = tmp_path / "m"
    write(d / "ner-cvt.json", with_score(real_eval, ents_f=0.9))
    (d / "ner-cvt-bench.json").write_text("{truncated", encoding="utf8")
    write(d / "ner-cvt-train.json", {"train_seconds": 5.0, "returncode": 1, "energy_kwh": None})
    row = cmp.build_table(cmp.load_metrics(d))["ner"]["rows"][0]
    notes = " ".join(row["notes"])
    assert "ner-cvt-bench.json" in notes and "treated as missing" in notes
    assert "exited with code 1" in notes
    assert row["score"] == 0.9 and row["train_seconds"] == 5.0


def test_train_time_falls_back_to_bench_copy(tmp_path: Path, real_eval: Dict[str, Any]) -> None:
    d = tmp_path / "m"
    write(d / "ner-cvt.json", with_score(real_eval))
    write(d / "ner-cvt-bench.json", bench(1000, 10, train_seconds=7200.0, energy_kwh=1.5))
    row = cmp.build_table(cmp.load_metrics(d))["ner"]["rows"][0]
    assert row["train_seconds"] == 7200.0 and row["energy_kwh"] == 1.5
    assert cmp.fmt_seconds(7200.0) == "2.0 h"


def test_no_metrics_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(cmp.NoMetricsError, match=str(tmp_path)):
        cmp.load_metrics(tmp_path)
    with pytest.raises(cmp.NoMetricsError, match="does not exist"):
        cmp.load_metrics(tmp_path / "nope")
    write(tmp_path / "ner-cvt-bench.json", bench(1, 1))
    with pytest.raises(cmp.NoMetricsError, match="benchmark/training file"):
        cmp.load_metrics(tmp_path)


def test_cli_no_metrics_exits_nonzero(tmp_path: Path) -> None:
    """Through ``python -m`` as the project workflow calls it."""
    proc = subprocess.run(
        [sys.executable, "-m", "spacy_cvt.compare", str(tmp_path), "--output-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode != 0
    assert str(tmp_path) in proc.stderr and "No evaluation metrics" in proc.stderr
    assert not (tmp_path / "comparison.md").exists()


def test_cli_tasks_filter(full_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cmp.app, [str(full_dir), "--output-dir", str(out), "--tasks", "pos"])
    assert result.exit_code == 0, result.output
    md = (out / "comparison.md").read_text(encoding="utf8")
    assert "## pos" in md and "## ner" not in md
    assert (out / "comparison.png").read_bytes()[:8] == PNG_MAGIC
    assert set(json.loads((out / "comparison.json").read_text())["tasks"]) == {"pos"}
    bad = CliRunner().invoke(cmp.app, [str(full_dir), "--output-dir", str(out), "--tasks", "chunk"])
    assert bad.exit_code == 1


@pytest.mark.parametrize(
    "name,expected",
    [
        ("ner-cvt.json", ("ner", "cvt", "metrics")),
        ("ner-cvt-bench.json", ("ner", "cvt", "bench")),
        ("pos-trf-bench-gpu.json", ("pos", "trf", "bench")),
        ("chunk-bilstm-train.json", ("chunk", "bilstm", "train")),
        ("aspect-cvt-small.json", ("aspect", "cvt-small", "metrics")),
        ("comparison.json", None),
        ("notes.txt", None),
    ],
)
def test_parse_filename(name: str, expected: Optional[tuple]) -> None:
    assert cmp.parse_filename(name) == expected


def test_system_and_task_order() -> None:
    assert cmp.order_systems(["trf", "alpha", "cvt"]) == ["cvt", "bilstm", "cnn", "trf", "alpha"]
    assert cmp.order_tasks(["aspect", "zz", "ner"]) == ["ner", "aspect", "zz"]
