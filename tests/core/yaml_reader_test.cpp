#include <mlctl/core/yaml_reader.hpp>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

std::string expanded(std::string_view text) {
  EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOST") return "registry.local";
    if (name == "EMPTY") return "";
    return std::nullopt;
  };
  std::string out;
  if (auto problem = expand_env(text, env, out)) return "error: " + *problem;
  return out;
}

TEST(ExpandEnvTest, ReplacesVariablesAndDefaults) {
  EXPECT_EQ(expanded("${HOST}/ml"), "registry.local/ml");
  EXPECT_EQ(expanded("${MISSING:-fallback}"), "fallback");
  EXPECT_EQ(expanded("${EMPTY:-fallback}"), "fallback");
  EXPECT_EQ(expanded("${HOST:-x}:5000"), "registry.local:5000");
  EXPECT_EQ(expanded("${MISSING:-}"), "");
}

TEST(ExpandEnvTest, LeavesPlainDollarsAndEscapes) {
  EXPECT_EQ(expanded("cost $5"), "cost $5");
  EXPECT_EQ(expanded("$${HOST}"), "${HOST}");
  EXPECT_EQ(expanded("trailing $"), "trailing $");
}

TEST(ExpandEnvTest, ReportsBadReferences) {
  EXPECT_EQ(expanded("${MISSING}"), "error: environment variable MISSING is not set (use ${MISSING:-default} for a default)");
  EXPECT_EQ(expanded("${}"), "error: '${}' is not a valid variable reference");
  EXPECT_EQ(expanded("${A-B}"), "error: '${A-B}' is not a valid variable reference");
  EXPECT_EQ(expanded("x${HOST"), "error: unterminated '${' in 'x${HOST'");
}

TEST(DiagnosticTest, FormatsWithAndWithoutPosition) {
  EXPECT_EQ((Diagnostic{"mlctl.yaml", 3, 5, "image.base", "bad"}).to_string(), "mlctl.yaml:3:5: image.base: bad");
  EXPECT_EQ((Diagnostic{"mlctl.yaml", 0, 0, "", "no such file"}).to_string(), "mlctl.yaml: no such file");
}

}  // namespace
}  // namespace mlctl::core
