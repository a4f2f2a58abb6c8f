#include <mlctl/pipeline/load.hpp>
#include <mlctl/pipeline/parse.hpp>
#include <mlctl/pipeline/validate.hpp>

#include <mlctl/core/fs.hpp>
#include <support/temp_dir.hpp>

#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

// Every problem check_pipeline finds in `text`, named "p.yaml", with components under `base`.
Strings problems(std::string_view text, const fs::path& base = "/nonexistent") {
  Strings out;
  for (const auto& problem : check_pipeline(text, "p.yaml", base).problems) out.push_back(problem.to_string());
  return out;
}

TEST(PipelineValidateTest, ExampleHasNoProblems) {
  PipelineCheck checked = check_pipeline_file(fs::path(MLCTL_TEST_DATA) / "pipelines/train/pipeline.yaml");
  EXPECT_TRUE(checked.problems.empty()) << checked.problems.front().to_string();
  ASSERT_TRUE(checked.pipeline);
  EXPECT_TRUE(validate(*checked.pipeline).empty());
}

TEST(PipelineValidateTest, DuplicateStepNames) {
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: a
    command: [echo]
  - name: a
    command: [echo]
)"),
            Strings{"p.yaml:5:11: steps[1].name: duplicate step name 'a' (first used by steps[0] on line 3)"});
}

TEST(PipelineValidateTest, NamesMustBeDnsLabelsAndIdentifiers) {
  EXPECT_EQ(problems(R"(name: My_Pipeline
params: {learning.rate: "0.1"}
steps:
  - name: Train
    command: [echo]
  - name: a-very-long-step-name-that-goes-on-and-on-past-sixty-three-chars
    command: [echo]
    outputs: [model.pkl, ok]
)"),
            (Strings{
                "p.yaml:1:7: name: 'My_Pipeline' is not a valid name: 'M' is not allowed",
                "p.yaml:2:10: params.learning.rate: 'learning.rate' is not a valid name",
                "p.yaml:4:11: steps[0].name: 'Train' is not a valid name: 'T' is not allowed",
                "p.yaml:6:11: steps[1].name: 'a-very-long-step-name-that-goes-on-and-on-past-sixty-three-chars' is "
                "not a valid name: it is longer than 63 characters",
                "p.yaml:8:15: steps[1].outputs[0]: 'model.pkl' is not a valid name",
            }));
}

TEST(PipelineValidateTest, UnknownStepsAndOutputsAndSelfReferences) {
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: prepare
    command: [sh, -c, "echo > {{outputs.data}}"]
    outputs: [data]
  - name: train
    command:
      - train
      - "{{steps.prepar.outputs.data}}"
      - "{{steps.prepare.outputs.dta}}"
      - "{{outputs.model}}"
      - "{{steps.train.outputs.modle}}"
    outputs: [modle, modle]
)"),
            (Strings{
                "p.yaml:13:22: steps[1].outputs[1]: duplicate output 'modle'",
                "p.yaml:9:9: steps[1].command[1]: unknown step 'prepar'; did you mean 'prepare'?",
                "p.yaml:10:9: steps[1].command[2]: step 'prepare' has no output 'dta'; did you mean 'data'?",
                "p.yaml:11:9: steps[1].command[3]: unknown output 'model'; this step's outputs are declared in "
                "'outputs'; did you mean 'modle'?",
                "p.yaml:12:9: steps[1].command[4]: '{{steps.train.outputs.modle}}' refers to this step's own output; "
                "write '{{outputs.modle}}'",
            }));
}

TEST(PipelineValidateTest, NeedsMustNameAnotherStep) {
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: prepare
    command: [echo]
  - name: train
    command: [echo]
    needs: [prepar, train, prepare]
)"),
            (Strings{
                "p.yaml:7:13: steps[1].needs[0]: unknown step 'prepar'; did you mean 'prepare'?",
                "p.yaml:7:21: steps[1].needs[1]: a step cannot need itself",
            }));
}

