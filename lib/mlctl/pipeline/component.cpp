#include <mlctl/pipeline/component.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/core/text.hpp>
#include <mlctl/pipeline/yaml_text.hpp>

#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>

namespace mlctl::pipeline {

using core::YamlReader;
using Required = YamlReader::Required;

namespace {

constexpr std::array<std::string_view, 5> k_placeholders = {"inputValue", "inputPath", "outputPath", "concat", "if"};

// A type is a name ("CSV") or a name with properties ({GcsPath: {data_type: TSV}}).
std::string type_text(const core::YamlNode& node) {
  if (!node.is_defined() || node.is_null()) return "";
  if (node.is_scalar()) return node.scalar();
  return core::to_flow_yaml(node);
}

template <typename Spec>
void check_unique(YamlReader& r, const std::vector<Spec>& specs, std::string_view list) {
  std::set<std::string> seen;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!seen.insert(specs[i].name).second)
      r.error_at(specs[i].line, specs[i].column, fmt::format("{}[{}].name", list, i),
                 fmt::format("duplicate {} name '{}'", list == "inputs" ? "input" : "output", specs[i].name));
  }
}

std::vector<ComponentInput> read_inputs(YamlReader& r, const core::YamlNode& node) {
  std::vector<ComponentInput> inputs;
  if (!node.is_sequence()) {
    r.error(node, "inputs", fmt::format("expected a list, got {}", core::describe(node)));
    return inputs;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = fmt::format("inputs[{}]", i);
    const core::YamlNode item = node[i];
    if (!r.mapping(item, path, {"name", "type", "description", "default", "optional", "annotations"})) continue;
    auto name = read_field(r, item, "name", path + ".name", Required::yes);
    if (!name) continue;
    ComponentInput input{name->value, type_text(item["type"]), "", std::nullopt, false, name->line, name->column};
    if (auto description = read_field(r, item, "description", path + ".description", Required::no))
      input.description = description->value;
    if (auto value = read_field(r, item, "default", path + ".default", Required::no)) input.default_value = value->value;
    if (auto optional = read_field(r, item, "optional", path + ".optional", Required::no)) {
      auto flag = parse_bool(optional->value);
      if (!flag) r.error(item["optional"], path + ".optional", "expected true or false");
      input.optional = flag.value_or(false);
    }
    inputs.push_back(std::move(input));
  }
  check_unique(r, inputs, "inputs");
  return inputs;
}

std::vector<ComponentOutput> read_outputs(YamlReader& r, const core::YamlNode& node) {
  std::vector<ComponentOutput> outputs;
  if (!node.is_sequence()) {
    r.error(node, "outputs", fmt::format("expected a list, got {}", core::describe(node)));
    return outputs;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = fmt::format("outputs[{}]", i);
    const core::YamlNode item = node[i];
    if (!r.mapping(item, path, {"name", "type", "description", "annotations"})) continue;
    auto name = read_field(r, item, "name", path + ".name", Required::yes);
    if (!name) continue;
    ComponentOutput output{name->value, type_text(item["type"]), "", name->line, name->column};
    if (auto description = read_field(r, item, "description", path + ".description", Required::no))
      output.description = description->value;
    outputs.push_back(std::move(output));
  }
  check_unique(r, outputs, "outputs");
  return outputs;
}

// Reads command-line items; placeholders are checked against the component's inputs and outputs.
class ArgReader {
public:
  ArgReader(YamlReader& r, const Component& component) : r_(r), component_(component) {}

  std::vector<Arg> list(const core::YamlNode& node, const std::string& path) {
    std::vector<Arg> out;
    if (!node.is_sequence()) {
      r_.error(node, path, fmt::format("expected a list, got {}", core::describe(node)));
      return out;
    }
    for (size_t i = 0; i < node.size(); ++i)
      if (auto arg = one(node[i], fmt::format("{}[{}]", path, i))) out.push_back(std::move(*arg));
    return out;
  }

