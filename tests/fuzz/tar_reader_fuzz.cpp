// Fuzzes the tar reader, oci::read_tar on bytes in memory: plain, gzip or zstd archives with
// GNU long names and PAX records. Entries are read in different ways (in small pieces, all at
// once with a bound, not at all) so that skipping and partial reads are both exercised; the
// content read must never exceed the size the header announced.
#include "fuzz_check.hpp"

#include <mlctl/oci/tar_reader.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

// Bounds what one input may make the target read, so a small compressed input that expands to
// gigabytes costs time only in the reader's skipping, never memory here.
constexpr std::uint64_t k_max_read = 4 << 20;
constexpr std::uint64_t k_max_read_all = 1 << 16;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlctl::oci;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::uint64_t total = 0;
  std::size_t index = 0;
  auto visit = [&](const TarHeaderInfo& info, ContentReader& content) {
    (void)info.path.size();
    switch (index++ % 3) {
      case 0: {
        std::uint64_t read = 0;
        while (total < k_max_read) {
          auto piece = content.read(7919);
          if (!piece || piece->empty()) break;
          read += piece->size();
          total += piece->size();
          FUZZ_CHECK(read <= info.size);
        }
        break;
      }
      case 1:
        if (auto all = content.read_all(k_max_read_all)) FUZZ_CHECK(all->size() <= info.size);
        break;
      default:
        break;  // leave the content for the reader to skip
    }
    return true;
  };
  (void)read_tar(bytes, visit);
  return 0;
}
