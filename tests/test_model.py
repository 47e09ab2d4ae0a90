"""The architecture: shapes, the CVT view property, and batch independence."""

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc

from spacy_cvt.model import build_cvt_tagger, torch_network
from spacy_cvt.model.features import char_ids
from spacy_cvt.model.tagger import begin_cvt_update, forward

from .conftest import TINY_MODEL, live_tensors

N_LABELS = 5
WORDS = "The quick brown fox jumps over the lazy dog near Paris today".split()


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    settings = {k: v for k, v in TINY_MODEL.items() if not k.startswith("@")}
    model = build_cvt_tagger(**settings, include_full=True)
    model.set_dim("nO", N_LABELS)
    model.set_dim("nV", 0)
    model.initialize()
    return model


def all_views(model, docs):
    """Every view's logits, without dropout."""
    scores, _ = forward(model, docs, False, views=torch_network(model).views)
    return scores


def test_output_shapes_and_views(nlp, model):
    docs = [Doc(nlp.vocab, words=WORDS[:4]), Doc(nlp.vocab, words=[]), Doc(nlp.vocab, words=WORDS)]
    scores = all_views(model, docs)
    assert set(scores) == {"primary", "forward", "backward", "future", "past", "full"}
    for logits in scores.values():
        assert logits.shape == (4 + len(WORDS), N_LABELS)
    predicted = model.predict(docs)
    assert set(predicted) == {"primary"}
    numpy.testing.assert_allclose(predicted["primary"], scores["primary"], atol=1e-5)


def count_calls(module):
    calls = []
    handle = module.register_forward_hook(lambda *args: calls.append(1))
    return calls, handle


def test_labeled_pass_computes_the_primary_view_only(nlp, model):
    scores, _ = model.begin_update([Doc(nlp.vocab, words=WORDS)])
    assert set(scores) == {"primary"}


@pytest.mark.parametrize("include_full", [False, True])
def test_cvt_pass_shares_one_embedding_and_runs_layer2_only_where_read(nlp, include_full):
    torch.manual_seed(0)
    settings = {k: v for k, v in TINY_MODEL.items() if not k.startswith("@")}
    model = build_cvt_tagger(**settings, include_full=include_full, nO=N_LABELS)
    model.set_dim("nV", 0)
    model.initialize()
    network = torch_network(model)
    chars, chars_hook = count_calls(network.embedding.chars)
    layer2, layer2_hook = count_calls(network.encoder.layer2)
    docs = [Doc(nlp.vocab, words=WORDS), Doc(nlp.vocab, words=WORDS[:5])]
    model.attrs["dropout_rate"] = 0.5
    teacher, students, backprop = begin_cvt_update(model, docs)
    chars_hook.remove()
    layer2_hook.remove()
    assert len(chars) == 1
    assert len(layer2) == (2 if include_full else 1)  # the teacher, and the full view if any
    assert set(students) == {"forward", "backward", "future", "past"} | ({"full"} if include_full else set())
    # the teacher is the primary view without dropout, whatever the students' dropout
    numpy.testing.assert_allclose(teacher, model.predict(docs)["primary"], atol=1e-5)
    backprop({view: numpy.ones_like(logits) for view, logits in students.items()})
    assert (network.encoder.layer2.weight_ih_l0.grad is not None) == include_full
    assert network.prediction_modules.modules_by_view["primary_module"].hidden.weight.grad is None
    assert network.encoder.layer1.weight_ih_l0.grad is not None


def test_only_empty_docs_give_empty_scores(nlp, model):
    scores = model.predict([Doc(nlp.vocab, words=[]), Doc(nlp.vocab, words=[])])
    assert scores["primary"].shape == (0, N_LABELS)


@pytest.mark.parametrize("t", [0, 3, 6, len(WORDS) - 1])
def test_forward_and_future_never_see_later_tokens(nlp, model, t):
    changed = WORDS[: t + 1] + ["zebra", "UNSEEN", "🙂", "123"][: len(WORDS) - t - 1]
    changed += ["x"] * (len(WORDS) - len(changed))
    original = all_views(model, [Doc(nlp.vocab, words=WORDS)])
    altered = all_views(model, [Doc(nlp.vocab, words=changed)])
    for view in ("forward", "future"):
        numpy.testing.assert_allclose(original[view][: t + 1], altered[view][: t + 1], atol=1e-6)
    if t < len(WORDS) - 1:  # the change is visible to views that may see it
        assert not numpy.allclose(original["primary"][: t + 1], altered["primary"][: t + 1])
        assert not numpy.allclose(original["backward"][: t + 1], altered["backward"][: t + 1])


@pytest.mark.parametrize("t", [0, 2, 5, len(WORDS) - 1])
def test_backward_and_past_never_see_earlier_tokens(nlp, model, t):
    changed = ["Zebra", "UNSEEN", "🙂", "123", "q", "r"][:t] + WORDS[t:]
    changed = ["x"] * (len(WORDS) - len(changed)) + changed
    original = all_views(model, [Doc(nlp.vocab, words=WORDS)])
    altered = all_views(model, [Doc(nlp.vocab, words=changed)])
    for view in ("backward", "past"):
        numpy.testing.assert_allclose(original[view][t:], altered[view][t:], atol=1e-6)
    if t > 0:
        assert not numpy.allclose(original["forward"][t:], altered["forward"][t:])


def test_doc_outputs_do_not_depend_on_the_batch(nlp, model):
    short = Doc(nlp.vocab, words=WORDS[:3])
    long = Doc(nlp.vocab, words=WORDS * 3 + ["supercalifragilisticexpialidocious"])
    alone = all_views(model, [short])
    batched = all_views(model, [long, short, Doc(nlp.vocab, words=WORDS[:1])])
    start = len(long)
    for view, logits in alone.items():
        numpy.testing.assert_allclose(logits, batched[view][start : start + 3], atol=1e-5)


