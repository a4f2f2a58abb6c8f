#include <mlctl/pipeline/compile/step_plan.hpp>

#include <mlctl/core/text.hpp>
#include <mlctl/oci/remote/reference.hpp>
#include <mlctl/pipeline/template.hpp>

#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

// The command line of a built-in action in the tool image (see StepPlanner::plan).
constexpr std::array<std::string_view, 3> k_action_command = {"mlctl", "pipeline", "action"};

template <typename T>
void sort_unique(std::vector<T>& items) {
  std::ranges::sort(items);
  auto [first, last] = std::ranges::unique(items);
  items.erase(first, last);
}

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool label_char(char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; }

// A Kubernetes label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric
// ("1.4.0+build.5" -> "1.4.0_build.5").
std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) out += label_char(c) ? c : '_';
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && !alnum(out.back())) out.pop_back();
  size_t first = 0;
  while (first < out.size() && !alnum(out[first])) ++first;
  return out.substr(first);
}

// The argument of a component input when it is exactly one other step's output: that output's
// file is passed as is.
bool single_step_output(std::string_view text) {
  auto parts = parse_template(text);
  return parts && parts->size() == 1 && std::holds_alternative<Reference>(parts->front()) &&
         std::get<Reference>(parts->front()).kind == RefKind::step_output;
}

Result<void> check_unique(const std::vector<std::string>& names, std::string_view what) {
  std::set<std::string_view> seen;
  for (const auto& name : names)
    if (!seen.insert(name).second)
      return fail(Errc::invalid, fmt::format("two {} are both named '{}' once made file names", what, name),
                  "rename one of them");
  return {};
}

}  // namespace

std::string io_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (!(alnum(c) || c == '-' || c == '_')) c = '_';
  return out;
}

std::string upstream_key(std::string_view step, std::string_view output) {
  return fmt::format("{}_{}", step, io_name(output));
}

StepPlanner::StepPlanner(const Pipeline& pipeline, const CompileOptions& options, Placeholders placeholders)
    : pipeline_(pipeline), options_(options), placeholders_(std::move(placeholders)) {
  index_.reserve(pipeline.steps.size());
  for (size_t i = 0; i < pipeline.steps.size(); ++i) index_.emplace(pipeline.steps[i].name.value, i);
  if (!options.self_image.empty()) {
    auto reference = oci::remote::parse_reference(options.self_image);
    if (!reference) self_image_check_ = std::unexpected(reference.error());
    else if (reference->digest.empty())
      self_image_check_ = fail(Errc::invalid, fmt::format("the project image '{}' is not pinned by a digest",
                                                          options.self_image),
                               "give it as REF@sha256:DIGEST, as `mlctl build --push` prints it");
  }
}

Result<StepPlan> StepPlanner::plan(size_t index) const {
  const Step& step = pipeline_.steps[index];
  StepPlan plan;
  auto planned = [&]() -> Result<void> {
    auto image = image_of(step);
    if (!image) return std::unexpected(image.error());
    plan.image = std::move(*image);
    Result<void> done;
    switch (step.kind) {
      case StepKind::command: done = plan_command(step, plan); break;
      case StepKind::component: done = plan_component(step, plan); break;
      case StepKind::uses: done = plan_action(step, plan); break;
    }
    if (!done) return done;
    if (auto env = plan_env(step, plan); !env) return env;
    sort_unique(plan.upstream);
    sort_unique(plan.params);
    return check_names(plan);
  }();
  if (!planned) return std::unexpected(planned.error().context(fmt::format("step '{}'", step.name.value)));
  return plan;
}

