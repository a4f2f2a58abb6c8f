#include <mlctl/oci/image.hpp>

#include <mlctl/core/digest.hpp>

#include <fmt/format.h>

namespace mlctl::oci {

namespace {

bool is_layer_type(std::string_view type) {
  return type.starts_with("application/vnd.oci.image.layer.") ||
         type.starts_with("application/vnd.docker.image.rootfs.");
}

// A Docker base image's layers are the same bytes under another name; an OCI manifest names
// them the OCI way.
void use_oci_layer_type(Descriptor& layer) {
  if (layer.media_type == k_docker_layer_gzip) layer.media_type = k_oci_layer_gzip;
  if (layer.media_type == "application/vnd.docker.image.rootfs.diff.tar") layer.media_type = k_oci_layer;
}

}  // namespace

Descriptor Image::descriptor() const {
  return Descriptor{.media_type = manifest.media_type,
                    .digest = core::sha256_digest(manifest_json),
                    .size = static_cast<std::int64_t>(manifest_json.size()),
                    .platform = Platform{.architecture = config.architecture,
                                         .os = config.os,
                                         .os_version = config.os_version,
                                         .variant = config.variant}};
}

Result<Image> assemble_image(ImageConfig config, std::vector<Descriptor> layers, Annotations annotations) {
  if (config.diff_ids.size() != layers.size()) {
    return fail(Errc::invalid, fmt::format("the config lists {} diff_ids for {} layers", config.diff_ids.size(),
                                           layers.size()));
  }
  for (Descriptor& layer : layers) {
    use_oci_layer_type(layer);
    if (!is_layer_type(layer.media_type)) {
      return fail(Errc::invalid, fmt::format("{}: '{}' is not a layer media type", layer.digest, layer.media_type));
    }
  }
  Image image;
  image.config_json = to_json(config);
  image.config = std::move(config);
  image.manifest.config = Descriptor{.media_type = std::string(k_oci_config),
                                     .digest = core::sha256_digest(image.config_json),
                                     .size = static_cast<std::int64_t>(image.config_json.size())};
  image.manifest.layers = std::move(layers);
  image.manifest.annotations = std::move(annotations);
  image.manifest_json = to_json(image.manifest);
  return image;
}

}  // namespace mlctl::oci
