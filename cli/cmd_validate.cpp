#include "context.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/pipeline/load.hpp>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

void run_project_validate(Context& context) {
  auto file = context.project_file();
  auto checked = core::check_project_file(file, core::process_env());
  std::string shown = core::display_path(file);
  nlohmann::json document = {{"file", shown}, {"valid", checked.project.has_value()}};
  if (!checked.project) fail_with_problems(context, document, checked.problems);
  const core::Project& project = *checked.project;
  // The pipelines it names, each checked whole (steps, references, components, cycles).
  std::vector<core::Diagnostic> pipeline_problems;
  for (const auto& [name, pipeline_file] : project.pipelines) {
    auto pipeline = pipeline::check_pipeline_file(core::display_path(project.root / pipeline_file.value));
    pipeline_problems.insert(pipeline_problems.end(), pipeline.problems.begin(), pipeline.problems.end());
  }
  if (!pipeline_problems.empty()) fail_with_problems(context, document, pipeline_problems);
  document["project"] = {{"name", project.name},
                         {"version", project.version},
                         {"pipelines", project.pipelines.size()},
                         {"environments", project.environments.size()}};
  document["problems"] = nlohmann::json::array();
  context.print(document, fmt::format("{}: ok ({} {}, {} pipeline(s), {} environment(s))", shown,
                                      project.name, project.version, project.pipelines.size(),
                                      project.environments.size()));
}

}  // namespace

void add_validate(CLI::App& app) {
  CLI::App* command = app.add_subcommand("validate", "Check mlctl.yaml and the files it names");
  command->footer(R"(Every problem is reported with its file, line, column and field; the exit code is
0 when the project is valid and 2 when it is not.

Examples:
  mlctl validate
  mlctl -C path/to/project validate -o json)");
  on_run(command, run_project_validate);
}

}  // namespace mlctl::cli
