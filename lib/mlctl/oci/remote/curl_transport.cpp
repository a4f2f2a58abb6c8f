#include <mlctl/oci/remote/curl_transport.hpp>

#include <mlctl/oci/remote/url.hpp>

#include <curl/curl.h>
#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <mutex>

namespace mlctl::oci::remote {

namespace {

std::once_flag g_curl_init;

// What the callbacks of one transfer share.
struct Transfer {
  const Request* request = nullptr;
  CURL* curl = nullptr;
  Response response;
  std::uint64_t max_memory_body = 0;
  std::string_view bytes;  // body from memory
  std::ifstream file;      // body from a file range
  std::uint64_t remaining = 0;
  std::string local_error;  // a failure on this side: unreadable body file, sink refused
  // Whether the last response's head ended with its blank line. libcurl reports success when the
  // connection closes inside the head after a whole status line, which is not a whole response.
  bool head_complete = false;
};

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t want = std::min<std::uint64_t>(size * count, t->remaining);
  if (want == 0) return 0;
  if (t->file.is_open()) {
    t->file.read(buffer, std::streamsize(want));
    if (size_t(t->file.gcount()) != want) {
      t->local_error = "the file ended before the expected size";
      return CURL_READFUNC_ABORT;
    }
  } else {
    std::copy_n(t->bytes.data() + (t->bytes.size() - t->remaining), want, buffer);
  }
  t->remaining -= want;
  return want;
}

size_t on_header(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(buffer, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response (after 100 Continue)
    t->head_complete = false;
  } else if (line.empty()) {
    t->head_complete = true;
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    t->response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return size * count;
}

size_t on_write(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(buffer, size * count);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->request->sink && status >= 200 && status < 300) {
    if (!t->request->sink->write(chunk)) {
      t->local_error = "the response body could not be stored";
      return 0;
    }
    return chunk.size();
  }
  if (t->response.body.size() + chunk.size() > t->max_memory_body) {
    t->local_error = fmt::format("the response body is larger than {} bytes", t->max_memory_body);
    return 0;
  }
  t->response.body.append(chunk);
  return chunk.size();
}

int on_progress(void* user, curl_off_t, curl_off_t received, curl_off_t, curl_off_t sent) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->progress) t->request->progress(std::uint64_t(sent), std::uint64_t(received));
  return 0;
}

// Connection-level failures another attempt may get past; TLS and protocol errors it will not.
bool retryable_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

std::filesystem::path env_path(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::filesystem::path(value) : std::filesystem::path();
}

// What to do about a peer the CA certificates do not vouch for.
constexpr std::string_view k_untrusted_hint =
    "the server's certificate is not signed by a CA trusted here: add its CA to the system's "
    "(update-ca-certificates), or name a PEM file of trusted CAs with SSL_CERT_FILE";

struct CurlHeaders {
  curl_slist* list = nullptr;
  ~CurlHeaders() { curl_slist_free_all(list); }
  void add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

}  // namespace

struct CurlTransport::Shared {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Shared*>(user)->locks[size_t(data)].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Shared*>(user)->locks[size_t(data)].unlock();
  }
};

CurlTransport::CurlTransport(CurlOptions options) : options_(std::move(options)), shared_(std::make_unique<Shared>()) {
  if (options_.ca_file.empty()) options_.ca_file = env_path("SSL_CERT_FILE");
  if (options_.ca_dir.empty()) options_.ca_dir = env_path("SSL_CERT_DIR");
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  shared_->share = curl_share_init();
  curl_share_setopt(shared_->share, CURLSHOPT_LOCKFUNC, &Shared::lock);
  curl_share_setopt(shared_->share, CURLSHOPT_UNLOCKFUNC, &Shared::unlock);
  curl_share_setopt(shared_->share, CURLSHOPT_USERDATA, shared_.get());
  curl_share_setopt(shared_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(shared_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

CurlTransport::~CurlTransport() { curl_share_cleanup(shared_->share); }

namespace {

// Callbacks and per-request options; the shared ones come from the transport.
void configure_transfer(CURL* curl, const Request& request, Transfer& t, curl_slist* headers, char* error_buffer) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    // Upload mode gives a streamed body with a known Content-Length for every method.
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(t.remaining));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
}

// Opens the request body for reading.
RegistryResult<void> open_body(const Request& request, Transfer& t) {
  t.remaining = body_size(request.body);
  if (const auto* bytes = std::get_if<std::string_view>(&request.body)) t.bytes = *bytes;
  if (const auto* range = std::get_if<FileRange>(&request.body)) {
    t.file.open(range->path, std::ios::binary);
    if (t.file) t.file.seekg(std::streamoff(range->offset));
    if (!t.file)
      return std::unexpected(RegistryError(Errc::failed, fmt::format("cannot read {}", range->path.string())));
  }
  return {};
}

}  // namespace

RegistryResult<Response> CurlTransport::send(const Request& request) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), &curl_easy_cleanup);
  if (!handle) return std::unexpected(RegistryError(Errc::failed, "cannot start an HTTP transfer"));
  CURL* curl = handle.get();
  Transfer t;
  t.request = &request;
  t.curl = curl;
  t.max_memory_body = options_.max_memory_body;
  if (auto opened = open_body(request, t); !opened) return std::unexpected(opened.error());
  if (request.sink) request.sink->reset();

  CurlHeaders headers;
  for (const auto& [name, value] : request.headers) headers.add(name + ": " + value);
  headers.add("Expect:");  // no 100-continue round trip before each upload
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_SHARE, shared_->share);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.ca_dir.empty()) curl_easy_setopt(curl, CURLOPT_CAPATH, options_.ca_dir.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, long(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, long(options_.low_speed_limit));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, long(options_.low_speed_time.count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  configure_transfer(curl, request, t, headers.list, error_buffer);

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    std::string where = fmt::format("{} {}", request.method, redact_url(request.url));
    if (!t.local_error.empty())
      return std::unexpected(RegistryError(Errc::failed, fmt::format("{}: {}", where, t.local_error)));
    std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
    RegistryError error(Errc::remote, fmt::format("{}: {}", where, detail), 0, {}, retryable_curl_error(code));
    if (code == CURLE_PEER_FAILED_VERIFICATION) error.with_hint(std::string(k_untrusted_hint));
    if (code == CURLE_SSL_CONNECT_ERROR) error.set_tls_handshake_failed();
    return std::unexpected(error);
  }
  if (!t.head_complete)
    return std::unexpected(RegistryError(
        Errc::remote, fmt::format("{} {}: the connection closed inside the response headers", request.method,
                                  redact_url(request.url)),
        0, {}, true));
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  t.response.status = int(status);
  return std::move(t.response);
}

}  // namespace mlctl::oci::remote
