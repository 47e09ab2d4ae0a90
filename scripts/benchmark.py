"""Measure the inference cost of a trained spaCy pipeline.

The research question of this project is whether Cross-View Training gets
close to a fine-tuned transformer *at a fraction of the cost*. Accuracy comes
from ``spacy evaluate``; this script supplies the other half of the trade-off:

* inference throughput (words/second of ``nlp.pipe``) on CPU or GPU,
* parameter count (thinc params + PyTorch params behind shims, deduplicated),
  with static word vectors reported separately,
* size of the pipeline directory on disk,
* optionally the training wall time / energy recorded by ``scripts/timed.py``.

Why not just call ``spacy benchmark speed``? It (1) re-tokenizes ``doc.text``
with ``nlp.make_doc``, so tokenization time is included and tokens can differ
from the ``--gold-preproc`` evaluation, (2) only prints and returns nothing
machine-readable through its CLI, and (3) enforces >= 30 batches. Its helpers
are not public API either, so we mirror its approach instead (warm-up pass,
per-batch timing by slicing the ``nlp.pipe`` generator, bootstrap CI of the
per-batch rate) and add a headline figure of total words / total seconds.

Usage::

    python scripts/benchmark.py PIPELINE_DIR CORPUS.spacy \
        --output metrics/ner-cvt-bench.json [--gpu-id -1] [--batch-size 256] \
        [--n-words 20000] [--train-log metrics/ner-cvt-train.json] [--warmup]
"""

from __future__ import annotations

import json
import os
import platform
import time
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

import numpy
import typer

SCHEMA_VERSION = 1


# --------------------------------------------------------------------------
# Size on disk
# --------------------------------------------------------------------------


def directory_bytes(path: Path) -> int:
    """Sum of the sizes of all regular files below ``path`` (recursive).

    Apparent file sizes are used (not allocated blocks, not directory
    entries) so the number is reproducible across file systems and equals
    what a user would download/ship. Symlinks are not followed.
    """
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        raise FileNotFoundError(f"Pipeline directory not found: {path}")
    total = 0
    for root, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            file_path = Path(root) / name
            if file_path.is_symlink():
                continue
            total += file_path.stat().st_size
    return total


# --------------------------------------------------------------------------
# Parameter counting
# --------------------------------------------------------------------------


def _torch_module_params(module: Any, seen: Set[int]) -> int:
    """Count the elements of a torch module's parameters not counted before.

    ``seen`` holds ``id()`` of parameters already counted, so tied weights and
    a module reachable through several shims/components count once.
    """
    total = 0
    for param in module.parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        total += int(param.numel())
    return total


def _is_torch_module(obj: Any) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is installed here
        return False
    return isinstance(obj, torch.nn.Module)


def count_model_params(
    model: Any,
    seen_nodes: Optional[Set[int]] = None,
    seen_shims: Optional[Set[int]] = None,
    seen_torch: Optional[Set[int]] = None,
) -> int:
    """Count the trainable weights of one component's model.

    Handles the three shapes a component's ``.model`` takes in this project:

    * a thinc ``Model``: sum ``param.size`` over every node's allocated
      params in ``model.walk()``;
    * a thinc ``Model`` wrapping PyTorch (``PyTorchWrapper`` -> ``PyTorchShim``,
      spacy-transformers -> ``HFShim``): the weights live in the torch module
      ``shim._model``, not in thinc params, so sum ``p.numel()`` there;
    * a bare ``torch.nn.Module`` (a custom component may store one directly).

    The ``seen_*`` sets make the count additive across components without
    double counting shared nodes (e.g. one tok2vec embedded twice), shims
    referenced by several nodes (spacy-transformers keeps the HF shim on more
    than one node) or tied torch parameters.
    """
    seen_nodes = set() if seen_nodes is None else seen_nodes
    seen_shims = set() if seen_shims is None else seen_shims
    seen_torch = set() if seen_torch is None else seen_torch
    if _is_torch_module(model):
        return _torch_module_params(model, seen_torch)
    if not hasattr(model, "walk"):
        return 0
    total = 0
    for node in model.walk():
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for name in node.param_names:
            # has_param is None for declared-but-unallocated params.
            if node.has_param(name):
                total += int(node.get_param(name).size)
        for shim in getattr(node, "shims", []):
            if id(shim) in seen_shims:
                continue
            seen_shims.add(id(shim))
            inner = getattr(shim, "_model", None)
            if inner is not None and _is_torch_module(inner):
                total += _torch_module_params(inner, seen_torch)
    return total


