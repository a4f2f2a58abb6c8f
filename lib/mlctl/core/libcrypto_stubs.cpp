// libcrypto's functions that mlctl calls, loaded on first use (see lazy_library.hpp).
#include <mlctl/core/lazy_library.hpp>

#include <openssl/evp.h>

namespace {

mlctl::core::LazyLibrary& libcrypto() {
  static mlctl::core::LazyLibrary library("libcrypto.so.3");
  return library;
}

}  // namespace

extern "C" {

EVP_MD_CTX* EVP_MD_CTX_new() {
  MLCTL_REAL_FUNCTION(libcrypto(), EVP_MD_CTX_new);
  return real();
}

void EVP_MD_CTX_free(EVP_MD_CTX* context) {
  MLCTL_REAL_FUNCTION(libcrypto(), EVP_MD_CTX_free);
  real(context);
}

EVP_MD* EVP_MD_fetch(OSSL_LIB_CTX* context, const char* algorithm, const char* properties) {
  MLCTL_REAL_FUNCTION(libcrypto(), EVP_MD_fetch);
  return real(context, algorithm, properties);
}

int EVP_DigestInit_ex(EVP_MD_CTX* context, const EVP_MD* type, ENGINE* engine) {
  MLCTL_REAL_FUNCTION(libcrypto(), EVP_DigestInit_ex);
  return real(context, type, engine);
}

int EVP_DigestUpdate(EVP_MD_CTX* context, const void* data, size_t size) {
  MLCTL_REAL_FUNCTION(libcrypto(), EVP_DigestUpdate);
  return real(context, data, size);
}

int EVP_DigestFinal_ex(EVP_MD_CTX* context, unsigned char* digest, unsigned int* size) {
  MLCTL_REAL_FUNCTION(libcrypto(), EVP_DigestFinal_ex);
  return real(context, digest, size);
}

int EVP_EncodeBlock(unsigned char* out, const unsigned char* in, int size) {
  MLCTL_REAL_FUNCTION(libcrypto(), EVP_EncodeBlock);
  return real(out, in, size);
}

int EVP_DecodeBlock(unsigned char* out, const unsigned char* in, int size) {
  MLCTL_REAL_FUNCTION(libcrypto(), EVP_DecodeBlock);
  return real(out, in, size);
}

}  // extern "C"
