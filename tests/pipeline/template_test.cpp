#include <mlctl/pipeline/template.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

// A template as text: literals as they are, references as <kind:step:name>.
std::string shape(std::string_view text) {
  auto parts = parse_template(text);
  if (!parts) return "error: " + parts.error().message();
  std::string out;
  for (const auto& part : *parts) {
    if (const auto* literal = std::get_if<std::string>(&part)) {
      out += "[" + *literal + "]";
      continue;
    }
    const auto& ref = std::get<Reference>(part);
    constexpr const char* k_kinds[] = {"param", "output", "step_output", "run_id", "pipeline_name"};
    out += fmt::format("<{}:{}:{}>", k_kinds[static_cast<int>(ref.kind)], ref.step, ref.name);
  }
  return out;
}

TEST(PipelineTemplateTest, SplitsLiteralsAndReferences) {
  EXPECT_EQ(shape("echo {{params.lr}} > {{ outputs.data }}"), "[echo ]<param::lr>[ > ]<output::data>");
  EXPECT_EQ(shape("{{steps.train.outputs.model}}"), "<step_output:train:model>");
  EXPECT_EQ(shape("runs/{{run.id}}/{{pipeline.name}}"), "[runs/]<run_id::>[/]<pipeline_name::>");
  EXPECT_EQ(shape("plain text"), "[plain text]");
  EXPECT_EQ(shape(""), "");
}

TEST(PipelineTemplateTest, KeepsTheTextAsWrittenInsideTheBraces) {
  auto parts = parse_template("{{  steps.a.outputs.b  }}");
  ASSERT_TRUE(parts);
  EXPECT_EQ(std::get<Reference>(parts->front()).text, "steps.a.outputs.b");
}

TEST(PipelineTemplateTest, OutputNamesMayHoldSpacesAndDots) {
  EXPECT_EQ(shape("{{steps.clone.outputs.Repo dir}}"), "<step_output:clone:Repo dir>");
  EXPECT_EQ(shape("{{steps.split.outputs.train.csv}}"), "<step_output:split:train.csv>");
}

TEST(PipelineTemplateTest, BackslashEscapesOpeningBraces) {
  EXPECT_EQ(shape("docker inspect --format '\\{{.Id}}'"), "[docker inspect --format '{{.Id}}']");
  EXPECT_EQ(shape("a }} b"), "[a }} b]");
}

TEST(PipelineTemplateTest, RefusesMalformedReferences) {
  constexpr std::string_view k_all = "params.NAME, outputs.NAME, steps.STEP.outputs.NAME, run.id or pipeline.name";
  EXPECT_EQ(shape("x {{params.lr"), "error: unterminated '{{' in 'x {{params.lr'");
  EXPECT_EQ(shape("{{}}"), fmt::format("error: empty reference '{{{{}}}}'; expected {}", k_all));
  EXPECT_EQ(shape("{{  }}"), fmt::format("error: empty reference '{{{{}}}}'; expected {}", k_all));
  EXPECT_EQ(shape("{{params.}}"), "error: '{{params.}}' is not a valid reference: expected params.NAME");
  EXPECT_EQ(shape("{{outputs.}}"), "error: '{{outputs.}}' is not a valid reference: expected outputs.NAME");
  EXPECT_EQ(shape("{{steps.train.output.model}}"),
            "error: '{{steps.train.output.model}}' is not a valid reference: expected steps.STEP.outputs.NAME");
  EXPECT_EQ(shape("{{steps.train}}"), "error: '{{steps.train}}' is not a valid reference: expected steps.STEP.outputs.NAME");
  EXPECT_EQ(shape("{{steps..outputs.x}}"),
            "error: '{{steps..outputs.x}}' is not a valid reference: expected steps.STEP.outputs.NAME");
  EXPECT_EQ(shape("{{steps.a.outputs.}}"),
            "error: '{{steps.a.outputs.}}' is not a valid reference: expected steps.STEP.outputs.NAME");
  EXPECT_EQ(shape("{{inputs.x}}"), fmt::format("error: '{{{{inputs.x}}}}' is not a valid reference: expected {}", k_all));
  EXPECT_EQ(shape("{{run.dir}}"), fmt::format("error: '{{{{run.dir}}}}' is not a valid reference: expected {}", k_all));
}

TEST(PipelineTemplateTest, RendersWithTheGivenValues) {
  auto parts = parse_template("--lr={{params.lr}} --out {{outputs.model}} --run {{run.id}}");
  ASSERT_TRUE(parts);
  auto value = [](const Reference& ref) -> Result<std::string> {
    switch (ref.kind) {
      case RefKind::param: return "0." + std::string("1");
      case RefKind::output: return "/runs/r1/train/" + ref.name;
      case RefKind::run_id: return std::string("r1");
      default: return fail(Errc::invalid, "unexpected");
    }
  };
  EXPECT_EQ(render(*parts, value).value(), "--lr=0.1 --out /runs/r1/train/model --run r1");
}

TEST(PipelineTemplateTest, RenderStopsAtTheFirstFailure) {
  auto parts = parse_template("a {{params.missing}} b");
  ASSERT_TRUE(parts);
  auto result = render(*parts, [](const Reference& ref) -> Result<std::string> {
    return fail(Errc::invalid, fmt::format("no value for param '{}'", ref.name));
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "no value for param 'missing'");
}

TEST(PipelineTemplateTest, ListsReferencesInOrder) {
  auto parts = parse_template("{{steps.b.outputs.x}} {{params.p}} {{steps.a.outputs.y}}");
  ASSERT_TRUE(parts);
  auto refs = references(*parts);
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].step, "b");
  EXPECT_EQ(refs[1].name, "p");
  EXPECT_EQ(refs[2].step, "a");
}

}  // namespace
}  // namespace mlctl::pipeline
