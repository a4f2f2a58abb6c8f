#include <mlctl/pipeline/submit/api_client.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/oci/remote/registry_error.hpp>
#include <mlctl/oci/remote/url.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

namespace mlctl::pipeline {

namespace remote = oci::remote;

namespace {

constexpr size_t k_max_server_message = 500;
constexpr std::string_view k_whitespace = " \t\r\n";

std::string_view trim(std::string_view text) {
  auto begin = text.find_first_not_of(k_whitespace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(k_whitespace) - begin + 1);
}

// Printable ASCII without spaces: anything else would break (or inject into) the header.
bool token_characters(std::string_view token) {
  return std::ranges::all_of(token, [](char c) { return c > 0x20 && c < 0x7f; });
}

// A server message on one line and bounded, since it ends up in a terminal.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, k_max_server_message)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  if (text.size() > k_max_server_message) out += "...";
  return out;
}

// The message of an error body: {"code":6,"message":...} from Argo Server and grpc-gateway,
// {"error_message":...} from KFP's upload endpoints, {"error":...} from older gateways.
std::string server_message(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return {};
  for (const char* key : {"message", "error_message", "error"}) {
    auto it = json.find(key);
    if (it != json.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      return one_line(it->get_ref<const std::string&>());
  }
  return {};
}

Errc errc_for_status(int status) {
  if (status == 400 || status == 422) return Errc::invalid;
  if (status == 404) return Errc::not_found;
  if (status == 409) return Errc::precondition;
  return Errc::remote;
}

std::string hint_for_status(int status) {
  if (status == 401)
    return "the server did not accept the token: check the token file, and that the token has not expired";
  if (status == 403)
    return "the token was accepted but may not do this: check the role of its service account in the namespace";
  return {};
}

// "POST https://argo.example.com/api/v1/workflows/ml: 409 Conflict: \"... already exists\"".
remote::RegistryError status_error(const remote::Request& request, const remote::Response& response) {
  int status = response.status;
  std::string message = server_message(response.body);
  std::string failure = message.empty() ? remote::describe_failure(status, {}, response.body)
                                        : fmt::format("{}: \"{}\"", remote::describe_failure(status, {}, ""), message);
  std::string_view url = request.url;
  remote::RegistryError error(errc_for_status(status),
                              fmt::format("{} {}: {}", request.method, url.substr(0, url.find('?')), failure), status,
                              {}, remote::is_retryable_status(status));
  if (auto hint = hint_for_status(status); !hint.empty()) error.with_hint(std::move(hint));
  if (auto after = response.header("Retry-After")) {
    if (auto delay = remote::parse_retry_after(*after, std::chrono::system_clock::now())) error.set_retry_after(*delay);
  }
  return error;
}

}  // namespace

Result<std::string> read_token_file(const std::filesystem::path& path) {
  auto text = core::read_file(path);
  if (!text) return std::unexpected(text.error().context("reading the token file"));
  std::string_view token = trim(*text);
  if (token.starts_with("Bearer ")) token = trim(token.substr(7));
  if (token.empty()) return fail(Errc::invalid, fmt::format("the token file {} is empty", path.string()));
  if (!token_characters(token))
    return fail(Errc::invalid, fmt::format("the token file {} holds spaces, several lines or control characters "
                                           "where one token was expected",
                                           path.string()));
  return std::string(token);
}

Result<ApiClient> ApiClient::create(std::string_view url, remote::Transport& transport, std::string token,
                                    ApiOptions options) {
  auto parsed = remote::parse_url(url);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->target.find('?') != std::string::npos)
    return fail(Errc::invalid,
                fmt::format("invalid server URL '{}': a base URL has no query", remote::redact_url(url)));
  if (parsed->scheme == "http" && !token.empty() && !remote::is_loopback_host(parsed->host) &&
      options.insecure == remote::Insecure::no)
    return fail(Errc::invalid, fmt::format("refusing to send the token to {} over plain http", parsed->origin()),
                "use an https URL, or allow plain http explicitly");
  std::string base = parsed->str();
  while (base.ends_with('/')) base.pop_back();
  return ApiClient(std::move(base), transport, std::move(token), std::move(options));
}

ApiClient::ApiClient(std::string base_url, remote::Transport& transport, std::string token, ApiOptions options)
    : base_url_(std::move(base_url)),
      transport_(&transport),
      token_(std::move(token)),
      options_(std::move(options)),
      redactor_(std::make_shared<remote::Redactor>()) {
  redactor_->add(token_);
}

Result<std::string> ApiClient::get(std::string_view target, std::string_view accept) const {
  remote::Request get = request("GET", target, accept);
  remote::Sleeper sleep = options_.sleep;
  if (!sleep) sleep = [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); };
  remote::Retrier retrier(options_.retry, std::move(sleep), {});
  return finish(retrier.run<std::string>([&] { return attempt(get); }, [](const auto&, int, auto) {}));
}

Result<std::string> ApiClient::post(std::string_view target, std::string_view body,
                                    std::string_view content_type) const {
  remote::Request post = request("POST", target, "application/json");
  post.headers.emplace_back("Content-Type", std::string(content_type));
  post.body = body;
  return finish(attempt(post));
}

remote::Request ApiClient::request(std::string method, std::string_view target, std::string_view accept) const {
  remote::Request request(std::move(method), base_url_ + std::string(target));
  request.headers.emplace_back("Accept", std::string(accept));
  if (!token_.empty()) request.headers.emplace_back("Authorization", "Bearer " + token_);
  request.verify_tls = options_.insecure == remote::Insecure::no;
  return request;
}

remote::RegistryResult<std::string> ApiClient::attempt(const remote::Request& request) const {
  auto response = transport_->send(request);
  if (!response) return std::unexpected(response.error());
  if (response->status >= 200 && response->status < 300) return std::move(response->body);
  return std::unexpected(status_error(request, *response));
}

Result<std::string> ApiClient::finish(remote::RegistryResult<std::string> result) const {
  if (result) return std::move(*result);
  const Error& error = result.error();
  return fail(error.code(), redact(error.message()), error.hint());
}

}  // namespace mlctl::pipeline
