#include <mlctl/core/lazy_library.hpp>

#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

namespace mlctl::core {
namespace {

TEST(LazyLibraryTest, FindsAFunctionOnFirstUse) {
  LazyLibrary zlib("libz.so.1");
  auto version = zlib.function<const char* (*)()>("zlibVersion");
  EXPECT_EQ(std::string(version()), ZLIB_VERSION);
}

TEST(LazyLibraryDeathTest, AMissingLibraryEndsTheProcessAsTheLoaderWould) {
  EXPECT_EXIT(LazyLibrary("libmlctl-missing.so.7").address("anything"), testing::ExitedWithCode(127),
              "^mlctl: error while loading shared libraries: libmlctl-missing.so.7: cannot open shared object "
              "file: No such file or directory\n$");
}

TEST(LazyLibraryDeathTest, AMissingSymbolEndsTheProcessAsTheLoaderWould) {
  EXPECT_EXIT(LazyLibrary("libz.so.1").address("mlctl_no_such_function"), testing::ExitedWithCode(127),
              "^mlctl: error while loading shared libraries: .*libz.so.1: undefined symbol: "
              "mlctl_no_such_function\n$");
}

}  // namespace
}  // namespace mlctl::core
