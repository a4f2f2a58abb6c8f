#include <mlctl/oci/platform.hpp>

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mlctl::oci {

namespace {

constexpr std::string_view k_platform_form = "write os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8";

bool valid_part(std::string_view part) {
  return !part.empty() && std::ranges::all_of(part, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The names kernels and toolchains use for an architecture, as OCI (GOARCH) spells it.
std::pair<std::string, std::string> oci_architecture(std::string_view machine) {
  static constexpr std::array<std::array<std::string_view, 3>, 11> k_names{{
      {"x86_64", "amd64", ""},
      {"x86-64", "amd64", ""},
      {"aarch64", "arm64", ""},
      {"armv8l", "arm", "v8"},
      {"armv7l", "arm", "v7"},
      {"armv6l", "arm", "v6"},
      {"i386", "386", ""},
      {"i486", "386", ""},
      {"i586", "386", ""},
      {"i686", "386", ""},
      {"loongarch64", "loong64", ""},
  }};
  for (const auto& [name, architecture, variant] : k_names) {
    if (machine == name) return {std::string(architecture), std::string(variant)};
  }
  return {std::string(machine), ""};
}

// arm64 images that name no variant are v8, the only one there is in practice.
std::string effective_variant(const Platform& platform) {
  if (platform.variant.empty() && platform.architecture == "arm64") return "v8";
  return platform.variant;
}

bool same_platform(const Platform& a, const Platform& b) {
  return a.os == b.os && a.architecture == b.architecture && effective_variant(a) == effective_variant(b);
}

}  // namespace

Result<Platform> parse_platform(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0; start <= text.size();) {
    size_t end = std::min(text.find('/', start), text.size());
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  bool valid = parts.size() >= 2 && parts.size() <= 3 && std::ranges::all_of(parts, valid_part);
  if (!valid) return fail(Errc::invalid, fmt::format("'{}' is not a platform", text), std::string(k_platform_form));
  Platform platform{.os = std::string(parts[0])};
  auto [architecture, variant] = oci_architecture(parts[1]);
  platform.architecture = std::move(architecture);
  platform.variant = parts.size() == 3 ? std::string(parts[2]) : std::move(variant);
  return platform;
}

std::string to_string(const Platform& platform) {
  std::string out = platform.os + "/" + platform.architecture;
  if (!platform.variant.empty()) out += "/" + platform.variant;
  return out;
}

Platform host_platform() {
  utsname names{};
  std::string machine = ::uname(&names) == 0 ? names.machine : "";
#if defined(__x86_64__)
  if (machine.empty()) machine = "x86_64";
#elif defined(__aarch64__)
  if (machine.empty()) machine = "aarch64";
#endif
  auto [architecture, variant] = oci_architecture(machine);
  return Platform{.architecture = std::move(architecture), .os = "linux", .variant = std::move(variant)};
}

bool platform_matches(const Platform& available, const Platform& wanted) {
  if (available.os != wanted.os || available.architecture != wanted.architecture) return false;
  std::string have = effective_variant(available);
  std::string want = effective_variant(wanted);
  return have.empty() || want.empty() || have == want;
}

Result<Descriptor> select_platform(const Index& index, const Platform& platform) {
  for (const Descriptor& entry : index.manifests) {
    if (entry.platform && same_platform(*entry.platform, platform)) return entry;
  }
  for (const Descriptor& entry : index.manifests) {
    if (entry.platform && platform_matches(*entry.platform, platform)) return entry;
  }
  std::vector<std::string> available;
  for (const Descriptor& entry : index.manifests) {
    // Build attestations are listed as unknown/unknown: not images anyone can ask for.
    if (entry.platform && entry.platform->os != "unknown") available.push_back(to_string(*entry.platform));
  }
  if (available.empty()) {
    return fail(Errc::not_found, fmt::format("no image for {}: the index names no platforms", to_string(platform)));
  }
  return fail(Errc::not_found,
              fmt::format("no image for {}; there are images for {}", to_string(platform), fmt::join(available, ", ")),
              fmt::format("pick a base image that has {}, or build for one of these with --platform",
                          to_string(platform)));
}

}  // namespace mlctl::oci