  std::optional<Arg> one(const core::YamlNode& node, const std::string& path) {
    auto [line, column] = core::position(node);
    Arg arg;
    arg.line = line;
    arg.column = column;
    if (node.is_scalar()) {
      arg.text = node.scalar();
      return arg;
    }
    if (!node.is_map() || node.size() != 1) {
      r_.error(node, path, fmt::format("expected a string or a placeholder such as {{inputValue: NAME}}, got {}",
                                       node.is_map() ? "a mapping with several keys" : core::describe(node)));
      return std::nullopt;
    }
    const auto entry = node.entries().front();
    const std::string key = entry.key.scalar();
    const std::string inner = child_path(path, key);
    if (key == "inputValue" || key == "inputPath") {
      arg.kind = key == "inputValue" ? ArgKind::input_value : ArgKind::input_path;
      if (!input_name(entry.value, inner, arg.text)) return std::nullopt;
    } else if (key == "outputPath") {
      arg.kind = ArgKind::output_path;
      if (!output_name(entry.value, inner, arg.text)) return std::nullopt;
    } else if (key == "concat") {
      arg.kind = ArgKind::concat;
      arg.items = list(entry.value, inner);
    } else if (key == "if") {
      arg.kind = ArgKind::if_then;
      if (!if_then(entry.value, inner, arg)) return std::nullopt;
    } else {
      unknown_placeholder(entry.key, path, key);
      return std::nullopt;
    }
    return arg;
  }

private:
  void unknown_placeholder(const core::YamlNode& key_node, const std::string& path, const std::string& key) {
    std::string message = fmt::format("unknown placeholder '{}'", key);
    if (auto suggestion = core::nearest(key, k_placeholders)) message += fmt::format("; did you mean '{}'?", *suggestion);
    else message += fmt::format(" (one of: {})", fmt::join(k_placeholders, ", "));
    r_.error(key_node, path, message);
  }

  template <typename Spec>
  bool known_name(const core::YamlNode& node, const std::string& path, const std::vector<Spec>& specs,
                  std::string_view what, std::string& name) {
    auto text = read_text(r_, node, path);
    if (!text) return false;
    name = text->value;
    if (std::ranges::any_of(specs, [&](const Spec& spec) { return spec.name == name; })) return true;
    std::vector<std::string_view> names;
    for (const auto& spec : specs) names.push_back(spec.name);
    std::string message = fmt::format("the component has no {} named '{}'", what, name);
    if (auto suggestion = core::nearest(name, names)) message += fmt::format("; did you mean '{}'?", *suggestion);
    r_.error(node, path, message);
    return false;
  }

  bool input_name(const core::YamlNode& node, const std::string& path, std::string& name) {
    return known_name(node, path, component_.inputs, "input", name);
  }
  bool output_name(const core::YamlNode& node, const std::string& path, std::string& name) {
    return known_name(node, path, component_.outputs, "output", name);
  }

  // then / else: one item or a list of items.
  std::vector<Arg> branch(const core::YamlNode& node, const std::string& path) {
    if (node.is_sequence()) return list(node, path);
    if (auto arg = one(node, path)) return {std::move(*arg)};
    return {};
  }

  bool condition(const core::YamlNode& node, const std::string& path, Condition& cond) {
    constexpr std::string_view k_expected = "expected true, false, {isPresent: NAME} or {inputValue: NAME}";
    if (node.is_scalar()) {
      auto flag = parse_bool(node.scalar());
      if (!flag) r_.error(node, path, fmt::format("'{}' is not a condition; {}", node.scalar(), k_expected));
      cond = {CondKind::constant, flag.value_or(false), ""};
      return flag.has_value();
    }
    if (!node.is_map() || node.size() != 1) {
      r_.error(node, path, fmt::format("not a condition; {}", k_expected));
      return false;
    }
    const auto entry = node.entries().front();
    const std::string key = entry.key.scalar();
    if (key != "isPresent" && key != "inputValue") {
      r_.error(entry.key, path, fmt::format("unknown condition '{}'; {}", key, k_expected));
      return false;
    }
    cond.kind = key == "isPresent" ? CondKind::is_present : CondKind::input_value;
    return input_name(entry.value, child_path(path, key), cond.input);
  }

