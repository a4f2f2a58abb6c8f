#include "context.hpp"

#include <mlctl/core/config.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/pipeline/load.hpp>
#include <mlctl/pipeline/local/graph.hpp>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;

struct PipelineFlags {
  std::string pipeline;
  std::string format = "dot";
};

bool looks_like_a_path(const std::string& text) {
  return text.find('/') != std::string::npos || text.ends_with(".yaml") || text.ends_with(".yml");
}

// A pipeline NAME from the project's `pipelines`, or the path of a pipeline file (which needs
// no mlctl.yaml around it).
fs::path pipeline_file(Context& context, const std::string& name_or_path) {
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) return name_or_path;
  if (looks_like_a_path(name_or_path))
    throw Fatal{Error(Errc::not_found, fmt::format("no pipeline file {}", name_or_path),
                      "give a pipeline file, or a pipeline name from mlctl.yaml's 'pipelines'")};
  core::Project project = unwrap(core::load_project(context.project_file(), core::process_env()));
  std::vector<std::string> names;
  for (const auto& [name, file] : project.pipelines) {
    if (name == name_or_path) return core::display_path(project.root / file.value);
    names.push_back(name);
  }
  throw Fatal{Error(Errc::not_found, fmt::format("no pipeline '{}' in mlctl.yaml", name_or_path),
                    names.empty() ? "mlctl.yaml names no pipelines: add them under 'pipelines:'"
                                  : fmt::format("its pipelines: {}", fmt::join(names, ", ")))};
}

void run_validate(Context& context, const PipelineFlags& flags) {
  fs::path file = pipeline_file(context, flags.pipeline);
  auto checked = pipeline::check_pipeline_file(file);
  nlohmann::json document = {{"file", file.string()}, {"valid", checked.pipeline.has_value()}};
  if (!checked.pipeline) {
    if (checked.code == Errc::not_found) throw Fatal{Error(Errc::not_found, checked.problems.front().to_string())};
    fail_with_problems(context, document, checked.problems);
  }
  std::vector<std::string> steps;
  for (const auto& step : checked.pipeline->steps) steps.push_back(step.name.value);
  document["name"] = checked.pipeline->name.value;
  document["steps"] = steps;
  document["problems"] = nlohmann::json::array();
  context.print(document, fmt::format("{}: ok ({}, {} step(s))", file.string(), checked.pipeline->name.value,
                                      steps.size()));
}

void run_graph(Context& context, const PipelineFlags& flags) {
  auto format = unwrap(pipeline::parse_graph_format(flags.format));
  auto loaded = unwrap(pipeline::load_pipeline(pipeline_file(context, flags.pipeline)));
  std::string graph = pipeline::render_graph(loaded, nullptr, format);
  context.print({{"format", flags.format}, {"graph", graph}}, graph);
}

}  // namespace

void add_pipeline(CLI::App& app) {
  auto flags = std::make_shared<PipelineFlags>();
  CLI::App* group = app.add_subcommand("pipeline", "Training pipelines: check a pipeline file, draw its DAG");
  group->require_subcommand(0, 1);
  group->footer(R"(A pipeline is NAME (from 'pipelines' in mlctl.yaml) or the path of a pipeline file.

Examples:
  mlctl pipeline validate train
  mlctl pipeline graph pipelines/train.yaml --format mermaid)");

  CLI::App* validate = group->add_subcommand("validate", "Check a pipeline file and the component files it uses");
  validate->add_option("pipeline", flags->pipeline, "NAME or FILE")->required();
  on_run(validate, [flags](Context& context) { run_validate(context, *flags); });

  CLI::App* graph = group->add_subcommand("graph", "Print a pipeline's DAG as Graphviz DOT or a Mermaid flowchart");
  graph->add_option("pipeline", flags->pipeline, "NAME or FILE")->required();
  graph->add_option("--format", flags->format, "dot (default) or mermaid")->option_text("dot|mermaid");
  on_run(graph, [flags](Context& context) { run_graph(context, *flags); });
}

}  // namespace mlctl::cli
