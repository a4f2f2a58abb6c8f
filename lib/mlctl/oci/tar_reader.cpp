#include <mlctl/oci/tar_reader.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <optional>

#include <fmt/format.h>

namespace mlctl::oci {

namespace {

using Block = std::array<char, 512>;

constexpr std::size_t k_chunk = 64 * 1024;
// Long names and PAX records larger than this are refused (Go's archive/tar has the same bound).
constexpr std::uint64_t k_max_extended_header = 1 << 20;
// zstd frames asking for a larger window than 128 MiB are refused rather than allocated.
constexpr int k_zstd_window_log_max = 27;

// A stream of bytes; read() gives 0 only at the end.
class Source {
public:
  virtual ~Source() = default;
  virtual Result<std::size_t> read(char* out, std::size_t size) = 0;

  // Drops up to `size` bytes; how many there were.
  virtual Result<std::uint64_t> skip(std::uint64_t size) {
    if (scratch_.empty()) scratch_.resize(k_chunk);
    std::uint64_t done = 0;
    while (done < size) {
      auto got = read(scratch_.data(), static_cast<std::size_t>(std::min<std::uint64_t>(size - done, k_chunk)));
      if (!got) return std::unexpected(got.error());
      if (*got == 0) break;
      done += *got;
    }
    return done;
  }

private:
  std::string scratch_;
};

// Reads until `size` bytes or the end; how many there were.
Result<std::size_t> read_up_to(Source& source, char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    auto got = source.read(out + done, size - done);
    if (!got) return got;
    if (*got == 0) break;
    done += *got;
  }
  return done;
}

class MemorySource final : public Source {
public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  Result<std::size_t> read(char* out, std::size_t size) override {
    std::size_t n = std::min(size, bytes_.size());
    if (n == 0) return n;  // an empty view may have no data pointer, which memcpy must not get
    std::memcpy(out, bytes_.data(), n);
    bytes_.remove_prefix(n);
    return n;
  }
  Result<std::uint64_t> skip(std::uint64_t size) override {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, bytes_.size()));
    bytes_.remove_prefix(n);
    return n;
  }

private:
  std::string_view bytes_;
};

class FileSource final : public Source {
public:
  explicit FileSource(int fd) : fd_(fd) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<std::size_t> read(char* out, std::size_t size) override {
    while (true) {
      ssize_t n = ::read(fd_, out, size);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return fail(Errc::failed, std::string("cannot read: ") + std::strerror(errno));
    }
  }
  // A plain tar on disk skips the content of entries nobody looks at without reading it.
  Result<std::uint64_t> skip(std::uint64_t size) override {
    struct stat info {};
    off_t here = ::lseek(fd_, 0, SEEK_CUR);
    if (here < 0 || ::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) return Source::skip(size);
    std::uint64_t left = info.st_size > here ? static_cast<std::uint64_t>(info.st_size - here) : 0;
    std::uint64_t n = std::min(size, left);
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return fail(Errc::failed, std::strerror(errno));
    return n;
  }

private:
  int fd_;
};

// Gives back the bytes looked at to tell the compression, then the rest of `inner`.
class PrefixSource final : public Source {
public:
  PrefixSource(Source& inner, std::string prefix) : inner_(inner), prefix_(std::move(prefix)) {}
  Result<std::size_t> read(char* out, std::size_t size) override {
    if (used_ == prefix_.size()) return inner_.read(out, size);
    std::size_t n = std::min(size, prefix_.size() - used_);
    std::memcpy(out, prefix_.data() + used_, n);
    used_ += n;
    return n;
  }
  Result<std::uint64_t> skip(std::uint64_t size) override {
    std::uint64_t n = std::min<std::uint64_t>(size, prefix_.size() - used_);
    used_ += static_cast<std::size_t>(n);
    if (n == size) return n;
    auto rest = inner_.skip(size - n);
    if (!rest) return rest;
    return n + *rest;
  }

private:
  Source& inner_;
  std::string prefix_;
  std::size_t used_ = 0;
};

