#pragma once

#include <mlctl/oci/blob_store.hpp>
#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/image.hpp>
#include <mlctl/oci/layer.hpp>
#include <mlctl/oci/tar_writer.hpp>

#include <optional>
#include <string>
#include <vector>

namespace mlctl::test {

inline const oci::Platform k_amd64{.architecture = "amd64", .os = "linux"};
inline const oci::Platform k_arm64{.architecture = "arm64", .os = "linux", .variant = "v8"};

struct TestImageConfig {
  oci::Platform platform = k_amd64;
  std::vector<std::string> env{};
  std::optional<std::vector<std::string>> cmd{};
  oci::CompressionMode compression = oci::CompressionMode::gzip;
};

// An image of one layer per entry list, its blobs built into `store` (epoch 1700000000);
// a failure fails the test and gives an empty image.
oci::Image make_test_image(std::vector<std::vector<oci::TarEntry>> layers, const TestImageConfig& config,
                           const oci::BlobStore& store);

}  // namespace mlctl::test
