#include <mlctl/pipeline/dag.hpp>
#include <mlctl/pipeline/load.hpp>
#include <mlctl/pipeline/parse.hpp>

#include <mlctl/core/fs.hpp>
#include <support/temp_dir.hpp>

#include <filesystem>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

const fs::path k_train = fs::path(MLCTL_TEST_DATA) / "pipelines" / "train" / "pipeline.yaml";

Strings values(const std::vector<core::Located>& items) {
  Strings out;
  for (const auto& item : items) out.push_back(item.value);
  return out;
}

Pairs values(const LocatedMap& map) {
  Pairs out;
  for (const auto& [key, value] : map) out.emplace_back(key, value.value);
  return out;
}

Strings parse_problems(std::string_view text) {
  Strings out;
  for (const auto& problem : parse_pipeline(text, "p.yaml").problems) out.push_back(problem.to_string());
  return out;
}

Pipeline load_example() {
  auto loaded = load_pipeline(k_train);
  EXPECT_TRUE(loaded) << loaded.error().message();
  return loaded.value_or(Pipeline{});
}

TEST(PipelineSpecTest, ExampleParsesThePipelineFields) {
  Pipeline p = load_example();
  EXPECT_EQ(p.source, core::display_path(k_train));
  EXPECT_EQ(p.file, fs::absolute(k_train));
  EXPECT_EQ(p.name.value, "train");
  EXPECT_EQ(p.name.line, 1);
  EXPECT_EQ(p.name.column, 7);
  ASSERT_TRUE(p.schedule);
  EXPECT_EQ(p.schedule->value, "0 3 * * *");
  EXPECT_EQ(p.schedule->line, 2);
  EXPECT_EQ(p.schedule->column, 11);
  ASSERT_EQ(p.params.size(), 1u);
  EXPECT_EQ(p.params[0].name, "lr");
  EXPECT_EQ(p.params[0].default_value, "0.1");
  EXPECT_EQ(p.params[0].line, 3);
  EXPECT_EQ(p.params[0].column, 10);
  ASSERT_EQ(p.steps.size(), 4u);
  EXPECT_EQ(p.find_step("evaluate"), &p.steps[2]);
  EXPECT_EQ(p.find_step("deploy"), nullptr);
  EXPECT_EQ(p.find_param("lr"), &p.params[0]);
}

TEST(PipelineSpecTest, ExampleParsesACommandStep) {
  Pipeline p = load_example();
  const Step& prepare = p.steps[0];
  EXPECT_EQ(prepare.name.value, "prepare");
  EXPECT_EQ(prepare.name.line, 5);
  EXPECT_EQ(prepare.name.column, 11);
  EXPECT_EQ(prepare.line, 5);
  EXPECT_EQ(prepare.column, 5);
  EXPECT_EQ(prepare.kind, StepKind::command);
  EXPECT_EQ(values(prepare.command), (Strings{"sh", "-c", "echo data > {{outputs.data}}"}));
  EXPECT_EQ(values(prepare.outputs), Strings{"data"});
  EXPECT_FALSE(prepare.image);
  EXPECT_FALSE(prepare.uses_self_image());
  EXPECT_FALSE(prepare.metrics);
  EXPECT_FALSE(prepare.resources.cpu || prepare.resources.memory || prepare.resources.gpu);
  EXPECT_EQ(prepare.resources.gpu_count(), 0);
  EXPECT_EQ(prepare.retry_count(), 0);
  EXPECT_EQ(prepare.timeout_seconds(), std::nullopt);
  EXPECT_TRUE(prepare.env.empty());
  EXPECT_TRUE(prepare.needs.empty());
}

TEST(PipelineSpecTest, ExampleParsesEveryFieldOfTheTrainStep) {
  Pipeline p = load_example();
  const Step& train = p.steps[1];
  EXPECT_EQ(train.name.value, "train");
  EXPECT_EQ(train.kind, StepKind::command);
  ASSERT_TRUE(train.image);
  EXPECT_EQ(train.image->value, "self");
  EXPECT_TRUE(train.uses_self_image());
  EXPECT_EQ(values(train.command),
            (Strings{"python3", "train.py", "--data", "{{steps.prepare.outputs.data}}", "--lr", "{{params.lr}}",
                     "--model", "{{outputs.model}}", "--metrics", "{{outputs.metrics}}"}));
  EXPECT_EQ(train.command[3].line, 10);
  EXPECT_EQ(train.command[3].column, 42);
  EXPECT_EQ(values(train.outputs), (Strings{"model", "metrics"}));
  EXPECT_EQ(train.output_names(), (Strings{"model", "metrics"}));
  ASSERT_TRUE(train.metrics);
  EXPECT_EQ(train.metrics->value, "metrics");
  EXPECT_EQ(train.metrics->line, 12);
  EXPECT_EQ(train.metrics->column, 14);
  ASSERT_TRUE(train.resources.cpu && train.resources.memory && train.resources.gpu);
  EXPECT_EQ(train.resources.cpu->value, "2");
  EXPECT_EQ(train.resources.memory->value, "4Gi");
  EXPECT_EQ(train.resources.memory->line, 13);
  EXPECT_EQ(train.resources.memory->column, 35);
  EXPECT_EQ(train.resources.gpu->value, "1");
  EXPECT_EQ(train.resources.gpu_count(), 1);
  ASSERT_TRUE(train.retries);
  EXPECT_EQ(train.retry_count(), 2);
  ASSERT_TRUE(train.timeout);
  EXPECT_EQ(train.timeout->value, "1h");
  EXPECT_EQ(train.timeout->line, 15);
  EXPECT_EQ(train.timeout->column, 14);
  EXPECT_EQ(train.timeout_seconds(), 3600);
}

