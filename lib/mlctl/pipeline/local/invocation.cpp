#include <mlctl/pipeline/local/invocation.hpp>

#include <mlctl/pipeline/template.hpp>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

Result<std::string> render_text(const std::string& text, const Scope& scope) {
  auto parts = parse_template(text);
  if (!parts) return std::unexpected(parts.error());
  return render(*parts, [&](const Reference& ref) -> Result<std::string> {
    switch (ref.kind) {
      case RefKind::param: {
        auto it = scope.params->find(ref.name);
        if (it == scope.params->end()) return fail(Errc::invalid, fmt::format("no param named '{}'", ref.name));
        return it->second;
      }
      case RefKind::output: return scope.output(ref.name);
      case RefKind::step_output: return scope.step_output(ref.step, ref.name);
      case RefKind::run_id: return scope.run_id;
      case RefKind::pipeline_name: return scope.pipeline_name;
    }
    return fail(Errc::invalid, fmt::format("cannot render '{{{{{}}}}}'", ref.text));
  });
}

Result<std::vector<std::pair<std::string, std::string>>> render_map(const LocatedMap& map, const Scope& scope,
                                                                     std::string_view field) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : map) {
    auto text = render_text(value.value, scope);
    if (!text) return std::unexpected(text.error().context(fmt::format("{}.{}", field, key)));
    out.emplace_back(key, std::move(*text));
  }
  return out;
}

// The upstream output an argument is, when it is nothing but one {{steps.S.outputs.X}}.
std::optional<Reference> sole_step_output(const std::string& text) {
  auto parts = parse_template(text);
  if (!parts || parts->size() != 1) return std::nullopt;
  const auto* ref = std::get_if<Reference>(&parts->front());
  if (!ref || ref->kind != RefKind::step_output) return std::nullopt;
  return *ref;
}

Result<void> bind_component(const Step& step, const Scope& scope, Invocation& out) {
  const Component& component = *step.component_spec;
  ComponentBindings bindings;
  auto arguments = render_map(step.arguments, scope, "arguments");
  if (!arguments) return std::unexpected(arguments.error());
  for (auto& [name, value] : *arguments) bindings.values[name] = value;
  for (const auto& input : path_inputs(component)) {
    const core::Located* argument = nullptr;
    for (const auto& [name, value] : step.arguments)
      if (name == input) argument = &value;
    if (argument) {
      if (auto ref = sole_step_output(argument->value)) {
        bindings.input_paths[input] = scope.step_output(ref->step, ref->name);
        continue;
      }
    }
    std::optional<std::string> value;
    if (auto it = bindings.values.find(input); it != bindings.values.end()) value = it->second;
    else if (const auto* spec = component.find_input(input); spec && spec->default_value) value = spec->default_value;
    if (!value) continue;  // absent optional input: its placeholders expand to nothing
    std::string path = scope.input_file(input);
    bindings.input_paths[input] = path;
    out.input_files.push_back({.input = input, .path = path, .content = *value});
  }
  for (const auto& output : component.outputs) {
    std::string path = scope.output(output.name);
    bindings.output_paths[output.name] = path;
    out.outputs.emplace_back(output.name, path);
  }
  auto resolved = resolve_command(component, bindings);
  if (!resolved) return std::unexpected(resolved.error().context(fmt::format("component {}", component.source)));
  out.argv = resolved->argv();
  out.env.insert(out.env.end(), component.env.begin(), component.env.end());
  if (out.image.empty()) out.image = component.image;
  return {};
}

}  // namespace

void use_symbolic_paths(Scope& scope) {
  scope.output = [](const std::string& output) { return fmt::format("{{{{outputs.{}}}}}", output); };
  scope.step_output = [](const std::string& step, const std::string& output) {
    return fmt::format("{{{{steps.{}.outputs.{}}}}}", step, output);
  };
  scope.input_file = [](const std::string& input) { return fmt::format("{{{{inputs.{}}}}}", input); };
}

Result<Invocation> resolve_invocation(const Step& step, const Scope& scope) {
  Invocation out;
  if (step.image) out.image = step.image->value;
  auto env = render_map(step.env, scope, "env");
  if (!env) return std::unexpected(env.error());
  out.env = std::move(*env);
  switch (step.kind) {
    case StepKind::command:
      for (size_t i = 0; i < step.command.size(); ++i) {
        auto text = render_text(step.command[i].value, scope);
        if (!text) return std::unexpected(text.error().context(fmt::format("command[{}]", i)));
        out.argv.push_back(std::move(*text));
      }
      for (const auto& output : step.outputs) out.outputs.emplace_back(output.value, scope.output(output.value));
      break;
    case StepKind::component:
      if (!step.component_spec)
        return fail(Errc::invalid, fmt::format("component file {} was not loaded", step.component.value));
      if (auto bound = bind_component(step, scope, out); !bound) return std::unexpected(bound.error());
      break;
    case StepKind::uses: {
      auto with = render_map(step.with, scope, "with");
      if (!with) return std::unexpected(with.error());
      out.with = std::move(*with);
      break;
    }
  }
  return out;
}

std::set<std::pair<std::string, std::string>> referenced_outputs(const Step& step) {
  std::set<std::pair<std::string, std::string>> refs;
  for (const auto& field : template_fields(step, 0)) {
    auto parts = parse_template(field.text->value);
    if (!parts) continue;
    for (const auto& ref : references(*parts))
      if (ref.kind == RefKind::step_output) refs.emplace(ref.step, ref.name);
  }
  return refs;
}

}  // namespace mlctl::pipeline
