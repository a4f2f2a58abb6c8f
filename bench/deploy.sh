#!/usr/bin/env bash
# The serving-manifest benchmark (issue 6): a project with 3 environments and 1,000 registered
# models (each with a serving image), every (model, environment) rendered into a kustomize layout
# by `mlctl deploy render mNNNN@1 --env ENV -o DIR/`, one process per render as CI and GitOps hooks
# run it, against a Helm-style peer: the same six objects from Jinja2 templates and a values file
# (bench/deploy_peer.py, bench/deploy_peer/), one python3 process per render, writing the same
# layout. Each process is started and timed by bench/launch.c (posix_spawn, wait; no shell in
# between); per environment, each tool renders every model back to back, then /usr/bin/true runs
# as often (what starting a process costs). Then the start-up floors, and a sample of mlctl renders
# each right after a peer render. Then the same renders batched: per environment, one process
# renders all the models (`mlctl deploy render m0001@1 ... --env ENV -o DIR/`, the peer with every
# values file), as re-rendering an environment does. Every output is checked, the peer's must be
# the same objects as mlctl's, and a batch layout must be byte for byte the one-at-a-time layout.
# See bench/README.md.
#
# usage: bench/deploy.sh [--quick] [--check] [--keep] [--runs N] [--tsv FILE]
#   --quick       100 models x 3 environments (a smoke run)
#   --check       exit 1 when mlctl misses the target (the table is printed either way)
#   --keep        keep the work folder (the project, the registry, the values files, every run's
#                 layouts and logs, the per-process times)
#   --runs N      runs of the whole set of renders, each into fresh folders (default 1)
#   --tsv FILE    also append one tab-separated row per workload (for bench/run)
# environment: MLCTL (the binary; default: build a Release mlctl into build/release),
#   TMPDIR (where the work folder goes; about 60 MiB per run of the full size)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

source "$root/bench/lib.sh"
runs=1
bench_options "$@"

if [[ "$quick" == yes ]]; then models=100; else models=1000; fi
environments=(dev staging prod)
# Target from issue 6: rendering one model under 10 ms. Judged twice: the mean of one whole process
# per render, and the time per model of a batch render (one process per environment).
k_render_ms=10
# Samples of each start-up floor (mlctl version, python3 alone, python3 importing the peer's
# modules) and of mlctl rendering right after the peer, per run: enough for a median.
k_floors=$(( models < 100 ? models : 100 ))

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench/deploy.sh: %s\n' "$*" >&2; exit 1; }

