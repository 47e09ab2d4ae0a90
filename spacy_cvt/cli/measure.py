"""A pipeline's size and speed, measured the same way for any pipeline (for `cvt-distill`).

Distillation trades accuracy for size and speed, so the three are reported side by side.
Weights live in thinc parameters or, for torch-backed models (CVT, transformers), in the
torch modules behind thinc's shims: both are counted. Word vectors are counted apart, as a
table a pipeline may share. Speed is words per second of ``nlp.pipe`` over pre-tokenized
docs on this machine: tokenization left out, so the numbers compare the models.
"""
import time
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc


class Size(NamedTuple):
    """Trained weights, word-vector entries, and the pipeline folder's bytes (None: no folder)."""

    parameters: int
    vectors: int
    disk_bytes: Optional[int]


def parameters(nlp: Language) -> int:
    """The weights of every component's model: thinc parameters and the torch modules its
    shims wrap, each counted once (a listener shares its tok2vec's)."""
    seen, total = set(), 0
    for _, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            for name in node.param_names:
                if node.has_param(name) and (node.id, name) not in seen:
                    seen.add((node.id, name))
                    total += int(node.get_param(name).size)
            for shim in node.shims:
                module = getattr(shim, "_model", None)
                for param in getattr(module, "parameters", lambda: [])():
                    if id(param) not in seen:
                        seen.add(id(param))
                        total += int(param.numel())
    return total


def disk_bytes(path: Optional[Path]) -> Optional[int]:
    """The bytes of every file below a pipeline folder."""
    if path is None or not Path(path).is_dir():
        return None
    return sum(file.stat().st_size for file in Path(path).rglob("*") if file.is_file())


def size(nlp: Language, path: Optional[Path]) -> Size:
    return Size(parameters(nlp), int(nlp.vocab.vectors.data.size), disk_bytes(path))


def timed_pipe(nlp: Language, docs: List[Doc], batch_size: int) -> Tuple[List[Doc], float]:
    """The annotated docs and words per second of ``nlp.pipe`` over them."""
    start = time.perf_counter()
    out = list(nlp.pipe(docs, batch_size=batch_size))
    seconds = time.perf_counter() - start
    return out, sum(len(doc) for doc in docs) / max(seconds, 1e-9)
