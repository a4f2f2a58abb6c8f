#!/usr/bin/env bash
# The model registry benchmark (issue 4): a registry of 1,000,000 versions across 1,000 models,
# loaded through `mlctl model import` from a JSON Lines file in the shape `mlctl model export`
# writes; then `mlctl model register`, `list NAME --limit 20`, `show NAME@production` and
# `history NAME` (whole log, and `--alias production --at TIME`), each against the same SQL run by
# the `sqlite3` shell on the same file (the floor). Every measurement is a whole process, start
# included on both sides: the median of N runs, mlctl and sqlite3 alternating. See bench/README.md.
#
# usage: bench/models.sh [--quick] [--check] [--keep] [--runs N] [--tsv FILE]
#   --quick       100 models x 1,000 versions = 100,000 versions (a smoke run; targets assume 1M)
#   --check       exit 1 when mlctl misses a target (the table is printed either way)
#   --keep        keep the work folder (the database, the import file, logs) and print where it is
#   --runs N      runs per query measurement (default 21; register gets 50 unless N is larger)
#   --tsv FILE    also append one tab-separated row per workload (for bench/run)
# environment: MLCTL (the binary; default: build a Release mlctl into build/release),
#   TMPDIR (where the work folder goes; the full run needs about 3 GiB)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

source "$root/bench/lib.sh"
runs=21
bench_options "$@"
register_runs=$(( runs > 50 ? runs : 50 ))

versions_per_model=1000
if [[ "$quick" == yes ]]; then models=100; else models=1000; fi
# Targets from issue 4: list/show at most 2x the sqlite3 floor and under 20 ms; register under
# 5 ms excluding the artifact copy (measured in process: bench/register_latency.cpp).
k_ratio=2 k_query_ms=20 k_register_ms=5

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench/models.sh: %s\n' "$*" >&2; exit 1; }