// Inflates gzip members one after another (pigz and `cat a.gz b.gz` write several).
class GzipSource final : public Source {
public:
  explicit GzipSource(Source& in) : in_(in), buffer_(k_chunk, '\0') {
    started_ = inflateInit2(&stream_, 15 + 16) == Z_OK;  // 15 + 16: a gzip wrapper only
  }
  ~GzipSource() override { inflateEnd(&stream_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Result<std::size_t> read(char* out, std::size_t size) override {
    if (!started_) return fail(Errc::failed, "gzip: cannot start the decompressor");
    if (size == 0) return 0;
    size = std::min<std::size_t>(size, std::numeric_limits<uInt>::max());
    stream_.next_out = reinterpret_cast<Bytef*>(out);
    stream_.avail_out = static_cast<uInt>(size);
    while (stream_.avail_out == size) {
      if (stream_.avail_in == 0) {
        auto refilled = refill();
        if (!refilled) return std::unexpected(refilled.error());
      }
      if (member_done_) {
        if (stream_.avail_in == 0) return 0;
        inflateReset(&stream_);
        member_done_ = false;
      }
      if (stream_.avail_in == 0) return fail(Errc::invalid, "the gzip stream is truncated");
      int status = inflate(&stream_, Z_NO_FLUSH);
      if (status == Z_STREAM_END) member_done_ = true;
      else if (status == Z_MEM_ERROR) return fail(Errc::failed, "gzip: out of memory");
      else if (status != Z_OK && !(status == Z_BUF_ERROR && stream_.avail_in == 0)) {
        return fail(Errc::invalid, fmt::format("gzip: {}", stream_.msg ? stream_.msg : "corrupt data"));
      }
    }
    return size - stream_.avail_out;
  }

private:
  Result<void> refill() {
    auto got = in_.read(buffer_.data(), buffer_.size());
    if (!got) return std::unexpected(got.error());
    stream_.next_in = reinterpret_cast<Bytef*>(buffer_.data());
    stream_.avail_in = static_cast<uInt>(*got);
    return {};
  }

  Source& in_;
  std::string buffer_;
  z_stream stream_{};
  bool started_ = false;
  bool member_done_ = false;
};

// Decompresses zstd frames one after another.
class ZstdSource final : public Source {
public:
  explicit ZstdSource(Source& in) : in_(in), context_(ZSTD_createDCtx()), buffer_(k_chunk, '\0') {
    started_ = context_ && !ZSTD_isError(ZSTD_DCtx_setParameter(context_, ZSTD_d_windowLogMax, k_zstd_window_log_max));
  }
  ~ZstdSource() override { ZSTD_freeDCtx(context_); }
  ZstdSource(const ZstdSource&) = delete;
  ZstdSource& operator=(const ZstdSource&) = delete;

  Result<std::size_t> read(char* out, std::size_t size) override {
    if (!started_) return fail(Errc::failed, "zstd: cannot start the decompressor");
    ZSTD_outBuffer output{out, size, 0};
    while (output.pos == 0 && size > 0) {
      if (input_.pos == input_.size) {
        auto got = in_.read(buffer_.data(), buffer_.size());
        if (!got) return std::unexpected(got.error());
        input_ = {buffer_.data(), *got, 0};
      }
      bool no_input = input_.pos == input_.size;
      if (no_input && frame_done_) return 0;
      std::size_t hint = ZSTD_decompressStream(context_, &output, &input_);
      if (ZSTD_isError(hint)) return fail(Errc::invalid, fmt::format("zstd: {}", ZSTD_getErrorName(hint)));
      frame_done_ = hint == 0;
      if (output.pos == 0 && no_input) {
        if (frame_done_) return 0;
        return fail(Errc::invalid, "the zstd stream is truncated");
      }
    }
    return output.pos;
  }

private:
  Source& in_;
  ZSTD_DCtx* context_;
  std::string buffer_;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  bool started_ = false;
  bool frame_done_ = false;
};

std::string_view field(const Block& block, std::size_t offset, std::size_t width) {
  return {block.data() + offset, width};
}

// A NUL-terminated string field (not terminated when it fills the field).
std::string text_field(std::string_view field) { return std::string(field.substr(0, field.find('\0'))); }

// A numeric header field: octal digits (after optional spaces) ended by a space or NUL, or GNU's
// base-256 (two's complement after a marker bit) when the first byte has its high bit set.
std::optional<std::int64_t> number_field(std::string_view field) {
  auto first = static_cast<unsigned char>(field.empty() ? 0 : field[0]);
  if (first & 0x80) {
    unsigned char invert = (first & 0x40) ? 0xff : 0x00;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < field.size(); ++i) {
      auto byte = static_cast<unsigned char>(static_cast<unsigned char>(field[i]) ^ invert);
      if (i == 0) byte &= 0x7f;
      if (value >> 56) return std::nullopt;
      value = (value << 8) | byte;
    }
    if (value >> 63) return std::nullopt;
    auto magnitude = static_cast<std::int64_t>(value);
    return invert ? ~magnitude : magnitude;
  }
  std::size_t i = 0;
  while (i < field.size() && field[i] == ' ') ++i;
  std::int64_t value = 0;
  for (; i < field.size() && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value > (std::numeric_limits<std::int64_t>::max() >> 3)) return std::nullopt;
    value = value * 8 + (field[i] - '0');
  }
  for (; i < field.size(); ++i) {
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  }
  return value;
}

