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
    # Two pytest workers (pytest-xdist) for JAX and TensorFlow: a serial run
    # kept one of the two cores idle. PyTorch runs serially: its OpenMP
    # threads oversubscribe the cores under two workers (11.7 min vs ~4).
    workers=(-n 2 --dist loadfile)
    if [ "$backend" = torch ]; then workers=(); fi
    KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider "${workers[@]}" tests || status=1
done
exit $status
