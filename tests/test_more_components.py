"""cvt_chunker and cvt_tagger(attr="pos") end to end, and what model-best holds."""

import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example, biluo_tags_to_spans, iob_to_biluo
from thinc.api import fix_random_seed

from spacy_cvt.model import torch_network

from .conftest import data_file, make_nlp, ner_examples, run_python


def chunk_examples(nlp, sentences):
    examples = []
    for sentence in sentences:
        reference = Doc(nlp.vocab, words=[columns[0] for columns in sentence])
        reference.spans["chunks"] = biluo_tags_to_spans(reference, iob_to_biluo([c[2] for c in sentence]))
        examples.append(Example(Doc(nlp.vocab, words=[t.text for t in reference]), reference))
    return examples


def upos_examples(nlp, limit):
    """UD English EWT sentences with token.pos_ (UPOS) as gold; multiword and empty nodes skipped."""
    examples, words, tags = [], [], []
    for line in data_file("ud_english_ewt", "en_ewt-ud-train.conllu").open(encoding="utf-8"):
        if line.startswith("#"):
            continue
        if not line.strip():
            if words:
                reference = Doc(nlp.vocab, words=words, pos=tags)
                examples.append(Example(Doc(nlp.vocab, words=words), reference))
                words, tags = [], []
                if len(examples) == limit:
                    break
            continue
        columns = line.split("\t")
        if columns[0].isdigit():
            words.append(columns[1])
            tags.append(columns[3])
    return examples


def losses_over(nlp, examples, epochs):
    fix_random_seed(0)  # the weights' initialization and dropout: the same run every time
    optimizer = nlp.initialize(lambda: examples)
    name = nlp.pipe_names[0]
    history = []
    for _ in range(epochs):
        losses = {}
        for start in range(0, len(examples), 16):
            nlp.update(examples[start : start + 16], sgd=optimizer, losses=losses)
        history.append(losses[name])
    return history


@pytest.mark.slow
def test_cvt_chunker_trains_saves_and_loads(conll2000_train, unlabeled_text_file, tmp_path):
    nlp = make_nlp("cvt_chunker", unlabeled_text_file, unlabeled_batch_size=16)
    examples = chunk_examples(nlp, conll2000_train[:160])
    history = losses_over(nlp, examples, epochs=4)
    scores = nlp.evaluate(examples[:80])
    assert history == sorted(history, reverse=True)  # the loss falls every epoch
    assert scores["spans_chunks_f"] > 0.1  # 40 tiny steps; an untrained chunker scores about 0
    nlp.to_disk(tmp_path / "chunker")
    texts = [" ".join(c[0] for c in sentence) for sentence in conll2000_train[160:170]]
    here = [[(s.start, s.end, s.label_) for s in doc.spans["chunks"]] for doc in nlp.pipe(texts)]
    script = (
        "import json, sys, spacy\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "print(json.dumps([[(s.start, s.end, s.label_) for s in d.spans['chunks']] "
        "for d in nlp.pipe(json.loads(sys.argv[2]))]))\n"
    )
    import json

    loaded = json.loads(run_python(["-c", script, str(tmp_path / "chunker"), json.dumps(texts)]).stdout)
    assert [[tuple(span) for span in doc] for doc in loaded] == here and any(here)


def test_cvt_tagger_with_attr_pos_writes_token_pos(tmp_path):
    nlp = make_nlp("cvt_tagger", attr="pos", unlabeled_steps=0)
    examples = upos_examples(nlp, 160)
    history = losses_over(nlp, examples, epochs=3)
    scores = nlp.evaluate(examples[:80])
    assert history == sorted(history, reverse=True)  # the loss falls every epoch
    assert "pos_acc" in scores and "tag_acc" not in scores
    doc = nlp("The cat sat on the mat .")
    assert all(token.pos_ for token in doc) and not any(token.tag_ for token in doc)
    assert set(nlp.get_pipe("cvt_tagger").labels) <= set(spacy.parts_of_speech.IDS)


def test_model_best_holds_the_averaged_weights(wnut_sentences, tmp_path):
    """spaCy saves model-best inside nlp.use_params(optimizer.averages): those are what load."""
    nlp = make_nlp("cvt_ner", unlabeled_steps=0)
    nlp.config["training"]["optimizer"]["use_averages"] = True
    examples = ner_examples(nlp, wnut_sentences[:32])
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(3):
        nlp.update(examples[:16], sgd=optimizer)
    network = torch_network(nlp.get_pipe("cvt_ner").model)
    current = {k: v.clone() for k, v in network.state_dict().items()}
    with nlp.use_params(optimizer.averages):
        averaged = {k: v.clone() for k, v in network.state_dict().items()}
        nlp.to_disk(tmp_path / "model-best")
    loaded = torch_network(spacy.load(tmp_path / "model-best").get_pipe("cvt_ner").model).state_dict()
    assert all(torch.equal(loaded[k], averaged[k]) for k in averaged)
    assert not all(torch.equal(loaded[k], current[k]) for k in current)
