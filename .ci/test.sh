#!/usr/bin/env bash
# Installs keraspose with the pinned dev set and runs the test suite on the
# three Keras backends. This is the README's test command.
set -uo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -c .ci/constraints.txt -e ".[dev]" || exit 1
ruff check keraspose tests examples benchmarks tools || exit 1
status=0
for backend in jax tensorflow torch; do
    echo "=== KERAS_BACKEND=$backend"
    KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile tests || status=1
done
exit $status
