#pragma once

#include <mlctl/pipeline/load.hpp>
#include <mlctl/pipeline/local/runner.hpp>

#include <support/temp_dir.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::pipeline {

// Everything the runner reported, in order.
class RecordingObserver : public RunObserver {
public:
  void run_started(const RunRecord& run) override { events.push_back("run " + run.id); }
  void step_started(std::string_view step, int attempt) override {
    events.push_back(fmt::format("start {} {}", step, attempt));
    if (on_start) on_start(step);
  }
  void step_output(std::string_view step, std::string_view line) override {
    lines.push_back(fmt::format("{}: {}", step, line));
    if (on_line) on_line(step, line);
  }
  void step_finished(const StepRecord& step) override {
    events.push_back(fmt::format("end {} {}", step.name, status_name(step.status)));
  }

  std::vector<std::string> events;
  std::vector<std::string> lines;
  std::function<void(std::string_view)> on_start;
  std::function<void(std::string_view, std::string_view)> on_line;
};

// A project in a temp folder: pipeline files are written there, steps run there, and state goes
// to its .mlctl folder, with the run records in .mlctl/registry.db.
class LocalRunTest : public ::testing::Test {
protected:
  Pipeline load(std::string_view yaml, std::string_view file = "pipeline.yaml") {
    auto path = dir_.write(file, yaml);
    auto pipeline = load_pipeline(path);
    if (!pipeline) ADD_FAILURE() << pipeline.error().message();
    return pipeline ? *pipeline : Pipeline{};
  }

  RunOptions options() const {
    return {.project_root = dir_.path(),
            .state_dir = dir_ / ".mlctl",
            .jobs = 2,
            .registry = {.database = dir_ / ".mlctl" / "registry.db"},
            .kill_grace = std::chrono::milliseconds(500)};
  }

  RunRecord run(const Pipeline& pipeline, const RunOptions& options) {
    auto record = run_pipeline(pipeline, options, observer_);
    if (!record) ADD_FAILURE() << record.error().message();
    return record ? *record : RunRecord{};
  }
  RunRecord run(const Pipeline& pipeline) { return run(pipeline, options()); }

  std::filesystem::path output_path(const RunRecord& run, std::string_view step, std::string_view output) const {
    return dir_ / ".mlctl" / "runs" / run.id / step / output;
  }
  std::string output(const RunRecord& run, std::string_view step, std::string_view output) const {
    return dir_.read((output_path(run, step, output).lexically_relative(dir_.path())).string());
  }

  // "name=status" of every step, in file order.
  static std::vector<std::string> statuses(const RunRecord& run) {
    std::vector<std::string> out;
    for (const auto& step : run.steps) out.push_back(fmt::format("{}={}", step.name, status_name(step.status)));
    return out;
  }

  // Whether a process is still there (a zombie waiting for its parent counts as gone).
  static bool alive(pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    std::string stat = read_proc_stat(pid);
    auto close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
  }

  // Whether a process is gone within two seconds (SIGKILL is delivered asynchronously).
  static bool gone_soon(pid_t pid) {
    for (int i = 0; i < 200 && alive(pid); ++i) ::usleep(10000);
    return !alive(pid);
  }

  static std::string read_proc_stat(pid_t pid);

  test::TempDir dir_;
  RecordingObserver observer_;
};

}  // namespace mlctl::pipeline
