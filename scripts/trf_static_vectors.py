"""GloVe rows extended with static vectors distilled from a transformer, as word2vec text.

What a transformer knows about a word can reach the BiLSTM at no cost at prediction time if
it is frozen into the word's vector (Bommasani et al. 2020, "Interpreting Pretrained
Contextualized Representations via Reductions to Static Embeddings"): each GloVe word gets
the mean of the transformer's layer-``layer`` states over its occurrences in the raw text
(a word's state is the mean of its word pieces); a word the text never shows is encoded
alone. The states are centred, reduced by PCA to ``dims`` columns and scaled to GloVe's
spread, then appended to the word's GloVe vector. The transformer runs once, here; the
tagger only looks the vectors up, so it tags as fast as with GloVe alone.

    python scripts/trf_static_vectors.py corpus/trf_vectors.txt --raw corpus/unlabeled.txt \\
        --transformer assets/transformer --max-rows 100000
    python -m spacy init vectors en corpus/trf_vectors.txt corpus/trf_vectors
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np
import typer

from make_glove_vectors import glove_data_dir, load_glove, with_cased_variants, write_word2vec


def read_sentences(path: Union[str, Path], max_words: int) -> List[List[str]]:
    """The raw text as CVT's raw-text reader gives it to the tagger (RawTextCorpus: spaCy
    English tokens, files or folders, .gz, long lines split into pieces), up to ``max_words``
    words: the transformer reads the same words the tagger will look up."""
    import spacy
    from spacy_cvt.unlabeled import RawTextCorpus

    sentences, n_words = [], 0
    for doc in RawTextCorpus(path).docs(spacy.blank("en")):
        sentences.append([token.text for token in doc])
        n_words += len(doc)
        if n_words >= max_words:
            break
    return sentences


def word_states(encoder, tokenizer, sentences: Sequence[Sequence[str]], layer: int) -> Iterable[Tuple[str, np.ndarray]]:
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


def static_states(words: Sequence[str], sentences: List[List[str]], encoder, tokenizer, layer: int,
                  batch_size: int) -> Tuple[np.ndarray, int]:
    """One state per entry of ``words`` (lower-case, like GloVe): the mean over its
    occurrences in ``sentences`` (matched lower-cased), else the word encoded alone.
    Returns (states, how many words the text showed)."""
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
    n_seen = int((counts > 0).sum())
    unseen = np.flatnonzero(counts == 0)
    for start in range(0, len(unseen), 8 * batch_size):
        rows = unseen[start:start + 8 * batch_size]
        for i, (_, state) in zip(rows, word_states(encoder, tokenizer, [[words[i]] for i in rows], layer)):
            sums[i], counts[i] = state, 1
    return (sums / counts[:, None]).astype(np.float32), n_seen


def reduce(states: np.ndarray, dims: int, spread: float, fit_rows: int = 20000) -> np.ndarray:
    """Centre, project on the first ``dims`` principal axes of the ``fit_rows`` most frequent
    words, and scale so the columns' overall standard deviation is ``spread``."""
    centred = states - states.mean(axis=0)
    _, _, axes = np.linalg.svd(centred[:fit_rows], full_matrices=False)
    reduced = centred @ axes[:dims].T
    return (reduced * (spread / reduced.std())).astype(np.float32)


def load_encoder(transformer: str):
    """(encoder, tokenizer): a Hugging Face model folder or hub name, or a spaCy pipeline with a
    spacy-transformers component (such as the project's `training/TASK/trf/seed0/model-best`),
    whose weights were fine-tuned on the task: vectors that carry what it learned there."""
    if (Path(transformer) / "config.cfg").exists():
        import spacy

        nlp = spacy.load(transformer)
        names = [name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory == "transformer"]
        if not names:
            raise typer.BadParameter(
                f"{transformer} is a spaCy pipeline without a spacy-transformers component "
                f"(it has {nlp.pipe_names}); give a pipeline trained with configs/trf_*.cfg or a "
                "Hugging Face model folder.", param_hint="--transformer")
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


def main(
    output: Path = typer.Argument(..., help="word2vec text file to write (.gz for gzip)."),
    raw: str = typer.Option(..., help="Raw text, one sentence or paragraph a line (the `unlabeled` command's output): a file, a folder of such files or a glob, as [paths] raw takes."),
    transformer: str = typer.Option(..., help="A local Hugging Face model folder (or a hub name with internet), or a spaCy pipeline with a transformer component: its fine-tuned weights."),
    max_rows: int = typer.Option(100000, help="GloVe rows to keep (most frequent first)."),
    max_words: int = typer.Option(300000, help="Words of raw text the transformer reads."),
    dims: int = typer.Option(64, help="Transformer columns appended to GloVe's 50."),
    layer: int = typer.Option(2, help="Hidden layer to read (0: the embeddings, -1: the last)."),
    batch_size: int = typer.Option(64, help="Sentences per transformer batch."),
    gpu_id: int = typer.Option(-1, help="GPU the transformer runs on (-1: the CPU)."),
) -> None:
    """Write GloVe 6B 50d + `dims` transformer columns for `spacy init vectors`."""
    from spacy_cvt.unlabeled import text_files

    try:
        text_files(raw, "--raw")
    except (FileNotFoundError, ValueError):
        raise typer.BadParameter(f"'{raw}' is no file, folder of files or glob that matches files; "
                                 "run `spacy project run unlabeled` first.", param_hint="--raw") from None
    device = encoder_device(gpu_id)
    start = time.perf_counter()
    encoder, tokenizer = load_encoder(transformer)
    encoder.to(device)
    n_layers = encoder.config.num_hidden_layers
    if not -1 <= layer <= n_layers:
        raise typer.BadParameter(f"{transformer} has layers 0-{n_layers} (-1: the last), not {layer}.", param_hint="--layer")
    layer = n_layers if layer == -1 else layer
    words, glove = load_glove(glove_data_dir(), max_rows)
    sentences = read_sentences(raw, max_words)
    states, n_seen = static_states(words, sentences, encoder, tokenizer, layer, batch_size)
    table = np.concatenate([glove, reduce(states, dims, float(glove.std()))], axis=1)
    write_word2vec(with_cased_variants(words), table, output)
    print(f"{output}: {len(words)} words x {table.shape[1]} ({glove.shape[1]} GloVe + {dims} from layer {layer}); "
          f"{n_seen} of them seen in {sum(map(len, sentences))} words of {raw}, the rest encoded alone; "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    typer.run(main)
