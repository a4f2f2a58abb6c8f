#include "fake_registry.hpp"

#include <mlctl/core/digest.hpp>
#include <mlctl/oci/remote/credentials.hpp>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>

namespace mlctl::test {

namespace {

struct Injection {
  std::string method;
  std::string path_part;
  int status = 0;  // 0: drop the connection
  int count = 0;
  std::optional<int> retry_after;
};

std::string error_body(std::string_view code, std::string_view message) {
  return R"({"errors":[{"code":")" + std::string(code) + R"(","message":")" + std::string(message) + R"("}]})";
}

// "/v2/<name>/<kind>/<rest>" split at the last /blobs/ or /manifests/.
struct Route {
  std::string name, kind, rest;
};

std::optional<Route> route_of(const std::string& path) {
  if (!path.starts_with("/v2/")) return std::nullopt;
  for (std::string kind : {"/blobs/uploads/", "/blobs/", "/manifests/"}) {
    auto at = path.rfind(kind);
    if (at != std::string::npos && at > 4)
      return Route{path.substr(4, at - 4), kind.substr(1, kind.size() - 2), path.substr(at + kind.size())};
  }
  return std::nullopt;
}

}  // namespace

struct FakeRegistry::State {
  Options options;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  mutable std::mutex mutex;
  std::vector<Seen> seen;
  std::vector<Injection> injections;
  std::map<std::string, std::string> blobs;                     // "repo@digest" -> bytes
  std::map<std::string, std::pair<std::string, std::string>> manifests;  // "repo:ref" -> bytes, type
  std::map<std::string, std::string> uploads;                   // uuid -> bytes so far
  std::vector<std::string> tokens;
  int next_id = 0;

  void handle(const httplib::Request& req, httplib::Response& res);
  bool authorized(const httplib::Request& req, httplib::Response& res, const std::string& scope);
  void token(const httplib::Request& req, httplib::Response& res);
  void blobs_route(httplib::Response& res, const Route& route);
  void upload_route(const httplib::Request& req, httplib::Response& res, const Route& route);
  void manifest_route(const httplib::Request& req, httplib::Response& res, const Route& route);
};

FakeRegistry::FakeRegistry(Options options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { state_->handle(req, res); };
  for (auto method : {&httplib::Server::Get, &httplib::Server::Post, &httplib::Server::Put, &httplib::Server::Patch,
                      &httplib::Server::Delete})
    (state_->server.*method)(".*", handler);
  // One request per connection: a kept-alive connection would hold stop() for seconds.
  state_->server.set_keep_alive_max_count(1);
  state_->port = state_->server.bind_to_any_port("127.0.0.1");
  if (state_->port <= 0) throw std::runtime_error("fake registry: cannot bind 127.0.0.1");
  state_->thread = std::thread([this] { state_->server.listen_after_bind(); });
  while (!state_->server.is_running()) std::this_thread::yield();
}

FakeRegistry::~FakeRegistry() {
  state_->server.stop();
  state_->thread.join();
}

std::string FakeRegistry::host() const { return "127.0.0.1:" + std::to_string(state_->port); }

void FakeRegistry::fail_next(std::string method, std::string path_part, int status, int count,
                             std::optional<int> retry_after) {
  std::lock_guard lock(state_->mutex);
  state_->injections.push_back({std::move(method), std::move(path_part), status, count, retry_after});
}

void FakeRegistry::drop_next(std::string method, std::string path_part, int count) {
  fail_next(std::move(method), std::move(path_part), 0, count);
}

void FakeRegistry::revoke_tokens() {
  std::lock_guard lock(state_->mutex);
  state_->tokens.clear();
}

std::vector<FakeRegistry::Seen> FakeRegistry::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->seen;
}

std::vector<FakeRegistry::Seen> FakeRegistry::requests(std::string_view method) const {
  std::vector<Seen> out;
  for (auto& seen : requests())
    if (seen.method == method && seen.path != "/token") out.push_back(seen);
  return out;
}

