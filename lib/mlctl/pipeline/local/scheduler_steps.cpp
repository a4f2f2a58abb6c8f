#include <mlctl/pipeline/local/scheduler.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/models/archive.hpp>
#include <mlctl/pipeline/local/register_action.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_register = "register";
// A step's folder holds its outputs by name, beside its log and the input files the runner writes;
// pipeline output names have no dots, and a component output of one of these names is refused.
constexpr std::string_view k_inputs_dir = ".inputs";

std::string_view kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::command: return "command";
    case StepKind::component: return "component";
    case StepKind::uses: return "uses";
  }
  return "";
}

std::string with_value(const Invocation& invocation, std::string_view key) {
  for (const auto& [name, value] : invocation.with)
    if (name == key) return value;
  return {};
}

std::string exit_message(const core::ExitStatus& status) {
  if (status.signal) return fmt::format("killed by signal {} ({})", status.signal, ::strsignal(status.signal));
  return fmt::format("exited with code {}", status.exit_code);
}

// A new folder in one that exists (one system call: a run makes thousands).
Result<void> make_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directory(dir, ec);
  if (ec) return fail(Errc::failed, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  return {};
}

// What an attempt writes starts from nothing.
void remove_outputs(const Invocation& invocation) {
  std::error_code ec;
  for (const auto& [name, path] : invocation.outputs) fs::remove_all(path, ec);
}

}  // namespace

Scope Scheduler::scope_for(size_t step) const {
  fs::path dir = states_[step].dir;
  fs::path run_dir = setup_.run_dir;
  return {.params = &setup_.params,
          .run_id = setup_.run_id,
          .pipeline_name = pipeline_.name.value,
          .output = [dir](const std::string& output) { return (dir / output).string(); },
          .step_output = [run_dir](const std::string& from, const std::string& output) {
            return (run_dir / from / output).string();
          },
          .input_file = [dir](const std::string& input) { return (dir / k_inputs_dir / input).string(); }};
}

void Scheduler::start(size_t step) {
  State& state = states_[step];
  state.started = Clock::now();
  state.dir = setup_.run_dir / record(step).name;
  auto key = key_of(step);
  if (!key) return finish(step, StepStatus::failed, key.error().message());
  record(step).cache_key = *key;
  auto invocation = resolve_invocation(pipeline_.steps[step], scope_for(step));
  if (!invocation) return finish(step, StepStatus::failed, invocation.error().message());
  state.invocation = std::move(*invocation);
  for (const auto& [name, path] : state.invocation.outputs)
    if (name == k_step_log || name == k_inputs_dir)
      return finish(step, StepStatus::failed, fmt::format("output name '{}' is reserved for the runner", name));
  if (auto made = make_directory(state.dir); !made) return finish(step, StepStatus::failed, made.error().message());
  if (reuse(step)) return;
  state.phase = Phase::running;
  ++running_;
  begin_attempt(step);
}

Result<std::string> Scheduler::image_for(const Invocation& invocation) {
  auto image = container_image(invocation, options_.container);
  if (!image) return image;
  auto known = image_ids_.find(*image);
  if (known != image_ids_.end()) return known->second;
  auto id = image_id(options_.container, *image);
  if (!id) return id;
  image_ids_.emplace(*image, *id);
  return *id;
}

// The digests of the outputs a step reads, so that an upstream step that runs again but makes
// the same bytes leaves it cached; and the keys of the steps it only `needs`, whose effects the
// runner cannot see.
void Scheduler::add_dependencies(size_t step, nlohmann::json& material) const {
  nlohmann::json inputs = nlohmann::json::object();
  nlohmann::json after = nlohmann::json::object();
  auto referenced = referenced_outputs(pipeline_.steps[step]);
  for (const auto& [from, output] : referenced) {
    std::string digest;
    if (auto it = index_.find(from); it != index_.end())
      if (auto made = states_[it->second].digests.find(output); made != states_[it->second].digests.end())
        digest = made->second;
    inputs[fmt::format("steps.{}.outputs.{}", from, output)] = digest;
  }
  for (size_t need : dag_.needs[step]) {
    bool read = std::ranges::any_of(referenced, [&](const auto& ref) { return ref.first == dag_.names[need]; });
    if (!read) after[dag_.names[need]] = (*setup_.records)[need].cache_key;
  }
  material["inputs"] = std::move(inputs);
  material["after"] = std::move(after);
}

namespace {

// [path, digest] of each project file or folder a step names in `inputs`.
Result<nlohmann::json> project_inputs(const Step& spec, const fs::path& root) {
  nlohmann::json digests = nlohmann::json::array();
  for (const auto& input : spec.inputs) {
    fs::path path = root / input.value;
    std::error_code ec;
    bool directory = fs::is_directory(path, ec);
    if (!directory && !fs::is_regular_file(path, ec))
      return fail(Errc::not_found, fmt::format("input '{}': no such file or folder in {}", input.value, root.string()));
    auto digest = directory ? models::directory_digest(path) : models::file_digest(path);
    if (!digest) return std::unexpected(digest.error().context(fmt::format("input '{}'", input.value)));
    digests.push_back({input.value, digest->digest});
  }
  return digests;
}

}  // namespace

