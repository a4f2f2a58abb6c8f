#include <mlctl/oci/remote/session.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace mlctl::oci::remote {

namespace {

constexpr int k_max_redirects = 5;
constexpr auto k_min_token_life = std::chrono::seconds(60);
// A token is renewed this long before it expires, so it cannot lapse in flight.
constexpr auto k_token_margin = std::chrono::seconds(10);

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

}  // namespace

Session::Session(std::string registry, Transport& transport, std::optional<Credential> credential, Insecure insecure,
                 core::Reporter& reporter)
    : registry_(std::move(registry)), transport_(transport), credential_(std::move(credential)),
      insecure_(insecure), reporter_(reporter) {
  auto probe = parse_url("https://" + registry_);
  plain_http_ = probe && is_loopback_host(probe->host);
  if (credential_) {
    redactor_.add(credential_->password);
    redactor_.add(credential_->identity_token);
    redactor_.add(base64_encode(credential_->username + ":" + credential_->password));
  }
}

std::string Session::base_url() const { return (plain_http_ ? "http://" : "https://") + registry_; }

std::string Session::origin() const {
  auto base = parse_url(base_url());
  return base ? base->origin() : base_url();
}

RegistryError Session::redact(RegistryError error) const {
  auto entries = error.entries();
  for (auto& entry : entries) {
    entry.message = redactor_.apply(entry.message);
    entry.detail = redactor_.apply(entry.detail);
  }
  RegistryError out(error.code(), redactor_.apply(error.message()), error.status(), std::move(entries),
                    error.retryable());
  if (!error.hint().empty()) out.with_hint(redactor_.apply(error.hint()));
  if (auto delay = error.retry_after()) out.set_retry_after(*delay);
  if (error.tls_handshake_failed()) out.set_tls_handshake_failed();
  return out;
}

void Session::step(std::string_view message) {
  std::lock_guard lock(report_mutex_);
  reporter_.step(redact(message));
}
void Session::debug(std::string_view message) {
  std::lock_guard lock(report_mutex_);
  reporter_.debug(redact(message));
}
void Session::begin(std::string_view id, std::string_view label, std::uint64_t total) {
  std::lock_guard lock(report_mutex_);
  reporter_.begin(id, redact(label), total);
}
void Session::advance(std::string_view id, std::uint64_t done) {
  std::lock_guard lock(report_mutex_);
  reporter_.advance(id, done);
}
void Session::end(std::string_view id) {
  std::lock_guard lock(report_mutex_);
  reporter_.end(id);
}
void Session::fail(std::string_view id, std::string_view why) {
  std::lock_guard lock(report_mutex_);
  reporter_.fail(id, redact(why));
}

RegistryResult<Response> Session::send(Request request, const std::vector<std::string>& scopes) {
  std::string key = join(scopes, " ");
  for (int round = 0;; ++round) {
    Request attempt = request;
    bool sent = authorize(attempt, key);
    auto response = follow(attempt);
    if (!response || response->status != 401 || round == 1) return response;
    auto url = parse_url(attempt.url);
    if (!url || url->origin() != origin()) return response;
    auto again = answer_challenge(*response, scopes, sent);
    if (!again) return std::unexpected(again.error());
    if (!*again) return response;
  }
}

RegistryResult<Response> Session::follow(Request request) {
  for (int hop = 0;; ++hop) {
    auto url = parse_url(request.url);
    if (!url) return std::unexpected(RegistryError(url.error()));
    if (auto allowed = check_allowed(*url); !allowed) return std::unexpected(allowed.error());
    request.verify_tls = insecure_ == Insecure::no || url->origin() != origin();
    auto response = transport_.send(request);
    if (!response && falls_back_to_http(*url, response.error())) {
      request.url.replace(0, std::string_view("https").size(), "http");
      --hop;
      continue;
    }
    if (!response) {
      debug(fmt::format("{} {} failed: {}", request.method, redact_url(request.url), response.error().message()));
      return std::unexpected(redact(std::move(response.error())));
    }
    debug(fmt::format("{} {} -> {}", request.method, redact_url(request.url), response->status));
    bool reading = request.method == "GET" || request.method == "HEAD";
    auto location = response->header("Location");
    if (!reading || !is_redirect(response->status) || !location) return response;
    if (hop == k_max_redirects)
      return std::unexpected(RegistryError(Errc::remote, fmt::format("{} {}: more than {} redirects", request.method,
                                                                     redact_url(request.url), k_max_redirects)));
    auto next = resolve_url(request.url, *location);
    if (!next) return std::unexpected(RegistryError(next.error()));
    auto next_url = parse_url(*next);
    // Storage behind a redirect gets signed URLs, never the registry's credentials.
    if (!next_url || next_url->origin() != origin()) remove_header(request.headers, "Authorization");
    request.url = *next;
  }
}

bool Session::falls_back_to_http(const Url& url, const RegistryError& failure) {
  if (insecure_ == Insecure::no || !failure.tls_handshake_failed() || url.scheme != "https" ||
      url.origin() != origin())
    return false;
  plain_http_ = true;
  debug(fmt::format("{} does not speak TLS: using plain http, as --insecure allows", registry_));
  return true;
}

RegistryResult<void> Session::check_allowed(const Url& url) const {
  if (url.scheme == "https" || is_loopback_host(url.host) || insecure_ == Insecure::yes) return {};
  RegistryError error(Errc::invalid, fmt::format("refusing plain http to {}", url.origin()));
  error.with_hint("plain http is only used for registries on this machine, unless insecure access is requested");
  return std::unexpected(error);
}

