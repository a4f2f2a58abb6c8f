#include <mlctl/oci/layout.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/oci/manifest.hpp>
#include <mlctl/oci/media_types.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace mlctl::oci {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_oci_layout_file = R"({"imageLayoutVersion":"1.0.0"})";

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_separator(char c) { return c == '-' || c == '.' || c == '_' || c == ':' || c == '@' || c == '+'; }

bool valid_component(std::string_view component) {
  if (component.empty() || !is_alnum(component.front()) || !is_alnum(component.back())) return false;
  for (size_t i = 0; i < component.size(); ++i) {
    char c = component[i];
    if (is_alnum(c)) continue;
    if (!is_separator(c)) return false;
    bool double_dash = c == '-' && component[i + 1] == '-' && is_alnum(component[i + 2]);
    if (double_dash) ++i;
    else if (!is_alnum(component[i + 1])) return false;
  }
  return true;
}

Result<Index> read_index(const fs::path& dir) {
  auto text = core::read_file(dir / "index.json");
  if (!text && text.error().code() == Errc::not_found) return Index{};
  if (!text) return std::unexpected(text.error());
  return with_context(parse_index(*text), (dir / "index.json").string());
}

Result<void> write_blobs(const BlobStore& out, const Image& image, const BlobStore& layers) {
  for (const Descriptor& layer : image.manifest.layers) {
    if (auto copied = out.copy_from(layers, layer.digest); !copied) return copied;
  }
  if (auto stored = out.put(image.config_json); !stored) return std::unexpected(stored.error());
  if (auto stored = out.put(image.manifest_json); !stored) return std::unexpected(stored.error());
  return {};
}

}  // namespace

Result<void> check_ref_name(std::string_view name) {
  bool ok = !name.empty();
  for (size_t start = 0; ok && start <= name.size();) {
    size_t end = std::min(name.find('/', start), name.size());
    ok = valid_component(name.substr(start, end - start));
    start = end + 1;
  }
  if (!ok) return fail(Errc::invalid, fmt::format("'{}' is not a valid image tag", name),
                       "a tag is letters and digits, joined by one of - . _ : @ +");
  return {};
}

Result<Descriptor> write_layout(const fs::path& dir, const Image& image, const BlobStore& layers, std::string_view tag) {
  auto where = [&] { return fmt::format("writing OCI layout {}", dir.string()); };
  if (auto valid = check_ref_name(tag); !valid) return std::unexpected(valid.error().context(where()));
  auto index = read_index(dir);
  if (!index) return std::unexpected(index.error().context(where()));
  BlobStore out(dir);
  if (auto written = write_blobs(out, image, layers); !written) return std::unexpected(written.error().context(where()));
  if (!fs::exists(dir / "oci-layout")) {
    if (auto written = core::write_file_atomic(dir / "oci-layout", k_oci_layout_file); !written) {
      return std::unexpected(written.error().context(where()));
    }
  }

  Descriptor manifest = image.descriptor();
  manifest.annotations[std::string(k_ref_name_annotation)] = std::string(tag);
  std::erase_if(index->manifests, [&](const Descriptor& entry) {
    auto name = entry.annotations.find(std::string(k_ref_name_annotation));
    return name != entry.annotations.end() && name->second == tag;
  });
  index->manifests.push_back(manifest);
  index->media_type = k_oci_index;
  if (auto written = core::write_file_atomic(dir / "index.json", to_json(*index)); !written) {
    return std::unexpected(written.error().context(where()));
  }
  return manifest;
}

}  // namespace mlctl::oci
