#include <mlctl/models/s3_store.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/temp_file.hpp>
#include <mlctl/models/archive.hpp>
#include <mlctl/oci/remote/redact.hpp>

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace mlctl::models {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_scheme = "s3://";
constexpr std::size_t k_max_error_body = 64 * 1024;

std::string env_or(const char* name, std::string fallback = {}) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

bool valid_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return bucket.front() != '.' && bucket.front() != '-' && bucket.back() != '.' && bucket.back() != '-';
}

bool valid_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
         c == '_' || c == '-' || c == '~';
}

// "<Code>NoSuchKey</Code>" and the message of an S3 XML error body, as "NoSuchKey: message".
std::string describe_s3_error(long status, std::string_view body) {
  auto element = [&](std::string_view name) -> std::string {
    std::string open = fmt::format("<{}>", name), close = fmt::format("</{}>", name);
    size_t start = body.find(open);
    if (start == std::string_view::npos) return {};
    start += open.size();
    size_t end = body.find(close, start);
    return end == std::string_view::npos ? std::string() : std::string(body.substr(start, end - start));
  };
  std::string code = element("Code"), message = element("Message");
  if (code.empty()) return fmt::format("HTTP {}", status);
  return message.empty() ? fmt::format("HTTP {} {}", status, code) : fmt::format("HTTP {} {}: {}", status, code, message);
}

struct Transfer {
  std::string method{};
  std::string url{};
  std::string payload_hash{};  // hex sha256 of the body, or of nothing
  const fs::path* upload = nullptr;
  std::uint64_t upload_size = 0;
  int download_fd = -1;  // where a 2xx body goes
};

struct Outcome {
  long status = 0;
  std::string error_body{};
  std::optional<std::uint64_t> content_length{};
  std::string sent_digest{};      // "sha256:<hex>" of the bytes uploaded
  std::string received_digest{};  // "sha256:<hex>" of the bytes downloaded
  std::uint64_t received = 0;
};

struct CallbackState {
  CURL* curl = nullptr;
  std::FILE* upload = nullptr;
  core::Sha256 sent_hash{};
  core::Sha256 received_hash{};
  int download_fd = -1;
  Outcome* outcome = nullptr;
  bool write_failed = false;
};

size_t read_body(char* buffer, size_t size, size_t count, void* user) {
  auto* state = static_cast<CallbackState*>(user);
  size_t n = std::fread(buffer, 1, size * count, state->upload);
  if (n == 0 && std::ferror(state->upload)) return CURL_READFUNC_ABORT;
  state->sent_hash.update(buffer, n);
  return n;
}

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<CallbackState*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300 && state->download_fd >= 0) {
    for (size_t done = 0; done < n;) {
      ssize_t w = ::write(state->download_fd, data + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        state->write_failed = true;
        return 0;
      }
      done += static_cast<size_t>(w);
    }
    state->received_hash.update(data, n);
    state->outcome->received += n;
  } else if (state->outcome->error_body.size() < k_max_error_body) {
    state->outcome->error_body.append(data, std::min(n, k_max_error_body - state->outcome->error_body.size()));
  }
  return n;
}

class S3Store final : public ArtifactStore {
public:
  S3Store(S3Location location, S3Config config) : location_(std::move(location)), config_(std::move(config)) {
    redactor_.add(config_.secret_access_key);
    redactor_.add(config_.session_token);
  }

private:
  std::string object_url(std::string_view bucket, std::string_view key) const {
    if (config_.endpoint.empty()) return fmt::format("https://{}.s3.{}.amazonaws.com/{}", bucket, config_.region, key);
    std::string endpoint = config_.endpoint;
    while (endpoint.ends_with('/')) endpoint.pop_back();
    return fmt::format("{}/{}/{}", endpoint, bucket, key);
  }

  Result<Outcome> perform(const Transfer& transfer) const;

