#include <mlctl/core/digest.hpp>

#include <openssl/evp.h>

#include <fmt/format.h>

namespace mlctl::core {

struct Sha256::State {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(ctx); }
};

namespace {

// Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up (under a lock) at every
// EVP_DigestInit_ex, which is most of hashing a short text such as a pipeline step's key.
const EVP_MD* sha256_method() {
  static const EVP_MD* method = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return method;
}

}  // namespace

Sha256::Sha256() : state_(std::make_unique<State>()) {
  EVP_DigestInit_ex(state_->ctx, sha256_method(), nullptr);
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) { update(data.data(), data.size()); }

void Sha256::update(const void* data, size_t size) { EVP_DigestUpdate(state_->ctx, data, size); }

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->ctx, md, &length);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(k_hex[md[i] >> 4]);
    out.push_back(k_hex[md[i] & 0xf]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.hex();
}

std::string sha256_digest(std::string_view data) { return "sha256:" + sha256_hex(data); }

Result<void> check_sha256_digest(std::string_view digest) {
  constexpr std::string_view prefix = "sha256:";
  bool ok = digest.starts_with(prefix) && digest.size() == prefix.size() + 64;
  for (size_t i = prefix.size(); ok && i < digest.size(); ++i) {
    char c = digest[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (!ok) return fail(Errc::invalid, fmt::format("'{}' is not a sha256 digest", digest),
                       "a digest looks like sha256: followed by 64 lowercase hex digits");
  return {};
}

}  // namespace mlctl::core