TEST(PipelineSpecTest, ExampleLoadsTheComponentRelativeToThePipelineFile) {
  Pipeline p = load_example();
  const Step& evaluate = p.steps[2];
  EXPECT_EQ(evaluate.kind, StepKind::component);
  EXPECT_EQ(evaluate.component.value, "components/evaluate/component.yaml");
  EXPECT_EQ(evaluate.component.line, 17);
  EXPECT_EQ(evaluate.component.column, 16);
  EXPECT_EQ(evaluate.component_file, k_train.parent_path() / "components/evaluate/component.yaml");
  ASSERT_TRUE(evaluate.component_spec);
  EXPECT_EQ(evaluate.component_spec->name, "Evaluate model");
  EXPECT_EQ(values(evaluate.arguments), (Pairs{{"model", "{{steps.train.outputs.model}}"}, {"threshold", "0.5"}}));
  EXPECT_EQ(evaluate.arguments[0].second.line, 18);
  EXPECT_EQ(evaluate.arguments[0].second.column, 24);
  EXPECT_EQ(evaluate.output_names(), Strings{"metrics"});
  EXPECT_TRUE(evaluate.has_output("metrics"));
  EXPECT_FALSE(evaluate.has_output("model"));
  EXPECT_TRUE(evaluate.command.empty());
}

TEST(PipelineSpecTest, ExampleParsesAUsesStep) {
  Pipeline p = load_example();
  const Step& reg = p.steps[3];
  EXPECT_EQ(reg.kind, StepKind::uses);
  EXPECT_EQ(reg.uses.value, "register");
  EXPECT_EQ(values(reg.with), (Pairs{{"artifact", "{{steps.train.outputs.model}}"},
                                     {"metrics", "{{steps.train.outputs.metrics}}"}}));
  EXPECT_TRUE(reg.output_names().empty());
}

TEST(PipelineSpecTest, ExampleOrdersItsSteps) {
  Pipeline p = load_example();
  Dag dag = build_dag(p);
  EXPECT_EQ(names_of(dag, topological_order(dag).value()), (Strings{"prepare", "train", "evaluate", "register"}));
  EXPECT_EQ(names_of(dag, dag.needs[3]), Strings{"train"});
  EXPECT_EQ(names_of(dag, transitive_dependants(dag, 0)), (Strings{"train", "evaluate", "register"}));
}

TEST(PipelineSpecTest, TemplateFieldsNameWhereEachStringCameFrom) {
  Pipeline p = load_example();
  Strings fields;
  for (size_t i = 0; i < p.steps.size(); ++i)
    for (const auto& field : template_fields(p.steps[i], i))
      if (field.text->value.find("{{") != std::string::npos) fields.push_back(field.field);
  EXPECT_EQ(fields, (Strings{"steps[0].command[2]", "steps[1].command[3]", "steps[1].command[5]", "steps[1].command[7]",
                             "steps[1].command[9]", "steps[2].arguments.model", "steps[3].with.artifact",
                             "steps[3].with.metrics"}));
}

TEST(PipelineSpecTest, StringsKeepShellVariablesAsWritten) {
  ParsedPipeline parsed = parse_pipeline(R"(name: p
steps:
  - name: a
    command: [sh, -c, 'echo "${HOME}" $0 $$']
    env: {PATH_COPY: "${PATH}"}
)",
                                         "p.yaml");
  ASSERT_TRUE(parsed.problems.empty()) << parsed.problems.front().to_string();
  EXPECT_EQ(parsed.pipeline.steps[0].command[2].value, "echo \"${HOME}\" $0 $$");
  EXPECT_EQ(parsed.pipeline.steps[0].env[0].second.value, "${PATH}");
}

