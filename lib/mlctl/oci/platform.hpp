#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/manifest.hpp>

#include <string>
#include <string_view>

namespace mlctl::oci {

// "linux/amd64", "linux/arm64/v8": os/architecture[/variant], lowercase letters, digits and '_'.
// The machine names people also write ("x86_64", "aarch64") become their OCI names. Fails with
// Errc::invalid naming the text and the expected form.
Result<Platform> parse_platform(std::string_view text);

// "linux/amd64", "linux/arm64/v8" (os/architecture, then the variant when there is one).
std::string to_string(const Platform& platform);

// linux and the OCI architecture of the machine this runs on ("amd64" on x86-64).
Platform host_platform();

// Whether an image for `available` runs as `wanted`: os and architecture equal, and the variant
// when both name one (an arm64 without a variant is a v8).
bool platform_matches(const Platform& available, const Platform& wanted);

// The entry of `index` for `platform`: an exact match (variant included) first, else the first
// entry that platform_matches. Entries without a platform are never chosen. Fails with
// Errc::not_found naming the platform and listing the ones the index has.
Result<Descriptor> select_platform(const Index& index, const Platform& platform);

}  // namespace mlctl::oci
