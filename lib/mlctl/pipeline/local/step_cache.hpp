#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::pipeline {

// An output as the cache knows it: the "sha256:<hex>" of a file's bytes, or of a directory's
// deterministic tar (models::write_directory_tar).
struct OutputDigest {
  std::string name{};
  std::string digest{};
  std::uint64_t size = 0;  // of the stored object
  bool directory = false;
};

// What a step made, recorded under its key.
struct CacheEntry {
  std::vector<OutputDigest> outputs{};
  nlohmann::json metrics = nlohmann::json::object();

  const OutputDigest* find(std::string_view output) const;
};

// Output name -> path, as Invocation::outputs.
using OutputPaths = std::vector<std::pair<std::string, std::string>>;

// The step cache under <state>/cache: outputs stored by content in objects/<hex> (a directory as
// its tar), and what each step key made in one index, steps.jsonl: a line per stored entry
// ({"key", "outputs", "metrics"}), appended by one write(2) each (O_APPEND, so that concurrent
// runs never interleave their lines), the last line of a key winning. A file per key cost a new
// inode per step, the largest part of what the runner spends on a small step. The index is read
// once, at the first lookup or store. Nothing here is fsynced, so that a run of many small steps
// does not wait on the disk: the cache can always be made again, a torn line reads as a miss,
// and restore() checks each object's size, which a crash can cut short. An index mostly made of
// superseded lines is rewritten (to a temporary file renamed over it) when it is read.
// Objects are read-only; a file output is stored by making it read-only and linking it in, and
// restored as a hard link to its object (copies when the cache is on another file system), as
// DVC's hardlink cache does: storing or restoring a thousand steps costs a thousand links, not a
// thousand copies. A step that writes into an output it reads, which
// it must not, would change the object; the size check catches what appends to it.
class StepCache {
public:
  explicit StepCache(std::filesystem::path root) : root_(std::move(root)) {}
  ~StepCache();
  StepCache(const StepCache&) = delete;
  StepCache& operator=(const StepCache&) = delete;

  // The entry stored under `key` ("sha256:<hex>"), if there is a readable one.
  std::optional<CacheEntry> lookup(std::string_view key);
  // Copies the outputs into the store and records them, with `metrics`, under `key`; returns
  // the entry. An output that does not exist fails with Errc::not_found naming it.
  Result<CacheEntry> store(std::string_view key, const OutputPaths& outputs, const nlohmann::json& metrics);
  // Copies an entry's outputs to `outputs` (which must not exist yet). Fails when the entry
  // lacks one of them or an object is missing or cut short.
  Result<void> restore(const CacheEntry& entry, const OutputPaths& outputs) const;

  // The index file.
  std::filesystem::path index_file() const { return root_ / "steps.jsonl"; }

private:
  std::filesystem::path object_file(std::string_view digest) const;
  Result<OutputDigest> store_output(const std::string& name, const std::filesystem::path& path);
  // Reads the index into entries_ once (compacting it when most of it is superseded).
  void load();
  Result<void> append(const std::string& line);

  std::filesystem::path root_;
  bool loaded_ = false;
  std::unordered_map<std::string, std::string> entries_;  // key -> its line, without the newline
  bool torn_tail_ = false;  // the index does not end with a newline: the next line starts one
  int index_fd_ = -1;       // open for appending after the first store
};

// The key of a step: "sha256:<hex>" of the canonical JSON of everything its outcome depends on.
std::string step_key(const nlohmann::json& material);

}  // namespace mlctl::pipeline