// A decimal from a PAX record; mtime may have a fraction, which is dropped.
std::optional<std::int64_t> pax_number(std::string_view text, bool fraction_allowed) {
  bool negative = fraction_allowed && text.starts_with('-');
  if (negative) text.remove_prefix(1);
  if (fraction_allowed) text = text.substr(0, text.find('.'));
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

bool is_zero(const Block& block) {
  return std::ranges::all_of(block, [](char c) { return c == '\0'; });
}

bool checksum_ok(const Block& block) {
  auto stored = number_field(field(block, 148, 8));
  if (!stored) return false;
  std::int64_t unsigned_sum = 0;
  std::int64_t signed_sum = 0;
  for (std::size_t i = 0; i < block.size(); ++i) {
    bool in_field = i >= 148 && i < 156;
    unsigned_sum += in_field ? ' ' : static_cast<unsigned char>(block[i]);
    signed_sum += in_field ? ' ' : static_cast<signed char>(block[i]);
  }
  return *stored == unsigned_sum || *stored == signed_sum;  // some old tars summed signed chars
}

// Types with no content whatever the size field says (as GNU tar and Go's archive/tar read them).
bool header_only(char type) { return type >= '1' && type <= '6'; }

using PaxRecords = std::map<std::string, std::string>;

class EntryReader final : public ContentReader {
public:
  EntryReader(Source& in, std::uint64_t& offset, std::uint64_t size) : in_(in), offset_(offset), remaining_(size) {}

  Result<std::string_view> read(std::size_t max) override {
    if (error_) return std::unexpected(*error_);
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>({max, k_chunk, remaining_}));
    if (n == 0) return std::string_view{};
    if (buffer_.empty()) buffer_.resize(k_chunk);
    auto got = read_up_to(in_, buffer_.data(), n);
    if (!got) {
      error_ = got.error();
    } else if (*got < n) {
      error_ = Error(Errc::invalid, fmt::format("the archive ends at offset {}, inside its content", offset_ + *got));
    }
    if (error_) return std::unexpected(*error_);
    remaining_ -= n;
    offset_ += n;
    return std::string_view(buffer_.data(), n);
  }
  std::uint64_t remaining() const override { return remaining_; }
  const std::optional<Error>& error() const { return error_; }

private:
  Source& in_;
  std::uint64_t& offset_;
  std::uint64_t remaining_;
  std::string buffer_;
  std::optional<Error> error_;
};