bool Session::authorize(Request& request, const std::string& scope_key) {
  remove_header(request.headers, "Authorization");
  auto url = parse_url(request.url);
  if (!url || url->origin() != origin()) return false;
  std::lock_guard lock(mutex_);
  if (scheme_ == Scheme::basic && credential_ && credential_->identity_token.empty()) {
    request.headers.emplace_back("Authorization",
                                 "Basic " + base64_encode(credential_->username + ":" + credential_->password));
    return true;
  }
  if (scheme_ == Scheme::bearer) {
    auto it = tokens_.find(scope_key);
    if (it != tokens_.end() && it->second.expires > std::chrono::steady_clock::now()) {
      request.headers.emplace_back("Authorization", "Bearer " + it->second.value);
      return true;
    }
  }
  return false;
}

RegistryResult<bool> Session::answer_challenge(const Response& response, const std::vector<std::string>& scopes,
                                               bool sent_credentials) {
  std::vector<Challenge> challenges;
  for (const auto& value : find_headers(response.headers, "WWW-Authenticate")) {
    auto parsed = parse_www_authenticate(value);
    if (!parsed) return std::unexpected(RegistryError(parsed.error().context(fmt::format("registry {}", registry_))));
    challenges.insert(challenges.end(), parsed->begin(), parsed->end());
  }
  auto find = [&](std::string_view scheme) {
    return std::ranges::find_if(challenges, [&](const Challenge& c) { return c.scheme == scheme; });
  };
  if (auto bearer = find("bearer"); bearer != challenges.end()) {
    {
      std::lock_guard lock(mutex_);
      scheme_ = Scheme::bearer;
    }
    auto fetched = fetch_token(*bearer, scopes);
    if (!fetched) return std::unexpected(fetched.error());
    return true;
  }
  if (find("basic") != challenges.end()) {
    if (!credential_ || credential_->password.empty()) return false;
    std::lock_guard lock(mutex_);
    if (scheme_ == Scheme::basic && sent_credentials) return false;  // the credentials were refused
    scheme_ = Scheme::basic;
    return true;
  }
  return false;
}

RegistryResult<void> Session::fetch_token(const Challenge& challenge, const std::vector<std::string>& scopes) {
  std::string realm = challenge.param("realm");
  std::string who = fmt::format("registry {}", registry_);
  if (realm.empty()) return std::unexpected(RegistryError(Errc::remote, who + ": Bearer challenge without a realm"));
  auto realm_url = parse_url(realm);
  if (!realm_url) return std::unexpected(RegistryError(realm_url.error().context(who + ": token realm")));
  std::vector<std::string> all = scopes;
  if (auto extra = challenge.param("scope"); !extra.empty()) {
    for (size_t start = 0; start < extra.size();) {
      auto space = std::min(extra.find(' ', start), extra.size());
      std::string scope = extra.substr(start, space - start);
      if (!scope.empty() && std::ranges::find(all, scope) == all.end()) all.push_back(scope);
      start = space + 1;
    }
  }
  std::string path = realm_url->target.substr(0, realm_url->target.find('?'));
  std::string where = fmt::format("fetching a token from {}{}", realm_url->origin(), path);
  auto response = request_token(*realm_url, challenge.param("service"), all);
  if (!response) return std::unexpected(response.error().context(where));
  if (response->status != 200) {
    auto error = redact(error_from_status(response->status, redact(response->body), Access::write));
    return std::unexpected(error.context(where));
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  std::string token;
  if (json.is_object()) {
    for (const char* key : {"token", "access_token"})
      if (json.contains(key) && json[key].is_string() && token.empty()) token = json[key].get<std::string>();
  }
  if (token.empty()) return std::unexpected(RegistryError(Errc::remote, where + ": the response has no token"));
  redactor_.add(token);
  std::chrono::seconds life = k_min_token_life;
  if (json.contains("expires_in") && json["expires_in"].is_number_integer())
    life = std::max(life, std::chrono::seconds(json["expires_in"].get<long long>()));
  std::lock_guard lock(mutex_);
  tokens_[join(scopes, " ")] = {token, std::chrono::steady_clock::now() + life - k_token_margin};
  return {};
}

RegistryResult<Response> Session::request_token(const Url& realm, const std::string& service,
                                                const std::vector<std::string>& scopes) {
  if (auto allowed = check_allowed(realm); !allowed) return std::unexpected(allowed.error());
  Request request;
  std::string form;
  if (credential_ && !credential_->identity_token.empty()) {
    // An identity token is an OAuth2 refresh token: it goes in a POSTed form, never a URL.
    form = fmt::format("grant_type=refresh_token&service={}&client_id=mlctl&scope={}&refresh_token={}",
                       percent_encode(service), percent_encode(join(scopes, " ")),
                       percent_encode(credential_->identity_token));
    request = Request("POST", realm.str());
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = std::string_view(form);
  } else {
    std::string url = realm.str();
    if (!service.empty()) url = add_query(url, "service", service);
    for (const auto& scope : scopes) url = add_query(url, "scope", scope);
    request = Request("GET", url);
    if (credential_ && !credential_->password.empty()) {
      url = add_query(url, "account", credential_->username);
      request.url = url;
      request.headers.emplace_back("Authorization",
                                   "Basic " + base64_encode(credential_->username + ":" + credential_->password));
    }
  }
  auto response = transport_.send(request);
  debug(fmt::format("{} {} -> {}", request.method, redact_url(request.url),
                    response ? std::to_string(response->status) : std::string("failed")));
  if (!response) return std::unexpected(redact(std::move(response.error())));
  return response;
}

}  // namespace mlctl::oci::remote
