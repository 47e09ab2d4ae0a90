"""The settings objects: each setting stated once, flat in configs, validated by spaCy."""

import dataclasses

import pytest
import spacy
from thinc.api import ConfigValidationError

from spacy_cvt.model.model_settings import ModelSettings
from spacy_cvt.pipeline.component_settings import CVTSettings

FACTORIES = ["cvt_ner", "cvt_tagger", "cvt_chunker"]


@pytest.mark.parametrize("factory", FACTORIES)
def test_every_factory_takes_the_shared_settings_as_flat_keys_with_one_set_of_defaults(factory):
    nlp = spacy.blank("en")
    component = nlp.add_pipe(factory, config={"unlabeled_steps": 3, "model": {"hidden_size1": 64}})
    block = nlp.config["components"][factory]
    defaults = dataclasses.asdict(CVTSettings())
    assert {key: block[key] for key in defaults} == {**defaults, "unlabeled_steps": 3}
    # store_distributions is an attribute, not cfg: the saved cfg must not override the config at load
    store_distributions = defaults.pop("store_distributions")
    assert {key: component.cfg[key] for key in defaults} == {**defaults, "unlabeled_steps": 3}
    assert "store_distributions" not in component.cfg and component.store_distributions is store_distributions
    model_defaults = dataclasses.asdict(ModelSettings())
    assert {key: block["model"][key] for key in model_defaults} == {**model_defaults, "hidden_size1": 64}
    assert component.model.attrs["settings"] == ModelSettings(hidden_size1=64)


@pytest.mark.parametrize(
    "config, message",
    [
        ({"unlabeled_stepz": 1}, "unlabeled_stepz"),
        ({"unlabeled_dropout": "high"}, "unlabeled_dropout"),
        ({"model": {"hidden_sise1": 8}}, "hidden_sise1"),
    ],
)
def test_unknown_or_mistyped_settings_fail_naming_the_key(config, message):
    with pytest.raises(ConfigValidationError, match=message):
        spacy.blank("en").add_pipe("cvt_ner", config=config)


def test_model_settings_refuse_too_few_char_rows():
    with pytest.raises(ValueError, match="n_chars must be above 256"):
        spacy.blank("en").add_pipe("cvt_ner", config={"model": {"n_chars": 100}})
