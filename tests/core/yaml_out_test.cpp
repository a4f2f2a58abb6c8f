#include <mlctl/core/yaml_out.hpp>

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

using Json = nlohmann::json;

TEST(YamlOutTest, WritesMapsIndentedAndListsAtTheirKeysColumn) {
  Json doc = {{"b", {1, {{"x", "y"}, {"z", {true, nullptr}}}}}, {"a", {{"k", 2.5}}}, {"e", Json::object()},
              {"f", Json::array()}};
  EXPECT_EQ(to_yaml(doc),
            "a:\n"
            "  k: 2.5\n"
            "b:\n"
            "- 1\n"
            "- x: 'y'\n"  // YAML 1.1 reads a bare y as true
            "  z:\n"
            "  - true\n"
            "  - null\n"
            "e: {}\n"
            "f: []\n");
}

TEST(YamlOutTest, NestedListsAndTopLevelValues) {
  EXPECT_EQ(to_yaml(Json::array({Json::array({1, 2}), Json::array()})), "- - 1\n  - 2\n- []\n");
  EXPECT_EQ(to_yaml(Json("text")), "text\n");
  EXPECT_EQ(to_yaml(Json::object()), "{}\n");
}

TEST(YamlOutTest, QuotesStringsThatWouldReadAsSomethingElse) {
  Json strings = {"true", "No", "on", "null", "~", "", "0.1", "2", "-1", "1e3", "0x1F", "2001-12-14", "1.4.0",
                  "12:30", ".inf", "=", "<<", "-", "- x", "---", "...", "a: b", "a #b", "key:", "{{x}}", "'q'",
                  "#x", " lead", "trail ", "@x", "*x", "!x", "%x", "|x", ">x", "[x", "?x"};
  EXPECT_EQ(to_yaml(strings),
            "- 'true'\n- 'No'\n- 'on'\n- 'null'\n- '~'\n- ''\n- '0.1'\n- '2'\n- '-1'\n- '1e3'\n- '0x1F'\n"
            "- '2001-12-14'\n- '1.4.0'\n- '12:30'\n- '.inf'\n- '='\n- '<<'\n- '-'\n- '- x'\n- '---'\n- '...'\n"
            "- 'a: b'\n- 'a #b'\n- 'key:'\n- '{{x}}'\n- '''q'''\n- '#x'\n- ' lead'\n- 'trail '\n- '@x'\n"
            "- '*x'\n- '!x'\n- '%x'\n- '|x'\n- '>x'\n- '[x'\n- '?x'\n");
}

TEST(YamlOutTest, LeavesPlainWhatReadsBackAsTheSameString) {
  Json strings = {"4Gi", "500m", "--lr", "-c", "a#b", "it's", "train-{{run}}", "nvidia.com/gpu", "/mlctl/a b",
                  "python3", "yesterday", "0.1s"};
  EXPECT_EQ(to_yaml(strings),
            "- 4Gi\n- 500m\n- --lr\n- -c\n- a#b\n- it's\n- train-{{run}}\n- nvidia.com/gpu\n- /mlctl/a b\n"
            "- python3\n- yesterday\n- 0.1s\n");
}

TEST(YamlOutTest, MultiLineStringsAreLiteralBlocksWithTheRightChomping) {
  Json doc = {{"clip", "line 1\nline 2\n"}, {"strip", "a\n\nb"}, {"keep", "a\n\n\n"},
              {"nested", Json::array({{{"s", "x\ny\n"}}})}};
  EXPECT_EQ(to_yaml(doc),
            "clip: |\n"
            "  line 1\n"
            "  line 2\n"
            "keep: |+\n"
            "  a\n"
            "\n"
            "\n"
            "nested:\n"
            "- s: |\n"
            "    x\n"
            "    y\n"
            "strip: |-\n"
            "  a\n"
            "\n"
            "  b\n");
}

TEST(YamlOutTest, EscapesWhatABlockCannotHold) {
  Json strings = {" indented\nfirst line", "\nleading newline", "tab\there", "caf\xC3\xA9", "nel\xC2\x85", "ls\xE2\x80\xA8",
                  "bell\x07", "quote\" and \\ in\nlines\r\n"};
  EXPECT_EQ(to_yaml(strings),
            "- \" indented\\nfirst line\"\n"
            "- \"\\nleading newline\"\n"
            "- \"tab\\there\"\n"
            "- \"caf\xC3\xA9\"\n"
            "- \"nel\\N\"\n"
            "- \"ls\\L\"\n"
            "- \"bell\\x07\"\n"
            "- \"quote\\\" and \\\\ in\\nlines\\r\\n\"\n");
}

TEST(YamlOutTest, KeysAreQuotedLikeValues) {
  EXPECT_EQ(to_yaml(Json{{"a: b", 1}, {"on", 2}, {"nvidia.com/gpu", 3}}), "'a: b': 1\nnvidia.com/gpu: 3\n'on': 2\n");
}

TEST(YamlOutTest, NumbersKeepTheirTypeInYaml11) {
  Json numbers = {2.0, 1e20, -0.5, 42, std::uint64_t{18446744073709551615u}, -7,
                  std::numeric_limits<double>::infinity(), std::nan("")};
  EXPECT_EQ(to_yaml(numbers), "- 2.0\n- 1.0e+20\n- -0.5\n- 42\n- 18446744073709551615\n- -7\n- .inf\n- .nan\n");
}

TEST(YamlOutTest, SameDocumentGivesSameBytes) {
  Json doc = {{"z", {{"b", 1}, {"a", "x\ny"}}}, {"a", {"1", "2"}}};
  EXPECT_EQ(to_yaml(doc), to_yaml(Json::parse(doc.dump())));
}

}  // namespace
}  // namespace mlctl::core
