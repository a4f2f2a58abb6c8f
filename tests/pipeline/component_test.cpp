#include <mlctl/pipeline/component.hpp>

#include <support/temp_dir.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

using Strings = std::vector<std::string>;

constexpr std::string_view k_train = R"(name: Train
description: Trains a model.
inputs:
- {name: data, type: CSV, description: Training data}
- {name: epochs, type: Integer, default: '10'}
- {name: seed, type: Integer, optional: true}
- {name: verbose, type: Boolean, default: 'false', optional: true}
- {name: config, type: {JsonObject: {schema: v1}}}
outputs:
- {name: model, type: Model, description: The trained model}
- {name: metrics}
implementation:
  container:
    image: python:3.11
    command: [python3, train.py]
    args:
    - --data
    - {inputPath: data}
    - {concat: [--epochs=, {inputValue: epochs}]}
    - if:
        cond: {isPresent: seed}
        then: [--seed, {inputValue: seed}]
        else: --random-seed
    - if:
        cond: {inputValue: verbose}
        then: -v
    - --config
    - {inputValue: config}
    - {outputPath: model}
    - {outputPath: metrics}
    env: {PYTHONUNBUFFERED: "1", HOME: /tmp}
)";

Component parsed(std::string_view text) {
  ComponentCheck checked = parse_component(text, "c.yaml");
  EXPECT_TRUE(checked.problems.empty()) << checked.problems.front().to_string();
  return checked.component.value_or(Component{});
}

std::vector<std::string> problems_of(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& problem : parse_component(text, "c.yaml").problems) out.push_back(problem.to_string());
  return out;
}

std::string argv_of(const Component& component, const ComponentBindings& bindings) {
  auto resolved = resolve_command(component, bindings);
  if (!resolved) return "error: " + resolved.error().message();
  return fmt::format("{}", fmt::join(resolved->argv(), " "));
}

TEST(KfpComponentTest, ParsesEveryField) {
  Component c = parsed(k_train);
  EXPECT_EQ(c.source, "c.yaml");
  EXPECT_EQ(c.name, "Train");
  EXPECT_EQ(c.description, "Trains a model.");
  ASSERT_EQ(c.inputs.size(), 5u);
  EXPECT_EQ(c.inputs[0].name, "data");
  EXPECT_EQ(c.inputs[0].type, "CSV");
  EXPECT_EQ(c.inputs[0].description, "Training data");
  EXPECT_EQ(c.inputs[0].line, 4);
  EXPECT_EQ(c.inputs[0].column, 10);
  EXPECT_TRUE(c.inputs[0].required());
  EXPECT_EQ(c.inputs[1].default_value, "10");
  EXPECT_FALSE(c.inputs[1].required());
  EXPECT_TRUE(c.inputs[2].optional);
  EXPECT_FALSE(c.inputs[2].default_value);
  EXPECT_FALSE(c.inputs[2].required());
  EXPECT_EQ(c.inputs[3].default_value, "false");
  EXPECT_EQ(c.inputs[4].type, "{JsonObject: {schema: v1}}");
  ASSERT_EQ(c.outputs.size(), 2u);
  EXPECT_EQ(c.outputs[0].name, "model");
  EXPECT_EQ(c.outputs[0].type, "Model");
  EXPECT_EQ(c.outputs[0].description, "The trained model");
  EXPECT_EQ(c.outputs[1].type, "");
  EXPECT_EQ(c.image, "python:3.11");
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(c.env, (Env{{"PYTHONUNBUFFERED", "1"}, {"HOME", "/tmp"}}));
  ASSERT_EQ(c.command.size(), 2u);
  EXPECT_EQ(c.command[0].kind, ArgKind::constant);
  EXPECT_EQ(c.command[0].text, "python3");
  ASSERT_EQ(c.args.size(), 9u);
  EXPECT_EQ(c.args[1].kind, ArgKind::input_path);
  EXPECT_EQ(c.args[1].text, "data");
  EXPECT_EQ(c.args[1].line, 18);
  EXPECT_EQ(c.args[1].column, 7);
  EXPECT_EQ(c.args[2].kind, ArgKind::concat);
  ASSERT_EQ(c.args[2].items.size(), 2u);
  EXPECT_EQ(c.args[2].items[1].kind, ArgKind::input_value);
  EXPECT_EQ(c.args[3].kind, ArgKind::if_then);
  EXPECT_EQ(c.args[3].condition.kind, CondKind::is_present);
  EXPECT_EQ(c.args[3].condition.input, "seed");
  EXPECT_EQ(c.args[3].items.size(), 2u);
  ASSERT_EQ(c.args[3].otherwise.size(), 1u);
  EXPECT_EQ(c.args[3].otherwise[0].text, "--random-seed");
  EXPECT_EQ(c.args[4].condition.kind, CondKind::input_value);
  EXPECT_TRUE(c.args[4].otherwise.empty());
  EXPECT_EQ(c.args[8].kind, ArgKind::output_path);
  EXPECT_EQ(c.args[8].text, "metrics");
}

