// Compiled documents checked by real readers: the Argo Workflows CRD schemas (python3-jsonschema)
// and PyYAML, a YAML 1.1 reader, for the YAML writer.

#include "fixtures.hpp"

#include <mlctl/pipeline/compile/argo.hpp>
#include <mlctl/pipeline/compile/kfp.hpp>
#include <mlctl/core/yaml_out.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace mlctl::pipeline::fixtures;

constexpr std::string_view k_validate = MLCTL_SOURCE_DIR "/tests/support/validate_schemas.py";
constexpr std::string_view k_yaml_matches = MLCTL_SOURCE_DIR "/tests/pipeline_compile/yaml_matches_json.py";
constexpr std::string_view k_schemas = MLCTL_TEST_DATA "/schemas";

class SchemaTest : public ::testing::Test {
protected:
  // Writes a document as YAML and as JSON; returns the YAML file.
  std::string write(const std::string& name, const Json& document) {
    dir_.write(name + ".json", document.dump(2));
    return dir_.write(name + ".yaml", core::to_yaml(document)).string();
  }

  core::Completed python(std::string_view script, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/python3", std::string(script)};
    argv.insert(argv.end(), args.begin(), args.end());
    return mlctl::test::run_command(argv, dir_.path());
  }

  // The YAML file of every pair reads back as its JSON file.
  void expect_yaml_matches_json(const std::vector<std::string>& yaml_files) {
    std::vector<std::string> pairs;
    for (const auto& file : yaml_files) {
      pairs.push_back(file);
      pairs.push_back(fs::path(file).replace_extension(".json").string());
    }
    auto checked = python(k_yaml_matches, pairs);
    EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  }

  mlctl::test::TempDir dir_;
};

struct Variant {
  std::string name;
  ArgoKind kind;
  ArtifactPassing artifacts;
};

TEST_F(SchemaTest, EveryCompiledArgoDocumentValidatesAgainstTheUpstreamSchema) {
  const std::vector<std::pair<std::string, Pipeline>> pipelines = {
      {"diamond", parse(k_diamond)}, {"train", train_pipeline()}, {"components", parse(k_components)}};
  const std::vector<Variant> variants = {
      {"auto", ArgoKind::automatic, ArtifactPassing::volume},
      {"auto-s3", ArgoKind::automatic, ArtifactPassing::s3},
      {"workflow", ArgoKind::workflow, ArtifactPassing::volume},
      {"template", ArgoKind::workflow_template, ArtifactPassing::volume},
      {"template-s3", ArgoKind::workflow_template, ArtifactPassing::s3},
  };
  CompileOptions options = full_options();
  options.namespace_name = "ml-dev";
  options.service_account = "trainer";
  options.volume.storage_class = "fast-ssd";
  options.artifact_repository = {"artifact-repositories", "s3"};
  std::vector<std::string> files;
  std::map<std::string, int> kinds;
  for (const auto& [name, pipeline] : pipelines)
    for (const auto& variant : variants) {
      options.kind = variant.kind;
      options.artifacts = variant.artifacts;
      auto document = compile_argo(pipeline, options);
      ASSERT_TRUE(document) << name << " " << variant.name << ": " << document.error().message();
      ++kinds[(*document)["kind"].get<std::string>()];
      files.push_back(write(name + "." + variant.name, *document));
    }
  // The issue's example has a schedule: CronWorkflows, in both artifact modes.
  EXPECT_EQ(kinds, (std::map<std::string, int>{{"CronWorkflow", 2}, {"Workflow", 7}, {"WorkflowTemplate", 6}}));

  auto checked = python(k_validate, [&] {
    std::vector<std::string> args{std::string(k_schemas)};
    args.insert(args.end(), files.begin(), files.end());
    return args;
  }());
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_EQ(checked.out, "");
  expect_yaml_matches_json(files);
}

