#include <mlctl/pipeline/validate.hpp>

#include <mlctl/core/quantity.hpp>
#include <mlctl/core/text.hpp>
#include <mlctl/pipeline/dag.hpp>
#include <mlctl/pipeline/template.hpp>
#include <mlctl/pipeline/values.hpp>

#include <algorithm>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace mlctl::pipeline {

using core::Located;

namespace {

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  if (auto suggestion = core::nearest(word, views)) return fmt::format("; did you mean '{}'?", *suggestion);
  return "";
}

class Validator {
public:
  explicit Validator(const Pipeline& pipeline) : p_(pipeline) {
    for (size_t i = 0; i < p_.steps.size(); ++i) {
      first_index_.emplace(p_.steps[i].name.value, i);
      step_names_.push_back(p_.steps[i].name.value);
    }
    for (const auto& param : p_.params) param_names_.push_back(param.name);
  }

  std::vector<core::Diagnostic> run() {
    check_pipeline_fields();
    for (size_t i = 0; i < p_.steps.size(); ++i) check_step(i);
    check_cycles();
    return std::move(problems_);
  }

private:
  void error(int line, int column, std::string field, std::string message) {
    problems_.push_back({p_.source, line, column, std::move(field), std::move(message)});
  }
  void error(const Located& at, std::string field, std::string message) {
    error(at.line, at.column, std::move(field), std::move(message));
  }
  // Reports a failed value check at the value.
  void check(const Located& at, const std::string& field, const Result<void>& result) {
    if (!result) error(at, field, result.error().message());
  }

  void check_pipeline_fields() {
    if (!p_.name.value.empty()) check(p_.name, "name", core::check_dns1123_label(p_.name.value));
    if (p_.schedule) check(*p_.schedule, "schedule", check_cron(p_.schedule->value));
    for (const auto& param : p_.params) {
      if (auto ok = check_identifier(param.name); !ok)
        error(param.line, param.column, "params." + param.name, ok.error().message());
    }
  }

  void check_step(size_t i) {
    check_name(i);
    check_outputs(i);
    check_values(i);
    check_needs(i);
    check_inputs(i);
    check_action(i);
    check_arguments(i);
    for (const auto& field : template_fields(p_.steps[i], i)) check_template(i, field);
  }

  void check_name(size_t i) {
    const Located& name = p_.steps[i].name;
    const std::string field = step_path(i) + ".name";
    if (name.value.empty()) return;  // a missing name is a parse problem
    check(name, field, core::check_dns1123_label(name.value));
    size_t first = first_index_.at(name.value);
    if (first != i)
      error(name, field, fmt::format("duplicate step name '{}' (first used by {} on line {})", name.value,
                                     step_path(first), p_.steps[first].name.line));
  }

  void check_outputs(size_t i) {
    const Step& step = p_.steps[i];
    std::set<std::string> seen;
    for (size_t k = 0; k < step.outputs.size(); ++k) {
      const std::string field = fmt::format("{}.outputs[{}]", step_path(i), k);
      check(step.outputs[k], field, check_identifier(step.outputs[k].value));
      if (!seen.insert(step.outputs[k].value).second)
        error(step.outputs[k], field, fmt::format("duplicate output '{}'", step.outputs[k].value));
    }
    if (step.metrics && outputs_known(step) && !step.has_output(step.metrics->value))
      error(*step.metrics, step_path(i) + ".metrics",
            fmt::format("'{}' is not an output of this step{}", step.metrics->value,
                        did_you_mean(step.metrics->value, step.output_names())));
  }

  void check_values(size_t i) {
    const Step& step = p_.steps[i];
    const std::string prefix = step_path(i);
    const Resources& res = step.resources;
    if (res.cpu) check(*res.cpu, prefix + ".resources.cpu", core::check_cpu(res.cpu->value));
    if (res.memory) check(*res.memory, prefix + ".resources.memory", core::check_memory(res.memory->value));
    if (res.gpu) check(*res.gpu, prefix + ".resources.gpu", as_void(parse_count(res.gpu->value)));
    if (step.retries) check(*step.retries, prefix + ".retries", as_void(parse_count(step.retries->value)));
    if (step.timeout) check(*step.timeout, prefix + ".timeout", as_void(parse_duration(step.timeout->value)));
    for (const auto& [name, value] : step.env) check(value, prefix + ".env." + name, check_env_name(name));
  }

  template <typename T>
  static Result<void> as_void(const Result<T>& result) {
    if (!result) return std::unexpected(result.error());
    return {};
  }

  void check_needs(size_t i) {
    const Step& step = p_.steps[i];
    for (size_t k = 0; k < step.needs.size(); ++k) {
      const Located& need = step.needs[k];
      const std::string field = fmt::format("{}.needs[{}]", step_path(i), k);
      if (need.value == step.name.value) error(need, field, "a step cannot need itself");
      else if (!first_index_.contains(need.value))
        error(need, field, fmt::format("unknown step '{}'{}", need.value, did_you_mean(need.value, step_names_)));
    }
  }

  // Inputs name project files: relative paths that stay inside the project.
  void check_inputs(size_t i) {
    const Step& step = p_.steps[i];
    for (size_t k = 0; k < step.inputs.size(); ++k) {
      const Located& input = step.inputs[k];
      std::filesystem::path path(input.value);
      bool escapes = std::ranges::any_of(path, [](const std::filesystem::path& part) { return part == ".."; });
      if (input.value.empty() || path.is_absolute() || escapes)
        error(input, fmt::format("{}.inputs[{}]", step_path(i), k),
              "an input is a path inside the project, relative to its root (no '..', not absolute)");
    }
  }

