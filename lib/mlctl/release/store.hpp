#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/models/registry.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::release {

// The steps of a release, in the order they run.
enum class Step { build, train, register_model, gate, render, tag, commit };
inline constexpr Step k_steps[] = {Step::build,  Step::train, Step::register_model, Step::gate,
                                   Step::render, Step::tag,   Step::commit};

std::string_view step_name(Step step);  // "build", "train", "register", ...
// "build,train,register" (--only): the steps named, in release order; invalid names one it does not know.
Result<std::vector<Step>> parse_steps(std::string_view list);

// A release is keyed by the project's version and the commit it is made from.
struct ReleaseKey {
  std::string version;
  std::string commit;
};

struct StepRecord {
  Step step = Step::build;
  bool succeeded = false;
  nlohmann::json output = nlohmann::json::object();  // what later steps and `-o json` use
  std::string message;                               // why it failed
  std::string finished_at;
};

// partial: every step asked for (--only) succeeded, but not every step of a release did.
enum class ReleaseStatus { running, succeeded, failed, partial };
std::string_view status_name(ReleaseStatus status);

struct ReleaseRecord {
  ReleaseKey key;
  std::string environment;
  ReleaseStatus status = ReleaseStatus::running;
  std::string owner;  // "PID@HOST" of the process that ran it last
  std::string started_at;
  std::string finished_at;
  std::vector<StepRecord> steps;  // in release order

  const StepRecord* step(Step step) const;
  nlohmann::json to_json() const;
};

// Who is running a release: this process.
std::string this_owner();

// Releases in the project's SQLite database (the registry file, schema version 4). Every change
// is one transaction; claim() is what makes two releases of one key never run side by side.
class ReleaseStore {
public:
  static Result<ReleaseStore> open(const std::filesystem::path& database);

  // The release of `key`, if one was ever started.
  Result<std::optional<ReleaseRecord>> get(const ReleaseKey& key);

  // A release (of any key) that another live process runs now, if any.
  Result<std::optional<ReleaseRecord>> running_elsewhere(const std::string& owner);

  // Takes the release of `key` for `owner` and returns it as recorded: new (running, no steps),
  // finished before (as it was: the caller has nothing to do when it succeeded), or failed,
  // partial or abandoned by a process that is gone (running again, its succeeded steps kept).
  // precondition when another live process runs a release, of this key or another (one release at
  // a time per database), naming that process.
  Result<ReleaseRecord> claim(const ReleaseKey& key, const std::string& environment, const std::string& owner);

  // Records a step's outcome (again: a failed step that succeeds on a re-run replaces it).
  Result<void> record_step(const ReleaseKey& key, const StepRecord& step);
  Result<void> finish(const ReleaseKey& key, ReleaseStatus status);

private:
  explicit ReleaseStore(models::Registry registry) : registry_(std::move(registry)) {}

  models::Registry registry_;
};

}  // namespace mlctl::release
