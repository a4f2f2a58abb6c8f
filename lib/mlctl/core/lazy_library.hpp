#pragma once

#include <mutex>

namespace mlctl::core {

// A shared library opened on its first use instead of at start-up.
//
// libcurl, libgit2 and libcrypto (with the 40 libraries they pull in) cost about 20 ms to load,
// which was most of a `mlctl model list`. So the binary does not link them: each has a file of
// stubs with the library's own function names and signatures (libcurl_stubs.cpp,
// libgit2_stubs.cpp, libcrypto_stubs.cpp) that look up the real function here on the first call.
// Call sites use the ordinary API and never know.
//
// The library is part of mlctl's installation, not user input, so a library or symbol that
// cannot be loaded ends the process the way the dynamic loader would have at start-up: the
// loader's message on stderr and exit status 127.
class LazyLibrary {
public:
  explicit LazyLibrary(const char* soname) : soname_(soname) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // The address of `name` in the library, loading the library first; never null.
  void* address(const char* name);

  template <typename Function>
  Function function(const char* name) {
    return reinterpret_cast<Function>(address(name));
  }

private:
  void* handle();

  const char* soname_;
  std::once_flag opened_;
  void* handle_ = nullptr;
};

}  // namespace mlctl::core

// In a stub, binds `real` to the library's own definition of the function `name` (once, thread-safe).
#define MLCTL_REAL_FUNCTION(library, name) \
  static const auto real = (library).function<decltype(&::name)>(#name)
