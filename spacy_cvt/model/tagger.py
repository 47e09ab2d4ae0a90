"""``spacy-cvt.CVTTagger.v1``: the thinc Model around the torch CVT network.

Input: a batch of Docs. Output: ``{view: logits}``, each ``(n_tokens, nO)`` with the
batch's tokens in document order. ``predict`` and ``begin_update`` compute the
primary view only (prediction and the labeled step); ``begin_cvt_update`` computes
the CVT step's teacher and auxiliary views in one pass.

The torch module can only be built once the number of labels (``nO``), the
word-vector width (``nV``) and the tok2vec layer's width (``nT``) are known, so it
is created in ``init``. A component loading a saved pipeline sets these dims from
its cfg and initializes the model before reading the weights: a Transformer
listener only learns its width from its upstream's output, so at load time,
before any doc has passed, the saved value is the only way to know it.
"""

import contextlib
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import ArgsKwargs, Model, Optimizer, PyTorchShim, set_dropout_rate, torch2xp, xp2torch
from thinc.types import Floats2d
from torch.profiler import record_function

from ..flat_settings import flat_settings
from .features import TokenFeatures, featurize, vector_table_keys
from .network import TEACHER, CVTNetwork
from .model_settings import ModelSettings
from .torch_settings import install_process_settings
from .views import PRIMARY

ViewScores = Dict[str, Floats2d]


def _build_cvt_tagger(
    settings: ModelSettings,
    tok2vec: Optional[Model[List[Doc], List[Floats2d]]] = None,
    nO: Optional[int] = None,
) -> Model[List[Doc], ViewScores]:
    """Char CNN + word features, a 2-layer BiLSTM, and CVT's prediction modules.

    The sizes and features are ``ModelSettings`` fields, written as flat config keys.
    tok2vec: optional thinc layer whose per-token output is appended to the token
        features (its width is read from its nO dim): spaCy embedding layers such as
        MultiHashEmbed, or a Tok2Vec/Transformer listener. A listener cannot serve
        unlabeled batches, and a layer that mixes neighbouring tokens would let the
        forward views see later tokens, so with unlabeled text only token-local layers work
        (the component checks both at initialize).
    nO: number of labels; the component sets it from the training data.
    """
    install_process_settings()  # oneDNN cache off, one thread in forked children
    return Model(
        "cvt_tagger",
        forward,
        init=init,
        layers=[tok2vec] if tok2vec is not None else [],
        dims={"nO": nO, "nV": None, "nT": None},
        attrs={"dropout_rate": 0.0, "settings": settings},
    )


build_cvt_tagger = registry.architectures("spacy-cvt.CVTTagger.v1")(flat_settings(_build_cvt_tagger, ModelSettings))


class CVTShim(PyTorchShim):
    """PyTorchShim that updates its parameters in place and understands thinc's averages.

    - ``finish_update``: PyTorchShim's sets each parameter's ``.data`` to a new tensor
      made from the optimizer's array, and that array is a view of the old tensor, so
      every step chains one more tensor per parameter to the last and none is ever
      freed (thinc 8.3: one tensor per parameter and step, with its numpy array). The
      few KB a step add up, and the small blocks they pin amid the batches' large ones
      keep glibc from reusing its heap. Here the optimizer updates a view of the
      parameter itself, and the parameter stays the tensor it was.
    - ``use_params``: spaCy evaluates and saves with ``nlp.use_params(optimizer.averages)``.
      The optimizer keys a torch parameter by ``(shim.id, name)``, but PyTorchShim only
      looks for string keys, so without this the averaged weights (CVT's exponential
      moving average of weights) would never be used.
    """

    def finish_update(self, optimizer: Optimizer) -> None:
        with record_function("spacy_cvt.optimizer"):
            self._step(optimizer)

    def _step(self, optimizer: Optimizer) -> None:
        for name, parameter in self._model.named_parameters():
            if parameter.grad is None:
                continue
            if not self._grad_scaler.found_inf:  # as PyTorchShim: skip a step that overflowed
                weights = torch2xp(parameter.data)  # shares the parameter's memory
                updated, _ = optimizer((self.id, name), weights, torch2xp(parameter.grad))
                if updated is not weights:  # thinc's optimizers update in place; others may not
                    parameter.data.copy_(xp2torch(updated, device=parameter.device))
            parameter.grad.zero_()
        self._grad_scaler.update()

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
    if model.layers:
        model.layers[0].initialize(X=X)
    if not model.has_dim("nT"):
        model.set_dim("nT", tok2vec_width(model))
    network = CVTNetwork(
        model.attrs["settings"],
        n_labels=model.get_dim("nO"),
        n_vector_dims=model.get_dim("nV"),
        n_extra_dims=model.get_dim("nT"),
    )
    model.shims.append(CVTShim(network))


