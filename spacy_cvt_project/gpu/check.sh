#!/usr/bin/env bash
# The GPU check on a fresh GPU machine, offline:
#     spacy_cvt_project/gpu/check.sh KIT_PART OUTPUT.json [options of `python -m spacy_cvt_project gpu-check`]
# KIT_PART is a part of the kit built by `python -m spacy_cvt_project gpu-kit` (kit/cvt, then kit/trf). When the
# part's package (spacy_cvt, spacy_transformers) cannot be imported, its wheels are installed with
# `pip install --no-index --no-deps --target $SPACY_CVT_SITE` (default /tmp/spacy-cvt-site) and
# used through PYTHONPATH, so the image's own packages stay as they are. The trf part needs the
# cvt part installed first (same SPACY_CVT_SITE). PYTHON picks the interpreter (default python3).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 KIT_PART OUTPUT.json [--gpu-id N] [--steps N] ..." >&2
    exit 2
fi
part=$1
output=$2
shift 2
python=${PYTHON:-python3}
site=${SPACY_CVT_SITE:-/tmp/spacy-cvt-site}
if [ ! -f "$part/kit.json" ]; then
    echo "$part/kit.json not found: give a kit part built by `python -m spacy_cvt_project gpu-kit` (e.g. kit/cvt)." >&2
    exit 2
fi
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
probe=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["probe"])' "$part/kit.json")
if ! "$python" -c "import $probe" 2>/dev/null; then
    echo "[gpu-check] installing $part into $site"
    "$python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps --no-compile \
        --target "$site" "$part"/wheels/*.whl
fi
if ! "$python" -c "import spacy_cvt" 2>/dev/null; then
    echo "spacy_cvt cannot be imported: install the kit's cvt part first ($0 kit/cvt OUTPUT.json)." >&2
    exit 1
fi
# from the project checkout, where spacy_cvt_project lives (paths made absolute first)
part=$(realpath "$part")
output=$(realpath -m "$output")
cd "$(dirname "$0")/../.."
exec "$python" -m spacy_cvt_project.gpu.check "$part" "$output" "$@"
