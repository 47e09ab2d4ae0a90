"""Tests for scripts/benchmark.py and scripts/timed.py.

The cost numbers are half of the project's answer, so the counting rules are
pinned down on models whose size is known by construction, including a tiny
BERT built offline to check spacy-transformers pipelines are counted once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, List

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from thinc.api import Linear, PyTorchWrapper, chain
from .conftest import require_module

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"

WORDS = ["the", "cat", "sat", "on", "the", "mat", ".", "a", "dog", "ran", "."]
TAGS = ["DT", "NN", "VBD", "IN", "DT", "NN", ".", "DT", "NN", "VBD", "."]
SENT_STARTS = [True, False, False, False, False, False, False, True, False, False, False]

# HashEmbedCNN small enough to compute by hand (see test_tagger_params_by_hand).
TINY_TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "width": 16,
    "depth": 1,
    "embed_size": 100,
    "window_size": 1,
    "maxout_pieces": 2,
    "subword_features": False,
    "pretrained_vectors": None,
}


def load_script(name: str) -> types.ModuleType:
    """Import scripts/<name>.py (not a package) as a module."""
    path = SCRIPTS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_script_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


benchmark = load_script("benchmark")
timed = load_script("timed")


def make_gold_doc(vocab: Any) -> Doc:
    return Doc(
        vocab,
        words=WORDS,
        spaces=[True] * (len(WORDS) - 1) + [False],
        tags=TAGS,
        sent_starts=SENT_STARTS,
    )


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A blank-English tagger with a tiny tok2vec, trained for 2 steps."""
    root = tmp_path_factory.mktemp("tiny")
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "tagger",
        config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": TINY_TOK2VEC}},
    )
    gold = [make_gold_doc(nlp.vocab) for _ in range(20)]
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold]
    nlp.initialize(lambda: examples)
    for _ in range(2):
        nlp.update(examples)
    pipe_dir = root / "pipeline"
    nlp.to_disk(pipe_dir)
    corpus = root / "test.spacy"
    DocBin(docs=gold).to_disk(corpus)
    return {"root": root, "pipe_dir": pipe_dir, "corpus": corpus}


# --------------------------------------------------------------------------
# Parameter counting
# --------------------------------------------------------------------------


def test_thinc_params_match_hand_count() -> None:
    model = chain(Linear(4, 3), Linear(2, 4))
    model.initialize()
    # Linear(nO, nI): W nO*nI + b nO -> (4*3 + 4) + (2*4 + 2)
    assert benchmark.count_model_params(model) == 16 + 10


def test_unallocated_params_are_skipped_not_crashing() -> None:
    assert benchmark.count_model_params(Linear()) == 0


def test_pytorch_shim_params_counted_once() -> None:
    import torch

    linear = torch.nn.Linear(5, 3)
    wrapped = PyTorchWrapper(linear)
    # The same wrapper twice in a chain; two wrappers (two nodes, two shims)
    # around one torch module; tied weights inside torch.
    assert benchmark.count_model_params(chain(wrapped, wrapped)) == 5 * 3 + 3
    assert benchmark.count_model_params(chain(wrapped, PyTorchWrapper(linear))) == 5 * 3 + 3
    tied = torch.nn.Sequential(torch.nn.Linear(4, 4, bias=False), torch.nn.Linear(4, 4, bias=False))
    tied[1].weight = tied[0].weight
    assert benchmark.count_model_params(PyTorchWrapper(tied)) == 16


def test_bare_torch_module_is_counted() -> None:
    import torch

    assert benchmark.count_model_params(torch.nn.Linear(2, 2)) == 6


def test_shared_model_across_components_counted_once() -> None:
    shared = Linear(2, 3)
    shared.initialize()
    own = Linear(1, 1)
    own.initialize()
    fake_nlp = types.SimpleNamespace(
        components=[
            ("a", types.SimpleNamespace(model=shared)),
            ("b", types.SimpleNamespace(model=chain(shared, Linear(3, 2)))),
            ("ruler", types.SimpleNamespace()),  # no .model: rule-based
            ("c", types.SimpleNamespace(model=own)),
        ]
    )
    fake_nlp.components[1][1].model.initialize()
    total, per = benchmark.count_pipeline_params(fake_nlp)
    assert per == {"a": 8, "b": 3 * 2 + 3, "c": 2}
    assert total == 8 + 9 + 2


