"""What spacy_cvt's training computes, as a number the project's recorded results compare.

spacy_cvt_project/per_seed.py records TRAINING_VERSION with every training run, and `spacy project run
report` marks a recorded run stale when it differs from today's (docs/results.md). Bump it when a
change makes `spacy train` compute something else from the same config and data: the model's
forward pass or initialisation, the losses, the CVT steps, the readers, a scorer that picks
model-best, a default that configs do not spell out. Not for documentation, refactors that keep
results, speed-ups or new options whose default keeps the old behaviour. This file imports
nothing, so the project can read it without loading torch.
"""

TRAINING_VERSION = 1