TEST(PipelineValidateTest, InputsArePathsInsideTheProject) {
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: train
    command: [python3, train.py]
    inputs: [train.py, src/, ../secrets, /etc/passwd, src/../../x, ""]
  - name: register
    uses: register
    with: {artifact: x}
    inputs: [train.py]
)"),
            (Strings{
                "p.yaml:9:5: steps[1].inputs: 'inputs' does not apply to a 'uses' step",
                "p.yaml:5:30: steps[0].inputs[2]: an input is a path inside the project, relative to its root (no "
                "'..', not absolute)",
                "p.yaml:5:42: steps[0].inputs[3]: an input is a path inside the project, relative to its root (no "
                "'..', not absolute)",
                "p.yaml:5:55: steps[0].inputs[4]: an input is a path inside the project, relative to its root (no "
                "'..', not absolute)",
                "p.yaml:5:68: steps[0].inputs[5]: an input is a path inside the project, relative to its root (no "
                "'..', not absolute)",
            }));
}

TEST(PipelineValidateTest, CyclesAreNamedInOrder) {
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: a
    command: [echo, "{{steps.c.outputs.out}}"]
    outputs: [out]
  - name: b
    command: [echo]
    needs: [a]
    outputs: [out]
  - name: c
    command: [echo, "{{steps.b.outputs.out}}"]
    outputs: [out]
  - name: d
    command: [echo]
    needs: [c]
  - name: e
    command: [echo]
    needs: [f]
  - name: f
    command: [echo]
    needs: [e]
)"),
            (Strings{
                "p.yaml:3:11: steps[0]: cycle: a -> b -> c -> a",
                "p.yaml:16:11: steps[4]: cycle: e -> f -> e",
            }));
}

TEST(PipelineValidateTest, BadReferencesAndUnknownParams) {
  EXPECT_EQ(problems(R"(name: p
params: {lr: "0.1"}
steps:
  - name: a
    command:
      - "{{params.lrr}}"
      - "{{params.}}"
      - "{{foo}}"
      - "--lr={{params.lr"
      - "{{run.id}} {{pipeline.name}} {{params.lr}} \\{{literal}}"
    env: {RATE: "{{params.rate}}"}
)"),
            (Strings{
                "p.yaml:6:9: steps[0].command[0]: unknown param 'lrr'; did you mean 'lr'?",
                "p.yaml:7:9: steps[0].command[1]: '{{params.}}' is not a valid reference: expected params.NAME",
                "p.yaml:8:9: steps[0].command[2]: '{{foo}}' is not a valid reference: expected params.NAME, "
                "outputs.NAME, steps.STEP.outputs.NAME, run.id or pipeline.name",
                "p.yaml:9:9: steps[0].command[3]: unterminated '{{' in '--lr={{params.lr'",
                "p.yaml:11:17: steps[0].env.RATE: unknown param 'rate'",
            }));
}

TEST(PipelineValidateTest, MetricsMustNameAnOutput) {
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: a
    command: [echo]
    outputs: [model, metrics]
    metrics: metric
)"),
            Strings{"p.yaml:6:14: steps[0].metrics: 'metric' is not an output of this step; did you mean 'metrics'?"});
}

TEST(PipelineValidateTest, ActionsAndTheirArguments) {
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: train
    command: [echo]
    outputs: [model]
  - name: publish
    uses: regster
  - name: register
    uses: register
    with: {model: fraud, artefact: "{{steps.train.outputs.model}}", out: "{{outputs.x}}"}
)"),
            (Strings{
                "p.yaml:7:11: steps[1].uses: unknown action 'regster'; did you mean 'register'?",
                "p.yaml:10:36: steps[2].with.artefact: 'register' takes no argument 'artefact' (it takes: artifact, "
                "metrics, model)",
                "p.yaml:10:74: steps[2].with.out: 'register' takes no argument 'out' (it takes: artifact, metrics, "
                "model)",
                "p.yaml:9:11: steps[2].with: 'register' needs the argument 'artifact'",
                "p.yaml:10:74: steps[2].with.out: '{{outputs.x}}': a 'uses' step has no outputs",
            }));
}

TEST(PipelineValidateTest, ScheduleDurationsResourcesAndEnv) {
  EXPECT_EQ(problems(R"(name: p
schedule: "0 3 * *"
steps:
  - name: a
    command: [echo]
    resources: {cpu: 2 cores, memory: 4GB, gpu: one}
    retries: -1
    timeout: "90"
    env: {"OMP-THREADS": "1"}
)"),
            (Strings{
                "p.yaml:2:11: schedule: '0 3 * *' is not a cron schedule: it has 4 fields, expected 5",
                "p.yaml:6:22: steps[0].resources.cpu: '2 cores' is not a CPU quantity",
                "p.yaml:6:39: steps[0].resources.memory: '4GB' is not a memory quantity",
                "p.yaml:6:49: steps[0].resources.gpu: 'one' is not a whole number >= 0",
                "p.yaml:7:14: steps[0].retries: '-1' is not a whole number >= 0",
                "p.yaml:8:14: steps[0].timeout: '90' is not a duration",
                "p.yaml:9:26: steps[0].env.OMP-THREADS: 'OMP-THREADS' is not a valid environment variable name",
            }));
}

