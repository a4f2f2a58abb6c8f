#include <mlctl/pipeline/local/container.hpp>

#include <mlctl/core/process.hpp>

#include <charconv>
#include <cmath>
#include <optional>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

std::optional<double> leading_number(std::string_view text, std::string_view& unit) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{}) return std::nullopt;
  unit = text.substr(static_cast<size_t>(end - text.data()));
  return value;
}

// A Kubernetes CPU quantity ("2", "500m") as the engine's --cpus ("2", "0.5").
std::optional<std::string> engine_cpus(std::string_view quantity) {
  std::string_view unit;
  auto value = leading_number(quantity, unit);
  if (!value || (unit != "" && unit != "m")) return std::nullopt;
  return fmt::format("{}", unit == "m" ? *value / 1000 : *value);
}

// A Kubernetes memory quantity ("4Gi", "512M") as bytes, which every engine's --memory takes.
std::optional<std::string> engine_memory(std::string_view quantity) {
  static const std::vector<std::pair<std::string_view, double>> k_units{
      {"", 1},       {"k", 1e3},          {"M", 1e6},          {"G", 1e9},          {"T", 1e12},
      {"P", 1e15},   {"E", 1e18},         {"Ki", 1024.0},      {"Mi", 1048576.0},   {"Gi", 1073741824.0},
      {"Ti", 1099511627776.0}, {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}};
  std::string_view unit;
  auto value = leading_number(quantity, unit);
  if (!value) return std::nullopt;
  for (const auto& [name, factor] : k_units)
    if (name == unit) return fmt::format("{}", static_cast<long long>(std::llround(*value * factor)));
  return std::nullopt;
}

}  // namespace

Result<std::string> container_image(const Invocation& invocation, const ContainerOptions& options) {
  if (!invocation.image.empty() && invocation.image != k_self_image) return invocation.image;
  if (options.self_image.empty())
    return fail(Errc::precondition, "no project image to run the step in",
                "build it with `mlctl build`, or give the step an `image:`");
  return options.self_image;
}

std::vector<std::string> container_argv(const ContainerOptions& options, const ContainerRun& run,
                                        const Invocation& invocation) {
  std::vector<std::string> argv = options.engine;
  std::string mount = run.run_dir.string();
  argv.insert(argv.end(), {"run", "--rm", "--name", run.name, "--volume", mount + ":" + mount});
  for (const auto& [key, value] : invocation.env) argv.insert(argv.end(), {"--env", key + "=" + value});
  if (run.resources.cpu)
    if (auto cpus = engine_cpus(run.resources.cpu->value)) argv.insert(argv.end(), {"--cpus", *cpus});
  if (run.resources.memory)
    if (auto bytes = engine_memory(run.resources.memory->value)) argv.insert(argv.end(), {"--memory", *bytes});
  if (!invocation.argv.empty()) argv.insert(argv.end(), {"--entrypoint", invocation.argv.front()});
  argv.push_back(run.image);
  if (invocation.argv.size() > 1) argv.insert(argv.end(), invocation.argv.begin() + 1, invocation.argv.end());
  return argv;
}

std::vector<std::string> container_kill_argv(const ContainerOptions& options, const std::string& name) {
  std::vector<std::string> argv = options.engine;
  argv.insert(argv.end(), {"kill", name});
  return argv;
}

Result<std::string> image_id(const ContainerOptions& options, const std::string& image) {
  auto command = [&](std::initializer_list<std::string> args) {
    core::Command run{.argv = options.engine};
    run.argv.insert(run.argv.end(), args);
    return core::run(run);
  };
  auto inspect = [&] { return command({"image", "inspect", "--format", "{{.Id}}", image}); };
  auto inspected = inspect();
  if (!inspected) return std::unexpected(inspected.error());
  if (!inspected->ok()) {
    auto pulled = command({"pull", image});
    if (!pulled) return std::unexpected(pulled.error());
    if (!pulled->ok()) return fail(Errc::remote, fmt::format("cannot pull image {}: {}", image, pulled->err));
    inspected = inspect();
    if (!inspected) return std::unexpected(inspected.error());
  }
  std::string id = inspected->out;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (!inspected->ok() || id.empty()) return fail(Errc::failed, fmt::format("cannot inspect image {}: {}", image, inspected->err));
  return id;
}

}  // namespace mlctl::pipeline
