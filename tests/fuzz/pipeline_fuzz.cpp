// Fuzzes the pipeline file reader: pipeline::parse_pipeline, then validate(), which is what
// pipeline::check_pipeline does short of loading the component files it names (a disk read).
#include <mlctl/pipeline/parse.hpp>
#include <mlctl/pipeline/validate.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  mlctl::pipeline::ParsedPipeline parsed = mlctl::pipeline::parse_pipeline(text, "pipeline.yaml");
  for (const auto& problem : parsed.problems) (void)problem.to_string();
  for (const auto& problem : mlctl::pipeline::validate(parsed.pipeline)) (void)problem.to_string();
  return 0;
}