class TarParser {
public:
  TarParser(Source& in, const TarVisitor& visit) : in_(in), visit_(visit) {}

  Result<void> run() {
    while (true) {
      std::uint64_t at = offset_;
      Block block{};
      auto more = read_block(block);
      if (!more) return std::unexpected(more.error());
      if (!*more) return end_without_trailer(at);
      if (is_zero(block)) return end_of_archive();
      if (!checksum_ok(block)) {
        return fail(Errc::invalid, fmt::format("tar header at offset {}: bad checksum (not a tar archive?)", at));
      }
      auto header = parse_header(block, at);
      if (!header) return std::unexpected(header.error());
      auto step = handle(*header, at);
      if (!step) return std::unexpected(step.error());
      if (!*step) return {};
    }
  }

private:
  // False at the end of the input before the block starts.
  Result<bool> read_block(Block& block) {
    auto got = read_up_to(in_, block.data(), block.size());
    if (!got) return std::unexpected(got.error().context(fmt::format("reading the tar at offset {}", offset_)));
    if (*got == 0) return false;
    if (*got < block.size()) {
      return fail(Errc::invalid, fmt::format("the archive ends at offset {}, inside a header", offset_ + *got));
    }
    offset_ += block.size();
    return true;
  }

  Result<void> end_without_trailer(std::uint64_t at) {
    if (long_path_ || long_link_ || !pax_.empty()) {
      return fail(Errc::invalid, fmt::format("the archive ends at offset {} after an extended header", at));
    }
    return {};
  }

  // One zero block, then a second one or the end of the input; anything else is damage.
  Result<void> end_of_archive() {
    Block block{};
    std::uint64_t at = offset_;
    auto more = read_block(block);
    if (!more) return std::unexpected(more.error());
    if (*more && !is_zero(block)) {
      return fail(Errc::invalid, fmt::format("tar header at offset {}: a header after an end-of-archive block", at));
    }
    return {};
  }

  Result<TarHeaderInfo> parse_header(const Block& block, std::uint64_t at) {
    TarHeaderInfo info;
    info.path = text_field(field(block, 0, 100));
    std::string_view magic = field(block, 257, 8);
    // POSIX ustar ("ustar\0" "00") splits long names into prefix and name; GNU's "ustar  " does not.
    if (magic.substr(0, 6) == std::string_view("ustar\0", 6)) {
      std::string prefix = text_field(field(block, 345, 155));
      if (!prefix.empty()) info.path = prefix + "/" + info.path;
    }
    info.type = block[156] == '\0' || block[156] == '7' ? '0' : block[156];
    info.link_target = text_field(field(block, 157, 100));
    auto mode = number_field(field(block, 100, 8));
    auto uid = number_field(field(block, 108, 8));
    auto gid = number_field(field(block, 116, 8));
    auto size = number_field(field(block, 124, 12));
    auto mtime = number_field(field(block, 136, 12));
    auto bad = [&](std::string_view what) {
      return fail(Errc::invalid, fmt::format("tar header at offset {} ('{}'): bad {} field", at, info.path, what));
    };
    if (!mode || *mode < 0) return bad("mode");
    if (!uid || *uid < 0 || *uid > std::numeric_limits<unsigned>::max()) return bad("uid");
    if (!gid || *gid < 0 || *gid > std::numeric_limits<unsigned>::max()) return bad("gid");
    if (!size || *size < 0) return bad("size");
    if (!mtime) return bad("mtime");
    info.mode = static_cast<unsigned>(*mode & 07777);
    info.uid = static_cast<unsigned>(*uid);
    info.gid = static_cast<unsigned>(*gid);
    info.size = static_cast<std::uint64_t>(*size);
    info.mtime = *mtime;
    return info;
  }