def count_pipeline_params(nlp: Any) -> Tuple[int, Dict[str, int]]:
    """Total and per-component parameter counts of a loaded pipeline.

    Components without a ``.model`` (rule-based ones) contribute 0. Weights
    shared between components are credited to the first component in
    pipeline order and counted once in the total. Static vectors in
    ``nlp.vocab.vectors`` are *not* included; see :func:`count_vector_params`.
    """
    seen_nodes: Set[int] = set()
    seen_shims: Set[int] = set()
    seen_torch: Set[int] = set()
    per_component: Dict[str, int] = {}
    for name, component in nlp.components:
        model = getattr(component, "model", None)
        if model is None or isinstance(model, bool):
            # Some components use ``model = True/False`` as a flag.
            continue
        per_component[name] = count_model_params(
            model, seen_nodes, seen_shims, seen_torch
        )
    return sum(per_component.values()), per_component


def count_vector_params(nlp: Any) -> int:
    """Number of floats in the static vectors table (0 if there is none).

    Reported apart from ``params`` because pretrained vectors are frozen
    inputs rather than trained weights, and because a 300-d GloVe table can
    dwarf the BiLSTM itself, which matters when comparing against BERT.
    """
    vectors = nlp.vocab.vectors
    data = getattr(vectors, "data", None)
    if data is None:
        return 0
    return int(data.size)


# --------------------------------------------------------------------------
# Throughput
# --------------------------------------------------------------------------


def read_reference_docs(nlp: Any, corpus_path: Path) -> List[Any]:
    """Load the annotated docs of a ``.spacy`` file with the pipeline's vocab."""
    from spacy.tokens import DocBin

    corpus_path = Path(corpus_path)
    if not corpus_path.exists():
        raise FileNotFoundError(f"Corpus file not found: {corpus_path}")
    return list(DocBin().from_disk(corpus_path).get_docs(nlp.vocab))


def unannotated_copies(
    nlp: Any, reference_docs: Iterable[Any], split_sentences: bool = True
) -> List[Any]:
    """Fresh ``Doc(words=..., spaces=...)`` copies without any annotation.

    Using the corpus tokens keeps tokenization identical to the
    ``--gold-preproc`` evaluation and keeps tokenizer time out of the
    measurement. With ``split_sentences`` each annotated sentence becomes its
    own Doc, exactly as ``spacy evaluate --gold-preproc`` feeds the model.
    """
    copies = []
    for ref in reference_docs:
        if split_sentences and ref.has_annotation("SENT_START"):
            pieces: Iterable[Any] = list(ref.sents)
        else:
            pieces = [ref]
        for piece in pieces:
            if len(piece):
                copies.append(fresh_copy(nlp, piece))
    return copies


def fresh_copy(nlp: Any, tokens: Any) -> Any:
    """A new Doc with the same words and spaces as ``tokens`` and nothing else."""
    from spacy.tokens import Doc

    return Doc(
        nlp.vocab,
        words=[token.text for token in tokens],
        spaces=[bool(token.whitespace_) for token in tokens],
    )


def docs_for_n_words(
    nlp: Any, templates: List[Any], n_words: int
) -> Tuple[List[Any], int]:
    """Cycle through ``templates`` making fresh copies until >= n_words words.

    Copies are made up front so Doc construction is not timed, and they are
    fresh so no component sees a Doc that was already annotated.
    """
    if not templates:
        raise ValueError("Cannot benchmark an empty corpus (no non-empty docs).")
    docs: List[Any] = []
    total = 0
    i = 0
    while total < n_words:
        tpl = templates[i % len(templates)]
        docs.append(fresh_copy(nlp, tpl))
        total += len(tpl)
        i += 1
    return docs, total


def time_batches(
    nlp: Any, docs: List[Any], batch_size: int
) -> Tuple[List[int], List[float]]:
    """Run ``nlp.pipe`` and time each batch as it is pulled from the generator.

    Mirrors ``spacy.cli.benchmark_speed.annotate``: slicing the generator
    ``batch_size`` docs at a time makes each slice's wall time the time the
    pipeline spent producing that batch. Returns words and seconds per batch.
    """
    stream: Iterator[Any] = iter(nlp.pipe(docs, batch_size=batch_size))
    words: List[int] = []
    seconds: List[float] = []
    while True:
        start = time.perf_counter()
        batch = list(islice(stream, batch_size))
        elapsed = time.perf_counter() - start
        if not batch:
            break
        words.append(sum(len(doc) for doc in batch))
        seconds.append(elapsed)
    return words, seconds


def bootstrap_ci(
    sample: numpy.ndarray, iterations: int = 2000, seed: int = 0
) -> Tuple[float, float]:
    """95% bootstrap CI of the mean (as spaCy's benchmark prints), seeded."""
    if len(sample) < 2:
        value = float(sample[0]) if len(sample) else float("nan")
        return value, value
    rng = numpy.random.default_rng(seed)
    means = rng.choice(sample, (iterations, len(sample)), replace=True).mean(axis=1)
    return float(numpy.quantile(means, 0.025)), float(numpy.quantile(means, 0.975))


