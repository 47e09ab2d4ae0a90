"""Process-wide torch settings the CVT model needs, applied when spacy_cvt is imported.

- **oneDNN's primitive cache is off** (``ONEDNN_PRIMITIVE_CACHE_CAPACITY=0``, unless the
  environment sets it). On CPU, torch runs some layers through oneDNN, which builds a
  "primitive" per input shape and keeps up to 1,024 of them. Every CVT batch has another
  number of tokens, so the cache only grows: measured on WNUT-17 (small config, 2 CPU
  cores, 600 steps) peak RSS went from 802 MiB to 1,727 MiB with the cache and to 1,096
  MiB without it, with identical scores and no loss of speed (273 s and 261 s). oneDNN
  reads the variable once, at its first use, so it only takes effect if spacy_cvt is
  imported before torch has run on CPU (as in `spacy train`, `spacy.load`).
- **Forked children run torch on one thread.** On Linux, spaCy's ``n_process`` forks the
  parent. Once the parent has run an LSTM, torch's intra-op thread pool (OpenMP) is not
  usable in a forked child: its first parallel region waits forever for threads that were
  not copied. A single-threaded child never enters that pool, and with ``n_process`` the
  processes are the parallelism anyway.
"""

import os

import torch

os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "0")


def use_one_thread() -> None:
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=use_one_thread)
