#include <mlctl/pipeline/load.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/pipeline/parse.hpp>
#include <mlctl/pipeline/validate.hpp>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace fs = std::filesystem;

namespace {

void load_component(Step& step, size_t index, const std::string& source, const fs::path& base_dir,
                    std::vector<core::Diagnostic>& problems) {
  const core::Located& written = step.component;
  fs::path file = fs::path(written.value).is_absolute() ? fs::path(written.value) : base_dir / written.value;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    problems.push_back({source, written.line, written.column, step_path(index) + ".component",
                        fmt::format("component file '{}' does not exist", written.value)});
    return;
  }
  ComponentCheck checked = load_component_file(file);
  problems.insert(problems.end(), checked.problems.begin(), checked.problems.end());
  step.component_file = file;
  step.component_spec = std::move(checked.component);
}

}  // namespace

PipelineCheck check_pipeline(std::string_view text, const std::string& display_name, const fs::path& base_dir) {
  ParsedPipeline parsed = parse_pipeline(text, display_name);
  PipelineCheck result;
  result.problems = std::move(parsed.problems);
  Pipeline& pipeline = parsed.pipeline;
  for (size_t i = 0; i < pipeline.steps.size(); ++i) {
    Step& step = pipeline.steps[i];
    if (step.kind == StepKind::component && !step.component.value.empty())
      load_component(step, i, display_name, base_dir, result.problems);
  }
  auto found = validate(pipeline);
  result.problems.insert(result.problems.end(), found.begin(), found.end());
  if (result.problems.empty()) result.pipeline = std::move(pipeline);
  return result;
}

PipelineCheck check_pipeline_file(const fs::path& file) {
  std::string shown = core::display_path(file);
  auto text = core::read_file(file);
  if (!text) return {std::nullopt, {{shown, 0, 0, "", text.error().message()}}, text.error().code()};
  PipelineCheck result = check_pipeline(*text, shown, file.parent_path());
  if (result.pipeline) result.pipeline->file = fs::absolute(file);
  return result;
}

Result<Pipeline> load_pipeline(const fs::path& file) {
  PipelineCheck checked = check_pipeline_file(file);
  if (checked.pipeline) return std::move(*checked.pipeline);
  const auto& problems = checked.problems;
  std::string message = problems.front().to_string();
  if (problems.size() > 1) message += fmt::format(" (and {} more problems)", problems.size() - 1);
  return fail(checked.code, message,
              problems.size() > 1 ? "run 'mlctl pipeline validate' to see every problem" : "");
}

}  // namespace mlctl::pipeline