  bool if_then(const core::YamlNode& node, const std::string& path, Arg& arg) {
    if (!r_.mapping(node, path, {"cond", "then", "else"})) return false;
    if (!has_key(node, "cond") || !has_key(node, "then")) {
      r_.error(node, path, "an if placeholder needs 'cond' and 'then'");
      return false;
    }
    bool ok = condition(node["cond"], path + ".cond", arg.condition);
    arg.items = branch(node["then"], path + ".then");
    if (has_key(node, "else")) arg.otherwise = branch(node["else"], path + ".else");
    return ok;
  }

  YamlReader& r_;
  const Component& component_;
};

void read_container(YamlReader& r, const core::YamlNode& node, Component& component) {
  const std::string path = "implementation.container";
  if (!r.mapping(node, path, {"image", "command", "args", "env", "fileOutputs"})) return;
  if (has_key(node, "fileOutputs"))
    r.error(node["fileOutputs"], path + ".fileOutputs", "fileOutputs (KFP v0) is not supported; use {outputPath: NAME}");
  component.image = read_field(r, node, "image", path + ".image", Required::yes).value_or(core::Located{}).value;
  ArgReader args(r, component);
  if (has_key(node, "command")) component.command = args.list(node["command"], path + ".command");
  if (has_key(node, "args")) component.args = args.list(node["args"], path + ".args");
  for (auto& [name, value] : read_map(r, node, "env", path + ".env")) component.env.emplace_back(name, value.value);
}

void read_implementation(YamlReader& r, const core::YamlNode& root, Component& component) {
  if (!has_key(root, "implementation")) {
    r.error(root, "implementation", "required field is missing");
    return;
  }
  const core::YamlNode node = root["implementation"];
  if (!r.mapping(node, "implementation", {"container", "graph"})) return;
  if (has_key(node, "graph")) {
    r.error(node["graph"], "implementation.graph", "graph components are not supported; use a container component");
    return;
  }
  if (!has_key(node, "container")) {
    r.error(node, "implementation.container", "required field is missing");
    return;
  }
  read_container(r, node["container"], component);
}

Component read_component(YamlReader& r, const core::YamlNode& root) {
  Component component;
  // A KFP v2 pipeline spec (the compiled IR) is a different format; say so instead of listing keys.
  if (root.is_map() && (has_key(root, "pipelineInfo") || has_key(root, "deploymentSpec"))) {
    r.error(root, "", "this is a KFP v2 pipeline spec; only KFP v1 component.yaml files can be loaded");
    return component;
  }
  if (!r.mapping(root, "", {"name", "description", "metadata", "inputs", "outputs", "implementation", "version"}))
    return component;
  component.name = read_field(r, root, "name", "name", Required::no).value_or(core::Located{}).value;
  component.description = read_field(r, root, "description", "description", Required::no).value_or(core::Located{}).value;
  if (has_key(root, "inputs")) component.inputs = read_inputs(r, root["inputs"]);
  if (has_key(root, "outputs")) component.outputs = read_outputs(r, root["outputs"]);
  read_implementation(r, root, component);
  return component;
}

}  // namespace

const ComponentInput* Component::find_input(std::string_view wanted) const {
  auto it = std::ranges::find_if(inputs, [&](const auto& input) { return input.name == wanted; });
  return it == inputs.end() ? nullptr : &*it;
}

const ComponentOutput* Component::find_output(std::string_view wanted) const {
  auto it = std::ranges::find_if(outputs, [&](const auto& output) { return output.name == wanted; });
  return it == outputs.end() ? nullptr : &*it;
}

ComponentCheck parse_component(std::string_view text, const std::string& display_name) {
  YamlReader r = make_reader(display_name);
  auto document = load_yaml(r, text);
  if (!document) return {std::nullopt, std::move(r.diagnostics())};
  Component component = read_component(r, document->root());
  component.source = display_name;
  if (!r.diagnostics().empty()) return {std::nullopt, std::move(r.diagnostics())};
  return {std::move(component), {}};
}

ComponentCheck load_component_file(const std::filesystem::path& file) {
  std::string shown = core::display_path(file);
  auto text = core::read_file(file);
  if (!text) return {std::nullopt, {{shown, 0, 0, "", text.error().message()}}};
  return parse_component(*text, shown);
}

}  // namespace mlctl::pipeline