TEST(KfpComponentTest, ResolvesDefaultsAndAbsentOptionalInputs) {
  Component c = parsed(k_train);
  ComponentBindings bindings{{{"config", R"({"a": 1})"}},
                             {{"data", "/in/data.csv"}},
                             {{"model", "/out/model"}, {"metrics", "/out/metrics"}}};
  auto resolved = resolve_command(c, bindings);
  ASSERT_TRUE(resolved) << resolved.error().message();
  EXPECT_EQ(resolved->command, (Strings{"python3", "train.py"}));
  EXPECT_EQ(resolved->args, (Strings{"--data", "/in/data.csv", "--epochs=10", "--random-seed", "--config",
                                     R"({"a": 1})", "/out/model", "/out/metrics"}));
  EXPECT_EQ(resolved->input_files, Strings{"data"});
  EXPECT_EQ(resolved->output_files, (Strings{"model", "metrics"}));
}

TEST(KfpComponentTest, ResolvesGivenArgumentsAndTrueConditions) {
  Component c = parsed(k_train);
  ComponentBindings bindings{{{"config", "{}"}, {"epochs", "3"}, {"seed", "42"}, {"verbose", "True"}},
                             {{"data", "/in/data.csv"}},
                             {{"model", "/m"}, {"metrics", "/x"}}};
  EXPECT_EQ(argv_of(c, bindings), "python3 train.py --data /in/data.csv --epochs=3 --seed 42 -v --config {} /m /x");
}

TEST(KfpComponentTest, ListsTheInputsReadFromFiles) {
  EXPECT_EQ(path_inputs(parsed(k_train)), Strings{"data"});
}

constexpr std::string_view k_nested = R"(name: Nested
inputs:
- {name: a, optional: true}
- {name: b, default: B}
implementation:
  container:
    image: busybox
    args:
    - concat: [x-, {if: {cond: {isPresent: a}, then: {inputValue: a}, else: none}}, -, {inputValue: b}]
    - if:
        cond: {isPresent: a}
        then:
        - if:
            cond: true
            then: [{concat: [--a=, {inputValue: a}]}]
        else:
        - if: {cond: 'False', then: never, else: [--no-a, {concat: [{inputValue: b}, {inputValue: a}]}]}
)";

TEST(KfpComponentTest, ExpandsNestedIfAndConcatWhenTheInputIsAbsent) {
  EXPECT_EQ(argv_of(parsed(k_nested), {}), "x-none-B --no-a B");
}

TEST(KfpComponentTest, ExpandsNestedIfAndConcatWhenTheInputIsPresent) {
  EXPECT_EQ(argv_of(parsed(k_nested), {{{"a", "1"}, {"b", "2"}}, {}, {}}), "x-1-2 --a=1");
}

TEST(KfpComponentTest, ConstantConditionsTakeYamlAndStringBooleans) {
  Component c = parsed(R"(implementation:
  container:
    image: busybox
    args:
    - {if: {cond: true, then: t1, else: f1}}
    - {if: {cond: false, then: t2, else: f2}}
    - {if: {cond: 'True', then: t3, else: f3}}
    - {if: {cond: "false", then: t4}}
)");
  EXPECT_EQ(argv_of(c, {}), "t1 f2 t3");
}

TEST(KfpComponentTest, InputValueConditionIsTrueOnlyForTrue) {
  Component c = parsed(R"(inputs:
- {name: flag, optional: true}
implementation:
  container:
    image: busybox
    args: [{if: {cond: {inputValue: flag}, then: yes, else: no}}]
)");
  EXPECT_EQ(argv_of(c, {{{"flag", "TRUE"}}, {}, {}}), "yes");
  EXPECT_EQ(argv_of(c, {{{"flag", "1"}}, {}, {}}), "no");
  EXPECT_EQ(argv_of(c, {}), "no");
}

TEST(KfpComponentTest, ResolveRefusesMissingValuesAndPaths) {
  Component c = parsed(k_train);
  EXPECT_EQ(argv_of(c, {{}, {{"data", "/d"}}, {{"model", "/m"}, {"metrics", "/x"}}}),
            "error: required input 'config' has no value");
  EXPECT_EQ(argv_of(c, {{{"config", "{}"}, {"data", "inline"}}, {}, {{"model", "/m"}, {"metrics", "/x"}}}),
            "error: input 'data' is read from a file ({inputPath: data}) but no file was given");
  EXPECT_EQ(argv_of(c, {{{"config", "{}"}}, {{"data", "/d"}}, {{"model", "/m"}}}),
            "error: no path was given for output 'metrics'");
  EXPECT_EQ(argv_of(c, {{{"config", "{}"}, {"epoch", "3"}}, {{"data", "/d"}}, {}}),
            "error: the component has no input named 'epoch'");
}

