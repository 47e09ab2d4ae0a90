"""Make torch usable in processes forked after it ran: ``nlp.pipe(..., n_process=2)``.

On Linux, spaCy's multiprocessing forks the parent. Once the parent has run an
LSTM, torch's intra-op thread pool (OpenMP) is not usable in a forked child:
its first parallel region waits forever for threads that were not copied. A
child that runs torch single-threaded never enters that pool, and with
``n_process`` the processes are the parallelism anyway.
"""

import os

import torch


def use_one_thread() -> None:
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=use_one_thread)
