#include <mlctl/oci/byte_sink.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mlctl::oci {

namespace {

constexpr size_t k_file_buffer = 1 << 20;

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::failed, std::string("cannot write: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

FileSink::FileSink(int fd) : fd_(fd) { buffer_.reserve(k_file_buffer); }

Result<void> FileSink::write(std::string_view data) {
  if (buffer_.size() + data.size() > k_file_buffer) {
    if (auto flushed = flush(); !flushed) return flushed;
  }
  if (data.size() >= k_file_buffer) return write_all(fd_, data);
  buffer_.append(data);
  return {};
}

Result<void> FileSink::flush() {
  auto written = write_all(fd_, buffer_);
  buffer_.clear();
  return written;
}

Result<void> FileSink::finish() { return flush(); }

Result<void> HashingSink::write(std::string_view data) {
  hash_.update(data);
  size_ += data.size();
  return next_.write(data);
}

Result<void> HashingSink::finish() { return next_.finish(); }

}  // namespace mlctl::oci