py=/usr/bin/python3 true_bin=/usr/bin/true
missing=()
[[ -x "$py" ]] || missing+=(python3)
[[ -x "$true_bin" ]] || missing+=(coreutils)
command -v cc >/dev/null || missing+=(gcc)
"$py" -c 'import jinja2, yaml; yaml.CSafeLoader' 2>/dev/null || missing+=(python3-jinja2 python3-yaml)
[[ -n "${MLCTL:-}" ]] || command -v cmake >/dev/null || missing+=(cmake)
(( ${#missing[@]} == 0 )) || die "missing: ${missing[*]}; install them with: scripts/install-deps build bench"
(( BASH_VERSINFO[0] >= 5 )) || die "needs bash 5 (EPOCHREALTIME)"

if [[ -n "${MLCTL:-}" ]]; then
  # Absolute: the benchmark runs in its work folder.
  if [[ "$MLCTL" == */* ]]; then mlctl=$(realpath -m "$MLCTL"); else mlctl=$(command -v "$MLCTL" || echo "$MLCTL"); fi
else
  say "building a Release mlctl in build/release"
  cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$root/build/release" -j "$(nproc)" --target mlctl_bin >/dev/null
  mlctl="$root/build/release/cli/mlctl"
fi
[[ -x "$mlctl" ]] || die "no mlctl at $mlctl: build one with
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release && cmake --build build/release --target mlctl_bin
or set MLCTL=path/to/mlctl"
# CLI11 prints the top-level help for a subcommand it does not know: look for the command's own.
help=$("$mlctl" deploy render --help 2>&1 || true)
[[ "$help" == *"deploy render"* && "$help" == *"DIR/"* ]] || die "$mlctl has no 'deploy render ... -o DIR/'"

work=$(mktemp -d "${TMPDIR:-/tmp}/mlctl-bench-deploy-XXXXXX")
cleanup() {
  local rc=$?
  if [[ "$keep" == yes ]]; then say "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/logs" "$work/runs" "$work/project" "$work/shape" "$work/jinja-cache"
# Only the project's registry (.mlctl/registry.db next to its mlctl.yaml); one actor, no git.
unset MLCTL_REGISTRY_DB MLCTL_ARTIFACT_STORE MLCTL_CACHE_DIR MLCTL_CONFIG || true
export MLCTL_ACTOR=bench

# 1. The project: three environments and the serving settings every model shares.
cd "$work/project"
cat > mlctl.yaml <<'EOF'
name: bench-serving
version: 1.0.0
environments:
  dev: {namespace: ml-dev, branch: develop}
  staging: {namespace: ml-staging, branch: staging}
  prod: {namespace: ml-prod, branch: main}
serving:
  resources: {cpu: "1", memory: 2Gi}
  autoscaling: {min: 2, max: 6, cpu: 60}
EOF

# 2. The models, through the real path: the exact shape of `mlctl model export` from a model mlctl
# registers itself (with a serving image), a JSON Lines file of that shape with one version per
# model, loaded by `mlctl model import`. Not measured.
say "registering a model to copy the shape of 'mlctl model export'"
echo "shape" > "$work/shape/model.bin"
shape_image="registry.example.com/ml/serve-shape@sha256:$(printf 'ab%.0s' {1..32})"
{
  "$mlctl" model register shape --artifact "$work/shape/model.bin" --flavor sklearn --image "$shape_image" \
    --registry-db "$work/shape/r.db" &&
    "$mlctl" model export --registry-db "$work/shape/r.db" > "$work/shape/export.jsonl"
} > "$work/logs/shape.log" 2>&1 || { cat "$work/logs/shape.log" >&2; die "could not make the shape export"; }

say "generating $models models (one version each, with a serving image) as JSON Lines"
"$py" - "$work/shape/export.jsonl" "$work/import.jsonl" "$models" "$shape_image" <<'EOF'
import hashlib, json, sys
shape_file, out_file, models, shape_image = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
shape = {}
for line in open(shape_file):
    doc = json.loads(line)
    shape.setdefault(doc["kind"], doc)
if shape["version"]["lineage"].get("image") != shape_image:
    sys.exit(f"the export keeps the serving image elsewhere than lineage.image: {shape['version']}")
dump = lambda d: json.dumps(d, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
flavors = ["onnx", "pytorch", "sklearn", "xgboost"]
with open(out_file, "w") as out:
    for m in range(1, models + 1):
        name = f"m{m:04d}"
        digest = hashlib.sha256(f"artifact/{name}".encode()).hexdigest()
        image = hashlib.sha256(f"image/{name}".encode()).hexdigest()
        stamp = f"2026-01-01T00:{m // 60 % 60:02d}:{m % 60:02d}.000Z"
        docs = [
            dict(shape["model"], name=name, created_at=stamp, description=f"benchmark model {m}"),
            dict(shape["version"], name=name, version=1, flavor=flavors[m % 4], created_at=stamp,
                 artifact={"uri": f"file:///srv/mlctl/artifacts/sha256/{digest}", "digest": f"sha256:{digest}",
                           "size": 1_000_000 + m, "directory": False},
                 lineage={"image": f"registry.example.com/ml/{name}@sha256:{image}"}),
            dict(shape["audit"], name=name, version=1, time=stamp, new_value="1"),
        ]
        for doc in docs:
            if sorted(doc) != sorted(shape[doc["kind"]]):
                sys.exit(f"generated {doc['kind']} keys {sorted(doc)} differ from the export's {sorted(shape[doc['kind']])}")
            out.write(dump(doc) + "\n")
EOF
"$mlctl" model import "$work/import.jsonl" > "$work/logs/import.log" 2>&1 ||
  { tail -n 20 "$work/logs/import.log" >&2; die "mlctl model import failed"; }

# 3. The peer's values files, one per (model, environment), from what the registry now holds
# (`mlctl model export`) and mlctl.yaml: what a Helm user would keep in values.yaml. Not measured.
say "writing the peer's values files from 'mlctl model export'"
"$mlctl" model export > "$work/registry.jsonl" 2> "$work/logs/export.err" || { cat "$work/logs/export.err" >&2; die "mlctl model export failed"; }
"$py" - "$work/registry.jsonl" "$work/project/mlctl.yaml" "$work/values" "$models" <<'EOF'
import json, os, sys, yaml
export, config_file, folder, models = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
config = yaml.safe_load(open(config_file))
serving = config.get("serving", {})
resources = {"cpu": "500m", "memory": "1Gi", "gpu": 0} | serving.get("resources", {})
scaling = {"min": 1, "max": 3, "cpu": 70} | serving.get("autoscaling", {})
versions = [d for d in map(json.loads, open(export)) if d["kind"] == "version"]
if len(versions) != models:
    sys.exit(f"the registry holds {len(versions)} versions, not {models}")
for env, place in config["environments"].items():
    os.makedirs(os.path.join(folder, env))
    for v in versions:
        values = {"project": config["name"], "model": v["name"], "version": v["version"], "environment": env,
                  "namespace": place["namespace"], "image": v["lineage"]["image"],
                  "artifact_digest": v["artifact"]["digest"], "flavor": v["flavor"],
                  "resources": resources, "autoscaling": scaling}
        with open(os.path.join(folder, env, v["name"] + ".yaml"), "w") as f:
            yaml.safe_dump(values, f, sort_keys=True)
EOF

# 4. The renders, timed by bench/launch.c: it starts each command with posix_spawn() and waits for
# it, with no shell or clock process in between. Per run and environment, each tool renders every
# model back to back, as a CI job or a GitOps hook renders one model after another: mlctl, then the
# peer, then /usr/bin/true with mlctl's arguments (what starting a process costs). Then the
# start-up floors, k_floors of each. A render that fails stops the benchmark.
renders=$((models * ${#environments[@]}))
launch="$work/launch"
cc -O2 -o "$launch" "$root/bench/launch.c" 2> "$work/logs/launch.cc" || { cat "$work/logs/launch.cc" >&2; die "could not compile bench/launch.c"; }
# line LABEL LOG PROGRAM ARG...: one command for launch.
line() { local IFS=$'\t'; printf '%s\n' "$*"; }
# TOOL_line MODEL ENV DIR LOG [LABEL]
mlctl_line() { line "${5:-mlctl}:$1:$2" "$4.mlctl" "$mlctl" deploy render "$1@1" --env "$2" -o "$3/"; }
peer_line() { line "${5:-peer}:$1:$2" "$4.peer" "$py" -I "$root/bench/deploy_peer.py" "$work/values/$2/$1.yaml" -o "$3/" --cache "$work/jinja-cache"; }
true_line() { line "${5:-true}:$1:$2" "$4.true" "$true_bin" deploy render "$1@1" --env "$2" -o "$3/"; }
# launch_all COMMANDS TIMES: runs them; stops at the first command that failed, naming it.
launch_all() {
  "$launch" < "$1" > "$2" || die "bench/launch.c failed on $1"
  local failed
  failed=$(awk '$3 != 0 { print $1 " (exit " $3 ")"; exit }' "$2")
  [[ -z "$failed" ]] || die "$failed failed; its output is in $work/logs (kept with --keep)"
  (( $(wc -l < "$2") == $(wc -l < "$1") )) || die "bench/launch.c ran $(wc -l < "$2") of $(wc -l < "$1") commands"
}
# Warm-up, into a folder that is thrown away: the binaries, the registry and the templates in the
# page cache, and the peer's compiled templates in its cache (as after a chart's first render).
for env in "${environments[@]}"; do
  mlctl_line m0001 "$env" "$work/warm/mlctl" "$work/logs/warm"
  peer_line m0001 "$env" "$work/warm/peer" "$work/logs/warm"
done > "$work/warm.commands"
launch_all "$work/warm.commands" "$work/warm.times"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for (( r = 1; r <= runs; r++ )); do
  say "run $r of $runs: $renders renders by mlctl, by the peer and /usr/bin/true"
  out="$work/runs/$r" log="$work/logs/run-$r"
  mkdir -p "$out"
  for env in "${environments[@]}"; do
    for tool in mlctl peer true; do
      for (( i = 1; i <= models; i++ )); do
        printf -v model 'm%04d' "$i"
        "${tool}_line" "$model" "$env" "$out/$tool" "$log"
      done
    done
  done > "$out.commands"
  # The start-up floors; and mlctl (then true) right after a python3 process, as the earlier
  # versions of this benchmark ran it (mlctl, the peer and true in turn, for each render), into a
  # scratch folder.
  for (( i = 0; i < k_floors; i++ )); do line floor:version "$log.floors" "$mlctl" version; done >> "$out.commands"
  for (( i = 0; i < k_floors; i++ )); do line floor:python "$log.floors" "$py" -I -c pass; done >> "$out.commands"
  for (( i = 0; i < k_floors; i++ )); do line floor:imports "$log.floors" "$py" -I -c 'import argparse, jinja2, yaml'; done >> "$out.commands"
  for (( i = 1; i <= k_floors; i++ )); do
    printf -v model 'm%04d' "$(( (i - 1) % models + 1 ))"
    peer_line "$model" prod "$work/after/$r/peer" "$log.after" before
    mlctl_line "$model" prod "$work/after/$r/mlctl" "$log.after" after
    peer_line "$model" staging "$work/after/$r/peer" "$log.after" before
    true_line "$model" staging "$work/after/$r/true" "$log.after" aftertrue
  done >> "$out.commands"
  launch_all "$out.commands" "$out.times"
  # The batch: per environment, every model in one process, mlctl then the peer.
  batch_log="$work/logs/batch-$r"
  for env in "${environments[@]}"; do
    refs=() values=()
    for (( i = 1; i <= models; i++ )); do
      printf -v model 'm%04d' "$i"
      refs+=("$model@1") values+=("$work/values/$env/$model.yaml")
    done
    t0=$EPOCHREALTIME
    "$mlctl" deploy render "${refs[@]}" --env "$env" -o "$out/mlctl-batch/" >> "$batch_log.mlctl" 2>&1 ||
      { tail -n 5 "$batch_log.mlctl" >&2; die "mlctl deploy render of $models models --env $env failed"; }
    t1=$EPOCHREALTIME
    "$py" -I "$root/bench/deploy_peer.py" "${values[@]}" -o "$out/peer-batch/" --cache "$work/jinja-cache" >> "$batch_log.peer" 2>&1 ||
      { tail -n 5 "$batch_log.peer" >&2; die "the peer failed on the batch of $env"; }
    t2=$EPOCHREALTIME
    printf '%s %s %s %s\n' "$env" "$t0" "$t1" "$t2" >> "$work/runs/$r.batch"
  done
  diff -r "$out/mlctl" "$out/mlctl-batch" > "$batch_log.diff" || die "mlctl's batch layout differs from its one-at-a-time layout (see $batch_log.diff with --keep)"
  diff -r "$out/peer" "$out/peer-batch" > "$batch_log.diff" || die "the peer's batch layout differs from its one-at-a-time layout"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 5. The outputs. Each layout holds exactly base/kustomization.yaml and, per environment, a file
# per model and the overlay's kustomization.yaml listing the base and all of them. mlctl's objects
# are the six of a direct render, named after the model, in the environment's namespace, with the
# registry's image and artifact digest; the peer's files hold the same objects (parsed and
# compared whole), and how many are the same bytes is reported.
say "checking the $((runs * 2)) layouts"
checked=$("$py" - "$work/runs" "$runs" "$work/values" "${environments[@]}" <<'EOF'
import os, sys, yaml
runs_folder, runs, values_folder, envs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
kinds = ["ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"]
load = lambda path: list(yaml.load_all(open(path, "rb"), Loader=yaml.CSafeLoader))
values = {env: {f[:-5]: yaml.load(open(os.path.join(values_folder, env, f)), Loader=yaml.CSafeLoader)
                for f in os.listdir(os.path.join(values_folder, env))} for env in envs}
def files(top):
    return sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs)
def fail(message):
    sys.exit(f"bench/deploy.sh: {message}")
same_bytes = objects = 0
for r in range(1, runs + 1):
    mlctl, peer = os.path.join(runs_folder, str(r), "mlctl"), os.path.join(runs_folder, str(r), "peer")
    expected = ["base/kustomization.yaml"] + sorted(f"overlays/{env}/{name}" for env in envs
                                                    for name in ["kustomization.yaml"] + [m + ".yaml" for m in values[env]])
    expected.sort()
    for top in (mlctl, peer):
        got = files(top)
        if got != expected:
            extra, lacking = sorted(set(got) - set(expected)), sorted(set(expected) - set(got))
            fail(f"{top} holds {len(got)} files, not the {len(expected)} expected (extra {extra[:5]}, missing {lacking[:5]})")
    for name in expected:
        a, b = os.path.join(mlctl, name), os.path.join(peer, name)
        docs_a, docs_b = load(a), load(b)
        if name.endswith("kustomization.yaml") and name.startswith("overlays/"):
            env = name.split("/")[1]
            want = ["../../base"] + sorted(m + ".yaml" for m in values[env])
            if docs_a[0].get("resources") != want or docs_a[0].get("namespace") != values[env]["m0001"]["namespace"]:
                fail(f"{a} does not list the base and the {len(want) - 1} model files under its namespace")
        elif name.startswith("overlays/"):
            env, model = name.split("/")[1], name.split("/")[2][:-5]
            v = values[env][model]
            if [d["kind"] for d in docs_a] != kinds or any(d["metadata"]["name"] != model or d["metadata"]["namespace"] != v["namespace"] for d in docs_a):
                fail(f"{a}: objects {[(d['kind'], d['metadata'].get('name')) for d in docs_a]}, not the six of {model} in {v['namespace']}")
            pod = docs_a[1]["spec"]["template"]
            if pod["spec"]["containers"][0]["image"] != v["image"] or pod["metadata"]["annotations"]["mlctl.dev/artifact-digest"] != v["artifact_digest"]:
                fail(f"{a}: not the registry's image and artifact digest for {model}")
            objects += len(docs_a)
        if docs_a != docs_b:
            diff = [(x.get("kind"), y.get("kind")) for x, y in zip(docs_a, docs_b) if x != y]
            fail(f"{b} differs from {a} (documents {diff[:3]}): the peer does not render the same objects")
        same_bytes += open(a, "rb").read() == open(b, "rb").read()
print(len(expected), objects // runs, same_bytes // runs)
EOF
) || exit 1
read -r files_per_layout objects_per_layout same_bytes <<< "$checked"

# 6. The numbers: per-process times, then totals, means, medians and the start-up floors.
stats=$("$py" - "$work/runs" "$runs" <<'EOF'
import statistics, sys
folder, runs = sys.argv[1], int(sys.argv[2])
columns = {"mlctl": [], "peer": [], "true": [], "after": [], "aftertrue": []}
totals = {"mlctl": [], "peer": [], "true": []}
floors = {"version": [], "python": [], "imports": []}
for r in range(1, runs + 1):
    run = {"mlctl": 0.0, "peer": 0.0, "true": 0.0}
    for line in open(f"{folder}/{r}.times"):
        label, seconds, _ = line.split()
        kind, what = label.split(":")[:2]
        seconds = float(seconds)
        if kind == "floor":
            floors[what].append(seconds)
            continue
        if kind == "before":  # the peer's render that precedes an "after" one
            continue
        columns[kind].append(seconds)
        if kind in run:
            run[kind] += seconds
    for key in run:
        totals[key].append(run[key])
def q(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]
for key in columns:
    v = columns[key]
    # total (median over runs), mean, median, p95, min, max per process: seconds
    total = statistics.median(totals[key]) if key in totals else sum(v)
    print(key, f"{total:.6f}", f"{statistics.fmean(v):.6f}", f"{statistics.median(v):.6f}",
          f"{q(v, 0.95):.6f}", f"{min(v):.6f}", f"{max(v):.6f}")
for key in floors:
    print(key, f"{statistics.median(floors[key]):.6f}", len(floors[key]))
print("runs", " ".join(f"{t:.3f}" for t in totals["mlctl"]), "/", " ".join(f"{t:.3f}" for t in totals["peer"]))
# The batches: per run, the seconds of all environments' processes; reported as the median run.
batch = {"mlctl": [], "peer": []}
for r in range(1, runs + 1):
    run = {"mlctl": 0.0, "peer": 0.0}
    for line in open(f"{folder}/{r}.batch"):
        _, t0, t1, t2 = line.split()
        run["mlctl"] += float(t1) - float(t0)
        run["peer"] += float(t2) - float(t1)
    for key in run:
        batch[key].append(run[key])
print("batch", f"{statistics.median(batch['mlctl']):.6f}", f"{statistics.median(batch['peer']):.6f}",
      " ".join(f"{t:.3f}" for t in batch["mlctl"]), "/", " ".join(f"{t:.3f}" for t in batch["peer"]))
EOF
)
field() { awk -v k="$1" -v n="$2" '$1 == k { print $n }' <<< "$stats"; }
m_total=$(field mlctl 2) m_mean=$(field mlctl 3) m_median=$(field mlctl 4) m_p95=$(field mlctl 5) m_min=$(field mlctl 6) m_max=$(field mlctl 7)
p_total=$(field peer 2) p_mean=$(field peer 3) p_median=$(field peer 4) p_p95=$(field peer 5) p_min=$(field peer 6) p_max=$(field peer 7)
t_total=$(field true 2) t_mean=$(field true 3) t_median=$(field true 4) t_p95=$(field true 5)
a_mean=$(field after 3) a_median=$(field after 4) at_mean=$(field aftertrue 3) a_count=$(awk -v k="$k_floors" -v r="$runs" 'BEGIN { print k * r }')
f_version=$(field version 2) f_python=$(field python 2) f_imports=$(field imports 2) f_count=$(field version 3)
run_totals=$(awk '$1 == "runs" { $1 = ""; print substr($0, 2) }' <<< "$stats")
b_mlctl=$(field batch 2) b_peer=$(field batch 3)
batch_totals=$(awk '$1 == "batch" { $1 = $2 = $3 = ""; print substr($0, 4) }' <<< "$stats")
b_mlctl_model=$(awk -v s="$b_mlctl" -v n="$renders" 'BEGIN { print s / n }')
b_peer_model=$(awk -v s="$b_peer" -v n="$renders" 'BEGIN { print s / n }')

failed=0
tsv_row() { [[ -z "$tsv" ]] || (IFS=$'\t'; echo "deploy${IFS:0:1}$*") >> "$tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f ms", s * 1000 }'; }
sec() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }
# row LABEL MLCTL_S MLCTL_TEXT PEER PEER_S PEER_TEXT RATIO_TEXT RATIO TARGET RESULT: a table line and a tsv row.
row() {
  local label=$1 mine=$2 mine_text=$3 peer=$4 theirs=$5 theirs_text=$6 ratio_text=$7 r=$8 target=$9 result=${10} kind=judged
  [[ "$result" == fail ]] && failed=1
  [[ "$result" == - ]] && kind=shown
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$mine_text" "$peer" "$theirs_text" "$ratio_text" "$target" "$result"
  tsv_row "$label" "$mine" "$peer" "$theirs" "$r" "$target" "$result" "$kind"
}
thousands() { sed ':a; s/\B[0-9]\{3\}\>/,&/; ta' <<< "$1"; }  # 10000 -> 10,000
r_peer=$(ratio "$p_mean" "$m_mean") r_true=$(ratio "$m_mean" "$t_mean")
under_target() { awk -v v="$1" -v k="$k_render_ms" 'BEGIN { print (v * 1000 < k ? "pass" : "fail") }'; }
result=$(under_target "$m_mean")
peer_name="Jinja2 $("$py" -c 'import jinja2; print(jinja2.__version__)') (python3, a process per render)"

echo
echo "mlctl serving-manifest benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ): $(thousands "$models") models x ${#environments[@]} environments"
echo "(${environments[*]}), $(thousands "$renders") renders per tool per run, one process each, into a kustomize layout; $runs run(s);"
echo "load average $load_before before, $load_after after."
echo "$("$mlctl" version 2>/dev/null | head -n 1); Python $("$py" -c 'import platform; print(platform.python_version())'),"
echo "Jinja2 $("$py" -c 'import jinja2; print(jinja2.__version__)'), PyYAML $("$py" -c 'import yaml; print(yaml.__version__, "with libyaml" if yaml.__with_libyaml__ else "pure Python")')."
echo
echo "| workload | mlctl | peer | peer time | ratio | target | pass/fail |"
echo "|---|---:|---|---:|---|---|---|"
row "render one model in one environment (mean of $(thousands "$renders") processes)" "$m_mean" "$(ms "$m_mean")" \
  "$peer_name" "$p_mean" "$(ms "$p_mean")" "peer/mlctl ${r_peer}x" "$r_peer" "mlctl < ${k_render_ms} ms" "$result"
row "$(thousands "$renders") renders ($(thousands "$models") models x ${#environments[@]} environments), total" "$m_total" "$(sec "$m_total")" \
  "$peer_name" "$p_total" "$(sec "$p_total")" "peer/mlctl $(ratio "$p_total" "$m_total")x" "$(ratio "$p_total" "$m_total")" "-" "-"
row "render one model in one environment, batched (${#environments[@]} processes of $(thousands "$models") models; per model)" "$b_mlctl_model" "$(ms "$b_mlctl_model")" \
  "${peer_name%% (*} (python3, a process per environment)" "$b_peer_model" "$(ms "$b_peer_model")" "peer/mlctl $(ratio "$b_peer" "$b_mlctl")x" "$(ratio "$b_peer" "$b_mlctl")" \
  "mlctl < ${k_render_ms} ms" "$(under_target "$b_mlctl_model")"
row "render one model, process start-up floor" "$m_mean" "$(ms "$m_mean")" \
  "/usr/bin/true (spawned the same way, with mlctl's arguments)" "$t_mean" "$(ms "$t_mean")" "mlctl/true ${r_true}x" "$r_true" "-" "-"
row "render one model right after a python3 process (the peer; mean of $(thousands "$a_count"))" "$a_mean" "$(ms "$a_mean")" \
  "mlctl, renders back to back (the first row)" "$m_mean" "$(ms "$m_mean")" "after/back to back $(ratio "$a_mean" "$m_mean")x" "$(ratio "$a_mean" "$m_mean")" "-" "-"
echo
echo "Per process (ms): mlctl median $(ms "$m_median" | cut -d' ' -f1), p95 $(ms "$m_p95" | cut -d' ' -f1), min-max $(ms "$m_min" | cut -d' ' -f1)-$(ms "$m_max" | cut -d' ' -f1);"
echo "peer median $(ms "$p_median" | cut -d' ' -f1), p95 $(ms "$p_p95" | cut -d' ' -f1), min-max $(ms "$p_min" | cut -d' ' -f1)-$(ms "$p_max" | cut -d' ' -f1);"
echo "/usr/bin/true median $(ms "$t_median" | cut -d' ' -f1), p95 $(ms "$t_p95" | cut -d' ' -f1). Totals per run (s, mlctl / peer): $run_totals."
echo "Batched, seconds for all ${#environments[@]} environments per run (mlctl / peer): $batch_totals."
echo "Beyond the start-up floor (mean minus true's mean): mlctl $(ms "$(awk -v a="$m_mean" -v b="$t_mean" 'BEGIN { print a - b }')"),"
echo "the peer $(ms "$(awk -v a="$p_mean" -v b="$t_mean" 'BEGIN { print a - b }')")."
echo
echo "Start-up floors (medians of $f_count each): 'mlctl version' $(ms "$f_version");"
echo "python3 -I -c pass $(ms "$f_python"); python3 importing argparse, jinja2 and yaml $(ms "$f_imports")."
echo "Right after a peer render: mlctl median $(ms "$a_median" | cut -d' ' -f1) ms, /usr/bin/true mean $(ms "$at_mean") (back to back $(ms "$t_mean")):"
echo "on this machine a python3 process that has just ended slows the process after it, which the loop of"
echo "earlier versions of this benchmark (mlctl, the peer and true in turn for each render) charged to mlctl."
echo
echo "Checked: each layout holds $(thousands "$files_per_layout") files (base/kustomization.yaml, $(thousands "$models") model files and a"
echo "kustomization.yaml listing them per environment) with $(thousands "$objects_per_layout") objects; mlctl's are the six objects of each"
echo "model, in its environment's namespace, with the registry's image and artifact digest; the peer's"
echo "parse to the same objects, and $(thousands "$same_bytes") of its $(thousands "$files_per_layout") files are byte for byte mlctl's. Each tool's"
echo "batched layout is byte for byte its one-at-a-time layout."

if [[ "$check" == yes && "$failed" == 1 ]]; then
  say "mlctl missed the target (--check)"
  exit 1
fi
