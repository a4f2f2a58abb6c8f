#include <mlctl/pipeline/parse.hpp>

#include <mlctl/core/text.hpp>
#include <mlctl/pipeline/yaml_text.hpp>

#include <algorithm>
#include <array>
#include <tuple>

#include <fmt/format.h>

namespace mlctl::pipeline {

using core::YamlReader;
using Required = YamlReader::Required;

namespace {

// Which step kinds a key applies to.
struct StepKey {
  std::string_view key;
  bool command;
  bool component;
  bool uses;
};

constexpr std::array<StepKey, 15> k_step_keys = {{
    {"name", true, true, true},
    {"needs", true, true, true},
    {"retries", true, true, true},
    {"timeout", true, true, true},
    {"command", true, false, false},
    {"outputs", true, false, false},
    {"component", false, true, false},
    {"arguments", false, true, false},
    {"uses", false, false, true},
    {"with", false, false, true},
    {"image", true, true, false},
    {"metrics", true, true, false},
    {"resources", true, true, false},
    {"env", true, true, false},
    {"inputs", true, true, false},
}};

constexpr std::array<std::pair<std::string_view, StepKind>, 3> k_kind_keys = {{
    {"command", StepKind::command},
    {"component", StepKind::component},
    {"uses", StepKind::uses},
}};

std::string_view kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::command: return "command";
    case StepKind::component: return "component";
    case StepKind::uses: return "'uses'";
  }
  return "command";
}

bool applies(const StepKey& key, StepKind kind) {
  switch (kind) {
    case StepKind::command: return key.command;
    case StepKind::component: return key.component;
    case StepKind::uses: return key.uses;
  }
  return false;
}

// Which of command / component / uses the step has; exactly one is allowed.
std::optional<StepKind> read_kind(YamlReader& r, const core::YamlNode& node, const std::string& path) {
  std::vector<std::pair<std::string, StepKind>> found;
  for (const auto& entry : node.entries()) {
    for (const auto& [key, kind] : k_kind_keys)
      if (entry.key.scalar() == key) {
        if (!found.empty())
          r.error(entry.key, child_path(path, key),
                  fmt::format("a step runs one thing, but this one has both '{}' and '{}'", found.front().first, key));
        found.emplace_back(std::string(key), kind);
      }
  }
  if (found.empty()) r.error(node, path, "a step needs one of 'command', 'component' or 'uses'");
  if (found.size() != 1) return std::nullopt;
  return found.front().second;
}

void check_kind_keys(YamlReader& r, const core::YamlNode& node, const std::string& path, StepKind kind) {
  for (const auto& entry : node.entries()) {
    const std::string& key = entry.key.scalar();
    auto known = std::ranges::find_if(k_step_keys, [&](const StepKey& k) { return k.key == key; });
    if (known != k_step_keys.end() && !applies(*known, kind))
      r.error(entry.key, child_path(path, key), fmt::format("'{}' does not apply to a {} step", key, kind_name(kind)));
  }
}

Resources read_resources(YamlReader& r, const core::YamlNode& step, const std::string& path) {
  Resources resources;
  if (!has_key(step, "resources")) return resources;
  const core::YamlNode node = step["resources"];
  if (!r.mapping(node, path, {"cpu", "memory", "gpu"})) return resources;
  resources.cpu = read_field(r, node, "cpu", path + ".cpu", Required::no);
  resources.memory = read_field(r, node, "memory", path + ".memory", Required::no);
  resources.gpu = read_field(r, node, "gpu", path + ".gpu", Required::no);
  return resources;
}

void read_command(YamlReader& r, const core::YamlNode& node, const std::string& path, Step& step) {
  if (!has_key(node, "command")) return;
  step.command = read_list(r, node, "command", path);
  if (node["command"].is_sequence() && node["command"].size() == 0)
    r.error(node["command"], path, "the command is empty; give the program and its arguments");
}

