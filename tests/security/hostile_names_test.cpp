// Hostile names and values on their way to SQLite and YAML, through the real binary: names
// (models, aliases, pipelines, steps, params, outputs) with SQL, path, YAML and template
// characters, newlines and terminal escapes are refused with exit 2 and a one-line message that
// shows them escaped; free-text values (params, tags, descriptions, reasons, pipeline param
// values) are carried byte for byte into the registry database, a local run and the compiled
// Argo and KFP documents (read back with PyYAML); the database keeps its schema and integrity.
#include "security_support.hpp"

#include <build/e2e/e2e_fixture.hpp>

#include <mlctl/core/text.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::test::security {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct HostileName {
  std::string name;
  std::string shown;  // as a one-line message shows it
  std::string first_bad;  // the first character a DNS-1123 label may not hold, as shown
};

const std::vector<HostileName> k_names{
    {"x'; DROP TABLE versions;--", "x'; DROP TABLE versions;--", "'"},
    {"../x", "../x", "."},
    {"a\nb", "a\\nb", "\\n"},
    {"{{x}}", "{{x}}", "{"},
    {"x: y", "x: y", ":"},
    {"&anchor", "&anchor", "&"},
    {"x\x1b[31mred", "x\\x1b[31mred", "\\x1b"},
};

// Free text with SQL, YAML and template specials, a newline and both quotes.
const std::string k_text = "x'; DROP TABLE versions;--\n: {{y}} #c &a *b \"q\" %s \\";

// `text` as a YAML double-quoted scalar.
std::string yaml_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += fmt::format("\\{}", c);
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else out.push_back(c);
  }
  return out + "\"";
}

TEST(PrintableTest, ControlCharactersBecomeEscapesAndTheRestIsKept) {
  EXPECT_EQ(core::printable("a\nb\tc\rd\x1b[0m\x7f\x01"), "a\\nb\\tc\\rd\\x1b[0m\\x7f\\x01");
  EXPECT_EQ(core::printable("caf\xC3\xA9 'q' \"\" \\n"), "caf\xC3\xA9 'q' \"\" \\n");
}

class HostileTest : public ::testing::Test {
protected:
  core::Completed mlctl(const std::vector<std::string>& args) {
    return run_mlctl(args, dir_.path(), {{"HOME", dir_.path().string()}});
  }

  Json mlctl_json(std::vector<std::string> args) {
    args.insert(args.begin(), {"-o", "json"});
    auto done = mlctl(args);
    EXPECT_EQ(done.exit_code, 0) << done.err;
    return Json::parse(done.out, nullptr, false);
  }

  fs::path db() const { return dir_ / ".mlctl/registry.db"; }
  std::vector<std::vector<std::string>> schema() const {
    return sql_rows(db(), "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name");
  }
  std::string integrity() const { return sql_rows(db(), "PRAGMA integrity_check").at(0).at(0); }

  TempDir dir_;
};

TEST_F(HostileTest, ModelAndAliasNamesAreRefusedWithOneLineErrorsAndTheDatabaseIsUntouched) {
  dir_.write("mlctl.yaml", "name: demo\nversion: 1.0.0\n");
  dir_.write("model.bin", "weights");
  ASSERT_EQ(mlctl({"model", "register", "fraud", "--artifact", "model.bin"}).exit_code, 0);
  auto schema_before = schema();
  std::string export_before = mlctl({"model", "export"}).out;

  for (const auto& hostile : k_names) {
    std::string model_error = fmt::format(
        "mlctl: error: invalid model name: '{}' is not a valid name: '{}' is not allowed\n"
        "hint: a model name is a DNS-1123 label: lowercase letters, digits and '-', at most 63\n",
        hostile.shown, hostile.first_bad);
    std::string alias_error = fmt::format(
        "mlctl: error: invalid alias: '{}' is not a valid name: '{}' is not allowed\n"
        "hint: an alias is a DNS-1123 label: lowercase letters, digits and '-', at most 63\n",
        hostile.shown, hostile.first_bad);
    const std::string& n = hostile.name;
    std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"register", n, "--artifact", "model.bin"}, model_error},
        {{"show", n}, model_error},
        {{"list", n}, model_error},
        {{"history", n}, model_error},
        {{"alias", "set", n, "staging", "1"}, model_error},
        {{"alias", "set", "fraud", n, "1"}, alias_error},
        {{"promote", "fraud", "1", "--to", n}, alias_error},
    };
    for (auto& [args, error] : cases) {
      args.insert(args.begin(), "model");
      auto refused = mlctl(args);
      EXPECT_EQ(refused.exit_code, 2) << args[1] << " " << hostile.shown << ": " << refused.err;
      EXPECT_EQ(refused.err, error) << args[1];
      EXPECT_EQ(refused.out, "") << args[1];
    }
  }
  EXPECT_EQ(schema(), schema_before);
  EXPECT_EQ(mlctl({"model", "export"}).out, export_before);
  EXPECT_EQ(integrity(), "ok");
}

