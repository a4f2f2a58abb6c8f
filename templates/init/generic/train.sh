#!/bin/sh
# Fits a one-number "model" (a threshold at the mean of the data) with nothing but the shell.
# usage: train.sh DATA MODEL METRICS
set -eu
data=$1 model=$2 metrics=$3
awk '{ sum += $1; n += 1 } END {
  if (n == 0) { print "train.sh: no rows in the data" > "/dev/stderr"; exit 1 }
  printf "{\"threshold\": %.4f}\n", sum / n > "'"$model"'"
  printf "{\"rows\": %d, \"mean\": %.4f}\n", n, sum / n > "'"$metrics"'"
}' "$data"
cat "$metrics"
