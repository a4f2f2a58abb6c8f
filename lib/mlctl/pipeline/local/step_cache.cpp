#include <mlctl/pipeline/local/step_cache.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/core/temp_file.hpp>
#include <mlctl/models/archive.hpp>
#include <mlctl/oci/byte_sink.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_sha256 = "sha256:";

std::string_view hex_of(std::string_view digest) {
  return digest.starts_with(k_sha256) ? digest.substr(k_sha256.size()) : digest;
}

Result<models::ContentDigest> tar_into(const fs::path& source, int fd) {
  oci::FileSink file(fd);
  oci::HashingSink hashing(file);
  if (auto written = models::write_directory_tar(source, hashing); !written) return std::unexpected(written.error());
  return models::ContentDigest{.digest = hashing.digest(), .size = hashing.size()};
}

// The object, if it is there whole.
Result<void> check_object(const fs::path& object, const OutputDigest& output) {
  struct stat info {};
  if (::stat(object.c_str(), &info) != 0) return fail(Errc::not_found, fmt::format("{}: not in the cache", object.string()));
  if (static_cast<std::uint64_t>(info.st_size) != output.size)
    return fail(Errc::failed, fmt::format("{}: {} bytes, expected {}", object.string(), info.st_size, output.size));
  return {};
}

Result<void> restore_output(const fs::path& object, const OutputDigest& output, const fs::path& destination) {
  if (auto checked = check_object(object, output); !checked) return checked;
  if (output.directory) return models::extract_tar(object, destination);
  // A link is one system call where a copy is seven; a cache on another file system is copied.
  if (::link(object.c_str(), destination.c_str()) == 0) return {};
  std::error_code ec;
  fs::copy_file(object, destination, ec);
  if (ec) return fail(Errc::failed, fmt::format("{}: cannot copy: {}", destination.string(), ec.message()));
  return {};
}

}  // namespace

const OutputDigest* CacheEntry::find(std::string_view output) const {
  auto it = std::ranges::find_if(outputs, [&](const OutputDigest& o) { return o.name == output; });
  return it == outputs.end() ? nullptr : &*it;
}

StepCache::~StepCache() {
  if (index_fd_ >= 0) ::close(index_fd_);
}

fs::path StepCache::object_file(std::string_view digest) const { return root_ / "objects" / hex_of(digest); }

namespace {

// An index line's entry; nullopt for a line that is not one (torn by a crash, or edited).
std::optional<CacheEntry> parse_entry(const nlohmann::json& document) {
  if (!document.is_object() || !document["outputs"].is_array() || !document["metrics"].is_object())
    return std::nullopt;
  CacheEntry entry{.metrics = document["metrics"]};
  for (const auto& output : document["outputs"]) {
    if (!output.is_object() || !output["name"].is_string() || !output["digest"].is_string()) return std::nullopt;
    entry.outputs.push_back({.name = output["name"].get<std::string>(),
                             .digest = output["digest"].get<std::string>(),
                             .size = output.value("size", std::uint64_t{0}),
                             .directory = output.value("directory", false)});
  }
  return entry;
}

// Rewritten when superseded lines outnumber the entries (and are many): the index stays within
// twice what it holds.
constexpr std::size_t k_compact_after = 1000;

}  // namespace

void StepCache::load() {
  if (loaded_) return;
  loaded_ = true;
  auto text = core::read_file(index_file());
  if (!text) return;
  std::size_t lines = 0;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto newline = rest.find('\n');
    if (newline == std::string_view::npos) {
      torn_tail_ = true;
      break;
    }
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline + 1);
    ++lines;
    auto document = nlohmann::json::parse(line, nullptr, false);
    if (document.is_object() && document["key"].is_string())
      entries_.insert_or_assign(document["key"].get<std::string>(), std::string(line));
  }
  if (lines - entries_.size() <= std::max(k_compact_after, entries_.size())) return;
  std::string compacted;
  for (const auto& [key, line] : entries_) compacted += line + "\n";
  // A line another run appends meanwhile is lost: a miss, not a wrong hit.
  if (core::write_file_atomic(index_file(), compacted)) torn_tail_ = false;
}

std::optional<CacheEntry> StepCache::lookup(std::string_view key) {
  load();
  auto found = entries_.find(std::string(key));
  if (found == entries_.end()) return std::nullopt;
  return parse_entry(nlohmann::json::parse(found->second, nullptr, false));
}

