#!/usr/bin/env bash
# The build benchmark: `mlctl build --push` against `buildah bud --layers` + `buildah push` and
# `podman build --layers` + `podman push` with the equivalent Dockerfile (mlctl's own
# --print-dockerfile, used as it is), on one project (200 source files, 1 GiB of weights), one
# local registry, the same busybox base, each tool with its own storage, caches and repository:
# cold, no-change and one-line-change build+push; and mlctl's weights layer against the
# `tar -cf - weights | openssl dgst -sha256` floor. Each measurement runs once. See bench/README.md.
#
# usage: bench/build.sh [--quick] [--check] [--keep] [--peers LIST] [--tsv FILE]
#   --quick       100 MiB of weights instead of 1 GiB, and buildah alone as the peer unless --peers
#                 says otherwise (a smoke run; the targets assume 1 GiB)
#   --check       exit 1 when mlctl misses a target (the table is printed either way)
#   --keep        keep the work folder (logs, Dockerfiles, storage) and print where it is
#   --peers LIST  comma-separated, from buildah, podman, buildah-dirs (buildah with a hand-written
#                 Dockerfile that copies whole folders); default all three (buildah with --quick:
#                 podman builds with buildah's own code, so a smoke run learns nothing more from it)
#   --tsv FILE    also append one tab-separated row per workload and peer (for bench/run)
# environment: MLCTL (the binary; default: build a Release mlctl into build/release),
#   TMPDIR (where the work folder goes; it needs about 10 GiB), BENCH_STORAGE_DRIVER
#   (buildah/podman storage driver, default overlay)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"

quick=no check=no keep=no peer_list="" tsv=""
while (( $# )); do
  case "$1" in
    --quick) quick=yes ;;
    --check) check=yes ;;
    --keep) keep=yes ;;
    --peers) peer_list=${2:?--peers needs a list}; shift ;;
    --tsv) tsv=${2:?--tsv needs a file}; shift ;;
    -h|--help) bench_usage; exit 0 ;;
    *) echo "bench/build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$peer_list" ]]; then
  if [[ "$quick" == yes ]]; then peer_list=buildah; else peer_list=buildah,podman,buildah-dirs; fi
fi
peers=()
IFS=, read -ra wanted <<< "$peer_list"
for peer in "${wanted[@]}"; do
  case "$peer" in
    buildah|podman|buildah-dirs) peers+=("$peer") ;;
    *) echo "bench/build.sh: --peers: '$peer' is not buildah, podman or buildah-dirs" >&2; exit 2 ;;
  esac
done

if [[ "$quick" == yes ]]; then weights_mib=100; else weights_mib=1024; fi
driver=${BENCH_STORAGE_DRIVER:-overlay}
# Targets from issue 3, judged against buildah with the equivalent Dockerfile: peer/mlctl at
# least this much, and for the weights layer mlctl/floor at most this much.
k_cold=4 k_nochange=50 k_change=10 k_floor=1.25
declare -A peer_title=([buildah]="buildah" [podman]="podman" [buildah-dirs]="buildah (folder COPY)")

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench/build.sh: %s\n' "$*" >&2; exit 1; }

