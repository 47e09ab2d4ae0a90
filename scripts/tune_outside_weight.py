"""Choose a span tagger's ``outside_weight`` on dev with spaCy's `find-threshold`, and keep it.

`spacy find-threshold` sweeps a component setting from 0 to 1 and reports the best score, but
leaves the pipeline as it was. This runs the same sweep (its Python function, so the table and
the checks are spaCy's) and writes the winner into the pipeline's config.cfg (or a copy's, with
--output), where ``cvt_ner`` and ``cvt_chunker`` read it at load: `spacy evaluate`, `apply` and
`package` then decode with it. The dev scores in its meta.json (``performance``, which `spacy
train` wrote at the old weight and `spacy package` shows) become the tuned pipeline's. Of equal
scores the weight nearest 1 wins (the least change); a sweep whose scores are all equal leaves
the weight and meta.json as they were, and says so. Choose on dev, never on test.

    python scripts/tune_outside_weight.py training/ner/cvt/seed0/model-best corpus/ner/dev.spacy --output training/ner/cvt/seed0/model-tuned

In place, the folder no longer matches the hash `spacy project` recorded for the command that
trained it, so that command would run again: the project tunes inside `train-cvt-teacher`.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, Optional

import srsly
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


def score_key(config, component: str) -> str:
    """The F-score the component's scorer reports: ents_f, or spans_<spans_key>_f."""
    block = config["components"][component]
    return "ents_f" if block["factory"] == "cvt_ner" else f"spans_{block.get('spans_key', 'chunks')}_f"


def best_weight(scores: Dict[float, float]) -> float:
    """The best-scoring weight; of equal scores the one nearest 1, which changes decoding least."""
    return max(sorted(scores, reverse=True), key=lambda weight: scores[weight])


def tuned_performance(performance: Dict[str, Any], score_weights, scores: Dict[str, Any]) -> Dict[str, Any]:
    """meta.json's performance with the dev scores replaced by the tuned pipeline's: the metrics
    of [training.score_weights], as `spacy train` writes them (its losses stay)."""
    return {**performance, **{metric: scores.get(metric, 0.0) for metric in score_weights if metric is not None}}


def main(
    model: Path = typer.Argument(..., exists=True, file_okay=False, help="A trained pipeline folder."),
    dev: Path = typer.Argument(..., exists=True, help="Dev data to choose on (.spacy, or a folder of them)."),
    output: Optional[Path] = typer.Option(None, help="Write a tuned copy of MODEL here instead of changing MODEL."),
    component: Optional[str] = typer.Option(None, help="The span tagger to tune (default: the pipeline's only one)."),
    score: Optional[str] = typer.Option(None, help="Score to maximise (default: the component's F-score, ents_f or spans_KEY_f)."),
    trials: int = typer.Option(21, min=2, help="Weights tried, evenly from 0 to 1 (above 1 favours precision; not swept)."),
    gold_preproc: bool = typer.Option(True, help="Read dev as `spacy evaluate --gold-preproc` does."),
    gpu_id: int = typer.Option(-1, help="GPU to decode on (-1: the CPU)."),
) -> None:
    """Sweep outside_weight on dev (spaCy's find-threshold) and write the best into the config.cfg."""
    from spacy import util
    from spacy.cli.evaluate import evaluate
    from spacy.cli.find_threshold import find_threshold

    config = util.load_config(model / "config.cfg", interpolate=False)
    name = span_tagger(config, component)
    score = score or score_key(config, name)
    _, _, scores = find_threshold(str(model), dev, name, "outside_weight", score, n_trials=trials,
                                  use_gpu=gpu_id, gold_preproc=gold_preproc)
    if output is not None:
        shutil.copytree(model, output, dirs_exist_ok=True)
        model = output
    if len(set(scores.values())) == 1:
        print(f"{model}: outside_weight left as it was: every weight scored {score} = {scores[1.0]:.4f} on "
              f"{dev}, nothing to choose (is {score} the score of '{name}'?)")
        return
    best = best_weight(scores)
    config["components"][name]["outside_weight"] = round(float(best), 6)
    config.to_disk(model / "config.cfg")
    meta = srsly.read_json(model / "meta.json")
    tuned = evaluate(str(model), dev, use_gpu=gpu_id, gold_preproc=gold_preproc)
    meta["performance"] = tuned_performance(meta.get("performance", {}), config["training"]["score_weights"], tuned)
    srsly.write_json(model / "meta.json", meta)
    print(f"{model}: [components.{name}] outside_weight = {best:.3g} ({score} {scores[best]:.4f} on {dev}, "
          f"{scores[1.0]:.4f} at 1); meta.json's performance is the tuned dev scores")


if __name__ == "__main__":
    typer.run(main)
