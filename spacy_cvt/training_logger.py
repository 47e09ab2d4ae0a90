"""``spacy-cvt.ConsoleLogger.v1``: spaCy's training table plus the unlabeled loss.

spaCy's console logger shows one loss column per trainable component, read
from ``losses[component_name]``. A CVT component also reports the loss of its
unlabeled steps as ``losses["<name>_unlabeled"]`` (and, with a teacher corpus,
the loss on the teacher's labels as ``losses["<name>_teacher"]``); this logger adds
a column for each (``UNLAB <name>``, ``TEACH <name>``) and writes them to the JSONL log, so a user can watch
CVT learn from unlabeled text. The JSONL records also carry spaCy's ``words`` and
``seconds`` counters, from which training words/second follow, the unlabeled docs CVT
steps have read so far (``unlabeled_docs_seen``, for unlabeled sentences/second; logs
written before 2026-12 call it ``raw_docs_seen``), and the peak
resident memory so far (``peak_rss_mib``), which shows memory growth over steps. Everything else
(progress bar, columns, JSONL format) is spaCy's ConsoleLogger.v3. Like it, the logger leaves a
log that exists alone and logs nothing, unless ``overwrite`` is true: the project's configs set
it, so that a retrained run's log is that run's (the project records it with the run).
"""

import sys
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional, Tuple, Union

import srsly
from spacy.language import Language
from spacy.training.loggers import console_logger_v3, setup_table
from spacy.util import registry
from wasabi import Printer

from .pipeline.base import CVTComponent


def loss_columns(nlp: Language) -> List[Tuple[str, str]]:
    """(losses key, column title) for every trainable component and CVT's extra loss."""
    columns = []
    for name, component in nlp.pipeline:
        if getattr(component, "is_trainable", False):
            columns.append((name, f"Loss {name}"))
        if isinstance(component, CVTComponent) and component.trains_on_unlabeled:
            columns.append((component.unlabeled_loss_key, f"Unlab {name}"))
        if isinstance(component, CVTComponent) and component.learns_from_teacher:
            columns.append((component.teacher_loss_key, f"Teach {name}"))
    return columns


@registry.loggers("spacy-cvt.ConsoleLogger.v1")
def cvt_console_logger(
    progress_bar: Optional[str] = None,
    console_output: bool = True,
    output_file: Optional[Union[str, Path]] = None,
    overwrite: bool = False,
) -> Callable:
    """spacy.ConsoleLogger.v3's settings, and whether to replace an output_file that exists."""
    progress_logger = console_logger_v3(progress_bar=progress_bar, console_output=False)

    def setup_printer(
        nlp: Language, stdout: IO = sys.stdout, stderr: IO = sys.stderr
    ) -> Tuple[Callable[[Optional[Dict[str, Any]]], None], Callable[[], None]]:
        log_progress, finalize_progress = progress_logger(nlp, stdout, stderr)
        write = lambda text: print(text, file=stdout, flush=True)
        msg = Printer(no_print=True)
        losses = loss_columns(nlp)
        score_weights = nlp.config["training"]["score_weights"]
        score_cols = [col for col, weight in score_weights.items() if weight is not None]
        header, widths, aligns = setup_table(
            cols=["E", "#"] + [title for _, title in losses] + score_cols + ["Score"],
            widths=[3, 6] + [8 for _ in losses] + [6 for _ in score_cols] + [6],
        )
        if console_output:
            write(msg.row(header, widths=widths, spacing=2))
            write(msg.row(["-" * width for width in widths], spacing=2))
        log_file = open_log_file(output_file, overwrite, write, msg)

        def log_step(info: Optional[Dict[str, Any]]) -> None:
            if info is not None:
                loss_values = {key: float(info["losses"].get(key, 0.0)) for key, _ in losses}
                scores = {col: score_value(info["other_scores"].get(col, 0.0), col) for col in score_cols}
                if console_output:
                    row = (
                        [info["epoch"], info["step"]]
                        + [f"{value:.2f}" for value in loss_values.values()]
                        + [f"{value:.2f}" for value in scores.values()]
                        + [f"{float(info['score']):.2f}"]
                    )
                    write(msg.row(row, widths=widths, aligns=aligns, spacing=2))
                if log_file is not None:
                    record = {
                        "epoch": info["epoch"],
                        "step": info["step"],
                        "losses": loss_values,
                        "scores": scores,
                        "score": float(info["score"]),
                        "words": info["words"],  # labeled words trained on so far
                        "seconds": info["seconds"],  # since training started, evaluation included
                        "unlabeled_docs_seen": unlabeled_docs_seen(nlp),
                        "peak_rss_mib": peak_rss_mib(),
                    }
                    log_file.write(srsly.json_dumps(record) + "\n")
                    log_file.flush()
            log_progress(info)

        def finalize() -> None:
            if log_file is not None:
                log_file.close()
            finalize_progress()

        return log_step, finalize

    return setup_printer


def unlabeled_docs_seen(nlp: Language) -> int:
    """Unlabeled docs the pipeline's CVT components have trained on (0 without unlabeled text)."""
    return sum(pipe.cfg["unlabeled_docs_seen"] for _, pipe in nlp.pipeline if isinstance(pipe, CVTComponent))


def peak_rss_mib() -> Optional[float]:
    """The process's peak resident memory so far, in MiB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def score_value(score: Any, column: str) -> float:
    """Scores are fractions; the table shows percentages (speed stays words/s)."""
    try:
        value = float(score)
    except TypeError:
        raise ValueError(
            f"The score '{column}' in [training.score_weights] is a {type(score).__name__}, "
            "not a number, so it cannot be shown in the table. Set its weight to null."
        ) from None
    return value if column == "speed" else value * 100


def open_log_file(
    path: Optional[Union[str, Path]], overwrite: bool, write: Callable[[str], None], msg: Printer
) -> Optional[IO]:
    """Open the JSONL log; one that exists is replaced with `overwrite`, else kept and nothing
    logged (as spaCy does)."""
    if not path:
        return None
    path = Path(path)
    if path.exists() and not overwrite:
        write(msg.warn(f"Saving logs is disabled because {path} already exists."))
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    write(msg.info(f"{'Replacing' if path.exists() else 'Saving results to'} {path}"))
    return path.open("w", encoding="utf-8")
