#include <mlctl/pipeline/spec.hpp>

#include <mlctl/pipeline/values.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace mlctl::pipeline {

int Resources::gpu_count() const {
  if (!gpu) return 0;
  return parse_count(gpu->value).value_or(0);
}

int Step::retry_count() const {
  if (!retries) return 0;
  return parse_count(retries->value).value_or(0);
}

std::optional<std::int64_t> Step::timeout_seconds() const {
  if (!timeout) return std::nullopt;
  auto seconds = parse_duration(timeout->value);
  if (!seconds) return std::nullopt;
  return *seconds;
}

std::vector<std::string> Step::output_names() const {
  std::vector<std::string> names;
  if (kind == StepKind::component) {
    if (component_spec)
      for (const auto& output : component_spec->outputs) names.push_back(output.name);
    return names;
  }
  for (const auto& output : outputs) names.push_back(output.value);
  return names;
}

bool Step::has_output(std::string_view output) const {
  const auto names = output_names();
  return std::ranges::find(names, output) != names.end();
}

const Step* Pipeline::find_step(std::string_view step) const {
  auto it = std::ranges::find_if(steps, [&](const Step& s) { return s.name.value == step; });
  return it == steps.end() ? nullptr : &*it;
}

const Param* Pipeline::find_param(std::string_view param) const {
  auto it = std::ranges::find_if(params, [&](const Param& p) { return p.name == param; });
  return it == params.end() ? nullptr : &*it;
}

std::string step_path(size_t index) { return fmt::format("steps[{}]", index); }

std::vector<TemplateField> template_fields(const Step& step, size_t index) {
  std::vector<TemplateField> fields;
  const std::string prefix = step_path(index);
  for (size_t i = 0; i < step.command.size(); ++i)
    fields.push_back({fmt::format("{}.command[{}]", prefix, i), &step.command[i]});
  auto add_map = [&](const LocatedMap& map, std::string_view key) {
    for (const auto& [name, value] : map) fields.push_back({fmt::format("{}.{}.{}", prefix, key, name), &value});
  };
  add_map(step.env, "env");
  add_map(step.arguments, "arguments");
  add_map(step.with, "with");
  return fields;
}

}  // namespace mlctl::pipeline
