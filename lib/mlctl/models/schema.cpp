#include <mlctl/models/schema.hpp>

#include <array>

namespace mlctl::models {

namespace {

// Version 1. JSON columns hold objects written by mlctl (json_extract filters them in SQL).
// Indexes: models by name (UNIQUE), versions by (model, number) for `list NAME --limit`,
// aliases by (model, alias) for `show NAME@alias`, audit by (model, alias, time) for history.
// Triggers make a version's record immutable (only `archived` changes) and the audit log
// append-only, whatever client writes to the file.
constexpr std::string_view k_v1 = R"sql(
CREATE TABLE models(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL);
CREATE TABLE versions(
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES models(id),
  version INTEGER NOT NULL,
  artifact_uri TEXT NOT NULL,
  artifact_digest TEXT NOT NULL,
  artifact_size INTEGER NOT NULL,
  artifact_directory INTEGER NOT NULL,
  flavor TEXT NOT NULL,
  params TEXT NOT NULL,
  metrics TEXT NOT NULL,
  tags TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  lineage TEXT NOT NULL,
  archived INTEGER NOT NULL DEFAULT 0,
  UNIQUE(model_id, version));
CREATE TABLE aliases(
  model_id INTEGER NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY(model_id, alias),
  FOREIGN KEY(model_id, version) REFERENCES versions(model_id, version)) WITHOUT ROWID;
CREATE INDEX aliases_by_version ON aliases(model_id, version);
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES models(id),
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  alias TEXT,
  version INTEGER,
  old_value TEXT,
  new_value TEXT,
  reason TEXT NOT NULL DEFAULT '');
CREATE INDEX audit_by_model ON audit(model_id);
CREATE INDEX audit_by_alias ON audit(model_id, alias, time);
CREATE TRIGGER versions_immutable BEFORE UPDATE OF model_id, version, artifact_uri, artifact_digest,
  artifact_size, artifact_directory, flavor, params, metrics, tags, description, created_at, created_by,
  lineage ON versions
  BEGIN SELECT RAISE(ABORT, 'a registered version cannot change'); END;
CREATE TRIGGER versions_kept BEFORE DELETE ON versions
  BEGIN SELECT RAISE(ABORT, 'versions are archived, never deleted'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

// Version 2: pipeline runs of the local runner and their steps (lib/mlctl/pipeline/local).
// Rows are written once per run at its start and once at its end, in one transaction each.
// params and metrics hold JSON objects; runs are listed newest first (runs_by_start).
constexpr std::string_view k_v2 = R"sql(
CREATE TABLE runs(
  id TEXT PRIMARY KEY,
  pipeline TEXT NOT NULL,
  pipeline_file TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  params TEXT NOT NULL DEFAULT '{}',
  git_commit TEXT,
  resumed_from TEXT);
CREATE INDEX runs_by_start ON runs(started_at);
CREATE INDEX runs_by_pipeline ON runs(pipeline, started_at);
CREATE TABLE run_steps(
  run_id TEXT NOT NULL REFERENCES runs(id),
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  duration_s REAL NOT NULL,
  cache_hit INTEGER NOT NULL,
  exit_code INTEGER,
  attempts INTEGER NOT NULL,
  cache_key TEXT NOT NULL DEFAULT '',
  metrics TEXT NOT NULL DEFAULT '{}',
  message TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(run_id, position)) WITHOUT ROWID;
)sql";

// Version 3: where each model's traffic goes in each environment (`mlctl rollout`). One row per
// (model, environment): the stable version, and a candidate with its percent while one is tried.
// Every change also goes to the audit log, in the same transaction.
constexpr std::string_view k_v3 = R"sql(
CREATE TABLE rollouts(
  model_id INTEGER NOT NULL REFERENCES models(id),
  environment TEXT NOT NULL,
  strategy TEXT NOT NULL,
  stable INTEGER NOT NULL,
  candidate INTEGER,
  weight INTEGER NOT NULL DEFAULT 0 CHECK(weight BETWEEN 0 AND 100),
  updated_at TEXT NOT NULL,
  PRIMARY KEY(model_id, environment),
  FOREIGN KEY(model_id, stable) REFERENCES versions(model_id, version),
  FOREIGN KEY(model_id, candidate) REFERENCES versions(model_id, version)) WITHOUT ROWID;
)sql";

// Version 4: releases (`mlctl release`, lib/mlctl/release), keyed by (version, commit) so that a
// release runs once per commit: its status and the process running it (a second release of the
// same key waits or fails, never runs beside it), and each finished step with its output (JSON),
// so that a re-run continues after the last step that succeeded.
constexpr std::string_view k_v4 = R"sql(
CREATE TABLE releases(
  version TEXT NOT NULL,
  git_commit TEXT NOT NULL,
  environment TEXT NOT NULL,
  status TEXT NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL,
  finished_at TEXT,
  PRIMARY KEY(version, git_commit)) WITHOUT ROWID;
CREATE TABLE release_steps(
  version TEXT NOT NULL,
  git_commit TEXT NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  output TEXT NOT NULL DEFAULT '{}',
  message TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL,
  PRIMARY KEY(version, git_commit, step),
  FOREIGN KEY(version, git_commit) REFERENCES releases(version, git_commit)) WITHOUT ROWID;
)sql";

constexpr std::array<std::string_view, 4> k_migrations = {k_v1, k_v2, k_v3, k_v4};

}  // namespace

std::span<const std::string_view> migrations() { return k_migrations; }

}  // namespace mlctl::models