def measure_throughput(
    nlp: Any,
    templates: List[Any],
    n_words: int,
    batch_size: int,
    warmup: bool = True,
) -> Dict[str, Any]:
    """Words/second of ``nlp.pipe`` over >= ``n_words`` words.

    A warm-up batch runs first (lazy allocations, GPU kernels, caches) and is
    not counted. The headline ``words_per_second`` is total words over total
    seconds, i.e. real throughput; the per-batch mean and CI follow spaCy's
    ``benchmark speed`` so the two can be compared.
    """
    if warmup:
        warm_docs = [fresh_copy(nlp, tpl) for tpl in templates[:batch_size]]
        for _ in nlp.pipe(warm_docs, batch_size=batch_size):
            pass
    docs, _ = docs_for_n_words(nlp, templates, n_words)
    words, seconds = time_batches(nlp, docs, batch_size)
    total_words = int(sum(words))
    total_seconds = float(sum(seconds))
    rates = numpy.array([w / s for w, s in zip(words, seconds) if s > 0])
    low, high = bootstrap_ci(rates)
    return {
        "words_per_second": total_words / total_seconds if total_seconds > 0 else None,
        "n_words": total_words,
        "n_docs": len(docs),
        "seconds": total_seconds,
        "batch_wps": {
            "n_batches": len(words),
            "mean": float(rates.mean()) if len(rates) else None,
            "median": float(numpy.median(rates)) if len(rates) else None,
            "ci95_low": low if len(rates) else None,
            "ci95_high": high if len(rates) else None,
        },
    }


# --------------------------------------------------------------------------
# Device, training record
# --------------------------------------------------------------------------


def setup_device(gpu_id: int) -> str:
    """Select CPU or GPU ``gpu_id`` (before the pipeline is loaded) and name it.

    Returns "cpu" or "gpu:N (<device name>)"; the device name comes from torch
    if it sees CUDA, else cupy. ``spacy.require_gpu`` raises with spaCy's own
    message if no GPU / cupy is available, which is the actionable error.
    """
    if gpu_id < 0:
        return "cpu"
    import spacy

    spacy.require_gpu(gpu_id)
    name = None
    try:
        import torch

        if torch.cuda.is_available():
            name = torch.cuda.get_device_name(gpu_id)
    except Exception:  # noqa: BLE001 - the name is cosmetic
        name = None
    if name is None:
        try:
            import cupy

            props = cupy.cuda.runtime.getDeviceProperties(gpu_id)
            name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
        except Exception:  # noqa: BLE001
            name = None
    return f"gpu:{gpu_id}" + (f" ({name})" if name else "")


def read_train_log(path: Optional[Path]) -> Dict[str, Any]:
    """Read the JSON written by ``scripts/timed.py`` (None-filled if absent).

    A missing or malformed log is not fatal: the cost table simply shows no
    training time, and the note says why.
    """
    empty: Dict[str, Any] = {"train_seconds": None, "energy_kwh": None}
    if path is None:
        return {**empty, "energy_note": "no --train-log given"}
    path = Path(path)
    if not path.exists():
        return {**empty, "energy_note": f"train log not found: {path}"}
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except (OSError, json.JSONDecodeError) as err:
        return {**empty, "energy_note": f"could not read train log {path}: {err}"}
    return {
        "train_seconds": data.get("train_seconds"),
        "energy_kwh": data.get("energy_kwh"),
        "energy_note": data.get("energy_note", f"from {path}"),
        "energy_is_estimate": data.get("energy_is_estimate"),
        "train_returncode": data.get("returncode"),
    }


def load_pipeline(pipeline_dir: Path) -> Any:
    """Load a pipeline, turning the common factory error into advice."""
    import spacy

    pipeline_dir = Path(pipeline_dir)
    if not pipeline_dir.exists():
        raise FileNotFoundError(f"Pipeline directory not found: {pipeline_dir}")
    try:
        return spacy.load(pipeline_dir)
    except ValueError as err:
        if "E002" in str(err):  # "Can't find factory for ..."
            raise ValueError(
                f"{err}\n\nThe pipeline in {pipeline_dir} uses a component that is "
                "not registered. Install the package that provides it "
                "(e.g. `pip install -e .` for spacy_cvt) or pass its module "
                "with --code PATH."
            ) from err
        raise