TEST_F(SchemaTest, ValidatorRejectsABrokenDocument) {
  // The validator must fail on a bad document, or the test above proves nothing.
  Json document = *compile_argo(parse(k_diamond), full_options());
  document["spec"]["templates"][1]["container"]["imagee"] = "typo";
  document["spec"]["templates"][1]["retryStrategy"] = Json::array({1});
  auto checked = python(k_validate, {std::string(k_schemas), write("broken", document)});
  EXPECT_EQ(checked.exit_code, 1) << checked.err;
  EXPECT_NE(checked.out.find("spec/templates/1/container: Additional properties are not allowed ('imagee' was "
                             "unexpected)"),
            std::string::npos)
      << checked.out;
  EXPECT_NE(checked.out.find("spec/templates/1/retryStrategy: [1] is not of type 'object'"), std::string::npos)
      << checked.out;

  document = *compile_argo(train_pipeline(), full_options());
  document["spec"].erase("schedules");
  checked = python(k_validate, {std::string(k_schemas), write("no-schedules", document)});
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_NE(checked.out.find("spec: 'schedules' is a required property"), std::string::npos) << checked.out;
}

TEST_F(SchemaTest, RoundTripCheckCatchesAnUnquotedBoolean) {
  // The YAML checks prove something only if a YAML 1.1 reader's surprises fail them.
  dir_.write("bare.yaml", "x: yes\nn: '0.1'\n");
  dir_.write("bare.json", R"({"x": "yes", "n": "0.1"})");
  auto checked = python(k_yaml_matches, {(dir_ / "bare.yaml").string(), (dir_ / "bare.json").string()});
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_EQ(checked.out, (dir_ / "bare.yaml").string() + ": (root)/x: True (bool) != 'yes' (str)\n");
}

TEST_F(SchemaTest, KfpSpecsReadBackFromYaml) {
  expect_yaml_matches_json({write("diamond.kfp", *compile_kfp(parse(k_diamond), full_options())),
                            write("train.kfp", *compile_kfp(train_pipeline(), full_options())),
                            write("components.kfp", *compile_kfp(parse(k_components), full_options()))});
}

TEST_F(SchemaTest, YamlWriterRoundTripsAwkwardStrings) {
  Json strings = Json::array();
  for (std::string_view text :
       {"true", "No", "ON", "y", "null", "~", "", "0.1", "2", "-1", "+1", "1e3", "1E+3", "0x1F", "0o17", "0b101",
        "1_000", "12:30", "1:30:00", "2001-12-14", "2001-12-14 21:59:43.10 -5", ".5", "-.inf", ".NaN", "=", "<<",
        "-", "- x", "--lr", "-c", "---", "...", "a: b", "a #b", "a#b", "key:", "{{x}}", "[x]", "'q'", "\"q\"",
        "#x", " lead", "trail ", "@x", "`x", "*x", "&x", "!x", "%x", "|x", ">x", "?x", ":x", ",x", "4Gi",
        "tab\there", "caf\xC3\xA9", "nel\xC2\x85", "ls\xE2\x80\xA8", "ps\xE2\x80\xA9", "bom\xEF\xBB\xBF",
        "bell\x07", "cr\r\n", "line 1\nline 2\n", "a\n\nb", "a\n\n\n", " indented\nx", "\nleading", "x\n  y\n",
        "trailing spaces  \nnext", "{\"json\": [1, 2]}", "it's", "\\"})
    strings.push_back(std::string(text));
  Json document = {{"strings", strings}, {"as keys", Json::object()}, {"numbers", {2.0, 1e20, -0.5, 42, -7}},
                   {"nested", Json::array({Json::array({"x\ny\n", {{"k", "v\n"}}}), Json::object()})}};
  for (const auto& text : strings) document["as keys"][text.get<std::string>()] = text;
  expect_yaml_matches_json({write("awkward", document)});
}

}  // namespace
}  // namespace mlctl::pipeline
