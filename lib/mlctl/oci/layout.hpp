#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/blob_store.hpp>
#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/image.hpp>

#include <filesystem>
#include <string_view>

namespace mlctl::oci {

// Checks a tag for org.opencontainers.image.ref.name: components of letters and digits joined
// by one of "-._:@+" or "--", separated by "/".
Result<void> check_ref_name(std::string_view name);

// Writes `image` into the OCI image layout at `dir` (created if needed) under `tag`, taking the
// layer blobs from `layers` (hard links when on the same filesystem). Blobs are written first and
// index.json last, atomically, so a crash never leaves a tag pointing at a missing blob. An
// existing layout keeps its other tags; the same tag is moved. Returns the manifest descriptor.
Result<Descriptor> write_layout(const std::filesystem::path& dir, const Image& image, const BlobStore& layers,
                                std::string_view tag);

}  // namespace mlctl::oci
