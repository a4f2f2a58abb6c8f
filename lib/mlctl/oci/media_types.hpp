#pragma once

#include <string_view>

namespace mlctl::oci {

// OCI image-spec media types (what mlctl writes).
inline constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view k_oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view k_oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view k_oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view k_oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";

// Docker image manifest v2 schema 2 media types (what a base image pulled from Docker Hub may use).
inline constexpr std::string_view k_docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view k_docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view k_docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view k_docker_layer_gzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view k_docker_foreign_layer_gzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

// The annotation that names a tag in an OCI layout's index.json.
inline constexpr std::string_view k_ref_name_annotation = "org.opencontainers.image.ref.name";

inline bool is_manifest_type(std::string_view type) {
  return type == k_oci_manifest || type == k_docker_manifest;
}

inline bool is_index_type(std::string_view type) {
  return type == k_oci_index || type == k_docker_manifest_list;
}

inline bool is_config_type(std::string_view type) {
  return type == k_oci_config || type == k_docker_config;
}

}  // namespace mlctl::oci
