"""`python -m spacy cvt-tune-decoding`: choose a span tagger's ``outside_weight`` on dev with
spaCy's `find-threshold`, and keep it.

`spacy find-threshold` sweeps a component setting from 0 to 1 and reports the best score, but
leaves the pipeline as it was. This runs the same sweep (its Python function, so the table and
the checks are spaCy's) and writes the winner into the pipeline's config.cfg (or a copy's, with
--output), where ``cvt_ner`` and ``cvt_chunker`` read it at load: `spacy evaluate`, `apply` and
`package` then decode with it. The dev scores in its meta.json (``performance``, which `spacy
train` wrote at the old weight and `spacy package` shows) become the tuned pipeline's. Of equal
scores the weight nearest 1 wins (the least change); a sweep whose scores are all equal leaves
the weight and meta.json as they were, and says so. Choose on dev, never on test.

In place, the folder no longer matches the hash `spacy project` recorded for the command that
trained it, so that command would run again: a project tunes inside its training command.
"""
import shutil
from pathlib import Path
from typing import Any, Dict, Iterable, NamedTuple, Optional

import srsly
import typer
from spacy.cli._util import Arg, Opt, app
from thinc.api import Config
from wasabi import Printer

SPAN_TAGGERS = ("cvt_ner", "cvt_chunker")


class Tuning(NamedTuple):
    """A sweep's outcome: the pipeline written (``output`` or the model itself), the component
    and score, every weight's dev score, and the weight chosen (None: all scored the same, so
    nothing was changed)."""

    model: Path
    component: str
    score: str
    scores: Dict[float, float]
    best: Optional[float]


@app.command("cvt-tune-decoding")
def tune_decoding_cli(
    # fmt: off
    model: Path = Arg(..., help="A trained pipeline folder with a cvt_ner or cvt_chunker.", exists=True, file_okay=False),
    dev: Path = Arg(..., help="Dev data to choose on (.spacy, or a folder of them).", exists=True),
    output: Optional[Path] = Opt(None, "--output", "-o", help="Write a tuned copy of MODEL here instead of changing MODEL.", file_okay=False),
    component: Optional[str] = Opt(None, "--component", help="The span tagger to tune (default: the pipeline's only one)."),
    score: Optional[str] = Opt(None, "--score", help="Score to maximise (default: the component's F-score, ents_f or spans_KEY_f)."),
    trials: int = Opt(21, "--trials", min=2, help="Weights tried, evenly from 0 to 1 (above 1 favours precision; not swept)."),
    gold_preproc: bool = Opt(True, "--gold-preproc/--no-gold-preproc", help="Read dev as `spacy evaluate --gold-preproc` does."),
    gpu_id: int = Opt(-1, "--gpu-id", "-g", help="GPU to decode on (-1: the CPU)."),
    # fmt: on
):
    """
    Choose a cvt_ner or cvt_chunker's outside_weight on dev and keep it: sweep it from 0 to 1
    with spaCy's find-threshold, write the best (of ties, the one nearest 1) into config.cfg
    and the tuned dev scores into meta.json, in MODEL or in a copy (--output).
    """
    tune_decoding(model, dev, output, component=component, score=score, trials=trials,
                  gold_preproc=gold_preproc, gpu_id=gpu_id, silent=False)


def tune_decoding(
    model: Path,
    dev: Path,
    output: Optional[Path] = None,
    *,
    component: Optional[str] = None,
    score: Optional[str] = None,
    trials: int = 21,
    gold_preproc: bool = True,
    gpu_id: int = -1,
    silent: bool = True,
) -> Tuning:
    """Sweep ``outside_weight`` on dev (spaCy's find-threshold) and write the best into the
    config.cfg of ``model``, or of a copy at ``output``; meta.json's performance becomes the
    tuned pipeline's dev scores. A sweep whose scores are all equal changes nothing (a copy is
    still written): the score named is likely not the component's.

    Raises typer.BadParameter, naming --component, where the component to tune is not clear.
    """
    from spacy import util
    from spacy.cli.evaluate import evaluate
    from spacy.cli.find_threshold import find_threshold

    msg = Printer(no_print=silent)
    config = util.load_config(model / "config.cfg", interpolate=False)
    name = span_tagger(config, component)
    score = score or score_key(config, name)
    _, _, scores = find_threshold(str(model), dev, name, "outside_weight", score, n_trials=trials,
                                  use_gpu=gpu_id, gold_preproc=gold_preproc)
    if output is not None:
        shutil.copytree(model, output, dirs_exist_ok=True)
        model = output
    if len(set(scores.values())) == 1:
        msg.warn(f"{model}: outside_weight left as it was: every weight scored {score} = {scores[1.0]:.4f} on "
                 f"{dev}, nothing to choose (is {score} the score of '{name}'?)")
        return Tuning(model, name, score, scores, None)
    best = best_weight(scores)
    config["components"][name]["outside_weight"] = round(float(best), 6)
    config.to_disk(model / "config.cfg")
    meta = srsly.read_json(model / "meta.json")
    tuned = evaluate(str(model), dev, use_gpu=gpu_id, gold_preproc=gold_preproc)
    meta["performance"] = tuned_performance(meta.get("performance", {}), config["training"]["score_weights"], tuned)
    srsly.write_json(model / "meta.json", meta)
    msg.good(f"{model}: [components.{name}] outside_weight = {best:.3g} ({score} {scores[best]:.4f} on {dev}, "
             f"{scores[1.0]:.4f} at 1); meta.json's performance is the tuned dev scores")
    return Tuning(model, name, score, scores, best)


def span_tagger(config: Config, component: Optional[str]) -> str:
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


def score_key(config: Config, component: str) -> str:
    """The F-score the component's scorer reports: ents_f, or spans_<spans_key>_f."""
    block = config["components"][component]
    return "ents_f" if block["factory"] == "cvt_ner" else f"spans_{block.get('spans_key', 'chunks')}_f"


def best_weight(scores: Dict[float, float]) -> float:
    """The best-scoring weight; of equal scores the one nearest 1, which changes decoding least."""
    return max(sorted(scores, reverse=True), key=lambda weight: scores[weight])


def tuned_performance(performance: Dict[str, Any], score_weights: Iterable[Optional[str]],
                      scores: Dict[str, Any]) -> Dict[str, Any]:
    """meta.json's performance with the dev scores replaced by the tuned pipeline's: the metrics
    of [training.score_weights], as `spacy train` writes them (its losses stay)."""
    return {**performance, **{metric: scores.get(metric, 0.0) for metric in score_weights if metric is not None}}