# Tools first, so a missing one costs nothing.
missing=()
for tool in docker-registry skopeo umoci openssl tar git curl unshare sha256sum /usr/bin/python3 /bin/busybox; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
for peer in "${peers[@]}"; do command -v "${peer%-dirs}" >/dev/null || missing+=("${peer%-dirs}"); done
[[ -n "${MLCTL:-}" ]] || command -v cmake >/dev/null || missing+=(cmake)
(( ${#missing[@]} == 0 )) || die "missing: ${missing[*]}; install them with: scripts/install-deps build bench"
(( EUID == 0 )) || say "not root: buildah and podman run rootless, with other storage than in bench/RESULTS.md"

if [[ -n "${MLCTL:-}" ]]; then
  mlctl=$MLCTL
else
  say "building a Release mlctl in build/release"
  cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$root/build/release" -j "$(nproc)" --target mlctl_bin >/dev/null
  mlctl="$root/build/release/cli/mlctl"
fi
"$mlctl" build --help >/dev/null 2>&1 || die "$mlctl has no working 'build' command"

work=$(mktemp -d "${TMPDIR:-/tmp}/mlctl-bench-XXXXXX")
export CONTAINERS_CONF="$root/tests/data/containers.conf"

# buildah, podman and skopeo share one blob-info cache per user (for root
# /var/lib/containers/cache, with no flag to move it); through it podman would learn where
# buildah pushed the same layers and mount them instead of uploading. Each tool gets its own,
# empty at the start: for root a bind mount in a private mount namespace (which also takes the
# tool's overlay mounts away when it exits), else XDG_DATA_HOME.
# Every tool command is bounded in time (a hung push must not hang the benchmark).
k_timeout=1200
isolated() {  # isolated NAME COMMAND...
  local cache="$work/blob-info-cache/$1"
  mkdir -p "$cache"
  if (( EUID == 0 )); then
    mkdir -p /var/lib/containers/cache
    timeout "$k_timeout" unshare -m -- sh -c 'mount --bind "$0" /var/lib/containers/cache && exec "$@"' \
      "$cache" "${@:2}"
  else
    XDG_DATA_HOME="$cache" timeout "$k_timeout" "${@:2}"
  fi
}
engine() {  # engine PEER COMMAND-ARGS...: buildah or podman with the peer's own storage
  local program=${1%-dirs}
  isolated "$1" "$program" --root "$work/$1/root" --runroot "$work/$1/run" --storage-driver "$driver" "${@:2}"
}

registry_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$registry_pid" ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  if [[ "$keep" == yes ]]; then
    say "kept $work"
  else
    # Rootless storage holds files only the tool's user namespace may delete.
    local peer
    for peer in "${peers[@]}"; do
      [[ -d "$work/$peer" ]] && engine "$peer" rmi --all --force >/dev/null 2>&1 || true
    done
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/logs"

# A local Distribution registry on a port nobody uses now; a lost race for it is retried.
start_registry() {
  mkdir -p "$work/registry/storage"
  local attempt deadline
  for attempt in 1 2 3; do
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
    cat > "$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: 127.0.0.1:$port
  secret: mlctl-bench
EOF
    docker-registry serve "$work/registry/config.yml" > "$work/logs/registry.log" 2>&1 &
    registry_pid=$!
    deadline=$((SECONDS + 20))
    while (( SECONDS < deadline )); do
      kill -0 "$registry_pid" 2>/dev/null || break
      curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/v2/" 2>/dev/null && return 0
      sleep 0.1
    done
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
    registry_pid=""
  done
  cat "$work/logs/registry.log" >&2
  die "docker-registry did not answer within 20 s (3 attempts)"
}

# A static busybox as /bin/sh, assembled with umoci so that no tool's image store is warmed.
push_base() {
  local layout="$work/base/layout" rootfs="$work/base/rootfs"
  mkdir -p "$rootfs/bin"
  cp /bin/busybox "$rootfs/bin/busybox"
  ln -s busybox "$rootfs/bin/sh"
  {
    umoci init --layout "$layout" &&
      umoci new --image "$layout:1" &&
      umoci insert --image "$layout:1" "$rootfs/bin" /bin &&
      umoci config --image "$layout:1" --config.env PATH=/bin --config.cmd /bin/sh &&
      isolated skopeo skopeo copy --dest-tls-verify=false "oci:$layout:1" "docker://$registry/base:1"
  } > "$work/logs/base.log" 2>&1 || { cat "$work/logs/base.log" >&2; die "could not make the busybox base image"; }
}

# 200 Python-like modules of 2-8 KiB in 8 packages, the same bytes every run, each with the
# line the code-change step edits.
generate_sources() {
  /usr/bin/python3 - "$1" <<'EOF'
import os, random, sys
root = sys.argv[1]
rng = random.Random(20240101)
packages = ["api", "data", "features", "models", "training", "serving", "evaluation", "utils"]
for index in range(200):
    package = packages[index // 25]
    folder = os.path.join(root, "src", "app", package)
    os.makedirs(folder, exist_ok=True)
    size = rng.randint(2048, 8192)
    lines = [f'"""{package} module {index}: generated for the mlctl build benchmark."""', "",
             "import math", "", "THRESHOLD = 1", ""]
    function = 0
    while sum(len(line) + 1 for line in lines) < size:
        a, b, c, m, n = (rng.randint(2, 997) for _ in range(5))
        lines += [f"def step_{index}_{function}(x, y):",
                  f'    """Blend x and y over {n} rounds modulo {m}."""',
                  f"    total = x * {a} + y * {b}",
                  f"    for round_ in range({n}):",
                  f"        total = (total + round_ * {c}) % {m}",
                  "    return math.sqrt(total) if total > THRESHOLD else total", "", ""]
        function += 1
    with open(os.path.join(folder, f"module_{index:03d}.py"), "w") as out:
        out.write("\n".join(lines) + "\n")
EOF
}

# Weights that do not compress, the same bytes every run: an AES-CTR keystream.
make_weights() {  # make_weights FILE MIB
  mkdir -p "$(dirname "$1")"
  openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 \
    -in <(head -c "$(($2 * 1024 * 1024))" /dev/zero) -out "$1"
}

make_project() {
  local project="$work/project"
  mkdir -p "$project"
  cat > "$project/mlctl.yaml" <<EOF
name: bench
version: 0.1.0
image:
  repository: $registry/bench
  base: $registry/base:1
  entrypoint: [/bin/sh, -c, "ls /app"]
EOF
  generate_sources "$project"
  make_weights "$project/weights/model.bin" "$weights_mib"
  # The weights alone, for the floor: the same file (a hard link), no git, a scratch base. Linked
  # before `git add`: a link changes the file's ctime, and a stat that differs from the index
  # makes git status re-hash the whole file.
  mkdir -p "$work/weights-only/weights"
  ln "$project/weights/model.bin" "$work/weights-only/weights/model.bin"
  # Every file a second older than the index, so that none is "racily clean" (git status would
  # re-hash those on every run; a work tree edited a while after its last commit has none).
  sleep 1
  # Stored uncompressed in git: deflating 1 GiB of random bytes would only cost time.
  {
    git -C "$project" init -q -b main &&
      git -C "$project" -c core.compression=0 -c core.looseCompression=0 add -A &&
      GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_DATE=2024-01-01T00:00:00Z \
        git -C "$project" -c user.name=bench -c user.email=bench@example.invalid commit -q -m "benchmark workload"
  } > "$work/logs/git.log" 2>&1 || { cat "$work/logs/git.log" >&2; die "could not commit the workload"; }
  cat > "$work/weights-only/mlctl.yaml" <<EOF
name: weights
version: 0.1.0
image:
  repository: $registry/weights
  base: scratch
EOF
}

# mlctl's Dockerfile as it is; and the one a person would write, which copies whole folders
# (the same files in the same places, fewer layers), because buildah's per-source cost makes the
# file-by-file COPY lines of the equivalent Dockerfile much slower for it.
write_dockerfiles() {
  "$mlctl" -C "$work/project" build --print-dockerfile > "$work/Dockerfile" 2> "$work/logs/dockerfile.log" ||
    { cat "$work/logs/dockerfile.log" >&2; die "mlctl build --print-dockerfile failed"; }
  grep -qx "FROM $registry/base:1" "$work/Dockerfile" ||
    die "the equivalent Dockerfile has no 'FROM $registry/base:1' line; see $work/Dockerfile"
  # The folder version holds the same files only if the equivalent Dockerfile copies exactly
  # what is under weights/ and src/ plus mlctl.yaml.
  local listed expected
  listed=$(grep '^COPY ' "$work/Dockerfile" | grep -o '"[^"]*"' | grep -v '^"/app/' |
    grep -c '^"\(weights/\|src/\|mlctl.yaml"\)' || true)
  expected=$(cd "$work/project" && find weights src mlctl.yaml -type f | wc -l)
  [[ "$listed" == "$expected" ]] ||
    die "the equivalent Dockerfile copies $listed of the $expected workload files; see $work/Dockerfile"
  awk '/^COPY / { next } { print } /^WORKDIR / {
         print "COPY weights/ /app/weights/"; print "COPY mlctl.yaml /app/"; print "COPY src/ /app/src/" }' \
    "$work/Dockerfile" > "$work/Dockerfile.dirs"
}

edited_file="src/app/models/module_090.py"
edit_code() { sed -i 's/^THRESHOLD = 1$/THRESHOLD = 2/' "$work/project/$edited_file"; }
restore_code() { sed -i 's/^THRESHOLD = 2$/THRESHOLD = 1/' "$work/project/$edited_file"; }

mark() { echo "@@ $1 $(date +%s.%N)"; }
seconds=""
measure() {  # measure NAME COMMAND...: runs it once (output to logs/NAME.log), sets $seconds
  local log="$work/logs/$1.log" start end steps
  # Each command starts with nothing left to write back: otherwise one that writes (mlctl caches
  # its layers, a push lands in the registry's storage) waits for the gigabytes the step before it
  # wrote (the workload itself, git's copy of the weights, the previous push).
  sync
  start=$(date +%s.%N)
  if ! "${@:2}" > "$log" 2>&1; then
    say "$1 failed; the end of $log:"
    tail -n 40 "$log" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  # Sub-steps between the marks a command printed, e.g. "bud 30.1 s, push 3.9 s".
  steps=$(awk '$1 == "@@" { if (name != "") { printf "%s%s %.1f s", sep, name, $3 - at; sep = ", " }
                            name = $2; at = $3 }' "$log")
  step_times[$1]=$steps
  say "$(printf '%-22s %8.2f s' "$1" "$seconds")${steps:+  ($steps)}"
}

# One build+push per tool, each leaving the manifest digest it pushed in $work/TOOL-PHASE.digest.
build_push_mlctl() {  # build_push_mlctl PHASE
  MLCTL_CACHE_DIR="$work/mlctl-cache" timeout "$k_timeout" "$mlctl" -C "$work/project" -o json \
    build --push -t 0.1.0 --digest-file "$work/mlctl-$1.digest" > "$work/logs/mlctl-$1.json"
}
build_push_peer() {  # build_push_peer PEER PHASE
  local dockerfile="$work/Dockerfile" image="$registry/bench-$1:0.1.0" build=bud
  [[ "$1" == buildah-dirs ]] && dockerfile="$work/Dockerfile.dirs"
  [[ "$1" == podman ]] && build=build
  mark "$build" &&
    engine "$1" "$build" --layers --tls-verify=false -f "$dockerfile" -t "$image" "$work/project" &&
    mark push &&
    engine "$1" push --tls-verify=false --digestfile "$work/$1-$2.digest" "$image" "docker://$image" &&
    mark end
}

# The registry must serve the tag at the digest the tool reported: the time of a push that did
# not land would be worthless.
declare -A times digests step_times
verify_push() {  # verify_push TOOL REPOSITORY PHASE
  local reported served
  reported=$(tr -d '\n' < "$work/$1-$3.digest")
  served="sha256:$(isolated skopeo skopeo inspect --raw --tls-verify=false "docker://$registry/$2:0.1.0" |
    sha256sum | cut -d' ' -f1)"
  [[ "$reported" == "$served" ]] || die "$1 $3: reported $reported but $registry/$2:0.1.0 is $served"
  digests[$1-$3]=$reported
}

run_tool() {  # run_tool TOOL REPOSITORY COMMAND...
  local phase
  for phase in cold nochange change; do
    [[ "$phase" == change ]] && edit_code
    measure "$1-$phase" "${@:3}" "$phase"
    times[$1-$phase]=$seconds
    verify_push "$1" "$2" "$phase"
    [[ "$phase" == change ]] && restore_code
  done
  [[ "${digests[$1-change]}" != "${digests[$1-cold]}" ]] || die "$1: the code change did not change the image"
}

floor() ( cd "$work/weights-only" && tar -cf - weights | openssl dgst -sha256 )
weights_layer() {
  MLCTL_CACHE_DIR="$work/weights-cache" timeout "$k_timeout" "$mlctl" -C "$work/weights-only" -o json \
    build --compression auto > "$work/logs/weights.json"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_registry
registry="127.0.0.1:$port"
say "registry on $registry; work folder $work"
push_base
say "generating the workload: 200 source files, ${weights_mib} MiB of weights"
make_project
write_dockerfiles

measure floor floor
times[floor]=$seconds
measure mlctl-weights weights_layer
times[weights]=$seconds

run_tool mlctl bench build_push_mlctl
[[ "${digests[mlctl-nochange]}" == "${digests[mlctl-cold]}" ]] ||
  die "mlctl: the no-change rebuild gave ${digests[mlctl-nochange]}, not ${digests[mlctl-cold]}"
for peer in "${peers[@]}"; do run_tool "$peer" "bench-$peer" build_push_peer "$peer"; done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

failed=0
tsv_row() { [[ -z "$tsv" ]] || (IFS=$'\t'; echo "build${IFS:0:1}$*") >> "$tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a / b }'; }
meets() { awk -v r="$1" -v t="$2" -v op="$3" 'BEGIN { exit !(op == ">=" ? r >= t : r <= t) }'; }
row() {  # row LABEL PHASE TARGET
  local label=$1 phase=$2 target=$3 mine=${times[mlctl-$2]} verdict="-" cells="" ratios="" peer r result
  for peer in buildah podman buildah-dirs; do
    if [[ -z "${times[$peer-$phase]:-}" ]]; then
      cells+=" - |"
      continue
    fi
    r=$(ratio "${times[$peer-$phase]}" "$mine")
    cells+=$(printf ' %.2f |' "${times[$peer-$phase]}")
    ratios+=$(printf '%s%s %.1fx' "${ratios:+, }" "${peer_title[$peer]}" "$r")
    result=fail
    meets "$r" "$target" ">=" && result=pass
    tsv_row "$label" "$mine" "${peer_title[$peer]}" "${times[$peer-$phase]}" "$r" ">= ${target}x" "$result" \
      "$([[ "$peer" == buildah ]] && echo judged || echo shown)"
    if [[ "$peer" == buildah ]]; then
      verdict=$result
      [[ "$result" == pass ]] || failed=1
    fi
  done
  printf '| %s | %.2f |%s %s | >= %sx | %s |\n' "$label" "$mine" "$cells" "${ratios:--}" "$target" "$verdict"
}

floor_ratio=$(ratio "${times[weights]}" "${times[floor]}")
floor_result=fail
meets "$floor_ratio" "$k_floor" "<=" && floor_result=pass
[[ "$floor_result" == pass ]] || failed=1

echo
echo "mlctl build benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ): ${weights_mib} MiB of weights, storage driver $driver,"
echo "each measurement run once; load average $load_before before, $load_after after."
echo
echo "| workload | mlctl s | buildah s | podman s | buildah (folder COPY) s | ratio (peer/mlctl) | target | pass/fail |"
echo "|---|---:|---:|---:|---:|---|---|---|"
row "cold build+push" cold "$k_cold"
row "no-change rebuild+push" nochange "$k_nochange"
row "one-line code change rebuild+push" change "$k_change"
printf '| weights layer alone, %s MiB | %.2f | floor %.2f | - | - | mlctl/floor %.2fx | <= %sx | %s |\n' \
  "$weights_mib" "${times[weights]}" "${times[floor]}" "$floor_ratio" "$k_floor" "$floor_result"
tsv_row "weights layer alone, ${weights_mib} MiB" "${times[weights]}" "tar|sha256 floor" "${times[floor]}" \
  "$floor_ratio" "<= ${k_floor}x" "$floor_result" judged
echo
echo "Pass/fail is judged against buildah with the equivalent Dockerfile (issue 3). Peer sub-steps:"
for peer in "${peers[@]}"; do
  for phase in cold nochange change; do echo "- ${peer_title[$peer]} $phase: ${step_times[$peer-$phase]}"; done
done
/usr/bin/python3 - "$work/logs" <<'EOF'
import json, os, sys
for phase in ("cold", "nochange", "change"):
    try:
        with open(os.path.join(sys.argv[1], f"mlctl-{phase}.json")) as f:
            doc = json.load(f)
        layers = ", ".join(f"{l.get('name')} (cached {str(l.get('cached')).lower()}, push {l.get('push')})"
                           for l in doc.get("layers", []))
        print(f"- mlctl {phase}: {doc.get('bytes_uploaded')} bytes uploaded; layers: {layers}")
    except (OSError, ValueError, AttributeError) as error:
        print(f"- mlctl {phase}: no layer report ({error})")
EOF

if [[ "$check" == yes && "$failed" == 1 ]]; then
  say "mlctl missed a target (--check)"
  exit 1
fi
