#!/bin/sh
# Regenerate docs/screenshots/*.png: the overview, a deployment, its monitoring page and the key
# portal at 1400 px and 390 px, from a throwaway database (tests/support/console_world.py).
set -e
cd "$(dirname "$0")/.."
MODELGATE_SCREENSHOTS_DIR="$PWD/docs/screenshots" \
  .venv/bin/pytest -q -p no:cacheprovider tests/console/test_screenshots.py "$@"
