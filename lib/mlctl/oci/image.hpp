#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/image_config.hpp>
#include <mlctl/oci/manifest.hpp>

#include <string>
#include <vector>

namespace mlctl::oci {

// An image ready to be written: its config and manifest as the exact bytes that are hashed,
// its layers referenced by descriptor (the blobs live in a BlobStore).
struct Image {
  ImageConfig config{};
  Manifest manifest{};
  std::string config_json{};
  std::string manifest_json{};

  // The manifest's descriptor (what a tag points at), with the config's platform.
  Descriptor descriptor() const;
};

// Serialises `config` and an OCI manifest pointing at it and at `layers` (base first; Docker layer
// media types are renamed to their OCI equivalents). Fails when the config's rootfs.diff_ids do
// not match the layers in number, or a descriptor is not a layer.
Result<Image> assemble_image(ImageConfig config, std::vector<Descriptor> layers, Annotations annotations = {});

}  // namespace mlctl::oci
