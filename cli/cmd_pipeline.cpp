#include "context.hpp"
#include "pipeline_commands.hpp"

#include <mlctl/core/config.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/pipeline/load.hpp>
#include <mlctl/pipeline/local/graph.hpp>
#include <mlctl/pipeline/local/run_store.hpp>

#include <fmt/format.h>

namespace mlctl::cli {

namespace fs = std::filesystem;

namespace {

bool looks_like_a_path(const std::string& text) {
  return text.find('/') != std::string::npos || text.ends_with(".yaml") || text.ends_with(".yml");
}

// The project's pipelines, name -> file, or none outside a project.
std::vector<std::pair<std::string, fs::path>> project_pipelines(const Context& context, bool required) {
  std::optional<fs::path> explicit_file;
  if (!context.globals().config.empty()) explicit_file = context.globals().config;
  auto located = core::locate_project_file(fs::current_path(), explicit_file);
  if (!located && !required && !explicit_file) return {};
  core::Project project = unwrap(core::load_project(unwrap(std::move(located)), core::process_env()));
  std::vector<std::pair<std::string, fs::path>> pipelines;
  for (const auto& [name, file] : project.pipelines) pipelines.emplace_back(name, project.root / file.value);
  return pipelines;
}

Error no_such_pipeline(const std::string& name, const std::vector<std::pair<std::string, fs::path>>& pipelines) {
  std::vector<std::string> names;
  for (const auto& entry : pipelines) names.push_back(entry.first);
  return Error(Errc::not_found, fmt::format("no pipeline '{}' in mlctl.yaml", name),
               names.empty() ? "mlctl.yaml names no pipelines: add them under 'pipelines:'"
                             : fmt::format("its pipelines: {}", fmt::join(names, ", ")));
}

void run_pipeline_validate(Context& context, const PipelineFlags& flags) {
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

// A recorded run, when `name` is none of the project's pipelines and no file.
std::optional<pipeline::RunRecord> find_run(const Context& context, const PipelineFlags& flags) {
  auto database = runs_database(context, flags);
  if (!database) return std::nullopt;
  auto store = unwrap(pipeline::RunStore::open(*database));
  auto run = store.get(flags.pipeline);
  if (!run && run.error().code() == Errc::not_found) return std::nullopt;
  return unwrap(std::move(run));
}

void run_graph(Context& context, const PipelineFlags& flags) {
  auto format = unwrap(pipeline::parse_graph_format(flags.format));
  std::optional<pipeline::RunRecord> run;
  fs::path file;
  std::error_code ec;
  if (fs::is_regular_file(flags.pipeline, ec) || looks_like_a_path(flags.pipeline)) {
    file = pipeline_file(context, flags.pipeline);
  } else {
    auto pipelines = project_pipelines(context, false);
    auto named = std::ranges::find(pipelines, flags.pipeline, &std::pair<std::string, fs::path>::first);
    if (named != pipelines.end()) {
      file = named->second;
    } else if ((run = find_run(context, flags))) {
      file = run->pipeline_file;
    } else {
      Error error = no_such_pipeline(flags.pipeline, pipelines);
      throw Fatal{Error(Errc::not_found, fmt::format("no pipeline and no run '{}'", flags.pipeline), error.hint())};
    }
  }
  auto loaded = unwrap(pipeline::load_pipeline(file));
  std::string graph = pipeline::render_graph(loaded, run ? &*run : nullptr, format);
  nlohmann::json document = {{"format", flags.format}, {"graph", graph}};
  if (run) document["run_id"] = run->id;
  context.print(document, graph);
}

}  // namespace

fs::path pipeline_file(const Context& context, const std::string& name_or_path) {
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) return name_or_path;
  if (looks_like_a_path(name_or_path))
    throw Fatal{Error(Errc::not_found, fmt::format("no pipeline file {}", name_or_path),
                      "give a pipeline file, or a pipeline name from mlctl.yaml's 'pipelines'")};
  auto pipelines = project_pipelines(context, true);
  for (const auto& [name, file] : pipelines)
    if (name == name_or_path) return core::display_path(file);
  throw Fatal{no_such_pipeline(name_or_path, pipelines)};
}

std::optional<fs::path> runs_database(const Context& context, const PipelineFlags& flags) {
  RegistryPlace place = locate_registry(context, flags.registry, fs::current_path());
  std::error_code ec;
  if (!fs::exists(place.database, ec)) return std::nullopt;
  return place.database;
}

std::map<std::string, std::string> parse_params(const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> params;
  for (const auto& pair : pairs) {
    auto equals = pair.find('=');
    if (equals == std::string::npos || equals == 0)
      throw Fatal{Error(Errc::invalid, fmt::format("--param {}: expected NAME=VALUE", pair))};
    params[pair.substr(0, equals)] = pair.substr(equals + 1);
  }
  return params;
}

void add_pipeline(CLI::App& app) {
  auto flags = std::make_shared<PipelineFlags>();
  CLI::App* group = app.add_subcommand("pipeline", "Training pipelines: run locally with caching, or on Argo or Kubeflow");
  group->require_subcommand(0, 1);
  group->footer(R"(A pipeline is NAME (from 'pipelines' in mlctl.yaml) or the path of a pipeline file.
Runs are recorded in the project's database (.mlctl/registry.db; without an mlctl.yaml, in
.mlctl/ next to the pipeline file).

Examples:
  mlctl pipeline validate train
  mlctl pipeline run train --param lr=0.05 -j 4
  mlctl pipeline runs
  mlctl pipeline graph pipelines/train.yaml --format mermaid
  mlctl pipeline compile train --backend argo --image REG/APP@sha256:... -o train.argo.yaml
  mlctl pipeline submit train --backend argo --server https://argo:2746 --token-file TOKEN --wait)");

  CLI::App* validate = group->add_subcommand("validate", "Check a pipeline file and the component files it uses");
  validate->add_option("pipeline", flags->pipeline, "NAME or FILE")->required();
  on_run(validate, [flags](Context& context) { run_pipeline_validate(context, *flags); });

  add_pipeline_local_commands(group, flags);

  CLI::App* graph = group->add_subcommand("graph", "Draw a pipeline's DAG (or a run's, coloured by status) as DOT or Mermaid");
  graph->add_option("pipeline", flags->pipeline, "NAME, FILE or RUN")->required();
  graph->add_option("--format", flags->format, "dot (default) or mermaid")->option_text("dot|mermaid");
  add_registry_db_option(graph, flags->registry.database);
  on_run(graph, [flags](Context& context) { run_graph(context, *flags); });

  add_pipeline_remote_commands(group, flags);
}

}  // namespace mlctl::cli
