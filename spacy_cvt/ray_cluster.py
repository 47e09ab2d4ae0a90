"""Where Ray work runs: a running cluster at an address, or a local Ray started with this
machine's cores, for as long as the work takes.

Ray is an extra (``pip install -e ".[ray]"``, or ``pip install "spacy-cvt[ray]"``): the commands
that use it (`python -m spacy cvt-annotate`, `cvt-trf-vectors --workers`, the project's `grid`)
import it only when they run, and say how to install it where it is missing. The same code runs
on a one-machine Ray (tests, a laptop) and on a cluster (`ray start --head` on one node,
`ray start --address HEAD:6379` on the others): only the address differs.
"""
import os
from contextlib import contextmanager
from typing import Any, Iterator, Optional

INSTALL = 'pip install -e ".[ray]" in a spacy-cvt checkout (or pip install "spacy-cvt[ray]")'


def require_ray(command: str) -> Any:
    """The ray module; where it is not installed, an exit that names the command and the install."""
    try:
        import ray
    except ImportError:
        raise SystemExit(f"{command}: Ray is not installed: {INSTALL}") from None
    return ray


@contextmanager
def ray_session(command: str, address: Optional[str] = None) -> Iterator[Any]:
    """Ray, connected for the block: the caller's Ray if this process has one already, else the
    cluster at ``address`` (or RAY_ADDRESS), else a local Ray with this machine's cores; one
    started here is shut down when the block ends."""
    ray = require_ray(command)
    if ray.is_initialized():
        yield ray
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address)
    else:
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False)
    try:
        yield ray
    finally:
        ray.shutdown()
