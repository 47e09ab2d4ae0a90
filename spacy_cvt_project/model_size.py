"""Parameters and size on disk of a trained pipeline, for the comparison's cost columns.

    python -m spacy_cvt_project model-size training/ner/cvt/seed0/model-best --output metrics/ner/cvt/size.json

- `params`: the trained weights of all components, each array once: thinc's params plus the torch
  parameters behind thinc's shims (CVT's network, a transformer). A shim keeps its torch module
  in `_model`, the field thinc's `Shim` declares for it; thinc has no public accessor.
- `vectors`: floats in the static vectors table (GloVe here), apart, because they are frozen
  inputs, not trained weights.
- `disk_bytes`: the apparent sizes of the pipeline folder's files (symlinks not followed): what
  one ships.
- `encoder`: for a spacy-transformers pipeline, the Hugging Face model's type, depth and width,
  so the comparison can name the encoder's published pretraining cost; else null.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import spacy
import srsly
import typer
from spacy.language import Language
from thinc.api import Model


def component_models(nlp: Language) -> List[Model]:
    """The thinc models of the pipeline's trainable components."""
    models = [getattr(component, "model", None) for _, component in nlp.components]
    return [model for model in models if isinstance(model, Model)]


def count_params(models: Iterable[Model]) -> int:
    """Trained weights of the models; shared layers and tied tensors count once."""
    nodes = {id(node): node for model in models for node in model.walk()}
    tensors: Dict[int, Any] = {}
    total = 0
    for node in nodes.values():
        total += sum(int(node.get_param(name).size) for name in node.param_names if node.has_param(name))
        for shim in node.shims:
            tensors.update((id(p), p) for p in shim._model.parameters())
    return total + sum(int(p.numel()) for p in tensors.values())


def count_vectors(nlp: Language) -> int:
    """Floats in the static vectors table; 0 without one."""
    return int(nlp.vocab.vectors.data.size)


def directory_bytes(path: Path) -> int:
    """Apparent size of every regular file below `path`, symlinks skipped."""
    return sum(
        (Path(root) / name).stat().st_size
        for root, _, files in os.walk(path)
        for name in files
        if not (Path(root) / name).is_symlink()
    )


def encoder(nlp: Language) -> Optional[Dict[str, Any]]:
    """Type, layers and width of a spacy-transformers encoder (its public `.transformer`)."""
    for _, component in nlp.components:
        hf_model = getattr(getattr(component, "model", None), "transformer", None)
        if hf_model is not None:
            config = hf_model.config
            return {"model_type": config.model_type, "num_hidden_layers": config.num_hidden_layers,
                    "hidden_size": config.hidden_size}
    return None


def model_size(pipeline: Path) -> Dict[str, Any]:
    nlp = spacy.load(pipeline)
    return {"pipeline": str(pipeline), "params": count_params(component_models(nlp)), "vectors": count_vectors(nlp),
            "disk_bytes": directory_bytes(pipeline), "encoder": encoder(nlp)}


def write_size(pipeline: Path, output: Path) -> None:
    """Write the pipeline's parameters, vector floats, size on disk and encoder as JSON."""
    if not (pipeline / "config.cfg").is_file():
        raise SystemExit(f"model-size: {pipeline} is not a trained pipeline (no config.cfg): train it first")
    size = model_size(pipeline)
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, size)
    print(f"{pipeline}: {size['params']:,} params, {size['vectors']:,} vector floats, "
          f"{size['disk_bytes'] / 1e6:.1f} MB on disk -> {output}")


def main(
    pipeline: Path = typer.Argument(..., help="A trained pipeline folder, e.g. training/ner/cvt/seed0/model-best."),
    output: Path = typer.Option(..., help="The JSON file to write."),
) -> None:
    """Write the pipeline's parameters, vector floats, size on disk and encoder as JSON."""
    write_size(pipeline, output)