std::optional<std::string> FakeRegistry::blob(const std::string& repository, const std::string& digest) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->blobs.find(repository + "@" + digest);
  if (it == state_->blobs.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> FakeRegistry::manifest(const std::string& repository, const std::string& reference) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->manifests.find(repository + ":" + reference);
  if (it == state_->manifests.end()) return std::nullopt;
  return it->second.first;
}

void FakeRegistry::put_blob(const std::string& repository, const std::string& content) {
  std::lock_guard lock(state_->mutex);
  state_->blobs[repository + "@" + core::sha256_digest(content)] = content;
}

void FakeRegistry::State::handle(const httplib::Request& req, httplib::Response& res) {
  std::unique_lock lock(mutex);
  seen.push_back({req.method, req.path, {req.params.begin(), req.params.end()}, req.get_header_value("Authorization"),
                  req.get_header_value("Content-Range"), req.get_header_value("Content-Type"), req.body.size()});
  for (auto& injection : injections) {
    if (injection.count == 0 || injection.method != req.method || req.path.find(injection.path_part) == std::string::npos)
      continue;
    --injection.count;
    if (injection.status == 0) {
      // A declared body the provider never delivers: httplib closes the connection mid-response.
      res.set_content_provider(1000, "text/plain", [](size_t, size_t, httplib::DataSink&) { return false; });
      return;
    }
    res.status = injection.status;
    if (injection.retry_after) res.set_header("Retry-After", std::to_string(*injection.retry_after));
    res.set_content(error_body("UNAVAILABLE", "injected failure"), "application/json");
    return;
  }
  if (req.path == "/token") return token(req, res);
  auto route = route_of(req.path);
  bool reading = req.method == "GET" || req.method == "HEAD";
  std::string scope = route ? "repository:" + route->name + (reading ? ":pull" : ":pull,push") : "";
  if (!authorized(req, res, scope)) return;
  if (req.path == "/v2/") {
    res.status = 200;
    res.set_content("{}", "application/json");
  } else if (!route) {
    res.status = 404;
    res.set_content(error_body("NAME_UNKNOWN", "unknown route"), "application/json");
  } else if (route->kind == "blobs/uploads") {
    upload_route(req, res, *route);
  } else if (route->kind == "blobs") {
    blobs_route(res, *route);
  } else {
    manifest_route(req, res, *route);
  }
}

bool FakeRegistry::State::authorized(const httplib::Request& req, httplib::Response& res, const std::string& scope) {
  std::string given = req.get_header_value("Authorization");
  if (options.auth == Auth::none) return true;
  if (options.auth == Auth::basic) {
    std::string expected = "Basic " + oci::remote::base64_encode(options.username + ":" + options.password);
    if (given == expected) return true;
    res.status = 401;
    res.set_header("WWW-Authenticate", R"(Basic realm="fake")");
    // Echoes what it was given, as some servers do: the client must redact it.
    auto decoded = given.starts_with("Basic ") ? oci::remote::base64_decode(given.substr(6)) : std::nullopt;
    res.set_content(error_body("UNAUTHORIZED", "authentication required, got " + decoded.value_or(given)),
                    "application/json");
    return false;
  }
  bool valid = given.starts_with("Bearer ") && options.accept_tokens &&
               std::find(tokens.begin(), tokens.end(), given.substr(7)) != tokens.end();
  if (valid) return true;
  res.status = 401;
  std::string challenge = "Bearer realm=\"http://127.0.0.1:" + std::to_string(port) + "/token\",service=\"fake\"";
  if (!scope.empty()) challenge += ",scope=\"" + scope + "\"";
  res.set_header("WWW-Authenticate", challenge);
  res.set_content(error_body("UNAUTHORIZED", "authentication required"), "application/json");
  return false;
}

