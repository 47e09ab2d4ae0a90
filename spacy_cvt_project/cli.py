"""`python -m spacy_cvt_project COMMAND`: the project's commands, one typer app (as spaCy's own
CLI). project.yml runs them; `python -m spacy_cvt_project --help` lists them."""

from __future__ import annotations

import typer

from . import (check, compare, convert, glove, grid, levers, main_job, model_size, per_seed, record, report, runs,
               seen_unseen, transformer, unlabeled_text)
from .bench import annotate as bench_annotate
from .bench import overhead as bench_overhead
from .bench import train as bench_train
from .convert import conll2000, semeval14, ud, wnut17
from .gpu import check as gpu_check
from .gpu import kit as gpu_kit

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="The experiment tooling of the spacy-cvt project (project.yml runs these commands).")
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}  # config overrides / a command after --

app.command("check")(check.main)
app.command("transformer")(transformer.main)
app.command("glove")(glove.main)
app.command("unlabeled-text")(unlabeled_text.main)
app.command("raw-text", hidden=True)(unlabeled_text.main)  # its name before 2026-12 (issue 46)
app.command("convert")(convert.main)
app.command("convert-wnut17")(wnut17.main)
app.command("convert-ud")(ud.main)
app.command("convert-conll2000")(conll2000.main)
app.command("convert-semeval14")(semeval14.main)
app.command("train")(runs.train)
app.command("evaluate")(runs.evaluate)
app.command("annotate")(runs.annotate)
app.command("lever")(levers.main)
app.command("per-seed", context_settings=PASS_THROUGH)(per_seed.main)
app.command("model-size")(model_size.main)
app.command("compare")(compare.main)
app.command("record")(record.main)
app.command("grid")(grid.main)
app.command("report")(report.main)
app.command("main-job", context_settings=PASS_THROUGH)(main_job.main)
app.command("seen-unseen")(seen_unseen.main)
app.command("bench-train", context_settings=PASS_THROUGH)(bench_train.main)
app.command("bench-overhead", context_settings=PASS_THROUGH)(bench_overhead.main)
app.command("bench-annotate")(bench_annotate.main)
app.command("gpu-kit")(gpu_kit.main)
app.command("gpu-check")(gpu_check.main)
