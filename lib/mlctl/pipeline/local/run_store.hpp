#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/models/registry.hpp>
#include <mlctl/pipeline/local/run_record.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::pipeline {

struct RunQuery {
  std::string pipeline{};  // empty: runs of every pipeline
  std::int64_t limit = 50;
};

// Runs and their steps in the project's SQLite database (the registry file, schema version 2).
// A run is written twice: when it starts (status running, no steps) and when it ends (its status
// and every step, in one transaction), so a run of a thousand steps costs two commits.
class RunStore {
public:
  // Opens (or creates) the database and applies pending migrations.
  static Result<RunStore> open(const std::filesystem::path& database);

  Result<void> begin(const RunRecord& run);
  Result<void> finish(const RunRecord& run);

  // Newest first, each with its steps.
  Result<std::vector<RunRecord>> list(const RunQuery& query);
  // Errc::not_found when there is no such run.
  Result<RunRecord> get(std::string_view run_id);

private:
  explicit RunStore(models::Registry registry) : registry_(std::move(registry)) {}
  Result<std::vector<StepRecord>> steps_of(const std::string& run_id);

  models::Registry registry_;
};

}  // namespace mlctl::pipeline
