"""Process-wide torch settings the CVT model needs, installed when a CVT model is made.

``install_process_settings`` runs when the first CVT model is built (every CVT component
builds one), not when spacy_cvt is imported: spaCy imports the package for any of its
entry points, also for a pipeline that only uses its seqeval scorer, and such a process
should keep its environment and fork behaviour as they were.

- **oneDNN's primitive cache is off** (``ONEDNN_PRIMITIVE_CACHE_CAPACITY=0``, unless the
  environment sets it). On CPU, torch runs some layers through oneDNN, which builds a
  "primitive" per input shape and keeps up to 1,024 of them. Every CVT batch has another
  number of tokens, so the cache only grows: measured on WNUT-17 (small config, 2 CPU
  cores, 600 steps) peak RSS went from 802 MiB to 1,727 MiB with the cache and to 1,096
  MiB without it, with identical scores and no loss of speed (273 s and 261 s). oneDNN
  reads the variable once, at its first use, so it only takes effect if a CVT model is
  made before torch has run on CPU (as in `spacy train`, `spacy.load`).
- **Forked children run torch on one thread.** On Linux, spaCy's ``n_process`` forks the
  parent. Once the parent has run an LSTM, torch's intra-op thread pool (OpenMP) is not
  usable in a forked child: its first parallel region waits forever for threads that were
  not copied. A single-threaded child never enters that pool, and with ``n_process`` the
  processes are the parallelism anyway.
- **Freed memory goes back to the system** (``release_freed_memory``). Each batch has another
  number of tokens, so torch's CPU tensors come and go in ever different sizes, and glibc's
  malloc keeps much of the freed memory in its heap instead of returning it. Measured on
  WNUT-17 (bilstm: `spacy train configs/cvt_ner.cfg` without unlabeled text, 2 CPU cores, the oneDNN cache already off):
  peak RSS rose by 204 MiB between steps 200 and 1,600 (862 to 1,066 MiB); with
  ``malloc_trim`` every 50 steps by 83 MiB (826 to 909), at the same speed (208 s against
  211 s). Fewer arenas (``MALLOC_ARENA_MAX=2``) did not help (+198 MiB); a fixed 128 KiB
  mmap threshold did (+73) but trained 2.2 times slower. Other C libraries than glibc are
  left alone. Training calls it every ``RELEASE_EVERY`` steps through spaCy's
  ``[training.before_update]`` hook (``spacy-cvt.release_freed_memory.v1``, set in the
  shipped configs). The heap is the process's, not a component's: the hook runs once per
  training step whatever the pipeline trains (several CVT components, a transformer), and
  unlike the logger it is not swapped out when a script logs its own way.
"""

import ctypes
import os
import platform
from typing import Any, Callable, Dict, Optional

import torch
from spacy.language import Language
from spacy.util import registry

_installed = False


def install_process_settings() -> None:
    """Turn oneDNN's primitive cache off (unless the environment sets it) and make forked
    children run torch on one thread; once per process, however many models are made."""
    global _installed
    if _installed:
        return
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "0")
    os.register_at_fork(after_in_child=use_one_thread)
    _installed = True


def use_one_thread() -> None:
    torch.set_num_threads(1)

RELEASE_EVERY = 50  # training steps between two release_freed_memory calls


def _glibc() -> Optional[ctypes.CDLL]:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


_LIBC = _glibc()


def release_freed_memory() -> bool:
    """Return the free memory in glibc's heaps to the system (``malloc_trim(0)``).

    True if memory was released; False where there was none to release or the C library
    is not glibc.
    """
    return bool(_LIBC.malloc_trim(0)) if _LIBC is not None else False


@registry.callbacks("spacy-cvt.release_freed_memory.v1")
def make_release_freed_memory() -> Callable[[Language, Dict[str, Any]], None]:
    """``[training.before_update]``: ``release_freed_memory`` after every ``RELEASE_EVERY``
    training steps, so that training memory stays flat. A training loop of your own can
    call ``release_freed_memory`` itself."""

    def before_update(nlp: Language, info: Dict[str, Any]) -> None:
        if info["step"] and info["step"] % RELEASE_EVERY == 0:
            release_freed_memory()

    return before_update
