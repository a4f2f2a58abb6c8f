#include <mlctl/core/lazy_library.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>

namespace mlctl::core {

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "mlctl: error while loading shared libraries: %s\n", what);
  _exit(127);
}

}  // namespace

void* LazyLibrary::handle() {
  std::call_once(opened_, [this] {
    handle_ = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (!handle_) die(dlerror());
  });
  return handle_;
}

void* LazyLibrary::address(const char* name) {
  void* library = handle();
  dlerror();
  void* symbol = dlsym(library, name);
  if (!symbol) die(dlerror());
  return symbol;
}

}  // namespace mlctl::core
