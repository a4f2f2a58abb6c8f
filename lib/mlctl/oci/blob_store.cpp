#include <mlctl/oci/blob_store.hpp>

#include <mlctl/core/digest.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace mlctl::oci {

namespace fs = std::filesystem;

namespace {

// Streams a (possibly many GB) file into `fd` without holding it in memory.
Result<void> copy_into(const fs::path& source, int fd) {
  std::ifstream in(source, std::ios::binary);
  if (!in) return fail(Errc::failed, fmt::format("{}: cannot open: {}", source.string(), std::strerror(errno)));
  std::string buffer(1 << 20, '\0');
  FileSink sink(fd);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (auto written = sink.write({buffer.data(), static_cast<size_t>(in.gcount())}); !written) return written;
  }
  if (in.bad()) return fail(Errc::failed, fmt::format("{}: read error", source.string()));
  return sink.finish();
}

}  // namespace

bool BlobStore::has(std::string_view digest) const {
  auto where = path(digest);
  std::error_code ec;
  return where && fs::is_regular_file(*where, ec);
}

Result<fs::path> BlobStore::path(std::string_view digest) const {
  if (auto valid = core::check_sha256_digest(digest); !valid) return std::unexpected(valid.error());
  return root_ / "blobs" / "sha256" / std::string(digest.substr(7));
}

Result<core::TempFile> BlobStore::create_temp() const { return core::TempFile::create(root_, "blob"); }

Result<fs::path> BlobStore::put(core::TempFile file, std::string_view digest) const {
  auto target = path(digest);
  if (!target) return target;
  if (has(digest)) return target;
  std::error_code ec;
  fs::create_directories(target->parent_path(), ec);
  if (ec) return fail(Errc::failed, fmt::format("{}: cannot create directory: {}", target->parent_path().string(), ec.message()));
  if (auto renamed = file.rename_to(*target); !renamed) return std::unexpected(renamed.error());
  if (auto synced = core::sync_directory(target->parent_path()); !synced) return std::unexpected(synced.error());
  return target;
}

Result<std::string> BlobStore::put(std::string_view content) const {
  std::string digest = core::sha256_digest(content);
  if (has(digest)) return digest;
  auto file = create_temp();
  if (!file) return std::unexpected(file.error());
  FileSink sink(file->fd());
  if (auto written = sink.write(content); !written) return std::unexpected(written.error());
  if (auto flushed = sink.finish(); !flushed) return std::unexpected(flushed.error());
  if (auto stored = put(std::move(*file), digest); !stored) return std::unexpected(stored.error());
  return digest;
}

Result<void> BlobStore::copy_from(const BlobStore& other, std::string_view digest) const {
  if (has(digest)) return {};
  auto source = other.path(digest);
  if (!source) return std::unexpected(source.error());
  if (!other.has(digest)) return fail(Errc::not_found, fmt::format("blob {} is not in {}", digest, other.root().string()));
  auto target = path(digest);
  auto file = create_temp();
  if (!file) return std::unexpected(file.error());
  std::error_code ec;
  fs::create_directories(target->parent_path(), ec);
  // A hard link to a fresh name renamed into place keeps the blob appearing atomically.
  fs::path linked = file->path().string() + "-link";
  if (::link(source->c_str(), linked.c_str()) == 0) {
    if (::rename(linked.c_str(), target->c_str()) != 0) {
      ::unlink(linked.c_str());
      return fail(Errc::failed, fmt::format("{}: cannot create: {}", target->string(), std::strerror(errno)));
    }
    return core::sync_directory(target->parent_path());
  }
  if (auto copied = copy_into(*source, file->fd()); !copied) return copied;
  auto stored = put(std::move(*file), digest);
  if (!stored) return std::unexpected(stored.error());
  return {};
}

}  // namespace mlctl::oci
