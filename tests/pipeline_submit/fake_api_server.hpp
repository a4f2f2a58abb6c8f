#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace mlctl::test {

struct SeenFile {
  std::string field;
  std::string filename;
  std::string content_type;
  std::string content;
};

// A request as the server received it.
struct SeenRequest {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;
  std::string authorization;
  std::string content_type;
  std::string accept;
  std::string body;
  std::vector<SeenFile> files;  // the parts of a multipart/form-data body
};

// An HTTP API server on 127.0.0.1 (a free port from free_port()) for the submit clients' tests,
// built on cpp-httplib: it records every request, refuses those without the right bearer token
// (401, with a body the concrete server words), answers injected failures and stalls, and hands
// the rest to the routes the concrete server (FakeArgo, FakeKfp) registers. What a route finds
// wrong with a request is both answered (400, like the real server) and kept in problems(), so
// that a test can assert that the client sent nothing the real server would refuse. Stalls are
// bounded and cut short by the destructor.
class FakeApiServer {
public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, const std::smatch&)>;
  using Unauthorized = std::function<nlohmann::json(const std::string& authorization)>;

  FakeApiServer(std::string token, Unauthorized unauthorized);
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  // "http://127.0.0.1:PORT"
  std::string url() const;

  // Requests with this method whose whole path matches `pattern` go to `handler`.
  void route(std::string method, std::string pattern, Handler handler);

  // The next `count` requests with this method whose path contains `path_part` get `status`
  // and `body` instead of being served (before the token is checked).
  void fail_next(std::string method, std::string path_part, int status, nlohmann::json body, int count = 1);
  // The next `count` matching requests are held for `duration` (at most 15 s), then served.
  void stall_next(std::string method, std::string path_part, std::chrono::milliseconds duration, int count = 1);

  std::vector<SeenRequest> requests() const;
  // Records what a route found wrong with a request.
  void problem(std::string text);
  std::vector<std::string> problems() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

// Sets a JSON answer.
void reply(httplib::Response& response, int status, const nlohmann::json& body);

}  // namespace mlctl::test
