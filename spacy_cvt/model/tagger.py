"""``spacy-cvt.CVTTagger.v1``: the thinc Model around the torch CVT network.

Input: a batch of Docs. Output: ``{view: logits}``, each ``(n_tokens, nO)`` with the
batch's tokens in document order. Predicting returns the primary view only;
training returns every view, and backprop takes gradients for any subset of them.

The torch module can only be built once the number of labels (``nO``) and the
word-vector width (``nV``) are known, so it is created in ``init``. A component
loading a saved pipeline sets both dims from its cfg and initializes the model
before reading the weights.
"""

import contextlib
from typing import Callable, Dict, List, Optional, Tuple

import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, PyTorchShim, torch2xp, xp2torch
from thinc.types import Floats2d

from .features import featurize
from .network import CVTNetwork
from .views import PRIMARY

ViewScores = Dict[str, Floats2d]


@registry.architectures("spacy-cvt.CVTTagger.v1")
def build_cvt_tagger(
    hidden_size1: int = 1024,
    projection_size1: int = 512,
    hidden_size2: int = 512,
    projection_size2: int = 0,
    module_width: int = 512,
    hash_attrs: List[str] = ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
    hash_rows: int = 5000,
    hash_width: int = 64,
    vectors_attr: str = "LOWER",
    char_width: int = 50,
    char_filters: int = 100,
    char_kernel_sizes: List[int] = [2, 3, 4],
    max_chars: int = 20,
    n_chars: int = 512,
    include_full: bool = False,
    nO: Optional[int] = None,
) -> Model[List[Doc], ViewScores]:
    """Char CNN + word features, a 2-layer BiLSTM, and CVT's prediction modules.

    hidden_size1, projection_size1: layer-1 LSTM units and projection per direction
        (0 = no projection). The paper uses 1024 and 512.
    hidden_size2, projection_size2: the same for layer 2 (paper: 512, no projection).
    module_width: hidden width of each prediction module (paper: 512).
    hash_attrs, hash_rows, hash_width: learned embeddings of hashed token attributes.
    vectors_attr: the attribute static vectors are looked up by (GloVe is lower-case).
    char_width, char_filters, char_kernel_sizes, max_chars, n_chars: the character CNN.
    include_full: add the code's optional linear "full" auxiliary view.
    nO: number of labels; the component sets it from the training data.
    """
    if n_chars <= 256:
        raise ValueError(f"n_chars must be above 256 (one row per Latin-1 code point), got {n_chars}.")
    settings = {
        "hidden_size1": hidden_size1,
        "projection_size1": projection_size1,
        "hidden_size2": hidden_size2,
        "projection_size2": projection_size2,
        "module_width": module_width,
        "hash_attrs": list(hash_attrs),
        "hash_rows": hash_rows,
        "hash_width": hash_width,
        "vectors_attr": vectors_attr,
        "char_width": char_width,
        "char_filters": char_filters,
        "char_kernel_sizes": list(char_kernel_sizes),
        "max_chars": max_chars,
        "n_chars": n_chars,
        "include_full": include_full,
    }
    return Model(
        "cvt_tagger",
        forward,
        init=init,
        dims={"nO": nO, "nV": None},
        attrs={"dropout_rate": 0.0, "settings": settings},
    )