constexpr std::string_view k_eval_component = R"(name: Eval
inputs:
- {name: model}
- {name: threshold}
- {name: format, optional: true}
outputs:
- {name: metrics}
implementation:
  container:
    image: busybox
    command: [eval, {inputPath: model}, {inputValue: threshold}, {outputPath: metrics}]
)";

TEST(PipelineValidateTest, ComponentArgumentsFilesAndOutputs) {
  test::TempDir dir;
  dir.write("components/eval.yaml", k_eval_component);
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: eval
    component: components/eval.yaml
    arguments: {model: "{{outputs.model}}", threshhold: "0.5"}
    metrics: score
  - name: gone
    component: missing.yaml
  - name: use-gone
    command: [echo, "{{steps.gone.outputs.anything}}", "{{steps.eval.outputs.metrics}}"]
)",
                     dir.path()),
            (Strings{
                "p.yaml:8:16: steps[1].component: component file 'missing.yaml' does not exist",
                "p.yaml:6:14: steps[0].metrics: 'score' is not an output of this step",
                "p.yaml:5:57: steps[0].arguments.threshhold: component 'components/eval.yaml' has no input "
                "'threshhold'; did you mean 'threshold'?",
                "p.yaml:4:16: steps[0].arguments: missing argument for the required input 'threshold' of component "
                "'components/eval.yaml'",
                "p.yaml:5:24: steps[0].arguments.model: '{{outputs.model}}' is for command steps; a component's "
                "outputs are its outputPath placeholders",
            }));
}

TEST(PipelineValidateTest, ProblemsInsideAComponentFileNameThatFile) {
  test::TempDir dir;
  auto component = dir.write("bad/component.yaml", R"(name: Bad
inputs:
- {name: a}
implementation:
  container:
    image: busybox
    args: [{inputValue: missing}]
)");
  EXPECT_EQ(problems("name: p\nsteps:\n  - name: s\n    component: bad/component.yaml\n    arguments: {a: x}\n", dir.path()),
            Strings{core::display_path(component) +
                    ":7:25: implementation.container.args[0].inputValue: the component has no input named 'missing'"});
}

TEST(PipelineValidateTest, ValidatesAParsedPipelineDirectly) {
  ParsedPipeline parsed = parse_pipeline("name: p\nsteps:\n  - name: a\n    command: [echo]\n    needs: [other]\n", "p.yaml");
  ASSERT_TRUE(parsed.problems.empty());
  auto found = validate(parsed.pipeline);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].file, "p.yaml");
  EXPECT_EQ(found[0].line, 5);
  EXPECT_EQ(found[0].column, 13);
  EXPECT_EQ(found[0].field, "steps[0].needs[0]");
  EXPECT_EQ(found[0].message, "unknown step 'other'");
}

TEST(PipelineValidateTest, ParseAndValidationProblemsAreAllReported) {
  EXPECT_EQ(problems(R"(name: p
steps:
  - name: A
    command: [echo, "{{steps.other.outputs.x}}"]
    timeout: 5 minutes
    colour: red
)"),
            (Strings{
                "p.yaml:6:5: steps[0].colour: unknown key",
                "p.yaml:3:11: steps[0].name: 'A' is not a valid name: 'A' is not allowed",
                "p.yaml:5:14: steps[0].timeout: '5 minutes' is not a duration",
                "p.yaml:4:21: steps[0].command[1]: unknown step 'other'",
            }));
}

TEST(PipelineValidateTest, ManyStepsValidateQuickly) {
  std::string text = "name: chain\nsteps:\n  - {name: s0, command: [echo], outputs: [out]}\n";
  for (int i = 1; i < 2000; ++i)
    text += fmt::format(
        "  - {{name: s{}, command: [cp, '{{{{steps.s{}.outputs.out}}}}', '{{{{outputs.out}}}}'], outputs: [out]}}\n", i,
        i - 1);
  PipelineCheck checked = check_pipeline(text, "chain.yaml", "/nonexistent");
  EXPECT_TRUE(checked.problems.empty()) << checked.problems.front().to_string();
}

}  // namespace
}  // namespace mlctl::pipeline
