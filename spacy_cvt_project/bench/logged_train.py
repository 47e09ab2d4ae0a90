"""`spacy train` for a fixed number of steps, with spacy-cvt's JSONL log read back.

Shared by spacy_cvt_project/gpu/check.py and spacy_cvt_project/bench/train.py: both need spaCy's own counters
(`words`, `seconds`) and the logger's `peak_rss_mib` at each evaluation. The logger is set on the
command line, so a config with another logger (a user's) can be run this way too.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List


def logged_train(config: Path, output: Path, steps: int, eval_frequency: int, overrides: List[str],
                 cwd: Path = Path(".")) -> List[Dict]:
    """Train into `output`, evaluating every `eval_frequency` steps; the log's records."""
    log = output.with_suffix(".jsonl")
    log.unlink(missing_ok=True)  # a config without overwrite = true keeps an old log, which would be read
    subprocess.run(
        [sys.executable, "-m", "spacy", "train", str(config), "--output", str(output),
         "--training.max_steps", str(steps), "--training.optimizer.learn_rate.total_steps", str(steps),
         "--training.eval_frequency", str(eval_frequency),
         "--training.logger.@loggers", "spacy-cvt.ConsoleLogger.v1", "--training.logger.progress_bar", "null",
         "--training.logger.output_file", str(log), *overrides],
        check=True, cwd=cwd,
    )
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