TEST_F(HostileTest, FreeTextValuesAreStoredAndFilteredExactly) {
  dir_.write("mlctl.yaml", "name: demo\nversion: 1.0.0\n");
  dir_.write("model.bin", "weights");
  ASSERT_EQ(mlctl({"model", "register", "churn", "--artifact", "model.bin"}).exit_code, 0);
  auto schema_before = schema();

  const std::string sql_only = "x'; DROP TABLE versions;--";  // what a --where value can quote
  auto registered = mlctl({"model", "register", "fraud", "--artifact", "model.bin", "--metric", "auc=0.9", "--param",
                           "note=" + k_text, "--tag", "team=" + sql_only, "--tag", "owner=" + k_text,
                           "--description", k_text, "--reason", k_text});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  Json shown = mlctl_json({"model", "show", "fraud@1"});
  EXPECT_EQ(shown["params"], (Json{{"note", k_text}}));
  EXPECT_EQ(shown["tags"], (Json{{"owner", k_text}, {"team", sql_only}}));
  EXPECT_EQ(shown["description"], k_text);
  EXPECT_EQ(mlctl_json({"model", "history", "fraud"}).at(0)["reason"], k_text);

  // The value is bound, never spliced: it finds its version and nothing else.
  Json found = mlctl_json({"model", "list", "fraud", "--where", "tags.team == \"" + sql_only + "\""});
  ASSERT_EQ(found.size(), 1u) << found.dump();
  EXPECT_EQ(found[0]["version"], 1);
  EXPECT_EQ(mlctl_json({"model", "list", "fraud", "--where", "tags.team == \"x' OR '1'='1\""}), Json::array());

  EXPECT_EQ(schema(), schema_before);
  EXPECT_EQ(sql_rows(db(), "SELECT count(*) FROM versions").at(0).at(0), "2");
  EXPECT_EQ(integrity(), "ok");
}

struct Position {
  std::string what;
  std::string file;  // a pipeline with NAME where the hostile name goes
  std::string error;  // the message, with {shown} and {bad}
};

const std::vector<Position> k_positions{
    {"pipeline name", "name: NAME\nsteps:\n  - name: s\n    command: [sh, -c, \"true\"]\n",
     "bad.yaml:1:7: name: '{shown}' is not a valid name: '{bad}' is not allowed"},
    {"step name", "name: t\nsteps:\n  - name: NAME\n    command: [sh, -c, \"true\"]\n",
     "bad.yaml:3:11: steps[0].name: '{shown}' is not a valid name: '{bad}' is not allowed"},
    {"param name", "name: t\nparams: {NAME: v}\nsteps:\n  - name: s\n    command: [sh, -c, \"true\"]\n",
     "bad.yaml:2:10: params.{shown}: '{shown}' is not a valid name"},
    {"output name", "name: t\nsteps:\n  - name: s\n    command: [sh, -c, \"true\"]\n    outputs: [NAME]\n",
     "bad.yaml:5:15: steps[0].outputs[0]: '{shown}' is not a valid name"},
};

const std::string k_image = "registry.example.com/demo@sha256:" + std::string(64, 'a');

TEST_F(HostileTest, PipelineNamesAreRefusedByValidateRunAndCompile) {
  dir_.write("mlctl.yaml", "name: demo\nversion: 1.0.0\n");
  for (const auto& position : k_positions) {
    for (const auto& hostile : k_names) {
      std::string file = position.file;
      file.replace(file.find("NAME"), 4, yaml_quoted(hostile.name));
      dir_.write("bad.yaml", file);
      std::string expected = "mlctl: error: " + fmt::format(fmt::runtime(position.error),
                                                            fmt::arg("shown", hostile.shown),
                                                            fmt::arg("bad", hostile.first_bad)) + "\n";
      for (const auto& args : std::vector<std::vector<std::string>>{
               {"pipeline", "validate", "bad.yaml"},
               {"pipeline", "run", "bad.yaml"},
               {"pipeline", "compile", "bad.yaml", "--image", k_image, "-o", "out.yaml"}}) {
        auto refused = mlctl(args);
        EXPECT_EQ(refused.exit_code, 2) << args[1] << " " << position.what << " " << hostile.shown;
        EXPECT_EQ(refused.err, expected) << args[1] << " " << position.what;
        EXPECT_EQ(refused.out, "") << args[1] << " " << position.what;
      }
    }
  }
  EXPECT_FALSE(fs::exists(dir_ / ".mlctl/runs")) << "no run was started";
  EXPECT_FALSE(fs::exists(dir_ / "out.yaml"));
}

