"""`python -m spacy cvt-distill`: a trained pipeline (the teacher) in, a small CVT tagger that
learns what it sets (the student) out, in one command.

Distillation (Tang et al. 2019; the project's `teacher` workflow) is a chain of steps, each
written into OUTPUT_DIR and each an importable function, so a project can run and record
them one by one:

    teacher_vectors  teacher_vectors/      static vectors from the teacher's transformer (if it has one)
    transfer_set     transfer.spacy        TRAIN's and UNLABELED's sentences, each with --copies rewrites (cvt-augment)
    annotate         teacher_corpus.spacy  the transfer set annotated by the teacher (as `spacy apply`)
    train_student    training/             spacy train with the student config, reading the teacher corpus
    finish_student   student/              model-best, its decoding tuned on DEV (span heads: cvt-tune-decoding)
    compare          distill.json          teacher and student side by side: dev score, words/s, size

The teacher's vectors come first because the rewrites swap words for their neighbours in
them. A step whose output is there is skipped, so an interrupted run resumes; each writes to
NAME.partial and renames it when done, so a half-written output never counts. Once a step
runs, every later step runs too: their outputs were made from the old one. Delete a step's
output to redo it (and what follows).

Like spaCy's own `spacy distill` (v4): the teacher first, the output last, config overrides
as extra `--section.key value` arguments. The student's config is shipped in this package
(student_ner.cfg, student_tagger.cfg, student_chunker.cfg), or --config.
"""
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import srsly
import typer
from spacy.cli._util import Arg, Opt, app, parse_config_overrides
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from wasabi import Printer

from .heads import Head, parse_head

CONFIGS = {factory: Path(__file__).with_name(f"student_{head}.cfg")
           for factory, head in (("cvt_ner", "ner"), ("cvt_tagger", "tagger"), ("cvt_chunker", "chunker"))}
STEPS = ("teacher_vectors", "transfer.spacy", "teacher_corpus.spacy", "training", "student", "distill.json")


class Distilled(NamedTuple):
    """What `distill` did: the output folder, the head the student learned, the steps that ran
    (the others were there already), and the side-by-side comparison (distill.json)."""

    output: Path
    head: Head
    ran: List[str]
    comparison: Dict[str, Any]


