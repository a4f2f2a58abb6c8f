#include <mlctl/oci/remote/client_impl.hpp>

#include <mlctl/core/digest.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <thread>

namespace mlctl::oci::remote {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t k_max_manifest = 4ull << 20;

Sleeper real_sleep() {
  return [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); };
}

Jitter random_jitter() {
  return [] {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
  };
}

std::string media_type_of(const Response& response, std::string_view bytes) {
  std::string type = response.header("Content-Type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (!type.empty() && type != "application/json" && type != "application/octet-stream") return type;
  auto json = nlohmann::json::parse(bytes, nullptr, false);
  if (json.is_object() && json.contains("mediaType") && json["mediaType"].is_string())
    return json["mediaType"].get<std::string>();
  return type;
}

// The registry's Docker-Content-Digest must name the bytes we have, when it is a sha256.
RegistryResult<void> check_content_digest(const Response& response, std::string_view digest) {
  auto said = response.header("Docker-Content-Digest");
  if (!said || !said->starts_with("sha256:") || *said == digest) return {};
  return std::unexpected(RegistryError(
      Errc::remote, fmt::format("the registry says the digest is {} but the content has {}", *said, digest)));
}

// Streams a blob into a temporary file beside the target, hashing as it goes.
class FileSink final : public BodySink {
public:
  FileSink(fs::path path, Session& session, std::string id)
      : path_(std::move(path)), session_(session), id_(std::move(id)) {}
  void reset() override {
    out_.close();
    out_.open(path_, std::ios::binary | std::ios::trunc);
    hash_ = std::make_unique<core::Sha256>();
    written_ = 0;
  }
  bool write(std::string_view chunk) override {
    out_.write(chunk.data(), std::streamsize(chunk.size()));
    hash_->update(chunk);
    written_ += chunk.size();
    session_.advance(id_, written_);
    return bool(out_);
  }
  // Closes the file; its digest.
  std::string finish() {
    out_.close();
    if (!hash_) return {};
    return "sha256:" + hash_->hex();
  }
  bool ok() const { return !out_.fail(); }
  std::uint64_t written() const { return written_; }

private:
  fs::path path_;
  Session& session_;
  std::string id_;
  std::ofstream out_;
  std::unique_ptr<core::Sha256> hash_;
  std::uint64_t written_ = 0;
};

}  // namespace

std::string pull_scope(std::string_view repository) { return fmt::format("repository:{}:pull", repository); }
std::string push_scope(std::string_view repository) { return fmt::format("repository:{}:pull,push", repository); }

RegistryResult<void> check_repository(std::string_view repository) {
  bool plain = repository.find_first_of(":@") == std::string_view::npos;
  auto parsed = plain ? parse_reference("registry.invalid/" + std::string(repository)) : Result<Reference>();
  if (!plain || !parsed || parsed->repository != repository)
    return std::unexpected(RegistryError(Errc::invalid, fmt::format("invalid repository name '{}'", repository)));
  return {};
}

Client::Impl::Impl(std::string registry_, Transport& transport, std::optional<Credential> credential,
                   ClientOptions options_, core::Reporter& reporter)
    : registry(std::move(registry_)), options(std::move(options_)),
      session(registry, transport, std::move(credential), options.insecure, reporter),
      retrier(options.retry, options.sleep ? options.sleep : real_sleep(),
              options.jitter ? options.jitter : random_jitter()) {}

std::string Client::Impl::url(std::string_view repository, std::string_view suffix) const {
  return fmt::format("{}/v2/{}{}", session.base_url(), repository, suffix);
}

RegistryResult<Response> Client::Impl::expect(const Request& request, const std::vector<std::string>& scopes,
                                              std::initializer_list<int> ok, Access access) {
  auto response = session.send(request, scopes);
  if (!response) return response;
  if (std::ranges::find(ok, response->status) != ok.end()) return response;
  auto error = session.redact(error_from_status(response->status, session.redact(response->body), access));
  if (auto asked = response->header("Retry-After"))
    if (auto delay = parse_retry_after(*asked, std::chrono::system_clock::now())) error.set_retry_after(*delay);
  return std::unexpected(error);
}

Client::Client(std::string registry, Transport& transport, std::optional<Credential> credential,
               ClientOptions options, core::Reporter& reporter)
    : impl_(std::make_unique<Impl>(std::move(registry), transport, std::move(credential), std::move(options),
                                   reporter)) {}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;

std::uint64_t Client::retries() const { return impl_->retrier.retries(); }

RegistryResult<void> Client::ping() {
  Request request("GET", impl_->session.base_url() + "/v2/");
  auto response = impl_->retry<Response>([&] { return impl_->expect(request, {}, {200}, Access::write); });
  if (!response) return std::unexpected(response.error().context(fmt::format("contacting registry {}", impl_->registry)));
  return {};
}

RegistryResult<bool> Client::blob_exists(std::string_view repository, std::string_view digest) {
  if (auto ok = check_repository(repository); !ok) return std::unexpected(ok.error());
  Request request("HEAD", impl_->url(repository, "/blobs/" + std::string(digest)));
  auto response = impl_->retry<Response>(
      [&] { return impl_->expect(request, {pull_scope(repository)}, {200, 404}, Access::read); });
  if (!response) return std::unexpected(response.error().context(fmt::format("checking blob {}", digest)));
  return response->status == 200;
}