  // False when the visitor asked to stop.
  Result<bool> handle(TarHeaderInfo& header, std::uint64_t at) {
    switch (header.type) {
      case 'L':
      case 'K': {
        auto name = read_extended(header, at);
        if (!name) return std::unexpected(name.error());
        (header.type == 'L' ? long_path_ : long_link_) = text_field(*name);
        return true;
      }
      case 'x':
      case 'g': {
        auto records = read_extended(header, at);
        if (!records) return std::unexpected(records.error());
        auto parsed = parse_pax(*records, header.type == 'x' ? pax_ : global_, at);
        if (!parsed) return std::unexpected(parsed.error());
        return true;
      }
      default: return visit_entry(header, at);
    }
  }

  Result<std::string> read_extended(const TarHeaderInfo& header, std::uint64_t at) {
    if (header.size > k_max_extended_header) {
      return fail(Errc::invalid, fmt::format("tar header at offset {}: an extended header of {} bytes (at most {})",
                                             at, header.size, k_max_extended_header));
    }
    std::string content(static_cast<std::size_t>(header.size), '\0');
    auto got = read_up_to(in_, content.data(), content.size());
    if (!got) return std::unexpected(got.error());
    offset_ += *got;
    if (*got < content.size()) {
      return fail(Errc::invalid, fmt::format("the archive ends at offset {}, inside an extended header", offset_));
    }
    if (auto skipped = skip_padding(header.size); !skipped) return std::unexpected(skipped.error());
    return content;
  }

  // "<length> <key>=<value>\n" records; an empty value removes the key.
  Result<void> parse_pax(std::string_view records, PaxRecords& into, std::uint64_t at) {
    auto bad = [&] { return fail(Errc::invalid, fmt::format("tar header at offset {}: malformed PAX record", at)); };
    while (!records.empty()) {
      std::size_t space = records.find(' ');
      if (space == std::string_view::npos || space == 0 || space > 7) return bad();
      std::size_t length = 0;
      for (char c : records.substr(0, space)) {
        if (c < '0' || c > '9') return bad();
        length = length * 10 + static_cast<std::size_t>(c - '0');
      }
      if (length < space + 3 || length > records.size() || records[length - 1] != '\n') return bad();
      std::string_view body = records.substr(space + 1, length - space - 2);
      std::size_t equals = body.find('=');
      if (equals == std::string_view::npos || equals == 0) return bad();
      std::string key(body.substr(0, equals));
      std::string_view value = body.substr(equals + 1);
      if (value.find('\0') != std::string_view::npos) return bad();
      if (value.empty()) into[key].clear();
      else into[key] = std::string(value);
      records.remove_prefix(length);
    }
    return {};
  }

  // The GNU long names, then the global and the entry's PAX records, override the header.
  Result<void> apply_extended(TarHeaderInfo& header, std::uint64_t at) {
    if (long_path_) header.path = *long_path_;
    if (long_link_) header.link_target = *long_link_;
    PaxRecords records = global_;
    for (const auto& [key, value] : pax_) records[key] = value;
    for (const auto& [key, value] : records) {
      if (value.empty()) continue;
      if (key == "path") header.path = value;
      else if (key == "linkpath") header.link_target = value;
      else if (key == "size" || key == "uid" || key == "gid" || key == "mtime") {
        auto number = pax_number(value, key == "mtime");
        bool fits = number && (key == "mtime" || key == "size" || *number <= std::numeric_limits<unsigned>::max());
        if (!fits) return fail(Errc::invalid, fmt::format("tar header at offset {}: bad PAX {} '{}'", at, key, value));
        if (key == "size") header.size = static_cast<std::uint64_t>(*number);
        else if (key == "uid") header.uid = static_cast<unsigned>(*number);
        else if (key == "gid") header.gid = static_cast<unsigned>(*number);
        else header.mtime = *number;
      }
    }
    long_path_.reset();
    long_link_.reset();
    pax_.clear();
    return {};
  }