Step read_step(YamlReader& r, const core::YamlNode& node, size_t index) {
  const std::string path = step_path(index);
  Step step;
  std::tie(step.line, step.column) = core::position(node);
  std::vector<std::string_view> keys;
  for (const auto& key : k_step_keys) keys.push_back(key.key);
  if (!r.any_mapping(node, path)) return step;
  for (const auto& entry : node.entries()) {
    const std::string& key = entry.key.scalar();
    if (std::ranges::find(keys, key) != keys.end()) continue;
    std::string message = "unknown key";
    if (auto suggestion = core::nearest(key, keys)) message += fmt::format("; did you mean '{}'?", *suggestion);
    r.error(entry.key, child_path(path, key), message);
  }
  step.name = read_field(r, node, "name", path + ".name", Required::yes).value_or(core::Located{});
  if (auto kind = read_kind(r, node, path)) {
    step.kind = *kind;
    check_kind_keys(r, node, path, *kind);
  }
  read_command(r, node, path + ".command", step);
  step.image = read_field(r, node, "image", path + ".image", Required::no);
  step.outputs = read_list(r, node, "outputs", path + ".outputs");
  step.metrics = read_field(r, node, "metrics", path + ".metrics", Required::no);
  step.resources = read_resources(r, node, path + ".resources");
  step.retries = read_field(r, node, "retries", path + ".retries", Required::no);
  step.timeout = read_field(r, node, "timeout", path + ".timeout", Required::no);
  step.env = read_map(r, node, "env", path + ".env");
  step.needs = read_list(r, node, "needs", path + ".needs");
  step.inputs = read_list(r, node, "inputs", path + ".inputs");
  step.component = read_field(r, node, "component", path + ".component", Required::no).value_or(core::Located{});
  step.arguments = read_map(r, node, "arguments", path + ".arguments");
  step.uses = read_field(r, node, "uses", path + ".uses", Required::no).value_or(core::Located{});
  step.with = read_map(r, node, "with", path + ".with");
  return step;
}

std::vector<Param> read_params(YamlReader& r, const core::YamlNode& root) {
  std::vector<Param> params;
  if (!has_key(root, "params") || !r.any_mapping(root["params"], "params")) return params;
  for (const auto& entry : root["params"].entries()) {
    const std::string name = entry.key.scalar();
    auto value = read_text(r, entry.value, child_path("params", name));
    if (!value) continue;
    auto [line, column] = core::position(entry.key);
    params.push_back({name, value->value, line, column});
  }
  return params;
}

std::vector<Step> read_steps(YamlReader& r, const core::YamlNode& root) {
  std::vector<Step> steps;
  if (!has_key(root, "steps")) {
    r.error(root, "steps", "required field is missing");
    return steps;
  }
  const core::YamlNode node = root["steps"];
  if (!node.is_sequence() || node.size() == 0) {
    r.error(node, "steps", fmt::format("expected a list of steps, got {}",
                                       node.is_sequence() ? "an empty list" : core::describe(node)));
    return steps;
  }
  steps.reserve(node.size());
  for (size_t i = 0; i < node.size(); ++i) steps.push_back(read_step(r, node[i], i));
  return steps;
}

}  // namespace

ParsedPipeline parse_pipeline(std::string_view text, const std::string& display_name) {
  YamlReader r = make_reader(display_name);
  ParsedPipeline parsed;
  parsed.pipeline.source = display_name;
  auto document = load_yaml(r, text);
  if (document && r.mapping(document->root(), "", {"name", "schedule", "params", "steps"})) {
    const core::YamlNode root = document->root();
    Pipeline& p = parsed.pipeline;
    p.name = read_field(r, root, "name", "name", Required::yes).value_or(core::Located{});
    p.schedule = read_field(r, root, "schedule", "schedule", Required::no);
    p.params = read_params(r, root);
    p.steps = read_steps(r, root);
  }
  parsed.problems = std::move(r.diagnostics());
  return parsed;
}

}  // namespace mlctl::pipeline
