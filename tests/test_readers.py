"""Raw-text readers and the endless unlabeled stream: formats and bad input."""

import gc
import hashlib
import itertools
import threading
import time

import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example

from spacy_cvt.unlabeled import PretokenizedTextCorpus, PlainTextCorpus, unlabeled_batches


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def texts(corpus, nlp):
    return [eg.predicted.text for eg in corpus(nlp)]


def test_one_doc_per_non_blank_line_with_crlf_and_folders(tmp_path, nlp):
    (tmp_path / "a.txt").write_bytes(b"First line here.\r\n\r\n  \r\nSecond one!\r\n")
    (tmp_path / "b.txt").write_text("Third.\n", encoding="utf-8")
    assert texts(PlainTextCorpus(tmp_path / "a.txt"), nlp) == ["First line here.", "Second one!"]
    assert texts(PlainTextCorpus(tmp_path), nlp) == ["First line here.", "Second one!", "Third."]


def test_examples_are_unannotated_copies(tmp_path, nlp):
    (tmp_path / "a.txt").write_text("Emoji 🙂 and ünïcödé ☃ text\n", encoding="utf-8")
    example = next(iter(PlainTextCorpus(tmp_path / "a.txt")(nlp)))
    assert example.predicted.text == example.reference.text
    assert example.predicted is not example.reference
    assert not example.reference.ents


def test_long_lines_are_split_not_dropped(tmp_path, nlp):
    words = [f"w{i}" for i in range(250)]
    (tmp_path / "a.txt").write_text(" ".join(words) + "\n", encoding="utf-8")
    docs = list(PlainTextCorpus(tmp_path / "a.txt", max_length=100).docs(nlp))
    assert [len(doc) for doc in docs] == [100, 100, 50]
    assert [t.text for doc in docs for t in doc] == words


def test_pretokenized_keeps_the_given_tokens(tmp_path, nlp):
    (tmp_path / "a.txt").write_text("New York-based co. 's shares\n", encoding="utf-8")
    doc = next(PretokenizedTextCorpus(tmp_path / "a.txt").docs(nlp))
    assert [t.text for t in doc] == ["New", "York-based", "co.", "'s", "shares"]


def test_limit(tmp_path, nlp):
    (tmp_path / "a.txt").write_text("a\nb\nc\n", encoding="utf-8")
    assert texts(PlainTextCorpus(tmp_path / "a.txt", limit=2), nlp) == ["a", "b"]


def test_missing_path_and_unset_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        PlainTextCorpus(tmp_path / "nope.txt")
    unset = PlainTextCorpus(None)  # an unused corpus in a config may have no path
    with pytest.raises(ValueError, match="paths.unlabeled"):
        texts(unset, spacy.blank("en"))
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ValueError, match="holds no files"):
        PlainTextCorpus(tmp_path / "empty_dir")


def test_undecodable_bytes_name_the_file_and_line(tmp_path, nlp):
    path = tmp_path / "latin.txt"
    path.write_bytes("good line\nna\xefve caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.txt, line 2.*latin-1"):
        texts(PlainTextCorpus(path), nlp)
    assert texts(PlainTextCorpus(path, encoding="latin-1"), nlp)[1] == "naïve café"
    assert "\ufffd" in texts(PlainTextCorpus(path, errors="replace"), nlp)[1]
    with pytest.raises(ValueError, match="errors must be one of"):
        PlainTextCorpus(path, errors="skip")


def test_empty_corpus_is_an_error_not_an_endless_loop(tmp_path, nlp):
    path = tmp_path / "blank.txt"
    path.write_text("\n   \n\t\n", encoding="utf-8")
    batches = unlabeled_batches(PlainTextCorpus(path), nlp, batch_size=4, shuffle_window=10, seed=0, corpus_name="corpora.unlabeled")
    with pytest.raises(ValueError, match="corpora.unlabeled' yielded no documents"):
        next(batches)