  Result<bool> visit_entry(TarHeaderInfo& header, std::uint64_t at) {
    if (auto applied = apply_extended(header, at); !applied) return std::unexpected(applied.error());
    if (header_only(header.type)) header.size = 0;
    auto where = [&] { return fmt::format("tar entry '{}' at offset {}", header.path, at); };
    EntryReader content(in_, offset_, header.size);
    bool go_on = visit_(header, content);
    if (content.error()) return std::unexpected(Error(*content.error()).context(where()));
    if (!go_on) return false;
    std::uint64_t left = content.remaining();
    auto skipped = in_.skip(left);
    if (!skipped) return std::unexpected(skipped.error().context(where()));
    offset_ += *skipped;
    if (*skipped < left) {
      return std::unexpected(
          Error(Errc::invalid, fmt::format("the archive ends at offset {}, inside its content", offset_)).context(where()));
    }
    if (auto padded = skip_padding(header.size); !padded) return std::unexpected(padded.error());
    return true;
  }

  Result<void> skip_padding(std::uint64_t size) {
    std::uint64_t padding = (512 - size % 512) % 512;
    auto skipped = in_.skip(padding);
    if (!skipped) return std::unexpected(skipped.error());
    offset_ += *skipped;
    if (*skipped < padding) return fail(Errc::invalid, fmt::format("the archive ends at offset {}, in padding", offset_));
    return {};
  }

  Source& in_;
  const TarVisitor& visit_;
  std::uint64_t offset_ = 0;
  std::optional<std::string> long_path_;
  std::optional<std::string> long_link_;
  PaxRecords pax_;
  PaxRecords global_;
};

// Tells the compression from the first bytes, then parses the tar inside.
Result<void> read_archive(Source& raw, const TarVisitor& visit) {
  std::string magic(6, '\0');
  auto got = read_up_to(raw, magic.data(), magic.size());
  if (!got) return std::unexpected(got.error());
  magic.resize(*got);
  bool gzip = magic.starts_with("\x1f\x8b");
  bool zstd = magic.starts_with("\x28\xb5\x2f\xfd");
  if (magic.starts_with(std::string_view("\xfd" "7zXZ\0", 6))) return fail(Errc::invalid, "xz-compressed layers are not supported");
  if (magic.starts_with("BZh")) return fail(Errc::invalid, "bzip2-compressed layers are not supported");
  PrefixSource input(raw, std::move(magic));
  if (gzip) {
    GzipSource inflated(input);
    return TarParser(inflated, visit).run();
  }
  if (zstd) {
    ZstdSource decompressed(input);
    return TarParser(decompressed, visit).run();
  }
  return TarParser(input, visit).run();
}

}  // namespace

Result<std::string> ContentReader::read_all(std::uint64_t max_bytes) {
  if (remaining() > max_bytes) {
    return fail(Errc::invalid, fmt::format("the content is {} bytes, more than the {} allowed", remaining(), max_bytes));
  }
  std::string out;
  while (true) {
    auto chunk = read(k_chunk);
    if (!chunk) return std::unexpected(chunk.error());
    if (chunk->empty()) return out;
    out.append(*chunk);
  }
}

Result<void> read_tar(const std::filesystem::path& file, const TarVisitor& visit) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Errc code = errno == ENOENT ? Errc::not_found : Errc::failed;
    return fail(code, fmt::format("{}: {}", file.string(), std::strerror(errno)));
  }
  FileSource source(fd);
  return with_context(read_archive(source, visit), file.string());
}

Result<void> read_tar(std::string_view bytes, const TarVisitor& visit) {
  MemorySource source(bytes);
  return read_archive(source, visit);
}

}  // namespace mlctl::oci