Result<std::string> StepPlanner::render(const Step& step, const core::Located& text, std::string_view field,
                                        StepPlan& plan, bool* runtime) const {
  auto parts = parse_template(text.value);
  if (!parts) return std::unexpected(parts.error().context(field));
  auto value = [&](const Reference& ref) -> Result<std::string> {
    if (runtime && ref.kind != RefKind::pipeline_name) *runtime = true;
    switch (ref.kind) {
      case RefKind::param:
        if (!pipeline_.find_param(ref.name)) return fail(Errc::invalid, fmt::format("unknown param '{}'", ref.name));
        plan.params.push_back(ref.name);
        return placeholders_.param(ref.name);
      case RefKind::output:
        if (!step.has_output(ref.name)) return fail(Errc::invalid, fmt::format("no output named '{}'", ref.name));
        return placeholders_.own_output(step.name.value, io_name(ref.name));
      case RefKind::step_output: {
        auto it = index_.find(ref.step);
        if (it == index_.end() || &pipeline_.steps[it->second] == &step)
          return fail(Errc::invalid, fmt::format("'{{{{{}}}}}' names no other step", ref.text));
        if (!pipeline_.steps[it->second].has_output(ref.name))
          return fail(Errc::invalid, fmt::format("step '{}' has no output '{}'", ref.step, ref.name));
        plan.upstream.push_back({it->second, ref.name});
        return placeholders_.upstream_output(ref.step, io_name(ref.name));
      }
      case RefKind::run_id: plan.reads_run_id = true; return placeholders_.run_id;
      case RefKind::pipeline_name: return pipeline_.name.value;
    }
    return std::string();
  };
  auto rendered = pipeline::render(*parts, value);
  if (!rendered) return std::unexpected(rendered.error().context(field));
  return rendered;
}

Result<void> StepPlanner::plan_command(const Step& step, StepPlan& plan) const {
  for (size_t i = 0; i < step.command.size(); ++i) {
    auto item = render(step, step.command[i], fmt::format("command[{}]", i), plan);
    if (!item) return std::unexpected(item.error());
    plan.command.push_back(std::move(*item));
  }
  plan.outputs = step.output_names();
  return {};
}

Result<void> StepPlanner::plan_component(const Step& step, StepPlan& plan) const {
  if (!step.component_spec)
    return fail(Errc::invalid, fmt::format("component file '{}' was not loaded", step.component.value));
  const Component& component = *step.component_spec;
  ComponentBindings bindings;
  for (const auto& [name, text] : step.arguments) {
    auto value = render(step, text, fmt::format("arguments.{}", name), plan);
    if (!value) return std::unexpected(value.error());
    bindings.values[name] = std::move(*value);
  }
  for (const auto& input : path_inputs(component)) {
    auto argument = std::ranges::find(step.arguments, input, &LocatedMap::value_type::first);
    bool given = argument != step.arguments.end();
    if (given && single_step_output(argument->second.value)) {
      bindings.input_paths[input] = bindings.values[input];
      continue;
    }
    const ComponentInput* spec = component.find_input(input);
    std::optional<std::string> content = given ? bindings.values[input] : spec ? spec->default_value : std::nullopt;
    if (!content) continue;  // an optional input left out: its placeholders expand to nothing
    auto path = placeholders_.value_file(io_name(input));
    if (!path) return std::unexpected(path.error().context(fmt::format("arguments.{}", input)));
    plan.value_files.push_back({io_name(input), *path, std::move(*content)});
    bindings.input_paths[input] = std::move(*path);
  }
  for (const auto& output : component.outputs) {
    bindings.output_paths[output.name] = placeholders_.own_output(step.name.value, io_name(output.name));
    plan.outputs.push_back(output.name);
  }
  auto resolved = resolve_command(component, bindings);
  if (!resolved) return std::unexpected(resolved.error().context(fmt::format("component '{}'", step.component.value)));
  plan.command = std::move(resolved->command);
  plan.args = std::move(resolved->args);
  for (const auto& [name, value] : component.env) plan.env.push_back({name, value, false});
  return {};
}

Result<void> StepPlanner::plan_action(const Step& step, StepPlan& plan) const {
  plan.command.assign(k_action_command.begin(), k_action_command.end());
  plan.command.push_back(step.uses.value);
  plan.args = {"--run-id", placeholders_.run_id, "--pipeline", pipeline_.name.value};
  plan.reads_run_id = true;
  if (!options_.git_commit.empty()) plan.args.insert(plan.args.end(), {"--git-commit", options_.git_commit});
  for (const auto& [key, text] : step.with) {
    auto value = render(step, text, fmt::format("with.{}", key), plan);
    if (!value) return std::unexpected(value.error());
    plan.args.insert(plan.args.end(), {"--" + key, std::move(*value)});
  }
  if (step.uses.value != "register") return {};
  if (!options_.model.empty() && std::ranges::none_of(step.with, [](const auto& entry) { return entry.first == "model"; }))
    plan.args.insert(plan.args.end(), {"--model", options_.model});
  if (!options_.artifact_store.empty()) plan.args.insert(plan.args.end(), {"--artifact-store", options_.artifact_store});
  if (options_.stage_registrations) {
    plan.outputs.emplace_back(k_registration_output);
    plan.args.insert(plan.args.end(), {"--stage", placeholders_.own_output(step.name.value, k_registration_output)});
    plan.stages_registration = true;
  }
  return {};
}

