#include <mlctl/project/templates.hpp>

#include <support/temp_dir.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace mlctl::project {
namespace {

TEST(TemplatesTest, EmbeddedFilesEqualTheSourceTree) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(MLCTL_SOURCE_DIR) / "templates";
  size_t on_disk = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) on_disk += entry.is_regular_file() ? 1 : 0;
  ASSERT_EQ(embedded_templates().size(), on_disk);
  for (const auto& file : embedded_templates()) {
    std::ifstream in(root / file.path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    EXPECT_EQ(file.content, content.str()) << file.path;
  }
}

TEST(TemplatesTest, UnderStripsThePrefix) {
  auto files = templates_under("init/generic/");
  std::vector<std::string> paths;
  for (const auto& file : files) paths.emplace_back(file.path);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{".gitignore", "README.md", "mlctl.yaml", "pipelines/train.yaml",
                                             "predict.sh", "train.sh"}));
}

TEST(TemplatesTest, SubstituteReplacesEveryMarker) {
  const std::pair<std::string_view, std::string> vars[] = {{"NAME", "demo"}, {"X", "@NAME@"}};
  EXPECT_EQ(substitute("@NAME@/@NAME@ {{outputs.model}} @X@ @OTHER@", vars), "demo/demo {{outputs.model}} @NAME@ @OTHER@");
}

}  // namespace
}  // namespace mlctl::project
