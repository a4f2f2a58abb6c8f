#include <mlctl/core/yaml_tree.hpp>

#include <fmt/format.h>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

YamlDocument parse(std::string_view text) {
  auto document = YamlDocument::parse(text);
  if (!document) ADD_FAILURE() << document.error().message;
  return document ? std::move(*document) : *YamlDocument::parse("");
}

TEST(YamlTreeTest, MapsSequencesAndScalarsKeepFileOrderAndPositions) {
  auto document = parse("name: train\nsteps:\n  - name: a\n    command: [echo, \"hi there\"]\n  - {name: b}\n");
  YamlNode root = document.root();
  ASSERT_TRUE(root.is_map());
  ASSERT_EQ(root.size(), 2u);
  EXPECT_EQ(root.entries()[0].key.scalar(), "name");
  EXPECT_EQ(root.entries()[1].key.scalar(), "steps");
  EXPECT_EQ(root["name"].scalar(), "train");
  EXPECT_EQ(root["name"].line(), 1);
  EXPECT_EQ(root["name"].column(), 7);
  YamlNode steps = root["steps"];
  ASSERT_TRUE(steps.is_sequence());
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0]["command"][1].scalar(), "hi there");
  EXPECT_EQ(steps[0]["command"][1].line(), 4);
  EXPECT_EQ(steps[0]["command"][1].column(), 21);
  EXPECT_EQ(steps[1]["name"].scalar(), "b");
  EXPECT_EQ(steps[0].line(), 3);
  EXPECT_EQ(steps[0].column(), 5);
}

TEST(YamlTreeTest, MissingNodesAreUndefinedAndChain) {
  auto document = parse("a: {b: 1}\nlist: [x]\n");
  YamlNode root = document.root();
  EXPECT_FALSE(root["missing"].is_defined());
  EXPECT_FALSE(root["missing"]["deeper"][3].is_defined());
  EXPECT_FALSE(root["list"][1].is_defined());
  EXPECT_FALSE(root["a"][0].is_defined());   // not a sequence
  EXPECT_FALSE(root["list"]["x"].is_defined());  // not a map
  EXPECT_EQ(root["missing"].type(), YamlType::undefined);
  EXPECT_EQ(root["missing"].line(), 0);
  EXPECT_EQ(root["list"].scalar(), "");
  EXPECT_EQ(root["a"]["b"].size(), 0u);
}

TEST(YamlTreeTest, NullsAsYamlCppReadsThem) {
  auto document = parse("a: ~\nb: null\nc:\nd: 'null'\ne: \"\"\n");
  YamlNode root = document.root();
  EXPECT_TRUE(root["a"].is_null());
  EXPECT_TRUE(root["b"].is_null());
  EXPECT_TRUE(root["c"].is_null());
  EXPECT_TRUE(root["d"].is_scalar());  // quoted: a string
  EXPECT_EQ(root["d"].scalar(), "null");
  EXPECT_TRUE(root["e"].is_scalar());
  EXPECT_EQ(root["e"].scalar(), "");
}

TEST(YamlTreeTest, DuplicateKeysAreKeptAndLookupFindsTheFirst) {
  auto document = parse("a: 1\na: 2\n");
  YamlNode root = document.root();
  ASSERT_EQ(root.entries().size(), 2u);
  EXPECT_EQ(root["a"].scalar(), "1");
  EXPECT_EQ(root.entries()[1].value.scalar(), "2");
  EXPECT_EQ(root.entries()[1].key.line(), 2);
}

TEST(YamlTreeTest, AliasesShareTheAnchoredNode) {
  auto document = parse("base: &r {cpu: '2'}\nstep: *r\nlist: [&x one, *x]\n");
  YamlNode root = document.root();
  EXPECT_EQ(root["step"]["cpu"].scalar(), "2");
  EXPECT_EQ(root["step"].line(), 1);  // the anchored node itself
  EXPECT_EQ(root["list"][1].scalar(), "one");
}

// Found by tests/fuzz (tests/fuzz/regressions/component): aliases that make a cycle, or that
// double at every level ("billion laughs"), would make any walk of the tree endless.
TEST(YamlTreeTest, AliasCyclesAndExplosionsAreSyntaxErrors) {
  auto cycle = YamlDocument::parse("type: &a [*a, *a]\n");
  ASSERT_FALSE(cycle);
  EXPECT_EQ(cycle.error().message, "an alias refers to the node that contains it");
  EXPECT_EQ(cycle.error().line, 1);
  EXPECT_EQ(cycle.error().column, 11);

  std::string laughs = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 30; ++i) laughs += fmt::format("a{}: &a{} [*a{}, *a{}]\n", i, i, i - 1, i - 1);
  auto exploded = YamlDocument::parse(laughs);
  ASSERT_FALSE(exploded);
  EXPECT_EQ(exploded.error().message, "aliases expand this document to more than 10000000 nodes");
  EXPECT_EQ(exploded.error().line, 22) << "a21 stands for 2^23 nodes, with those before it the document for 2^24";

  // Shared aliases below the limit are fine, and count as expanded.
  std::string modest = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 10; ++i) modest += fmt::format("a{}: &a{} [*a{}, *a{}]\n", i, i, i - 1, i - 1);
  auto kept = YamlDocument::parse(modest);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->root()["a10"][1][1][1][1][1][1][1][1][1][1][0].scalar(), "x");
}

TEST(YamlTreeTest, EmptyDocumentHasNoRootAndSyntaxErrorsHaveAPosition) {
  auto empty = YamlDocument::parse("");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->root().is_defined());
  auto comment = YamlDocument::parse("# nothing\n");
  ASSERT_TRUE(comment);
  EXPECT_FALSE(comment->root().is_defined());

  auto broken = YamlDocument::parse("a: 1\nb: [x, y\n");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().line, 3);
  EXPECT_EQ(broken.error().column, 1);
  EXPECT_EQ(broken.error().message, "end of sequence flow not found");
  auto tab = YamlDocument::parse("a:\n  b: 1\n c: 2\n");
  ASSERT_FALSE(tab);
  EXPECT_EQ(tab.error().line, 3);
}

TEST(YamlTreeTest, DocumentsMoveWithoutInvalidatingNodes) {
  auto first = parse("key: value\n");
  YamlNode node = first.root()["key"];
  YamlDocument moved = std::move(first);
  EXPECT_EQ(node.scalar(), "value");
  EXPECT_EQ(moved.root()["key"].scalar(), "value");
}

TEST(YamlTreeTest, FlowTextQuotesWhatWouldNotReadBack) {
  auto document = parse("t: {GcsPath: {data_type: TSV}}\nl: [a, 'b c', 'x: y', '', '#no', \"two\\nlines\", ~]\n");
  EXPECT_EQ(to_flow_yaml(document.root()["t"]), "{GcsPath: {data_type: TSV}}");
  EXPECT_EQ(to_flow_yaml(document.root()["l"]), "[a, b c, \"x: y\", \"\", \"#no\", \"two\\nlines\", ~]");
  EXPECT_EQ(to_flow_yaml(document.root()["missing"]), "~");
}

}  // namespace
}  // namespace mlctl::core
