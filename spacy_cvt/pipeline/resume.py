"""``spacy-cvt.resume_raw_text.v1``: sourced CVT components go on learning from raw text.

spaCy does not initialize a component taken from a trained pipeline with
``[components.NAME] source = "..."``: it resumes its training. So without this
callback such a component would open no raw-text stream and train supervised
only. Set it as the config's ``[initialize.after_init]``; it opens the stream of
every CVT component that was loaded rather than initialized and has an
``[initialize.components.NAME] unlabeled_corpus`` or ``teacher_corpus``, from where the earlier run
stopped (the component's saved ``raw_docs_seen``).
"""

from typing import Callable

from spacy.language import Language
from spacy.util import registry

from .base import CVTComponent


@registry.callbacks("spacy-cvt.resume_raw_text.v1")
def make_resume_raw_text() -> Callable[[Language], Language]:
    def resume_raw_text(nlp: Language) -> Language:
        settings = nlp.config["initialize"]["components"]
        for name, component in nlp.components:
            raw = settings.get(name, {}).get("unlabeled_corpus")
            silver = settings.get(name, {}).get("teacher_corpus")
            if isinstance(component, CVTComponent) and component.loaded_not_initialized and (raw or silver):
                component.resume_unlabeled(nlp, raw, silver)
        return nlp

    return resume_raw_text
