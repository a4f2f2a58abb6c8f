// libcurl's functions that mlctl calls, loaded on first use (see core/lazy_library.hpp).
// The variadic setters pass on their one argument with the type libcurl reads for the option.
#define CURL_DISABLE_TYPECHECK  // the checking macros would hide the functions defined here
#include <mlctl/core/lazy_library.hpp>

#include <curl/curl.h>

#include <cstdarg>

namespace {

mlctl::core::LazyLibrary& libcurl() {
  static mlctl::core::LazyLibrary library("libcurl.so.4");
  return library;
}

using Callback = void (*)();

}  // namespace

extern "C" {

CURLcode curl_global_init(long flags) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_global_init);
  return real(flags);
}

CURL* curl_easy_init() {
  MLCTL_REAL_FUNCTION(libcurl(), curl_easy_init);
  return real();
}

CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_easy_setopt);
  std::va_list args;
  va_start(args, option);
  CURLcode code;
  if (option < CURLOPTTYPE_OBJECTPOINT) code = real(curl, option, va_arg(args, long));
  else if (option < CURLOPTTYPE_FUNCTIONPOINT) code = real(curl, option, va_arg(args, void*));
  else if (option < CURLOPTTYPE_OFF_T) code = real(curl, option, va_arg(args, Callback));
  else if (option < CURLOPTTYPE_BLOB) code = real(curl, option, va_arg(args, curl_off_t));
  else code = real(curl, option, va_arg(args, void*));
  va_end(args);
  return code;
}

CURLcode curl_easy_perform(CURL* curl) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_easy_perform);
  return real(curl);
}

CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_easy_getinfo);
  std::va_list args;
  va_start(args, info);
  CURLcode code = real(curl, info, va_arg(args, void*));  // every CURLINFO takes a pointer
  va_end(args);
  return code;
}

void curl_easy_cleanup(CURL* curl) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_easy_cleanup);
  real(curl);
}

const char* curl_easy_strerror(CURLcode code) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_easy_strerror);
  return real(code);
}

curl_slist* curl_slist_append(curl_slist* list, const char* line) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_slist_append);
  return real(list, line);
}

void curl_slist_free_all(curl_slist* list) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_slist_free_all);
  real(list);
}

CURLSH* curl_share_init() {
  MLCTL_REAL_FUNCTION(libcurl(), curl_share_init);
  return real();
}

CURLSHcode curl_share_setopt(CURLSH* share, CURLSHoption option, ...) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_share_setopt);
  std::va_list args;
  va_start(args, option);
  CURLSHcode code;
  switch (option) {
    case CURLSHOPT_SHARE:
    case CURLSHOPT_UNSHARE: code = real(share, option, va_arg(args, int)); break;
    case CURLSHOPT_LOCKFUNC:
    case CURLSHOPT_UNLOCKFUNC: code = real(share, option, va_arg(args, Callback)); break;
    default: code = real(share, option, va_arg(args, void*)); break;
  }
  va_end(args);
  return code;
}

CURLSHcode curl_share_cleanup(CURLSH* share) {
  MLCTL_REAL_FUNCTION(libcurl(), curl_share_cleanup);
  return real(share);
}

}  // extern "C"