def run_benchmark(
    pipeline_dir: Path,
    corpus_path: Path,
    gpu_id: int = -1,
    batch_size: int = 256,
    n_words: int = 20000,
    train_log: Optional[Path] = None,
    warmup: bool = True,
    gold_preproc: bool = True,
) -> Dict[str, Any]:
    """Benchmark one pipeline and return the JSON-ready result dict."""
    device = setup_device(gpu_id)
    nlp = load_pipeline(pipeline_dir)
    templates = unannotated_copies(
        nlp, read_reference_docs(nlp, corpus_path), split_sentences=gold_preproc
    )
    if not templates:
        raise ValueError(
            f"Corpus {corpus_path} has no non-empty docs; nothing to benchmark."
        )
    speed = measure_throughput(nlp, templates, n_words, batch_size, warmup=warmup)
    params, per_component = count_pipeline_params(nlp)
    train = read_train_log(train_log)
    threads = None
    try:
        import torch

        threads = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    return {
        "schema_version": SCHEMA_VERSION,
        "pipeline": str(pipeline_dir),
        "corpus": str(corpus_path),
        "pipe_names": list(nlp.pipe_names),
        "words_per_second": speed["words_per_second"],
        "device": device,
        "n_words": speed["n_words"],
        "n_docs": speed["n_docs"],
        "seconds": speed["seconds"],
        "batch_size": batch_size,
        "warmup": warmup,
        "gold_preproc": gold_preproc,
        "batch_wps": speed["batch_wps"],
        "params": params,
        "params_by_component": per_component,
        "vectors_params": count_vector_params(nlp),
        "disk_bytes": directory_bytes(Path(pipeline_dir)),
        "train_seconds": train["train_seconds"],
        "energy_kwh": train["energy_kwh"],
        "energy_note": train["energy_note"],
        "energy_is_estimate": train.get("energy_is_estimate"),
        "host": {
            "platform": platform.platform(),
            "processor": platform.processor() or None,
            "cpu_count": os.cpu_count(),
            "torch_threads": threads,
        },
    }


def _fmt_count(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 100_000 else f"{n:,}"


def summary(result: Dict[str, Any]) -> str:
    """One short, human-readable paragraph of the result."""
    wps = result["words_per_second"]
    lines = [
        f"{result['pipeline']} on {result['device']}:",
        f"  {wps:,.0f} words/s ({result['n_words']} words, batch size {result['batch_size']})"
        if wps
        else "  words/s: n/a",
        f"  params: {_fmt_count(result['params'])}"
        + (
            f" (+ {_fmt_count(result['vectors_params'])} static vectors)"
            if result["vectors_params"]
            else ""
        ),
        f"  disk: {result['disk_bytes'] / 1e6:.1f} MB",
    ]
    if result["train_seconds"] is not None:
        lines.append(f"  training: {result['train_seconds']:.0f} s")
    if result["energy_kwh"] is not None:
        lines.append(f"  energy: {result['energy_kwh']:.4f} kWh ({result['energy_note']})")
    return "\n".join(lines)


app = typer.Typer(add_completion=False)


@app.command()
def main(
    pipeline_dir: Path = typer.Argument(..., help="Trained spaCy pipeline directory"),
    corpus: Path = typer.Argument(..., help="Evaluation data in .spacy format"),
    output: Path = typer.Option(..., "--output", "-o", help="JSON file to write"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
    batch_size: int = typer.Option(256, "--batch-size", "-b", min=1),
    n_words: int = typer.Option(
        20000, "--n-words", "-n", min=1, help="Process at least this many words"
    ),
    train_log: Optional[Path] = typer.Option(
        None, "--train-log", help="JSON written by scripts/timed.py"
    ),
    warmup: bool = typer.Option(
        True, "--warmup/--no-warmup", help="Run one untimed batch first"
    ),
    gold_preproc: bool = typer.Option(
        True,
        "--gold-preproc/--no-gold-preproc",
        help="One Doc per annotated sentence, as `spacy evaluate --gold-preproc`",
    ),
    code: Optional[Path] = typer.Option(
        None, "--code", "-c", help="Python file with registered functions to import"
    ),
    only_on_gpu: bool = typer.Option(
        False,
        "--only-on-gpu",
        help="Do nothing when --gpu-id is -1 (lets a workflow always list the GPU benchmark)",
    ),
) -> None:
    """Benchmark speed, size and parameters of a trained pipeline."""
    if only_on_gpu and gpu_id < 0:
        typer.echo("--gpu-id is -1: no GPU benchmark (--only-on-gpu).")
        return
    if code is not None:
        from spacy.util import import_file

        import_file("python_code", code)
    try:
        result = run_benchmark(
            pipeline_dir,
            corpus,
            gpu_id=gpu_id,
            batch_size=batch_size,
            n_words=n_words,
            train_log=train_log,
            warmup=warmup,
            gold_preproc=gold_preproc,
        )
    except (FileNotFoundError, ValueError) as err:
        typer.echo(f"benchmark failed: {err}", err=True)
        raise typer.Exit(code=1)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    typer.echo(summary(result))
    typer.echo(f"Saved {output}")


if __name__ == "__main__":
    app()