  void check_action(size_t i) {
    const Step& step = p_.steps[i];
    if (step.kind != StepKind::uses || step.uses.value.empty()) return;
    const auto& actions = builtin_actions();
    auto action = std::ranges::find_if(actions, [&](const Action& a) { return a.name == step.uses.value; });
    if (action == actions.end()) {
      std::vector<std::string> names;
      for (const auto& a : actions) names.emplace_back(a.name);
      error(step.uses, step_path(i) + ".uses",
            fmt::format("unknown action '{}'{}", step.uses.value, did_you_mean(step.uses.value, names)));
      return;
    }
    check_with(i, *action);
  }

  void check_with(size_t i, const Action& action) {
    const Step& step = p_.steps[i];
    for (const auto& [key, value] : step.with) {
      bool known = std::ranges::find(action.required, key) != action.required.end() ||
                   std::ranges::find(action.optional, key) != action.optional.end();
      if (!known)
        error(value, fmt::format("{}.with.{}", step_path(i), key),
              fmt::format("'{}' takes no argument '{}' (it takes: {}, {})", action.name, key,
                          fmt::join(action.required, ", "), fmt::join(action.optional, ", ")));
    }
    for (std::string_view key : action.required)
      if (std::ranges::none_of(step.with, [&](const auto& entry) { return entry.first == key; }))
        error(step.uses, step_path(i) + ".with", fmt::format("'{}' needs the argument '{}'", action.name, key));
  }

  void check_arguments(size_t i) {
    const Step& step = p_.steps[i];
    if (step.kind != StepKind::component || !step.component_spec) return;
    const Component& component = *step.component_spec;
    std::vector<std::string> inputs;
    for (const auto& input : component.inputs) inputs.push_back(input.name);
    for (const auto& [name, value] : step.arguments)
      if (!component.find_input(name))
        error(value, fmt::format("{}.arguments.{}", step_path(i), name),
              fmt::format("component '{}' has no input '{}'{}", step.component.value, name, did_you_mean(name, inputs)));
    for (const auto& input : component.inputs) {
      bool given = std::ranges::any_of(step.arguments, [&](const auto& entry) { return entry.first == input.name; });
      if (input.required() && !given)
        error(step.component, step_path(i) + ".arguments",
              fmt::format("missing argument for the required input '{}' of component '{}'", input.name,
                          step.component.value));
    }
  }

  void check_template(size_t i, const TemplateField& field) {
    auto parts = parse_template(field.text->value);
    if (!parts) {
      error(*field.text, field.field, parts.error().message());
      return;
    }
    for (const auto& ref : references(*parts))
      if (auto problem = reference_problem(p_.steps[i], ref)) error(*field.text, field.field, *problem);
  }

  std::optional<std::string> reference_problem(const Step& step, const Reference& ref) const {
    switch (ref.kind) {
      case RefKind::param:
        if (p_.find_param(ref.name)) return std::nullopt;
        return fmt::format("unknown param '{}'{}", ref.name, did_you_mean(ref.name, param_names_));
      case RefKind::output: return own_output_problem(step, ref);
      case RefKind::step_output: return step_output_problem(step, ref);
      case RefKind::run_id:
      case RefKind::pipeline_name: return std::nullopt;
    }
    return std::nullopt;
  }

  std::optional<std::string> own_output_problem(const Step& step, const Reference& ref) const {
    if (step.kind == StepKind::component)
      return fmt::format("'{{{{{}}}}}' is for command steps; a component's outputs are its outputPath placeholders",
                         ref.text);
    if (step.kind == StepKind::uses) return fmt::format("'{{{{{}}}}}': a 'uses' step has no outputs", ref.text);
    if (step.has_output(ref.name)) return std::nullopt;
    return fmt::format("unknown output '{}'; this step's outputs are declared in 'outputs'{}", ref.name,
                       did_you_mean(ref.name, step.output_names()));
  }

  std::optional<std::string> step_output_problem(const Step& step, const Reference& ref) const {
    if (ref.step == step.name.value)
      return fmt::format("'{{{{{}}}}}' refers to this step's own output; write '{{{{outputs.{}}}}}'", ref.text, ref.name);
    auto it = first_index_.find(ref.step);
    if (it == first_index_.end())
      return fmt::format("unknown step '{}'{}", ref.step, did_you_mean(ref.step, step_names_));
    const Step& target = p_.steps[it->second];
    if (!outputs_known(target) || target.has_output(ref.name)) return std::nullopt;
    return fmt::format("step '{}' has no output '{}'{}", ref.step, ref.name,
                       did_you_mean(ref.name, target.output_names()));
  }

  // A component step whose file did not load has unknown outputs; its own diagnostic says why.
  static bool outputs_known(const Step& step) {
    return step.kind != StepKind::component || step.component_spec.has_value();
  }

  void check_cycles() {
    Dag dag = build_dag(p_);
    for (const auto& cycle : find_cycles(dag)) {
      const Step& first = p_.steps[cycle.front()];
      error(first.name, step_path(cycle.front()), fmt::format("cycle: {}", describe_cycle(dag, cycle)));
    }
  }

  const Pipeline& p_;
  std::unordered_map<std::string, size_t> first_index_;  // step name -> its first step
  std::vector<std::string> step_names_;
  std::vector<std::string> param_names_;
  std::vector<core::Diagnostic> problems_;
};

}  // namespace

const std::vector<Action>& builtin_actions() {
  static const std::vector<Action> k_actions = {
      {"register", {"artifact"}, {"metrics", "model"}},
  };
  return k_actions;
}

std::vector<core::Diagnostic> validate(const Pipeline& pipeline) { return Validator(pipeline).run(); }

}  // namespace mlctl::pipeline