def fill_trained_vectors(model: Model, vocab: Vocab) -> None:
    """With ``fine_tune_vectors``, start the model's own word vectors from ``vocab``'s.

    Called when the component is initialized for training (a loaded pipeline reads
    the trained copy with its weights instead).
    """
    if not model.attrs["settings"].fine_tune_vectors:
        return
    if vocab.vectors.shape[0] == 0 or vocab.vectors.shape[1] == 0:
        raise ValueError(
            "fine_tune_vectors = true trains a copy of the pipeline's word vectors, but "
            "the pipeline has none. Set [initialize] vectors (e.g. --paths.vectors), or "
            "set fine_tune_vectors = false."
        )
    keys, rows = vector_table_keys(vocab.vectors, vocab.strings)
    table = model.ops.to_numpy(vocab.vectors.data).astype("float32")
    torch_network(model).embedding.words.fill(torch.from_numpy(table), torch.from_numpy(keys), torch.from_numpy(rows))


def tok2vec_width(model: Model) -> int:
    """The output width of the optional tok2vec layer (0 without one).

    Read from its nO dim where it declares one (listeners do); otherwise from its
    output for a one-token doc (spaCy's embedding chains end in a layer without nO).
    """
    if not model.layers:
        return 0
    tok2vec = model.layers[0]
    if tok2vec.has_dim("nO"):
        return tok2vec.get_dim("nO")
    try:
        return int(tok2vec.predict([Doc(Vocab(), words=["width"])])[0].shape[1])
    except Exception as error:
        raise ValueError(
            f"spacy-cvt.CVTTagger.v1 cannot tell the output width of its tok2vec layer "
            f"'{tok2vec.name}': it declares no nO dim and failed on a probe doc ({error}). "
            "Use a layer with a declared width, e.g. spacy.Tok2VecListener.v1 with `width`."
        ) from error


PROBE_WORDS = ("probe", "one", "two", "three")
PROBE_REPLACEMENTS = ("Other", "WORDS", "4", "here")


def forward_view_sees_later_tokens(model: Model, vocab: Vocab) -> bool:
    """Probe the view property: does the forward view at any token change with a later one?

    For each position t, every token after t is replaced and the forward view's scores
    up to t must stay the same. Changing one later token is not enough: a window-1
    encoder of depth 1 lets token t see token t + 1 only (the token the future view
    at t predicts) and nothing further. Only a tok2vec layer that mixes neighbouring
    tokens can leak; the built-in features and the encoder are restricted by construction.
    """
    set_dropout_rate(model, 0.0)
    base = _forward_view_scores(model, Doc(vocab, words=list(PROBE_WORDS)))
    for t in range(len(PROBE_WORDS) - 1):
        words = list(PROBE_WORDS[: t + 1]) + list(PROBE_REPLACEMENTS[t + 1 :])
        changed = _forward_view_scores(model, Doc(vocab, words=words))
        if not model.ops.xp.allclose(base[: t + 1], changed[: t + 1], atol=1e-6):
            return True
    return False


def _forward_view_scores(model: Model, doc: Doc) -> Floats2d:
    """The forward view's scores for one doc, without dropout or a graph."""
    return forward(model, [doc], False, views=("forward",))[0]["forward"]


def reads_a_listener(model: Model) -> Optional[str]:
    """The name of a Tok2Vec/Transformer listener inside the model, if any."""
    for node in model.walk():
        if "listener" in node.name:
            return node.name
    return None


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


def auxiliary_views(model: Model) -> Tuple[str, ...]:
    """The views a CVT step trains: every view but the primary one."""
    return tuple(view for view in torch_network(model).views if view != PRIMARY)