def test_tagger_params_by_hand(tiny_pipeline: dict) -> None:
    nlp = spacy.load(tiny_pipeline["pipe_dir"])
    width, rows, n_tags = 16, 100, len(set(TAGS))
    embed = rows * width  # one HashEmbed (NORM), no bias
    reduce_maxout = width * 3 * width + width * 3 + 2 * width  # Maxout nP=3 + LayerNorm
    window_maxout = width * 2 * (3 * width) + width * 2 + 2 * width  # window 1 -> 3*width in
    softmax = n_tags * width + n_tags
    total, per = benchmark.count_pipeline_params(nlp)
    assert total == per["tagger"] == embed + reduce_maxout + window_maxout + softmax


def test_vectors_counted_separately() -> None:
    from spacy.vectors import Vectors

    nlp = spacy.blank("en")
    assert benchmark.count_vector_params(nlp) == 0
    nlp.vocab.vectors = Vectors(data=numpy.zeros((10, 5), dtype="f"), keys=list(range(10)))
    assert benchmark.count_vector_params(nlp) == 50
    assert benchmark.count_pipeline_params(nlp)[0] == 0


def _tiny_bert(path: Path) -> int:
    """Write a 1-layer, 8-dim BERT + tokenizer to ``path``; return its size."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(WORDS))
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=64,
    )
    model = BertModel(config)
    model.save_pretrained(path)
    return sum(p.numel() for p in model.parameters())


def test_spacy_transformers_pipeline_counted_once(tmp_path: Path) -> None:
    require_module("spacy_transformers", "pip install -e .[transformers]")
    hf_params = _tiny_bert(tmp_path / "tinybert")
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "transformer",
        config={
            "model": {
                "@architectures": "spacy-transformers.TransformerModel.v3",
                "name": str(tmp_path / "tinybert"),
                "tokenizer_config": {"use_fast": True},
                "get_spans": {
                    "@span_getters": "spacy-transformers.strided_spans.v1",
                    "window": 32,
                    "stride": 24,
                },
            }
        },
    )
    nlp.add_pipe(
        "tagger",
        config={
            "model": {
                "@architectures": "spacy.Tagger.v2",
                "tok2vec": {
                    "@architectures": "spacy-transformers.TransformerListener.v1",
                    "grad_factor": 1.0,
                    "pooling": {"@layers": "reduce_mean.v1"},
                },
            }
        },
    )
    gold = [make_gold_doc(nlp.vocab) for _ in range(2)]
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in gold])
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    total, per = benchmark.count_pipeline_params(loaded)
    n_tags = len(set(TAGS))
    assert per["transformer"] == hf_params
    assert per["tagger"] == n_tags * 8 + n_tags  # listener has no weights
    assert total == hf_params + n_tags * 9


# --------------------------------------------------------------------------
# Disk size, docs, throughput
# --------------------------------------------------------------------------


def test_directory_bytes_exact(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "b").write_bytes(b"y" * 1234)
    (tmp_path / "sub" / "deeper" / "c").write_bytes(b"")
    (tmp_path / "sub" / "deeper" / "d").write_bytes(b"z" * 7)
    os.symlink(tmp_path / "sub" / "b", tmp_path / "link")  # not counted twice
    assert benchmark.directory_bytes(tmp_path) == 10 + 1234 + 0 + 7
    with pytest.raises(FileNotFoundError, match="nope"):
        benchmark.directory_bytes(tmp_path / "nope")


def test_unannotated_copies_split_sentences() -> None:
    nlp = spacy.blank("en")
    gold = make_gold_doc(nlp.vocab)
    copies = benchmark.unannotated_copies(nlp, [gold], split_sentences=True)
    assert [len(d) for d in copies] == [7, 4]
    assert [t.text for d in copies for t in d] == WORDS
    assert not any(d.has_annotation("TAG") for d in copies)
    whole = benchmark.unannotated_copies(nlp, [gold], split_sentences=False)
    assert len(whole) == 1 and whole[0].text == gold.text


def test_measure_throughput_processes_enough_words(tiny_pipeline: dict) -> None:
    nlp = spacy.load(tiny_pipeline["pipe_dir"])
    templates = benchmark.unannotated_copies(nlp, [make_gold_doc(nlp.vocab)])
    result = benchmark.measure_throughput(nlp, templates, n_words=300, batch_size=8)
    assert result["n_words"] >= 300
    assert result["words_per_second"] > 0
    assert result["batch_wps"]["n_batches"] == -(-result["n_docs"] // 8)
    assert not any(d.has_annotation("TAG") for d in templates)  # templates untouched


def test_cli_writes_complete_json(tiny_pipeline: dict, tmp_path: Path) -> None:
    train_log = tmp_path / "train.json"
    train_log.write_text(
        json.dumps({"train_seconds": 12.5, "energy_kwh": None, "energy_note": "why not"})
    )
    out = tmp_path / "metrics" / "pos-cnn-bench.json"
    proc = subprocess.run(
        [
            sys.executable, str(SCRIPTS / "benchmark.py"),
            str(tiny_pipeline["pipe_dir"]), str(tiny_pipeline["corpus"]),
            "--output", str(out), "--n-words", "500", "--batch-size", "16",
            "--train-log", str(train_log),
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    for key in (
        "words_per_second", "device", "n_words", "batch_size", "params",
        "vectors_params", "disk_bytes", "train_seconds", "energy_kwh", "energy_note",
    ):
        assert key in data, key
    assert data["words_per_second"] > 0
    assert data["device"] == "cpu"
    assert data["n_words"] >= 500 and data["batch_size"] == 16
    nlp = spacy.load(tiny_pipeline["pipe_dir"])
    assert data["params"] == benchmark.count_pipeline_params(nlp)[0] > 0
    assert data["vectors_params"] == 0
    assert data["disk_bytes"] == sum(
        p.stat().st_size for p in Path(tiny_pipeline["pipe_dir"]).rglob("*") if p.is_file()
    )
    assert data["train_seconds"] == 12.5 and data["energy_note"] == "why not"
    assert "words/s" in proc.stdout


def test_only_on_gpu_does_nothing_on_cpu(tiny_pipeline: dict, tmp_path: Path) -> None:
    out = tmp_path / "pos-cnn-bench-gpu.json"
    proc = subprocess.run(
        [
            sys.executable, str(SCRIPTS / "benchmark.py"),
            str(tiny_pipeline["pipe_dir"]), str(tiny_pipeline["corpus"]),
            "--output", str(out), "--gpu-id", "-1", "--only-on-gpu",
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no GPU benchmark" in proc.stdout
    assert not out.exists()


def test_cli_missing_pipeline_is_a_clear_error(tiny_pipeline: dict, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable, str(SCRIPTS / "benchmark.py"),
            str(tmp_path / "missing"), str(tiny_pipeline["corpus"]),
            "--output", str(tmp_path / "o.json"),
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "Pipeline directory not found" in proc.stderr and "missing" in proc.stderr
    assert not (tmp_path / "o.json").exists()


def test_read_train_log_missing_file(tmp_path: Path) -> None:
    record = benchmark.read_train_log(tmp_path / "absent.json")
    assert record["train_seconds"] is None and "not found" in record["energy_note"]


# --------------------------------------------------------------------------
# timed.py
# --------------------------------------------------------------------------


def run_timed(tmp_path: Path, *command: str, extra: List[str] = ()) -> tuple:
    out = tmp_path / "t" / "train.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "timed.py"), "--output", str(out), *extra, "--", *command],
        capture_output=True, text=True, timeout=120,
    )
    return proc, out


def test_timed_propagates_exit_code_and_records_seconds(tmp_path: Path) -> None:
    code = "import sys, time; print('child says hi', flush=True); time.sleep(0.3); sys.exit(3)"
    proc, out = run_timed(tmp_path, sys.executable, "-c", code)
    assert proc.returncode == 3
    assert "child says hi" in proc.stdout  # streamed through, not swallowed
    record = json.loads(out.read_text())
    assert record["returncode"] == 3
    assert 0.3 <= record["train_seconds"] < 60
    assert record["command"][-1] == code


def test_timed_success_and_energy_fields(tmp_path: Path) -> None:
    proc, out = run_timed(tmp_path, sys.executable, "-c", "pass")
    assert proc.returncode == 0
    record = json.loads(out.read_text())
    if importlib.util.find_spec("codecarbon") is None:
        assert record["energy_kwh"] is None
        assert "codecarbon is not importable" in record["energy_note"]
    else:
        assert record["energy_kwh"] is None or record["energy_kwh"] >= 0
        assert record["energy_note"]


def test_timed_runs_python_as_this_interpreter(tmp_path: Path) -> None:
    proc, out = run_timed(tmp_path, "python", "-c", "import sys; print(sys.executable)", extra=["--no-energy"])
    assert proc.returncode == 0
    assert proc.stdout.strip().splitlines()[-1] == sys.executable


def test_timed_no_energy_flag(tmp_path: Path) -> None:
    proc, out = run_timed(tmp_path, sys.executable, "-c", "pass", extra=["--no-energy"])
    assert proc.returncode == 0
    record = json.loads(out.read_text())
    assert record["energy_kwh"] is None and "--no-energy" in record["energy_note"]


def test_timed_missing_command_and_bad_usage(tmp_path: Path) -> None:
    proc, out = run_timed(tmp_path, "definitely-not-a-command-xyz")
    assert proc.returncode == 127
    assert json.loads(out.read_text())["returncode"] == 127
    bad = subprocess.run(
        [sys.executable, str(SCRIPTS / "timed.py"), "--output", "x.json"],
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 2 and "--" in bad.stderr


def test_parse_args_keeps_command_options_untouched() -> None:
    opts, command = timed.parse_args(
        ["--output", "o.json", "--", "python", "-m", "spacy", "train", "--output", "x"]
    )
    assert opts["output"] == "o.json" and opts["country_iso_code"] == "USA"
    assert command == ["python", "-m", "spacy", "train", "--output", "x"]


class _FakeCPU:
    def __init__(self, mode: str) -> None:
        self._mode = mode

    def description(self) -> str:
        return f"CPU({self._mode})"


_FakeCPU.__name__ = "CPU"


def _fake_codecarbon(monkeypatch: pytest.MonkeyPatch, mode: str = "", fail: bool = False) -> None:
    """Install a stand-in ``codecarbon`` module so both branches are testable."""

    class Tracker:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs
            self._hardware = [_FakeCPU(mode)]
            self.final_emissions_data = None

        def start(self) -> None:
            if fail:
                raise PermissionError("/sys/class/powercap: permission denied")

        def stop(self) -> float:
            self.final_emissions_data = types.SimpleNamespace(
                energy_consumed=0.5, cpu_energy=0.3, gpu_energy=0.0, ram_energy=0.2,
                emissions=0.1, country_iso_code="USA", cpu_model="x", gpu_model="", gpu_count=0,
            )
            return 0.1

    fake = types.ModuleType("codecarbon")
    fake.OfflineEmissionsTracker = Tracker
    fake.__version__ = "9.9"
    monkeypatch.setitem(sys.modules, "codecarbon", fake)


@pytest.mark.parametrize("mode,estimate", [("cpu_load", True), ("intel_rapl", False)])
def test_energy_meter_flags_estimates(monkeypatch: pytest.MonkeyPatch, mode: str, estimate: bool) -> None:
    _fake_codecarbon(monkeypatch, mode=mode)
    meter = timed.EnergyMeter()
    meter.start()
    meter.stop()
    assert meter.kwh == 0.5
    assert meter.is_estimate is estimate
    assert ("ESTIMATE" in meter.note) is estimate
    assert meter.details["cpu_modes"] == [mode]


def test_energy_meter_start_failure_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_codecarbon(monkeypatch, fail=True)
    meter = timed.EnergyMeter()
    meter.start()
    meter.stop()
    assert meter.kwh is None
    assert "failed to start" in meter.note and "permission denied" in meter.note