def test_stream_is_endless_shuffled_and_reproducible(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(10)), encoding="utf-8")

    def first_batches(seed):
        stream = unlabeled_batches(PlainTextCorpus(path), nlp, batch_size=4, shuffle_window=10, seed=seed, corpus_name="x")
        return [[eg.predicted.text for eg in batch] for batch in itertools.islice(stream, 6)]

    batches = first_batches(0)
    assert sorted(len(batch) for batch in batches[:3]) == [2, 4, 4]  # re-reads after 10 docs
    assert sorted(sum(batches[:3], [])) == sorted(f"line {i}" for i in range(10))
    assert sorted(sum(batches[3:], [])) == sorted(f"line {i}" for i in range(10))
    assert batches == first_batches(0)
    assert sum(batches[:3], []) != [f"line {i}" for i in range(10)]


def test_stream_batches_docs_of_similar_length(tmp_path, nlp):
    """A window is cut into batches by length: an LSTM runs as many steps as a batch's longest doc."""
    path = tmp_path / "a.txt"
    lines = [" ".join(["w"] * n) for n in [1, 9, 2, 8, 3, 7, 4, 6, 5, 10, 1, 9]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stream = unlabeled_batches(PlainTextCorpus(path), nlp, batch_size=4, shuffle_window=12, seed=0, corpus_name="x")
    batches = [sorted(len(eg.predicted) for eg in batch) for batch in itertools.islice(stream, 3)]
    assert sorted(batches) == [[1, 1, 2, 3], [4, 5, 6, 7], [8, 9, 9, 10]]
    assert batches != sorted(batches)  # the order of the batches is shuffled (for this seed)


def test_registered_readers_resolve_from_a_config(tmp_path, nlp):
    from spacy.util import registry

    path = tmp_path / "a.txt"
    path.write_text("one two\n", encoding="utf-8")
    config = {"corpus": {"@readers": "spacy-cvt.PretokenizedCorpus.v1", "path": str(path)}}
    corpus = registry.resolve(config)["corpus"]
    assert texts(corpus, nlp) == ["one two"]


def test_glob_of_shards_in_order_compressed_and_empty(tmp_path, nlp):
    import bz2
    import gzip
    import lzma

    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "news-00000-of-00004").write_text("first shard.\n", encoding="utf-8")
    (shards / "news-00001-of-00004").write_bytes(b"")  # an empty shard among full ones
    (shards / "news-00002-of-00004.gz").write_bytes(gzip.compress("third, gzip.\nmore.\n".encode()))
    (shards / "news-00003-of-00004.bz2").write_bytes(bz2.compress("fourth, bz2.\n".encode()))
    (shards / "other.xz").write_bytes(lzma.compress("xz too.\n".encode()))
    pattern = str(shards / "news-*-of-00004*")
    assert texts(PlainTextCorpus(pattern), nlp) == ["first shard.", "third, gzip.", "more.", "fourth, bz2."]
    assert texts(PlainTextCorpus(shards / "other.xz"), nlp) == ["xz too."]
    docs = list(PretokenizedTextCorpus(str(tmp_path / "**" / "*.gz")).docs(nlp))
    assert [[t.text for t in doc] for doc in docs] == [["third,", "gzip."], ["more."]]


def test_a_glob_that_matches_nothing_names_the_pattern(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"the pattern '.*news-\*' matches no files"):
        PlainTextCorpus(str(tmp_path / "news-*"))