def test_char_ids_pad_to_a_fixed_width_and_hash_rare_code_points(nlp):
    doc = Doc(nlp.vocab, words=["ab", "🙂", "x" * 30])
    ids = char_ids([doc], max_chars=20, n_chars=512)
    assert ids.shape == (3, 20)
    assert list(ids[0, :3]) == [ord("a"), ord("b"), 0]
    assert 256 <= ids[1, 0] < 512 and ids[1, 1] == 0
    assert (ids[2] == ord("x")).all()


def test_projection_must_be_smaller_than_hidden_size():
    model = build_cvt_tagger(hidden_size1=16, projection_size1=16, nO=3)
    with pytest.raises(ValueError, match="projection"):
        model.initialize()


def test_the_shim_steps_the_weights_as_thincs_does_and_keeps_no_tensors():
    """CVTShim.finish_update: the same weights and averages as thinc's PyTorchShim, without
    the tensor that PyTorchShim chains to each parameter at every step."""
    from thinc.api import Adam, PyTorchShim

    from spacy_cvt.model.tagger import CVTShim

    torch.manual_seed(0)
    nets = [torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)]
    nets[1].load_state_dict(nets[0].state_dict())
    shims = [PyTorchShim(nets[0]), CVTShim(nets[1])]
    optimizers = [Adam(0.01, use_averages=True), Adam(0.01, use_averages=True)]
    x = torch.randn(5, 4)
    kept = []
    for net, shim, optimizer in zip(nets, shims, optimizers):
        net(x).pow(2).sum().backward()
        shim.finish_update(optimizer)
        before = live_tensors()
        for _ in range(20):
            net(x).pow(2).sum().backward()
            shim.finish_update(optimizer)
        kept.append(live_tensors() - before)
        assert all(torch.count_nonzero(parameter.grad) == 0 for parameter in net.parameters())
    assert kept[1] == 0, kept  # thinc 8.3's keeps one per parameter and step: kept[0] == 40
    for (name, theirs), ours in zip(nets[0].named_parameters(), nets[1].parameters()):
        assert torch.equal(theirs, ours), name
        averages = [optimizer.averages[(shim.id, name)] for shim, optimizer in zip(shims, optimizers)]
        assert numpy.array_equal(*averages), name


def one_flat_buffer(lstm: torch.nn.LSTM) -> torch.Tensor:
    """Put an LSTM's weights in one buffer, as ``flatten_parameters`` does for cuDNN on a GPU."""
    flat = torch.cat([weight.detach().reshape(-1) for weight in lstm._flat_weights])
    offset = 0
    for weight in lstm._flat_weights:
        weight.data = flat[offset : offset + weight.numel()].view_as(weight)
        offset += weight.numel()
    return flat


def test_optimizer_steps_keep_the_lstm_weights_in_their_flat_buffer(nlp):
    """cuDNN reads an LSTM's weights from one flat buffer. A step that gave a weight new storage
    (as thinc's PyTorchShim does) would make torch warn that they "are not part of single
    contiguous chunk of memory" and compact them again at every call."""
    from thinc.api import Adam

    from spacy_cvt.pipeline.unlabeled_optimizer import unlabeled_phase

    torch.manual_seed(0)
    settings = {k: v for k, v in TINY_MODEL.items() if not k.startswith("@")}
    model = build_cvt_tagger(**settings)
    model.set_dim("nO", N_LABELS)
    model.set_dim("nV", 0)
    model.initialize()
    encoder = torch_network(model).encoder
    lstms = (encoder.layer1, encoder.layer2)
    buffers = [one_flat_buffer(lstm) for lstm in lstms]
    before = [buffer.clone() for buffer in buffers]
    docs = [Doc(nlp.vocab, words=WORDS)]
    optimizer = Adam(0.01)
    scores, backprop = model.begin_update(docs)
    backprop({"primary": numpy.ones_like(scores["primary"])})
    model.finish_update(optimizer)
    teacher, students, backprop = begin_cvt_update(model, docs)
    backprop({view: numpy.ones_like(logits) for view, logits in students.items()})
    model.finish_update(unlabeled_phase(optimizer, 1.0))
    for lstm, buffer, old in zip(lstms, buffers, before):
        assert not torch.equal(buffer, old)  # the steps moved the weights, inside the buffer
        for weight in lstm._flat_weights:
            assert weight.untyped_storage().data_ptr() == buffer.untyped_storage().data_ptr()
        assert [weight.data_ptr() for weight in lstm._flat_weights] == [
            parameter.data_ptr() for parameter in lstm.parameters()
        ]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="cuDNN's flat weights need a GPU")
def test_no_contiguity_warning_on_a_gpu(nlp):
    import warnings

    from thinc.api import Adam, require_gpu, use_ops

    pytest.importorskip("cupy")
    require_gpu()
    try:
        settings = {k: v for k, v in TINY_MODEL.items() if not k.startswith("@")}
        model = build_cvt_tagger(**settings)
        model.set_dim("nO", N_LABELS)
        model.set_dim("nV", 0)
        model.initialize()
        docs = [Doc(nlp.vocab, words=WORDS)]
        optimizer = Adam(0.01)
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*contiguous chunk of memory.*")
            for _ in range(3):
                scores, backprop = model.begin_update(docs)
                backprop({"primary": model.ops.xp.ones_like(scores["primary"])})
                model.finish_update(optimizer)
    finally:
        use_ops("numpy")
