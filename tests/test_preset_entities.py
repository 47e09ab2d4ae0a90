"""cvt_ner keeps entities already on the doc (an entity_ruler's) and predicts around them."""

import numpy
import pytest
from spacy.tokens import Span

from .conftest import make_nlp, ner_examples


@pytest.fixture(scope="module")
def trained_labels_nlp(wnut_sentences):
    nlp = make_nlp(unlabeled_steps=0)
    nlp.initialize(lambda: ner_examples(nlp, wnut_sentences[:50]))
    return nlp


def person_everywhere(component, n_tokens: int) -> numpy.ndarray:
    """Log probabilities under which every token alone is a U-person entity."""
    log_probs = numpy.full((n_tokens, len(component.tag_names)), -10.0)
    log_probs[:, component.tag_names.index("U-person")] = 0.0
    return log_probs


def test_preset_tokens_are_decoded_as_outside_and_the_rest_around_them(trained_labels_nlp):
    component = trained_labels_nlp.get_pipe("cvt_ner")
    doc = trained_labels_nlp.make_doc("Barack Obama met Ada in Paris")
    doc.ents = [Span(doc, 0, 2, label="PERSON")]
    tags = [component.tag_names[i] for i in component.decode(doc, person_everywhere(component, len(doc)))]
    assert tags == ["O", "O", "U-person", "U-person", "U-person", "U-person"]
    component.write(doc, tags)
    assert [(ent.text, ent.label_) for ent in doc.ents] == [
        ("Barack Obama", "PERSON"), ("met", "person"), ("Ada", "person"), ("in", "person"), ("Paris", "person"),
    ]


def test_overwrite_ents_decodes_every_token(trained_labels_nlp):
    component = trained_labels_nlp.get_pipe("cvt_ner")
    doc = trained_labels_nlp.make_doc("Barack Obama met Ada")
    doc.ents = [Span(doc, 0, 2, label="PERSON")]
    component.overwrite_ents = True
    try:
        tags = [component.tag_names[i] for i in component.decode(doc, person_everywhere(component, len(doc)))]
        component.write(doc, tags)
    finally:
        component.overwrite_ents = False
    assert [(ent.text, ent.label_) for ent in doc.ents] == [(w, "person") for w in ("Barack", "Obama", "met", "Ada")]


def test_entity_ruler_before_cvt_ner(wnut_sentences):
    """The documented pattern: rules first, the statistical model fills in the rest.

    outside_weight 0 makes cvt_ner put every token it decodes in an entity, so what it fills in
    is known: all the tokens the ruler left, and with overwrite_ents all of them.
    """
    texts = ["Barack Obama is visiting Seattle with Michelle today", "new iphone from apple in London"]
    results = {}
    for overwrite in (False, True):
        nlp = make_nlp(unlabeled_steps=0, overwrite_ents=overwrite, outside_weight=0.0)
        ruler = nlp.add_pipe("entity_ruler", before="cvt_ner")
        nlp.initialize(lambda: ner_examples(nlp, wnut_sentences[:50]))
        ruler.add_patterns([{"label": "PERSON", "pattern": "Barack Obama"}])  # initialize clears them
        results[overwrite] = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
        without_ruler = [[(e.start, e.end, e.label_) for e in nlp.get_pipe("cvt_ner")(nlp.make_doc(t)).ents]
                         for t in texts]
    n_tokens = [len(nlp.make_doc(text)) for text in texts]
    kept = results[False]
    assert kept[0][0] == (0, 2, "PERSON") and "PERSON" not in [label for _, _, label in kept[0][1:] + kept[1]]
    assert [covered(ents) for ents in kept] == [list(range(n)) for n in n_tokens]  # the model filled in the rest
    assert results[True] == without_ruler and "PERSON" not in str(results[True])
    assert [covered(ents) for ents in results[True]] == [list(range(n)) for n in n_tokens]


def covered(entities):
    """The token positions the entities cover, in order (a token in two would show twice)."""
    return [position for start, end, _ in entities for position in range(start, end)]


def test_overwrite_ents_round_trips_through_the_config(tmp_path, wnut_sentences):
    import spacy

    nlp = make_nlp(unlabeled_steps=0, overwrite_ents=True)
    nlp.initialize(lambda: ner_examples(nlp, wnut_sentences[:20]))
    nlp.to_disk(tmp_path)
    assert spacy.load(tmp_path).get_pipe("cvt_ner").overwrite_ents is True
    loaded = spacy.load(tmp_path, config={"components": {"cvt_ner": {"overwrite_ents": False}}})
    assert loaded.get_pipe("cvt_ner").overwrite_ents is False