@app.command("cvt-distill", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def distill_cli(
    # fmt: off
    ctx: typer.Context,
    teacher: str = Arg(..., help="The trained teacher pipeline: a folder or an installed package (spacy-transformers, ner, tagger, entity_ruler, CVT ...)."),
    train: Path = Arg(..., help="Gold training data (.spacy or a folder of them), annotated as the teacher annotates.", exists=True),
    dev: Path = Arg(..., help="Gold dev data (.spacy or a folder of them): decoding is tuned and both pipelines scored on it.", exists=True),
    unlabeled: str = Arg(..., help="Unlabeled text for the transfer set: .txt (one text a line; a folder, glob or .gz as [paths] unlabeled takes), .jsonl of {\"text\": ...} or .spacy."),
    output: Path = Arg(..., help="Folder for every step's output; a rerun resumes after the finished steps.", file_okay=False),
    config: Optional[Path] = Opt(None, "--config", "-c", help="The student's config (default: the one shipped for the head, student_ner.cfg ...).", exists=True, dir_okay=False),
    head: Optional[str] = Opt(None, "--head", help="What the student learns, where the teacher sets several: ents, tag, pos or spans:KEY."),
    vectors: Optional[Path] = Opt(None, "--vectors", help="Word vectors (a spaCy pipeline) for the student and the rewrites' swaps (default: built from the teacher's transformer, if it has one)."),
    copies: int = Opt(4, "--copies", min=0, help="Rewrites tried per sentence of the transfer set."),
    max_words: int = Opt(300000, "--max-words", min=1, help="Words of UNLABELED read (transfer set and teacher vectors)."),
    vector_rows: int = Opt(100000, "--vector-rows", min=1, help="GloVe rows the teacher's vectors keep."),
    batch_size: int = Opt(128, "--batch-size", min=1, help="Docs per batch when the teacher annotates and when speed is measured."),
    trials: int = Opt(21, "--trials", min=2, help="outside_weight values a span student's decoding tries on DEV (cvt-tune-decoding)."),
    gpu_id: int = Opt(-1, "--gpu-id", "-g", help="GPU to run on (-1: the CPU)."),
    # fmt: on
):
    """
    Distill a trained pipeline into a small CVT tagger: build a transfer set (TRAIN and
    UNLABELED, augmented), annotate it with the teacher, train the student on it with Cross-View
    Training, tune its decoding on DEV, and show teacher and student side by side. Finished
    steps in OUTPUT_DIR are skipped. Config overrides: e.g. --training.max_steps 800.
    """
    distill(teacher, train, dev, unlabeled, output, config=config, overrides=parse_config_overrides(ctx.args),
            head=parse_head(head) if head else None, vectors=vectors, copies=copies, max_words=max_words,
            vector_rows=vector_rows, batch_size=batch_size, trials=trials, gpu_id=gpu_id, silent=False)


def distill(
    teacher: Union[str, Path],
    train: Path,
    dev: Path,
    unlabeled: Union[str, Path],
    output: Path,
    *,
    config: Optional[Path] = None,
    overrides: Optional[Dict[str, Any]] = None,
    head: Optional[Head] = None,
    vectors: Optional[Path] = None,
    copies: int = 4,
    max_words: int = 300000,
    vector_rows: int = 100000,
    batch_size: int = 128,
    trials: int = 21,
    gpu_id: int = -1,
    silent: bool = True,
) -> Distilled:
    """Run the steps that OUTPUT_DIR lacks (and every step after one that runs); see the
    module's docstring. Every input is checked before the first step, so a bad one fails in
    seconds, not after the teacher has annotated for an hour.

    Raises typer.BadParameter, naming the argument, for a teacher that cannot be loaded or
    sets nothing a CVT head learns, TRAIN or DEV without its annotation, UNLABELED that matches
    no file, or a --config without the student's component (or its [paths] teacher_corpus).
    """
    from spacy.cli._util import setup_gpu

    from .heads import require_annotation, teacher_head

    msg = Printer(no_print=silent)
    setup_gpu(gpu_id, silent=silent)
    nlp = load_teacher(teacher)
    head = teacher_head(nlp, str(teacher), head)
    msg.info(f"The student learns {head.name} (set by the teacher's '{head.component}'), scored as {head.score_key}")
    for path, param in ((train, "TRAIN"), (dev, "DEV")):
        require_annotation(head, gold_docs(path, param, nlp), str(path), param)
    check_unlabeled(unlabeled)
    student_path = config or CONFIGS[head.factory]
    student_component(load_config(student_path), head, student_path)
    has_trf = transformer_component(nlp) is not None
    own_vectors = output / "teacher_vectors" if vectors is None and has_trf else None
    student_vectors = vectors or own_vectors
    swap_vectors = student_vectors or (Path(str(teacher)) if nlp.vocab.vectors.shape[0] else None)
    steps: List[Tuple[str, Path, Callable[[Path], Any]]] = [
        ("transfer set", output / "transfer.spacy",
         lambda out: transfer_set(train, unlabeled, out, vectors=swap_vectors, copies=copies, max_words=max_words, silent=silent)),
        ("annotate", output / "teacher_corpus.spacy",
         lambda out: annotate(nlp, output / "transfer.spacy", out, batch_size=batch_size, silent=silent)),
        ("train", output / "training",
         lambda out: train_student(student_config(
             head, sorted(set(teacher_labels(nlp, head)) | labels_in(head, [output / "teacher_corpus.spacy", train], nlp)),
             train=train, dev=dev, teacher_corpus=output / "teacher_corpus.spacy", vectors=student_vectors, config=config),
             out, overrides=overrides or {}, gpu_id=gpu_id)),
        ("tune", output / "student",
         lambda out: finish_student(output / "training" / "model-best", dev, out, head, trials=trials, gpu_id=gpu_id)),
        ("compare", output / "distill.json",
         lambda out: compare(nlp, teacher, output / "student", dev, head, out, batch_size=batch_size)),
    ]
    if own_vectors is not None:
        steps.insert(0, ("teacher vectors", own_vectors,
                         lambda out: teacher_vectors(teacher, unlabeled, out, max_rows=vector_rows, max_words=max_words,
                                                     gpu_id=gpu_id, silent=silent)))
    output.mkdir(parents=True, exist_ok=True)
    ran = run_steps(steps, msg)
    comparison = srsly.read_json(output / "distill.json")
    msg.table(comparison_rows(comparison), header=("", "teacher", "student"), divider=True, aligns=("l", "r", "r"))
    msg.good(f"The student: {output / 'student'} (python -m spacy evaluate/apply/package it)")
    return Distilled(output, head, ran, comparison)


@contextmanager
def finished(output: Path) -> Iterator[Path]:
    """A scratch path beside ``output``, renamed to ``output`` when the block ends without
    error: a step that fails or is killed never leaves an output a rerun would take as done."""
    scratch = output.with_name(output.name + ".partial")
    remove(scratch)
    yield scratch
    remove(output)
    os.replace(scratch, output)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def run_steps(steps: Sequence[Tuple[str, Path, Callable[[Path], Any]]], msg: Printer) -> List[str]:
    """Run each step whose output is missing, and every step after one that ran. The names of
    those that ran."""
    ran: List[str] = []
    for name, output, build in steps:
        if output.exists() and not ran:
            msg.info(f"{name}: {output} is there, skipped (delete it to redo this step and the ones after it)")
            continue
        msg.divider(f"{name} -> {output}")
        with finished(output) as scratch:
            build(scratch)
        ran.append(name)
    return ran


def load_teacher(teacher: Union[str, Path]) -> Language:
    """The teacher pipeline, or a usage error naming it."""
    import spacy

    try:
        return spacy.load(teacher)
    except (OSError, ValueError) as error:
        raise typer.BadParameter(f"cannot load '{teacher}' as a spaCy pipeline ({str(error)[:200]}); give a "
                                 "trained pipeline's folder (e.g. training/model-best) or an installed package.",
                                 param_hint="TEACHER_MODEL") from None


def transformer_component(nlp: Language) -> Optional[str]:
    """The teacher's spacy-transformers component, if it has one."""
    return next((name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory == "transformer"), None)


def gold_docs(path: Path, param: str, nlp: Language) -> Iterator[Doc]:
    """The reference docs of a .spacy file or a folder of them, as spacy train reads them."""
    from spacy.training import Corpus

    if not Path(path).exists():
        raise typer.BadParameter(f"'{path}' does not exist; give a .spacy file or a folder of them "
                                 "(`python -m spacy convert` writes them).", param_hint=param)
    return (example.reference for example in Corpus(path, gold_preproc=True)(nlp))


def check_unlabeled(unlabeled: Union[str, Path]) -> None:
    """UNLABELED must name text: a .spacy or .jsonl file, or what the unlabeled-text reader reads."""
    from ..unlabeled import text_files

    try:
        text_files(unlabeled, "UNLABELED")
    except (FileNotFoundError, ValueError):
        raise typer.BadParameter(f"'{unlabeled}' is no file, folder of files or glob that matches files; give "
                                 "unlabeled text, one text a line (.txt, .gz), or .jsonl of {\"text\": ...} or .spacy.",
                                 param_hint="UNLABELED") from None


def unlabeled_docs(unlabeled: Union[str, Path], max_words: int, nlp: Language) -> List[Doc]:
    """The first ``max_words`` words of UNLABELED as docs: a .spacy file's, a .jsonl file's "text"
    lines, or text read as CVT's unlabeled-text reader reads it (files, folders, globs, .gz)."""
    from ..unlabeled import PlainTextCorpus
    from .augment import jsonl_text

    path = Path(str(unlabeled))
    if path.suffix == ".spacy":
        docs: Iterator[Doc] = DocBin().from_disk(path).get_docs(nlp.vocab)
    elif path.suffix == ".jsonl":
        docs = (nlp.make_doc(jsonl_text(line, path, i)) for i, line in enumerate(srsly.read_jsonl(path), 1))
    else:
        docs = PlainTextCorpus(unlabeled).docs(nlp)
    out, n_words = [], 0
    for doc in docs:
        if n_words >= max_words:
            break
        out.append(doc)
        n_words += len(doc)
    return out


def teacher_vectors(teacher: Union[str, Path], unlabeled: Union[str, Path], output: Path, *, max_rows: int = 100000,
                    max_words: int = 300000, gpu_id: int = -1, silent: bool = True) -> Path:
    """A spaCy pipeline of word vectors at ``output``: GloVe rows extended with the teacher's
    last transformer layer over UNLABELED (`cvt-trf-vectors --layer -1`, then `spacy init vectors`).
    The student looks them up: what the transformer learned, at no cost per word."""
    import spacy
    from spacy.training.initialize import convert_vectors

    from .trf_vectors import trf_vectors

    with tempfile.TemporaryDirectory(dir=output.parent) as scratch:
        text = Path(scratch) / "vectors.txt"
        trf_vectors(str(teacher), unlabeled, text, max_rows=max_rows, max_words=max_words, layer=-1, gpu_id=gpu_id,
                    silent=silent)
        nlp = spacy.blank("en")
        convert_vectors(nlp, text, truncate=0, prune=-1)
        nlp.to_disk(output)
    return output


def transfer_set(train: Path, unlabeled: Union[str, Path], output: Path, *, vectors: Optional[Path] = None,
                 copies: int = 4, max_words: int = 300000, seed: int = 0, silent: bool = True):
    """The sentences the teacher annotates (``output``, .spacy): TRAIN's and the first
    ``max_words`` words of UNLABELED, each with ``copies`` rewrites (`cvt-augment`; words swapped
    for neighbours in ``vectors``, or only masked and cut where there are none)."""
    import spacy

    from .augment import augment

    with tempfile.TemporaryDirectory(dir=output.parent) as scratch:
        sample = Path(scratch) / "unlabeled.spacy"
        DocBin(docs=unlabeled_docs(unlabeled, max_words, spacy.blank("en")), store_user_data=False).to_disk(sample)
        return augment([train, sample], output, vectors, copies=copies, seed=seed, silent=silent)


def annotate(nlp: Language, docs: Path, output: Path, *, batch_size: int = 128, silent: bool = True) -> int:
    """The teacher's annotation of ``docs`` (.spacy) written to ``output``, as `spacy apply`
    writes it, user data kept (a CVT teacher's stored distributions) but for a transformer's
    output, which the student never reads and which would make the file huge. Returns the
    number of docs."""
    from tqdm import tqdm

    inputs = list(DocBin().from_disk(docs).get_docs(nlp.vocab))
    out = DocBin(store_user_data=True)
    for doc in tqdm(nlp.pipe(inputs, batch_size=batch_size), total=len(inputs), disable=silent,
                    desc="teacher annotates", unit="doc"):
        out.add(without_transformer_output(doc))
    out.to_disk(output)
    return len(inputs)


def without_transformer_output(doc: Doc) -> Doc:
    """The doc without a spacy-transformers component's output in its user data, which a student
    never reads and which would make a teacher corpus huge; other user data (a CVT teacher's
    stored distributions) stays."""
    for key in [key for key in doc.user_data if isinstance(key, tuple) and key[1] == "trf_data"]:
        del doc.user_data[key]
    return doc


def teacher_labels(nlp: Language, head: Head) -> List[str]:
    """The labels the teacher's component declares, where they are the head's labels (a
    morphologizer's are feature strings, not POS)."""
    if head.kind == "pos" and nlp.get_pipe_meta(head.component).factory != "cvt_tagger":
        return []
    return list(nlp.pipe_labels.get(head.component, []))


def labels_in(head: Head, paths: Sequence[Path], nlp: Language) -> set:
    """Every label of the head's annotation in .spacy files (the teacher corpus and TRAIN): the
    student must know each, or the teacher corpus check at initialize stops training."""
    from spacy.training import Corpus

    from .heads import doc_labels

    return {label for path in paths for example in Corpus(path)(nlp) for label in doc_labels(head, example.reference)}


def load_config(path: Path):
    from spacy import util

    return util.load_config(path, interpolate=False)


def student_component(config, head: Head, path: Path) -> str:
    """The config's component that learns the head, which must read a teacher corpus from [paths]
    teacher_corpus (or its earlier name, silver: ``teacher_corpus_key``)."""
    names = [name for name, block in config["components"].items() if block.get("factory") == head.factory]
    if len(names) != 1 or teacher_corpus_key(config) is None:
        raise typer.BadParameter(
            f"'{path}' needs one {head.factory} component (it has {len(names)}) and [paths] teacher_corpus, the "
            f"teacher corpus it reads (it has {sorted(config['paths'])}); start from {CONFIGS[head.factory]}.",
            param_hint="--config")
    return names[0]


def teacher_corpus_key(config) -> Optional[str]:
    """The [paths] key of the teacher corpus: teacher_corpus, or in a student config written
    before 2026-12, its earlier name (``renamed.RENAMED_PATHS``); None if it has neither."""
    from ..renamed import RENAMED_PATHS

    earlier = [old for old, new in RENAMED_PATHS.items() if new == "teacher_corpus"]
    return next((key for key in ("teacher_corpus", *earlier) if key in config["paths"]), None)


def student_config(head: Head, labels: List[str], *, train: Path, dev: Path, teacher_corpus: Path,
                   vectors: Optional[Path], config: Optional[Path] = None):
    """The student's config, ready for spacy train: the shipped one for the head (or
    ``config``) with [paths] filled, the teacher's labels, and for a POS or spans student its
    attr or key and the score that selects model-best."""
    path = config or CONFIGS[head.factory]
    cfg = load_config(path)
    name = student_component(cfg, head, path)
    cfg["paths"].update({"train": str(train), "dev": str(dev), teacher_corpus_key(cfg): str(teacher_corpus),
                         "vectors": None if vectors is None else str(vectors)})
    weights = cfg["training"].setdefault("score_weights", {})
    if head.factory == "cvt_tagger":
        cfg["components"][name]["attr"] = head.kind
        weights.update({"tag_acc": 1.0 if head.kind == "tag" else None, "pos_acc": 1.0 if head.kind == "pos" else None})
    elif head.kind == "spans":
        cfg["components"][name]["spans_key"] = head.key
        weights.update({f"spans_chunks_{m}": None for m in "fpr"})
        weights.update({f"spans_{head.key}_f": 1.0, f"spans_{head.key}_p": 0.0, f"spans_{head.key}_r": 0.0})
    cfg["initialize"]["components"].setdefault(name, {})["labels"] = labels
    return cfg


def train_student(config, output: Path, *, overrides: Dict[str, Any], gpu_id: int = -1) -> Path:
    """spacy train (in this process) of ``config`` into ``output``: model-best and model-last,
    and the config as given (student.cfg), to rerun by hand."""
    from spacy.cli.train import train

    output.mkdir(parents=True, exist_ok=True)
    config.to_disk(output / "student.cfg")
    train(output / "student.cfg", output, use_gpu=gpu_id, overrides=overrides)
    return output


def finish_student(model_best: Path, dev: Path, output: Path, head: Head, *, trials: int = 21,
                   gpu_id: int = -1) -> Path:
    """The student to use, at ``output``: model-best, a span head's outside_weight tuned on DEV
    (`cvt-tune-decoding`); a tagger's as trained."""
    from .tune import tune_decoding

    if head.kind in ("ents", "spans"):
        tune_decoding(model_best, dev, output, score=head.score_key, trials=trials, gpu_id=gpu_id)
    else:
        shutil.copytree(model_best, output)
    return output


def compare(teacher: Language, teacher_path: Union[str, Path], student: Path, dev: Path, head: Head, output: Path,
            *, batch_size: int = 128) -> Dict[str, Any]:
    """Teacher and student on DEV, measured alike (``measure``, ``heads.score``), written to
    ``output`` (JSON)."""
    import spacy

    from .measure import size

    student_nlp = spacy.load(student)
    result = {"head": head.name, "score": head.score_key, "dev": str(dev),
              "teacher": {"path": str(teacher_path), **measured(teacher, dev, head, batch_size),
                          **size(teacher, teacher.path)._asdict()},
              "student": {"path": str(student), **measured(student_nlp, dev, head, batch_size),
                          **size(student_nlp, student)._asdict()}}
    srsly.write_json(output, result)
    return result


def measured(nlp: Language, dev: Path, head: Head, batch_size: int) -> Dict[str, float]:
    """The head's dev score and words/s of ``nlp`` over DEV's pre-tokenized docs."""
    from spacy.training import Corpus, Example

    from .heads import score
    from .measure import timed_pipe

    references = [example.reference for example in Corpus(dev, gold_preproc=True)(nlp)]
    inputs = [Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc]) for doc in references]
    predicted, words_per_second = timed_pipe(nlp, inputs, batch_size)
    return {"dev_score": score(head, [Example(p, r) for p, r in zip(predicted, references)]),
            "words_per_second": words_per_second}


def comparison_rows(comparison: Dict[str, Any]) -> List[Tuple[str, str, str]]:
    """distill.json as a table's rows."""
    teacher, student = comparison["teacher"], comparison["student"]

    def mb(side):
        return "-" if side["disk_bytes"] is None else f"{side['disk_bytes'] / 1e6:.1f}"

    return [(f"dev {comparison['score']}", f"{teacher['dev_score']:.4f}", f"{student['dev_score']:.4f}"),
            ("words/s", f"{teacher['words_per_second']:,.0f}", f"{student['words_per_second']:,.0f}"),
            ("parameters", f"{teacher['parameters']:,}", f"{student['parameters']:,}"),
            ("vector entries", f"{teacher['vectors']:,}", f"{student['vectors']:,}"),
            ("MB on disk", mb(teacher), mb(student))]