// Everything the step's outcome depends on, with paths as placeholders: its resolved command,
// env and image, the digests of the outputs it reads and of the project files it names in
// `inputs`, the keys of the steps it only `needs`, and, for an action, where it registers.
Result<std::string> Scheduler::key_of(size_t step) {
  const Step& spec = pipeline_.steps[step];
  Scope symbolic = scope_for(step);
  use_symbolic_paths(symbolic);
  auto invocation = resolve_invocation(spec, symbolic);
  if (!invocation) return std::unexpected(invocation.error());
  nlohmann::json files = nlohmann::json::array();
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& file : invocation->input_files) files.push_back({file.input, file.content});
  for (const auto& [name, path] : invocation->outputs) outputs.push_back(name);
  nlohmann::json material{{"v", 1},
                          {"kind", kind_name(spec.kind)},
                          {"argv", invocation->argv},
                          {"env", invocation->env},
                          {"image", invocation->image},
                          {"input_files", files},
                          {"outputs", outputs},
                          {"metrics", spec.metrics ? spec.metrics->value : ""},
                          {"with", invocation->with}};
  add_dependencies(step, material);
  if (!spec.inputs.empty()) {
    auto files = project_inputs(spec, options_.project_root.empty() ? fs::current_path() : options_.project_root);
    if (!files) return std::unexpected(files.error());
    material["project_inputs"] = std::move(*files);
  }
  if (options_.isolation == Isolation::container && spec.kind != StepKind::uses) {
    auto id = image_for(*invocation);
    if (!id) return std::unexpected(id.error());
    material["image_id"] = *id;
  }
  if (spec.kind == StepKind::uses) {
    const RegistryLocation& registry = options_.registry;
    material["registry"] = {registry.database.string(), registry.artifacts, registry.model, registry.flavor};
    if (!registry.image.empty()) material["registry"].push_back(registry.image);  // keeps older keys as they were
  }
  return step_key(material);
}

bool Scheduler::reuse(size_t step) {
  State& state = states_[step];
  StepRecord& result = record(step);
  const StepRecord* earlier = setup_.resumed ? setup_.resumed->find_step(result.name) : nullptr;
  bool resumed = earlier && made_outputs(earlier->status) && earlier->cache_key == result.cache_key;
  if (options_.cache == UseCache::no && !resumed) return false;
  auto entry = setup_.cache->lookup(result.cache_key);
  if (!entry) return false;
  if (auto restored = setup_.cache->restore(*entry, state.invocation.outputs); !restored) {
    // A damaged or pruned cache is a miss: the step runs and stores its outputs again.
    remove_outputs(state.invocation);
    return false;
  }
  for (const auto& output : entry->outputs) state.digests[output.name] = output.digest;
  result.metrics = entry->metrics;
  finish(step, StepStatus::cached, resumed ? fmt::format("re-used from run {}", setup_.resumed->id) : "");
  return true;
}

void Scheduler::begin_attempt(size_t step) {
  State& state = states_[step];
  StepRecord& result = record(step);
  ++result.attempts;
  result.exit_code.reset();
  if (result.attempts > 1) remove_outputs(state.invocation);
  for (const auto& file : state.invocation.input_files) {
    if (auto written = core::write_file_atomic(file.path, file.content); !written)
      return finish(step, StepStatus::failed, written.error().message());
  }
  observer_.step_started(result.name, result.attempts);
  auto launched = pipeline_.steps[step].kind == StepKind::uses ? launch_action(step) : launch_process(step);
  if (!launched) attempt_failed(step, launched.error().message());
}

const std::string& Scheduler::program_path(const std::string& program) {
  auto known = programs_.find(program);
  if (known != programs_.end()) return known->second;
  const char* path = std::getenv("PATH");
  auto found = core::find_executable(program, path ? path : "");
  // Not found, a path already, or found through a relative PATH entry (which means the step's
  // folder, not mlctl's): spawned as given.
  bool usable = found && found->is_absolute();
  return programs_.emplace(program, usable ? found->string() : program).first->second;
}

