"""Choose a span tagger's ``outside_weight`` on dev with spaCy's `find-threshold`, and keep it.

`spacy find-threshold` sweeps a component setting from 0 to 1 and reports the best score, but
leaves the pipeline as it was. This runs the same sweep (its Python function, so the table and
the checks are spaCy's) and writes the winner into the pipeline's config.cfg, where
``cvt_ner`` and ``cvt_chunker`` read it at load: `spacy evaluate`, `apply` and `package` then
decode with it. Choose on dev, never on test.

    python scripts/tune_outside_weight.py training/ner/cvt-teacher/seed0/model-best corpus/ner/dev.spacy
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

SPAN_TAGGERS = ("cvt_ner", "cvt_chunker")


def span_tagger(config, component: Optional[str]) -> str:
    """The component to tune: the one given, else the pipeline's only cvt_ner or cvt_chunker."""
    factories = {name: block.get("factory") for name, block in config["components"].items()}
    if component is None:
        found = [name for name, factory in factories.items() if factory in SPAN_TAGGERS]
        if len(found) != 1:
            raise typer.BadParameter(f"the pipeline has {len(found)} of {list(SPAN_TAGGERS)} "
                                     f"(components: {factories}); name one.", param_hint="--component")
        return found[0]
    if factories.get(component) not in SPAN_TAGGERS:
        raise typer.BadParameter(f"'{component}' is no {' or '.join(SPAN_TAGGERS)} of this pipeline "
                                 f"(components: {factories}).", param_hint="--component")
    return component


def main(
    model: Path = typer.Argument(..., exists=True, file_okay=False, help="A trained pipeline folder; its config.cfg is rewritten."),
    dev: Path = typer.Argument(..., exists=True, dir_okay=False, help="Dev data (.spacy) to choose on."),
    component: Optional[str] = typer.Option(None, help="The span tagger to tune (default: the pipeline's only one)."),
    score: Optional[str] = typer.Option(None, help="Score to maximise (default: the heaviest of [training.score_weights])."),
    trials: int = typer.Option(21, min=2, help="Weights tried, evenly from 0 to 1."),
    gpu_id: int = typer.Option(-1, help="GPU to decode on (-1: the CPU)."),
) -> None:
    """Sweep outside_weight on dev (spaCy's find-threshold) and write the best into MODEL/config.cfg."""
    from spacy import util
    from spacy.cli.find_threshold import find_threshold

    config = util.load_config(model / "config.cfg", interpolate=False)
    name = span_tagger(config, component)
    if score is None:
        weights = config["training"]["score_weights"]
        score = max((key for key in weights if weights[key] is not None), key=lambda key: weights[key])
    config["components"][name].setdefault("outside_weight", 1.0)  # pipelines saved before the setting
    config.to_disk(model / "config.cfg")
    best, best_score, scores = find_threshold(str(model), dev, name, "outside_weight", score, n_trials=trials,
                                              use_gpu=gpu_id, gold_preproc=True)
    config["components"][name]["outside_weight"] = round(float(best), 6)
    config.to_disk(model / "config.cfg")
    print(f"{model}: [components.{name}] outside_weight = {best:.3g} ({score} {best_score:.4f} on {dev}, "
          f"{scores[1.0]:.4f} at 1)")


if __name__ == "__main__":
    typer.run(main)