def test_a_50_mb_line_is_read_in_pieces_never_whole(tmp_path):
    import tracemalloc

    from spacy_cvt.unlabeled import MAX_LINE_BYTES, read_lines

    path = tmp_path / "one-line.txt"
    n_words = 10_000_000
    with path.open("w", encoding="utf-8") as file:  # 50 MB, no newline at all
        for _ in range(n_words // 100_000):
            file.write("word " * 100_000)
    tracemalloc.start()
    pieces = words = 0
    longest = 0
    for piece in read_lines(path, "utf-8", "strict"):
        pieces += 1
        longest = max(longest, len(piece))
        assert piece.startswith("word ") and piece.endswith(" word")  # cut between words, never inside one
        words += piece.count(" ") + 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert words == n_words and pieces >= path.stat().st_size // MAX_LINE_BYTES
    assert longest <= MAX_LINE_BYTES + len("word ")  # a piece, plus the word cut from the one before
    assert peak < 8 * MAX_LINE_BYTES, f"peak {peak / 2**20:.0f} MiB: the line was held whole"


def test_multibyte_characters_across_piece_boundaries(tmp_path):
    from spacy_cvt.unlabeled import read_lines

    text = "ünïcödé ☃ 🙂 " * 40
    path = tmp_path / "a.txt"
    path.write_text(text + "\nnext line\n", encoding="utf-8")
    pieces = list(read_lines(path, "utf-8", "strict", max_line_bytes=16))  # 2-4 byte characters cut across pieces
    assert " ".join(pieces).split() == (text + " next line").split()


@pytest.mark.parametrize("errors,expected", [("replace", "bad\ufffdline"), ("ignore", "badline")])
def test_nul_bytes_follow_the_errors_policy(tmp_path, nlp, errors, expected):
    path = tmp_path / "a.txt"
    path.write_bytes(b"good line\nanother\nbad\x00line\nlast\n")
    with pytest.raises(ValueError, match=r"a\.txt, line 3: a NUL character"):
        texts(PlainTextCorpus(path), nlp)
    assert texts(PlainTextCorpus(path, errors=errors), nlp) == ["good line", "another", expected, "last"]


def test_a_file_cut_inside_a_character_is_an_error(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_bytes("fine\nends in ☃".encode("utf-8")[:-1])
    with pytest.raises(ValueError, match=r"a\.txt, line 2: cannot decode byte b'\\xe2'"):
        texts(PlainTextCorpus(path), nlp)
    assert texts(PlainTextCorpus(path, errors="replace"), nlp) == ["fine", "ends in \ufffd"]


class CountingCorpus(PlainTextCorpus):
    """Unlabeled text that counts the lines read from it, and can fail at a given line."""

    def __init__(self, path, fail_at=None):
        super().__init__(path)
        self.read = 0
        self.fail_at = fail_at

    def texts(self):
        for line in super().texts():
            if self.read == self.fail_at:
                raise ValueError("broken line")
            self.read += 1
            yield line


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_the_next_window_is_read_ahead_and_no_further(tmp_path, nlp):
    """While a window's batches are used, a thread reads the next window's lines, and stops there."""
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(100)), encoding="utf-8")
    corpus = CountingCorpus(path)
    stream = unlabeled_batches(corpus, nlp, batch_size=5, shuffle_window=10, seed=0, corpus_name="x")
    next(stream)
    assert wait_for(lambda: corpus.read == 20)  # the window in use and the next one
    time.sleep(0.3)
    assert corpus.read == 20
    for _ in range(2):  # the rest of the first window: the thread reads a third
        next(stream)
    assert wait_for(lambda: corpus.read == 30)


def test_an_error_in_the_read_ahead_reaches_the_step_that_needs_the_docs(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(100)), encoding="utf-8")
    stream = unlabeled_batches(CountingCorpus(path, fail_at=15), nlp, batch_size=5, shuffle_window=10, seed=0, corpus_name="x")
    assert [len(next(stream)) for _ in range(2)] == [5, 5]  # the first window is whole
    with pytest.raises(ValueError, match="broken line"):
        next(stream)


