"""How a CVT component builds its torch module, and why loading must build it first.

The network's shapes (labels, vector width, tok2vec width) are known only after
``initialize``, and a thinc ``PyTorchWrapper`` has no torch module to read weights into
until it is built. So the component keeps those shapes in its cfg, and loading reads the
cfg first, builds the module from it, then reads the weights: ``spacy.load`` in a fresh
process rebuilds exactly the module that was saved. ``TrainablePipe``'s own ``from_disk``
and ``from_bytes`` read the weights into the model as it is, hence this mixin.

The saved cfg gives what training learned (labels, shapes, ``unlabeled_docs_seen``); the training
settings are the pipeline's config's (``config_settings``): ``spacy.load(path, config=...)``
then changes them as it changes any setting, and a further save keeps the new values. A cfg
saved under an earlier name of a key (``renamed.RENAMED_CFG_KEYS``) is read under today's.
"""

from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Union

import srsly
from spacy import util
from spacy.vocab import Vocab
from thinc.api import Model

from ..model.tagger import clear_gradients
from ..renamed import RENAMED_CFG_KEYS


class BuildThenLoad:
    """Serialization for a component whose model is built from shapes kept in ``cfg``."""

    model: Model
    vocab: Vocab
    cfg: Dict[str, Any]
    config_settings: FrozenSet[str]  # cfg keys the config sets: the saved cfg does not override them
    tag_names: List[str]
    loaded_not_initialized: bool  # trained weights read from disk or bytes

    def _build_model(self) -> None:
        """Create the torch module from the shapes in cfg (labels, vector and tok2vec widths)."""
        self.model.shims.clear()
        self.model.set_dim("nO", len(self.tag_names), force=True)
        self.model.set_dim("nV", self.cfg["n_vector_dims"] or 0, force=True)
        if self.cfg.get("n_tok2vec_dims") is not None:  # None: read from the layer (also pipelines saved before 2026-11-28)
            self.model.set_dim("nT", self.cfg["n_tok2vec_dims"], force=True)
        self.model.initialize()
        self.cfg["n_tok2vec_dims"] = self.model.get_dim("nT")
        clear_gradients(self.model)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()):
        deserialize = {
            "cfg": lambda p: self._read_cfg(srsly.read_json(p)),
            "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
            "model": lambda p: self._load_model(Path(p).read_bytes()),
        }
        util.from_disk(path, deserialize, exclude)
        self.loaded_not_initialized = True
        return self

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()):
        deserialize = {
            "cfg": lambda b: self._read_cfg(srsly.json_loads(b)),
            "vocab": lambda b: self.vocab.from_bytes(b, exclude=exclude),
            "model": self._load_model,
        }
        util.from_bytes(bytes_data, deserialize, exclude)
        self.loaded_not_initialized = True
        return self

    def _read_cfg(self, saved: Dict[str, Any]) -> None:
        """Take the saved cfg's learned state (old key names read as today's); keep the training
        settings the config gave."""
        saved = {RENAMED_CFG_KEYS.get(key, key): value for key, value in saved.items()}
        self.cfg.update({key: value for key, value in saved.items() if key not in self.config_settings})

    def _load_model(self, data: bytes) -> None:
        """Build the torch module from the loaded cfg, then read its weights."""
        self._build_model()
        self.model.from_bytes(data)
