#!/bin/sh
# Classifies numbers against the trained threshold: predict.sh [MODEL] NUMBER...
set -eu
model=${MODEL_PATH:-model.json}
threshold=$(sed -n 's/.*"threshold": *\([0-9.]*\).*/\1/p' "$model")
for x in "$@"; do
  awk -v x="$x" -v t="$threshold" 'BEGIN { printf "%s %s\n", x, (x >= t ? "high" : "low") }'
done
