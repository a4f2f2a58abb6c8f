#include "fake_api_server.hpp"

#include <support/free_port.hpp>

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace mlctl::test {

namespace {

constexpr std::chrono::milliseconds k_longest_stall{15000};

struct Injection {
  std::string method;
  std::string path_part;
  int status = 0;  // 0: a stall
  nlohmann::json body;
  std::chrono::milliseconds stall{0};
  int count = 0;
};

struct Route {
  std::string method;
  std::regex pattern;
  FakeApiServer::Handler handler;
};

SeenRequest to_seen(const httplib::Request& req) {
  SeenRequest out{req.method,
                  req.path,
                  {req.params.begin(), req.params.end()},
                  req.get_header_value("Authorization"),
                  req.get_header_value("Content-Type"),
                  req.get_header_value("Accept"),
                  req.body,
                  {}};
  for (const auto& [field, file] : req.files)
    out.files.push_back({field, file.filename, file.content_type, file.content});
  return out;
}

}  // namespace

void reply(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

struct FakeApiServer::State {
  std::string token;
  Unauthorized unauthorized;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  mutable std::mutex mutex;
  std::condition_variable stopping_signal;
  bool stopping = false;
  std::vector<SeenRequest> seen;
  std::vector<std::string> problems;
  std::vector<Injection> injections;
  std::vector<Route> routes;

  void handle(const httplib::Request& req, httplib::Response& res);
  // The injection this request meets, if any (its count is used up).
  std::optional<Injection> take_injection(const httplib::Request& req);
  void stall(std::chrono::milliseconds duration);
  void dispatch(const httplib::Request& req, httplib::Response& res);
};

FakeApiServer::FakeApiServer(std::string token, Unauthorized unauthorized) : state_(std::make_unique<State>()) {
  state_->token = std::move(token);
  state_->unauthorized = std::move(unauthorized);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { state_->handle(req, res); };
  state_->server.Get(".*", handler);
  state_->server.Post(".*", handler);
  // One request per connection: a kept-alive connection would hold stop() for seconds.
  state_->server.set_keep_alive_max_count(1);
  // free_port() only finds a port free a moment ago: another process may take it first.
  for (int attempt = 0; attempt < 5 && state_->port == 0; ++attempt) {
    int port = free_port();
    if (state_->server.bind_to_port("127.0.0.1", port)) state_->port = port;
  }
  if (state_->port == 0) throw std::runtime_error("fake API server: cannot bind 127.0.0.1");
  state_->thread = std::thread([this] { state_->server.listen_after_bind(); });
  while (!state_->server.is_running()) std::this_thread::yield();
}

FakeApiServer::~FakeApiServer() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->stopping_signal.notify_all();
  state_->server.stop();
  state_->thread.join();
}

std::string FakeApiServer::url() const { return "http://127.0.0.1:" + std::to_string(state_->port); }

void FakeApiServer::route(std::string method, std::string pattern, Handler handler) {
  std::lock_guard lock(state_->mutex);
  state_->routes.push_back({std::move(method), std::regex(pattern), std::move(handler)});
}

void FakeApiServer::fail_next(std::string method, std::string path_part, int status, nlohmann::json body, int count) {
  std::lock_guard lock(state_->mutex);
  state_->injections.push_back({std::move(method), std::move(path_part), status, std::move(body), {}, count});
}

void FakeApiServer::stall_next(std::string method, std::string path_part, std::chrono::milliseconds duration,
                               int count) {
  std::lock_guard lock(state_->mutex);
  state_->injections.push_back(
      {std::move(method), std::move(path_part), 0, {}, std::min(duration, k_longest_stall), count});
}

std::vector<SeenRequest> FakeApiServer::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->seen;
}

void FakeApiServer::problem(std::string text) {
  std::lock_guard lock(state_->mutex);
  state_->problems.push_back(std::move(text));
}

std::vector<std::string> FakeApiServer::problems() const {
  std::lock_guard lock(state_->mutex);
  return state_->problems;
}

std::optional<Injection> FakeApiServer::State::take_injection(const httplib::Request& req) {
  std::lock_guard lock(mutex);
  seen.push_back(to_seen(req));
  for (auto& injection : injections) {
    if (injection.count == 0 || injection.method != req.method ||
        req.path.find(injection.path_part) == std::string::npos)
      continue;
    --injection.count;
    return injection;
  }
  return std::nullopt;
}

void FakeApiServer::State::stall(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex);
  stopping_signal.wait_for(lock, duration, [this] { return stopping; });
}

void FakeApiServer::State::handle(const httplib::Request& req, httplib::Response& res) {
  auto injection = take_injection(req);
  if (injection && injection->status != 0) return reply(res, injection->status, injection->body);
  if (injection) stall(injection->stall);
  std::string authorization = req.get_header_value("Authorization");
  if (authorization != "Bearer " + token) return reply(res, 401, unauthorized(authorization));
  dispatch(req, res);
}

void FakeApiServer::State::dispatch(const httplib::Request& req, httplib::Response& res) {
  Handler handler;
  std::smatch match;
  {
    std::lock_guard lock(mutex);
    auto route = std::ranges::find_if(
        routes, [&](const Route& r) { return r.method == req.method && std::regex_match(req.path, match, r.pattern); });
    if (route != routes.end()) handler = route->handler;
  }
  if (!handler) return reply(res, 404, {{"code", 5}, {"message", "Not Found"}});
  handler(req, res, match);
}

}  // namespace mlctl::test