TEST(KfpComponentTest, ReportsPlaceholdersNamingUnknownInputsAndOutputs) {
  EXPECT_EQ(problems_of(R"(name: x
inputs:
- {name: data}
implementation:
  container:
    image: busybox
    args:
    - {inputValue: dta}
    - {outputPath: model}
    - {inputvalue: data}
    - {if: {cond: {isPresent: dat}, then: [a]}}
)"),
            (Strings{
                "c.yaml:8:20: implementation.container.args[0].inputValue: the component has no input named 'dta'; "
                "did you mean 'data'?",
                "c.yaml:9:20: implementation.container.args[1].outputPath: the component has no output named 'model'",
                "c.yaml:10:8: implementation.container.args[2]: unknown placeholder 'inputvalue'; did you mean "
                "'inputValue'?",
                "c.yaml:11:31: implementation.container.args[3].if.cond.isPresent: the component has no input named "
                "'dat'; did you mean 'data'?",
            }));
}

TEST(KfpComponentTest, ReportsMalformedPlaceholders) {
  EXPECT_EQ(problems_of(R"(inputs:
- {name: a}
implementation:
  container:
    image: busybox
    args:
    - {inputValue: a, inputPath: a}
    - [nested, list]
    - {if: {cond: maybe, then: x}}
    - {if: {cond: {isPresent: a}}}
    - {if: {cond: {isAbsent: a}, then: x}}
    - {concat: a}
    - ~
)"),
            (Strings{
                "c.yaml:7:7: implementation.container.args[0]: expected a string or a placeholder such as "
                "{inputValue: NAME}, got a mapping with several keys",
                "c.yaml:8:7: implementation.container.args[1]: expected a string or a placeholder such as "
                "{inputValue: NAME}, got a list",
                "c.yaml:9:19: implementation.container.args[2].if.cond: 'maybe' is not a condition; expected true, "
                "false, {isPresent: NAME} or {inputValue: NAME}",
                "c.yaml:10:12: implementation.container.args[3].if: an if placeholder needs 'cond' and 'then'",
                "c.yaml:11:20: implementation.container.args[4].if.cond: unknown condition 'isAbsent'; expected "
                "true, false, {isPresent: NAME} or {inputValue: NAME}",
                "c.yaml:12:16: implementation.container.args[5].concat: expected a list, got a string",
                "c.yaml:13:7: implementation.container.args[6]: expected a string or a placeholder such as "
                "{inputValue: NAME}, got nothing",
            }));
}

TEST(KfpComponentTest, ReportsStructureProblems) {
  EXPECT_EQ(problems_of(R"(name: x
inputs:
- {name: a, optional: maybe}
- {name: a, typ: String}
- {type: String}
outputs: {name: b}
implementation:
  container:
    command: [echo]
    fileOutputs: {b: /b.txt}
)"),
            (Strings{
                "c.yaml:3:23: inputs[0].optional: expected true or false",
                "c.yaml:4:13: inputs[1].typ: unknown key; did you mean 'type'?",
                "c.yaml:5:3: inputs[2].name: required field is missing",
                "c.yaml:4:10: inputs[1].name: duplicate input name 'a'",
                "c.yaml:6:10: outputs: expected a list, got a mapping",
                "c.yaml:10:18: implementation.container.fileOutputs: fileOutputs (KFP v0) is not supported; use "
                "{outputPath: NAME}",
                "c.yaml:9:5: implementation.container.image: required field is missing",
            }));
}

TEST(KfpComponentTest, RefusesOtherKindsOfFiles) {
  EXPECT_EQ(problems_of("implementation:\n  graph: {tasks: {}}\n"),
            Strings{"c.yaml:2:10: implementation.graph: graph components are not supported; use a container component"});
  EXPECT_EQ(problems_of("pipelineInfo: {name: p}\ndeploymentSpec: {}\n"),
            Strings{"c.yaml:1:1: this is a KFP v2 pipeline spec; only KFP v1 component.yaml files can be loaded"});
  EXPECT_EQ(problems_of("name: x\n"), Strings{"c.yaml:1:1: implementation: required field is missing"});
  EXPECT_EQ(problems_of(""), Strings{"c.yaml: the file is empty"});
  EXPECT_EQ(problems_of("name: [x\n"), Strings{"c.yaml:2:1: invalid YAML: end of sequence flow not found"});
}

TEST(KfpComponentTest, LoadsAFileAndNamesItInProblems) {
  test::TempDir dir;
  auto good = dir.write("good/component.yaml", k_train);
  ComponentCheck loaded = load_component_file(good);
  ASSERT_TRUE(loaded.component);
  EXPECT_EQ(loaded.component->name, "Train");
  auto bad = dir.write("bad/component.yaml", "name: x\nimplementation: {container: {}}\n");
  ComponentCheck failed = load_component_file(bad);
  ASSERT_EQ(failed.problems.size(), 1u);
  EXPECT_EQ(failed.problems[0].file, bad.string());
  EXPECT_EQ(failed.problems[0].field, "implementation.container.image");
  ComponentCheck missing = load_component_file(dir / "missing.yaml");
  ASSERT_EQ(missing.problems.size(), 1u);
  EXPECT_EQ(missing.problems[0].line, 0);
}

}  // namespace
}  // namespace mlctl::pipeline
