#include <mlctl/pipeline/component.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

void add_unique(std::vector<std::string>& names, const std::string& name) {
  if (std::ranges::find(names, name) == names.end()) names.push_back(name);
}

void collect_path_inputs(const std::vector<Arg>& args, std::vector<std::string>& names) {
  for (const Arg& arg : args) {
    if (arg.kind == ArgKind::input_path) add_unique(names, arg.text);
    collect_path_inputs(arg.items, names);
    collect_path_inputs(arg.otherwise, names);
  }
}

// Expands placeholders into strings, recording which inputs and outputs were passed as paths.
class Expander {
public:
  Expander(const Component& component, const ComponentBindings& bindings, ResolvedCommand& out)
      : component_(component), bindings_(bindings), out_(out) {}

  Result<void> expand(const std::vector<Arg>& args, std::vector<std::string>& into) {
    for (const Arg& arg : args)
      if (auto done = expand_one(arg, into); !done) return done;
    return {};
  }

private:
  // The argument, else the default; nothing for an absent optional input.
  std::optional<std::string> value_of(const std::string& input) const {
    if (auto it = bindings_.values.find(input); it != bindings_.values.end()) return it->second;
    if (const auto* spec = component_.find_input(input); spec && spec->default_value) return spec->default_value;
    return std::nullopt;
  }

  bool present(const std::string& input) const {
    return value_of(input).has_value() || bindings_.input_paths.contains(input);
  }

  Result<void> expand_one(const Arg& arg, std::vector<std::string>& into) {
    switch (arg.kind) {
      case ArgKind::constant: into.push_back(arg.text); return {};
      case ArgKind::input_value:
        if (auto value = value_of(arg.text)) into.push_back(*value);
        return {};
      case ArgKind::input_path: return input_path(arg.text, into);
      case ArgKind::output_path: return output_path(arg.text, into);
      case ArgKind::concat: {
        std::vector<std::string> parts;
        if (auto done = expand(arg.items, parts); !done) return done;
        into.push_back(fmt::format("{}", fmt::join(parts, "")));
        return {};
      }
      case ArgKind::if_then: return expand(holds(arg.condition) ? arg.items : arg.otherwise, into);
    }
    return {};
  }

  Result<void> input_path(const std::string& input, std::vector<std::string>& into) {
    if (!present(input)) return {};
    auto it = bindings_.input_paths.find(input);
    if (it == bindings_.input_paths.end())
      return fail(Errc::invalid, fmt::format("input '{}' is read from a file ({{inputPath: {}}}) but no file was given",
                                             input, input));
    add_unique(out_.input_files, input);
    into.push_back(it->second);
    return {};
  }

  Result<void> output_path(const std::string& output, std::vector<std::string>& into) {
    auto it = bindings_.output_paths.find(output);
    if (it == bindings_.output_paths.end())
      return fail(Errc::invalid, fmt::format("no path was given for output '{}'", output));
    add_unique(out_.output_files, output);
    into.push_back(it->second);
    return {};
  }

  bool holds(const Condition& cond) const {
    switch (cond.kind) {
      case CondKind::constant: return cond.constant;
      case CondKind::is_present: return present(cond.input);
      case CondKind::input_value: {
        std::string value = value_of(cond.input).value_or("");
        std::ranges::transform(value, value.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
        return value == "true";
      }
    }
    return false;
  }

  const Component& component_;
  const ComponentBindings& bindings_;
  ResolvedCommand& out_;
};

Result<void> check_bindings(const Component& component, const ComponentBindings& bindings) {
  for (const auto& [name, value] : bindings.values)
    if (!component.find_input(name))
      return fail(Errc::invalid, fmt::format("the component has no input named '{}'", name));
  for (const auto& input : component.inputs) {
    bool given = bindings.values.contains(input.name) || bindings.input_paths.contains(input.name);
    if (input.required() && !given)
      return fail(Errc::invalid, fmt::format("required input '{}' has no value", input.name));
  }
  return {};
}

}  // namespace

std::vector<std::string> path_inputs(const Component& component) {
  std::vector<std::string> names;
  collect_path_inputs(component.command, names);
  collect_path_inputs(component.args, names);
  return names;
}

std::vector<std::string> ResolvedCommand::argv() const {
  std::vector<std::string> all = command;
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

Result<ResolvedCommand> resolve_command(const Component& component, const ComponentBindings& bindings) {
  if (auto checked = check_bindings(component, bindings); !checked) return std::unexpected(checked.error());
  ResolvedCommand out;
  Expander expander(component, bindings, out);
  if (auto done = expander.expand(component.command, out.command); !done) return std::unexpected(done.error());
  if (auto done = expander.expand(component.args, out.args); !done) return std::unexpected(done.error());
  return out;
}

}  // namespace mlctl::pipeline
