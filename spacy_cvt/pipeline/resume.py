"""``spacy-cvt.resume_unlabeled.v1``: sourced CVT components go on learning from unlabeled text.

spaCy does not initialize a component taken from a trained pipeline with
``[components.NAME] source = "..."``: it resumes its training. So without this
callback such a component would open no unlabeled stream and train supervised
only. Set it as the config's ``[initialize.after_init]``; it opens the stream of
every CVT component that was loaded rather than initialized and has an
``[initialize.components.NAME] unlabeled_corpus`` or ``teacher_corpus``, from where the earlier run
stopped (the component's saved ``unlabeled_docs_seen``).

``spacy-cvt.resume_raw_text.v1`` is its earlier name, still registered: the configs of pipelines
trained before the rename (and users' configs) name it.
"""

from typing import Callable

from spacy.language import Language
from spacy.util import registry

from .base import CVTComponent


@registry.callbacks("spacy-cvt.resume_unlabeled.v1")
def make_resume_unlabeled() -> Callable[[Language], Language]:
    def resume_unlabeled(nlp: Language) -> Language:
        settings = nlp.config["initialize"]["components"]
        for name, component in nlp.components:
            unlabeled = settings.get(name, {}).get("unlabeled_corpus")
            teacher = settings.get(name, {}).get("teacher_corpus")
            if isinstance(component, CVTComponent) and component.loaded_not_initialized and (unlabeled or teacher):
                component.resume_unlabeled(nlp, unlabeled, teacher)
        return nlp

    return resume_unlabeled


# the earlier name (before 2026-12, issue 46), which saved configs name, and the function an
# install made before then has its entry point name
registry.callbacks.register("spacy-cvt.resume_raw_text.v1", func=make_resume_unlabeled)
make_resume_raw_text = make_resume_unlabeled
