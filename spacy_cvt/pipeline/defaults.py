"""The default model of every CVT component: the small, CPU-friendly size.

``configs/*_paper.cfg`` has the paper's sizes (1024/512 LSTM, 512-d modules).
"""

from thinc.api import Config

DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "spacy-cvt.CVTTagger.v1"
hidden_size1 = 256
projection_size1 = 128
hidden_size2 = 128
projection_size2 = 0
module_width = 128
hash_attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
hash_rows = 5000
hash_width = 32
vectors_attr = "LOWER"
char_width = 32
char_filters = 32
char_kernel_sizes = [2, 3, 4]
max_chars = 20
n_chars = 512
include_full = false
nO = null
"""

DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]

CVT_SETTINGS = {
    "unlabeled_steps": 1,
    "unlabeled_batch_size": 64,
    "unlabeled_dropout": 0.2,
    "unlabeled_warmup_steps": 500,
    "label_smoothing": 0.1,
    "shuffle_window": 10000,
    "seed": 0,
}
