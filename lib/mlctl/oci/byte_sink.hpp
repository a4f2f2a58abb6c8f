#pragma once

#include <mlctl/core/digest.hpp>
#include <mlctl/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace mlctl::oci {

// Where streamed bytes go: a file, a hash, a compressor, chained one into the next.
class ByteSink {
public:
  virtual ~ByteSink() = default;
  virtual Result<void> write(std::string_view data) = 0;
  // Ends the stream: flushes what is buffered here and in the sinks downstream.
  virtual Result<void> finish() = 0;
};

// Writes to an open file descriptor (not owned) through a 1 MiB buffer, so that tar headers do
// not cost a system call each.
class FileSink : public ByteSink {
public:
  explicit FileSink(int fd);
  Result<void> write(std::string_view data) override;
  Result<void> finish() override;

private:
  Result<void> flush();

  int fd_;
  std::string buffer_;
};

// Hashes (sha256) and counts the bytes passing through, then hands them on to `next`.
class HashingSink : public ByteSink {
public:
  explicit HashingSink(ByteSink& next) : next_(next) {}
  Result<void> write(std::string_view data) override;
  Result<void> finish() override;

  // "sha256:<hex>" of everything written; only once, after finish().
  std::string digest() { return "sha256:" + hash_.hex(); }
  std::uint64_t size() const { return size_; }

private:
  ByteSink& next_;
  core::Sha256 hash_;
  std::uint64_t size_ = 0;
};

}  // namespace mlctl::oci
