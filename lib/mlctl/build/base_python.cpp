#include <mlctl/build/base_image.hpp>

#include <mlctl/oci/tar_reader.hpp>

#include <algorithm>
#include <map>
#include <ranges>
#include <set>

#include <fmt/format.h>

// What Python a base image has, for pip's --python-version: its PYTHON_VERSION, else the
// interpreters its layers install (whiteouts of later layers honoured).

namespace mlctl::build {

namespace fs = std::filesystem;

namespace {

// "3.11" from "3.11.7", "3.12.0rc1" or "3.11"; none when it does not start with MAJOR.MINOR.
std::optional<std::string> major_minor(std::string_view version) {
  auto digits = [&](std::size_t from) {
    std::size_t end = from;
    while (end < version.size() && version[end] >= '0' && version[end] <= '9') ++end;
    return end;
  };
  std::size_t major_end = digits(0);
  if (major_end == 0 || major_end >= version.size() || version[major_end] != '.') return std::nullopt;
  std::size_t minor_end = digits(major_end + 1);
  if (minor_end == major_end + 1) return std::nullopt;
  return std::string(version.substr(0, minor_end));
}

// "usr/bin/python3.11" -> {"usr/bin/python3.11", 11}; "usr/lib/python3.11/os.py" -> {"usr/lib/python3.11", 11}.
std::optional<std::pair<std::string, int>> python_path(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, bool>, 4> k_places{{
      {"usr/bin/python3.", false},
      {"usr/local/bin/python3.", false},
      {"usr/lib/python3.", true},
      {"usr/local/lib/python3.", true},
  }};
  for (const auto& [prefix, is_dir] : k_places) {
    if (!path.starts_with(prefix)) continue;
    std::size_t end = prefix.size();
    while (end < path.size() && path[end] >= '0' && path[end] <= '9') ++end;
    if (end == prefix.size() || end - prefix.size() > 3) continue;
    if (end != path.size() && !(is_dir && path[end] == '/')) continue;
    return std::pair{std::string(path.substr(0, end)), std::stoi(std::string(path.substr(prefix.size(), end - prefix.size())))};
  }
  return std::nullopt;
}

// "./usr/bin/" -> "usr/bin", as layer tools differ in how they write paths.
std::string clean_path(std::string_view path) {
  while (true) {
    if (path.starts_with("./")) path.remove_prefix(2);
    else if (path.starts_with("/")) path.remove_prefix(1);
    else break;
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  return std::string(path);
}

bool is_under(std::string_view path, std::string_view dir) {
  return dir.empty() || path == dir || (path.starts_with(dir) && path[dir.size()] == '/');
}

// What one layer adds and, with whiteouts, removes from the layers below it.
struct LayerChanges {
  std::map<std::string, int> pythons{};
  std::vector<std::string> removed{};       // ".wh.NAME": NAME and everything under it
  std::vector<std::string> opaque_dirs{};  // ".wh..wh..opq": everything under the folder
};

Result<LayerChanges> python_changes(const fs::path& layer) {
  LayerChanges changes;
  auto read = oci::read_tar(layer, [&](const oci::TarHeaderInfo& entry, oci::ContentReader&) {
    std::string path = clean_path(entry.path);
    std::size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
    std::string_view name = std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
    if (name == ".wh..wh..opq") changes.opaque_dirs.push_back(dir);
    else if (name.starts_with(".wh.")) changes.removed.push_back((dir.empty() ? "" : dir + "/") + std::string(name.substr(4)));
    else if (auto python = python_path(path)) changes.pythons.insert(*python);
    return true;
  });
  if (!read) return std::unexpected(read.error());
  return changes;
}

}  // namespace

Result<std::optional<std::string>> base_python_version(const BaseImage& base, const oci::BlobStore& store) {
  if (base.source == BaseImage::Source::scratch) return std::nullopt;
  for (const std::string& variable : base.config.config.env) {
    if (!variable.starts_with("PYTHON_VERSION=")) continue;
    if (auto version = major_minor(std::string_view(variable).substr(15))) return version;
  }
  std::map<std::string, int> found;  // the python3.N paths of the layers so far
  for (const auto& layer : base.layers) {
    auto path = store.path(layer.digest);
    if (!path) return std::unexpected(path.error());
    if (!store.has(layer.digest)) {
      return fail(Errc::not_found, fmt::format("base layer {} is not in {}", layer.digest, store.root().string()),
                  "fetch the base image's layers first");
    }
    auto changes = python_changes(*path);
    if (!changes) return std::unexpected(changes.error().context(fmt::format("reading base layer {}", layer.digest)));
    std::erase_if(found, [&](const auto& entry) {
      return std::ranges::any_of(changes->removed, [&](const auto& gone) { return is_under(entry.first, gone); }) ||
             std::ranges::any_of(changes->opaque_dirs, [&](const auto& dir) { return is_under(entry.first, dir) && entry.first != dir; });
    });
    found.insert(changes->pythons.begin(), changes->pythons.end());
  }
  if (found.empty()) return std::nullopt;
  int minor = std::ranges::max(found | std::views::values);
  return fmt::format("3.{}", minor);
}

}  // namespace mlctl::build