def begin_cvt_update(
    model: Model, docs: List[Doc], *, with_primary: bool = False
) -> Tuple[Floats2d, ViewScores, Callable[[ViewScores], List[Doc]]]:
    """A CVT step's pass: the teacher's logits (a constant) and the auxiliary views' scores.

    One featurization and one embedding serve both; the teacher runs the primary
    module without dropout or graph, the students run layer 1 with the model's
    dropout. ``with_primary`` adds the primary view with dropout and a graph (a
    teacher corpus trains it). Backprop takes gradients for any of these views.
    """
    views = auxiliary_views(model) + ((PRIMARY,) if with_primary else ())
    scores, backprop = forward(model, docs, True, views=views, teacher=True)
    return scores.pop(TEACHER), scores, backprop


def forward(
    model: Model,
    docs: List[Doc],
    is_train: bool,
    *,
    views: Sequence[str] = (PRIMARY,),
    teacher: bool = False,
) -> Tuple[ViewScores, Callable[[ViewScores], List[Doc]]]:
    """``views``: which views to compute; ``teacher``: also the teacher's logits (``TEACHER``)."""
    shim = model.shims[0]
    views = tuple(views)
    nonempty = [doc for doc in docs if len(doc)]
    if not nonempty:
        empty = model.ops.alloc2f(0, model.get_dim("nO"))
        keys = views + ((TEACHER,) if teacher else ())
        return {key: empty for key in keys}, lambda d_scores: docs
    device = shim.device
    extra, backprop_extra = _tok2vec_features(model, docs, is_train, device)
    with record_function("spacy_cvt.featurize"):
        features = featurize(nonempty, model.attrs["settings"], n_vector_dims=model.get_dim("nV"))
    with record_function("spacy_cvt.to_device"):
        hash_ids, char_ids, word_keys = integer_inputs(features, device)
        vectors = xp2torch(model.ops.asarray(features.vectors, dtype="float32"), device=device)
    inputs = ArgsKwargs(
        args=(vectors, hash_ids, char_ids, extra, word_keys),
        kwargs={
            "lengths": features.lengths,
            "views": views,
            "dropout": model.attrs["dropout_rate"] if is_train else 0.0,
            "teacher": teacher,
        },
    )
    with record_function("spacy_cvt.forward"):
        outputs, torch_backprop = shim(inputs, is_train)
        scores = {key: torch2xp(logits, ops=model.ops) for key, logits in outputs.items()}

    def backprop(d_scores: ViewScores) -> List[Doc]:
        names = [view for view in d_scores if view in outputs]
        with record_function("spacy_cvt.backward"):
            d_inputs = torch_backprop(
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
        if backprop_extra is not None:
            backprop_extra(d_inputs.args[3])
        return docs

    return scores, backprop


def integer_inputs(features: TokenFeatures, device: torch.device) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
    """The hash ids, char ids and word keys (None without fine_tune_vectors) on ``device``.

    They travel in one host-to-device copy: on a GPU each copy from pageable memory is a
    blocking transfer of its own, and a step's inputs are small.
    """
    arrays = [features.hash_ids, features.char_ids]
    if features.word_keys is not None:
        arrays.append(features.word_keys)
    flat = torch.from_numpy(numpy.concatenate([array.reshape(-1) for array in arrays])).to(device)
    parts = [part.view(array.shape) for part, array in zip(torch.split(flat, [array.size for array in arrays]), arrays)]
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def _tok2vec_features(model: Model, docs: List[Doc], is_train: bool, device):
    """The tok2vec layer's output as one flat tensor, and how to send its gradient back.

    The layer sees the whole batch, empty docs included: a listener checks that it
    is called with the same batch as its upstream component.
    """
    if not model.layers:
        return None, None
    arrays, backprop_layer = model.layers[0](docs, is_train)
    flat = model.ops.flatten(arrays) if arrays else model.ops.alloc2f(0, tok2vec_width(model))
    extra = xp2torch(model.ops.asarray2f(flat), requires_grad=is_train, device=device)
    lengths = [len(doc) for doc in docs]

    def backprop_extra(d_extra) -> None:
        if d_extra is None:  # the views that got gradients did not depend on it
            d_extra = torch.zeros_like(extra)
        d_flat = torch2xp(d_extra, ops=model.ops)
        backprop_layer(model.ops.unflatten(d_flat, model.ops.asarray1i(lengths)))

    return extra, backprop_extra

