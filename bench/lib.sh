# What the benchmarks in bench/ share; sourced, not run.

# Prints the calling script's usage: its leading comment block, without the '#'.
bench_usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# bench_options "$@": the options every benchmark with repeated runs takes. Sets quick, check and
# keep (yes or no), runs (the caller's default unless --runs N) and tsv (absolute, since the
# benchmarks run in their work folders; empty without --tsv). Exits 2 on anything else.
bench_options() {
  local name="bench/$(basename "$0")"
  quick=no check=no keep=no tsv=""
  while (( $# )); do
    case "$1" in
      --quick) quick=yes ;;
      --check) check=yes ;;
      --keep) keep=yes ;;
      --runs) runs=${2:?--runs needs a number}; shift ;;
      --tsv) tsv=${2:?--tsv needs a file}; shift ;;
      -h|--help) bench_usage; exit 0 ;;
      *) echo "$name: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
  done
  [[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "$name: --runs: '$runs' is not a positive number" >&2; exit 2; }
  [[ -z "$tsv" ]] || tsv=$(realpath -m "$tsv")
}