def test_docs_are_made_on_the_training_thread_only(tmp_path, monkeypatch):
    """spaCy's tokenizer, Doc and Vocab are not thread-safe: the read-ahead thread only reads
    strings, and every Doc and Example is made on the thread that trains."""
    from spacy_cvt import unlabeled

    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i} of text\n" for i in range(200)), encoding="utf-8")
    nlp = spacy.blank("en")
    threads = set()

    def recorded(make):
        def call(*args, **kwargs):
            threads.add(threading.get_ident())
            return make(*args, **kwargs)

        return call

    nlp.tokenizer = recorded(nlp.tokenizer)
    monkeypatch.setattr(unlabeled, "Doc", recorded(unlabeled.Doc))
    monkeypatch.setattr(unlabeled, "Example", recorded(unlabeled.Example))
    for corpus in (PlainTextCorpus(path), PretokenizedTextCorpus(path)):
        stream = unlabeled_batches(corpus, nlp, batch_size=5, shuffle_window=20, seed=0, corpus_name="x")
        batches = list(itertools.islice(stream, 60))  # 300 docs: windows read ahead, and a second pass
        assert sum(len(batch) for batch in batches) == 300
    assert threads == {threading.get_ident()}


def test_a_corpus_of_docs_is_read_on_the_training_thread(nlp):
    """Another reader's Examples (e.g. spacy.Corpus.v1 reading a DocBin) are made on the Vocab too."""
    threads = set()

    def corpus(nlp):
        for i in range(30):
            threads.add(threading.get_ident())
            doc = Doc(nlp.vocab, words=[f"w{i}"] * (i % 4 + 1))
            yield Example(doc, doc.copy())

    stream = unlabeled_batches(corpus, nlp, batch_size=4, shuffle_window=10, seed=0, corpus_name="x")
    assert sum(len(batch) for batch in itertools.islice(stream, 12)) == 40
    assert threads == {threading.get_ident()}


# What the readers gave before Docs moved off the read-ahead thread (120 batches with seed 7, a
# digest of their tokens, and how many docs): the same config and data must give the same
# batches, or recorded results would no longer follow from their configs.
RECORDED_BATCHES = {
    PlainTextCorpus: ("054ae5eae89ef16ae0ff3d82f56c8039aa20c98ae87142db9bf45eed9dd7d837", 1683),
    PretokenizedTextCorpus: ("bb5eed96d4accd4a37a6c77369da7af65bb341c4240ec24c135ebbd924756315", 1660),
}


@pytest.mark.parametrize("corpus_class", list(RECORDED_BATCHES))
def test_the_same_seed_gives_the_recorded_batches(unlabeled_text_file, nlp, corpus_class):
    """Several passes over 300 lines, long ones cut in pieces of 12 tokens."""
    corpus = corpus_class(unlabeled_text_file, max_length=12, limit=300)
    stream = unlabeled_batches(corpus, nlp, batch_size=16, shuffle_window=100, seed=7, corpus_name="x")
    batches = [[[token.text for token in eg.predicted] for eg in batch] for batch in itertools.islice(stream, 120)]
    digest = hashlib.sha256(repr(batches).encode()).hexdigest()
    assert (digest, sum(len(batch) for batch in batches)) == RECORDED_BATCHES[corpus_class]


def test_the_reading_thread_stops_when_the_stream_is_dropped(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(100)), encoding="utf-8")
    stream = unlabeled_batches(PlainTextCorpus(path), nlp, batch_size=5, shuffle_window=10, seed=0, corpus_name="dropped")
    next(stream)
    reading = lambda: any("'dropped'" in thread.name for thread in threading.enumerate())  # noqa: E731
    assert reading()
    del stream
    gc.collect()
    assert wait_for(lambda: not reading())


def test_the_reader_class_keeps_its_earlier_name():
    """PlainTextCorpus was RawTextCorpus before 2026-12 (issue 46): code that imports it still runs."""
    import spacy_cvt
    from spacy_cvt.unlabeled import RawTextCorpus

    assert RawTextCorpus is PlainTextCorpus is spacy_cvt.RawTextCorpus is spacy_cvt.PlainTextCorpus
