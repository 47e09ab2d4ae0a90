"""A user's own corpus as a task (spacy_cvt_project/own_corpus.py): what its files annotate picks
the heads, and every problem stops before training with the file it is in."""

import json
from pathlib import Path

import pytest
import spacy
import typer
from spacy.tokens import Doc, DocBin, Span

from spacy_cvt_project import catalog, check, own_corpus, runs
from spacy_cvt_project.own_corpus import CorpusError


def doc(nlp, words, ents=(), tags=None) -> Doc:
    made = Doc(nlp.vocab, words=words, tags=tags)
    made.ents = [Span(made, start, end, label) for start, end, label in ents]
    return made


def write_corpus(folder: Path, n: int = 12, dev_label: str = "PER", tags: bool = False, ents: bool = True) -> Path:
    nlp = spacy.blank("en")
    folder.mkdir(parents=True, exist_ok=True)
    for split, label in (("train", "PER"), ("dev", dev_label), ("test", "PER")):
        docs = [doc(nlp, ["Alice", "met", "Bob", str(i)], [(0, 1, label), (2, 3, "LOC")] if ents else (),
                    ["NNP", "VBD", "NNP", "CD"] if tags else None) for i in range(n)]
        DocBin(docs=docs).to_disk(folder / f"{split}.spacy")
    return folder


def test_entities_train_the_ner_heads_and_tags_the_tagger_heads(tmp_path):
    spec = own_corpus.inspect(write_corpus(tmp_path / "ents"))
    assert (spec.cvt_head, spec.spacy_head, spec.score_key, spec.teacher) == ("ner", "ner", "ents_f", True)
    spec = own_corpus.inspect(write_corpus(tmp_path / "tags", tags=True, ents=False))
    assert (spec.cvt_head, spec.spacy_head, spec.score_key, spec.teacher) == ("tagger", "tagger", "tag_acc", False)
    both = write_corpus(tmp_path / "both", tags=True)
    with pytest.raises(CorpusError, match=r"both/train.spacy annotates entities and tags: .*--vars.head ner or --vars.head tagger"):
        own_corpus.inspect(both)
    assert own_corpus.inspect(both, "tagger").cvt_head == "tagger"
    # `spacy convert -c ner` writes "-" as every tag where the file has no POS column: no tags
    placeholder = write_corpus(tmp_path / "placeholder")
    nlp = spacy.blank("en")
    DocBin(docs=[doc(nlp, ["Alice", "met", "Bob", str(i)], [(0, 1, "PER"), (2, 3, "LOC")], ["-"] * 4)
                 for i in range(12)]).to_disk(
        placeholder / "train.spacy")
    assert own_corpus.inspect(placeholder).cvt_head == "ner"


@pytest.mark.parametrize("problem,match", [
    ("missing", r"test.spacy is missing: a corpus folder holds train.spacy, dev.spacy, test.spacy"),
    ("no annotation", r"train.spacy annotates neither entities \(doc.ents\), tags \(token.tag_\) nor spans \(doc.spans\)"),
    ("unseen label", r"dev.spacy uses labels that train never has: ORG"),
    ("too small", r"dev.spacy holds 3 sentences: too few to evaluate on \(at least 10\)"),
    ("not a docbin", r"train.spacy is not a spaCy DocBin"),
])
def test_a_bad_corpus_stops_before_training_naming_its_file(tmp_path, problem, match):
    folder = tmp_path / "mine"
    if problem == "missing":
        write_corpus(folder)
        (folder / "test.spacy").unlink()
    elif problem == "no annotation":
        write_corpus(folder, ents=False)
    elif problem == "unseen label":
        write_corpus(folder, dev_label="ORG")
    elif problem == "too small":
        write_corpus(folder)
        nlp = spacy.blank("en")
        DocBin(docs=[doc(nlp, ["Alice"], [(0, 1, "PER")])] * 3).to_disk(folder / "dev.spacy")
    else:
        write_corpus(folder)
        (folder / "train.spacy").write_text("train sentences, not a DocBin\n")
    with pytest.raises(CorpusError, match=match):
        own_corpus.inspect(folder)


