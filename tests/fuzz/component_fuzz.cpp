// Fuzzes the KFP component.yaml reader: pipeline::parse_component (the text-level half of
// load_component_file), then expands the placeholders of what it accepts with resolve_command,
// once with every input and output bound and once with none.
#include <mlctl/pipeline/component.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlctl::pipeline;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ComponentCheck checked = parse_component(text, "component.yaml");
  for (const auto& problem : checked.problems) (void)problem.to_string();
  if (!checked.component) return 0;
  const Component& component = *checked.component;

  ComponentBindings bindings;
  for (const auto& input : component.inputs) bindings.values[input.name] = "value-of-" + input.name;
  for (const auto& name : path_inputs(component)) bindings.input_paths[name] = "/in/" + name;
  for (const auto& output : component.outputs) bindings.output_paths[output.name] = "/out/" + output.name;
  if (auto resolved = resolve_command(component, bindings)) (void)resolved->argv();
  if (auto resolved = resolve_command(component, {})) (void)resolved->argv();
  return 0;
}
