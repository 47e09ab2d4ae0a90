"""nlp.pipe(..., n_process=2) and `spacy apply --n-process 2` finish, with one process's results.

Each run is a fresh process under a timeout, so a hang fails the test instead of blocking CI.
The parent runs the pipeline once before forking: that is what made forked children hang
(torch's OpenMP pool is not usable in a child forked after it ran).

The pipeline is saved with outside_weight 0, so its output is known in part: every token is in
an entity (and which entities, with which labels, is the model's). A model that predicts nothing
would make one process's results and two processes' trivially equal.
"""

import json
import os
import signal
import subprocess
import sys

import pytest
import srsly

from .conftest import make_nlp, ner_examples

pytestmark = pytest.mark.slow  # every test runs fresh processes (and forks or spawns from them)

TEXTS = [
    "Watching Game of Thrones in Belfast with Emilia",
    "new iphone from apple in London today",
    "Barack Obama and Michelle visit Seattle",
    "@user check out the new Star Wars trailer",
] * 8

PIPE_SCRIPT = """
import multiprocessing, sys, json, spacy
multiprocessing.set_start_method(sys.argv[2], force=True)
if __name__ == "__main__":
    nlp = spacy.load(sys.argv[1])
    texts = json.loads(sys.argv[3])
    one = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=4)]
    two = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=4, n_process=2)]
    print(json.dumps({"one": one, "two": two}))
"""


def every_token_in_an_entity(entities, texts) -> bool:
    """What outside_weight 0 decodes: each doc's entities cover all its tokens, one after another."""
    import spacy

    tokenizer = spacy.blank("en").tokenizer
    return all(
        [start for start, _, _ in ents] == [0] + [end for _, end, _ in ents[:-1]] and ents[-1][1] == len(tokenizer(text))
        for ents, text in zip(entities, texts)
    )


def run_or_fail(args, timeout: int) -> str:
    """Run in a new process group; on timeout kill the group (workers too) and fail."""
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"{' '.join(args[:4])} ... did not finish in {timeout} s: it hangs")
    assert process.returncode == 0, stderr[-3000:]
    return stdout


@pytest.fixture(scope="module")
def pipeline_path(tmp_path_factory, wnut_sentences, unlabeled_text_file):
    nlp = make_nlp(unlabeled_path=unlabeled_text_file, unlabeled_batch_size=8, outside_weight=0.0)
    examples = ner_examples(nlp, wnut_sentences[:64])
    optimizer = nlp.initialize(lambda: examples)
    for start in range(0, 64, 16):
        nlp.update(examples[start : start + 16], sgd=optimizer)
    path = tmp_path_factory.mktemp("pipeline") / "cvt"
    nlp.to_disk(path)
    return path


@pytest.mark.parametrize("start_method,timeout", [("fork", 90), ("spawn", 300)])
def test_pipe_with_two_processes_matches_one(pipeline_path, tmp_path, start_method, timeout):
    script = tmp_path / "pipe.py"
    script.write_text(PIPE_SCRIPT, encoding="utf-8")
    stdout = run_or_fail([sys.executable, str(script), str(pipeline_path), start_method, json.dumps(TEXTS)], timeout)
    results = json.loads(stdout.strip().splitlines()[-1])
    assert every_token_in_an_entity(results["one"], TEXTS)
    assert results["two"] == results["one"]


def test_spacy_apply_with_two_processes_matches_one(pipeline_path, tmp_path):
    import spacy
    from spacy.tokens import DocBin

    data = tmp_path / "texts.jsonl"
    srsly.write_jsonl(data, [{"text": text} for text in TEXTS])
    entities = {}
    for n_process in (1, 2):
        output = tmp_path / f"out{n_process}.spacy"
        run_or_fail([sys.executable, "-m", "spacy", "apply", str(pipeline_path), str(data), str(output),
                     "--n-process", str(n_process), "--batch-size", "4"], 180)

        docs = DocBin().from_disk(output).get_docs(spacy.blank("en").vocab)
        entities[n_process] = sorted((doc.text, [(e.start, e.end, e.label_) for e in doc.ents]) for doc in docs)
    texts, ents = zip(*entities[1])
    assert sorted(texts) == sorted(TEXTS) and every_token_in_an_entity(ents, texts)
    assert entities[2] == entities[1]