missing=()
for tool in sqlite3 /usr/bin/python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[[ -n "${MLCTL:-}" ]] || command -v cmake >/dev/null || missing+=(cmake)
(( ${#missing[@]} == 0 )) || die "missing: ${missing[*]}; install them with: scripts/install-deps build bench"
py=/usr/bin/python3

if [[ -n "${MLCTL:-}" ]]; then
  # Absolute: the benchmark runs in its work folder.
  if [[ "$MLCTL" == */* ]]; then mlctl=$(realpath "$MLCTL"); else mlctl=$(command -v "$MLCTL" || echo "$MLCTL"); fi
  # The in-process register probe is built with it (bench/register_latency.cpp).
  register_latency=${REGISTER_LATENCY:-$(dirname "$mlctl")/../bench/register_latency}
else
  say "building a Release mlctl in build/release"
  cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$root/build/release" -j "$(nproc)" --target mlctl_bin register_latency >/dev/null
  mlctl="$root/build/release/cli/mlctl"
  register_latency="$root/build/release/bench/register_latency"
fi
[[ -x "$register_latency" ]] || die "no $register_latency: build the target register_latency next to mlctl, or set REGISTER_LATENCY"
register_latency=$(realpath "$register_latency")
"$mlctl" model --help >/dev/null 2>&1 || die "$mlctl has no working 'model' command"

work=$(mktemp -d "${TMPDIR:-/tmp}/mlctl-bench-models-XXXXXX")
cleanup() {
  local rc=$?
  if [[ "$keep" == yes ]]; then say "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/logs" "$work/shape"
db="$work/registry.db"
# No project around the work folder (artifacts go next to the database), one actor, no git.
cd "$work"
export MLCTL_ACTOR=bench
unset MLCTL_REGISTRY_DB MLCTL_ARTIFACT_STORE || true

# 1. The exact shape of an export: a tiny registry made by mlctl itself, exported.
say "exporting a small registry to copy the shape of 'mlctl model export'"
echo "shape" > "$work/shape/model.bin"
{
  "$mlctl" model register shape --artifact "$work/shape/model.bin" --metric auc=0.91 --param lr=0.01 \
    --tag team=fraud --flavor onnx --description "shape probe" --run run-1 --registry-db "$work/shape/r.db" &&
    "$mlctl" model register shape --artifact "$work/shape/model.bin" --metric auc=0.92 \
      --registry-db "$work/shape/r.db" &&
    "$mlctl" model promote shape 1 --to production --reason first --registry-db "$work/shape/r.db" &&
    "$mlctl" model promote shape 2 --to production --reason better --registry-db "$work/shape/r.db" &&
    "$mlctl" model export --registry-db "$work/shape/r.db" > "$work/shape/export.jsonl"
} > "$work/logs/shape.log" 2>&1 || { cat "$work/logs/shape.log" >&2; die "could not make the shape export"; }

# 2. The workload: every model has 1,000 versions (each with its register audit entry), aliases
# production and staging, and 20 promotions of production and 10 of staging, one per 50 and 100
# versions, so `history` and `history --at` have real rows. Keys are ordered and formatted as in
# the shape export; the generator checks that its lines have exactly the keys of that export.
say "generating $models models x $versions_per_model versions as JSON Lines"
"$py" - "$work/shape/export.jsonl" "$work/import.jsonl" "$models" "$versions_per_model" <<'EOF'
import datetime, hashlib, json, random, sys
shape_file, out_file, models, per_model = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
shape = {}
for line in open(shape_file):
    doc = json.loads(line)
    shape.setdefault(doc["kind"], list(doc.keys()))
rng = random.Random(4)
dump = lambda d: json.dumps(d, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
start = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)
def stamp(seconds):
    t = start + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
flavors = ["onnx", "pytorch", "sklearn", "xgboost"]
checked = set()
with open(out_file, "w") as out:
    for m in range(models):
        name = f"model-{m:04d}"
        t0 = m * 7
        lines = [{"kind": "model", "name": name, "description": f"benchmark model {m}",
                  "tags": {"team": f"team-{m % 17}", "domain": "fraud"}, "created_at": stamp(t0)}]
        audit = []
        aliases = {}
        for v in range(1, per_model + 1):
            t = t0 + v * 3600
            digest = hashlib.sha256(f"{name}/{v}".encode()).hexdigest()
            lines.append({
                "kind": "version", "name": name, "version": v,
                "artifact": {"uri": f"file:///srv/mlctl/artifacts/sha256/{digest}", "digest": f"sha256:{digest}",
                             "size": rng.randint(10_000_000, 900_000_000), "directory": False},
                "flavor": flavors[m % 4],
                "params": {"lr": f"{rng.choice([0.1, 0.01, 0.001])}", "epochs": str(rng.randint(5, 50)),
                           "batch_size": str(rng.choice([32, 64, 128]))},
                "metrics": {"auc": round(rng.uniform(0.80, 0.99), 4), "f1": round(rng.uniform(0.5, 0.9), 4),
                            "loss": round(rng.uniform(0.05, 0.6), 4)},
                "tags": {"team": f"team-{m % 17}", "dataset": f"2023-{1 + v % 12:02d}"},
                "description": f"nightly training run {v}",
                "created_at": stamp(t), "created_by": "ci",
                "lineage": {"git": {"branch": "main", "commit": hashlib.sha1(f"{name}{v}".encode()).hexdigest(),
                                    "dirty": False, "repository": f"https://git.example.com/ml/{name}.git"},
                            "image": f"registry.example.com/ml/{name}@sha256:{digest}",
                            "run": f"run-{m}-{v}",
                            "datasets": {"train": f"sha256:{hashlib.sha256(f'train{v}'.encode()).hexdigest()}"}},
                "archived": False})
            audit.append({"kind": "audit", "name": name, "time": stamp(t), "actor": "ci", "action": "register",
                          "alias": None, "version": v, "old_value": None, "new_value": str(v), "reason": ""})
            for alias, every in (("production", 50), ("staging", 100)):
                if v % every == 0:
                    old = aliases.get(alias)
                    aliases[alias] = v
                    audit.append({"kind": "audit", "name": name, "time": stamp(t + 600), "actor": "release-bot",
                                  "action": "alias.move" if old else "alias.set", "alias": alias, "version": v,
                                  "old_value": str(old) if old else None, "new_value": str(v),
                                  "reason": f"promote {v}"})
        for alias in sorted(aliases):
            lines.append({"kind": "alias", "name": name, "alias": alias, "version": aliases[alias]})
        for doc in lines + audit:
            if doc["kind"] not in checked:
                if sorted(doc.keys()) != sorted(shape[doc["kind"]]):
                    sys.exit(f"generated {doc['kind']} keys {sorted(doc)} differ from the export's {sorted(shape[doc['kind']])}")
                checked.add(doc["kind"])
            out.write(dump(doc) + "\n")
EOF
lines=$(wc -l < "$work/import.jsonl")
bytes=$(stat -c %s "$work/import.jsonl")

# 3. The real load path, timed once.
say "importing $lines records ($((bytes / 1024 / 1024)) MiB) with mlctl model import"
t0=$(date +%s.%N)
"$mlctl" model import "$work/import.jsonl" --registry-db "$db" > "$work/logs/import.log" 2>&1 ||
  { tail -n 20 "$work/logs/import.log" >&2; die "mlctl model import failed"; }
t1=$(date +%s.%N)
import_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
count=$(sqlite3 "$db" "SELECT count(*) FROM versions")
(( count == models * versions_per_model )) || die "the registry holds $count versions, not $((models * versions_per_model))"
db_mib=$(( $(stat -c %s "$db") / 1024 / 1024 ))
say "imported in $import_seconds s; $count versions, database $db_mib MiB"
rm -f "$work/import.jsonl"

# The models queried: one in the middle of the file (every model has the same shape).
name=$(printf 'model-%04d' $((models / 2)))
reg_name=$(printf 'model-%04d' $((models / 2 + 1)))
at_time=$(sqlite3 "$db" "SELECT a.time FROM audit a JOIN models m ON m.id = a.model_id WHERE m.name = '$name' AND a.alias = 'production' ORDER BY a.id LIMIT 1 OFFSET 9")
echo "register probe" > "$work/tiny.bin"

# 4. The floor: the SQL the registry runs, taken from its source (string literals concatenated,
# parameters filled in as literals), run by the sqlite3 shell with the pragmas mlctl sets.
"$py" - "$root" "$work" "$name" "$reg_name" "$at_time" <<'EOF'
import re, sys, json
root, work, name, reg_name, at_time = sys.argv[1:]
def literals(path):
    """Every run of adjacent C++ string literals in a file, concatenated."""
    text = open(f"{root}/{path}").read()
    runs, current, last_end = [], [], None
    for m in re.finditer(r'R"sql\((.*?)\)sql"|"((?:[^"\\\n]|\\.)*)"', text, re.S):
        gap = text[last_end:m.start()] if last_end is not None else "x"
        piece = m.group(1) if m.group(1) is not None else m.group(2).encode().decode("unicode_escape")
        if current and gap.strip() == "":
            current.append(piece)
        else:
            if current: runs.append("".join(current))
            current = [piece]
        last_end = m.end()
    if current: runs.append("".join(current))
    return runs
def find(path, marker):
    hits = [s for s in literals(path) if marker in s]
    if len(hits) != 1: sys.exit(f"bench/models.sh: {len(hits)} SQL strings with '{marker}' in {path}; update the benchmark")
    return hits[0]
def q(v):
    if v is None: return "NULL"
    if isinstance(v, int): return str(v)
    return "'" + str(v).replace("'", "''") + "'"
def fill(sql, values):
    """Bind ?, ?N as SQL literals, the way sqlite numbers them."""
    out, nxt = [], 0
    for part in re.split(r"(\?\d*)", sql):
        if part.startswith("?"):
            index = int(part[1:]) if len(part) > 1 else nxt + 1
            nxt = max(nxt, index)
            out.append(q(values[index - 1]))
        else:
            out.append(part)
    return "".join(out)
select = find("lib/mlctl/models/registry_rows.hpp", "FROM versions v JOIN models m")
model_id = find("lib/mlctl/models/registry.cpp", "SELECT id FROM models WHERE name = ?")
list_tail = find("lib/mlctl/models/registry.cpp", "LIMIT ? OFFSET ?").replace("{}", "\x00")
aliases_of = find("lib/mlctl/models/registry.cpp", "SELECT alias FROM aliases WHERE model_id = ? AND version = ?")
aliases_of_model = find("lib/mlctl/models/registry.cpp", "SELECT alias, version FROM aliases WHERE model_id = ? ORDER BY alias")
show_alias = find("lib/mlctl/models/registry.cpp", "(SELECT version FROM aliases WHERE model_id = v.model_id AND alias = ?)")
history = find("lib/mlctl/models/aliases.cpp", "FROM audit WHERE model_id = ? AND (?2 IS NULL")
history_at = find("lib/mlctl/models/aliases.cpp", "b.time <= ?2")
next_version = find("lib/mlctl/models/registry.cpp", "coalesce(max(version), 0) + 1")
insert_model = find("lib/mlctl/models/registry.cpp", "INSERT INTO models(name, created_at)")
insert_version = find("lib/mlctl/models/registry_rows.cpp", "INSERT INTO versions(")
insert_audit = find("lib/mlctl/models/registry.cpp", "INSERT INTO audit(")
mid = f"({fill(model_id, [name])})"
# list_versions: fmt::format("{} WHERE v.model_id = ? AND {} ORDER BY {} {}, v.version {} LIMIT ? OFFSET ?",
#   select, filter "1", order "v.version", "DESC", "DESC"); then the model's aliases.
parts = list_tail.split("\x00")
list_sql = select + parts[1] + "1" + parts[2] + "v.version" + parts[3] + "DESC" + parts[4] + "DESC" + parts[5]
list_main = fill(list_sql.replace("v.model_id = ?", "v.model_id = " + mid, 1), [20, 0])
show_sql = select + " WHERE v.model_id = ? AND v.version = " + show_alias
show_main = fill(show_sql.replace("v.model_id = ?", "v.model_id = " + mid, 1), ["production"])
hist = fill(history.replace("model_id = ?", "model_id = " + mid, 1), [None, None])
hist_at = fill(history_at.replace("?1", mid), [None, at_time, "production"])
pragmas = "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
queries = {
    # Exactly what the registry runs after opening: the model id, the page of versions, and the
    # model's aliases (matched to the page's versions in C++).
    "list": [fill(model_id, [name]), list_main, fill(aliases_of_model.replace("model_id = ?", "model_id = " + mid, 1), [])],
    "show": [fill(model_id, [name]), show_main,
             fill(aliases_of.replace("model_id = ?", "model_id = " + mid, 1).replace("version = ?", f"version = ({fill(find('lib/mlctl/models/aliases.cpp', 'SELECT version FROM aliases WHERE model_id = ? AND alias = ?').replace('model_id = ?', 'model_id = ' + mid, 1), ['production'])})"), [])],
    "history": [fill(model_id, [name]), hist],
    "history-at": [fill(model_id, [name]), hist_at],
}
rid = f"({fill(model_id, [reg_name])})"
nv = f"({fill(next_version.replace('model_id = ?', 'model_id = ' + rid), [])})"
ins_v = insert_version.replace("VALUES(?, ?,", f"VALUES({rid}, {nv},", 1)
ins_a = insert_audit.replace("VALUES(?, ?, ?, ?, ?, ?,", f"VALUES({rid}, strftime('%Y-%m-%dT%H:%M:%fZ'), 'bench', 'register', NULL, {nv} - 1,", 1)
queries["register"] = [pragmas + " BEGIN IMMEDIATE",
    fill(insert_model, [reg_name, "2024-01-01T00:00:00.000Z"]),
    fill(model_id, [reg_name]), fill(next_version.replace("model_id = ?", "model_id = " + rid), []),
    fill(ins_v, ["file:///x", "sha256:" + "0" * 64, 15, 0, "onnx", "{}", "{}", "{}", "", "2024-01-01T00:00:00.000Z", "bench", "{}", 0]),
    fill(ins_a, [None, None, ""]),
    "COMMIT"]
for key, statements in queries.items():
    sql = "\n".join(s.rstrip(";") + ";" for s in statements)
    if key != "register": sql = pragmas + "\n" + sql
    open(f"{work}/floor-{key}.sql", "w").write(sql + "\n")
    if key != "register":
        plan = "\n".join("EXPLAIN QUERY PLAN " + s.rstrip(";") + ";" for s in statements[:2])
        open(f"{work}/plan-{key}.sql", "w").write(plan + "\n")
EOF

# 5. Timing: each command a whole process (start, open, query, print, exit), its output to
# /dev/null; mlctl and its floor alternate, after 2 warm-up runs each; the median is reported.
# A run that fails stops the benchmark.
"$py" - "$work" "$runs" "$register_runs" "$mlctl" "$db" "$name" "$reg_name" "$at_time" <<'EOF' > "$work/times.tsv"
import os, statistics, subprocess, sys, time
work, runs, register_runs, mlctl, db, name, reg_name, at_time = sys.argv[1:]
runs, register_runs = int(runs), int(register_runs)
def once(argv, stdin=None):
    with open(stdin) if stdin else open(os.devnull) as source:
        start = time.perf_counter_ns()
        done = subprocess.run(argv, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter_ns() - start
    if done.returncode != 0:
        sys.exit(f"bench/models.sh: {' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return elapsed / 1e6
def pair(key, mine, floor, n):
    a, b = [], []
    for _ in range(2):
        once(*mine); once(*floor)
    for _ in range(n):
        a.append(once(*mine)); b.append(once(*floor))
    print(f"{key}\t{statistics.median(a):.3f}\t{statistics.median(b):.3f}\t{min(a):.3f}\t{max(a):.3f}\t{min(b):.3f}\t{max(b):.3f}", flush=True)
common = ["--registry-db", db]
sqlite = lambda key: (["sqlite3", db], f"{work}/floor-{key}.sql")
pair("list", ([mlctl, "model", "list", name, "--limit", "20", *common],), sqlite("list"), runs)
pair("show", ([mlctl, "model", "show", f"{name}@production", *common],), sqlite("show"), runs)
pair("history", ([mlctl, "model", "history", name, *common],), sqlite("history"), runs)
pair("history-at", ([mlctl, "model", "history", name, "--alias", "production", "--at", at_time, *common],),
     sqlite("history-at"), runs)
pair("list-json", ([mlctl, "-o", "json", "model", "list", name, "--limit", "20", *common],), sqlite("list"), runs)
pair("register", ([mlctl, "-q", "model", "register", reg_name, "--artifact", f"{work}/tiny.bin", *common],),
     sqlite("register"), register_runs)
pair("start", ([mlctl, "version"],), (["sqlite3", ":memory:", "SELECT 1"],), runs)
EOF
# Register without process start and artifact copy: the library against the sqlite3 library.
"$register_latency" "$db" "$reg_name" "$work/floor-register.sql" "$register_runs" >> "$work/times.tsv"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 6. The table.
failed=0
tsv_row() { [[ -z "$tsv" ]] || (IFS=$'\t'; echo "models${IFS:0:1}$*") >> "$tsv"; }
declare -A mine floor
while IFS=$'\t' read -r key a b _; do mine[$key]=$a floor[$key]=$b; done < "$work/times.tsv"
row() {  # row KEY LABEL FLOOR-LABEL JUDGE(query|register|shown)
  local key=$1 label=$2 peer=$3 judge=$4 r target result="-" kind=judged
  r=$(awk -v a="${mine[$key]}" -v b="${floor[$key]}" 'BEGIN { printf "%.2f", a / b }')
  case "$judge" in
    query)
      target="<= ${k_ratio}x and < ${k_query_ms} ms"
      result=$(awk -v r="$r" -v a="${mine[$key]}" -v k="$k_ratio" -v ms="$k_query_ms" \
        'BEGIN { print (r <= k && a < ms) ? "pass" : "fail" }') ;;
    register)
      target="< ${k_register_ms} ms"
      result=$(awk -v a="${mine[$key]}" -v ms="$k_register_ms" 'BEGIN { print (a < ms) ? "pass" : "fail" }') ;;
    *) target="-" kind=shown ;;
  esac
  [[ "$result" == fail ]] && failed=1
  printf '| %s | %.1f | %s %.1f | %sx | %s | %s |\n' "$label" "${mine[$key]}" "$peer" "${floor[$key]}" "$r" "$target" "$result"
  tsv_row "$label" "$(awk -v a="${mine[$key]}" 'BEGIN { printf "%.6f", a / 1000 }')" "$peer" \
    "$(awk -v a="${floor[$key]}" 'BEGIN { printf "%.6f", a / 1000 }')" "$r" "$target" "$result" "$kind"
}

total=$((models * versions_per_model))
echo
echo "mlctl model registry benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ): $total versions across $models models"
echo "($db_mib MiB database, $(sqlite3 "$db" 'SELECT count(*) FROM audit') audit rows), loaded by 'mlctl model import' of"
echo "$lines JSON Lines records ($((bytes / 1024 / 1024)) MiB) in $import_seconds s. Medians of $runs runs ($register_runs for register) of"
echo "whole processes, start included on both sides, mlctl and sqlite3 alternating; load average after: $load_after."
echo
echo "| workload | mlctl ms | floor ms | ratio (mlctl/floor) | target | pass/fail |"
echo "|---|---:|---:|---|---|---|"
row list "list $name --limit 20" "sqlite3" query
row show "show $name@production" "sqlite3" query
row history "history $name (all $(sqlite3 "$db" "SELECT count(*) FROM audit WHERE model_id = (SELECT id FROM models WHERE name = '$name')") entries)" "sqlite3" shown
row history-at "history $name --alias production --at T" "sqlite3" shown
row list-json "-o json list $name --limit 20" "sqlite3" shown
row register-inproc "register $reg_name in process (open + transaction, artifact already stored)" "sqlite3 library, same SQL" register
row register "register $reg_name, whole process (15-byte artifact copy included)" "sqlite3 shell, same SQL" shown
row start "process start: mlctl version" "sqlite3 :memory: SELECT 1" shown
echo
echo "Spread (min-max ms, mlctl / floor):"
while IFS=$'\t' read -r key _ _ amin amax bmin bmax; do
  echo "- $key: $amin-$amax / $bmin-$bmax"
done < "$work/times.tsv"
echo
echo "Query plans of the floor statements (the model id lookup, then the main query):"
for key in list show history history-at; do
  echo "- $key:"
  sqlite3 "$db" < "$work/plan-$key.sql" | sed 's/^/    /'
done
echo
echo "The judged register row is bench/register_latency: in one process, open the registry and"
echo "register a version whose artifact is already stored (Registry::open + register_version), against"
echo "the same SQL run by the sqlite3 library (open, the statements in one transaction, close). The"
echo "whole-process row adds process start, git lineage and the artifact copy (15 bytes, already in"
echo "the store after the first run: a temp file, a sha256 and an unlink)."

if [[ "$check" == yes && "$failed" == 1 ]]; then
  say "mlctl missed a target (--check)"
  exit 1
fi