TEST(PipelineSpecTest, EachStepRunsExactlyOneThing) {
  EXPECT_EQ(parse_problems(R"(name: p
steps:
  - name: both
    command: [echo]
    uses: register
  - name: none
    image: self
  - name: misplaced
    uses: register
    outputs: [x]
    with: {artifact: a}
  - name: typo
    comand: [echo]
)"),
            (Strings{
                "p.yaml:5:5: steps[0].uses: a step runs one thing, but this one has both 'command' and 'uses'",
                "p.yaml:6:5: steps[1]: a step needs one of 'command', 'component' or 'uses'",
                "p.yaml:10:5: steps[2].outputs: 'outputs' does not apply to a 'uses' step",
                "p.yaml:13:5: steps[3].comand: unknown key; did you mean 'command'?",
                "p.yaml:12:5: steps[3]: a step needs one of 'command', 'component' or 'uses'",
            }));
}

TEST(PipelineSpecTest, KeysOfOneKindAreRefusedOnAnother) {
  EXPECT_EQ(parse_problems(R"(name: p
steps:
  - name: a
    command: [echo]
    arguments: {x: y}
  - name: b
    component: c.yaml
    outputs: [x]
    with: {a: b}
)"),
            (Strings{
                "p.yaml:5:5: steps[0].arguments: 'arguments' does not apply to a command step",
                "p.yaml:8:5: steps[1].outputs: 'outputs' does not apply to a component step",
                "p.yaml:9:5: steps[1].with: 'with' does not apply to a component step",
            }));
}

TEST(PipelineSpecTest, ReportsWrongTypesAndMissingFields) {
  EXPECT_EQ(parse_problems(R"(name: p
params: {lr: [1]}
steps:
  - name: a
    command: []
  - name: b
    command: echo hello
    env: [A]
    resources: {cpu: 1, disk: 10Gi}
  - command: [echo]
)"),
            (Strings{
                "p.yaml:2:14: params.lr: expected a string, got a list",
                "p.yaml:5:14: steps[0].command: the command is empty; give the program and its arguments",
                "p.yaml:7:14: steps[1].command: expected a list of strings, got a string",
                "p.yaml:9:25: steps[1].resources.disk: unknown key (valid keys: cpu, memory, gpu)",
                "p.yaml:8:10: steps[1].env: expected a mapping, got a list",
                "p.yaml:10:5: steps[2].name: required field is missing",
            }));
}

TEST(PipelineSpecTest, ReportsTopLevelProblems) {
  EXPECT_EQ(parse_problems("name: p\n"), Strings{"p.yaml:1:1: steps: required field is missing"});
  EXPECT_EQ(parse_problems("name: p\nsteps: []\n"),
            Strings{"p.yaml:2:8: steps: expected a list of steps, got an empty list"});
  EXPECT_EQ(parse_problems("name: p\nsteps: {a: b}\n"),
            Strings{"p.yaml:2:8: steps: expected a list of steps, got a mapping"});
  EXPECT_EQ(parse_problems("steps:\n  - {name: a, command: [x]}\nstep: []\n"),
            (Strings{"p.yaml:3:1: step: unknown key; did you mean 'steps'?",
                     "p.yaml:1:1: name: required field is missing"}));
  EXPECT_EQ(parse_problems(""), Strings{"p.yaml: the file is empty"});
  EXPECT_EQ(parse_problems("- a\n- b\n"), Strings{"p.yaml:1:1: expected a mapping, got a list"});
  EXPECT_EQ(parse_problems("name: p\nsteps:\n  - name: a\n   command: [x]\n"),
            Strings{"p.yaml:4:4: invalid YAML: end of sequence not found"});
}

TEST(PipelineLoadTest, FailureNamesTheFirstProblemAndCountsTheRest) {
  test::TempDir dir;
  auto file = dir.write("p.yaml", "name: P\nsteps:\n  - name: a\n    command: [echo, '{{params.x}}']\n    timeout: soon\n");
  auto loaded = load_pipeline(file);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::invalid);
  EXPECT_EQ(loaded.error().message(),
            core::display_path(file) + ":1:7: name: 'P' is not a valid name: 'P' is not allowed (and 2 more problems)");
  EXPECT_EQ(loaded.error().hint(), "run 'mlctl pipeline validate' to see every problem");

  PipelineCheck checked = check_pipeline_file(file);
  EXPECT_FALSE(checked.pipeline);
  ASSERT_EQ(checked.problems.size(), 3u);
  const std::string shown = core::display_path(file);
  EXPECT_EQ(checked.problems[1].to_string(), shown + ":5:14: steps[0].timeout: 'soon' is not a duration");
  EXPECT_EQ(checked.problems[2].to_string(), shown + ":4:21: steps[0].command[1]: unknown param 'x'");
}

TEST(PipelineLoadTest, MissingFileIsNotFound) {
  test::TempDir dir;
  auto loaded = load_pipeline(dir / "nope.yaml");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::not_found);
  PipelineCheck checked = check_pipeline_file(dir / "nope.yaml");
  EXPECT_EQ(checked.code, Errc::not_found);
  ASSERT_EQ(checked.problems.size(), 1u);
  EXPECT_EQ(checked.problems[0].line, 0);
}

}  // namespace
}  // namespace mlctl::pipeline