// The step's env overrides the component's variables of the same name.
Result<void> StepPlanner::plan_env(const Step& step, StepPlan& plan) const {
  for (const auto& [name, text] : step.env) {
    bool runtime = false;
    auto value = render(step, text, fmt::format("env.{}", name), plan, &runtime);
    if (!value) return std::unexpected(value.error());
    auto it = std::ranges::find(plan.env, name, &EnvVar::name);
    if (it != plan.env.end()) *it = {name, std::move(*value), runtime};
    else plan.env.push_back({name, std::move(*value), runtime});
  }
  return {};
}

// Everything a backend names after outputs and inputs must stay distinct once made file names.
Result<void> StepPlanner::check_names(const StepPlan& plan) const {
  std::vector<std::string> outputs;
  for (const auto& output : plan.outputs) outputs.push_back(io_name(output));
  if (auto unique = check_unique(outputs, "outputs"); !unique) return unique;
  std::vector<std::string> inputs;
  for (const auto& up : plan.upstream) inputs.push_back(upstream_key(pipeline_.steps[up.step].name.value, up.output));
  for (const auto& file : plan.value_files) inputs.push_back(file.name);
  return check_unique(inputs, "inputs");
}

Result<std::string> StepPlanner::image_of(const Step& step) const {
  switch (step.kind) {
    case StepKind::uses:
      if (options_.tool_image.empty())
        return fail(Errc::invalid,
                    fmt::format("the built-in action '{}' runs in the mlctl image, but none was given", step.uses.value));
      return options_.tool_image;
    case StepKind::component:
      if (!step.image && step.component_spec) return step.component_spec->image;
      break;
    case StepKind::command:
      if (!step.image) return self_image("a step without an image runs in the project image");
      break;
  }
  if (step.uses_self_image()) return self_image("image: self is the project image");
  return step.image ? step.image->value : std::string();
}

Result<std::string> StepPlanner::self_image(std::string_view why) const {
  if (options_.self_image.empty())
    return fail(Errc::invalid, fmt::format("{}, but none was given", why),
                "build and push it with `mlctl build --push`, then pass it as --image REF@sha256:DIGEST");
  if (!self_image_check_) return std::unexpected(self_image_check_.error());
  return options_.self_image;
}

Result<std::vector<std::pair<std::string, std::string>>> param_values(const Pipeline& pipeline,
                                                                      const CompileOptions& options) {
  std::vector<std::string_view> names;
  for (const auto& param : pipeline.params) names.push_back(param.name);
  for (const auto& [name, value] : options.params) {
    if (pipeline.find_param(name)) continue;
    std::string hint = names.empty() ? "the pipeline declares no params"
                                     : fmt::format("its params are: {}", fmt::join(names, ", "));
    if (auto suggestion = core::nearest(name, names)) hint = fmt::format("did you mean '{}'?", *suggestion);
    return fail(Errc::invalid, fmt::format("pipeline '{}' has no param '{}'", pipeline.name.value, name), hint);
  }
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& param : pipeline.params) {
    auto it = options.params.find(param.name);
    values.emplace_back(param.name, it == options.params.end() ? param.default_value : it->second);
  }
  return values;
}

std::vector<std::pair<std::string, std::string>> pipeline_labels(const Pipeline& pipeline,
                                                                 const CompileOptions& options) {
  std::vector<std::pair<std::string, std::string>> labels{{"mlctl.dev/pipeline", label_value(pipeline.name.value)}};
  if (auto version = label_value(options.pipeline_version); !version.empty())
    labels.emplace_back("mlctl.dev/pipeline-version", version);
  if (auto commit = label_value(options.git_commit); !commit.empty()) labels.emplace_back("mlctl.dev/git-commit", commit);
  return labels;
}

}  // namespace mlctl::pipeline
