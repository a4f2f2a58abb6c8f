#include <mlctl/release/store.hpp>

#include <mlctl/models/time.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

namespace mlctl::release {

namespace {

using models::Statement;

constexpr std::string_view k_step_names[] = {"build", "train", "register", "gate", "render", "tag", "commit"};

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// Whether the process `owner` ("PID@HOST") may still be running: it is on another host (which
// this process cannot see), or it is alive here.
bool may_be_running(std::string_view owner) {
  auto at = owner.find('@');
  if (at == std::string_view::npos) return false;
  if (owner.substr(at + 1) != host_name()) return true;
  pid_t pid = 0;
  for (char c : owner.substr(0, at)) {
    if (c < '0' || c > '9') return false;
    pid = pid * 10 + (c - '0');
  }
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

Result<ReleaseStatus> parse_status(std::string_view text) {
  for (auto status : {ReleaseStatus::running, ReleaseStatus::succeeded, ReleaseStatus::failed, ReleaseStatus::partial})
    if (status_name(status) == text) return status;
  return fail(Errc::failed, fmt::format("the registry database records a release status '{}'", text));
}

Result<Step> step_from_name(std::string_view name) {
  for (Step step : k_steps)
    if (step_name(step) == name) return step;
  return fail(Errc::invalid, fmt::format("unknown release step '{}'", name),
              fmt::format("the steps: {}", fmt::join(k_step_names, ", ")));
}

Result<std::vector<StepRecord>> steps_of(models::Database& db, const ReleaseKey& key) {
  auto select = db.prepare(
      "SELECT step, status, output, message, finished_at FROM release_steps WHERE version = ? AND git_commit = ?");
  if (!select) return std::unexpected(select.error());
  select->bind_all({key.version, key.commit});
  std::vector<StepRecord> steps;
  while (true) {
    auto row = select->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    auto step = step_from_name(select->text(0));
    if (!step) return std::unexpected(step.error());
    auto output = nlohmann::json::parse(select->text(2), nullptr, false);
    steps.push_back({.step = *step,
                     .succeeded = select->text(1) == "succeeded",
                     .output = output.is_discarded() ? nlohmann::json::object() : output,
                     .message = select->text(3),
                     .finished_at = select->text(4)});
  }
  std::ranges::sort(steps, {}, [](const StepRecord& s) { return static_cast<int>(s.step); });
  return steps;
}

Result<std::optional<ReleaseRecord>> read(models::Database& db, const ReleaseKey& key) {
  auto select = db.prepare("SELECT environment, status, owner, started_at, finished_at FROM releases "
                           "WHERE version = ? AND git_commit = ?");
  if (!select) return std::unexpected(select.error());
  select->bind_all({key.version, key.commit});
  auto row = select->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::nullopt;
  auto status = parse_status(select->text(1));
  if (!status) return std::unexpected(status.error());
  ReleaseRecord record{.key = key,
                       .environment = select->text(0),
                       .status = *status,
                       .owner = select->text(2),
                       .started_at = select->text(3),
                       .finished_at = select->optional_text(4).value_or(""),
                       .steps = {}};
  auto steps = steps_of(db, key);
  if (!steps) return std::unexpected(steps.error());
  record.steps = std::move(*steps);
  return record;
}

// The release another live process runs now, if any (of any key: one release at a time per
// database, so two never build, tag or commit side by side).
Result<std::optional<ReleaseRecord>> running_other(models::Database& db, const std::string& owner) {
  auto select = db.prepare("SELECT version, git_commit, owner FROM releases WHERE status = 'running' AND owner != ?");
  if (!select) return std::unexpected(select.error());
  select->bind_all({owner});
  std::vector<ReleaseKey> running;
  while (true) {
    auto row = select->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    if (may_be_running(select->text(2))) running.push_back({select->text(0), select->text(1)});
  }
  if (running.empty()) return std::nullopt;
  return read(db, running.front());
}

}  // namespace

std::string_view step_name(Step step) { return k_step_names[static_cast<int>(step)]; }

Result<std::vector<Step>> parse_steps(std::string_view list) {
  std::vector<bool> wanted(std::size(k_steps));
  for (size_t start = 0; start <= list.size();) {
    size_t comma = std::min(list.find(',', start), list.size());
    std::string_view name = list.substr(start, comma - start);
    auto step = step_from_name(name);
    if (!step) return std::unexpected(step.error());
    wanted[static_cast<int>(*step)] = true;
    start = comma + 1;
  }
  std::vector<Step> steps;
  for (Step step : k_steps)
    if (wanted[static_cast<int>(step)]) steps.push_back(step);
  return steps;
}

std::string_view status_name(ReleaseStatus status) {
  switch (status) {
    case ReleaseStatus::running: return "running";
    case ReleaseStatus::succeeded: return "succeeded";
    case ReleaseStatus::failed: return "failed";
    case ReleaseStatus::partial: return "partial";
  }
  return "unknown";
}

const StepRecord* ReleaseRecord::step(Step step) const {
  auto found = std::ranges::find(steps, step, &StepRecord::step);
  return found == steps.end() ? nullptr : &*found;
}

nlohmann::json ReleaseRecord::to_json() const {
  nlohmann::json document = {{"version", key.version},         {"commit", key.commit},
                             {"environment", environment},     {"status", status_name(status)},
                             {"started_at", started_at},       {"steps", nlohmann::json::array()}};
  if (!finished_at.empty()) document["finished_at"] = finished_at;
  for (const auto& s : steps) {
    nlohmann::json step = {{"step", step_name(s.step)},
                           {"status", s.succeeded ? "succeeded" : "failed"},
                           {"output", s.output},
                           {"finished_at", s.finished_at}};
    if (!s.message.empty()) step["message"] = s.message;
    document["steps"].push_back(std::move(step));
  }
  return document;
}

std::string this_owner() { return fmt::format("{}@{}", ::getpid(), host_name()); }

Result<ReleaseStore> ReleaseStore::open(const std::filesystem::path& database) {
  std::error_code ec;
  if (database.has_parent_path()) std::filesystem::create_directories(database.parent_path(), ec);
  auto registry = models::Registry::open(database, models::OpenMode::create);
  if (!registry) return std::unexpected(registry.error());
  return ReleaseStore(std::move(*registry));
}

Result<std::optional<ReleaseRecord>> ReleaseStore::get(const ReleaseKey& key) { return read(registry_.database(), key); }

Result<std::optional<ReleaseRecord>> ReleaseStore::running_elsewhere(const std::string& owner) {
  return running_other(registry_.database(), owner);
}

Result<ReleaseRecord> ReleaseStore::claim(const ReleaseKey& key, const std::string& environment,
                                          const std::string& owner) {
  models::Database& db = registry_.database();
  auto transaction = models::WriteTransaction::begin(db);
  if (!transaction) return std::unexpected(transaction.error());
  auto existing = read(db, key);
  if (!existing) return std::unexpected(existing.error());
  if (*existing && (*existing)->status == ReleaseStatus::succeeded) return **existing;
  auto other = running_other(db, owner);
  if (!other) return std::unexpected(other.error());
  if (*other) {
    const ReleaseRecord& running = **other;
    return fail(Errc::precondition,
                fmt::format("release {} of commit {} is running in process {} (since {})", running.key.version,
                            running.key.commit.substr(0, 12), running.owner, running.started_at),
                "wait for it to finish, then run mlctl release again");
  }
  std::string now = models::now_text();
  auto write = *existing ? db.prepare("UPDATE releases SET status = 'running', owner = ?, environment = ?, "
                                      "finished_at = NULL WHERE version = ? AND git_commit = ?")
                         : db.prepare("INSERT INTO releases(owner, environment, version, git_commit, status, "
                                      "started_at) VALUES(?, ?, ?, ?, 'running', ?)");
  if (!write) return std::unexpected(write.error());
  write->bind_all({owner, environment, key.version, key.commit});
  if (!*existing) write->bind(5, now);
  if (auto ran = write->run(); !ran) return std::unexpected(ran.error());
  auto claimed = read(db, key);
  if (!claimed) return std::unexpected(claimed.error());
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return **claimed;
}

Result<void> ReleaseStore::record_step(const ReleaseKey& key, const StepRecord& step) {
  models::Database& db = registry_.database();
  auto transaction = models::WriteTransaction::begin(db);
  if (!transaction) return std::unexpected(transaction.error());
  auto upsert = db.prepare(
      "INSERT INTO release_steps(version, git_commit, step, status, output, message, finished_at) "
      "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(version, git_commit, step) DO UPDATE SET status = excluded.status, "
      "output = excluded.output, message = excluded.message, finished_at = excluded.finished_at");
  if (!upsert) return std::unexpected(upsert.error());
  upsert->bind_all({key.version, key.commit, std::string(step_name(step.step)),
                    std::string(step.succeeded ? "succeeded" : "failed"), step.output.dump(), step.message,
                    step.finished_at.empty() ? models::now_text() : step.finished_at});
  if (auto ran = upsert->run(); !ran) return std::unexpected(ran.error());
  return transaction->commit();
}

Result<void> ReleaseStore::finish(const ReleaseKey& key, ReleaseStatus status) {
  models::Database& db = registry_.database();
  auto transaction = models::WriteTransaction::begin(db);
  if (!transaction) return std::unexpected(transaction.error());
  auto update = db.prepare("UPDATE releases SET status = ?, finished_at = ? WHERE version = ? AND git_commit = ?");
  if (!update) return std::unexpected(update.error());
  update->bind_all({std::string(status_name(status)), models::now_text(), key.version, key.commit});
  if (auto ran = update->run(); !ran) return std::unexpected(ran.error());
  return transaction->commit();
}

}  // namespace mlctl::release
