"""The default model of every CVT component: ``ModelSettings``' defaults, the small CPU-friendly size.

``configs/*_paper.cfg`` has the paper's sizes (1024/512 LSTM, 512-d modules).
"""

import dataclasses

from thinc.api import Config

from ..model.settings import ModelSettings

DEFAULT_MODEL = Config(
    {"model": {"@architectures": "spacy-cvt.CVTTagger.v1", **dataclasses.asdict(ModelSettings()), "nO": None}}
)["model"]