class CVTShim(PyTorchShim):
    """PyTorchShim whose ``use_params`` understands thinc's parameter averages.

    spaCy evaluates and saves with ``nlp.use_params(optimizer.averages)``. The
    optimizer keys a torch parameter by ``(shim.id, name)``, but PyTorchShim only
    looks for string keys, so without this the averaged weights (CVT's
    exponential moving average of weights) would never be used.
    """

    @contextlib.contextmanager
    def use_params(self, params):
        averaged = {
            name: xp2torch(params[(self.id, name)], device=self.device)
            for name, _ in self._model.named_parameters()
            if (self.id, name) in params
        }
        if not averaged:
            yield
            return
        backup = {key: value.clone() for key, value in self._model.state_dict().items()}
        self._model.load_state_dict(averaged, strict=False)
        try:
            yield
        finally:
            self._model.load_state_dict(backup)


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    if model.shims:
        return
    if model.get_dim("nO") is None:
        raise ValueError(
            "The CVT tagger needs its number of labels (nO) before it can be built. "
            "Initialize the pipeline (nlp.initialize / spacy train) so the component "
            "can read its labels from the training data."
        )
    if not model.has_dim("nV") and X:
        model.set_dim("nV", X[0].vocab.vectors.shape[1])
    if not model.has_dim("nV"):
        model.set_dim("nV", 0)
    settings = model.attrs["settings"]
    network = CVTNetwork(
        n_labels=model.get_dim("nO"),
        n_vector_dims=model.get_dim("nV"),
        n_hash_attrs=len(settings["hash_attrs"]),
        hash_rows=settings["hash_rows"],
        hash_width=settings["hash_width"],
        n_chars=settings["n_chars"],
        char_width=settings["char_width"],
        char_filters=settings["char_filters"],
        char_kernel_sizes=settings["char_kernel_sizes"],
        hidden_size1=settings["hidden_size1"],
        projection_size1=settings["projection_size1"],
        hidden_size2=settings["hidden_size2"],
        projection_size2=settings["projection_size2"],
        module_width=settings["module_width"],
        include_full=settings["include_full"],
    )
    model.shims.append(CVTShim(network))


def torch_network(model: Model) -> CVTNetwork:
    """The built torch module, for tests and tools that inspect weights."""
    if not model.shims:
        raise ValueError("The CVT tagger has not been initialized yet.")
    return model.shims[0]._model


def clear_gradients(model: Model) -> None:
    """Forget all accumulated torch gradients.

    PyTorchShim zeroes gradients after a step but keeps the tensors, and the
    optimizer then steps every parameter with a zero gradient (momentum and
    weight decay still move it). Setting them to None means that a step only
    moves the parameters the last backward pass reached: the unlabeled CVT
    step leaves the primary module alone, as the algorithm requires.
    """
    for shim in model.shims:
        for parameter in shim._model.parameters():
            parameter.grad = None


def forward(
    model: Model, docs: List[Doc], is_train: bool
) -> Tuple[ViewScores, Callable[[ViewScores], List[Doc]]]:
    shim = model.shims[0]
    views = tuple(shim._model.views) if is_train else (PRIMARY,)
    nonempty = [doc for doc in docs if len(doc)]
    if not nonempty:
        empty = model.ops.alloc2f(0, model.get_dim("nO"))
        return {view: empty for view in views}, lambda d_scores: docs
    settings = model.attrs["settings"]
    features = featurize(
        nonempty,
        vectors_attr=settings["vectors_attr"],
        n_vector_dims=model.get_dim("nV"),
        hash_attrs=settings["hash_attrs"],
        hash_rows=settings["hash_rows"],
        max_chars=settings["max_chars"],
        n_chars=settings["n_chars"],
    )
    device = shim.device
    inputs = ArgsKwargs(
        args=(
            xp2torch(model.ops.asarray(features.vectors, dtype="float32"), device=device),
            torch.from_numpy(features.hash_ids).to(device),
            torch.from_numpy(features.char_ids).to(device),
        ),
        kwargs={
            "lengths": features.lengths,
            "views": views,
            "dropout": model.attrs["dropout_rate"] if is_train else 0.0,
        },
    )
    outputs, torch_backprop = shim(inputs, is_train)
    scores = {view: torch2xp(logits, ops=model.ops) for view, logits in outputs.items()}

    def backprop(d_scores: ViewScores) -> List[Doc]:
        names = [view for view in d_scores if view in outputs]
        torch_backprop(
            ArgsKwargs(
                args=([outputs[view] for view in names],),
                kwargs={
                    "grad_tensors": [
                        xp2torch(model.ops.asarray(d_scores[view], dtype="float32"), device=device)
                        for view in names
                    ]
                },
            )
        )
        return docs

    return scores, backprop

