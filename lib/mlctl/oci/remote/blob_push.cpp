#include <mlctl/oci/remote/client_impl.hpp>

#include <mlctl/core/digest.hpp>

#include <atomic>
#include <mutex>
#include <thread>

namespace mlctl::oci::remote {

namespace fs = std::filesystem;

namespace {

RequestBody body_of(const Blob& blob, std::uint64_t offset, std::uint64_t length) {
  if (const auto* bytes = std::get_if<std::string_view>(&blob.content)) return bytes->substr(offset, length);
  return FileRange{std::get<fs::path>(blob.content), offset, length};
}

RegistryResult<void> check_blob(const Blob& blob) {
  std::uint64_t actual = 0;
  if (const auto* bytes = std::get_if<std::string_view>(&blob.content)) {
    actual = bytes->size();
  } else {
    std::error_code ec;
    actual = fs::file_size(std::get<fs::path>(blob.content), ec);
    if (ec)
      return std::unexpected(RegistryError(
          Errc::failed, fmt::format("{}: {}", std::get<fs::path>(blob.content).string(), ec.message())));
  }
  if (actual != blob.size)
    return std::unexpected(
        RegistryError(Errc::invalid, fmt::format("the content has {} bytes, not the {} declared", actual, blob.size)));
  return {};
}

std::string location_of(const Request& request, const Response& response) {
  auto location = response.header("Location");
  if (!location) return {};
  auto resolved = resolve_url(request.url, *location);
  return resolved ? *resolved : std::string();
}

RegistryError missing_location(const Request& request) {
  return RegistryError(Errc::remote, fmt::format("{} {}: the registry gave no upload Location", request.method,
                                                 redact_url(request.url)));
}

}  // namespace

RegistryResult<std::string> Client::Impl::start_upload(std::string_view repository) {
  Request request("POST", url(repository, "/blobs/uploads/"));
  auto response = expect(request, {push_scope(repository)}, {202}, Access::write);
  if (!response) return std::unexpected(response.error());
  std::string location = location_of(request, *response);
  if (location.empty()) return std::unexpected(missing_location(request));
  return location;
}

RegistryResult<std::optional<std::string>> Client::Impl::mount(std::string_view repository, std::string_view digest,
                                                              std::string_view from) {
  std::string target = add_query(add_query(url(repository, "/blobs/uploads/"), "mount", digest), "from", from);
  Request request("POST", target);
  auto response = retry<Response>([&] {
    return expect(request, {push_scope(repository), pull_scope(from)}, {201, 202}, Access::write);
  });
  if (!response) return std::unexpected(response.error());
  if (response->status == 201) return std::nullopt;
  return location_of(request, *response);
}

RegistryResult<std::uint64_t> Client::Impl::upload_once(std::string_view repository, const Blob& blob,
                                                        std::optional<std::string> location) {
  if (!location || location->empty()) {
    auto started = start_upload(repository);
    if (!started) return std::unexpected(started.error());
    location = *started;
  }
  session.begin(blob.digest, fmt::format("uploading {}", blob.digest), blob.size);
  RegistryResult<Response> done;
  if (blob.size <= options.chunk_threshold) {
    Request put("PUT", add_query(*location, "digest", blob.digest));
    put.headers = {{"Content-Type", "application/octet-stream"}};
    put.body = body_of(blob, 0, blob.size);
    put.progress = [&](std::uint64_t sent, std::uint64_t) { session.advance(blob.digest, sent); };
    done = expect(put, {push_scope(repository)}, {201}, Access::write);
  } else {
    done = upload_chunks(repository, blob, std::move(*location));
  }
  if (!done) {
    session.fail(blob.digest, done.error().message());
    return std::unexpected(done.error());
  }
  session.end(blob.digest);
  auto said = done->header("Docker-Content-Digest");
  if (said && said->starts_with("sha256:") && *said != blob.digest)
    return std::unexpected(RegistryError(Errc::remote, fmt::format("the registry stored it as {}", *said)));
  return blob.size;
}

RegistryResult<Response> Client::Impl::upload_chunks(std::string_view repository, const Blob& blob,
                                                     std::string location) {
  std::uint64_t chunk = std::max<std::uint64_t>(options.chunk_size, 1);
  for (std::uint64_t offset = 0; offset < blob.size; offset += chunk) {
    std::uint64_t length = std::min(chunk, blob.size - offset);
    Request patch("PATCH", location);
    patch.headers = {{"Content-Type", "application/octet-stream"},
                     {"Content-Range", fmt::format("{}-{}", offset, offset + length - 1)}};
    patch.body = body_of(blob, offset, length);
    patch.progress = [&, offset](std::uint64_t sent, std::uint64_t) { session.advance(blob.digest, offset + sent); };
    auto response = expect(patch, {push_scope(repository)}, {202}, Access::write);
    if (!response) return response;
    location = location_of(patch, *response);
    if (location.empty()) return std::unexpected(missing_location(patch));
  }
  Request put("PUT", add_query(location, "digest", blob.digest));
  return expect(put, {push_scope(repository)}, {201}, Access::write);
}

RegistryResult<BlobPush> Client::push_blob(std::string_view repository, const Blob& blob, std::string_view mount_from) {
  std::string what = fmt::format("uploading blob {}", blob.digest);
  if (auto ok = core::check_sha256_digest(blob.digest); !ok) return std::unexpected(RegistryError(ok.error()).context(what));
  if (auto ok = check_repository(repository); !ok) return std::unexpected(ok.error().context(what));
  auto exists = blob_exists(repository, blob.digest);
  if (!exists) return std::unexpected(exists.error().context(what));
  if (*exists) {
    impl_->session.step(fmt::format("blob {} already exists", blob.digest));
    return BlobPush{blob.digest, BlobPush::How::existed, 0};
  }
  std::optional<std::string> offered;
  if (!mount_from.empty() && mount_from != repository) {
    if (auto ok = check_repository(mount_from); !ok) return std::unexpected(ok.error().context(what));
    auto mounted = impl_->mount(repository, blob.digest, mount_from);
    if (!mounted) return std::unexpected(mounted.error().context(what));
    if (!*mounted) {
      impl_->session.step(fmt::format("mounted blob {} from {}", blob.digest, mount_from));
      return BlobPush{blob.digest, BlobPush::How::mounted, 0};
    }
    offered = std::move(*mounted);
  }
  // The content is looked at only now: a blob the registry has or mounts need not be local.
  if (auto ok = check_blob(blob); !ok) return std::unexpected(ok.error().context(what));
  // Each attempt uploads the whole blob again: an interrupted session cannot be trusted.
  auto uploaded = impl_->retry<std::uint64_t>(
      [&] { return impl_->upload_once(repository, blob, std::exchange(offered, std::nullopt)); });
  if (!uploaded) return std::unexpected(uploaded.error().context(what));
  impl_->session.step(fmt::format("pushed blob {} ({} bytes)", blob.digest, *uploaded));
  return BlobPush{blob.digest, BlobPush::How::uploaded, *uploaded};
}

RegistryResult<PushSummary> Client::push_blobs(std::string_view repository, std::span<const Blob> blobs,
                                               std::string_view mount_from) {
  PushSummary summary;
  summary.blobs.resize(blobs.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::optional<RegistryError> first_error;
  auto work = [&] {
    for (size_t i; !failed.load() && (i = next.fetch_add(1)) < blobs.size();) {
      auto pushed = push_blob(repository, blobs[i], mount_from);
      if (pushed) {
        summary.blobs[i] = *pushed;
        continue;
      }
      std::lock_guard lock(mutex);
      if (!first_error) first_error = pushed.error();
      failed.store(true);
    }
  };
  size_t workers = std::min<size_t>(std::max(impl_->options.parallelism, 1u), blobs.size());
  std::vector<std::jthread> threads;
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  threads.clear();
  if (first_error) return std::unexpected(*first_error);
  for (const auto& blob : summary.blobs) summary.uploaded_bytes += blob.uploaded_bytes;
  return summary;
}

}  // namespace mlctl::oci::remote