Result<void> StepCache::append(const std::string& line) {
  fs::path file = index_file();
  if (index_fd_ < 0) {
    std::error_code ec;
    fs::create_directories(root_, ec);
    index_fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (index_fd_ < 0) return fail(Errc::failed, fmt::format("{}: cannot write: {}", file.string(), std::strerror(errno)));
  }
  // One write, so that another run's line never lands inside this one.
  std::string text = (torn_tail_ ? "\n" : "") + line + "\n";
  ssize_t n = 0;
  do n = ::write(index_fd_, text.data(), text.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail(Errc::failed, fmt::format("{}: cannot write: {}", file.string(), std::strerror(errno)));
  // A short write (a full disk) leaves a torn line, which reads as a miss.
  torn_tail_ = static_cast<std::size_t>(n) != text.size();
  return {};
}

// Hashes an output first and stores it only when the store lacks its content: a second read of
// new content costs less than creating and deleting a file for content already stored, which is
// what most outputs of a re-run are.
Result<OutputDigest> StepCache::store_output(const std::string& name, const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    return fail(Errc::not_found, fmt::format("output '{}' was not written to {}", name, path.string()));
  bool directory = S_ISDIR(info.st_mode);
  if (!directory && !S_ISREG(info.st_mode))
    return fail(Errc::invalid, fmt::format("output '{}' ({}) is not a file or a directory", name, path.string()));
  auto content = directory ? models::directory_digest(path) : models::file_digest(path);
  if (!content) return std::unexpected(content.error().context(fmt::format("caching output '{}'", name)));
  OutputDigest output{.name = name, .digest = content->digest, .size = content->size, .directory = directory};
  fs::path object = object_file(output.digest);
  if (check_object(object, output)) return output;
  // A file becomes the object itself: made read-only and linked, neither copied nor a new inode,
  // which is most of what caching a small output costs. (A short object left by a crash, or a
  // cache on another file system, takes the copy below.)
  if (!directory && ::chmod(path.c_str(), 0444) == 0 && ::link(path.c_str(), object.c_str()) == 0) {
    if (check_object(object, output)) return output;
    return fail(Errc::failed, fmt::format("output '{}' changed while it was being cached", name));
  }
  // Read-only, since restored outputs are hard links to it.
  auto temp = core::TempFile::create(object.parent_path(), "put", fs::perms(0444));
  if (!temp) return std::unexpected(temp.error());
  auto copied = directory ? tar_into(path, temp->fd()) : models::copy_file_hashing(path, temp->fd());
  if (!copied) return std::unexpected(copied.error().context(fmt::format("caching output '{}'", name)));
  if (copied->digest != output.digest)
    return fail(Errc::failed, fmt::format("output '{}' changed while it was being cached", name));

  // A short object left by a crash is replaced; the temporary file's own removal then finds nothing.
  if (::rename(temp->path().c_str(), object.c_str()) != 0)
    return fail(Errc::failed, fmt::format("{}: cannot store: {}", object.string(), std::strerror(errno)));
  return output;
}

Result<CacheEntry> StepCache::store(std::string_view key, const OutputPaths& outputs, const nlohmann::json& metrics) {
  CacheEntry entry{.metrics = metrics};
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& [name, path] : outputs) {
    auto stored = store_output(name, path);
    if (!stored) return std::unexpected(stored.error());
    listed.push_back(
        {{"name", name}, {"digest", stored->digest}, {"size", stored->size}, {"directory", stored->directory}});
    entry.outputs.push_back(std::move(*stored));
  }
  // Not again when the index holds this already, as after a run without the cache. A key's
  // latest outcome wins.
  std::string line = nlohmann::json{{"key", key}, {"outputs", listed}, {"metrics", metrics}}.dump();
  load();
  if (auto known = entries_.find(std::string(key)); known != entries_.end() && known->second == line) return entry;
  if (auto appended = append(line); !appended) return std::unexpected(appended.error());
  entries_.insert_or_assign(std::string(key), std::move(line));
  return entry;
}

Result<void> StepCache::restore(const CacheEntry& entry, const OutputPaths& outputs) const {
  for (const auto& [name, path] : outputs) {
    const OutputDigest* output = entry.find(name);
    if (!output) return fail(Errc::not_found, fmt::format("the cache has no output '{}'", name));
    fs::path object = object_file(output->digest);
    auto restored = restore_output(object, *output, path);
    if (!restored) return std::unexpected(restored.error().context(fmt::format("restoring output '{}'", name)));
  }
  return {};
}

std::string step_key(const nlohmann::json& material) {
  return std::string(k_sha256) + core::sha256_hex(material.dump());
}

}  // namespace mlctl::pipeline
