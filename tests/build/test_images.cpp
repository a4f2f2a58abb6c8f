#include "test_images.hpp"

#include <gtest/gtest.h>

namespace mlctl::test {

oci::Image make_test_image(std::vector<std::vector<oci::TarEntry>> layers, const TestImageConfig& wanted,
                           const oci::BlobStore& store) {
  oci::ImageConfig config;
  config.architecture = wanted.platform.architecture;
  config.os = wanted.platform.os;
  config.variant = wanted.platform.variant;
  config.config.env = wanted.env;
  config.config.cmd = wanted.cmd;
  std::vector<oci::Descriptor> descriptors;
  for (auto& entries : layers) {
    auto layer = oci::build_layer(std::move(entries), {.compression = wanted.compression, .epoch = 1700000000}, store);
    EXPECT_TRUE(layer) << layer.error().message();
    if (!layer) return {};
    config.diff_ids.push_back(layer->diff_id);
    descriptors.push_back(layer->descriptor);
  }
  auto image = oci::assemble_image(config, descriptors);
  EXPECT_TRUE(image) << image.error().message();
  return image.value_or(oci::Image{});
}

}  // namespace mlctl::test