Result<void> Scheduler::launch_process(size_t step) {
  State& state = states_[step];
  const Step& spec = pipeline_.steps[step];
  core::Command command{.argv = state.invocation.argv};
  if (options_.isolation == Isolation::container) {
    auto image = container_image(state.invocation, options_.container);
    if (!image) return std::unexpected(image.error());
    state.container = fmt::format("mlctl-{}-{}", setup_.run_id, record(step).name);
    state.container_killed = false;
    command.argv = container_argv(options_.container,
                                  {.name = state.container, .image = *image, .run_dir = setup_.run_dir,
                                   .resources = spec.resources},
                                  state.invocation);
  } else {
    command.cwd = options_.project_root;
    for (const auto& [key, value] : state.invocation.env) command.env[key] = value;
  }
  if (!command.env.contains("PATH")) command.argv.front() = program_path(command.argv.front());
  std::optional<Clock::time_point> deadline;
  if (auto seconds = spec.timeout_seconds()) deadline = Clock::now() + std::chrono::seconds(*seconds);
  auto process = StepProcess::start(
      {.command = std::move(command), .log_file = state.dir / k_step_log, .deadline = deadline,
       .kill_grace = options_.kill_grace},
      [this, name = record(step).name](std::string_view line) { observer_.step_output(name, line); });
  if (!process) return std::unexpected(process.error());
  state.process = std::move(*process);
  return {};
}

Result<void> Scheduler::launch_action(size_t step) {
  State& state = states_[step];
  const Step& spec = pipeline_.steps[step];
  if (spec.uses.value != k_register) return fail(Errc::invalid, fmt::format("unknown action '{}'", spec.uses.value));
  RegisterRequest request{.artifact = with_value(state.invocation, "artifact"),
                          .metrics = with_value(state.invocation, "metrics"),
                          .model = with_value(state.invocation, "model"),
                          .pipeline = pipeline_.name.value,
                          .run_id = setup_.run_id,
                          .project_root = options_.project_root.empty() ? fs::current_path() : options_.project_root};
  for (const auto& [name, value] : setup_.params) request.params[name] = value;
  auto task = BackgroundTask::start([request, location = options_.registry]() -> Result<std::string> {
    auto version = register_model(request, location);
    if (!version) return std::unexpected(version.error());
    return fmt::format("registered {} version {} ({})", version->name, version->version, version->artifact.digest);
  });
  if (!task) return std::unexpected(task.error());
  state.action = std::move(*task);
  return {};
}

void Scheduler::on_exit(size_t step, core::ExitStatus status) {
  State& state = states_[step];
  StepRecord& result = record(step);
  bool timed_out = state.process->timed_out();
  state.process.reset();
  if (status.exit_code >= 0) result.exit_code = status.exit_code;
  if (cancelled_ && !timed_out) return finish(step, StepStatus::cancelled, "the run was cancelled");
  if (status.exit_code == 0) {
    if (auto collected = collect(step); !collected) return attempt_failed(step, collected.error().message());
    return finish(step, StepStatus::succeeded);
  }
  auto seconds = pipeline_.steps[step].timeout_seconds().value_or(0);
  attempt_failed(step, timed_out ? fmt::format("timed out after {}s", seconds) : exit_message(status));
}

void Scheduler::on_action_done(size_t step) {
  State& state = states_[step];
  auto done = state.action->join();
  state.action.reset();
  std::string line = done ? *done : done.error().message();
  append_log(step, line);
  observer_.step_output(record(step).name, line);
  if (!done) return attempt_failed(step, done.error().message());
  if (auto collected = collect(step); !collected) return attempt_failed(step, collected.error().message());
  finish(step, StepStatus::succeeded);
}

void Scheduler::attempt_failed(size_t step, std::string message) {
  if (cancelled_) return finish(step, StepStatus::cancelled, "the run was cancelled");
  int attempts = record(step).attempts;
  int allowed = pipeline_.steps[step].retry_count() + 1;
  if (attempts < allowed) {
    append_log(step, fmt::format("--- {}; retrying (attempt {} of {}) ---", message, attempts + 1, allowed));
    return begin_attempt(step);
  }
  finish(step, StepStatus::failed, std::move(message));
}

// Reads the metrics output and stores the outputs in the cache, which gives their digests.
Result<void> Scheduler::collect(size_t step) {
  State& state = states_[step];
  const Step& spec = pipeline_.steps[step];
  nlohmann::json metrics = nlohmann::json::object();
  if (spec.metrics) {
    fs::path file = state.dir / spec.metrics->value;
    auto text = core::read_file(file);
    if (!text) return fail(Errc::failed, fmt::format("metrics output '{}' was not written", spec.metrics->value));
    metrics = nlohmann::json::parse(*text, nullptr, false);
    if (!metrics.is_object())
      return fail(Errc::failed, fmt::format("metrics output '{}' is not a JSON object", spec.metrics->value));
  }
  auto entry = setup_.cache->store(record(step).cache_key, state.invocation.outputs, metrics);
  if (!entry) return std::unexpected(entry.error());
  for (const auto& output : entry->outputs) state.digests[output.name] = output.digest;
  record(step).metrics = std::move(metrics);
  return {};
}

void Scheduler::append_log(size_t step, std::string_view line) {
  int fd = ::open((states_[step].dir / k_step_log).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;  // the log is a convenience; the step's outcome does not depend on it
  std::string text = std::string(line) + "\n";
  [[maybe_unused]] auto written = ::write(fd, text.data(), text.size());
  ::close(fd);
}

}  // namespace mlctl::pipeline