def test_convert_adopts_the_corpus_and_every_command_reads_its_task(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path / "my_corpus")
    with pytest.raises(ValueError, match="unknown task 'mine': .*--vars.corpus FOLDER"):
        catalog.known_task("mine")
    check.main("mine", teacher=True, corpus="my_corpus")  # all's first step: entities have a teacher
    with pytest.raises(CorpusError, match="'ner' is a built-in task"):
        own_corpus.adopt("ner", tmp_path / "my_corpus", tmp_path / "corpus" / "ner")
    with pytest.raises(typer.Exit):  # `all`'s first step says the same
        check.main("ner", teacher=True, corpus="my_corpus")
    assert "'ner' is a built-in task" in capsys.readouterr().err
    own_corpus.adopt("mine", tmp_path / "my_corpus", tmp_path / "corpus" / "mine")
    assert json.loads((tmp_path / "corpus" / "mine" / "task.json").read_text())["cvt_head"] == "ner"
    assert (tmp_path / "corpus" / "mine" / "dev.spacy").read_bytes() == (tmp_path / "my_corpus" / "dev.spacy").read_bytes()
    assert catalog.score_key("mine", "cvt") == "ents_f" and catalog.config_path("mine", "bilstm") == "configs/cvt_ner.cfg"
    command = runs.train_command("cvt-teacher", runs.Choices("mine", 800, 100), 0, -1)
    assert command[4] == "configs/cvt-teacher_ner.cfg" and "corpus/mine/trf_teacher_corpus.spacy" in command
    write_corpus(tmp_path / "tagged", tags=True, ents=False)
    with pytest.raises(typer.Exit):
        check.main("tagged", teacher=True, corpus="tagged")
    assert "all-but-teacher . --vars.task tagged --vars.corpus tagged" in capsys.readouterr().err


def write_span_corpus(folder: Path, keys=("sc",), overlap_in: str = "", ents: bool = False) -> Path:
    """Spans under each of `keys` (spancat's format): 'Alice' PER and 'Bob' LOC; `overlap_in` names the
    split whose last doc also has 'met Bob' (overlapping 'Bob')."""
    nlp = spacy.blank("en")
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        docs = []
        for i in range(12):
            made = doc(nlp, ["Alice", "met", "Bob", str(i)], [(0, 1, "PER")] if ents else ())
            for key in keys:
                made.spans[key] = [Span(made, 0, 1, "PER"), Span(made, 2, 3, "LOC")]
            if split == overlap_in and i == 11:
                made.spans[keys[0]] = list(made.spans[keys[0]]) + [Span(made, 1, 3, "EVENT")]
            docs.append(made)
        DocBin(docs=docs).to_disk(folder / f"{split}.spacy")
    return folder


def test_spans_under_a_key_are_learned_as_entities_by_every_system(tmp_path):
    folder = write_span_corpus(tmp_path / "spans")
    spec = own_corpus.adopt("mine", folder, tmp_path / "corpus" / "mine")
    assert (spec.cvt_head, spec.spacy_head, spec.score_key, spec.teacher) == ("ner", "ner", "ents_f", True)
    assert "spans under 'sc', learned as entities" in spec.description
    nlp = spacy.blank("en")
    for split in ("train", "dev", "test"):
        docs = list(DocBin().from_disk(tmp_path / "corpus" / "mine" / f"{split}.spacy").get_docs(nlp.vocab))
        assert [[(e.start, e.end, e.label_) for e in d.ents] for d in docs] == [[(0, 1, "PER"), (2, 3, "LOC")]] * 12
        assert all([(s.start, s.end) for s in d.spans["sc"]] == [(0, 1), (2, 3)] for d in docs)  # kept as they were


@pytest.mark.parametrize("corpus, head, match", [
    (dict(overlap_in="test"), None,
     r"test.spacy, doc 11: spans under 'sc' overlap \('met Bob' EVENT and 'Bob' LOC\); .*filter_spans.*spancat"),
    (dict(keys=("sc", "other")), None,
     r"train.spacy annotates spans under 'sc' and spans under 'other': .*--vars.head spans:sc or --vars.head spans:other"),
    (dict(keys=("sc", "other")), "spans", r"spans under 2 keys \(sc, other\): name the key with --vars.head spans:KEY"),
    (dict(ents=True), None, r"annotates entities and spans under 'sc': .*--vars.head ner or --vars.head spans:sc"),
    (dict(), "spans:nope", r"train.spacy has no spans under 'nope' for head 'spans:nope'"),
])
def test_spans_that_a_tagger_cannot_learn_or_an_unclear_key_stop_before_training(tmp_path, corpus, head, match):
    folder = write_span_corpus(tmp_path / "spans", **corpus)
    with pytest.raises(CorpusError, match=match):
        own_corpus.inspect(folder, head)


def test_the_key_given_or_the_only_one_is_learned(tmp_path):
    two = write_span_corpus(tmp_path / "two", keys=("sc", "other"))
    assert "spans under 'other'" in own_corpus.inspect(two, "spans:other").description
    assert "spans under 'sc'" in own_corpus.inspect(write_span_corpus(tmp_path / "one"), "spans").description
    both = write_span_corpus(tmp_path / "both", ents=True)
    assert own_corpus.inspect(both, "ner").description == f"your corpus {both}"