RegistryResult<std::uint64_t> Client::pull_blob(std::string_view repository, std::string_view digest,
                                                const fs::path& path) {
  std::string what = fmt::format("downloading blob {}", digest);
  if (auto ok = core::check_sha256_digest(digest); !ok) return std::unexpected(RegistryError(ok.error().context(what)));
  if (auto ok = check_repository(repository); !ok) return std::unexpected(ok.error().context(what));
  fs::path part = path;
  part += ".part";
  FileSink sink(part, impl_->session, std::string(digest));
  Request request("GET", impl_->url(repository, "/blobs/" + std::string(digest)));
  request.sink = &sink;
  impl_->session.begin(digest, what, 0);
  auto response = impl_->retry<Response>(
      [&] { return impl_->expect(request, {pull_scope(repository)}, {200}, Access::read); });
  impl_->session.end(digest);
  std::string got = sink.finish();
  std::error_code ec;
  if (!response) {
    fs::remove(part, ec);
    return std::unexpected(response.error().context(what));
  }
  if (got != digest) {
    fs::remove(part, ec);
    return std::unexpected(RegistryError(Errc::remote, fmt::format("{}: the content has digest {}", what, got)));
  }
  fs::rename(part, path, ec);
  if (ec) return std::unexpected(RegistryError(Errc::failed, fmt::format("{}: {}: {}", what, path.string(), ec.message())));
  return sink.written();
}

RegistryResult<Manifest> Client::get_manifest(std::string_view repository, std::string_view reference) {
  std::string what = fmt::format("fetching manifest {}:{}", repository, reference);
  if (auto ok = check_repository(repository); !ok) return std::unexpected(ok.error().context(what));
  Request request("GET", impl_->url(repository, "/manifests/" + std::string(reference)));
  request.headers.emplace_back(
      "Accept", fmt::format("{}, {}, {}, {}", k_oci_manifest, k_oci_index, k_docker_manifest, k_docker_manifest_list));
  auto response = impl_->retry<Response>(
      [&] { return impl_->expect(request, {pull_scope(repository)}, {200}, Access::read); });
  if (!response) return std::unexpected(response.error().context(what));
  if (response->body.size() > k_max_manifest)
    return std::unexpected(RegistryError(Errc::remote, fmt::format("{}: larger than {} bytes", what, k_max_manifest)));
  Manifest manifest{response->body, media_type_of(*response, response->body), core::sha256_digest(response->body)};
  if (auto ok = check_content_digest(*response, manifest.digest); !ok) return std::unexpected(ok.error().context(what));
  if (reference.starts_with("sha256:") && reference != manifest.digest)
    return std::unexpected(RegistryError(Errc::remote, fmt::format("{}: the content has digest {}", what, manifest.digest)));
  return manifest;
}

RegistryResult<std::optional<ManifestInfo>> Client::head_manifest(std::string_view repository,
                                                                  std::string_view reference) {
  std::string what = fmt::format("checking manifest {}:{}", repository, reference);
  if (auto ok = check_repository(repository); !ok) return std::unexpected(ok.error().context(what));
  Request request("HEAD", impl_->url(repository, "/manifests/" + std::string(reference)));
  request.headers.emplace_back(
      "Accept", fmt::format("{}, {}, {}, {}", k_oci_manifest, k_oci_index, k_docker_manifest, k_docker_manifest_list));
  auto response = impl_->retry<Response>(
      [&] { return impl_->expect(request, {pull_scope(repository)}, {200, 404}, Access::read); });
  if (!response) return std::unexpected(response.error().context(what));
  if (response->status == 404) return std::nullopt;
  ManifestInfo info{media_type_of(*response, ""), response->header("Docker-Content-Digest").value_or(""), 0};
  if (auto length = response->header("Content-Length")) info.size = std::strtoull(length->c_str(), nullptr, 10);
  return info;
}

RegistryResult<std::string> Client::put_manifest(std::string_view repository, std::string_view reference,
                                                 std::string_view bytes, std::string_view media_type) {
  std::string what = fmt::format("pushing manifest {}:{}", repository, reference);
  if (auto ok = check_repository(repository); !ok) return std::unexpected(ok.error().context(what));
  std::string digest = core::sha256_digest(bytes);
  if (reference.starts_with("sha256:") && reference != digest)
    return std::unexpected(RegistryError(Errc::invalid, fmt::format("{}: the manifest has digest {}", what, digest)));
  Request request("PUT", impl_->url(repository, "/manifests/" + std::string(reference)));
  request.headers = {{"Content-Type", std::string(media_type)}};
  request.body = bytes;
  auto response = impl_->retry<Response>(
      [&] { return impl_->expect(request, {push_scope(repository)}, {200, 201}, Access::write); });
  if (!response) return std::unexpected(response.error().context(what));
  if (auto ok = check_content_digest(*response, digest); !ok) return std::unexpected(ok.error().context(what));
  impl_->session.step(fmt::format("pushed manifest {}:{} ({})", repository, reference, digest));
  return digest;
}

Result<Client> make_client(const Reference& reference, Transport& transport, const CredentialSources& sources,
                           ClientOptions options, core::Reporter& reporter) {
  auto credential = find_credential(sources, reference.registry);
  if (!credential) return std::unexpected(credential.error().context(fmt::format("credentials for {}", reference.registry)));
  return Client(reference.api_host(), transport, std::move(*credential), std::move(options), reporter);
}

}  // namespace mlctl::oci::remote