  Result<StoredArtifact> store(const fs::path& source, core::Reporter& reporter) override {
    struct stat info {};
    if (::stat(source.c_str(), &info) != 0) return fail(Errc::not_found, "no such file or directory");
    bool directory = S_ISDIR(info.st_mode);
    if (!directory && !S_ISREG(info.st_mode)) return fail(Errc::invalid, "not a regular file or directory");
    // A directory is sent as its tar, made once in a temporary file.
    std::optional<core::TempFile> tar;
    fs::path body = source;
    Result<ContentDigest> content;
    if (directory) {
      auto temp = core::TempFile::create(fs::temp_directory_path(), "mlctl-artifact");
      if (!temp) return std::unexpected(temp.error());
      tar.emplace(std::move(*temp));
      oci::FileSink file(tar->fd());
      oci::HashingSink hashing(file);
      if (auto written = write_directory_tar(source, hashing); !written) return std::unexpected(written.error());
      content = ContentDigest{.digest = hashing.digest(), .size = hashing.size()};
      body = tar->path();
    } else {
      content = file_digest(source);
    }
    if (!content) return std::unexpected(content.error());
    std::string hex = content->digest.substr(7);
    std::string key = s3_object_key(location_, hex);
    StoredArtifact artifact{.uri = fmt::format("{}{}/{}", k_scheme, location_.bucket, key), .digest = content->digest,
                            .size = content->size, .directory = directory};
    std::string url = object_url(location_.bucket, key);
    auto head = perform({.method = "HEAD", .url = url, .payload_hash = core::sha256_hex("")});
    if (!head) return std::unexpected(head.error());
    if (head->status == 200 && head->content_length == content->size) {
      reporter.debug(fmt::format("{} is already stored", artifact.uri));
      return artifact;
    }
    if (head->status != 200 && head->status != 404) {
      return fail(Errc::remote, fmt::format("HEAD {}: {}", artifact.uri, describe_s3_error(head->status, head->error_body)));
    }
    reporter.begin(artifact.uri, fmt::format("uploading {}", artifact.uri), content->size);
    auto put = perform({.method = "PUT", .url = url, .payload_hash = hex, .upload = &body, .upload_size = content->size});
    reporter.end(artifact.uri);
    if (!put) return std::unexpected(put.error());
    if (put->status != 200) {
      return fail(Errc::remote, fmt::format("PUT {}: {}", artifact.uri, describe_s3_error(put->status, put->error_body)));
    }
    // A server that does not check x-amz-content-sha256 would keep a file changed since it was
    // hashed; what was really sent is checked here, and the object removed if it differs.
    if (put->sent_digest != content->digest) {
      (void)perform({.method = "DELETE", .url = url, .payload_hash = core::sha256_hex("")});
      return fail(Errc::failed, "the file changed while it was uploaded", "register it again once it no longer changes");
    }
    reporter.step(fmt::format("uploaded {} ({} bytes)", artifact.uri, content->size));
    return artifact;
  }

  Result<void> fetch(const StoredArtifact& artifact, const fs::path& destination, core::Reporter& reporter) override {
    auto where = parse_s3_location(artifact.uri);
    if (!where) return std::unexpected(where.error());
    struct stat info {};
    if (::lstat(destination.c_str(), &info) == 0) {
      return fail(Errc::precondition, fmt::format("{}: already exists", destination.string()),
                  "choose a destination that does not exist, or remove it first");
    }
    fs::path parent = destination.parent_path().empty() ? fs::path(".") : destination.parent_path();
    auto temp = core::TempFile::create(parent, destination.filename().string());
    if (!temp) return std::unexpected(temp.error());
    reporter.begin(artifact.uri, fmt::format("downloading {}", artifact.uri), artifact.size);
    auto got = perform({.method = "GET", .url = object_url(where->bucket, where->prefix),
                        .payload_hash = core::sha256_hex(""), .download_fd = temp->fd()});
    reporter.end(artifact.uri);
    if (!got) return std::unexpected(got.error());
    if (got->status == 404) return fail(Errc::not_found, fmt::format("GET: {}", describe_s3_error(got->status, got->error_body)));
    if (got->status != 200) return fail(Errc::remote, fmt::format("GET: {}", describe_s3_error(got->status, got->error_body)));
    if (auto checked = check_digest(artifact.uri, artifact.digest, got->received_digest); !checked) return checked;
    if (auto closed = temp->sync_and_close(); !closed) return closed;
    if (artifact.directory) {
      if (auto extracted = extract_tar(temp->path(), destination); !extracted) return extracted;
    } else if (auto renamed = rename_no_replace(temp->path(), destination); !renamed) {
      return renamed;
    }
    reporter.step(fmt::format("downloaded and verified {}", artifact.digest));
    return {};
  }

  S3Location location_;
  S3Config config_;
  oci::remote::Redactor redactor_;
};

