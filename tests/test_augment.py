"""`python -m spacy cvt-augment` (spacy_cvt.cli.augment): rewrites of the labeled and unlabeled sentences
for the teacher to annotate (Tang et al. 2019's transfer-set augmentation)."""

import random

import pytest
import spacy
import srsly
import typer
from spacy.tokens import Doc, DocBin

from spacy_cvt.cli import augment

from .conftest import spacy_command

TOKENS = [("Paul", True), ("ate", True), ("pizza", True), ("on", True), ("Monday", False), ("!", False)]
NEIGHBOURS = {"ate": ["eaten"], "pizza": ["pasta", "burger"], "monday": ["tuesday"]}


@pytest.fixture(scope="module")
def vectors_path(glove_path, tmp_path_factory):
    """A pipeline with conftest's GloVe rows as its vectors."""
    from spacy.training.initialize import convert_vectors

    nlp = spacy.blank("en")
    convert_vectors(nlp, glove_path, truncate=0, prune=-1)
    path = tmp_path_factory.mktemp("glove") / "vectors"
    nlp.to_disk(path)
    return path


def test_no_probability_keeps_the_sentence():
    assert augment.rewrite(TOKENS, random.Random(0), NEIGHBOURS, 0.0, 0.0, 0.0, "[MASK]") == TOKENS


def test_every_word_masked_keeps_the_spaces():
    out = augment.rewrite(TOKENS, random.Random(0), NEIGHBOURS, 1.0, 0.0, 0.0, "[MASK]")
    assert out == [("[MASK]", space) for _, space in TOKENS]


def test_swaps_take_a_neighbour_in_the_words_case_and_leave_words_without_one():
    out = augment.rewrite(TOKENS, random.Random(0), NEIGHBOURS, 0.0, 1.0, 0.0, "[MASK]")
    assert out[0] == ("Paul", True) and out[3] == ("on", True) and out[5] == ("!", False)
    assert out[1] == ("eaten", True) and out[2][0] in ("pasta", "burger") and out[4] == ("Tuesday", False)
    assert augment.match_case("pasta", "PIZZA") == "PASTA"
    assert augment.match_case("pasta", "I") == "Pasta"


def test_ngram_sampling_keeps_a_span_of_one_to_five_tokens():
    for seed in range(30):
        out = augment.rewrite(TOKENS, random.Random(seed), NEIGHBOURS, 0.0, 0.0, 1.0, "[MASK]")
        assert 1 <= len(out) <= 5
        start = TOKENS.index(out[0])
        assert TOKENS[start:start + len(out)] == out


def test_neighbours_are_near_in_the_vectors_and_lower_cased(vectors_path):
    table = augment.nearest_words(vectors_path, ["Monday", "monday", "The", "qqxq", "1999", "!"], 5)
    assert set(table) == {"monday", "the"}  # alphabetic words with a vector only
    assert "tuesday" in table["monday"] or "friday" in table["monday"]
    for found in table.values():
        assert len(found) == len(set(found)) and all(w == w.lower() and w.isalpha() for w in found)
    assert "monday" not in table["monday"]


@pytest.mark.slow
def test_the_command_writes_originals_and_distinct_rewrites_for_spacy_apply(vectors_path, tmp_path):
    nlp = spacy.blank("en")
    DocBin(docs=[Doc(nlp.vocab, words=["The", "pizza", "was", "great", "!"], spaces=[True, True, True, False, False])]).to_disk(
        tmp_path / "train.spacy")
    srsly.write_jsonl(tmp_path / "raw.jsonl", [{"text": "Service on Monday was slow."}, {"text": "   "}])
    out = tmp_path / "input.spacy"
    printed = spacy_command(["cvt-augment", tmp_path / "train.spacy", tmp_path / "raw.jsonl", out,
                             "--vectors", vectors_path, "--copies", "6", "--seed", "3"])
    assert "2 sentences -> " in printed and str(out) in printed  # the blank line is left out
    texts = [doc.text for doc in DocBin().from_disk(out).get_docs(nlp.vocab)]
    assert texts[0] == "The pizza was great!"  # the original first, its spacing kept
    assert "Service on Monday was slow." in texts
    assert len(texts) == len(set(texts)) and len(texts) > 2
    # the same inputs and seed give the same output (here through the function the command calls)
    done = augment.augment([tmp_path / "train.spacy", tmp_path / "raw.jsonl"], tmp_path / "again.spacy", vectors_path,
                           copies=6, seed=3)
    assert (done.sentences, done.docs) == (2, len(texts))
    assert [doc.text for doc in DocBin().from_disk(tmp_path / "again.spacy").get_docs(nlp.vocab)] == texts


def test_vectors_that_are_no_pipeline_or_empty_say_what_to_run(tmp_path):
    with pytest.raises(typer.BadParameter, match="'.*nothing' is no spaCy pipeline; run `spacy project run vectors`"):
        augment.nearest_words(tmp_path / "nothing", ["word"], 5)
    spacy.blank("en").to_disk(tmp_path / "blank")
    with pytest.raises(typer.BadParameter, match="has no word vectors"):
        augment.nearest_words(tmp_path / "blank", ["word"], 5)


def test_an_input_neither_spacy_nor_jsonl_text_is_named(tmp_path):
    with pytest.raises(typer.BadParameter, match="'.*raw.txt' is neither a .spacy file"):
        list(augment.read_sentences([tmp_path / "raw.txt"], spacy.blank("en")))
    (tmp_path / "raw.txt").write_text("Fine .\n", encoding="utf8")
    message = spacy_command(["cvt-augment", tmp_path / "raw.txt", tmp_path / "out.spacy", "--vectors", tmp_path], exit_code=2)
    assert "InvalidvalueforINPUTS:" in message and "raw.txt'isneithera.spacyfile" in message
    srsly.write_jsonl(tmp_path / "raw.jsonl", [{"text": "Fine ."}, {"meta": 1}])
    with pytest.raises(typer.BadParameter, match=r"line 2 of '.*raw.jsonl' has no \"text\" string"):
        list(augment.read_sentences([tmp_path / "raw.jsonl"], spacy.blank("en")))