// Param values with YAML specials: in a local run's step, in the run record, and in the compiled
// Argo Workflow and KFP pipeline spec as PyYAML reads them.
const std::vector<std::string> k_values{
    "a: b", "# not a comment", "&anchor", "*alias", "{{x}}", "{{params.p0}}", "line 1\nline 2\n", "'single' \"double\"",
    "- item", "[x, y]", "{k: v}", "!!str x", "%TAG ! x", "@x", "`x`", "yes", "null", "~", "0.10", "back\\slash",
    "  padded  ", "x'; DROP TABLE runs;--", "---", "...", "key: |\n  block"};
const std::string k_override = "over: ride\n#c &a *b {{params.p1}} \"q\"";

std::string values_pipeline() {
  std::string file = "name: values\nparams:\n";
  for (size_t i = 0; i < k_values.size(); ++i) file += fmt::format("  p{}: {}\n", i, yaml_quoted(k_values[i]));
  // The step writes each argument it got, NUL-terminated.
  file += "steps:\n  - name: echo\n    command: [sh, -c, 'for v in \"$@\"; do printf \"%s\\0\" \"$v\"; done > "
          "{{outputs.data}}', sh";
  for (size_t i = 0; i < k_values.size(); ++i) file += fmt::format(", \"{{{{params.p{}}}}}\"", i);
  return file + "]\n    outputs: [data]\n";
}

// What PyYAML reads from `file`, as JSON.
Json read_yaml(const fs::path& file) {
  auto read = run_command({"/usr/bin/python3", "-c",
                           "import json, sys, yaml\n"
                           "print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))",
                           file.string()},
                          file.parent_path());
  EXPECT_EQ(read.exit_code, 0) << "PyYAML (Debian package python3-yaml): " << read.err;
  return Json::parse(read.out, nullptr, false);
}

TEST_F(HostileTest, PipelineParamValuesAreCarriedExactly) {
  dir_.write("mlctl.yaml", "name: demo\nversion: 1.0.0\n");
  dir_.write("values.yaml", values_pipeline());
  std::vector<std::string> expected = k_values;
  expected[0] = k_override;
  Json expected_params = Json::object();
  for (size_t i = 0; i < expected.size(); ++i) expected_params[fmt::format("p{}", i)] = expected[i];

  Json run = mlctl_json({"pipeline", "run", "values.yaml", "--param", "p0=" + k_override});
  ASSERT_EQ(run.value("status", ""), "succeeded") << run.dump();
  EXPECT_EQ(run["params"], expected_params);
  std::string written = e2e::read_file(fs::path(run["directory"].get<std::string>()) / "echo/data");
  std::vector<std::string> received;
  for (size_t start = 0, end; (end = written.find('\0', start)) != std::string::npos; start = end + 1)
    received.push_back(written.substr(start, end - start));
  EXPECT_EQ(received, expected);
  EXPECT_EQ(mlctl_json({"pipeline", "show", run["run_id"].get<std::string>()})["params"], expected_params);
  EXPECT_EQ(integrity(), "ok");

  ASSERT_EQ(mlctl({"pipeline", "compile", "values.yaml", "--image", k_image, "--param", "p0=" + k_override, "-o",
                   "argo.yaml"})
                .exit_code,
            0);
  Json argo = read_yaml(dir_ / "argo.yaml");
  Json argo_params = Json::object();
  for (const auto& parameter : argo["spec"]["arguments"]["parameters"])
    argo_params[parameter["name"].get<std::string>()] = parameter["value"];
  EXPECT_EQ(argo_params, expected_params);

  ASSERT_EQ(mlctl({"pipeline", "compile", "values.yaml", "--backend", "kfp", "--image", k_image, "--param",
                   "p0=" + k_override, "-o", "kfp.yaml"})
                .exit_code,
            0);
  Json kfp = read_yaml(dir_ / "kfp.yaml");
  Json kfp_params = Json::object();
  for (const auto& [name, parameter] : kfp["root"]["inputDefinitions"]["parameters"].items())
    kfp_params[name] = parameter["defaultValue"];
  EXPECT_EQ(kfp_params, expected_params);
}

}  // namespace
}  // namespace mlctl::test::security