Result<Outcome> S3Store::perform(const Transfer& transfer) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return fail(Errc::failed, "cannot start libcurl");
  Outcome outcome;
  CallbackState state{.curl = curl, .download_fd = transfer.download_fd, .outcome = &outcome};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, fmt::format("x-amz-content-sha256: {}", transfer.payload_hash).c_str());
  if (!config_.session_token.empty()) {
    headers = curl_slist_append(headers, fmt::format("x-amz-security-token: {}", config_.session_token).c_str());
  }
  // No "Expect:" override here: libcurl signs every header in this list, an empty one included,
  // but does not send an empty one, so S3 would compute another signature (SignatureDoesNotMatch).
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, transfer.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(config_.low_speed_time.count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "mlctl");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!config_.access_key_id.empty()) {
    std::string provider = fmt::format("aws:amz:{}:s3", config_.region);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, provider.c_str());
    curl_easy_setopt(curl, CURLOPT_USERNAME, config_.access_key_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.secret_access_key.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  if (transfer.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (transfer.method == "PUT") {
    state.upload = std::fopen(transfer.upload->c_str(), "rb");
    if (state.upload == nullptr) {
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);
      return fail(Errc::failed, fmt::format("{}: cannot open: {}", transfer.upload->string(), std::strerror(errno)));
    }
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &state);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(transfer.upload_size));
  } else if (transfer.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, transfer.method.c_str());
  }
  CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &outcome.status);
  curl_off_t length = -1;
  if (curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length >= 0) {
    outcome.content_length = static_cast<std::uint64_t>(length);
  }
  if (state.upload != nullptr) std::fclose(state.upload);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (state.write_failed) return fail(Errc::failed, fmt::format("cannot write the download: {}", std::strerror(errno)));
  if (code != CURLE_OK) {
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return fail(Errc::remote, redactor_.apply(fmt::format("{} {}: {}", transfer.method, transfer.url, detail)));
  }
  outcome.error_body = redactor_.apply(outcome.error_body);
  outcome.sent_digest = "sha256:" + state.sent_hash.hex();
  outcome.received_digest = "sha256:" + state.received_hash.hex();
  return outcome;
}

}  // namespace

S3Config S3Config::from_environment() {
  return S3Config{.access_key_id = env_or("AWS_ACCESS_KEY_ID"),
                  .secret_access_key = env_or("AWS_SECRET_ACCESS_KEY"),
                  .session_token = env_or("AWS_SESSION_TOKEN"),
                  .region = env_or("AWS_REGION", "us-east-1"),
                  .endpoint = env_or("MLCTL_S3_ENDPOINT")};
}

Result<S3Location> parse_s3_location(std::string_view location) {
  if (!location.starts_with(k_scheme)) return fail(Errc::invalid, fmt::format("'{}': not an s3:// location", location));
  std::string_view rest = location.substr(k_scheme.size());
  size_t slash = rest.find('/');
  S3Location out{.bucket = std::string(rest.substr(0, slash))};
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  while (prefix.starts_with('/')) prefix.remove_prefix(1);
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  if (!valid_bucket(out.bucket)) {
    return fail(Errc::invalid, fmt::format("'{}': '{}' is not a valid S3 bucket name", location, out.bucket),
                "bucket names are 3 to 63 characters of a-z, 0-9, '.' and '-'");
  }
  for (char c : prefix) {
    if (!valid_key_char(c)) {
      return fail(Errc::invalid, fmt::format("'{}': the key prefix may only hold A-Z a-z 0-9 / . _ - ~", location));
    }
  }
  out.prefix = std::string(prefix);
  return out;
}

std::string s3_object_key(const S3Location& location, std::string_view hex) {
  return location.prefix.empty() ? fmt::format("sha256/{}", hex) : fmt::format("{}/sha256/{}", location.prefix, hex);
}

Result<std::unique_ptr<ArtifactStore>> open_s3_store(std::string_view location, S3Config config) {
  auto parsed = parse_s3_location(location);
  if (!parsed) return std::unexpected(parsed.error());
  if (config.access_key_id.empty() != config.secret_access_key.empty()) {
    return fail(Errc::invalid, "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set", "set both, or neither");
  }
  return std::make_unique<S3Store>(std::move(*parsed), std::move(config));
}

}  // namespace mlctl::models