void FakeRegistry::State::token(const httplib::Request& req, httplib::Response& res) {
  if (!options.username.empty()) {
    std::string expected = "Basic " + oci::remote::base64_encode(options.username + ":" + options.password);
    if (req.get_header_value("Authorization") != expected) {
      res.status = 401;
      res.set_content(error_body("UNAUTHORIZED", "invalid username or password"), "application/json");
      return;
    }
  }
  tokens.push_back("fake-token-" + std::to_string(++next_id));
  res.set_content(R"({"token":")" + tokens.back() + R"(","expires_in":300})", "application/json");
}

void FakeRegistry::State::blobs_route(httplib::Response& res, const Route& route) {
  auto it = blobs.find(route.name + "@" + route.rest);
  if (it == blobs.end()) {
    res.status = 404;
    res.set_content(error_body("BLOB_UNKNOWN", "blob unknown to registry"), "application/json");
    return;
  }
  res.set_header("Docker-Content-Digest", route.rest);
  res.set_content(it->second, "application/octet-stream");
}

void FakeRegistry::State::upload_route(const httplib::Request& req, httplib::Response& res, const Route& route) {
  auto location = [&](const std::string& uuid) {
    // Relative, with a query of its own, as distribution does: the client must keep it.
    return "/v2/" + route.name + "/blobs/uploads/" + uuid + "?_state=s" + std::to_string(++next_id);
  };
  if (req.method == "POST") {
    if (req.has_param("mount") && options.allow_mounts) {
      auto from = blobs.find(req.get_param_value("from") + "@" + req.get_param_value("mount"));
      if (from != blobs.end()) {
        blobs[route.name + "@" + req.get_param_value("mount")] = from->second;
        res.status = 201;
        res.set_header("Location", "/v2/" + route.name + "/blobs/" + req.get_param_value("mount"));
        return;
      }
    }
    std::string uuid = "u" + std::to_string(++next_id);
    uploads[uuid] = "";
    res.status = 202;
    res.set_header("Location", location(uuid));
    res.set_header("Range", "0-0");
    return;
  }
  auto upload = uploads.find(route.rest);
  if (upload == uploads.end()) {
    res.status = 404;
    res.set_content(error_body("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry"), "application/json");
    return;
  }
  if (req.method == "PATCH") {
    std::string range = req.get_header_value("Content-Range");
    if (!range.empty() && range.substr(0, range.find('-')) != std::to_string(upload->second.size())) {
      res.status = 416;
      return;
    }
    upload->second += req.body;
    res.status = 202;
    res.set_header("Location", location(route.rest));
    res.set_header("Range", "0-" + std::to_string(upload->second.size() - 1));
    return;
  }
  std::string content = upload->second + req.body;
  std::string digest = req.get_param_value("digest");
  if (core::sha256_digest(content) != digest) {
    res.status = 400;
    res.set_content(error_body("DIGEST_INVALID", "provided digest did not match uploaded content"), "application/json");
    return;
  }
  uploads.erase(upload);
  blobs[route.name + "@" + digest] = content;
  res.status = 201;
  res.set_header("Location", "/v2/" + route.name + "/blobs/" + digest);
  res.set_header("Docker-Content-Digest", digest);
}

void FakeRegistry::State::manifest_route(const httplib::Request& req, httplib::Response& res, const Route& route) {
  if (req.method == "PUT") {
    std::string digest = core::sha256_digest(req.body);
    auto entry = std::make_pair(req.body, req.get_header_value("Content-Type"));
    manifests[route.name + ":" + route.rest] = entry;
    manifests[route.name + ":" + digest] = entry;
    res.status = 201;
    res.set_header("Docker-Content-Digest", digest);
    return;
  }
  auto it = manifests.find(route.name + ":" + route.rest);
  if (it == manifests.end()) {
    res.status = 404;
    res.set_content(error_body("MANIFEST_UNKNOWN", "manifest unknown"), "application/json");
    return;
  }
  res.set_header("Docker-Content-Digest", core::sha256_digest(it->second.first));
  res.set_content(it->second.first, it->second.second.c_str());
}

}  // namespace mlctl::test
