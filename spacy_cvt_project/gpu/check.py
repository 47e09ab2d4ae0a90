"""The GPU check: do spacy-cvt and the transformer baseline train and predict on this GPU, how fast?

    spacy_cvt_project/gpu/check.sh kit/cvt gpu-check.json           # installs the kit part if needed, then:
    python -m spacy_cvt_project gpu-check kit/cvt gpu-check.json --gpu-id 0

With a kit's `cvt` part (see spacy_cvt_project/gpu/kit.py) it records the GPU and the versions of torch,
CuPy, thinc and spaCy; whether thinc sees the GPU through CuPy and, with `gpu_allocator =
"pytorch"`, allocates from torch's memory pool; then trains configs/cvt_ner.cfg on WNUT-17 with
`spacy train --gpu-id` for a fixed number of steps, evaluates it with `spacy evaluate`, and
measures training words/s on GPU and CPU and inference words/s on GPU and CPU; the same speeds
for configs/cvt_ner_paper.cfg; and whether the pipeline trained on GPU gives the same
predictions when loaded on CPU. With the `trf` part it does the same for configs/trf_ner.cfg.

Training words/s are spaCy's own counters (labeled words / seconds since training started, dev
evaluations included), read from the JSONL log of `spacy-cvt.ConsoleLogger.v1`. Inference words/s
are spaCy's `benchmark speed` (its warm-up and per-batch timing, the pipeline's batch size, docs
built before timing). Results go into OUTPUT under the part's name, merged with what is there
and written after each stage, so a run cut off still leaves what it measured. `--gpu-id -1`
runs everything on CPU (the rehearsal in tests/test_gpu_kit.py).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Dict, Optional

import typer
from ..bench.logged_train import logged_train

ROOT = Path(__file__).resolve().parents[2]  # the project checkout
# per part: the config, GPU training steps, CPU training steps
PARTS = {"cvt": ("configs/cvt_ner.cfg", 1000, 100), "trf": ("configs/trf_ner.cfg", 300, 10)}
PAPER_CONFIG = "configs/cvt_ner_paper.cfg"
CPU_DEV_LIMIT = 200  # dev docs evaluated in the runs that measure speed only (CPU, paper size)


def spacy_cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "spacy", *args], check=True, cwd=ROOT)


def train(config: str, output: Path, steps: int, gpu_id: int, paths: Dict[str, Path], dev_limit: int = 0) -> Dict[str, Any]:
    """`spacy train` for `steps` steps, two dev evaluations (after the first and last step)."""
    overrides = ["--gpu-id", str(gpu_id), "--corpora.dev.limit", str(dev_limit)]
    for name, path in paths.items():
        overrides += [f"--paths.{name}", str(path)]
    start = time.perf_counter()
    last = logged_train(Path(config), output, steps, steps, overrides, cwd=ROOT)[-1]
    wall = time.perf_counter() - start
    return {"device": "gpu" if gpu_id >= 0 else "cpu", "steps": steps, "labeled_words": last["words"],
            "seconds": last["seconds"], "words_per_second": round(last["words"] / max(last["seconds"], 1)),
            "wall_seconds_with_startup": round(wall, 1)}


def evaluate(model: Path, test: Path, gpu_id: int) -> Dict[str, Any]:
    """`spacy evaluate --gold-preproc` on the test set: the entity scores."""
    output = model.parent / "test-scores.json"
    spacy_cli("evaluate", str(model), str(test), "--output", str(output), "--gold-preproc", "--gpu-id", str(gpu_id))
    scores = json.loads(output.read_text(encoding="utf-8"))
    return {key: round(scores[key] * 100, 2) for key in ("ents_f", "ents_p", "ents_r")}


def gpu_setup(gpu_id: int, allocator: Optional[str]) -> Dict[str, Any]:
    """thinc on the GPU through CuPy, and whether CuPy then allocates from torch's pool.

    The allocator is set after the GPU is chosen, as `spacy train` does: thinc's
    set_gpu_allocator("pytorch") does nothing while the current ops are still the CPU's.
    """
    import torch
    from thinc.api import get_current_ops, prefer_gpu, set_gpu_allocator

    found = prefer_gpu(gpu_id)
    result: Dict[str, Any] = {"prefer_gpu": found, "ops": type(get_current_ops()).__name__, "gpu_allocator": allocator}
    if found and allocator:
        set_gpu_allocator(allocator)
        before = torch.cuda.memory_allocated(gpu_id)
        block = get_current_ops().alloc2f(1024, 1024)  # 4 MiB from CuPy
        result["cupy_memory_in_torch_pool"] = torch.cuda.memory_allocated(gpu_id) - before >= block.nbytes
        del block
    return result


def inference(model: Path, test: Path, gpu_id: int, batches: int) -> Dict[str, Any]:
    """Inference words/s (spaCy's benchmark speed) on GPU and CPU, and GPU->CPU equality."""
    import numpy
    import spacy
    from spacy.cli.benchmark_speed import benchmark, bootstrap, warmup
    from spacy.training import Corpus

    result: Dict[str, Any] = {}
    predictions = {}
    for device in (["gpu"] if gpu_id >= 0 else []) + ["cpu"]:
        if device == "gpu":
            spacy.require_gpu(gpu_id)
        else:
            spacy.require_cpu()
        nlp = spacy.load(model)
        docs = [eg.predicted for eg in Corpus(str(test), gold_preproc=True)(nlp)]
        warmup(nlp, docs, 1, None)
        per_batch = benchmark(nlp, docs, batches, nlp.batch_size, False)
        means = numpy.sort(bootstrap(per_batch))
        result[f"words_per_second_{device}"] = round(float(per_batch.mean()))
        result[f"words_per_second_{device}_ci95"] = [round(float(means[int(len(means) * q)])) for q in (0.025, 0.975)]
        predictions[device] = [[(ent.start, ent.end, ent.label_) for ent in doc.ents]
                               for doc in nlp.pipe(doc.copy() for doc in docs)]
    if len(predictions) == 2:
        differing = sum(g != c for g, c in zip(predictions["gpu"], predictions["cpu"]))
        result["gpu_to_cpu"] = {"docs": len(docs), "docs_differing": differing, "identical": differing == 0}
    return result


def environment(gpu_id: int) -> Dict[str, Any]:
    import torch

    versions = {}
    for package in ("torch", "cupy", "thinc", "spacy", "spacy-cvt", "spacy-transformers", "transformers"):
        try:
            versions[package] = version(package) if package != "cupy" else __import__("cupy").__version__
        except (PackageNotFoundError, ImportError):
            versions[package] = None
    info: Dict[str, Any] = {"date": date.today().isoformat(), "python": platform.python_version(),
                            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                            "versions": versions, "torch_cuda": torch.version.cuda}
    if gpu_id >= 0 and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(gpu_id)
        info["gpu"] = {"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1)}
    return info


class Results:
    """OUTPUT's JSON, rewritten after every stage."""

    def __init__(self, path: Path, part: str):
        self.path, self.part = path, part
        self.data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        self.data[part] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[self.part][key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")
        print(f"[gpu-check] {self.part}.{key} = {json.dumps(value)}", flush=True)


def main(
    part: Path = typer.Argument(..., help="A kit part: a folder with kit.json, wheels/ and data/ (spacy_cvt_project/gpu/kit.py)."),
    output: Path = typer.Argument(..., help="JSON file to write; results of another part already in it are kept."),
    gpu_id: int = typer.Option(0, "--gpu-id", help="GPU to check; -1 runs everything on CPU."),
    work_dir: Path = typer.Option(Path("training/gpu-check"), help="Where the trained pipelines go."),
    steps: Optional[int] = typer.Option(None, help="Training steps on the GPU (default: cvt 1000, trf 300)."),
    cpu_steps: Optional[int] = typer.Option(None, help="Training steps for CPU words/s (default: cvt 100, trf 10)."),
    paper_steps: int = typer.Option(200, help="Training steps of the paper-size cvt config (cvt part; 0 skips it)."),
    batches: int = typer.Option(30, help="Batches timed per inference benchmark."),
) -> None:
    """Train, evaluate and time cvt (or trf) on this machine's GPU and CPU; write OUTPUT."""
    manifest_path = part / "kit.json"
    if not manifest_path.exists():
        raise typer.BadParameter(f"{manifest_path} not found: give a kit part built by spacy_cvt_project/gpu/kit.py.", param_hint="PART")
    name = json.loads(manifest_path.read_text(encoding="utf-8"))["part"]
    config, default_steps, default_cpu_steps = PARTS[name]
    data = part.resolve() / "data"
    paths = {"train": data / "train.spacy", "dev": data / "dev.spacy"}
    if name == "cvt":
        paths.update(unlabeled=data / "unlabeled.txt", vectors=data / "vectors")
    else:
        paths["transformer"] = part.resolve() / "encoder"
    work = work_dir / name
    results = Results(output, name)
    results["environment"] = environment(gpu_id)
    if gpu_id >= 0:
        import spacy

        allocator = spacy.util.load_config(ROOT / config)["system"]["gpu_allocator"]
        results["thinc_gpu"] = gpu_setup(gpu_id, allocator)
    results["train"] = train(config, work / "main", steps or default_steps, gpu_id, paths)
    results["test"] = evaluate(work / "main" / "model-best", data / "test.spacy", gpu_id)
    if gpu_id >= 0:
        results["train_cpu"] = train(config, work / "cpu", cpu_steps or default_cpu_steps, -1, paths, CPU_DEV_LIMIT)
    if name == "cvt" and paper_steps:
        results["paper_train"] = train(PAPER_CONFIG, work / "paper", paper_steps, gpu_id, paths, CPU_DEV_LIMIT)
    results["inference"] = inference(work / "main" / "model-best", data / "test.spacy", gpu_id, batches)
    if name == "cvt" and paper_steps:
        results["paper_inference"] = inference(work / "paper" / "model-last", data / "test.spacy", gpu_id, batches)


if __name__ == "__main__":  # gpu/check.sh runs it alone, on a GPU machine with only the kit installed
    typer.run(main)
