"""The spacy-cvt project's experiment tooling: what project.yml runs to compare CVT with a
transformer (tasks and systems in `catalog`, runs in `runs`, records and tables in `results`,
`compare`, `record`, `report`, converters in `convert`, benchmarks in `bench`, the GPU kit in
`gpu`). It lives beside the plugin (spacy_cvt) in the project checkout and is not part of the
plugin's wheel; `python -m spacy_cvt_project --help` lists its commands."""
